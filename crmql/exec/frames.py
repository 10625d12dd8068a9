"""Raw vendor records -> typed Arrow tables, one column per declared column.

Timestamps become timezone-aware UTC, a key missing from a record is NULL, and a value that does
not fit its column's type is NULL too (logged once per column), never an exception mid-scan: an
integer outside int64, a non-finite float (``1e999`` decodes as infinity, which JSON has not), a
timestamp outside the calendar, a nested value too deep to write back as JSON text.

>>> from crmql.plan.catalog import Column, ColumnType, Table
>>> t = Table("a", "b", (Column("n", ColumnType.INTEGER), Column("at", ColumnType.TIMESTAMP)))
>>> to_arrow(t, [{"n": 1, "at": "2025-01-23T11:29:18.876Z"}, {}]).to_pylist()[1]
{'n': None, 'at': None}
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import math
from collections.abc import Callable, Iterable
from typing import Any

import pyarrow as pa

from ..plan.catalog import ColumnType, Table

__all__ = ["ARROW_TYPES", "to_arrow"]

log = logging.getLogger(__name__)

ARROW_TYPES = {
    ColumnType.STRING: pa.string(),
    ColumnType.INTEGER: pa.int64(),
    ColumnType.FLOAT: pa.float64(),
    ColumnType.BOOLEAN: pa.bool_(),
    ColumnType.TIMESTAMP: pa.timestamp("us", tz="UTC"),
    ColumnType.DATE: pa.date32(),
    ColumnType.LIST: pa.list_(pa.string()),
}


INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1


def _string(v: Any) -> str:
    """Text as is; an object or list as its JSON text (too deep to write: unconvertible).

    >>> _string({"a": [1]}), _string(2)
    ('{"a": [1]}', '2')
    """
    if isinstance(v, str):
        return v
    if isinstance(v, (dict, list)):
        try:
            return json.dumps(v, ensure_ascii=False, allow_nan=False)
        except RecursionError:
            raise ValueError("nested too deep to write as JSON text") from None
    return str(v)


def _integer(v: Any) -> int:
    """An int64 (an integral float included); anything else, or out of range, is unconvertible.

    >>> _integer(5.0), _integer(2**63 - 1)
    (5, 9223372036854775807)
    """
    if isinstance(v, bool):
        raise ValueError
    if isinstance(v, float):
        if not v.is_integer():
            raise ValueError
    n = int(v)
    if not INT64_MIN <= n <= INT64_MAX:
        raise ValueError("outside int64")
    return n


def _float(v: Any) -> float:
    """A finite float: infinity and NaN are no JSON numbers, so they are unconvertible.

    >>> _float(1), _float("2.5")
    (1.0, 2.5)
    """
    if isinstance(v, bool):
        raise ValueError
    f = float(v)
    if not math.isfinite(f):
        raise ValueError("not finite")
    return f


def _boolean(v: Any) -> bool:
    if isinstance(v, bool):
        return v
    if isinstance(v, str) and v.lower() in ("true", "false"):
        return v.lower() == "true"
    if v in (0, 1):
        return bool(v)
    raise ValueError


def _timestamp(v: Any) -> dt.datetime:
    if isinstance(v, (int, float)) and not isinstance(v, bool):
        return dt.datetime.fromtimestamp(v / 1000 if v > 1e11 else v, dt.timezone.utc)
    value = dt.datetime.fromisoformat(str(v).strip())
    if value.tzinfo is None:
        return value.replace(tzinfo=dt.timezone.utc)
    return value.astimezone(dt.timezone.utc)


def _date(v: Any) -> dt.date:
    return dt.date.fromisoformat(str(v)[:10])


def _list(v: Any) -> list[str]:
    if isinstance(v, list):
        return [_string(x) for x in v if x is not None]
    return [_string(v)]


CONVERTERS: dict[ColumnType, Callable[[Any], Any]] = {
    ColumnType.STRING: _string, ColumnType.INTEGER: _integer, ColumnType.FLOAT: _float,
    ColumnType.BOOLEAN: _boolean, ColumnType.TIMESTAMP: _timestamp, ColumnType.DATE: _date, ColumnType.LIST: _list,
}


def to_arrow(table: Table, rows: Iterable[dict[str, Any]]) -> pa.Table:
    """Typed Arrow table of ``rows`` (dicts keyed by native field id) for ``table``'s columns."""
    rows = list(rows)
    arrays = []
    for column in table.columns:
        convert = CONVERTERS[column.type]
        key = column.native
        values: list[Any] = []
        bad = 0
        for row in rows:
            v = row.get(key)
            if v is None:
                values.append(None)
                continue
            try:
                values.append(convert(v))
            except (ValueError, TypeError, OverflowError, OSError):  # OSError: fromtimestamp out of range
                values.append(None)
                bad += 1
        if bad:
            log.warning("%s.%s: %d value(s) did not fit type %s and became NULL", table.qualified, column.name, bad, column.type)
        arrays.append(pa.array(values, type=ARROW_TYPES[column.type]))
    return pa.Table.from_arrays(arrays, names=[c.name for c in table.columns])
