"""Spark's pushed filters (``pyspark.sql.datasource.Filter``) as crmql WHERE conjuncts.

Spark 4.1+ hands a Python data source the AND-ed filters of a query (``pushFilters``); each one
that translates becomes ONE parenthesized crmql conjunct whose values are bound parameters
(``:f0``, ``:f1``, ...: a value is never spliced into the text), with Spark's semantics exactly:

=====================================  ==================================================
Spark filter                           crmql conjunct
=====================================  ==================================================
EqualTo(c, v)                          ``("c" = :f0)``
EqualNullSafe(c, None) / IsNull(c)     ``("c" IS NULL)``
EqualNullSafe(c, v)                    ``("c" = :f0)`` (a NULL c is no match either way)
Not(EqualNullSafe(c, v))               ``("c" IS NULL OR "c" <> :f0)`` (``<=>`` is never NULL)
GreaterThan ... LessThanOrEqual        ``("c" > :f0)`` ... ``("c" <= :f0)``
In(c, (v, ...)) without None           ``("c" IN :f0)`` (a list parameter)
IsNotNull(c)                           ``("c" IS NOT NULL)``
Not(x)                                 ``(NOT <x>)`` when x translates exactly
StringStartsWith/EndsWith/Contains     ``("c" LIKE :f0)`` with ``v%`` / ``%v`` / ``%v%``
=====================================  ==================================================

Not translated (returned to Spark as they came): a nested column (``a.b``), a column the table
does not have, an ``In`` holding None (``x IN (1, NULL)`` is NULL, not FALSE, where x is not 1:
under a ``Not`` that differs from any IN crmql can write) or no value, a value crmql cannot bind
(bytes, decimals, lists, NaN or infinity, a timestamp without a zone), and ``Not`` of anything
that does not translate exactly.

LIKE: crmql's grammar has no ``ESCAPE`` (``%`` and ``_`` are always wildcards, as DuckDB's LIKE
with ``ESCAPE ''``), so a value holding ``%`` or ``_`` becomes a LIKE that matches a superset
(the wildcard also matches itself); such a conjunct is marked ``superset`` and always returned to
Spark, whatever crmql pushes (and never put under a ``NOT``, where a superset would drop rows).

Timestamps: Spark passes a timestamp literal as an aware ``datetime`` in UTC (measured on pyspark
4.3.0 with ``spark.sql.session.timeZone=America/New_York``: ``timestamp'2025-03-01 12:00:00'``
arrives as ``2025-03-01 17:00 UTC``); it is converted to a UTC instant. A naive value (a
``TIMESTAMP_NTZ`` column, which crmql never makes) is not translated: its instant is unknown.

Column names: Spark resolves names case-insensitively by default; a filter's column is matched to
the table's exact spelling (exact match first, else the one column equal ignoring case) and quoted.

>>> from pyspark.sql.datasource import EqualTo, In, Not, StringStartsWith
>>> cols = {"name": "string", "event_type": "string", "capacity": "integer"}
>>> translate(EqualTo(("Name",), "Kickoff"), cols, 0)
Conjunct(sql='("name" = :f0)', params={'f0': 'Kickoff'}, superset=False)
>>> translate(Not(In(("event_type",), ("sales", "marketing"))), cols, 1).sql
'(NOT ("event_type" IN :f1))'
>>> translate(StringStartsWith(("name",), "50%_off"), cols, 2)
Conjunct(sql='("name" LIKE :f2)', params={'f2': '50%_off%'}, superset=True)
>>> translate(In(("capacity",), (1, None)), cols, 3) is None
True
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from pyspark.sql.datasource import (
    EqualNullSafe,
    EqualTo,
    Filter,
    GreaterThan,
    GreaterThanOrEqual,
    In,
    IsNotNull,
    IsNull,
    LessThan,
    LessThanOrEqual,
    Not,
    StringContains,
    StringEndsWith,
    StringStartsWith,
)

__all__ = ["Conjunct", "column_name", "quote", "translate"]

_COMPARE = {EqualTo: "=", GreaterThan: ">", GreaterThanOrEqual: ">=", LessThan: "<", LessThanOrEqual: "<="}
_LIKE = {StringStartsWith: "{}%", StringEndsWith: "%{}", StringContains: "%{}%"}


@dataclass(frozen=True)
class Conjunct:
    """One translated filter: its crmql text, its parameters and whether it only matches a superset
    of what Spark's filter matches (then Spark must re-check it whatever crmql does)."""

    sql: str
    params: dict[str, Any] = field(default_factory=dict)
    superset: bool = False


def quote(name: str) -> str:
    """A crmql quoted identifier (``"`` doubled inside).

    >>> print(quote('a"b'))
    "a""b"
    """
    return '"' + name.replace('"', '""') + '"'


