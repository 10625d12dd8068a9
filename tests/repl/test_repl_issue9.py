"""The shell's part of issue 9, end to end through a pty (pexpect) against the sandbox on loopback:
a private history file (16), tables completing from the first keystroke (19), a quiet Ctrl-C on the
built-in sandbox (20), and ``help``, ``\\o FILE.csv``, ``\\i`` errors located in the file and no
aggregate offered after WHERE (22).
"""

from __future__ import annotations

import os
import stat
import sys
import time
from pathlib import Path

import pytest

pexpect = pytest.importorskip("pexpect")

from test_repl_pty import COLS, PROMPT, ROWS, Repl, repl_env  # noqa: E402,F401 - after the importorskip; repl_env: a fixture

from cli_support import run_crmql_in_process  # noqa: E402

REPO = Path(__file__).resolve().parents[2]


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture
def env(repl_env: dict[str, str], cli_env: dict[str, str]) -> dict[str, str]:
    """test_repl_pty's terminal, with the state directory (the history's default home) in the test's HOME."""
    return {**repl_env, "XDG_STATE_HOME": str(Path(cli_env["HOME"]) / ".local" / "state")}


@pytest.fixture
def config(tmp_path: Path, sandbox, write_config) -> Path:
    return write_config(tmp_path / "crmql.toml", sandbox.url)


@pytest.fixture
def shells():
    started: list[Repl] = []
    yield started
    for shell in started:
        shell.kill()


def _start(shells: list[Repl], config: Path, env: dict[str, str]) -> Repl:
    shell = Repl(config, env)
    shells.append(shell)
    return shell


# ---- 16: the history file is private ---------------------------------------------------------------

def test_history_in_the_state_directory_is_tightened_to_0600_in_a_0700_directory(config, env, shells):
    env = dict(env)
    del env["CRMQL_HISTORY"]
    state = Path(env["XDG_STATE_HOME"]) / "crmql"
    state.mkdir(parents=True)
    os.chmod(state, 0o755)
    history = state / "history"
    history.write_text("", encoding="utf-8")
    os.chmod(history, 0o644)  # as an older crmql (and the umask) left them
    shell = _start(shells, config, env)
    shell.run("SELECT COUNT(*) AS n FROM azavista.organizations WHERE city = 'private-literal';", "(1 row)")
    assert shell.quit() == 0
    assert "private-literal" in history.read_text(encoding="utf-8")
    assert (_mode(history), _mode(state)) == (0o600, 0o700), (oct(_mode(history)), oct(_mode(state)))


def test_a_new_history_file_is_created_0600_in_a_new_0700_directory(config, env, shells, tmp_path: Path):
    history = tmp_path / "fresh" / "dir" / "history"
    env = {**env, "CRMQL_HISTORY": str(history)}
    old = os.umask(0o022)  # the usual umask: files 0644, directories 0755 unless asked otherwise
    try:
        shell = _start(shells, config, env)
    finally:
        os.umask(old)
    shell.run("SELECT COUNT(*) AS n FROM azavista.organizations;", "(1 row)")
    assert shell.quit() == 0
    assert (_mode(history), _mode(history.parent)) == (0o600, 0o700)


# ---- 19: static tables complete from the first keystroke --------------------------------------------

def test_static_tables_complete_before_the_session_has_started(config, env, shells, tmp_path: Path):
    """pandas is made to take 8 s to import, so the session (and the schema load that needs it)
    cannot be ready: azavista's tables and columns, declared in code, still complete at once."""
    hook = tmp_path / "slow_pandas"
    hook.mkdir()
    (hook / "sitecustomize.py").write_text(  # the sleep is in the module's execution: no global import lock held
        "import importlib.machinery, sys, time\n"
        "class _Slow:\n"
        "    def find_spec(self, name, path=None, target=None):\n"
        "        if name != 'pandas':\n"
        "            return None\n"
        "        spec = importlib.machinery.PathFinder.find_spec(name, path)\n"
        "        real = spec.loader.exec_module\n"
        "        def exec_module(module):\n"
        "            time.sleep(8)\n"
        "            real(module)\n"
        "        spec.loader.exec_module = exec_module\n"
        "        return spec\n"
        "sys.meta_path.insert(0, _Slow())\n", encoding="utf-8")
    env = {**env, "PYTHONPATH": f"{hook}{os.pathsep}{env['PYTHONPATH']}"}
    shell = _start(shells, config, env)
    typed = time.perf_counter()
    shell.child.send("SELECT * FROM azavista.eve")
    shell.child.expect_exact("20 columns", timeout=5)  # the menu: events · table · 20 columns
    elapsed = time.perf_counter() - typed
    print(f"\nazavista.eve -> events completed {elapsed:.3f} s after typing")
    shell.child.send("\x03")  # Ctrl-C clears the input
    shell.child.expect_exact(PROMPT)
    shell.child.send("SELECT * FROM azavista.events WHERE event_t")
    shell.child.expect_exact("event_type", timeout=5)  # a column of a declared table, too
    shell.child.send("\x03")
    shell.child.expect_exact(PROMPT)


