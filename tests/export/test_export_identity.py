"""One query, one format, the same bytes: the CLI's --output, COPY (from the CLI and the Python API)
and a DataFrame from the notebook magic written with write_frame."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from crmql.export import write_frame

from cli_support import run_crmql_in_process

SQL = "SELECT id, first_name, last_name, email, organization_manager, created_at, external_id FROM azavista.contacts WHERE country = 'NL'"


def cli(args: list[str], env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "crmql", *args], capture_output=True, text=True, env=env, cwd=cwd,
                          timeout=120)


def cli_main(argv: list[str]) -> str:
    """Run ``crmql.surfaces.cli.main`` in this process; return what it printed on stdout."""
    import contextlib
    import io
    import logging

    from crmql.surfaces.cli import main

    logger = logging.getLogger("crmql")
    handlers, level = logger.handlers[:], logger.level
    out = io.StringIO()
    try:
        with contextlib.redirect_stdout(out):
            assert main(argv) == 0
    finally:
        logger.handlers[:], logger.level = handlers, level
    return out.getvalue()


@pytest.fixture
def magic_frame(sandbox: Any, tmp_path: Path, write_config: Any) -> Any:
    from IPython.testing.globalipapp import get_ipython

    ip = get_ipython()
    config = write_config(tmp_path / "magic.toml", sandbox.url)
    ip.config.pop("Crmql", None)
    ip.run_line_magic("load_ext", "crmql")
    ip.run_line_magic("config", f"Crmql.config_file = {str(config)!r}")
    ip.run_line_magic("config", "Crmql.progress = False")
    try:
        result = ip.run_cell(f"df = %crmql {SQL}")
        assert result.error_in_exec is None
        yield ip.user_ns.pop("df")
    finally:
        ip.run_line_magic("unload_ext", "crmql")
        ip.config.pop("Crmql", None)


FORMATS = ("csv", "jsonl", "parquet")


def test_cli_copy_and_notebook_write_the_same_bytes(sandbox: Any, make_session: Any, magic_frame: Any, tmp_path: Path,
                                                    write_config: Any, cli_env: dict[str, str]) -> None:
    config = write_config(tmp_path, sandbox.url)
    out = cli(["--config", str(config), "-e", SQL, "--output", "cli.csv"], cli_env, tmp_path)  # a real process
    assert out.returncode == 0, out.stderr
    assert out.stdout == ""  # the data went to the file, nothing else anywhere
    for fmt in FORMATS[1:]:  # the same code in this process (saves starting Python twice more)
        assert cli_main(["--config", str(config), "-e", SQL, "--output", str(tmp_path / f"cli.{fmt}")]) == ""
    copies = [arg for fmt in FORMATS for arg in ("-e", f"COPY ({SQL}) TO 'copy-cli.{fmt}' WITH (FORMAT {fmt})")]
    copied = run_crmql_in_process(["--config", str(config), *copies], env=cli_env, cwd=tmp_path)  # in this process
    assert copied.returncode == 0, copied.stderr
    assert copied.stdout.splitlines() == [f"COPY 2251 rows to copy-cli.{fmt} ({fmt})" for fmt in FORMATS]
    session = make_session()
    for fmt in FORMATS:
        session.execute(f"COPY ({SQL}) TO '{tmp_path / f'copy-api.{fmt}'}' WITH (FORMAT {fmt})")
        write_frame(magic_frame, tmp_path / f"notebook.{fmt}")

    for fmt in FORMATS:
        files = [tmp_path / f"{name}.{fmt}" for name in ("cli", "copy-cli", "copy-api", "notebook")]
        data = [f.read_bytes() for f in files]
        assert len(data[0]) > 1000
        assert all(d == data[0] for d in data), [f.name for f, d in zip(files, data) if d != data[0]]


def test_cli_output_of_other_statements(sandbox: Any, make_session: Any, tmp_path: Path, write_config: Any,
                                        cli_env: dict[str, str]) -> None:
    config = write_config(tmp_path, sandbox.url)
    out = run_crmql_in_process(["--config", str(config), "-e", "EXPLAIN SELECT name FROM azavista.events",
                                "--output", "plan.txt"], env=cli_env, cwd=tmp_path)  # the command's code, in this process
    assert out.returncode == 0 and "POST /3.0/event/search" in (tmp_path / "plan.txt").read_text()
    out = run_crmql_in_process(["--config", str(config), "-e", "COPY (SELECT name FROM azavista.events) TO 'x.csv'",
                                "--output", "y.csv"], env=cli_env, cwd=tmp_path)
    assert out.returncode == 1 and "COPY writes its own file" in out.stderr
    assert not (tmp_path / "x.csv").exists() and not (tmp_path / "y.csv").exists()

    from crmql.api.copy import export_statement  # what --output (and the shell's \\o) call

    session = make_session()
    result = export_statement(session, "DESCRIBE azavista.events", tmp_path / "cols" / "described.csv")
    assert result.kind == "copy" and (tmp_path / "cols" / "described.csv").read_bytes().startswith(b"column,")
    export_statement(session, "SELECT name FROM azavista.events LIMIT 2", tmp_path / "n.md")
    assert (tmp_path / "n.md").read_text().startswith("| name |")
    export_statement(session, "SHOW TABLES", tmp_path / "t.jsonl")
    assert '"table": "events"' in (tmp_path / "t.jsonl").read_text()


def test_cli_output_failure_leaves_the_old_file(sandbox: Any, tmp_path: Path, write_config: Any,
                                                cli_env: dict[str, str]) -> None:
    config = write_config(tmp_path, sandbox.url, retry_base_s=0.001, retry_cap_s=0.002, max_attempts=2)
    (tmp_path / "keep.csv").write_text("keep me\n")
    sandbox.settings.faults = "503@" + "+".join(str(n) for n in range(2, 1000))
    out = cli(["--config", str(config), "-e", "SELECT * FROM azavista.contacts", "--output", "keep.csv"], cli_env, tmp_path)
    assert out.returncode == 3 and "503" in out.stderr and "Traceback" not in out.stderr
    assert (tmp_path / "keep.csv").read_text() == "keep me\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["crmql.toml", "home", "keep.csv"]
