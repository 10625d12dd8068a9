"""JupySQL over ``crmql://`` in an in-process IPython shell (issue 14): ``%load_ext sql``, ``%sql
crmql:///<config>``, a query with a ``:parameter`` from the notebook's variables (the same rows and the same
requests as ``crmql -e``), ``%sqlcmd tables`` and ``%sqlcmd columns``, a plain ``%sql`` reading only the
pages its first rows need, and a mistake said as crmql's message. Telemetry off
(``PLOOMBER_STATS_ENABLED=false``)."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("sqlalchemy")
os.environ["PLOOMBER_STATS_ENABLED"] = "false"  # before jupysql (ploomber-core) is imported
pytest.importorskip("sql.magic")

from cli_support import cli_environment, run_crmql_in_process  # noqa: E402
from tools_support import DONE_WHEN_SQL, Traffic, engine_url  # noqa: E402
from tools_support import tools_config, traffic  # noqa: E402,F401 - the fixtures

ALIAS = "crmql_tools_test"


def _run(shell: Any, code: str) -> Any:
    result = shell.run_cell(code)
    for error in (result.error_before_exec, result.error_in_exec):
        if error is not None:
            raise error
    return result.result


@pytest.fixture(scope="module")
def shell(tools_config: Path, sandbox_server: Any) -> Iterator[Any]:
    """The shared in-process shell with JupySQL loaded and connected to the served sandbox; JupySQL's
    settings, its connection, its patch of the shell and the variables the tests made are undone afterwards
    (its magics stay registered: loading an extension cannot be undone)."""
    from IPython.testing.globalipapp import get_ipython

    ip = get_ipython()
    before = set(ip.user_ns)
    saved = ip.config.get("SqlMagic")
    ip.run_line_magic("load_ext", "sql")
    for setting in ('named_parameters = "enabled"', "displaylimit = 5", "displaycon = False"):
        ip.run_line_magic("config", f"SqlMagic.{setting}")
    with Traffic(sandbox_server).recording() as connecting:
        _run(ip, f"%sql {engine_url(tools_config)} --alias {ALIAS}")
    assert connecting.requests == 0, connecting  # connecting reads nothing
    yield ip
    from sql.connection import ConnectionManager

    ConnectionManager.close_all()
    ip.__dict__.pop("show_usage_error", None)  # JupySQL patches the shell's method: the class's again
    if saved is None:
        ip.config.pop("SqlMagic", None)
    else:
        ip.config["SqlMagic"] = saved
    for name in set(ip.user_ns) - before:
        ip.user_ns.pop(name, None)


def _close_results() -> None:
    """Close JupySQL's open result sets (a shown result keeps its cursor, and so its paused scan, open)."""
    from sql.connection import ConnectionManager

    ConnectionManager.current._result_sets.close_all()


def test_sql_magic_parameter_same_rows_and_requests_as_cli(shell: Any, tools_config: Path, traffic: Traffic,
                                                          tmp_path: Path) -> None:
    """``%sql crmql:///...``, ``t = "sales"``, then ``%sql SELECT name FROM azavista.events WHERE event_type =
    :t``: every row, as ``crmql -e --param t=sales`` gives them, with the same requests (one token, the same
    searches), from a connection of its own (its first query fetches its token, as the CLI's does)."""
    with traffic.recording() as cli:
        run = run_crmql_in_process(["--config", str(tools_config), "-e", DONE_WHEN_SQL, "--param", "t=sales",
                                    "--format", "jsonl"], env=cli_environment(tmp_path), cwd=tmp_path)
    assert run.returncode == 0, str(run)
    expected = [json.loads(line)["name"] for line in run.stdout.splitlines() if line.startswith("{")]
    shell.user_ns["t"] = "sales"
    with Traffic(traffic.server).recording() as magic:
        _run(shell, f"%sql {engine_url(tools_config)} --alias crmql_done_when")  # a new user's first connection
        frame = _run(shell, f"%sql {DONE_WHEN_SQL}").DataFrame()
        _close_results()
        _run(shell, "%sql --close crmql_done_when")
    _run(shell, f"%sql {ALIAS}")  # the module's connection again
    assert list(frame.columns) == ["name"] and list(frame["name"]) == expected and len(expected) > 50
    assert cli.log[("POST", "/azavista/3.0/oauth/token", 200)] == 1
    assert magic.same_as(cli), f"{magic} != crmql -e's {cli}"