# ---- 20: Ctrl-C on the built-in sandbox prints no traceback ------------------------------------------

def test_ctrl_c_on_the_built_in_sandbox_prints_no_traceback(env, shells):
    env = {**env, "CRMQL_SANDBOX_LATENCY_MS": "300"}
    child = pexpect.spawn(sys.executable, ["-m", "crmql"], env=env, encoding="utf-8", dimensions=(ROWS, COLS),
                          timeout=60)
    try:
        import io

        log = io.StringIO()
        child.logfile_read = log
        child.expect_exact(PROMPT)
        assert "built-in sandbox" in log.getvalue()
        for attempt in range(3):
            child.send("SELECT * FROM azavista.contacts;\r")
            child.expect(r"\d+/\d+ pages")  # requests are in flight
            child.sendintr()
            child.expect_exact("cancelled after")
            child.expect_exact(PROMPT)
        time.sleep(1.0)  # the server's handlers wake from their latency and meet the disconnects
        child.send("SELECT COUNT(*) AS n FROM azavista.organizations;\r")
        child.expect_exact("(1 row)")
        child.expect_exact(PROMPT)
        out = log.getvalue()
        assert "Traceback" not in out and "ClientDisconnect" not in out and "Exception in ASGI" not in out, out[-3000:]
        child.sendeof()
        child.expect(pexpect.EOF)
    finally:
        child.terminate(force=True)


# ---- 22: help, \o FILE.csv, \i errors located in the file ---------------------------------------------

def test_help_and_backslash_h_show_the_help(config, env, shells):
    shell = _start(shells, config, env)
    out = shell.run("help", "\\dt", "Ctrl-D quits")
    assert "syntax error" not in out
    out = shell.run("help;", "\\conninfo")
    assert "syntax error" not in out
    out = shell.run("\\h", "\\conninfo")
    assert "unknown command" not in out
    assert shell.quit() == 0


