"""PEP 249 type objects and constructors, and the type code of a result column.

A column's ``type_code`` (the second item of ``cursor.description``) is crmql's own type name
(``"string"``, ``"integer"``, ``"float"``, ``"boolean"``, ``"date"``, ``"timestamp"``, ``"list"``);
each type object compares equal to the codes it covers, as PEP 249 asks:

>>> NUMBER == "integer", NUMBER == "float", STRING == "list", DATETIME == "date", BOOLEAN == "boolean"
(True, True, True, True, True)
>>> type_code(pd.Series([1, 2]))
'integer'

Booleans get a type object of their own (``BOOLEAN``): a BOOL is neither a NUMBER nor a STRING to
the tools that read ``description`` (SQLAlchemy, pandas), and PEP 249 allows extra type objects.
Lists (a vendor's multi-valued fields) come back as Python lists and are ``STRING`` typed.
"""

from __future__ import annotations

import datetime as dt
import time
from typing import Any

import pandas as pd

__all__ = [
    "BINARY", "BOOLEAN", "DATETIME", "NUMBER", "ROWID", "STRING", "Binary", "Date", "DateFromTicks", "DBAPITypeObject",
    "Time", "TimeFromTicks", "Timestamp", "TimestampFromTicks", "type_code",
]


class DBAPITypeObject:
    """A PEP 249 type object: equal to each type code it covers.

    >>> DBAPITypeObject("NUMBER", "integer") == "integer"
    True
    """

    def __init__(self, name: str, *codes: str) -> None:
        self.name = name
        self.values = frozenset(codes)

    def __eq__(self, other: object) -> bool:
        if isinstance(other, DBAPITypeObject):
            return self is other
        return other in self.values

    def __ne__(self, other: object) -> bool:
        return not self == other

    def __hash__(self) -> int:
        return hash(self.name)

    def __repr__(self) -> str:
        return f"<type object {self.name}>"


STRING = DBAPITypeObject("STRING", "string", "list")
NUMBER = DBAPITypeObject("NUMBER", "integer", "float")
DATETIME = DBAPITypeObject("DATETIME", "date", "timestamp")
BOOLEAN = DBAPITypeObject("BOOLEAN", "boolean")
BINARY = DBAPITypeObject("BINARY", "binary")
ROWID = DBAPITypeObject("ROWID", "rowid")

Date = dt.date
Time = dt.time
Timestamp = dt.datetime
Binary = bytes


def DateFromTicks(ticks: float) -> dt.date:  # noqa: N802 - the PEP 249 name
    """The local date of ``ticks`` seconds since the epoch.

    >>> DateFromTicks(0) <= dt.date(1970, 1, 2)
    True
    """
    return Date(*time.localtime(ticks)[:3])


def TimeFromTicks(ticks: float) -> dt.time:  # noqa: N802 - the PEP 249 name
    """The local time of day of ``ticks`` seconds since the epoch."""
    return Time(*time.localtime(ticks)[3:6])


def TimestampFromTicks(ticks: float) -> dt.datetime:  # noqa: N802 - the PEP 249 name
    """The local date and time of ``ticks`` seconds since the epoch."""
    return Timestamp(*time.localtime(ticks)[:6])


def type_code(column: pd.Series, declared: str | None = None) -> str:
    """crmql's type name for a result column, from its dtype (or its first value when the dtype is
    object); ``declared`` (the catalog's type of a column of that name) decides when there is no value.

    >>> type_code(pd.Series([True])), type_code(pd.Series([1.5])), type_code(pd.Series([["a"]]))
    ('boolean', 'float', 'list')
    >>> type_code(pd.Series([None, dt.date(2024, 1, 1)])), type_code(pd.Series(pd.to_datetime(["2024-01-01"])))
    ('date', 'timestamp')
    >>> type_code(pd.Series([], dtype=object), declared="date")
    'date'
    """
    dtype = column.dtype
    if pd.api.types.is_bool_dtype(dtype):
        return "boolean"
    if pd.api.types.is_integer_dtype(dtype):
        return "integer"
    if pd.api.types.is_float_dtype(dtype):
        return "float"
    if pd.api.types.is_datetime64_any_dtype(dtype):
        return "timestamp"
    value = _first_value(column)
    if value is None and declared is not None:
        return declared
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "float"
    if isinstance(value, dt.datetime):
        return "timestamp"
    if isinstance(value, dt.date):
        return "date"
    if isinstance(value, (list, tuple)) or hasattr(value, "tolist") and not isinstance(value, str):
        return "list"
    return "string"


def _first_value(column: pd.Series) -> Any:
    for value in column:
        if value is not None and not (isinstance(value, float) and value != value):
            return value
    return None
