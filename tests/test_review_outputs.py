"""Issue 9, second review (FIX-C): output names, IN lists, shell/export/sandbox fixes."""

from __future__ import annotations

import pytest

from crmql.language import ast
from crmql.plan.bind import bind
from crmql.plan.catalog import Column, ColumnType, Table
from crmql.errors import QueryError
from crmql.language.parser import parse

CONTACTS = Table("azavista", "contacts", (Column("first_name", ColumnType.STRING),
                                          Column("last_name", ColumnType.STRING)))


def _bind(sql: str):
    return bind(parse(sql), lambda c, n: CONTACTS, text=sql)


# ---- 1. a bare name matching two output columns is ambiguous (PostgreSQL: ORDER BY "x" is ambiguous)
@pytest.mark.parametrize("tail, clause, column", [
    ("ORDER BY x", "ORDER BY", 78),
    ("GROUP BY x", "GROUP BY", 78),
    ("GROUP BY 1, 2 HAVING x > 'a'", "HAVING", 90),
])
def test_repeated_alias_is_ambiguous(tail: str, clause: str, column: int) -> None:
    sql = f"SELECT c.first_name AS x, c.last_name AS x FROM azavista.contacts c {tail}"
    with pytest.raises(QueryError) as err:
        _bind(sql)
    text = str(err.value)
    assert f"{clause} x is ambiguous: output columns 1 and 2 are both named x" in text
    assert f"line 1, column {column}" in text


def test_alias_equal_to_a_column_name_is_ambiguous_in_order_by() -> None:
    with pytest.raises(QueryError, match="ORDER BY last_name is ambiguous: output columns 1 and 2"):
        _bind("SELECT c.first_name AS last_name, c.last_name FROM azavista.contacts c ORDER BY last_name")


def test_star_counts_in_positions() -> None:
    with pytest.raises(QueryError, match="output columns 3 and 4 are both named x"):
        _bind("SELECT *, c.first_name AS x, c.last_name AS x FROM azavista.contacts c ORDER BY x")


def test_one_alias_still_binds_as_before() -> None:
    # ORDER BY prefers the output name; GROUP BY with a repeated alias that is an input column takes the column
    q = _bind("SELECT c.first_name AS last_name FROM azavista.contacts c ORDER BY last_name")
    assert q.select.order_by[0].expr == ast.Column("last_name", None, span=q.select.order_by[0].expr.span)
    q = _bind("SELECT c.first_name AS last_name, c.last_name AS last_name FROM azavista.contacts c GROUP BY last_name")
    assert q.select.group_by[0].qualifier == "c"
    q = _bind("SELECT c.first_name AS x, c.last_name AS y FROM azavista.contacts c ORDER BY x, y")
    assert [o.expr.name for o in q.select.order_by] == ["x", "y"]


# ---- 2a. a long IN list is one list parameter, with exactly SQL's three-valued result
def _in_results(values: list, operands: list, negated: bool, monkeypatch: pytest.MonkeyPatch | None = None) -> list:
    from crmql.exec import localsql
    from crmql.exec.executor import local_connection

    kind = {str: "string", int: "integer", float: "float"}
    items = tuple(ast.Literal(v, "null") if v is None else ast.Literal(v, kind[type(v)]) for v in values)
    e = ast.InList(ast.Column("v", "t"), items, negated=negated)
    params: list = []
    sql = localsql.expr_sql(e, params)
    con = local_connection()
    con.execute("CREATE TEMP TABLE src(i INTEGER, v " + ("VARCHAR" if isinstance(values[0], str) else "DOUBLE") + ")")
    con.executemany("INSERT INTO src VALUES (?, ?)", list(enumerate(operands)))
    out = con.execute(f"SELECT {sql} FROM src AS t ORDER BY i", params).fetchall()
    con.close()
    return [r[0] for r in out], sql, params


