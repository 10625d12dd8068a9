"""``pandas.read_sql`` over crmql (issue 14, "Done when"): with a SQLAlchemy engine (``crmql:///config``)
and with a raw DB-API connection (``crmql.dbapi.connect``), the issue's query gives the same rows, with
the same requests (the sandbox's request log and every native filter Azavista received), as ``crmql -e``
and as :meth:`crmql.Session.query`. Each tool starts from a fresh connection, as a new user's would (one
token request each)."""

from __future__ import annotations

import json
import os
import warnings
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

sqlalchemy = pytest.importorskip("sqlalchemy")

import crmql  # noqa: E402
from cli_support import cli_environment, run_crmql_in_process  # noqa: E402
from tools_support import DONE_WHEN_PARAMS, DONE_WHEN_SQL, Traffic, engine_url  # noqa: E402
from tools_support import tools_config, traffic  # noqa: E402,F401 - the fixtures


def _read_sql_raw(sql: str, connection: Any, **kwargs: Any) -> Any:
    """``pandas.read_sql`` on a DB-API connection that is not sqlite3: pandas warns that it only tests
    SQLAlchemy and sqlite3, and then runs ``cursor.execute(sql, params)`` and fetches (what we test)."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="pandas only supports SQLAlchemy", category=UserWarning)
        return pd.read_sql(sql, connection, **kwargs)


def _cli_rows(config: Path, tmp_path: Path) -> list[str]:
    run = run_crmql_in_process(["--config", str(config), "-e", DONE_WHEN_SQL, "--param", "t=sales",
                                "--format", "jsonl"], env=cli_environment(tmp_path), cwd=tmp_path)
    assert run.returncode == 0, str(run)
    return [json.loads(line)["name"] for line in run.stdout.splitlines() if line.startswith("{")]


def test_done_when_read_sql_same_rows_and_requests_as_cli(tools_config: Path, traffic: Traffic, tmp_path: Path) -> None:
    """The issue's example: CLI, Session, pandas + engine, pandas + DB-API connection."""
    from crmql import dbapi

    with traffic.recording() as cli:
        expected = _cli_rows(tools_config, tmp_path)
    with Traffic(traffic.server).recording() as api, crmql.connect(tools_config) as session:
        assert list(session.query(DONE_WHEN_SQL, DONE_WHEN_PARAMS)["name"]) == expected
    engine = sqlalchemy.create_engine(engine_url(tools_config))
    try:
        with Traffic(traffic.server).recording() as via_engine:
            frame = pd.read_sql(DONE_WHEN_SQL, engine, params=DONE_WHEN_PARAMS)
    finally:
        engine.dispose()
    assert list(frame.columns) == ["name"] and list(frame["name"]) == expected
    with Traffic(traffic.server).recording() as via_dbapi:
        with dbapi.connect(tools_config) as connection:
            raw = _read_sql_raw(DONE_WHEN_SQL, connection, params=DONE_WHEN_PARAMS)
    assert list(raw.columns) == ["name"] and list(raw["name"]) == expected

    assert len(expected) > 50  # more than one Azavista page of 50: the paging is part of what is compared
    # one token, then the searches, each carrying event_type = sales (pushed down, not filtered locally)
    assert cli.log[("POST", "/azavista/3.0/oauth/token", 200)] == 1
    assert cli.requests == 1 + sum(cli.searches.values())
    assert all('"sales"' in f and f.startswith("events ") for f in cli.searches), cli
    for other in (api, via_engine, via_dbapi):
        assert other.same_as(cli), f"{other} != crmql -e's {cli}"


def test_read_sql_with_the_engine_names_a_mistake_with_its_hint(tools_config: Path, traffic: Traffic) -> None:
    """An unknown table is crmql's error (a ProgrammingError) with its did-you-mean, through pandas and
    SQLAlchemy, and costs no request."""
    engine = sqlalchemy.create_engine(engine_url(tools_config))
    try:
        with traffic.recording(), pytest.raises(Exception) as raised:
            pd.read_sql("SELECT name FROM azavista.event", engine)
    finally:
        engine.dispose()
    message = str(raised.value)
    assert "event" in message and "events" in message, message  # the hint names the table meant
    assert "Traceback" not in message
    cause = raised.value
    while cause.__cause__ is not None and not isinstance(cause, crmql.CrmqlError):
        cause = cause.__cause__
    from crmql import dbapi

    assert isinstance(cause, dbapi.ProgrammingError) and isinstance(cause, crmql.CrmqlError), repr(raised.value)
    assert not [e for e in traffic.log if not e[1].endswith("/oauth/token")], traffic


