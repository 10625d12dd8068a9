"""Literal typing for the binder: a literal takes the type of what it meets.

* A literal compared with a typed column takes the column's type (``start > '2025-01-01'`` compares
  timestamps; ``capacity = '12'`` compares integers), wherever the column is: left or right of a
  comparison, the operand or a bound of BETWEEN, the operand or an item of IN.
* A parameter given as text (``crmql --param n=499``, see :class:`crmql.language.values.ParamText`) also
  takes the type of an expression or literal it meets: ``:n + 1`` makes it a number,
  ``:t + INTERVAL '1 day'`` a timestamp, ``left(name, :k)`` an integer. Text that cannot take the
  type it needs is a :class:`QueryError` located at the parameter.

Values from the Python API keep their own types; only text parameters are typed by context.

>>> from crmql.plan.catalog import Column, ColumnType
>>> as_column(ast.Literal("12", "string"), Column("capacity", ColumnType.INTEGER)).value
12
>>> text_as(ast.Literal("499", "string", from_text="n"), "number").value
499
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from ..language import ast
from .catalog import Column, ColumnType
from ..errors import QueryError
from ..language.values import Interval, ParamText, add_interval, parse_date, parse_interval, parse_timestamp, to_utc

__all__ = ["as_column", "column_kind", "expr_kind", "fold_interval", "literal_from_python", "param_literal", "text_as"]

#: a column type as the kind of literal it compares with (None: no literal kind fits: lists)
_COLUMN_KIND = {
    ColumnType.STRING: "string", ColumnType.INTEGER: "number", ColumnType.FLOAT: "number",
    ColumnType.BOOLEAN: "boolean", ColumnType.TIMESTAMP: "timestamp", ColumnType.DATE: "date",
}
_LITERAL_KIND = {"integer": "number", "float": "number", "string": "string", "boolean": "boolean",
                 "timestamp": "timestamp", "date": "date", "interval": "interval"}
_NUMBER_FUNCTIONS = frozenset({"length", "len", "year", "month", "day", "hour", "date_part", "abs", "round", "floor",
                               "ceil", "array_length", "count", "sum", "avg"})
_STRING_FUNCTIONS = frozenset({"lower", "upper", "trim", "concat", "substr", "substring", "replace", "left", "right",
                               "strftime"})
_SAME_AS_FIRST = frozenset({"min", "max", "coalesce", "greatest", "least", "ifnull", "nullif"})
#: arguments (0-based) that are whole numbers: round(x, 2), left(s, 3), substr(s, 2, 3)
INTEGER_ARGS = {"round": (1,), "left": (1,), "right": (1,), "substr": (1, 2), "substring": (1, 2)}


def column_kind(column: Column | None) -> str | None:
    """The literal kind a column compares with: number, string, boolean, timestamp, date or None."""
    return _COLUMN_KIND.get(column.type) if column is not None else None


def expr_kind(e: ast.Expr, column_of: Any) -> str | None:
    """The kind of value ``e`` gives, where it is clear without running it (None: unknown).

    ``column_of(col)`` is the catalog column of a bound column reference (or None).
    """
    cls = e.__class__
    if cls is ast.Literal:
        return None if e.from_text is not None else _LITERAL_KIND.get(e.kind)
    if cls is ast.Column:
        return column_kind(column_of(e))
    if cls is ast.Unary:
        return expr_kind(e.operand, column_of)
    if cls is ast.Func:
        if e.name in _NUMBER_FUNCTIONS:
            return "number"
        if e.name in _STRING_FUNCTIONS:
            return "string"
        if e.name == "date_trunc":
            return "timestamp"
        if e.name in _SAME_AS_FIRST and e.args:
            return expr_kind(e.args[0], column_of)
        return None
    if cls is ast.Binary:
        if e.op == "||":
            return "string"
        kinds = {expr_kind(e.left, column_of), expr_kind(e.right, column_of)}
        if kinds & {"timestamp", "date"} and e.op in ("+", "-"):
            return "interval" if e.op == "-" and kinds <= {"timestamp", "date"} else "timestamp"
        if kinds == {"number"}:
            return "number"
    return None


def text_as(lit: ast.Literal, kind: str | None, meets: str = "") -> ast.Literal:
    """A text parameter's literal as ``kind`` (number, string, boolean, timestamp, date, interval);
    unchanged for another literal or an unknown kind. ``meets`` names what it meets, for the error.

    >>> text_as(ast.Literal("2025-03-01", "string", from_text="t"), "timestamp").kind
    'timestamp'
    """
    if lit.from_text is None or kind is None or kind == "string" or lit.kind != "string":
        return lit
    text = lit.value
    try:
        if kind == "number":
            value: Any = _number(text)
            return ast.Literal(value, "float" if isinstance(value, float) else "integer", span=lit.span)
        if kind == "timestamp":
            return ast.Literal(parse_timestamp(text), "timestamp", span=lit.span)
        if kind == "date":
            return ast.Literal(parse_date(text), "date", span=lit.span)
        if kind == "interval":
            return ast.Literal(parse_interval(text), "interval", span=lit.span)
        if kind == "boolean":
            return ast.Literal(_boolean(text), "boolean", span=lit.span)
    except (ValueError, OverflowError):
        where = f" ({meets})" if meets else ""
        raise QueryError(f"parameter :{lit.from_text} is {text!r}, which is not {_a(kind)}{where}",
                         hint=_KIND_HINT.get(kind), at=lit.span) from None
    return lit


_KIND_HINT = {
    "number": "pass a number, e.g. --param n=500",
    "timestamp": "pass ISO-8601, e.g. --param t=2025-03-01T09:00:00",
    "date": "pass YYYY-MM-DD, e.g. --param d=2025-03-01",
    "interval": "pass a number and a unit, e.g. --param i='7 days'",
    "boolean": "pass true or false",
}


def _number(text: str) -> int | float:
    raw = text.strip()
    try:
        return int(raw)
    except ValueError:
        value = float(raw)  # ValueError for text that is not a number
    if value != value or value in (float("inf"), float("-inf")):
        raise ValueError("not a finite number")
    return value


_TRUE, _FALSE = ("true", "t", "yes", "1"), ("false", "f", "no", "0")


def _boolean(text: str) -> bool:
    word = text.strip().lower()
    if word in _TRUE or word in _FALSE:
        return word in _TRUE
    raise ValueError("not a boolean")


def as_column(lit: ast.Literal, column: Column | None) -> ast.Literal:
    """``lit`` in the type of the typed ``column`` it is compared with; a located QueryError when it
    cannot be (``capacity = 'abc'``). NULL, and literals of a fitting kind, are unchanged."""
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
            if kind == "string" and value.lower() in _TRUE + _FALSE:
                return ast.Literal(value.lower() in _TRUE, "boolean", span=lit.span)
            if kind == "integer" and value in (0, 1):
                return ast.Literal(bool(value), "boolean", span=lit.span)
    except ValueError:
        raise QueryError(f"{column.name} is {_a(want.value)} column and {value!r} is not a valid {want.value}",
                         hint=_type_hint(want), at=lit.span) from None
    if (want in (ColumnType.INTEGER, ColumnType.FLOAT) and kind in ("string", "boolean", "timestamp", "date", "interval")) \
            or (want in (ColumnType.TIMESTAMP, ColumnType.DATE) and kind in ("integer", "float", "boolean", "interval")) \
            or (want is ColumnType.BOOLEAN and kind in ("string", "integer", "float", "timestamp", "date")):
        raise QueryError(f"{column.name} is {_a(want.value)} column and cannot be compared with {_show(lit)}",
                         hint=_type_hint(want), at=lit.span)
    return lit


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


def fold_interval(e: ast.Expr) -> ast.Expr:
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
    return e


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


def param_literal(name: str, value: Any, span: ast.Span | None) -> ast.Literal:
    """A parameter's value as a literal; text from the command line is marked to be typed by context."""
    if isinstance(value, ParamText):
        return ast.Literal(str(value), "string", span=span, from_text=name)
    return literal_from_python(value, span)
