"""Spark Structured Streaming from a crmql table: offsets are watermarks of an incremental cursor.

::

    crmql.spark.register(spark)
    (spark.readStream.format("crmql").option("config", "crmql.toml")
        .option("lagSeconds", 60).load("azavista.events")
        .writeStream.format("delta").option("checkpointLocation", "...").trigger(processingTime="5 minutes")
        .toTable("lake.azavista_events"))

**Offsets.** An offset is ``{"watermark": "<ISO-8601 instant, UTC, microseconds>"}``. A new query
starts at ``startingWatermark`` (an ISO date or instant; no offset = UTC) or 1970-01-01 (the whole
table first); a restarted one at its checkpoint. Each trigger ends at ``now - lagSeconds`` (the
driver's clock, default 60 s; never before the start), and reads the window ``[start, end)``::

    SELECT * FROM conn.table WHERE <cursor> >= :crmql_lo AND <cursor> < :crmql_hi

planned by :func:`crmql.api.partitions.plan_partitions` (so the window is pushed to the vendor as far
as crmql pushes it, re-checked locally, and split into partitions read in parallel within the
connection's concurrency cap, as a batch read is), each partition read on an executor with
:func:`~crmql.api.partitions.read_partition` through its own crmql client. Azavista, for one, takes
the window as ``{"updated_at": {"after": lo - 1 s}}`` and ``{"before": hi}`` (microseconds kept):
whether its after/before include their bound is undocumented (vendor-notes ambiguity 7), so the
request asks for at most one second more than the window under either reading and crmql trims it.

**The cursor.** Option ``cursor``; else the table's one TIMESTAMP column named like ``updated_at``
(``updatedAt``, ``updated_date``, ``modified_at``, ``modifiedAt``, ``last_modified``, ``modifiedAfter``,
...: case and underscores ignored). None or several: an error listing the table's timestamp columns,
with a hint. A cursor named ``...After`` or ``...Since`` is a vendor's "changed since" request
parameter, not a time each row carries (casavi Manager's ``modifiedAfter``, a filter-only column: its
records have no modification time): its window is ``WHERE <cursor> = :crmql_lo`` (rows changed after
the start, by the vendor's own definition), with no upper bound to send, so a row changed after the
window's end is read in this window and again in the next (at least once, never lost; under either
reading of the vendor's bound, since each request reaches past the previous window's end).

**What a user must know** (the semantics of a watermark over a vendor's ``updated_at``):

* A row updated twice is read twice (once per window its ``updated_at`` fell in): the stream is a
  change log keyed by the table's id, so write it with an upsert (Delta ``MERGE``, ``foreachBatch``).
* A row whose cursor is older than the window when it becomes visible at the vendor (a vendor that
  stamps a record before committing it, a clock skewed from the driver's, a replica lagging) is
  missed: the lag is the knob. The default 60 s covers a request's latency and ordinary skew; raise
  it for a vendor that indexes slowly.
* A row deleted at the vendor is never seen (a watermark sees only rows that still exist).
* Where the vendor pages by offset (Azavista, Voyzu), a row of the window updated again while the
  window's pages are read leaves the window (its new time is later), and every row after it moves
  up one place: the row that crosses a page boundary then is on no page read. The vendors offer no
  stable cursor to prevent it; short windows (frequent triggers: fewer pages) make it rare, and a
  periodic batch read of the table reconciles.
* The watermark moves with the clock, so every trigger runs a micro-batch (for most vendors one
  request when nothing changed). Use ``trigger(processingTime=...)`` or ``trigger(availableNow=True)``
  (one batch up to ``now - lag``, then stop: a nightly job); do not wait with
  ``processAllAvailable()``: the source is never "caught up", the next window always exists.
* Spark (4.3) hands a streaming Python source no filters: filter in a later step (a ``.where`` on
  the stream runs in Spark on each window's rows), or give the batch reader a ``query``.

``latestOffset`` has both signatures: Spark 4.1's ``latestOffset()`` and 4.2+'s ``latestOffset(start,
limit)`` (admission control; crmql sets no read limit, so every trigger reads all of its window).
``commit`` has nothing to do: the offsets live in Spark's checkpoint and the vendor keeps no cursor;
``stop`` closes the driver's planning session (its HTTP clients); each task's client is closed when
its partition is read.

>>> from pyspark.sql.types import StructType, StructField, StringType, TimestampType
>>> schema = StructType([StructField("id", StringType()), StructField("created_at", TimestampType()),
...                      StructField("updated_at", TimestampType())])
>>> reader = CrmqlStreamReader({"path": "azavista.events", "lagSeconds": "0"}, schema)
>>> reader.cursor, reader.initialOffset()
('updated_at', {'watermark': '1970-01-01T00:00:00.000000Z'})
>>> print(reader.window_sql)
SELECT * FROM "azavista"."events" WHERE "updated_at" >= :crmql_lo AND "updated_at" < :crmql_hi
>>> reader.partitions({"watermark": "2026-01-01T00:00:00Z"}, {"watermark": "2026-01-01T00:00:00Z"})
[]
"""

