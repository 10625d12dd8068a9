"""SQLAlchemy Core statements as crmql's grammar reads them.

What differs from SQLAlchemy's generic SQL, and why (``grammar/crmql.lark``):

- **Names**: bare when crmql's grammar reads them back as that name, else double-quoted
  (:func:`crmql.language.names.quote_ident`: ``"contact-email"``, ``"date"``, a keyword). Mixed case
  stays bare (``firstName``): crmql finds columns by exact name first.
- **Tables** are ``connection.table``: a table's schema is its connection; a table without one is
  read from the default schema (the first connection: ``dialect.default_schema_name``, set on the
  first connect). A column is qualified by its table's *name* (``events.name``), never
  ``azavista.events.name``: crmql qualifies a column by one name (table or alias).
- **LIMIT / OFFSET** are written as numbers, rendered at execution (``literal_execute``), so the
  statement crmql receives is the one a person would write (``LIMIT 5``) and pushes down the same
  way; an OFFSET alone is ``OFFSET n`` (crmql needs no ``LIMIT -1``).
- **Bound parameters** are crmql's own ``:name``; a name with a character crmql's ``:name`` cannot
  hold (``sale-status_1``, ``Straße_1``) has it replaced by ``_``, one starting with a digit gets a
  ``p`` in front (SQLAlchemy maps the values to the written names).
- ``ILIKE`` is crmql's own operator (not ``lower(x) LIKE lower(y)``, which crmql could not push).
- ``TRUE``/``FALSE`` are literals; ``IS [NOT] TRUE/FALSE`` and ``IS DISTINCT FROM`` are written out
  with ``=``/``<>`` and ``IS [NOT] NULL`` (crmql's IS takes only NULL), with the same truth table.
- What crmql has no syntax for fails at compile time with a clear message: a subquery in FROM, CAST,
  ``NULLS FIRST/LAST``, ``LIKE ... ESCAPE``, INSERT/UPDATE/DELETE (crmql is read-only).
- ``contains()``/``startswith()``/``endswith()`` are SQLAlchemy's ``LIKE '%' || :x || '%'``: crmql runs
  them correctly but checks them locally (a computed pattern is not pushed); ``.like("%x%")`` with the
  whole pattern as one value is pushed like hand-written ``LIKE``. (Rewriting the pattern into one
  new bound value here would break SQLAlchemy's statement cache: a cached statement would keep the
  first value.)

>>> import sqlalchemy as sa
>>> from crmql.surfaces.sqlalchemy_dialect import CrmqlDialect
>>> t = sa.table("events", sa.column("name"), sa.column("event_type"), schema="azavista")
>>> q = sa.select(t.c.name).where(t.c.event_type == "sales").limit(5)
>>> print(" ".join(str(q.compile(dialect=CrmqlDialect(), compile_kwargs={"literal_binds": True})).split()))
SELECT events.name FROM azavista.events WHERE events.event_type = 'sales' LIMIT 5
"""

from __future__ import annotations

import logging
import re
from typing import Any

from sqlalchemy import exc
from sqlalchemy.sql import compiler, elements, operators
from sqlalchemy.sql.selectable import TableClause

from ...language.names import BARE_NAME, keywords

__all__ = ["CrmqlCompiler", "CrmqlIdentifierPreparer"]

log = logging.getLogger(__name__)

#: what a crmql ``:name`` may hold after its first character (the grammar's PARAM)
_NOT_PARAM_CHAR = re.compile(r"[^A-Za-z0-9_]")


class _AnyToUnderscore(dict):
    """SQLAlchemy's bind-name escape map, extended to every character a ``:name`` cannot hold."""

    def __missing__(self, key: str) -> str:
        return "_"


