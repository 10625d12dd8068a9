"""Binding: AST + catalog + parameters -> a bound query the planner can trust.

* tables ``conn.table`` are resolved through the session's catalog (``did you mean`` on a miss);
* every column is resolved to one table in scope and qualified with its reference name;
* ``:name`` parameters become literals (never text), ``IN :ids`` expands a list; a value given as
  text (``crmql --param``) takes the type of what it meets (see :mod:`crmql.plan.coerce`);
* ``NOW()``, ``TODAY()`` and ``± INTERVAL '...'`` are folded to constants once per statement; a bare
  ``CURRENT_TIMESTAMP`` / ``CURRENT_DATE`` (SQL's spelling, no parentheses) is ``NOW()`` / ``TODAY()``
  (quoted, it is a column: the names are no crmql keywords, so the grammar reads them as names);
* literals compared with a typed column are coerced (``start > '2025-01-01'`` compares timestamps);
* ``ORDER BY 2`` / ``GROUP BY 1`` refer to the select list's columns by position, as in SQL;
* a table with dynamic columns (:attr:`Table.extend`: casavi's custom fields) is completed only
  when the statement needs it: a column the declared ones do not have, or ``*``. From then on the
  statement uses the complete table; the scan gets only the dynamic columns the statement reads
  (all of them under ``*``), so a vendor's value in a column nobody reads is never converted. An
  unqualified name that a declared column of one table matches is taken from that table even if
  another table's dynamic columns might have it too (qualify it to read the other).

>>> import datetime as dt
>>> from crmql.plan.catalog import Column, ColumnType, Table
>>> from crmql.language.parser import parse
>>> t = Table("a", "b", (Column("start", ColumnType.TIMESTAMP),))
>>> q = bind(parse("SELECT start FROM a.b WHERE start > '2025-01-01'"), lambda c, n: t)
>>> q.select.where.right.kind
'timestamp'
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from ..language import ast
from .bind_literals import LiteralTyping
from .catalog import Column, Table
from .coerce import INTEGER_ARGS, fold_interval, param_literal, text_as
from ..errors import QueryError, did_you_mean
from .outputs import AGGREGATES, OutputNames, is_position as _is_position, output_exprs, position
from ..language.values import ParamText, to_utc

__all__ = ["AGGREGATES", "BoundQuery", "FUNCTIONS", "bind"]

#: scalar functions passed to DuckDB; anything else is refused (no file or network access from SQL)
FUNCTIONS = AGGREGATES | {
    "lower", "upper", "length", "trim", "coalesce", "nullif", "round", "abs", "floor", "ceil", "concat",
    "substr", "substring", "replace", "date_trunc", "date_part", "year", "month", "day", "hour", "strftime",
    "greatest", "least", "now", "today", "current_date", "current_timestamp", "ifnull", "left", "right",
    "list_contains", "array_contains", "list_has", "len", "array_length",
}


@dataclass
class BoundQuery:
    """A SELECT whose columns are all qualified, with its tables and column types."""

    select: ast.Select
    tables: list[tuple[ast.TableRef, Table]]
    columns: dict[tuple[str, str], Column] = field(default_factory=dict)
    aliases: set[str] = field(default_factory=set)
    now: dt.datetime | None = None

    def column(self, col: ast.Column) -> Column | None:
        return self.columns.get((col.qualifier or "", col.name))


class _Binder(LiteralTyping):
    def __init__(self, resolve: Callable[[str, str], Table], params: Mapping[str, Any], now: dt.datetime, text: str | None):
        self.resolve = resolve
        self.params = params
        self.now = now
        self.text = text
        self.scope: list[tuple[ast.TableRef, Table]] = []
        self.columns: dict[tuple[str, str], Column] = {}
        self.aliases: set[str] = set()
        self.outputs = OutputNames()
        self.declared: dict[int, Table] = {}  # scope index -> the table before extend
        self.starred: set[int] = set()  # scope indexes read by a * (every column)
        self.values: set[int] = set()  # id() of the operands written where a value is expected (x = "Tom")

    # ---- tables and columns
    def at(self, err: QueryError, node: ast.Node | None) -> QueryError:
        """``err`` pointed at its own span, else at ``node``, in the statement's text (unless it
        already points somewhere)."""
        span = err.span or (node.span if node is not None else None)
        return err.locate(self.text, start=span.start, end=span.end) if span is not None else err

    def add_table(self, ref: ast.TableRef) -> ast.TableRef:
        try:
            table = self.resolve(ref.connection, ref.table)
        except QueryError as err:  # unknown connection or table
            raise self.at(err, ref)
        name = ref.ref_name
        if any(r.ref_name.lower() == name.lower() for r, _ in self.scope):
            raise self.at(QueryError(f"table name '{name}' is used twice", hint="give each table its own alias"), ref)
        self.scope.append((ref, table))
        return ref

    def extend(self, index: int) -> bool:
        """Complete the table at ``scope[index]`` (see :attr:`Table.extend`); False when there was
        nothing to complete."""
        ref, table = self.scope[index]
        if not table.extensible:
            return False
        self.declared.setdefault(index, table)
        self.scope[index] = (ref, table.complete())
        return True

    def _input_column(self, name: str) -> bool:
        """Whether ``name`` is a column of a table in scope (GROUP BY prefers those, as in PostgreSQL)."""
        return any(table.column(name) is not None for _, table in self.scope)

    def add_output(self, name: str | None, width: int = 1) -> None:
        """Record the next ``width`` output columns (``name`` when it is one named column)."""
        start = sum(len(v) for v in self.outputs.values()) + self._unnamed + 1
        if name is None:
            self._unnamed += width
        else:
            self.outputs.setdefault(name, []).append(start)

    def column(self, col: ast.Column, *, allow_alias: bool = False, where: str = "") -> ast.Expr:
        if col.qualifier is not None:
            for i, (ref, table) in enumerate(self.scope):
                if ref.ref_name.lower() == col.qualifier.lower() or ref.table.lower() == col.qualifier.lower():
                    found = table.column(col.name)
                    if found is None and self.extend(i):  # a dynamic column, maybe
                        table = self.scope[i][1]
                        found = table.column(col.name)
                    if found is None:
                        self._unknown(col, table)
                    return self._qualified(col, ref, found)
            names = [r.ref_name for r, _ in self.scope]
            raise QueryError(f"unknown table or alias '{col.qualifier}'", hint=did_you_mean(col.qualifier, names)
                             or f"tables in this query: {', '.join(names)}")
        if allow_alias and col.name in self.aliases:
            ambiguous = self.outputs.ambiguous(col.name, where)
            if ambiguous is None:
                return col
            if not (where == "GROUP BY" and self._input_column(col.name)):  # GROUP BY prefers an input column
                raise ambiguous
        matches = self._matches(col.name)
        if not matches and any([self.extend(i) for i in range(len(self.scope))]):  # a dynamic column, maybe
            matches = self._matches(col.name)
        if len(matches) > 1:
            options = " or ".join(f"{r.ref_name}.{col.name}" for r, _, _ in matches)
            raise QueryError(f"column '{col.name}' is ambiguous", hint=f"write {options}")
        if not matches:
            return self._unknown(col, self.scope[0][1] if len(self.scope) == 1 else None)
        ref, _, found = matches[0]
        return self._qualified(col, ref, found)

    def _matches(self, name: str) -> list[tuple[ast.TableRef, Table, Column]]:
        """The tables in scope that have a column ``name``, with it."""
        found = [(ref, table, table.column(name)) for ref, table in self.scope]
        return [m for m in found if m[2] is not None]  # type: ignore[misc]

    def _quoted(self, col: ast.Column) -> bool:
        """Whether ``col`` was written in double quotes (unknown without the statement's text)."""
        return bool(self.text and col.span and self.text[col.span.start:col.span.start + 1] == '"')

    def _unknown(self, col: ast.Column, table: Table | None) -> Any:
        candidates = [c.name for _, t in self.scope for c in t.columns] + sorted(self.aliases)
        where = table.qualified if table else "the tables of this query"
        hint = did_you_mean(col.name, candidates)
        if not self._quoted(col) and col.name.lower() in _TIME_WORDS:
            hint = hint or ("write TODAY() or NOW() (or CURRENT_DATE, CURRENT_TIMESTAMP), "
                            "e.g. TODAY() - INTERVAL '1 day' for yesterday")
        dynamic = table.unknown_hint if table else any(t.unknown_hint for _, t in self.scope)
        # "x" where a column is expected, on a table with dynamic columns, is most likely one of them
        # (a custom field the sample missed): the quote advice is for WHERE name = "Tom"
        if self._quoted(col) and (not dynamic or id(col) in self.values):
            hint = (hint + "; " if hint else "") + f"strings use single quotes: '{col.name}'"
        if table is None:  # several tables: the one whose columns are partly found in its data says how
            hinted = list(dict.fromkeys(t.unknown_hint for _, t in self.scope if t.unknown_hint))
            if len(hinted) == 1:
                hint = f"{hint}; {hinted[0]}" if hint else hinted[0]
        elif table.unknown_hint or hint is None:
            hint = table.missing_hint(hint)
        raise QueryError(f"unknown column '{col.name}' in {where}", hint=hint)

    def _qualified(self, col: ast.Column, ref: ast.TableRef, found: Column) -> ast.Column:
        bound = ast.Column(found.name, ref.ref_name, span=col.span)
        self.columns[(ref.ref_name, found.name)] = found
        return bound

    # ---- expressions
    def expr(self, e: ast.Expr, *, where: str, allow_alias: bool = False) -> ast.Expr:
        """Bind ``e``; an error is located at the innermost node it came from."""
        try:
            return self._expr(e, where=where, allow_alias=allow_alias)
        except QueryError as err:
            raise self.at(err, e)

    def _expr(self, e: ast.Expr, *, where: str, allow_alias: bool) -> ast.Expr:
        if isinstance(e, ast.Column):
            if e.qualifier is None and e.name.lower() in _SQL_CONSTANTS and not self._quoted(e) \
                    and not (allow_alias and e.name in self.aliases):  # CURRENT_DATE: SQL's TODAY()
                return self.func(ast.Func(e.name.lower(), span=e.span), where=where, allow_alias=allow_alias)
            return self.column(e, allow_alias=allow_alias, where=where)
        if isinstance(e, ast.Param):
            if e.name not in self.params:
                raise QueryError(f"no value for parameter :{e.name}",
                                 hint=f"pass it with --param {e.name}=VALUE (CLI) or params={{'{e.name}': ...}} (Python)")
            value = self.params[e.name]
            if isinstance(value, (list, tuple, set, frozenset)):
                raise QueryError(f"parameter :{e.name} is a list; lists are only allowed as IN :{e.name}",
                                 hint="a --param given more than once is a list" if value and all(
                                     isinstance(v, ParamText) for v in value) else None)
            return param_literal(e.name, value, e.span)
        if isinstance(e, ast.Func):
            return self.func(e, where=where, allow_alias=allow_alias)
        if isinstance(e, ast.Star):
            return e
        if isinstance(e, ast.Literal):
            return e
        if isinstance(e, ast.InList) and len(e.items) == 1 and isinstance(e.items[0], ast.Param):
            p = e.items[0]
            value = self.params.get(p.name, _MISSING)
            try:  # errors point at the parameter, not the whole IN
                if value is _MISSING:
                    raise QueryError(f"no value for parameter :{p.name}", hint=f"pass it with --param {p.name}=VALUE")
                values = list(value) if isinstance(value, (list, tuple, set, frozenset)) else [value]
                if not values:
                    raise QueryError(f"parameter :{p.name} is an empty list", hint="IN needs at least one value")
                e = ast.replace(e, items=tuple(param_literal(p.name, v, p.span) for v in values))
            except QueryError as err:
                raise self.at(err, p)
        e = self._children(e, where=where, allow_alias=allow_alias)
        e = self._coerce(e)
        return fold_interval(e)

    def _children(self, e: ast.Expr, **kw: Any) -> ast.Expr:
        changes: dict[str, Any] = {}
        self.values.update(id(v) for v in _value_operands(e))
        single, lists = ast.child_fields(e.__class__)
        for name in single:
            child = getattr(e, name)
            if isinstance(child, ast.Node):
                bound = self.expr(child, **kw)
                if bound is not child:
                    changes[name] = bound
        if "items" in lists:  # And, Or, InList (a function's args are bound by func())
            items = tuple(self.expr(i, **kw) for i in e.items)
            if any(a is not b for a, b in zip(items, e.items)):
                changes["items"] = items
        return ast.replace(e, **changes) if changes else e

    def func(self, f: ast.Func, *, where: str, allow_alias: bool) -> ast.Expr:
        if f.name not in FUNCTIONS:
            raise QueryError(f"unknown function {f.name}()", hint=did_you_mean(f.name, sorted(FUNCTIONS))
                             or "see the README for the functions crmql supports")
        if f.name in AGGREGATES and where in ("WHERE", "GROUP BY", "ON"):
            raise QueryError(f"aggregate {f.name.upper()}() is not allowed in {where}",
                             hint="filter on aggregates with HAVING" if where == "WHERE" else None)
        if f.star and f.name != "count":
            raise QueryError(f"{f.name.upper()}(*) is not allowed; only COUNT(*)")
        if f.name in ("now", "current_timestamp") and not f.args:
            return ast.Literal(self.now, "timestamp", span=f.span)
        if f.name in ("today", "current_date") and not f.args:
            return ast.Literal(self.now.date(), "date", span=f.span)
        inner = "aggregate" if f.name in AGGREGATES else where
        args = tuple(self.expr(a, where=inner, allow_alias=allow_alias) for a in f.args)
        for i in INTEGER_ARGS.get(f.name, ()):
            if i < len(args) and args[i].__class__ is ast.Literal:
                typed = text_as(args[i], "number", f"argument {i + 1} of {f.name}()")
                args = args[:i] + (typed,) + args[i + 1:]
        return ast.replace(f, args=args)

    def column_of(self, col: ast.Column) -> Column | None:
        return self.columns.get((col.qualifier or "", col.name))


_MISSING = object()
#: SQL's spellings of TODAY() and NOW(), written without parentheses (a quoted "current_date" is a column)
_SQL_CONSTANTS = frozenset({"current_date", "current_timestamp"})
#: names a user may write for "now" that are no crmql function without ()
_TIME_WORDS = {"now", "today", "current_time", "localtime", "localtimestamp", "sysdate", "getdate", "yesterday"}


def _value_operands(e: ast.Expr) -> list[ast.Expr]:
    """The operands of ``e`` written where a value is expected: ``x = <value>``, ``x LIKE <value>``,
    ``x IN (<values>)``, ``x BETWEEN <value> AND <value>``."""
    if isinstance(e, ast.Compare):
        return [e.right]
    if isinstance(e, ast.Like):
        return [e.pattern]
    if isinstance(e, ast.InList):
        return list(e.items)
    if isinstance(e, ast.Between):
        return [e.low, e.high]
    return []


def bind(
    select: ast.Select,
    resolve: Callable[[str, str], Table],
    params: Mapping[str, Any] | None = None,
    *,
    now: dt.datetime | None = None,
    text: str | None = None,
) -> BoundQuery:
    """Resolve names, bind parameters and fold constants; raise :class:`QueryError` on a bad name."""
    try:
        return _bind(select, resolve, params, now, text)
    except RecursionError:  # the parser bounds nesting (parser.MAX_DEPTH); a tree built elsewhere may not
        raise QueryError("the statement is nested too deeply", hint="simplify the expression",
                         at=select.span) from None


def _bind(select: ast.Select, resolve: Callable[[str, str], Table], params: Mapping[str, Any] | None,
          now: dt.datetime | None, text: str | None) -> BoundQuery:
    now = to_utc(now or dt.datetime.now(dt.timezone.utc))
    b = _Binder(resolve, params or {}, now, text)
    table = b.add_table(select.table)
    joins = []
    for join in select.joins:
        b.add_table(join.table)
    for join in select.joins:
        joins.append(ast.replace(join, on=b.expr(join.on, where="ON")))
    items: list[Any] = []
    for item in select.items:
        if isinstance(item, ast.Star):
            if item.qualifier and not any(r.ref_name.lower() == item.qualifier.lower() for r, _ in b.scope):
                raise b.at(QueryError(f"unknown table or alias '{item.qualifier}' in {item.qualifier}.*",
                                      hint=did_you_mean(item.qualifier, [r.ref_name for r, _ in b.scope])), item)
            for i, (ref, _) in enumerate(b.scope):  # every column, the dynamic ones too
                if item.qualifier is None or ref.ref_name.lower() == item.qualifier.lower():
                    b.extend(i)
                    b.starred.add(i)
            items.append(item)
            b.outputs.add(None, sum(len(t.columns) for r, t in b.scope
                                   if item.qualifier is None or r.ref_name.lower() == item.qualifier.lower()))
            continue
        items.append(ast.replace(item, expr=b.expr(item.expr, where="SELECT")))
        if item.alias:
            b.aliases.add(item.alias)
        b.outputs.add(item.alias or (item.expr.name if isinstance(item.expr, ast.Column) else None))
    where = b.expr(select.where, where="WHERE") if select.where is not None else None
    positions = any(_is_position(e) for e in (*select.group_by, *(o.expr for o in select.order_by)))
    outputs = output_exprs(b.scope, b._qualified, items) if positions else []
    group_by = tuple(position(b.at, g, outputs, "GROUP BY") if _is_position(g) else b.expr(g, where="GROUP BY", allow_alias=True)
                     for g in select.group_by)
    having = b.expr(select.having, where="HAVING", allow_alias=True) if select.having is not None else None
    order_by = tuple(ast.replace(o, expr=position(b.at, o.expr, outputs, "ORDER BY") if _is_position(o.expr)
                                 else b.expr(o.expr, where="ORDER BY", allow_alias=True)) for o in select.order_by)
    # a constant sorts nothing, and beside other keys groups nothing (DuckDB takes no parameter there)
    order_by = tuple(o for o in order_by if o.expr.__class__ is not ast.Literal)
    if group_by and all(g.__class__ is ast.Literal for g in group_by):
        raise b.at(QueryError("GROUP BY only a constant", hint="remove GROUP BY (an aggregate over every row) "
                              "or group by a column"), select.group_by[0])
    group_by = tuple(g for g in group_by if g.__class__ is not ast.Literal)
    limit = _count(b, select.limit, "LIMIT")
    offset = _count(b, select.offset, "OFFSET")
    for e in (where,):
        if e is not None and isinstance(e, ast.Literal) and e.kind not in ("boolean", "null"):
            raise b.at(QueryError("WHERE needs a condition, not a value", hint="e.g. WHERE name = 'x'"), e)
    bound = ast.replace(select, table=table, joins=tuple(joins), items=tuple(items), where=where, group_by=group_by,
                        having=having, order_by=order_by, limit=limit, offset=offset)
    return BoundQuery(bound, _read(b), b.columns, b.aliases, now)


def _read(b: _Binder) -> list[tuple[ast.TableRef, Table]]:
    """The tables in scope, each completed one with only the dynamic columns the statement reads."""
    out = []
    for i, (ref, table) in enumerate(b.scope):
        if i in b.declared and i not in b.starred:
            used = {c.name for c in b.declared[i].columns} | {n for q, n in b.columns if q == ref.ref_name}
            table = replace(table, columns=tuple(c for c in table.columns if c.name in used))
        out.append((ref, table))
    return out


def _count(b: _Binder, e: ast.Expr | None, clause: str) -> ast.Literal | None:
    if e is None:
        return None
    lit = b.expr(e, where=clause)
    if not isinstance(lit, ast.Literal) or lit.kind != "integer":
        if isinstance(lit, ast.Literal) and lit.kind == "string" and lit.value.strip().isdigit():
            lit = ast.Literal(int(lit.value), "integer", span=lit.span)
        else:
            raise b.at(QueryError(f"{clause} needs a whole number", hint=f"e.g. {clause} 20"), e)
    if lit.value < 0:
        raise b.at(QueryError(f"{clause} cannot be negative"), e)
    return lit


def uses_aggregates(select: ast.Select) -> bool:
    """Whether the SELECT list computes an aggregate (COUNT, SUM, AVG, MIN, MAX).

    >>> from crmql.language.parser import parse
    >>> uses_aggregates(parse("SELECT COUNT(*) + 1 FROM x.y")), uses_aggregates(parse("SELECT a FROM x.y"))
    (True, False)
    """
    return any(isinstance(n, ast.Func) and n.name in AGGREGATES
               for item in select.items if isinstance(item, ast.SelectItem) for n in ast.walk(item.expr))