def test_read_sql_chunks_stream_from_the_scan(tools_config: Path, traffic: Traffic) -> None:
    """``read_sql(..., chunksize=50)`` on a DB-API connection: the first chunk of a scan with no global
    step comes after a bounded read-ahead, not after the whole table (contacts: 10,000 rows, 200 pages)."""
    from crmql import dbapi

    with crmql.connect(tools_config) as session:
        pages = -(-int(session.query("SELECT COUNT(*) AS n FROM azavista.contacts")["n"][0]) // 50)
    with traffic.recording() as first, dbapi.connect(tools_config) as connection:
        chunks = _read_sql_raw("SELECT id, email FROM azavista.contacts", connection, chunksize=50)
        chunk = next(iter(chunks))
        assert list(chunk.columns) == ["id", "email"] and len(chunk) == 50
        chunks.close()  # the generator closes its cursor: the scan stops
    read = sum(first.searches.values())
    assert pages >= 100 and read < pages * 3 // 4, f"the first chunk read {read} of {pages} pages: {first}"


def test_read_sql_table_through_the_dialect(tools_config: Path, traffic: Traffic) -> None:
    """``read_sql_table`` reflects the table and runs SQLAlchemy's own SELECT through the compiler."""
    engine = sqlalchemy.create_engine(engine_url(tools_config))
    try:
        with traffic.recording():
            frame = pd.read_sql_table("organizations", engine, schema="azavista", columns=["id", "name"])
            with crmql.connect(tools_config) as session:
                expected = session.query("SELECT id, name FROM azavista.organizations")
    finally:
        engine.dispose()
    assert list(frame.columns) == ["id", "name"]
    assert sorted(frame["id"]) == sorted(expected["id"]) and len(frame) == len(expected) > 0


def test_done_when_literally_on_the_built_in_sandbox(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The issue's words exactly: ``create_engine("crmql://")`` with no config anywhere is crmql's in-process
    sandbox, the one ``crmql -e`` uses with no config: the same rows and the same requests."""
    from crmql.api.session import sandbox_url
    import crmql.api.session as session_module

    env = cli_environment(tmp_path)  # an empty home: no user config, no CRMQL_* variables
    for name in [n for n in os.environ if n.startswith("CRMQL_")]:
        monkeypatch.delenv(name)
    for name in ("HOME", "XDG_CONFIG_HOME"):
        monkeypatch.setenv(name, env[name])
    sandbox_url()
    server = session_module._sandbox_server
    with Traffic(server).recording() as cli:
        run = run_crmql_in_process(["-e", DONE_WHEN_SQL, "--param", "t=sales", "--format", "jsonl"], env=env,
                                   cwd=tmp_path)
    assert run.returncode == 0, str(run)
    expected = [json.loads(line)["name"] for line in run.stdout.splitlines() if line.startswith("{")]
    engine = sqlalchemy.create_engine("crmql://")
    try:
        with Traffic(server).recording() as via_engine:
            frame = pd.read_sql(DONE_WHEN_SQL, engine, params=DONE_WHEN_PARAMS)
    finally:
        engine.dispose()
    assert list(frame["name"]) == expected and len(expected) > 50
    assert cli.requests > 1 and via_engine.same_as(cli), f"{via_engine} != crmql -e's {cli}"


def test_the_readme_example_runs(tools_config: Path, traffic: Traffic, capsys: pytest.CaptureFixture[str]) -> None:
    """README's "SQL tools" Python example, run as written (on the served sandbox's config instead of the
    default one): the plan it prints says the filter is exact and the ILIKE local, every schema is listed."""
    import re

    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")
    section = readme[readme.index("## SQL tools"):]
    code = re.findall(r"```python\n(.*?)```", section, flags=re.S)[0]
    assert 'create_engine("crmql://")' in code and "crmql.dbapi.connect()" in code
    code = code.replace('"crmql://"', repr(engine_url(tools_config))).replace(
        "crmql.dbapi.connect()", f"crmql.dbapi.connect({str(tools_config)!r})")
    namespace: dict[str, object] = {}
    with traffic.recording(), warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="pandas only supports SQLAlchemy", category=UserWarning)
        exec(compile(code, "README.md", "exec"), namespace)  # noqa: S102 - the README's own example
    namespace["engine"].dispose()  # type: ignore[attr-defined]
    out = capsys.readouterr().out
    assert "[exact]" in out and "name ILIKE '%kickoff%'" in out and "'voyzu': [" in out, out
    assert len(namespace["df"]) > 50 and len(namespace["rows"]) == 5  # type: ignore[arg-type]