def test_sql_magic_shows_first_rows_from_the_first_pages(shell: Any, traffic: Traffic) -> None:
    """A plain ``%sql`` shows ``displaylimit`` rows: JupySQL fetches them through the cursor and the scan
    (contacts: 10,000 rows, 200 pages of 50) pauses after a bounded read-ahead instead of reading them all."""
    n = _run(shell, "%sql SELECT COUNT(*) AS n FROM azavista.contacts").DataFrame()["n"][0]
    pages = -(-int(n) // 50)
    _close_results()
    with traffic.recording() as shown:
        text = repr(_run(shell, "%sql SELECT id, email FROM azavista.contacts"))
        _close_results()  # stops the scan
    assert "email" in text and "Truncated to displaylimit of 5" in text, text
    assert pages >= 100 and 0 < sum(shown.searches.values()) < pages * 3 // 4, (pages, shown)


def test_sqlcmd_tables_and_columns(shell: Any, traffic: Traffic, tools_config: Path) -> None:
    """``%sqlcmd tables -s azavista`` lists the connection's tables; ``%sqlcmd columns`` a table's columns
    with their types (JupySQL first checks the table with ``SELECT * ... WHERE 1=0``: no request)."""
    import crmql

    _close_results()
    with traffic.recording():
        tables = repr(_run(shell, "%sqlcmd tables -s azavista"))
        columns = repr(_run(shell, "%sqlcmd columns -t events -s azavista"))
    for name in ("events", "contacts", "organizations"):
        assert name in tables, tables
    with crmql.connect(tools_config) as session:
        described = list(session.describe("azavista", "events")["column"])
    assert len(described) > 5 and all(f" {name} " in columns for name in described), columns
    assert "type" in columns, columns
    assert not [e for e in traffic.log if not e[1].endswith("/oauth/token")], traffic


def test_sql_magic_mistake_is_crmqls_message(shell: Any, traffic: Traffic) -> None:
    """A misspelt table: JupySQL shows crmql's message with its hint (the table meant), not a traceback."""
    with traffic.recording():
        result = shell.run_cell("%sql SELECT name FROM azavista.event")
    error = result.error_in_exec or result.error_before_exec
    assert error is not None
    assert "events" in str(error), str(error)
    assert not [e for e in traffic.log if not e[1].endswith("/oauth/token")], traffic


def test_sql_magic_crmql_url_is_the_built_in_sandbox_crmql_e_uses(shell: Any, tmp_path: Path,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    """The issue's words: ``%sql crmql://`` with no config anywhere is the in-process sandbox that ``crmql -e``
    uses with no config; the parameterised query gives the same rows with the same requests."""
    import crmql.api.session as session_module

    env = cli_environment(tmp_path)  # an empty home: no user config, no CRMQL_* variables
    for name in [n for n in os.environ if n.startswith("CRMQL_")]:
        monkeypatch.delenv(name)
    for name in ("HOME", "XDG_CONFIG_HOME"):
        monkeypatch.setenv(name, env[name])
    session_module.sandbox_url()
    server = session_module._sandbox_server
    with Traffic(server).recording() as cli:
        run = run_crmql_in_process(["-e", DONE_WHEN_SQL, "--param", "t=sales", "--format", "jsonl"], env=env,
                                   cwd=tmp_path)
    assert run.returncode == 0, str(run)
    expected = [json.loads(line)["name"] for line in run.stdout.splitlines() if line.startswith("{")]
    shell.user_ns["t"] = "sales"
    with Traffic(server).recording() as magic:
        _run(shell, "%sql crmql:// --alias crmql_built_in")
        frame = _run(shell, f"%sql {DONE_WHEN_SQL}").DataFrame()
        _close_results()
        _run(shell, "%sql --close crmql_built_in")
    _run(shell, f"%sql {ALIAS}")
    assert list(frame["name"]) == expected and len(expected) > 50
    assert cli.requests > 1 and magic.same_as(cli), f"{magic} != crmql -e's {cli}"