class CrmqlIdentifierPreparer(compiler.IdentifierPreparer):
    """Quotes a name exactly when crmql's grammar needs it (a keyword, or not a bare ``NAME``).

    >>> from crmql.surfaces.sqlalchemy_dialect import CrmqlDialect
    >>> p = CrmqlDialect().identifier_preparer
    >>> p.quote("event_type"), p.quote("firstName"), p.quote("sale-status"), p.quote("date")
    ('event_type', 'firstName', '"sale-status"', '"date"')
    """

    def __init__(self, dialect: Any) -> None:
        super().__init__(dialect, initial_quote='"', escape_quote='"')
        self.reserved_words = {k.lower() for k in keywords()}

    def _requires_quotes(self, value: str) -> bool:
        return not value or not BARE_NAME.match(value) or value.upper() in keywords()

    def _requires_quotes_illegal_chars(self, value: str) -> bool:
        return not BARE_NAME.match(value)


class CrmqlCompiler(compiler.SQLCompiler):
    """The SELECT compiler of the ``crmql`` dialect (see the module docstring for what it changes)."""

    bindname_escape_characters = _AnyToUnderscore(compiler.SQLCompiler.bindname_escape_characters)

    # ---- names
    def bindparam_string(self, name: str, **kw: Any) -> str:
        """``:name``; a name crmql's ``:name`` cannot start with (a digit: column ``2fa``) gets a ``p``
        in front (SQLAlchemy maps the value to the written name)."""
        if not kw.get("escaped_from") and name[:1].isdigit():
            kw["escaped_from"] = name
            name = "p" + _NOT_PARAM_CHAR.sub("_", name)
        return super().bindparam_string(name, **kw)

    def visit_column(self, column: Any, add_to_result_map: Any = None, include_table: bool = True,
                     **kw: Any) -> str:
        """A table's column as ``table.column`` (one qualifier: crmql has no ``schema.table.column``)."""
        table = column.table
        if include_table and isinstance(table, TableClause) and table.named_with_column and table.name \
                and not column.is_literal:
            name = super().visit_column(column, add_to_result_map=add_to_result_map, include_table=False, **kw)
            return self.preparer.quote(table.name) + "." + name
        return super().visit_column(column, add_to_result_map=add_to_result_map, include_table=include_table, **kw)

    def visit_table(self, table: Any, asfrom: bool = False, use_schema: bool = True, **kw: Any) -> str:
        """``connection.table``: a table with no schema is read from the default connection."""
        text = super().visit_table(table, asfrom=asfrom, use_schema=use_schema, **kw)
        default = getattr(self.dialect, "default_schema_name", None)
        if asfrom and use_schema and default and not self.preparer.schema_for_object(table):
            return self.preparer.quote_schema(default) + "." + text
        return text

    # ---- LIMIT / OFFSET
    def limit_clause(self, select: Any, **kw: Any) -> str:
        """``LIMIT n`` and ``OFFSET n``, each written only when given, as numbers (rendered at execution)."""
        text = ""
        if select._limit_clause is not None:
            text += "\n LIMIT " + self._count(select._limit_clause, **kw)
        if select._offset_clause is not None:
            text += "\n OFFSET " + self._count(select._offset_clause, **kw)
        return text

    def _count(self, clause: Any, **kw: Any) -> str:
        if isinstance(clause, elements.BindParameter):
            kw = {**kw, "literal_execute": True}
        return self.process(clause, **kw)

    def fetch_clause(self, select: Any, **kw: Any) -> str:
        raise exc.CompileError("crmql has no FETCH FIRST: use .limit(n)")

    # ---- operators crmql spells its own way
    def visit_like_op_binary(self, binary: Any, operator: Any, **kw: Any) -> str:
        _no_escape(binary)
        return super().visit_like_op_binary(binary, operator, **kw)

    def visit_not_like_op_binary(self, binary: Any, operator: Any, **kw: Any) -> str:
        _no_escape(binary)
        return super().visit_not_like_op_binary(binary, operator, **kw)

    def visit_ilike_op_binary(self, binary: Any, operator: Any, **kw: Any) -> str:
        _no_escape(binary)
        return f"{binary.left._compiler_dispatch(self, **kw)} ILIKE {binary.right._compiler_dispatch(self, **kw)}"

    def visit_not_ilike_op_binary(self, binary: Any, operator: Any, **kw: Any) -> str:
        _no_escape(binary)
        return f"{binary.left._compiler_dispatch(self, **kw)} NOT ILIKE {binary.right._compiler_dispatch(self, **kw)}"

    def visit_is_distinct_from_binary(self, binary: Any, operator: Any, **kw: Any) -> str:
        left, right = binary.left._compiler_dispatch(self, **kw), binary.right._compiler_dispatch(self, **kw)
        return f"coalesce({left} <> {right}, ({left} IS NULL) <> ({right} IS NULL))"

    def visit_is_not_distinct_from_binary(self, binary: Any, operator: Any, **kw: Any) -> str:
        left, right = binary.left._compiler_dispatch(self, **kw), binary.right._compiler_dispatch(self, **kw)
        return f"coalesce({left} = {right}, ({left} IS NULL) = ({right} IS NULL))"

    def visit_is__binary(self, binary: Any, operator: Any, **kw: Any) -> str:
        """``x IS TRUE``/``IS FALSE`` (crmql's IS takes only NULL) as the same truth table:
        ``(x = TRUE AND x IS NOT NULL)``; the ``=`` is what crmql can push."""
        return self._is_bool(binary, negate=False, **kw)

    def visit_is_not_binary(self, binary: Any, operator: Any, **kw: Any) -> str:
        """``x IS NOT TRUE`` as ``(x <> TRUE OR x IS NULL)``."""
        return self._is_bool(binary, negate=True, **kw)

    def _is_bool(self, binary: Any, negate: bool, **kw: Any) -> str:
        right = binary.right
        if not isinstance(right, (elements.True_, elements.False_)):
            word = " IS NOT " if negate else " IS "
            return binary.left._compiler_dispatch(self, **kw) + word + right._compiler_dispatch(self, **kw)
        left, value = binary.left._compiler_dispatch(self, **kw), right._compiler_dispatch(self, **kw)
        if negate:
            return f"({left} <> {value} OR {left} IS NULL)"
        return f"({left} = {value} AND {left} IS NOT NULL)"

    def visit_true(self, expr: Any, **kw: Any) -> str:
        return "TRUE"

    def visit_false(self, expr: Any, **kw: Any) -> str:
        return "FALSE"

    # ---- what crmql has no syntax for: said before anything is sent
    def visit_subquery(self, subquery: Any, **kw: Any) -> str:
        raise exc.CompileError("crmql has no subqueries: select from connection.table directly "
                               "(filters, GROUP BY and ORDER BY go in the one SELECT)")

    def visit_cte(self, cte: Any, **kw: Any) -> str:
        raise exc.CompileError("crmql has no WITH (common table expressions): select from connection.table directly")

    def visit_cast(self, cast: Any, **kw: Any) -> str:
        raise exc.CompileError("crmql has no CAST: a literal compared with a column takes the column's type")

    def visit_unary(self, unary: Any, **kw: Any) -> str:
        if unary.modifier in (operators.nulls_first_op, operators.nulls_last_op):
            raise exc.CompileError("crmql has no NULLS FIRST / NULLS LAST: order by the column alone "
                                   "(or by coalesce(column, value))")
        return super().visit_unary(unary, **kw)

    def visit_insert(self, *args: Any, **kw: Any) -> str:
        raise exc.CompileError("crmql is read-only: no INSERT, UPDATE or DELETE")

    visit_update = visit_delete = visit_insert


CrmqlCompiler._bind_translate_re = _NOT_PARAM_CHAR  # every character a :name cannot hold -> "_"
CrmqlCompiler._bind_translate_chars = CrmqlCompiler.bindname_escape_characters


def _no_escape(binary: Any) -> None:
    """crmql's LIKE has no ESCAPE clause (``like(..., escape=)``, ``contains(..., autoescape=True)``)."""
    if binary.modifiers.get("escape") is not None:
        raise exc.CompileError("crmql's LIKE has no ESCAPE: write the pattern without escape= / autoescape=")
