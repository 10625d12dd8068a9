"""Binding: AST + catalog + parameters -> a bound query the planner can trust.

* tables ``conn.table`` are resolved through the session's catalog (``did you mean`` on a miss);
* every column is resolved to one table in scope and qualified with its reference name;
* ``:name`` parameters become literals (never text), ``IN :ids`` expands a list;
* ``NOW()``, ``TODAY()`` and ``± INTERVAL '...'`` are folded to constants once per statement;
* literals compared with a typed column are coerced (``start > '2025-01-01'`` compares timestamps).

>>> import datetime as dt
>>> from crmql.catalog import Column, ColumnType, Table
>>> from crmql.parser import parse
>>> t = Table("a", "b", (Column("start", ColumnType.TIMESTAMP),))
>>> q = bind(parse("SELECT start FROM a.b WHERE start > '2025-01-01'"), lambda c, n: t)
>>> q.select.where.right.kind
'timestamp'
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from . import ast
from .catalog import Column, ColumnType, Table
from .errors import QueryError, did_you_mean
from .values import Interval, add_interval, parse_date, parse_timestamp, to_utc

__all__ = ["AGGREGATES", "BoundQuery", "FUNCTIONS", "bind", "literal_from_python"]

AGGREGATES = {"count", "sum", "avg", "min", "max"}
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


def literal_from_python(value: Any, span: ast.Span | None = None) -> ast.Literal:
    """A Python value as a typed literal.

    >>> literal_from_python(3).kind, literal_from_python("x").kind
    ('integer', 'string')
    """
    if value is None:
        return ast.Literal(None, "null", span=span)
    if isinstance(value, bool):
        return ast.Literal(value, "boolean", span=span)
    if isinstance(value, int):
        return ast.Literal(value, "integer", span=span)
    if isinstance(value, float):
        if value != value or value in (float("inf"), float("-inf")):
            raise QueryError(f"parameter value {value} is not a finite number")
        return ast.Literal(value, "float", span=span)
    if isinstance(value, dt.datetime):
        return ast.Literal(to_utc(value), "timestamp", span=span)
    if isinstance(value, dt.date):
        return ast.Literal(value, "date", span=span)
    if hasattr(value, "to_pydatetime"):  # pandas.Timestamp
        return ast.Literal(to_utc(value.to_pydatetime()), "timestamp", span=span)
    if isinstance(value, str):
        return ast.Literal(value, "string", span=span)
    raise QueryError(f"cannot use a value of type {type(value).__name__} as a parameter",
                     hint="parameters are strings, numbers, booleans, dates, timestamps, None, or lists of these (for IN)")


class _Binder:
    def __init__(self, resolve: Callable[[str, str], Table], params: Mapping[str, Any], now: dt.datetime, text: str | None):
        self.resolve = resolve
        self.params = params
        self.now = now
        self.text = text
        self.scope: list[tuple[ast.TableRef, Table]] = []
        self.columns: dict[tuple[str, str], Column] = {}
        self.aliases: set[str] = set()

    # ---- tables and columns
    def at(self, err: QueryError, node: ast.Node | None) -> QueryError:
        """``err`` pointed at ``node`` in the statement's text (unless it already points somewhere)."""
        span = node.span if node is not None else None
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

    def column(self, col: ast.Column, *, allow_alias: bool = False) -> ast.Expr:
        if col.qualifier is not None:
            for ref, table in self.scope:
                if ref.ref_name.lower() == col.qualifier.lower() or ref.table.lower() == col.qualifier.lower():
                    found = table.column(col.name)
                    if found is None:
                        self._unknown(col, table)
                    return self._qualified(col, ref, found)
            names = [r.ref_name for r, _ in self.scope]
            raise QueryError(f"unknown table or alias '{col.qualifier}'", hint=did_you_mean(col.qualifier, names)
                             or f"tables in this query: {', '.join(names)}")
        if allow_alias and col.name in self.aliases:
            return col
        matches = [(ref, table, table.column(col.name)) for ref, table in self.scope]
        matches = [m for m in matches if m[2] is not None]
        if len(matches) > 1:
            options = " or ".join(f"{r.ref_name}.{col.name}" for r, _, _ in matches)
            raise QueryError(f"column '{col.name}' is ambiguous", hint=f"write {options}")
        if not matches:
            return self._unknown(col, self.scope[0][1] if len(self.scope) == 1 else None)
        ref, _, found = matches[0]
        return self._qualified(col, ref, found)

    def _unknown(self, col: ast.Column, table: Table | None) -> Any:
        candidates = [c.name for _, t in self.scope for c in t.columns] + sorted(self.aliases)
        where = table.qualified if table else "the tables of this query"
        hint = did_you_mean(col.name, candidates)
        if self.text and col.span and self.text[col.span.start:col.span.start + 1] == '"':
            hint = (hint + "; " if hint else "") + f"strings use single quotes: '{col.name}'"
        if hint is None and table is not None:
            hint = f"DESCRIBE {table.qualified} lists its columns"
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
            return self.column(e, allow_alias=allow_alias)
        if isinstance(e, ast.Param):
            if e.name not in self.params:
                raise QueryError(f"no value for parameter :{e.name}",
                                 hint=f"pass it with --param {e.name}=VALUE (CLI) or params={{'{e.name}': ...}} (Python)")
            value = self.params[e.name]
            if isinstance(value, (list, tuple, set, frozenset)):
                raise QueryError(f"parameter :{e.name} is a list; lists are only allowed as IN :{e.name}")
            return literal_from_python(value, e.span)
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
                e = ast.replace(e, items=tuple(literal_from_python(v, p.span) for v in values))
            except QueryError as err:
                raise self.at(err, p)
        e = self._children(e, where=where, allow_alias=allow_alias)
        e = _fold(e, self.now)
        return self._coerce(e)

    def _children(self, e: ast.Expr, **kw: Any) -> ast.Expr:
        changes: dict[str, Any] = {}
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
        return ast.replace(f, args=args)

    def _coerce(self, e: ast.Expr) -> ast.Expr:
        """Literals compared with a typed column take the column's type (the node is rebuilt only
        when a literal changed)."""
        if isinstance(e, ast.Compare):
            if isinstance(e.left, ast.Column) and isinstance(e.right, ast.Literal):
                right = self._as(e.right, e.left)
                return e if right is e.right else ast.replace(e, right=right)
            if isinstance(e.right, ast.Column) and isinstance(e.left, ast.Literal):
                left = self._as(e.left, e.right)
                return e if left is e.left else ast.replace(e, left=left)
        if isinstance(e, ast.InList) and isinstance(e.operand, ast.Column):
            items = tuple(self._as(i, e.operand) if isinstance(i, ast.Literal) else i for i in e.items)
            return e if all(a is b for a, b in zip(items, e.items)) else ast.replace(e, items=items)
        if isinstance(e, ast.Between) and isinstance(e.operand, ast.Column):
            low = self._as(e.low, e.operand) if isinstance(e.low, ast.Literal) else e.low
            high = self._as(e.high, e.operand) if isinstance(e.high, ast.Literal) else e.high
            return e if low is e.low and high is e.high else ast.replace(e, low=low, high=high)
        return e

    def _as(self, lit: ast.Literal, col: ast.Column) -> ast.Literal:
        column = self.columns.get((col.qualifier or "", col.name))
        if column is None or lit.kind == "null":
            return lit
        want, value, kind = column.type, lit.value, lit.kind
        try:
            if want is ColumnType.TIMESTAMP:
                if kind == "string":
                    return ast.Literal(parse_timestamp(value), "timestamp", span=lit.span)
                if kind == "date":
                    return ast.Literal(to_utc(value), "timestamp", span=lit.span)
            elif want is ColumnType.DATE:
                if kind == "string":
                    return ast.Literal(parse_date(value), "date", span=lit.span)
            elif want is ColumnType.INTEGER or want is ColumnType.FLOAT:
                if kind == "string":
                    number = float(value) if want is ColumnType.FLOAT or "." in value else int(value)
                    if isinstance(number, float) and (number != number or number in (float("inf"), float("-inf"))):
                        raise ValueError("not a finite number")
                    return ast.Literal(number, "float" if isinstance(number, float) else "integer", span=lit.span)
            elif want is ColumnType.STRING and kind in ("integer", "float"):
                return ast.Literal(str(value), "string", span=lit.span)
            elif want is ColumnType.BOOLEAN:
                if kind == "string" and value.lower() in ("true", "false", "t", "f", "yes", "no", "1", "0"):
                    return ast.Literal(value.lower() in ("true", "t", "yes", "1"), "boolean", span=lit.span)
                if kind == "integer" and value in (0, 1):
                    return ast.Literal(bool(value), "boolean", span=lit.span)
        except ValueError:
            raise self.at(QueryError(f"{column.name} is {_a(want.value)} column and {value!r} is not a valid {want.value}",
                                     hint=_type_hint(want)), lit) from None
        if (want in (ColumnType.INTEGER, ColumnType.FLOAT) and kind in ("string", "boolean", "timestamp", "date", "interval")) \
                or (want in (ColumnType.TIMESTAMP, ColumnType.DATE) and kind in ("integer", "float", "boolean", "interval")) \
                or (want is ColumnType.BOOLEAN and kind in ("string", "integer", "float", "timestamp", "date")):
            raise self.at(QueryError(f"{column.name} is {_a(want.value)} column and cannot be compared with {_show(lit)}",
                                     hint=_type_hint(want)), lit)
        return lit