def column_name(path: tuple[str, ...], columns: Mapping[str, str]) -> str | None:
    """The table's spelling of a filter's column, or None (nested, unknown, or ambiguous by case).

    >>> column_name(("NAME",), {"name": "string"}), column_name(("a", "b"), {"a": "string"})
    ('name', None)
    """
    if len(path) != 1:
        return None
    name = path[0]
    if name in columns:
        return name
    same = [c for c in columns if c.lower() == name.lower()]
    return same[0] if len(same) == 1 else None


def translate(f: Filter, columns: Mapping[str, str], index: int) -> Conjunct | None:
    """Spark filter ``f`` as one crmql conjunct using parameter ``:f<index>``, or None.

    ``columns`` maps the table's column names to crmql type names (``string``, ``integer``,
    ``float``, ``boolean``, ``timestamp``, ``date``, ``list``).

    >>> from pyspark.sql.datasource import EqualNullSafe, IsNull
    >>> translate(Not(EqualNullSafe(("n",), 3)), {"n": "integer"}, 0).sql
    '("n" IS NULL OR "n" <> :f0)'
    >>> translate(Not(IsNull(("n",))), {"n": "integer"}, 0).sql
    '(NOT ("n" IS NULL))'
    """
    return _translate(f, columns, f"f{index}")


def _translate(f: Filter, columns: Mapping[str, str], param: str) -> Conjunct | None:
    if isinstance(f, Not):
        return _negate(f.child, columns, param)
    column = column_name(getattr(f, "attribute", ()), columns)
    if column is None:
        return None
    ctype, ref = columns[column], quote(column)
    if isinstance(f, IsNull) or (isinstance(f, EqualNullSafe) and f.value is None):
        return Conjunct(f"({ref} IS NULL)")
    if isinstance(f, IsNotNull):
        return Conjunct(f"({ref} IS NOT NULL)")
    if ctype == "list":  # array equality or order: Spark's, not crmql's
        return None
    if isinstance(f, EqualNullSafe):  # a NULL column fails ``c = v`` as it fails ``c <=> v``
        value = _value(f.value, ctype)
        return None if value is _NO else Conjunct(f"({ref} = :{param})", {param: value})
    if type(f) in _COMPARE:
        value = _value(f.value, ctype)
        return None if value is _NO else Conjunct(f"({ref} {_COMPARE[type(f)]} :{param})", {param: value})
    if isinstance(f, In):
        values = [_value(v, ctype) for v in f.value]
        if not values or any(v is _NO or v is None for v in values):
            return None
        return Conjunct(f"({ref} IN :{param})", {param: values})
    if type(f) in _LIKE and ctype == "string" and isinstance(f.value, str):
        wild = "%" in f.value or "_" in f.value
        return Conjunct(f"({ref} LIKE :{param})", {param: _LIKE[type(f)].format(f.value)}, superset=wild)
    return None


def _negate(child: Filter, columns: Mapping[str, str], param: str) -> Conjunct | None:
    """``Not(child)``: exact only, since the negation of a superset is a subset."""
    if isinstance(child, EqualNullSafe) and child.value is not None:
        column = column_name(child.attribute, columns)
        if column is None or columns[column] == "list":
            return None
        value = _value(child.value, columns[column])
        if value is _NO:
            return None
        ref = quote(column)
        return Conjunct(f"({ref} IS NULL OR {ref} <> :{param})", {param: value})
    inner = _translate(child, columns, param)
    if inner is None or inner.superset:
        return None
    return Conjunct(f"(NOT {inner.sql})", inner.params)


_NO = object()  # a value crmql cannot bind as Spark means it


def _value(v: Any, ctype: str) -> Any:
    """A Spark literal as the parameter crmql binds, or ``_NO`` (a type the column does not hold:
    Spark casts a literal to its column's type, so any other is a case crmql leaves to Spark).

    >>> import datetime as dt, zoneinfo
    >>> _value(dt.datetime(2025, 3, 1, 12, tzinfo=zoneinfo.ZoneInfo("America/New_York")), "timestamp")
    datetime.datetime(2025, 3, 1, 17, 0, tzinfo=datetime.timezone.utc)
    >>> _value(dt.datetime(2025, 3, 1), "timestamp") is _NO, _value(float("nan"), "float") is _NO
    (True, True)
    >>> _value(True, "integer") is _NO, _value(3, "float")
    (True, 3)
    """
    if v is None:
        return None
    if ctype == "string":
        return v if isinstance(v, str) else _NO
    if ctype == "boolean":
        return v if isinstance(v, bool) else _NO
    if ctype == "integer":
        return v if isinstance(v, int) and not isinstance(v, bool) and -(2**63) <= v < 2**63 else _NO
    if ctype == "float":
        ok = isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)
        return v if ok else _NO
    if ctype == "timestamp":
        aware = isinstance(v, dt.datetime) and v.tzinfo is not None and v.utcoffset() is not None
        return v.astimezone(dt.timezone.utc) if aware else _NO
    if ctype == "date":
        return v if isinstance(v, dt.date) and not isinstance(v, dt.datetime) else _NO
    return _NO
