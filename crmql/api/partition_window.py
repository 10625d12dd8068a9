"""Window partitions: one statement per range of a column (Spark JDBC's ``partitionColumn``,
``lowerBound``, ``upperBound``, ``numPartitions``), each the user's SELECT with a range conjunct.

As in Spark JDBC, the bounds only decide the stride, they filter nothing: the first window also
takes every row below ``lower`` and the rows whose column is NULL, the last every row from its lower
bound up, so the windows together are exactly the query's rows, each row in one window. The
conjunct is added to the statement's text (``(WHERE) AND range``), so each window is planned as
its own query: a vendor that filters the column gets the range pushed.

>>> window_conditions("start", [3, 7])  # doctest: +NORMALIZE_WHITESPACE
['(start < 3 OR start IS NULL)', 'start >= 3 AND start < 7', 'start >= 7']
>>> stride_bounds(0, 10, 4)
[2, 5, 7]
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from ..errors import QueryError
from ..language import ast
from .partition_spec import Window

__all__ = ["column_sql", "literal", "stride_bounds", "window_conditions", "window_sqls"]


def column_sql(name: str) -> str:
    """The window's column as crmql text: as written when it holds a double quote, else each
    dot-separated part quoted (Spark's ``partitionColumn`` is a plain name: ``sale-balance``).

    >>> column_sql("sale-balance"), column_sql("e.start"), column_sql('"contact-name"')
    ('"sale-balance"', '"e"."start"', '"contact-name"')
    """
    name = name.strip()
    if not name:
        raise QueryError("the window needs a column")
    if '"' in name:
        return name
    return ".".join(f'"{part.strip()}"' for part in name.split("."))


def literal(value: Any) -> str:
    """A bound as crmql text: a number, ``DATE '...'`` or ``TIMESTAMP '...'`` (UTC).

    >>> literal(dt.datetime(2025, 3, 1, 12)), literal(dt.date(2025, 3, 1)), literal(2.5)
    ("TIMESTAMP '2025-03-01T12:00:00'", "DATE '2025-03-01'", '2.5')
    """
    if isinstance(value, dt.datetime):
        if value.tzinfo is not None:
            value = value.astimezone(dt.timezone.utc).replace(tzinfo=None)
        return f"TIMESTAMP '{value.isoformat()}'"
    if isinstance(value, dt.date):
        return f"DATE '{value.isoformat()}'"
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise QueryError(f"a window bound must be a number, a date or a timestamp, not {value!r}")
    return repr(value)


def stride_bounds(lower: Any, upper: Any, count: int) -> list[Any]:
    """The ``count - 1`` inner bounds between ``lower`` and ``upper`` (distinct, ascending)."""
    if count < 1:
        raise QueryError(f"a window needs at least 1 partition, not {count}")
    if type(lower) is not type(upper) and not (isinstance(lower, (int, float)) and isinstance(upper, (int, float))):
        raise QueryError(f"the window's bounds differ in type: {lower!r} and {upper!r}")
    if not lower < upper:
        if count == 1 or lower == upper:
            return []
        raise QueryError(f"the window's lower bound {lower!r} is above its upper bound {upper!r}")
    out: list[Any] = []
    for i in range(1, count):
        if isinstance(lower, dt.datetime):
            b = lower + (upper - lower) * i / count
        elif isinstance(lower, dt.date):
            b = lower + dt.timedelta(days=((upper - lower).days * i) // count)
        elif isinstance(lower, int) and isinstance(upper, int):
            b = lower + ((upper - lower) * i) // count
        else:
            b = lower + (upper - lower) * i / count
        if b > lower and (not out or b > out[-1]):
            out.append(b)
    return out


def window_conditions(column: str, bounds: list[Any]) -> list[str]:
    """The range conjunct of each window (``column`` as written in crmql)."""
    if not bounds:
        return [""]
    lits = [literal(b) for b in bounds]
    out = [f"({column} < {lits[0]} OR {column} IS NULL)"]
    out += [f"{column} >= {a} AND {column} < {b}" for a, b in zip(lits, lits[1:])]
    out.append(f"{column} >= {lits[-1]}")
    return out


def _insert(sql: str, select: ast.Select, condition: str) -> str:
    """``sql`` with ``condition`` AND-ed to its WHERE (or as its WHERE)."""
    if not condition:
        return sql
    if select.where is not None and select.where.span is not None:
        s = select.where.span
        return f"{sql[:s.start]}({sql[s.start:s.end]}) AND {condition}{sql[s.end:]}"
    last = select.joins[-1] if select.joins else select.table
    if last.span is None:
        raise QueryError("cannot place the window's condition in this statement")
    end = last.span.end
    return f"{sql[:end]} WHERE {condition} {sql[end:]}"


def window_sqls(sql: str, select: ast.Select, window: Window, count: int) -> list[tuple[str, str]]:
    """Each window's statement and label (at most ``count`` windows: the stride is recomputed for
    fewer when the connection's cap is below ``window.count``)."""
    column = column_sql(window.column)
    bounds = stride_bounds(window.lower, window.upper, max(1, count))
    conditions = window_conditions(column, bounds)
    n = len(conditions)
    out = []
    for i, cond in enumerate(conditions):
        out.append((_insert(sql, select, cond), f"window {i + 1} of {n}" + (f" ({cond})" if cond else "")))
    return out