_MISSING = object()


def _a(word: str) -> str:
    return ("an " if word[:1] in "aeiou" else "a ") + word


def _show(lit: ast.Literal) -> str:
    if lit.kind == "interval":
        return f"INTERVAL '{lit.value}'"
    return repr(lit.value) if lit.kind == "string" else str(lit.value)


def _type_hint(kind: ColumnType) -> str:
    return {
        ColumnType.TIMESTAMP: "write e.g. TIMESTAMP '2025-03-01 09:00:00' or '2025-03-01'",
        ColumnType.DATE: "write e.g. DATE '2025-03-01'",
        ColumnType.INTEGER: "write a number, e.g. 500",
        ColumnType.FLOAT: "write a number, e.g. 500.5",
        ColumnType.BOOLEAN: "write TRUE or FALSE",
    }.get(kind, "")


def _add_interval(value: Any, interval: Interval, sign: int = 1) -> Any:
    try:
        return add_interval(value, interval, sign)
    except (OverflowError, ValueError):
        raise QueryError(f"date arithmetic out of range: {value} {'+' if sign > 0 else '-'} INTERVAL '{interval}'",
                         hint="dates and timestamps go from year 1 to year 9999") from None


def _fold(e: ast.Expr, now: dt.datetime) -> ast.Expr:
    """``timestamp ± interval`` and ``date ± interval`` of constants -> one constant."""
    if isinstance(e, ast.Binary) and e.op in ("+", "-") and isinstance(e.left, ast.Literal) and isinstance(e.right, ast.Literal):
        left, right = e.left, e.right
        if right.kind == "interval" and left.kind in ("timestamp", "date"):
            sign = 1 if e.op == "+" else -1
            value = _add_interval(left.value, right.value, sign)
            kind = "timestamp" if isinstance(value, dt.datetime) else "date"
            return ast.Literal(value, kind, span=e.span)
        if left.kind == "interval" and right.kind in ("timestamp", "date") and e.op == "+":
            value = _add_interval(right.value, left.value)
            return ast.Literal(value, "timestamp" if isinstance(value, dt.datetime) else "date", span=e.span)
    if isinstance(e, ast.Literal) and e.kind == "interval":
        return e
    return e