from __future__ import annotations

import datetime as dt
import logging
import re
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

import pyarrow as pa
from pyspark.sql.datasource import DataSourceStreamReader, InputPartition
from pyspark.sql.types import StructType, TimestampNTZType, TimestampType

from ...api.partitions import ScanPartition, SessionSpec, plan_partitions, read_partition
from ...errors import QueryError
from .filters import quote
from .options import parse_options
from .types import arrow_target, to_spark_batch

__all__ = ["CrmqlStreamReader", "StreamPartition", "cursor_column", "format_watermark", "is_since", "parse_watermark"]

logger = logging.getLogger(__name__)

UTC = dt.timezone.utc
EPOCH = dt.datetime(1970, 1, 1, tzinfo=UTC)
#: seconds between the newest watermark and the driver's clock, unless ``lagSeconds`` says otherwise
DEFAULT_LAG_S = 60.0
#: cursor names recognised without the ``cursor`` option (lowercased, underscores and dashes removed)
CURSOR_NAMES = frozenset({"updatedat", "updateddate", "updatedon", "modifiedat", "modifieddate", "modifiedon",
                          "lastmodified", "lastmodifiedat", "lastmodifieddate", "lastupdated", "lastupdatedat",
                          "modifiedafter", "updatedafter", "changedafter", "modifiedsince", "updatedsince",
                          "changedsince"})


def _normal(name: str) -> str:
    return re.sub(r"[_\-\s]", "", name.lower())


def is_since(cursor: str) -> bool:
    """Whether ``cursor`` is a vendor's "changed since" request parameter (named ``...After`` or
    ``...Since``, e.g. casavi's ``modifiedAfter``), not a column holding each row's time.

    >>> is_since("modifiedAfter"), is_since("updated_at")
    (True, False)
    """
    return _normal(cursor).endswith(("after", "since"))


def format_watermark(moment: dt.datetime) -> str:
    """The offset text of an instant: UTC, microseconds, ``Z`` (always the same spelling, so Spark's
    comparison of offsets as JSON is a comparison of instants).

    >>> format_watermark(dt.datetime(2026, 12, 3, 23, 0, tzinfo=dt.timezone(dt.timedelta(hours=1))))
    '2026-12-03T22:00:00.000000Z'
    """
    return moment.astimezone(UTC).isoformat(timespec="microseconds").replace("+00:00", "Z")


