"""The partition plan against the sandbox: the concurrency cap (arithmetic and the vendor's observed
peak), filter statuses agreeing with EXPLAIN, the schema without fetching rows, no secret in a
pickled partition, the executor refusing another plan, and errors naming the partition."""

from __future__ import annotations

import concurrent.futures
import dataclasses
import pickle
import re
from collections.abc import Iterator
from pathlib import Path

import pyarrow as pa
import pytest

from crmql.api.config import sandbox_config
from crmql.api.partitions import SessionSpec, plan_partitions, read_partition, result_schema
from crmql.api.session import Session
from crmql.errors import ConfigError, QueryError, RequestBudgetError, VendorHTTPError
from crmql.sandbox import SandboxServer

from cli_support import config_toml
from .partition_support import kinds, read_one

BIG = "SELECT id, name FROM azavista.events"


@pytest.fixture(scope="module")
def spec(sandbox_server: SandboxServer) -> SessionSpec:
    return SessionSpec(config_path=None, sandbox_url=sandbox_server.url)


@pytest.fixture
def driver_with(sandbox_server: SandboxServer) -> Iterator:
    made: list[Session] = []

    def make(concurrency: int = 8) -> Session:
        config = sandbox_config(sandbox_server.url)
        config.connections["azavista"].settings["concurrency"] = concurrency
        made.append(Session(config))
        return made[-1]

    yield make
    for s in made:
        s.close()


# ---- the cap
@pytest.mark.parametrize(("concurrency", "max_partitions", "count", "each"),
                         [(8, None, 8, 1), (8, 3, 3, 2), (3, None, 3, 1), (3, 10, 3, 1), (8, 1, 1, 8)])
def test_partitions_never_exceed_the_cap_and_share_its_requests(driver_with, sandbox: SandboxServer,
                                                                concurrency: int, max_partitions: int | None,
                                                                count: int, each: int) -> None:
    query = plan_partitions(driver_with(concurrency), BIG, max_partitions=max_partitions)
    assert query.cap == concurrency
    assert len(query.partitions) == count
    assert [p.concurrency for p in query.partitions] == [each] * count
    assert kinds(query.partitions) == (["rows"] * count if count > 1 else ["whole"])


def test_tasks_reading_at_once_keep_the_vendor_within_the_cap(driver_with, spec: SessionSpec,
                                                              sandbox: SandboxServer) -> None:
    query = plan_partitions(driver_with(4), BIG)
    assert len(query.partitions) == 4
    sandbox.settings.latency_ms = 20  # requests overlap
    sandbox.reset_log()
    with concurrent.futures.ThreadPoolExecutor(len(query.partitions)) as pool:  # every task at once
        tables = list(pool.map(lambda p: read_one(spec, p, query.schema), query.partitions))
    peak = sandbox.concurrency("azavista")["peak"]
    assert 1 < peak <= query.cap, peak
    assert sum(t.num_rows for t in tables) == 2400


def test_an_executor_session_caps_its_own_client_and_leaves_the_config_alone(spec: SessionSpec) -> None:
    capped = spec.open(concurrency=2)
    assert {c.settings["concurrency"] for c in capped.config.connections.values()} == {2}
    assert capped.connector("azavista").concurrency == 2
    assert "concurrency" not in spec.open().config.connections["azavista"].settings


# ---- filters, as EXPLAIN shows them
def _explained(explain: str) -> dict[str, str]:
    """conjunct text -> "exact" / "superset" (pushed lines) or "local" (only in the local lines)."""
    pushed = dict(re.findall(r"^    (.+?)  ->  .*\[(exact|superset)[^\]]*\]$", explain, re.M))
    local_part = explain.split("checked locally:")[1] if "checked locally:" in explain else ""
    local = {m.split("  (")[0] for m in re.findall(r"^    (.+)$", local_part.split("  paging:")[0], re.M)}
    out = {k: ("exact" if v.startswith("exact") else "superset") for k, v in pushed.items()}
    out.update({k: "local" for k in local if k not in out})
    return out


