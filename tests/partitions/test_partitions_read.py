"""Partitioned reads against the sandbox over real HTTP: for every vendor the union of the partitions
(each read on its own executor session, as a Spark or Dask task would) is exactly the query's
result; the kinds of slices (rows, keys, split-OR requests, windows) and that none loses or repeats
a row."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import pyarrow as pa
import pytest

from crmql.api.config import sandbox_config
from crmql.api.partitions import SessionSpec, Window, plan_partitions, read_partition
from crmql.api.session import Session
from crmql.errors import QueryError, VendorHTTPError
from crmql.sandbox import SandboxServer

from .partition_support import keys, kinds, read_all, read_one, rows


@pytest.fixture(scope="module")
def spec(sandbox_server: SandboxServer) -> SessionSpec:
    return SessionSpec(config_path=None, sandbox_url=sandbox_server.url)


@pytest.fixture(scope="module")
def driver(sandbox_server: SandboxServer) -> Iterator[Session]:
    session = Session(sandbox_config(sandbox_server.url))
    yield session
    session.close()


#: one query per vendor (read in at most 2 partitions: each partition opens a session, as a task does)
VENDOR_QUERIES = [
    "SELECT * FROM azavista.events WHERE event_type IN ('sales', 'marketing') AND name LIKE '%a%'",
    "SELECT id, name, employee_count FROM azavista.organizations WHERE employee_count > 100",
    "SELECT * FROM atlas.contacts WHERE \"contact-email\" LIKE '%@gmail.com' OR \"contact-name\" = 'Tom'",
    "SELECT id, lastName, city FROM casavi.contacts WHERE isRegistered = FALSE AND city = 'München'",
    "SELECT * FROM casavi_community.tickets WHERE community_id IN (12, 15, 18)",
    "SELECT id, display_name, emails FROM voyzu.contacts WHERE unsubscribed = FALSE",
]


@pytest.mark.parametrize("sql", VENDOR_QUERIES, ids=lambda q: q.split("FROM ")[1].split()[0])
def test_the_union_of_the_partitions_is_the_query_result(sql: str, spec: SessionSpec, driver: Session,
                                                         sandbox: SandboxServer) -> None:
    query = plan_partitions(driver, sql, max_partitions=2)
    union = read_all(spec, query)
    expected = driver.query(sql)
    assert len(expected) > 0, "the query must select rows for the comparison to mean something"
    assert union.num_rows == len(expected)
    assert rows(union) == rows(expected, query.schema)


def test_a_big_azavista_scan_is_split_into_row_ranges_read_once_each(spec: SessionSpec, driver: Session,
                                                                      sandbox: SandboxServer) -> None:
    sql = "SELECT id, name, start FROM azavista.events"
    query = plan_partitions(driver, sql)
    parts = query.partitions
    assert kinds(parts) == ["rows"] * len(parts) and len(parts) > 1
    assert len(parts) <= query.cap
    assert parts[0].start == 0 and parts[-1].stop is None  # the last range runs to the vendor's end
    assert all(a.stop == b.start for a, b in zip(parts, parts[1:]))  # contiguous, no gap, no overlap
    expected = len(driver.query(sql))
    sandbox.reset_log()
    union = read_all(spec, query)
    ids = keys(union)
    assert len(ids) == len(set(ids)) == expected
    # each page is read once: no partition re-reads another's pages (token requests aside)
    searches = [e for e in sandbox.request_log if "/event/search" in str(e)]
    assert len(searches) <= 2400 // 50 + len(parts), len(searches)


def test_a_casavi_community_fan_out_is_split_by_community(spec: SessionSpec, driver: Session,
                                                         sandbox: SandboxServer) -> None:
    sql = "SELECT id, community_id, status FROM casavi_community.tickets WHERE community_id IN (12, 15, 18)"
    query = plan_partitions(driver, sql, max_partitions=3)
    assert kinds(query.partitions) == ["keys"] * 3
    per_part = [set(keys(read_one(spec, p, query.schema), "community_id")) for p in query.partitions]
    assert per_part == [{12}, {15}, {18}]  # one community each, in the order of the IN list


def test_a_fan_out_of_several_requests_per_key_is_not_split(spec: SessionSpec, driver: Session,
                                                            sandbox: SandboxServer) -> None:
    sql = "SELECT * FROM casavi_community.unread_counts WHERE community_id IN (12, 15)"  # 2 requests per community
    query = plan_partitions(driver, sql)
    assert kinds(query.partitions) == ["whole"]
    assert rows(read_all(spec, query)) == rows(driver.query(sql), query.schema)


def test_a_community_that_does_not_exist_is_no_rows_as_in_the_whole_query(spec: SessionSpec, driver: Session,
                                                                          sandbox: SandboxServer) -> None:
    sql = "SELECT id, community_id FROM casavi_community.tickets WHERE community_id IN (12, 99999)"
    query = plan_partitions(driver, sql, max_partitions=2)
    assert [p.label for p in query.partitions] == ["casavi_community.tickets key 1 of 2",
                                                   "casavi_community.tickets key 2 of 2"]
    union = read_all(spec, query)  # the second partition's only community answers 404: a warning, no rows
    assert rows(union) == rows(driver.query(sql), query.schema)
    # every key of the first partition missing still fails (a path that is not the vendor's does too)
    first = plan_partitions(driver, sql.replace("(12, 99999)", "(99999, 12)"), max_partitions=2).partitions[0]
    with pytest.raises(VendorHTTPError, match="404 for every community"):
        read_one(spec, first, query.schema)


def test_a_get_by_id_in_list_is_split_into_key_ranges(spec: SessionSpec, driver: Session,
                                                      sandbox: SandboxServer) -> None:
    wanted = keys(pa.Table.from_pandas(driver.query("SELECT id FROM azavista.events LIMIT 5")))
    listed = ", ".join(f"'{i}'" for i in wanted)
    sql = f"SELECT id, name FROM azavista.events WHERE id IN ({listed})"
    query = plan_partitions(driver, sql, max_partitions=2)
    assert kinds(query.partitions) == ["keys", "keys"]
    assert [(p.start, p.stop) for p in query.partitions] == [(0, 3), (3, 5)]
    assert sorted(keys(read_all(spec, query))) == sorted(wanted)


@pytest.mark.parametrize(("more", "ranges"), [("", [(0, 1), (1, 2)]),
                                              (" OR \"contact-phone\" LIKE '+49%'", [(0, 2), (2, 3)])])
def test_a_split_or_emits_a_row_two_branches_match_once(more: str, ranges: list[tuple[int, int]], spec: SessionSpec,
                                                        driver: Session, sandbox: SandboxServer) -> None:
    # rows with a gmail address and a name starting with T match both branches: both requests fetch them
    sql = ("SELECT id, \"contact-name\", \"contact-email\" FROM atlas.contacts "
           "WHERE \"contact-email\" LIKE '%@gmail.com' OR \"contact-name\" LIKE 'T%'" + more)
    query = plan_partitions(driver, sql, max_partitions=2)
    assert [(p.kind, p.start, p.stop) for p in query.partitions] == [("requests", a, b) for a, b in ranges]
    union = read_all(spec, query)
    both = [r for r in union.to_pylist() if r["contact-email"] and r["contact-email"].endswith("@gmail.com")
            and r["contact-name"].startswith("T")]
    assert both, "the data must hold rows both branches match"
    ids = keys(union)
    assert len(ids) == len(set(ids))
    assert rows(union) == rows(driver.query(sql), query.schema)


def test_windows_cover_nulls_and_both_open_ends(spec: SessionSpec, driver: Session, sandbox: SandboxServer) -> None:
    sql = "SELECT id, \"sale-balance\" FROM atlas.sales WHERE \"sale-status\" = 'won'"
    query = plan_partitions(driver, sql, window=Window("sale-balance", 1000.0, 4000.0, 3))
    assert kinds(query.partitions) == ["window"] * 3
    assert all(p.fingerprint for p in query.partitions)  # each window's own plan, checked on the executor
    tables = [read_one(spec, p, query.schema) for p in query.partitions]
    parts = [t.column("sale-balance").to_pylist() for t in tables]
    first, middle, last = parts
    assert None in first and any(v < 1000.0 for v in first if v is not None)  # NULLs and below the lower bound
    assert all(v is None or v < 2000.0 for v in first)
    assert all(2000.0 <= v < 3000.0 for v in middle)
    assert all(v >= 3000.0 for v in last) and max(last) > 4000.0  # above the upper bound
    expected = driver.query(sql)
    assert sum(map(len, parts)) == len(expected)
    assert rows(pa.concat_tables(tables)) == rows(expected, query.schema)


def test_windows_of_timestamps_without_a_where(spec: SessionSpec, driver: Session, sandbox: SandboxServer) -> None:
    sql = "SELECT id, created_at FROM azavista.organizations"
    lower, upper = dt.datetime(2020, 1, 1, tzinfo=dt.timezone.utc), dt.datetime(2030, 1, 1, tzinfo=dt.timezone.utc)
    query = plan_partitions(driver, sql, window=Window("created_at", lower, upper, 2))
    assert [p.sql.count("WHERE") for p in query.partitions] == [1, 1]
    union = read_all(spec, query)
    assert sorted(keys(union)) == sorted(driver.query(sql)["id"])


def test_a_partition_is_streamed_pages_are_read_as_batches_are_taken(spec: SessionSpec, driver: Session,
                                                                      sandbox: SandboxServer,
                                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    from crmql.exec import executor

    monkeypatch.setattr(executor, "STREAM_BATCH_ROWS", 100)  # two pages of 50 per batch
    query = plan_partitions(driver, "SELECT id, name FROM azavista.events", max_partitions=1)
    (part,) = query.partitions
    session = spec.open(concurrency=2)
    sandbox.reset_log()
    batches = read_partition(session, part)
    try:
        first = next(batches)
        assert first.num_rows == 100 and first.schema == query.schema
        # the batch taken, the one gathered while waiting and the pages requested ahead (twice the
        # concurrency), plus a token request: far from the table's 48 pages
        assert len(sandbox.request_log) <= 12, sandbox.request_log
    finally:
        batches.close()
        session.close()


@pytest.mark.parametrize("sql", ["SELECT event_type, COUNT(*) FROM azavista.events GROUP BY event_type",
                                 "SELECT id FROM azavista.events ORDER BY start LIMIT 10"])
def test_a_window_over_a_global_step_is_refused(sql: str, driver: Session, sandbox: SandboxServer) -> None:
    with pytest.raises(QueryError, match="only a row-wise query"):
        plan_partitions(driver, sql, window=Window("capacity", 0, 100, 2))