def parse_watermark(text: Any, what: str = "watermark") -> dt.datetime:
    """An ISO-8601 date or instant (no offset: UTC) as an aware datetime; a QueryError otherwise.

    >>> parse_watermark("2025-11-01"), parse_watermark("2025-11-01T10:00:00+02:00")
    (datetime.datetime(2025, 11, 1, 0, 0, tzinfo=datetime.timezone.utc), datetime.datetime(2025, 11, 1, 8, 0, tzinfo=datetime.timezone.utc))
    >>> parse_watermark("yesterday", "startingWatermark")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    crmql.errors.QueryError: startingWatermark 'yesterday' is not an ISO-8601 date or time...
    """
    try:
        moment = dt.datetime.fromisoformat(str(text).strip())
    except ValueError:
        raise QueryError(f"{what} {str(text)!r} is not an ISO-8601 date or time",
                          hint="e.g. 2025-11-01 or 2025-11-01T08:00:00Z (no offset: UTC)") from None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def _seconds(text: str | None) -> float:
    """``lagSeconds``: a number of seconds >= 0 (default :data:`DEFAULT_LAG_S`).

    >>> _seconds(None), _seconds("2.5")
    (60.0, 2.5)
    >>> _seconds("-1")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    crmql.errors.QueryError: option lagSeconds must be a number of seconds >= 0, not '-1'...
    """
    if text is None or not text.strip():
        return DEFAULT_LAG_S
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not 0 <= value < float("inf"):
        raise QueryError(f"option lagSeconds must be a number of seconds >= 0, not '{text}'",
                         hint='e.g. .option("lagSeconds", 60): how far behind the clock each window ends')
    return value


def cursor_column(schema: StructType, given: str | None = None) -> str:
    """The stream's cursor: ``given`` (a timestamp column of ``schema``), else the one timestamp
    column named like ``updated_at``; a QueryError listing the timestamp columns otherwise.

    >>> from pyspark.sql.types import StructField, StringType
    >>> s = StructType([StructField("id", StringType()), StructField("modifiedAt", TimestampType())])
    >>> cursor_column(s)
    'modifiedAt'
    >>> cursor_column(s, "id")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    crmql.errors.QueryError: the stream's cursor 'id' is a string column, not a timestamp...
    """
    times = [f.name for f in schema.fields if isinstance(f.dataType, (TimestampType, TimestampNTZType))]
    listed = ", ".join(times) or "none"
    if given is not None:
        by_name = {f.name: f for f in schema.fields}
        match = by_name.get(given) or next((f for f in schema.fields if f.name.lower() == given.lower()), None)
        if match is None:
            raise QueryError(f"the stream's cursor {given!r} is not a column of the table",
                             hint=f"its timestamp columns: {listed}")
        if match.name not in times:
            raise QueryError(f"the stream's cursor {given!r} is a {match.dataType.simpleString()} column, not a "
                             "timestamp", hint=f"pick a timestamp column with .option('cursor', ...): {listed}")
        return match.name
    named = [name for name in times if _normal(name) in CURSOR_NAMES]
    if len(named) == 1:
        return named[0]
    found = f"several columns look like one ({', '.join(named)})" if named else "no column is named like updated_at"
    raise QueryError(f"the stream needs a cursor column (when each row was last changed): {found}",
                     hint=f"name it with .option('cursor', ...); the table's timestamp columns: {listed}")


class StreamPartition(InputPartition):
    """One task of a micro-batch: how to open a session, and the engine's slice of the window."""

    def __init__(self, spec: SessionSpec, part: ScanPartition) -> None:
        super().__init__(part.index)
        self.spec = spec
        self.part = part

    def __repr__(self) -> str:
        return f"StreamPartition({self.part.label or self.part.index})"