@pytest.mark.parametrize("sql", [
    "SELECT * FROM azavista.events WHERE event_type = 'sales' AND name ILIKE '%kick%' AND capacity > 100",
    "SELECT * FROM azavista.events WHERE name LIKE '%Work%' AND status IN ('live', 'draft')",
    "SELECT * FROM atlas.sales WHERE \"sale-status\" IN ('won', 'lost') AND \"sale-balance\" >= 500",
    "SELECT * FROM atlas.contacts WHERE \"contact-email\" LIKE '%@gmail.com' OR \"contact-name\" = 'Tom'",
])
def test_filter_statuses_agree_with_explain(sql: str, driver_with, sandbox: SandboxServer) -> None:
    session = driver_with()
    query = plan_partitions(session, sql)
    conjuncts = sql.split(" WHERE ")[1].split(" AND ") if " OR " not in sql else [sql.split(" WHERE ")[1]]
    assert [f.sql for f in query.filters] == conjuncts
    explained = _explained(session.explain(sql))
    for f in query.filters:
        assert f.status == explained[f.sql], (f, explained)
        assert (f.reason == "") == (f.status == "exact")


def test_filter_statuses_of_a_join_and_of_a_between(driver_with, sandbox: SandboxServer) -> None:
    sql = ("SELECT c.contactId, p.name FROM casavi.contracts c JOIN casavi.properties p ON p.id = c.propertyId "
           "WHERE c.endDate BETWEEN DATE '2026-01-01' AND DATE '2026-12-31' AND p.name || c.type = 'x'")
    query = plan_partitions(driver_with(), sql)
    assert [f.sql for f in query.filters] == ["c.endDate BETWEEN DATE '2026-01-01' AND DATE '2026-12-31'",
                                              "p.name || c.type = 'x'"]
    assert [f.status for f in query.filters] == ["local", "local"]  # casavi filters neither; one reads two tables
    assert kinds(query.partitions) == ["whole"] and query.connection is None and query.table is None


# ---- the schema
def test_the_schema_comes_without_fetching_rows(driver_with, sandbox: SandboxServer) -> None:
    session = driver_with()
    sandbox.reset_log()
    schema = result_schema(session, "SELECT id, start, capacity * 1.5 AS c, is_virtual FROM azavista.events")
    count = result_schema(session, "SELECT COUNT(*) AS n FROM azavista.events WHERE event_type = 'sales'")
    assert not [e for e in sandbox.request_log if "/search" in str(e)]
    assert schema.field("start").type == pa.timestamp("us", tz="UTC")
    assert schema.field("is_virtual").type == pa.bool_() and schema.field("id").type == pa.string()
    assert count == pa.schema([pa.field("n", pa.int64())])
    emails = result_schema(session, "SELECT id, emails FROM voyzu.contacts").field("emails")
    assert emails.type.value_type == pa.string()


