"""The options of ``spark.read.format("crmql")``, checked and typed.

Spark hands a data source its options in a case-insensitive dict whose keys it has lowercased
(``.option("maxPartitions", 4)`` arrives as ``maxpartitions``); the path of ``.load(path)`` is the
option ``path``. Values are text. The options:

==================  =============================================================================
``query``           a crmql SELECT (crmql plans joins, GROUP BY, ...); or ``.load("conn.table")``
``config``          the config file's path (default: the one :func:`crmql.connect` would use); its
                    ``${ENV}`` references are resolved on each executor, never shipped
``maxPartitions``   at most this many partitions (never more than the connection's concurrency)
``partitionColumn`` with ``lowerBound``, ``upperBound``, ``numPartitions``: one partition per range
                    of the column, as Spark's JDBC source (the bounds pick the stride, filter nothing)
``cursor``, ``lagSeconds``, ``startingWatermark``: ``spark.readStream`` only
==================  =============================================================================

>>> o = parse_options({"path": "azavista.events", "maxpartitions": "4"})
>>> o.sql, o.table, o.max_partitions
('SELECT * FROM "azavista"."events"', ('azavista', 'events'), 4)
>>> parse_options({"path": "azavista.events", "maxpartition": "4"})
Traceback (most recent call last):
crmql.errors.QueryError: unknown option 'maxpartition' of spark.read.format("crmql")
  hint: did you mean maxPartitions?
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from dataclasses import dataclass, field

from ...api.partitions import Window
from ...errors import QueryError, did_you_mean
from .filters import quote

__all__ = ["OPTIONS", "STREAM_OPTIONS", "ReadOptions", "parse_bound", "parse_options"]

#: every option, as documented (Spark lowercases the keys it passes)
OPTIONS = ("query", "path", "config", "maxPartitions", "partitionColumn", "lowerBound", "upperBound",
           "numPartitions", "cursor", "lagSeconds", "startingWatermark")
STREAM_OPTIONS = ("cursor", "lagSeconds", "startingWatermark")
_WINDOW = ("partitionColumn", "lowerBound", "upperBound", "numPartitions")
_CANON = {name.lower(): name for name in OPTIONS}
_SOURCE = 'spark.read.format("crmql")'
_PATH_HINT = 'load("connection.table"), e.g. load("azavista.events"), or .option("query", "SELECT ... FROM ...")'


@dataclass(frozen=True)
class ReadOptions:
    """The options of one read: ``sql`` is the query, or ``SELECT * FROM "conn"."table"`` for a path."""

    sql: str
    table: tuple[str, str] | None = None
    config: str | None = None
    max_partitions: int | None = None
    window: Window | None = None
    stream: dict[str, str] = field(default_factory=dict)


def parse_options(options: Mapping[str, str]) -> ReadOptions:
    """Check ``options`` (any case) and type them: one clear error for anything wrong.

    >>> parse_options({"query": "SELECT 1 FROM a.b", "path": "a.b"})
    Traceback (most recent call last):
    crmql.errors.QueryError: spark.read.format("crmql") takes either the option query or a path to load, not both
      hint: load("connection.table"), e.g. load("azavista.events"), or .option("query", "SELECT ... FROM ...")
    """
    given: dict[str, str] = {}
    for key, value in options.items():
        canon = _CANON.get(str(key).lower())
        if canon is None:
            hint = did_you_mean(str(key), OPTIONS, n=1) or f"the options are: {', '.join(OPTIONS)}"
            raise QueryError(f"unknown option '{key}' of {_SOURCE}", hint=hint)
        given[canon] = "" if value is None else str(value)
    query, path = given.get("query", "").strip(), given.get("path", "").strip()
    if query and path:
        raise QueryError(f"{_SOURCE} takes either the option query or a path to load, not both", hint=_PATH_HINT)
    if not query and not path:
        raise QueryError(f"{_SOURCE} needs the option query or a path to load", hint=_PATH_HINT)
    table = _table(path) if path else None
    sql = query or f"SELECT * FROM {quote(table[0])}.{quote(table[1])}"  # type: ignore[index]
    max_partitions = _count(given, "maxPartitions")
    return ReadOptions(sql, table, given.get("config") or None, max_partitions, _window(given),
                       {k: given[k] for k in STREAM_OPTIONS if k in given})


def _table(path: str) -> tuple[str, str]:
    parts = path.split(".")
    if len(parts) != 2 or not all(p.strip() for p in parts):
        raise QueryError(f"cannot load '{path}': a crmql table is connection.table", hint=_PATH_HINT)
    return parts[0].strip(), parts[1].strip()


def _count(given: Mapping[str, str], name: str) -> int | None:
    text = given.get(name)
    if text is None or text.strip() == "":
        return None
    try:
        n = int(text.strip())
    except ValueError:
        n = 0
    if n < 1:
        raise QueryError(f"option {name} must be a whole number of at least 1, not '{text}'",
                         hint=f'e.g. .option("{name}", 4)')
    return n


def _window(given: Mapping[str, str]) -> Window | None:
    present = [k for k in _WINDOW if given.get(k, "").strip()]
    if not present:
        return None
    missing = [k for k in _WINDOW if k not in present]
    if missing:
        raise QueryError(f"option{'s' if len(missing) > 1 else ''} {', '.join(missing)} missing: "
                         f"{', '.join(_WINDOW)} go together (as in Spark's JDBC source)",
                         hint="or give maxPartitions alone to cap the partitions crmql plans")
    column = given["partitionColumn"].strip()  # a plain name is quoted part by part (sale-balance, e.start)
    lower, upper = parse_bound(given["lowerBound"], "lowerBound"), parse_bound(given["upperBound"], "upperBound")
    return Window(column, lower, upper, _count(given, "numPartitions") or 1)


def parse_bound(text: str, name: str = "bound") -> int | float | dt.date | dt.datetime:
    """A window bound: a whole number, a number, a date (``YYYY-MM-DD``) or a timestamp (ISO 8601;
    no offset means UTC, as crmql's ``TIMESTAMP '...'``).

    >>> parse_bound("10"), parse_bound("2.5"), parse_bound("2025-03-01"), parse_bound("2025-03-01 12:00")
    (10, 2.5, datetime.date(2025, 3, 1), datetime.datetime(2025, 3, 1, 12, 0, tzinfo=datetime.timezone.utc))
    """
    t = text.strip()
    for parse in (int, float):
        try:
            return parse(t)
        except ValueError:
            pass
    try:
        if re.fullmatch(r"\d{4}-\d{2}-\d{2}", t):
            return dt.date.fromisoformat(t)
        value = dt.datetime.fromisoformat(t.replace("Z", "+00:00"))
        return value if value.tzinfo is not None else value.replace(tzinfo=dt.timezone.utc)
    except ValueError:
        raise QueryError(f"option {name} '{text}' is not a number, a date or a timestamp",
                         hint="e.g. 0, 2.5, 2025-03-01 or 2025-03-01T12:00:00Z") from None