class CrmqlStreamReader(DataSourceStreamReader):
    """The streaming reader of ``spark.readStream.format("crmql").load("conn.table")`` (see the
    module docstring). ``options``: the data source's; ``schema``: the table's (Spark types);
    ``spec``: the data source's session spec (None: from the ``config`` option, on the first window).

    Made on the driver (offsets, partitions) and pickled to the executors (``read``): it holds plain
    values only until :meth:`partitions` opens the driver's planning session.
    """

    def __init__(self, options: Mapping[str, str], schema: StructType, spec: SessionSpec | None = None) -> None:
        opts = parse_options(options)  # the batch source's checks: unknown options, the path, maxPartitions
        if opts.table is None:
            raise QueryError("a crmql stream reads a table, not a query",
                             hint="spark.readStream.format('crmql').load('conn.table'), then filter and select "
                                  "in Spark; the query option is for spark.read (batch)")
        self.table = ".".join(opts.table)
        self.schema = schema
        self.cursor = cursor_column(schema, opts.stream.get("cursor"))
        self.lag = dt.timedelta(seconds=_seconds(opts.stream.get("lagSeconds")))
        starting = opts.stream.get("startingWatermark", "").strip()
        self.start = parse_watermark(starting, "startingWatermark") if starting else EPOCH
        self.max_partitions, self.window, self.config = opts.max_partitions, opts.window, opts.config
        column = quote(self.cursor)
        if is_since(self.cursor):  # rows changed after the start, up to the request: no upper bound to send
            self.window_sql = f"{opts.sql} WHERE {column} = :crmql_lo"
        else:
            self.window_sql = f"{opts.sql} WHERE {column} >= :crmql_lo AND {column} < :crmql_hi"
        self._target: pa.Schema = arrow_target(schema)
        self._latest = self.start
        self._spec = spec  # the data source's (None: from the config option, on first use)
        self._session: Any = None

    def __getstate__(self) -> dict[str, Any]:
        state = dict(self.__dict__)
        state["_session"] = None  # the driver's open session stays on the driver
        return state

    # ------------------------------------------------------------------ offsets (driver)
    def initialOffset(self) -> dict[str, str]:
        """``startingWatermark``, or 1970-01-01: the table from its beginning."""
        return {"watermark": format_watermark(self.start)}

    def latestOffset(self, start: dict[str, str] | None = None, limit: Any = None) -> dict[str, str]:
        """``now - lagSeconds``, never before ``start`` (nor, under Spark 4.1's ``latestOffset()``,
        before the last one returned). ``limit``: crmql sets none; every window is read whole."""
        end = dt.datetime.now(UTC) - self.lag
        if start is not None:
            end = max(end, parse_watermark(start.get("watermark"), "the start offset"))
        else:
            end = self._latest = max(end, self._latest)
        return {"watermark": format_watermark(end)}

    def partitions(self, start: dict[str, str], end: dict[str, str]) -> Sequence[InputPartition]:
        """The window ``[start, end)`` planned by the engine (none when it is empty)."""
        low = parse_watermark(start.get("watermark"), "the start offset")
        high = parse_watermark(end.get("watermark"), "the end offset")
        if high <= low:
            return []
        if self._session is None:
            if self._spec is None:
                self._spec = SessionSpec.for_config(self.config)
            self._session = self._spec.open()
        assert self._spec is not None
        params = {"crmql_lo": low} if ":crmql_hi" not in self.window_sql else {"crmql_lo": low, "crmql_hi": high}
        planned = plan_partitions(self._session, self.window_sql, params,
                                  max_partitions=self.max_partitions, window=self.window)
        logger.info("crmql stream %s: window %s .. %s in %d partition(s)", self.table, format_watermark(low),
                    format_watermark(high), len(planned.partitions))
        return [StreamPartition(self._spec, part) for part in planned.partitions]

    # ------------------------------------------------------------------ reading (executors)
    def read(self, partition: InputPartition) -> Iterator[pa.RecordBatch]:
        """The partition's rows as Arrow batches of the stream's schema, through a client of its own."""
        assert isinstance(partition, StreamPartition)
        session = partition.spec.open(concurrency=partition.part.concurrency)
        try:
            for batch in read_partition(session, partition.part):
                yield to_spark_batch(batch, self._target)
        finally:
            session.close()

    def commit(self, end: dict[str, str]) -> None:
        """Nothing to do: the offsets are in Spark's checkpoint; the vendor keeps no cursor."""

    def stop(self) -> None:
        """Close the driver's planning session (if one was opened)."""
        session, self._session = self._session, None
        if session is not None:
            session.close()
