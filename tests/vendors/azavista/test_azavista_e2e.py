"""End to end through the ``crmql`` command: a sandbox served on loopback, a TOML config for it,
and ``crmql`` run through its ``main`` in the test's process (the same argv, environment, working
directory, streams and exit code) and, where the process is the point, as a subprocess
(``python -m crmql``: a usage error's exit code, ``--debug``, the built-in sandbox; once, the
``crmql`` console script).

Covers the CLI contract of design section 8: statements from -e and -f, every --format, --output
with the format from the extension, --param, --stats, EXPLAIN [ANALYZE], SHOW TABLES, DESCRIBE,
exit codes with clean messages (no tracebacks), the sandbox subcommands, the no-config default,
and that no secret (client secret, access tokens) ever reaches stdout or stderr.

Independent runs are started a few at a time (each pays Python's start-up), so the module takes
seconds rather than minutes.
"""

from __future__ import annotations

import csv
import io
import json
import re
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pandas as pd
import pytest

from crmql.sandbox import CREDENTIALS, SandboxServer, records

from cli_support import Run, Tokens, ok, parallel, run_crmql, run_crmql_in_process

CONSOLE_SCRIPT = Path(sys.executable).parent / "crmql"
SECRET = CREDENTIALS["azavista"]["client_secret"]
EVENTS = records("azavista", "events", 42)
ORGS = records("azavista", "organizations", 42)

HEADLINE = ("SELECT name, start, event_type FROM azavista.events WHERE start > TIMESTAMP '2025-03-01' "
            "AND event_type IN ('marketing', 'sales') AND name LIKE '%Workshop%' ORDER BY start LIMIT 20")
STATS_LINE = re.compile(r"^stats: requests=(\d+) pages=(\d+) rows_fetched=(\d+) rows=(\d+) retries=(\d+) elapsed_ms=(\d+)$")
ISO_UTC = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|\+00:00)$")


# ---- fixtures -------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def tokens(sandbox_server: SandboxServer) -> Tokens:
    return Tokens(sandbox_server)


@pytest.fixture
def config(sandbox: SandboxServer, tmp_path: Path, write_config: Callable[..., Path]) -> Path:
    return write_config(tmp_path / "crmql.toml", sandbox.url)


@pytest.fixture
def crmql(cli_env: dict[str, str], tokens: Tokens, tmp_path: Path) -> Iterator[Callable[..., Run]]:
    """``crmql(*args, config=path, script=False, stdin=None, process=False)`` runs the command (in
    this process through its ``main``, unless ``process`` or ``script``: then ``python -m crmql`` or
    the console script in a subprocess); every run is checked for leaked secrets and tracebacks after
    the test.

    ``crmql sandbox config`` prints a config for the sandbox, which must carry the sandbox's
    (public, fixed) client credentials to work; it is the one run allowed to print the client
    secret, and it is still checked for access tokens."""
    runs: list[Run] = []

    def run(*args: str | Path, config: Path | None = None, script: bool = False, stdin: str | None = None,
            timeout: float = 60, prints_credentials: bool = False, process: bool = False) -> Run:
        argv = [str(a) for a in args]
        if config is not None:
            argv = ["--config", str(config), *argv]
        if not (script or process):  # the command's own code, without a Python start-up per run
            result = run_crmql_in_process(argv, env=cli_env, cwd=tmp_path, stdin=stdin,
                                          prints_credentials=prints_credentials)
            runs.append(result)
            return result
        command = [str(CONSOLE_SCRIPT)] if script else [sys.executable, "-m", "crmql"]
        result = run_crmql(argv, env=cli_env, cwd=tmp_path, timeout=timeout, stdin=stdin, command=command,
                           prints_credentials=prints_credentials)
        runs.append(result)
        return result

    yield run
    assert runs
    for r in runs:
        for secret in [*([] if r.prints_credentials else [SECRET]), *tokens.issued]:
            assert secret not in r.stdout and secret not in r.stderr, f"a secret leaked:\n{r}"
        if "--debug" not in r.args:
            assert "Traceback" not in r.stderr, str(r)


def headline_rows() -> list[tuple[str, pd.Timestamp, str]]:
    cutoff = pd.Timestamp("2025-03-01", tz="UTC")
    rows = [(e["name"], pd.Timestamp(e["start"]).tz_convert("UTC"), e["event_type"]) for e in EVENTS
            if pd.Timestamp(e["start"]) > cutoff and e["event_type"] in ("marketing", "sales") and "Workshop" in e["name"]]
    rows.sort(key=lambda r: r[1])
    return rows


# ---- the headline query and EXPLAIN -----------------------------------------------------------------

