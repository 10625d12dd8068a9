"""``spark.read.format("crmql")`` in a real Spark (local[2], one JVM for the run) over the module's
sandbox: the schema per vendor, results equal to crmql's own for the table path with Spark filters
and for a query option (join, GROUP BY), several partitions within the connection's cap (the
sandbox's concurrency meter), a timestamp filter under a non-UTC session time zone, and errors
(a failing vendor request, a wrong option) reaching the driver as crmql's messages.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest

from cli_support import write_config_file
from crmql.api.config import load_config
from crmql.api.partitions import result_schema
from crmql.surfaces.spark.types import spark_schema

from .conftest import read

pytestmark = pytest.mark.xdist_group("spark")

EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.timezone.utc)


def micros(value: Any) -> int | None:
    """A timestamp as microseconds since the epoch (None for NULL/NaT)."""
    if value is None or value != value:
        return None
    value = value.to_pydatetime() if hasattr(value, "to_pydatetime") else value
    return (value - EPOCH) // dt.timedelta(microseconds=1)


#: (table, Spark filter, the same in crmql, a timestamp column to compare exactly)
TABLE_CASES = [
    ("azavista.events", "event_type = 'sales' AND start >= '2025-03-01' AND name LIKE '%o%'",
     "event_type = 'sales' AND start >= TIMESTAMP '2025-03-01' AND name LIKE '%o%'", "start"),
    ("atlas.sales", "`sale-status` IN ('won', 'lost') AND `sale-balance` >= 500",
     "\"sale-status\" IN ('won', 'lost') AND \"sale-balance\" >= 500", "sale-created"),
    ("casavi.contacts", "isRegistered = false AND city = 'München'", "isRegistered = FALSE AND city = 'München'",
     None),
    ("casavi_community.tickets", "community_id IN (12, 15, 18) AND status = 'OPEN'",
     "community_id IN (12, 15, 18) AND status = 'OPEN'", "created_at"),
    ("voyzu.contacts", "last_name = 'Lewis' AND NOT unsubscribed", "last_name = 'Lewis' AND unsubscribed = FALSE",
     "updated_date"),
]


@pytest.mark.parametrize("table,spark_where,crmql_where,ts", TABLE_CASES, ids=[c[0] for c in TABLE_CASES])
def test_table_schema_and_spark_filters_equal_crmql(crmql_spark: Any, crmql_session: Any, table: str, spark_where: str,
                                               crmql_where: str, ts: str | None) -> None:
    from pyspark.sql import functions as F

    table_df = read(crmql_spark, table)
    assert table_df.schema == spark_schema(result_schema(crmql_session, f"SELECT * FROM {table}"))  # crmql's types
    types = {f.dataType.typeName() for f in table_df.schema.fields}
    assert {"timestamp", "string"} <= types and ("array" in types) == (table in ("atlas.sales", "voyzu.contacts"))
    df = table_df.filter(spark_where)
    cols = [F.col("id").cast("string").alias("id")] + ([F.unix_micros(F.col(f"`{ts}`")).alias("ts")] if ts else [])
    got = sorted((r["id"], r["ts"] if ts else None) for r in df.select(*cols).collect())
    want_frame = crmql_session.query(f"SELECT * FROM {table} WHERE {crmql_where}")
    want = sorted((str(r["id"]), micros(r[ts]) if ts else None) for r in want_frame.to_dict("records"))
    assert got and got == want
    if table == "azavista.events":  # Spark's own Filter keeps what crmql pushes as a superset, not the exact one
        spark_filter = next(line for line in df._jdf.queryExecution().executedPlan().toString().splitlines()
                            if "Filter" in line)
        assert "start" in spark_filter and "name" in spark_filter and "= sales" not in spark_filter, spark_filter


def test_query_option_join_and_group_by_equal_crmql(crmql_spark: Any, crmql_session: Any) -> None:
    join = ("SELECT c.id, c.email, o.name AS organization FROM azavista.contacts c "
            "JOIN azavista.organizations o ON o.id = c.organization_id WHERE c.city = 'Berlin'")
    got = sorted(tuple(r) for r in read(crmql_spark, query=join).collect())
    want = sorted(tuple(r) for r in crmql_session.query(join).itertuples(index=False))
    assert got and got == want
    group = ("SELECT community_id, status, COUNT(*) AS n, SUM(identifier) AS s FROM casavi_community.tickets "
             "WHERE community_id IN (1, 2, 3, 5) GROUP BY community_id, status")
    df = read(crmql_spark, query=group)
    assert df.rdd.getNumPartitions() == 1  # crmql runs the GROUP BY: one partition
    assert sorted(tuple(r) for r in df.collect()) == \
        sorted(tuple(r) for r in crmql_session.query(group).itertuples(index=False))


def test_large_scan_in_partitions_within_the_connections_cap(crmql_spark: Any, crmql_session: Any, sandbox: Any,
                                                             tmp_path: Path) -> None:
    cap = 2
    config = write_config_file(tmp_path / "crmql.toml", sandbox.url, concurrency=cap)
    config.chmod(0o600)
    df = read(crmql_spark, "azavista.events", config=str(config), maxPartitions=8)  # more than the cap asks
    assert df.rdd.getNumPartitions() == cap
    sandbox.settings.latency_ms = 20  # requests overlap where they can
    sandbox.reset_log()
    n = df.count()
    assert n == int(crmql_session.query("SELECT COUNT(*) AS n FROM azavista.events")["n"][0])
    searches = [e for e in sandbox.request_log if e[1].endswith("/event/search")]
    assert len(searches) >= n // 50  # every page read once by one of the partitions
    peak = sandbox.concurrency("azavista")["peak"]
    assert 1 <= peak <= cap, f"the vendor saw {peak} requests at once, the cap is {cap}"


def test_timestamp_filter_in_a_non_utc_session_time_zone(crmql_spark: Any, crmql_session: Any) -> None:
    from zoneinfo import ZoneInfo

    starts = sorted(crmql_session.query("SELECT start FROM azavista.events WHERE event_type = 'sales' "
                                        "AND start IS NOT NULL")["start"])
    # a start with another one less than 5 hours before it: read as UTC, the local time would take both
    bound = next(b for a, b in zip(starts, starts[1:]) if dt.timedelta(0) < b - a < dt.timedelta(hours=5))
    local = bound.to_pydatetime().astimezone(ZoneInfo("America/New_York")).strftime("%Y-%m-%d %H:%M:%S")
    before = crmql_spark.conf.get("spark.sql.session.timeZone")
    crmql_spark.conf.set("spark.sql.session.timeZone", "America/New_York")
    try:
        df = read(crmql_spark, "azavista.events").filter(f"event_type = 'sales' AND start >= timestamp'{local}'")
        got = sorted(r["id"] for r in df.select("id").collect())
    finally:
        crmql_spark.conf.set("spark.sql.session.timeZone", before)
    want = crmql_session.query("SELECT id FROM azavista.events WHERE event_type = 'sales' AND start >= :t",
                               {"t": bound.to_pydatetime()})
    assert got == sorted(want["id"])
    assert len(got) < sum(1 for s in starts if s >= bound - dt.timedelta(hours=5))  # the 5 h matter


def test_a_failing_vendor_request_fails_the_job_with_crmqls_error(crmql_spark: Any, sandbox: Any, tmp_path: Path) -> None:
    config = write_config_file(tmp_path / "crmql.toml", sandbox.url, max_attempts=1)
    config.chmod(0o600)
    df = read(crmql_spark, query="SELECT id, name FROM azavista.events ORDER BY start", config=str(config))
    sandbox.settings.faults = "500=1"  # every counted request, after planning (the whole query: no probe)
    with pytest.raises(Exception) as caught:
        df.collect()
    text = str(caught.value)
    assert "(azavista.events)" in text and "HTTP 500" in text, text
    assert "; request: POST http://127.0.0.1:" in text and "/azavista/3.0/event/search" in text, text
    assert "partition azavista.events (whole statement)" in text
    secret = load_config(config).connections["azavista"].settings["client_secret"]
    assert secret and secret not in text


def test_a_wrong_option_is_one_clear_error(crmql_spark: Any) -> None:
    with pytest.raises(Exception) as caught:
        read(crmql_spark, "azavista.events", maxPartition=3)
    assert "unknown option 'maxpartition'" in str(caught.value) and "did you mean maxPartitions?" in str(caught.value)


def test_without_spark_filter_pushdown_the_read_still_works(crmql_spark: Any, crmql_config: Path,
                                                            crmql_session: Any) -> None:
    import crmql.spark

    setting = "spark.sql.python.filterPushdown.enabled"
    crmql_spark.conf.set(setting, "false")
    try:  # a reader with its own pushFilters would be refused by Spark (DATA_SOURCE_PUSHDOWN_DISABLED)
        crmql.spark.register(crmql_spark, config=crmql_config)
        got = read(crmql_spark, "azavista.events").filter("event_type = 'sales'").count()
    finally:
        crmql_spark.conf.set(setting, "true")
        crmql.spark.register(crmql_spark, config=crmql_config)
    assert got == len(crmql_session.query("SELECT id FROM azavista.events WHERE event_type = 'sales'"))
