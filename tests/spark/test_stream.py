"""``spark.readStream.format("crmql")``: watermark offsets over a table's cursor, in a real local Spark
against the sandbox over HTTP; records added to the simulator between two triggers are read by the
second, exactly once. The offset arithmetic and the cursor choice are checked without Spark."""

from __future__ import annotations

import datetime as dt
import pickle
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("pyspark")

from pyspark.sql.types import StringType, StructField, StructType, TimestampType  # noqa: E402

from crmql.errors import QueryError  # noqa: E402
from crmql.sandbox import SandboxServer  # noqa: E402
from crmql.surfaces.spark.stream import CrmqlStreamReader, parse_watermark  # noqa: E402

pytestmark = pytest.mark.xdist_group("spark")

UTC = dt.timezone.utc
EVENTS = StructType([StructField("id", StringType()), StructField("created_at", TimestampType()),
                     StructField("updated_at", TimestampType()), StructField("start", TimestampType())])


def _run(spark: Any, checkpoint: Path, **options: str) -> list[list[str]]:
    """One ``availableNow`` run of the stream from its checkpoint: the ids of each micro-batch."""
    batches: list[list[str]] = []

    def collect(frame: Any, batch_id: int) -> None:
        batches.append([row.id for row in frame.select("id").collect()])

    reader = spark.readStream.format("crmql").option("maxPartitions", "1")
    for key, value in options.items():
        reader = reader.option(key, value)
    query = (reader.load("azavista.events").writeStream.foreachBatch(collect)
             .option("checkpointLocation", str(checkpoint)).trigger(availableNow=True).start())
    try:
        assert query.awaitTermination(120), "the availableNow run did not finish"
    finally:
        query.stop()
    assert query.exception() is None
    return batches


def test_records_added_between_two_triggers_are_read_by_the_second(crmql_spark: Any, sandbox_server: SandboxServer,
                                                                   crmql_session: Any, tmp_path: Path) -> None:
    checkpoint = tmp_path / "checkpoint"
    start = "2025-11-01T00:00:00Z"  # the seeded world ends 2025-11-15: a small first window
    existing = sorted(crmql_session.query("SELECT id FROM azavista.events WHERE updated_at >= :t",
                                          {"t": parse_watermark(start)})["id"])
    assert 0 < len(existing) < 200

    first = _run(crmql_spark, checkpoint, lagSeconds="0", startingWatermark=start)
    assert sorted(i for batch in first for i in batch) == existing

    added = sandbox_server.state.vendor("azavista").add_events(3, event_type="sales")
    second = _run(crmql_spark, checkpoint, lagSeconds="0", startingWatermark=start)
    assert sorted(i for batch in second for i in batch) == sorted(e["id"] for e in added)



def test_offsets_are_watermarks_behind_the_clock_by_the_lag() -> None:
    reader = CrmqlStreamReader({"path": "azavista.events", "lagSeconds": "30",
                                "startingWatermark": "2025-11-01"}, EVENTS)
    assert reader.initialOffset() == {"watermark": "2025-11-01T00:00:00.000000Z"}
    before = dt.datetime.now(UTC)
    end = parse_watermark(reader.latestOffset({"watermark": "2025-11-01T00:00:00.000000Z"}, None)["watermark"])
    assert before - dt.timedelta(seconds=30) <= end <= dt.datetime.now(UTC) - dt.timedelta(seconds=30)
    future = {"watermark": "2999-01-01T00:00:00.000000Z"}
    assert reader.latestOffset(future, None) == future  # never before its start
    old = reader.latestOffset()  # Spark 4.1's signature: never before the last one
    assert parse_watermark(reader.latestOffset()["watermark"]) >= parse_watermark(old["watermark"])
    assert reader.partitions(future, future) == [] and reader.partitions(future, old) == []


def test_the_cursor_is_named_or_found_and_a_bad_one_is_a_clear_error() -> None:
    assert CrmqlStreamReader({"path": "azavista.events"}, EVENTS).cursor == "updated_at"
    assert CrmqlStreamReader({"path": "azavista.events", "cursor": "created_at"}, EVENTS).cursor == "created_at"
    two = StructType(EVENTS.fields + [StructField("modifiedAt", TimestampType())])
    with pytest.raises(QueryError) as err:
        CrmqlStreamReader({"path": "azavista.events"}, two)
    assert "several columns look like one (updated_at, modifiedAt)" in str(err.value)
    assert "created_at, updated_at, start, modifiedAt" in str(err.value.hint)
    with pytest.raises(QueryError, match="'id' is a string column, not a timestamp"):
        CrmqlStreamReader({"path": "azavista.events", "cursor": "id"}, EVENTS)
    with pytest.raises(QueryError, match="reads a table, not a query"):
        CrmqlStreamReader({"query": "SELECT * FROM azavista.events"}, EVENTS)
    with pytest.raises(QueryError, match="lagSeconds must be a number of seconds >= 0"):
        CrmqlStreamReader({"path": "azavista.events", "lagSeconds": "soon"}, EVENTS)


def _read_all(reader: CrmqlStreamReader, start: dict[str, str], end: dict[str, str]) -> list[dict[str, Any]]:
    """Plan a window as Spark's driver does and read each partition as an executor does (pickled)."""
    parts = pickle.loads(pickle.dumps(reader.partitions(start, end)))
    executor = pickle.loads(pickle.dumps(reader))
    return [row for part in parts for batch in executor.read(part) for row in batch.to_pylist()]


def test_a_window_is_read_without_spark_and_a_since_cursor_has_no_upper_bound(crmql_config: Path) -> None:
    from crmql.api.partitions import SessionSpec, result_schema
    from crmql.surfaces.spark.types import spark_schema

    config = str(crmql_config)
    spec = SessionSpec.for_config(config)
    with spec.open() as session:
        contacts = spark_schema(result_schema(session, "SELECT * FROM casavi.contacts"))
        since = session.query("SELECT id FROM casavi.contacts WHERE modifiedAfter = TIMESTAMP '2026-11-01'")
        window = session.query("SELECT id FROM azavista.events WHERE updated_at >= TIMESTAMP '2025-11-01' "
                               "AND updated_at < TIMESTAMP '2025-11-08'")
    reader = CrmqlStreamReader({"path": "casavi.contacts", "config": config, "startingWatermark": "2026-11-01"},
                               contacts, spec=spec)
    assert reader.cursor == "modifiedAfter"  # casavi's filter-only "changed since" parameter
    try:
        start = reader.initialOffset()
        rows = _read_all(reader, start, reader.latestOffset(start, None))
    finally:
        reader.stop()
    assert len(since) > 0 and sorted(r["id"] for r in rows) == sorted(since["id"])

    events = CrmqlStreamReader({"path": "azavista.events", "config": config}, EVENTS)
    try:
        rows = _read_all(events, {"watermark": "2025-11-01T00:00:00Z"}, {"watermark": "2025-11-08T00:00:00Z"})
    finally:
        events.stop()
    assert len(window) > 0 and sorted(r["id"] for r in rows) == sorted(window["id"])