def test_headline_query(crmql: Callable[..., Run], config: Path) -> None:
    run = ok(crmql("-e", HEADLINE, "--format", "json", "--stats", config=config))
    got = json.loads(run.stdout)
    want = headline_rows()
    assert len(want) > 20 and len(got) == 20
    assert [set(r) for r in got] == [{"name", "start", "event_type"}] * 20
    starts = [pd.Timestamp(r["start"]) for r in got]
    assert starts == [w[1] for w in want[:20]]  # ordered by start, the first 20
    # ties in start may come in any order: compare the rows as a multiset
    cut = want[19][1]
    assert sorted((r["name"], pd.Timestamp(r["start"]), r["event_type"]) for r in got if pd.Timestamp(r["start"]) < cut) == \
        sorted(w for w in want if w[1] < cut)
    assert all(ISO_UTC.match(r["start"]) for r in got)
    [line] = [ln for ln in run.stderr.splitlines() if ln.startswith("stats:")]
    m = STATS_LINE.match(line)
    assert m, line
    requests, pages, fetched, rows, retries, _ = map(int, m.groups())
    assert rows == 20 and retries == 0
    matching = sum(1 for e in EVENTS if pd.Timestamp(e["start"]) > pd.Timestamp("2025-03-01", tz="UTC")
                   and e["event_type"] in ("marketing", "sales") and "workshop" in e["name"].lower())
    assert pages == -(-matching // 50) and requests == pages + 1  # plus the token request
    assert len(want) <= fetched <= matching


def test_explain_and_explain_analyze(crmql: Callable[..., Run], config: Path) -> None:
    run = ok(crmql("-e", f"EXPLAIN {HEADLINE}", "-e", f"EXPLAIN ANALYZE {HEADLINE}", config=config))
    explain, analyze = run.stdout.split("Scan azavista.events")[1:]
    for text in (explain, analyze):
        assert "POST /3.0/event/search" in text
        tree = json.loads(next(ln for ln in text.splitlines() if ln.strip().startswith("{")))
        assert tree["event_filter"]["and"] == [
            {"start": {"after": "2025-03-01T00:00:00+00:00"}},
            {"event_type": {"in": ["marketing", "sales"]}},
            {"name": {"like": "Workshop"}},
        ]
        assert tree["limit"] == 50
        assert "pushed to the vendor:" in text and "checked locally:" in text
        assert "[exact]" in text and "[superset]" in text
    assert re.search(r"estimate: .*\b73 matching row\(s\).*2 search request\(s\)", explain), explain
    assert "actual:" not in explain
    actual = re.search(r"actual: requests=(\d+) pages=(\d+) retries=(\d+) rows_fetched=(\d+)", analyze)
    assert actual, analyze
    assert int(actual.group(2)) == 2 and int(actual.group(3)) == 0 and int(actual.group(4)) == 73
    assert re.search(r"Rows returned: 20|rows=20", analyze)


def test_show_tables_and_describe(crmql: Callable[..., Run], config: Path) -> None:
    run = ok(crmql("-e", "SHOW TABLES", "-e", "DESCRIBE azavista.events", "--format", "csv", config=config))
    lines = run.stdout.splitlines()
    second = lines.index(next(ln for ln in lines if ln.startswith("column,")))
    tables = list(csv.DictReader(io.StringIO("\n".join(lines[:second]))))
    assert {(r["connection"], r["table"]) for r in tables} >= {("azavista", "events"), ("azavista", "contacts"),
                                                               ("azavista", "organizations")}
    assert next(r for r in tables if r["table"] == "events" and r["connection"] == "azavista")["columns"] == "20"
    cols = {r["column"]: r for r in csv.DictReader(io.StringIO("\n".join(lines[second:])))}
    assert list(cols)[:3] == ["id", "name", "event_type"] and len(cols) == 20
    assert cols["start"]["type"] == "timestamp" and cols["is_virtual"]["type"] == "boolean"
    assert cols["capacity"]["type"] == "integer" and cols["price"]["type"] == "float"
    assert "LIKE" in cols["name"]["pushed_filters"] and "sales" in cols["event_type"]["options"]


# ---- formats and files --------------------------------------------------------------------------------

FORMAT_IDS = [e["id"] for e in EVENTS if "price" in e][:2] + [e["id"] for e in EVENTS if "price" not in e][:2]
FORMAT_SQL = (f"SELECT id, name, start, price, is_virtual, capacity, venue_name FROM azavista.events "
              f"WHERE id IN ({', '.join(repr(i) for i in FORMAT_IDS)}) ORDER BY id")


def _expected_format_rows() -> list[dict]:
    by_id = {e["id"]: e for e in EVENTS}
    return [by_id[i] for i in sorted(FORMAT_IDS)]


def _check_value_rows(rows: list[dict], *, text: bool) -> None:
    want = _expected_format_rows()
    assert [r["id"] for r in rows] == [w["id"] for w in want]
    for r, w in zip(rows, want):
        assert r["name"] == w["name"]
        assert ISO_UTC.match(r["start"]), r["start"]
        assert pd.Timestamp(r["start"]) == pd.Timestamp(w["start"])
        if text:  # CSV: every value is text, NULL is an empty field
            assert r["price"] == ("" if "price" not in w else r["price"])
            if "price" in w:
                assert float(r["price"]) == w["price"]
            assert r["is_virtual"].lower() == str(w["is_virtual"]).lower()
            assert int(r["capacity"]) == w["capacity"]
            assert r["venue_name"] == w.get("venue_name", "")
        else:  # JSON: typed values, null for NULL
            assert r["price"] == w.get("price") and r["is_virtual"] is w["is_virtual"]
            assert r["capacity"] == w["capacity"] and isinstance(r["capacity"], int)
            assert r["venue_name"] == w.get("venue_name")


def test_every_format(crmql: Callable[..., Run], config: Path) -> None:
    table, csv_run, json_run, jsonl_run, md = parallel(
        lambda: ok(crmql("-f", "-", config=config, stdin=FORMAT_SQL + ";")),  # the default format; stdin
        *(lambda f=f: ok(crmql("-e", FORMAT_SQL, "--format", f, config=config)) for f in ("csv", "json", "jsonl", "markdown")))
    assert any(p is None for p in (e.get("price") for e in _expected_format_rows()))
    _check_value_rows(list(csv.DictReader(io.StringIO(csv_run.stdout))), text=True)
    _check_value_rows(json.loads(json_run.stdout), text=False)
    _check_value_rows([json.loads(ln) for ln in jsonl_run.stdout.splitlines() if ln.strip()], text=False)
    lines = table.stdout.splitlines()
    assert lines[0].split("|")[0].strip() == "id" and set(lines[1]) <= {"-", "+"}
    assert "NULL" in table.stdout and "(4 rows)" in table.stdout
    assert all(i in table.stdout for i in FORMAT_IDS)
    md_lines = md.stdout.strip().splitlines()
    assert md_lines[0].startswith("| id | name | start |") and re.match(r"^\|( -+ \|)+$", md_lines[1])
    assert len(md_lines) == 2 + len(FORMAT_IDS)


def test_output_files_take_the_format_from_the_extension(crmql: Callable[..., Run], config: Path,
                                                          tmp_path: Path) -> None:
    paths = {ext: tmp_path / "out" / f"result.{ext}" for ext in ("csv", "json", "parquet")}
    runs = parallel(*(lambda p=p: crmql("-e", FORMAT_SQL, "--output", p, config=config) for p in paths.values()))
    for run in runs:
        ok(run)
        assert run.stdout.strip() == ""
    _check_value_rows(list(csv.DictReader(io.StringIO(paths["csv"].read_text(encoding="utf-8")))), text=True)
    _check_value_rows(json.loads(paths["json"].read_text(encoding="utf-8")), text=False)
    frame = pd.read_parquet(paths["parquet"])
    assert list(frame["id"]) == sorted(FORMAT_IDS)
    assert isinstance(frame.dtypes["start"], pd.DatetimeTZDtype) and str(frame.dtypes["start"].tz) == "UTC"
    assert frame["price"].isna().sum() == 2 and frame.dtypes["is_virtual"] == bool


def test_params_and_a_script_file(crmql: Callable[..., Run], config: Path, tmp_path: Path) -> None:
    org = next(o for o in ORGS if "'" in o["name"])
    event = EVENTS[10]
    script = tmp_path / "queries.sql"
    script.write_text(
        "-- several statements, one with parameters\n"
        "SELECT COUNT(*) AS n FROM azavista.organizations;\n"
        "/* a block comment; with a semicolon */\n"
        "SELECT id, name FROM azavista.organizations WHERE name = :name;\n"
        f"SELECT name FROM azavista.events WHERE id = :event AND capacity >= :cap;\n"
        "SELECT COUNT(*) AS n FROM azavista.events WHERE name = :evil\n", encoding="utf-8")
    run = ok(crmql("-f", script, "--format", "jsonl", "--stats", "--param", f"name={org['name']}",
                   "--param", f"event={event['id']}", "--param", f"cap={event['capacity']}",
                   "--param", "evil=x' OR '1'='1", config=config))
    lines = [json.loads(ln) for ln in run.stdout.splitlines() if ln.strip()]
    assert lines == [{"n": len(ORGS)}, {"id": org["id"], "name": org["name"]}, {"name": event["name"]}, {"n": 0}]
    assert len([ln for ln in run.stderr.splitlines() if STATS_LINE.match(ln)]) == 4


# ---- errors and exit codes ------------------------------------------------------------------------------

def test_exit_codes_and_messages(crmql: Callable[..., Run], config: Path, tmp_path: Path,
                                 write_config: Callable[..., Path], sandbox: SandboxServer) -> None:
    bad_secret = write_config(tmp_path / "bad.toml", sandbox.url, client_secret="not-the-secret")
    syntax, unknown, flag, param, vendor, missing = parallel(
        lambda: crmql("-e", "SELEC name FROM azavista.events", config=config),
        lambda: crmql("-e", "SELECT nme FROM azavista.events", config=config),
        lambda: crmql("--bogus-flag", "-e", "SELECT 1", config=config, process=True),  # the process's exit code
        lambda: crmql("--param", "x", "-e", "SELECT name FROM azavista.events WHERE name = :x", config=config),
        lambda: crmql("-e", "SELECT name FROM azavista.events LIMIT 1", config=bad_secret),
        lambda: crmql("-e", "SELECT 1", config=tmp_path / "nowhere.toml"),
    )
    assert syntax.returncode == 1 and "line 1, column 1" in syntax.stderr and "SELEC" in syntax.stderr
    assert unknown.returncode == 1 and "unknown column 'nme'" in unknown.stderr and "did you mean name" in unknown.stderr
    assert flag.returncode == 2 and "--bogus-flag" in flag.stderr and "usage:" in flag.stderr
    assert param.returncode == 2 and "NAME=VALUE" in param.stderr
    assert vendor.returncode == 3 and "authentication failed" in vendor.stderr.lower()
    assert "Azavista" in vendor.stderr and "not-the-secret" not in vendor.stderr + vendor.stdout
    assert missing.returncode == 2 and "does not exist" in missing.stderr
    for run in (syntax, unknown, flag, param, vendor, missing):
        assert run.stdout == "" and "Traceback" not in run.stderr, str(run)


def test_debug_runs_keep_secrets_redacted(crmql: Callable[..., Run], config: Path, tmp_path: Path,
                                          write_config: Callable[..., Path], sandbox: SandboxServer,
                                          tokens: Tokens) -> None:
    bad_secret = write_config(tmp_path / "bad.toml", sandbox.url, client_secret="not-the-secret")
    before = len(tokens.issued)
    good, bad = parallel(
        lambda: crmql("--debug", "--stats", "-e", "SELECT COUNT(*) AS n FROM azavista.events WHERE name LIKE '%Gala%'",
                      "-e", "SELECT id FROM azavista.organizations LIMIT 60", config=config, process=True),
        lambda: crmql("--debug", "-e", "SELECT name FROM azavista.events LIMIT 1", config=bad_secret, process=True),
    )
    ok(good)
    assert len(tokens.issued) > before  # a token was issued and used, and it is not in the output
    assert "DEBUG" in good.stderr and "/3.0/event/search" in good.stderr  # the debug log shows requests
    assert bad.returncode == 3 and "authentication failed" in bad.stderr.lower()
    assert "not-the-secret" not in bad.stderr + bad.stdout


# ---- sandbox subcommands, the default config, the console script -----------------------------------------

def test_sandbox_config_and_dump(crmql: Callable[..., Run], sandbox: SandboxServer, tmp_path: Path) -> None:
    port = sandbox.url.rsplit(":", 1)[1]
    config_run, dump = parallel(lambda: crmql("sandbox", "config", "--port", port, prints_credentials=True),
                                lambda: crmql("sandbox", "dump", "azavista.organizations"))
    ok(config_run)
    assert f"http://127.0.0.1:{port}/azavista" in config_run.stdout and "[connections.azavista]" in config_run.stdout
    written = tmp_path / "from-sandbox-config.toml"
    written.write_text(config_run.stdout, encoding="utf-8")
    data = json.loads(ok(dump).stdout)
    assert len(data) == 500 and data == ORGS
    run = ok(crmql("-e", "SELECT COUNT(*) AS n FROM azavista.organizations", "--format", "csv", config=written))
    assert run.stdout.split() == ["n", "500"]


def test_no_config_means_the_in_process_sandbox(crmql: Callable[..., Run], cli_env: dict[str, str]) -> None:
    assert "CRMQL_CONFIG" not in cli_env and not any(Path(cli_env["HOME"]).iterdir())
    run = ok(crmql("-e", "SELECT COUNT(*) FROM azavista.organizations", process=True))
    assert re.search(r"(?m)^\s*500\s*$", run.stdout), run.stdout


def test_console_script(crmql: Callable[..., Run], config: Path) -> None:
    assert CONSOLE_SCRIPT.exists()
    run = ok(crmql("-e", "SELECT name FROM azavista.organizations ORDER BY name LIMIT 3", "--format", "json",
                   config=config, script=True))
    assert [r["name"] for r in json.loads(run.stdout)] == sorted(o["name"] for o in ORGS)[:3]