def bind(
    select: ast.Select,
    resolve: Callable[[str, str], Table],
    params: Mapping[str, Any] | None = None,
    *,
    now: dt.datetime | None = None,
    text: str | None = None,
) -> BoundQuery:
    """Resolve names, bind parameters and fold constants; raise :class:`QueryError` on a bad name."""
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
            items.append(item)
            continue
        items.append(ast.replace(item, expr=b.expr(item.expr, where="SELECT")))
        if item.alias:
            b.aliases.add(item.alias)
    where = b.expr(select.where, where="WHERE") if select.where is not None else None
    group_by = tuple(b.expr(g, where="GROUP BY", allow_alias=True) for g in select.group_by)
    having = b.expr(select.having, where="HAVING", allow_alias=True) if select.having is not None else None
    order_by = tuple(ast.replace(o, expr=b.expr(o.expr, where="ORDER BY", allow_alias=True)) for o in select.order_by)
    limit = _count(b, select.limit, "LIMIT")
    offset = _count(b, select.offset, "OFFSET")
    for e in (where,):
        if e is not None and isinstance(e, ast.Literal) and e.kind not in ("boolean", "null"):
            raise b.at(QueryError("WHERE needs a condition, not a value", hint="e.g. WHERE name = 'x'"), e)
    bound = ast.replace(select, table=table, joins=tuple(joins), items=tuple(items), where=where, group_by=group_by,
                        having=having, order_by=order_by, limit=limit, offset=offset)
    return BoundQuery(bound, list(b.scope), b.columns, b.aliases, now)


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

    >>> from crmql.parser import parse
    >>> uses_aggregates(parse("SELECT COUNT(*) + 1 FROM x.y")), uses_aggregates(parse("SELECT a FROM x.y"))
    (True, False)
    """
    return any(isinstance(n, ast.Func) and n.name in AGGREGATES
               for item in select.items if isinstance(item, ast.SelectItem) for n in ast.walk(item.expr))