# ---- what travels to the executors
def test_a_pickled_partition_holds_no_secret_and_reads_on_an_executor(sandbox: SandboxServer, tmp_path: Path,
                                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    secrets: list[str] = []

    def env_ref(m: re.Match[str]) -> str:
        name = f"PK15_SECRET_{len(secrets)}"
        secrets.append(m.group(2).strip('"'))
        monkeypatch.setenv(name, secrets[-1])
        return f'{m.group(1)} = "${{{name}}}"'

    text = re.sub(r"^(\w*(?:secret|password|token|key)\w*) = (.+)$", env_ref, config_toml(sandbox.url), flags=re.M)
    path = tmp_path / "crmql.toml"
    path.write_text(text)
    path.chmod(0o600)
    assert secrets and all(secrets)
    spec = SessionSpec.for_config(path)
    assert spec == SessionSpec(str(path.resolve()), None)
    driver = spec.open()
    query = plan_partitions(driver, "SELECT id FROM azavista.events WHERE event_type = 'sales'")
    driver.close()
    payload = pickle.dumps((spec, query.partitions))
    for secret in secrets:
        assert secret.encode() not in payload
    spec2, parts = pickle.loads(payload)
    assert sum(read_one(spec2, p, query.schema).num_rows for p in parts) > 0  # resolved on the executor


def test_a_loaded_config_is_refused(sandbox: SandboxServer) -> None:
    with pytest.raises(ConfigError, match="path") as info:
        SessionSpec.for_config(sandbox_config(sandbox.url))  # type: ignore[arg-type]
    assert "hint" in str(info.value)


# ---- the executor refuses another plan; errors name the partition
def test_an_executor_planning_other_requests_refuses_the_partition(sandbox: SandboxServer, tmp_path: Path,
                                                                   driver_with) -> None:
    sql = "SELECT id FROM azavista.events WHERE name ILIKE '%kick%'"
    query = plan_partitions(driver_with(), sql)
    path = tmp_path / "crmql.toml"
    path.write_text(config_toml(sandbox.url, like_case_sensitive=False))  # ILIKE pushed there: other requests
    other = SessionSpec(str(path)).open()
    try:
        with pytest.raises(QueryError, match="differs from the driver's") as info:
            list(read_partition(other, query.partitions[0]))
    finally:
        other.close()
    assert query.partitions[0].label in str(info.value)
    tampered = dataclasses.replace(query.partitions[0], fingerprint="0" * 16)
    with pytest.raises(QueryError, match="differs"):
        list(read_partition(driver_with(), tampered))


def test_a_failing_vendor_page_fails_the_partition_naming_it(driver_with, spec: SessionSpec,
                                                            sandbox: SandboxServer) -> None:
    query = plan_partitions(driver_with(), BIG, max_partitions=2)
    sandbox.reset_log()
    sandbox.settings.faults = "402@1"  # the first counted request of the read: no retry for a 402
    with pytest.raises(VendorHTTPError) as info:
        read_one(spec, query.partitions[0], query.schema)
    text = str(info.value)
    assert "Azavista" in text and "azavista.events" in text and "402" in text
    assert query.partitions[0].label in text
    assert "POST http" in text and "/3.0/event/search" in text  # the request that failed


def test_without_a_config_the_executors_share_the_drivers_in_process_sandbox(tmp_path: Path,
                                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    from crmql.api.session import sandbox_url

    monkeypatch.delenv("CRMQL_CONFIG", raising=False)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path))  # no user config file
    monkeypatch.setenv("HOME", str(tmp_path))
    spec = SessionSpec.for_config(None)
    assert spec == SessionSpec(None, sandbox_url())
    assert spec.open().config.connections["voyzu"].settings["base_url"] == f"{spec.sandbox_url}/voyzu"
    # a config file whose connection is the built-in sandbox ("sandbox:") is pointed at the same server
    path = tmp_path / "crmql.toml"
    path.write_text('[connections.az]\nvendor = "azavista"\nbase_url = "sandbox:"\nclient_id = "x"\n'
                    'client_secret = "${PK15_UNUSED:-}"\n')
    monkeypatch.chdir(tmp_path)
    spec = SessionSpec.for_config("crmql.toml")  # relative: made absolute for the executors
    assert spec.config_path == str(path.resolve()) and spec.sandbox_url == sandbox_url()
    assert spec.open().config.connections["az"].settings["base_url"] == f"{spec.sandbox_url}/azavista"


def test_a_scan_over_the_page_budget_is_not_split_around_it(driver_with) -> None:
    """Row ranges each within max_pages must not read what the whole scan may not: over the budget,
    the scan is one partition and fails with the query's own budget error (review finding)."""
    session = driver_with(8)
    session.config.connections["azavista"].settings["max_pages"] = 20
    query = plan_partitions(session, BIG)
    assert len(query.partitions) == 1
    with pytest.raises(RequestBudgetError):
        session.query(BIG)
