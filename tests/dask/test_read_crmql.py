"""crmql.dask.read_crmql: a Dask DataFrame over plan_partitions' partitions, equal (rows and dtypes)
to session.query, on the threaded scheduler and on processes; only the planning requests before
compute(); the connection's cap respected; no secret in the task graph."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

dd = pytest.importorskip("dask.dataframe", reason="the dask extra (pip install 'crmql[dask]')")

import crmql  # noqa: E402
import crmql.dask  # noqa: E402
from crmql.api.partitions import SessionSpec, plan_partitions  # noqa: E402
from crmql.errors import CrmqlError  # noqa: E402

#: the Azavista secret, given to the config by an environment variable (resolved where a task runs)
SECRET = "sandbox-azavista-secret"
ENV = "CRMQL_TEST_DASK_AZAVISTA_SECRET"


@pytest.fixture(scope="module")
def config(sandbox_server: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    from cli_support import write_config_file

    path = write_config_file(tmp_path_factory.mktemp("dask") / "crmql.toml", sandbox_server.url,
                             retry_base_s=0.001, retry_cap_s=0.01)
    text = path.read_text(encoding="utf-8")
    assert f'client_secret = "{SECRET}"' in text
    path.write_text(text.replace(f'"{SECRET}"', '"${' + ENV + '}"'), encoding="utf-8")
    os.environ[ENV] = SECRET
    try:
        yield path
    finally:
        os.environ.pop(ENV, None)


@pytest.fixture(scope="module")
def session(config: Path) -> Iterator[Any]:
    session = crmql.connect(str(config))
    try:
        yield session
    finally:
        session.close()


def same(got: pd.DataFrame, want: pd.DataFrame, key: str) -> None:
    """Equal rows and dtypes, whatever order the partitions came in."""
    pd.testing.assert_frame_equal(got.sort_values(key, kind="stable").reset_index(drop=True),
                                  want.sort_values(key, kind="stable").reset_index(drop=True))


@pytest.mark.parametrize("sql, key, many", [
    ("SELECT * FROM azavista.events", "id", True),  # page ranges of one search
    ("SELECT id, name, start, capacity FROM azavista.events WHERE event_type = 'sales' AND name ILIKE '%a%'", "id",
     True),
    ("SELECT event_type, COUNT(*) AS n, MAX(start) AS last FROM azavista.events GROUP BY event_type", "event_type",
     False),  # one partition runs the whole statement
    ("SELECT * FROM casavi_community.tickets WHERE community_id IN (12, 15, 18)", "id", True),  # key ranges
    ("SELECT id, display_name, contact_types FROM voyzu.contacts WHERE last_name = 'Lewis'", "id", False),  # lists
])
def test_equal_to_session_query(config: Path, session: Any, sql: str, key: str, many: bool) -> None:
    df = crmql.dask.read_crmql(sql, str(config))
    assert (df.npartitions > 1) is many
    want = session.query(sql)
    # meta is typed as crmql types results; an integer (boolean) column is Int64 (boolean) only in a
    # partition with a NULL in it, as in session.query's frame
    nullable = {"Int64": "int64", "boolean": "bool"}
    assert {k: str(v) for k, v in df.dtypes.items()} == {k: nullable.get(str(v), str(v)) for k, v in want.dtypes.items()}
    same(df.compute(), want, key)


def test_processes_scheduler_reads_with_the_path_and_no_secret(config: Path, session: Any) -> None:
    import cloudpickle

    sql = "SELECT id, name, event_type, start FROM azavista.events WHERE capacity > 100"
    df = crmql.dask.read_crmql(sql, str(config), max_partitions=2)
    assert df.npartitions == 2
    blob = cloudpickle.dumps(dict(df.__dask_graph__()))
    assert str(config).encode() in blob and SECRET.encode() not in blob
    same(df.compute(scheduler="processes", num_workers=1), session.query(sql), "id")  # one process: CPU


def test_only_planning_requests_before_compute_and_the_cap_holds(config: Path, sandbox: Any) -> None:
    sql = "SELECT * FROM azavista.events"
    planned = plan_partitions(SessionSpec.for_config(str(config)).open(), sql)
    sandbox.reset_log()
    df = crmql.dask.read_crmql(sql, str(config))
    before = [e for e in sandbox.request_log if e[1].endswith("/search")]
    assert len(before) <= 1  # the vendor's total, from a 1-row request
    sandbox.reset_log()
    frame = df.compute()
    searches = [e for e in sandbox.request_log if e[1].endswith("/search")]
    assert len(frame) == 2_400 and len(searches) >= df.npartitions
    assert sandbox.concurrency("azavista")["peak"] <= planned.cap


def test_a_failing_vendor_request_fails_compute_with_a_crmql_error(config: Path, sandbox: Any) -> None:
    df = crmql.dask.read_crmql("SELECT id, name FROM azavista.events", str(config))
    sandbox.settings.faults = "500=1"  # every request from now on (planning is done)
    with pytest.raises(CrmqlError) as info:
        df.compute()
    assert "azavista" in str(info.value) and SECRET not in str(info.value)