@pytest.mark.parametrize("negated", [False, True])
@pytest.mark.parametrize("with_null", [False, True])
@pytest.mark.parametrize("numbers", [False, True])
def test_long_in_list_keeps_three_valued_logic(negated: bool, with_null: bool, numbers: bool,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    from crmql.exec import localsql

    values = [float(i) for i in range(200)] if numbers else [f"x{i}" for i in range(200)]
    if with_null:
        values.insert(50, None)
    operands = [values[0], values[-1], 1e9 if numbers else "nope", None]
    fast, sql, params = _in_results(values, operands, negated)
    assert "unnest" in sql and len(params) == 1  # one list parameter, not 200
    monkeypatch.setattr(localsql, "LIST_PARAM_MIN", 10**9)
    slow, sql, params = _in_results(values, operands, negated)
    assert "unnest" not in sql and len(params) == len([v for v in values if v is not None])
    assert fast == slow
    assert fast[3] is None and (fast[2] is None) == with_null


def test_short_or_mixed_in_lists_keep_one_parameter_each() -> None:
    from crmql.exec.localsql import expr_sql

    short = ast.InList(ast.Column("v"), tuple(ast.Literal(i, "integer") for i in range(64)))
    mixed = ast.InList(ast.Column("v"), tuple(ast.Literal(i, "integer") for i in range(100)) + (ast.Literal(1.5, "float"),))
    for e in (short, mixed):
        params: list = []
        assert "unnest" not in expr_sql(e, params) and len(params) == len(e.items)


# ---- 2b. with a LIMIT the local check runs once enough rows arrived, not once per page
_LONG_IN = ", ".join(f"'x{i}'" for i in range(100)) + ", 'anna'"


def test_limit_counts_passes_only_when_the_limit_is_reachable(make_session, sandbox,
                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    from crmql.exec import executor

    counters: list = []
    real = executor._PassCounter

    def spy(scan):  # noqa: ANN001, ANN202
        counters.append(real(scan))
        return counters[-1]

    monkeypatch.setattr(executor, "_PassCounter", spy)
    session = make_session()
    session.execute("SELECT id FROM azavista.contacts LIMIT 1")  # signs in: later counts are pages only
    counters.clear()
    where = f"FROM azavista.contacts WHERE lower(first_name) IN ({_LONG_IN})"
    whole = session.execute(f"SELECT id {where}")
    limited = session.execute(f"SELECT id {where} LIMIT 100000")
    assert sorted(limited.frame["id"]) == sorted(whole.frame["id"]) and len(whole.frame) > 0
    assert limited.stats.requests == whole.stats.requests  # the same pages, none more
    assert [c.runs for c in counters] == [0]  # 10,000 rows never reach 100,000: never counted
    few = session.execute(f"SELECT id {where} LIMIT 3")
    assert len(few.frame) == 3 and few.stats.requests < whole.stats.requests and counters[-1].runs >= 1


def test_streamed_limit_runs_duckdb_per_batch_not_per_page(make_session, sandbox, tmp_path,
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    from crmql.exec import executor

    runs: list[int] = []
    real = executor.select_sql

    def spy(*args, **kwargs):  # noqa: ANN002, ANN003, ANN202
        runs.append(1)
        return real(*args, **kwargs)

    monkeypatch.setattr(executor, "select_sql", spy)
    session = make_session()
    session.execute("SELECT id FROM azavista.contacts LIMIT 1")  # signs in: later counts are pages only
    runs.clear()
    where = f"FROM azavista.contacts WHERE lower(first_name) IN ({_LONG_IN})"
    whole = session.execute(f"COPY (SELECT id {where}) TO '{tmp_path / 'a.csv'}'")
    n_whole = len(runs)
    limited = session.execute(f"COPY (SELECT id {where} LIMIT 100000) TO '{tmp_path / 'b.csv'}'")
    assert sorted((tmp_path / "a.csv").read_text().splitlines()) == sorted((tmp_path / "b.csv").read_text().splitlines())
    assert limited.stats.requests == whole.stats.requests > 20
    assert len(runs) - n_whole == n_whole < whole.stats.requests / 5  # batches, as without a LIMIT
    runs.clear()
    session.execute(f"COPY (SELECT id {where} LIMIT 2) TO '{tmp_path / 'c.csv'}'")
    assert len((tmp_path / "c.csv").read_text().splitlines()) == 3 and runs


# ---- 3 and 8. \o reads extensions as --output and COPY TO do: .tsv is tab-separated; a date is no extension
def _shell(url: str):  # noqa: ANN202
    import io

    from crmql.api.config import sandbox_config
    from crmql.surfaces.repl.app import Shell
    from crmql.surfaces.repl.settings import ReplSettings

    class Out(io.StringIO):
        def isatty(self) -> bool:
            return False

    return Shell(sandbox_config(url), settings=ReplSettings.from_config({}, env={}), out=Out(), err=Out())


def test_o_tsv_writes_the_bytes_of_output_tsv(sandbox, tmp_path) -> None:
    import crmql
    from crmql.export import write_frame

    sql = "SELECT name, city FROM azavista.organizations ORDER BY id LIMIT 3"  # 10 pages, not contacts' 200
    shell = _shell(sandbox.url)
    try:
        assert shell.run_command(f"\\o {tmp_path / 'x.tsv'}")
        assert shell._output is not None, shell.err.getvalue()
        assert "as tab-separated csv" in shell.err.getvalue() + shell.out.getvalue()
        shell.run_sql(sql)
        shell.run_command("\\o")
    finally:
        shell.close()
    with crmql.connect(crmql.api.config.sandbox_config(sandbox.url)) as session:
        write_frame(session.query(sql), tmp_path / "y.tsv")
    assert (tmp_path / "x.tsv").read_bytes() == (tmp_path / "y.tsv").read_bytes()
    assert (tmp_path / "x.tsv").read_text().splitlines()[0] == "name\tcity"


def test_o_txt_is_the_table_and_a_date_suffix_is_no_extension(tmp_path) -> None:
    from pathlib import Path

    from crmql.export import ExportOptions
    from crmql.surfaces.repl.display import output_delimiter, output_format

    assert output_format(Path("a.txt")) == "table" and output_format(Path("a")) is None
    assert output_format(Path("report.2024")) is None and output_format(Path("contacts.2026-12-03")) is None
    assert output_delimiter(Path("a.TSV")) == "\t" and output_delimiter(Path("a.csv")) == ","
    with pytest.raises(ValueError, match="cannot tell the format of a.xlsx"):
        output_format(Path("a.xlsx"))
    assert ExportOptions.for_path(tmp_path / "report.2024").format == "csv"
    assert ExportOptions.for_path(tmp_path / "contacts.2026-12-03").format == "csv"


# ---- 4. a port out of range is a configuration error naming it (exit 2), not an internal error
@pytest.mark.parametrize("port", ["70000", "-1"])
def test_sandbox_serve_port_out_of_range_is_a_config_error(port: str) -> None:
    import subprocess
    import sys

    done = subprocess.run([sys.executable, "-m", "crmql", "sandbox", "serve", "--port", port],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 2, done.stderr
    assert f"cannot serve the sandbox on port {port}: a port is a number from 0 to 65535" in done.stderr
    assert "internal error" not in done.stderr and "Traceback" not in done.stderr


def test_sandbox_config_hint_names_a_host_that_is_not_the_default() -> None:
    from crmql.sandbox.core.server import config_hint

    assert config_hint("http://127.0.0.1:8765") == "crmql sandbox config --port 8765 > crmql.toml"
    assert config_hint("http://[::1]:9000") == "crmql sandbox config --host ::1 --port 9000 > crmql.toml"
    assert config_hint("http://0.0.0.0:9000").startswith("crmql sandbox config --host 0.0.0.0 --port 9000")


# ---- 5. an export to a dangling symlink creates the link's target; the link stays a link
def test_export_to_a_dangling_symlink_keeps_the_link(tmp_path) -> None:
    import os

    import pandas as pd

    from crmql.export import write_frame

    link = tmp_path / "link.csv"
    os.symlink("real.csv", link)  # relative and dangling
    assert not link.exists() and link.is_symlink()
    write_frame(pd.DataFrame({"a": [1, 2]}), link)
    assert link.is_symlink() and os.readlink(link) == "real.csv"
    assert (tmp_path / "real.csv").read_text().splitlines() == ["a", "1", "2"]
    chained = tmp_path / "chain.csv"
    os.symlink(link, chained)  # a link to the (now live) link: the final file is replaced
    write_frame(pd.DataFrame({"a": [3]}), chained)
    assert chained.is_symlink() and link.is_symlink() and (tmp_path / "real.csv").read_text().splitlines() == ["a", "3"]


# ---- 6. EXPLAIN is text: under a structured extension it is refused, before anything is fetched
@pytest.mark.parametrize("name", ["plan.parquet", "plan.json", "plan.jsonl", "plan.md"])
def test_explain_to_a_structured_file_is_refused(make_session, sandbox, tmp_path, name: str) -> None:
    from crmql.errors import ExportError
    from crmql.api.copy import export_statement

    session = make_session()
    with pytest.raises(ExportError, match=f"EXPLAIN writes text, not [a-z]+: cannot write .*{name}") as err:
        export_statement(session, "EXPLAIN ANALYZE SELECT id FROM azavista.contacts LIMIT 1", tmp_path / name)
    assert "use a .txt file or one with no extension" in str(err.value)
    assert not (tmp_path / name).exists()
    assert sandbox.request_log == []  # EXPLAIN ANALYZE did not run


@pytest.mark.parametrize("name", ["plan.txt", "plan", "plan.csv"])
def test_explain_to_a_text_file_writes_the_plan(make_session, sandbox, tmp_path, name: str) -> None:
    from crmql.api.copy import export_statement

    result = export_statement(make_session(), "EXPLAIN SELECT id FROM azavista.contacts LIMIT 1", tmp_path / name)
    assert result.text == f"wrote the plan to {tmp_path / name}"
    assert "azavista.contacts" in (tmp_path / name).read_text()


# ---- 7. a COPY to the process's stdout puts its summary on stderr, not into the piped data
_SHELL_COPY = """
import sys
from crmql.api.config import sandbox_config
from crmql.surfaces.repl.app import Shell
from crmql.surfaces.repl.settings import ReplSettings
shell = Shell(sandbox_config(sys.argv[1]), settings=ReplSettings.from_config({}, env={}), out=sys.stdout, err=sys.stderr)
shell.run_sql("COPY (SELECT id FROM azavista.organizations ORDER BY id LIMIT 2) TO '/dev/stdout'")
shell.close()
"""


def test_shell_copy_to_stdout_sends_its_summary_to_stderr(sandbox) -> None:
    import subprocess
    import sys

    done = subprocess.run([sys.executable, "-c", _SHELL_COPY, sandbox.url], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert len(lines) == 3 and lines[0] == "id", done.stdout  # the header and two rows, nothing after
    assert "COPY 2 rows to /dev/stdout (csv)" in done.stderr


def test_summary_on_stderr_only_for_the_process_stdout(tmp_path) -> None:
    import subprocess
    import sys

    from crmql.export import is_stdout

    code = ("import sys; from crmql.export import is_stdout; "
            "sys.stderr.write(repr([is_stdout(p) for p in sys.argv[1:]]))")
    paths = ["/dev/stdout", "/dev/fd/1", "/proc/self/fd/1", "/dev/stderr", str(tmp_path / "x.csv")]
    done = subprocess.run([sys.executable, "-c", code, *paths], capture_output=True, text=True, timeout=60)
    assert done.stderr == repr([True, True, True, False, False])
    assert not is_stdout(tmp_path / "missing.csv")


def test_cli_copy_to_dev_stdout_keeps_its_summary_off_the_data(cli_env: dict[str, str]) -> None:
    """`crmql -e "COPY ... TO '/dev/stdout'" | next-tool`: stdout holds the CSV alone."""
    import subprocess
    import sys
    proc = subprocess.run([sys.executable, "-m", "crmql", "-e",
                           "COPY (SELECT id FROM azavista.organizations ORDER BY id LIMIT 2) TO '/dev/stdout'"],
                          env=cli_env, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.splitlines()[0] == "id" and len(proc.stdout.splitlines()) == 3
    assert "COPY 2 rows to /dev/stdout (csv)" in proc.stderr and "COPY" not in proc.stdout