def test_o_file_follows_its_extension_with_the_bytes_of_output(config, env, shells, tmp_path: Path):
    sql = "SELECT name, employee_count, city FROM azavista.organizations ORDER BY name, id LIMIT 5"
    expected = tmp_path / "expected.csv"
    done = run_crmql_in_process(["--config", str(config), "-e", sql, "--output", str(expected)], env=env, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    shell = _start(shells, config, env)
    target = tmp_path / "out.csv"
    shell.run(f"\\o {target}", "as csv")
    shell.run(sql + ";")
    shell.run("\\o", "screen again")
    assert target.read_bytes() == expected.read_bytes()
    assert target.read_bytes().startswith(b"name,employee_count,city\r\n")
    jsonl = tmp_path / "out.jsonl"
    shell.run(f"\\o {jsonl}", "as jsonl")
    shell.run("SELECT COUNT(*) AS n FROM azavista.organizations;")
    shell.run("\\o", "screen again")
    assert jsonl.read_text(encoding="utf-8") == '{"n": 500}\n'
    out = shell.run(f"\\o {tmp_path / 'out.parquet'}", "COPY")
    assert "Results go to" not in out
    assert shell.quit() == 0


def test_include_errors_give_the_line_and_column_in_the_file(config, env, shells, tmp_path: Path):
    script = tmp_path / "report.sql"
    script.write_text("-- a report\n"
                      "SELECT COUNT(*) AS n FROM azavista.organizations;\n"
                      "\n"
                      "SELECT name\n"
                      "  FROM azavista.events\n"
                      "  WHERE nme = 'x';\n"
                      "SELECT COUNT(*) AS m FROM azavista.organizations; SELEC 1;\n", encoding="utf-8-sig")
    shell = _start(shells, config, env)
    out = shell.run(f"\\i {script}", "500", "unknown column", "syntax error", "^")
    # the unknown column is on line 6 of the file, column 9 (line 3 of its statement)
    assert "report.sql: unknown column 'nme'" in out and "at line 6, column 9" in out, out
    # the second statement of line 7 starts at column 51: its syntax error is there, under the file's line
    assert "report.sql: syntax error at line 7, column 51" in out, out
    lines = out.replace("\r", "").split("\n")
    at = next(i for i, line in enumerate(lines) if "syntax error at line 7" in line)
    assert lines[at + 1].strip().startswith("SELECT COUNT(*) AS m") and lines[at + 2].index("^") == lines[at + 1].index("SELEC 1") 
    assert shell.quit() == 0


def test_where_completion_offers_no_aggregate(config):
    """The shell's own completer, wired by its warm-up: count() fits the select list, not WHERE."""
    from prompt_toolkit.completion import CompleteEvent
    from prompt_toolkit.document import Document

    from crmql.api.config import load_config
    from crmql.surfaces.repl.app import Shell

    shell = Shell(load_config(str(config)))
    try:
        shell.start_background()
        shell.session()
        assert shell._warm_thread is not None
        shell._warm_thread.join(30)

        def texts(text: str) -> list[str]:
            doc = Document(text, len(text))
            return [c.text for c in shell.completer.get_completions(doc, CompleteEvent(completion_requested=True))]

        assert "count(" in texts("SELECT cou")
        assert "count(" in texts("SELECT event_type FROM azavista.events GROUP BY event_type HAVING cou")
        assert "count(" in texts("SELECT event_type FROM azavista.events ORDER BY cou")
        where = texts("SELECT name FROM azavista.events WHERE co")
        assert "count(" not in where and "coalesce(" in where
        assert not {"sum(", "avg(", "min(", "max("} & set(texts("SELECT name FROM azavista.events WHERE m") +
                                                           texts("SELECT name FROM azavista.events WHERE s") +
                                                           texts("SELECT name FROM azavista.events WHERE a"))
        assert "count(" not in texts("SELECT name FROM azavista.events GROUP BY cou")
    finally:
        shell.close()


def test_help_and_quit_in_an_included_script(tmp_path: Path):
    """In a \\i file, help shows the help and quit ends the script (and the shell), as at the prompt."""
    import io

    from crmql.api.config import sandbox_config
    from crmql.surfaces.repl.app import Shell
    from crmql.surfaces.repl.settings import ReplSettings

    class Out(io.StringIO):
        def isatty(self) -> bool:
            return False

    shell = Shell(sandbox_config("http://127.0.0.1:9"), settings=ReplSettings.from_config({}, env={}), out=Out(), err=Out())
    script = tmp_path / "s.sql"
    script.write_text("help\nquit\n\\x on\n", encoding="utf-8")
    assert shell.run_command(f"\\i {script}") is False
    assert "\\conninfo" in shell.out.getvalue() and "Expanded" not in shell.out.getvalue()
    assert shell.err.getvalue() == ""



def test_schema_cache_serves_declared_tables_while_the_load_is_stuck():
    """SchemaCache on its own: the declared names (and a catalog built in code) complete while the
    real load (a session, templates over HTTP) has not returned; the loaded tables win once there."""
    import threading

    from crmql.connectors.azavista.connector import AzavistaConnector
    from crmql.surfaces.repl.completer import CrmqlCompleter
    from crmql.surfaces.repl.schema import SchemaCache

    azavista = AzavistaConnector("azavista", {"base_url": "https://example.invalid", "client_id": "x", "client_secret": "y"})
    release = threading.Event()

    def loader(conn: str):
        release.wait(30)
        return azavista.tables() if conn == "azavista" else {}

    def declared(conn: str):
        return (list(azavista.tables()), azavista.tables()) if conn == "azavista" else (["sales", "links"], {})

    schema = SchemaCache(["azavista", "atlas"], loader, declared=declared)
    completer = CrmqlCompleter(schema)
    try:
        from prompt_toolkit.completion import CompleteEvent
        from prompt_toolkit.document import Document

        def texts(text: str) -> list[str]:
            return [c.text for c in completer.get_completions(Document(text, len(text)), CompleteEvent(completion_requested=True))]

        assert texts("SELECT * FROM azavista.eve") == ["events"]
        assert texts("SELECT * FROM atlas.sa") == ["sales"]      # names only: the columns wait for the template
        assert "atlas.sales" in texts("SELECT * FROM ")
        assert "event_type" in texts("SELECT * FROM azavista.events WHERE event_t")
        assert texts("SELECT * FROM atlas.sales WHERE sale") == []
        assert schema.tables("azavista") is None                 # the real load is still running
    finally:
        release.set()
    assert schema.wait(10) and schema.tables("azavista") is not None


def test_o_with_an_extension_crmql_does_not_write_is_an_error(tmp_path: Path):
    import io

    from crmql.api.config import sandbox_config
    from crmql.surfaces.repl.app import Shell
    from crmql.surfaces.repl.settings import ReplSettings

    class Out(io.StringIO):
        def isatty(self) -> bool:
            return False

    shell = Shell(sandbox_config("http://127.0.0.1:9"), settings=ReplSettings.from_config({}, env={}), out=Out(), err=Out())
    assert shell.run_command(f"\\o {tmp_path / 'out.xlsx'}")
    assert "cannot tell the format of out.xlsx" in shell.err.getvalue() and shell._output is None
    assert not (tmp_path / "out.xlsx").exists()
    assert shell.run_command(f"\\o {tmp_path / 'plain'}")  # no extension: the \format in force
    assert shell._output is not None and shell._output_format is None
    shell.close()
