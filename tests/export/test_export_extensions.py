"""The format of an export follows the file's extension; an extension crmql does not write is a
clear error listing the formats, never a silent CSV (issue 9, point 22: ``--output x.xlsx``)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

import crmql.export as export
from crmql.errors import QueryError
from crmql.export import ExportOptions

FRAME = pd.DataFrame({"name": ["a"], "n": [1]})


@pytest.mark.parametrize("name, fmt", [("o.csv", "csv"), ("o.JSON", "json"), ("o.jsonl", "jsonl"),
                                       ("o.ndjson", "jsonl"), ("o.md", "markdown"), ("o.markdown", "markdown"),
                                       ("o.parquet", "parquet"), ("o.txt", "table"), ("out", "csv"),
                                       ("/dev/stdout", "csv"), (".hidden", "csv"), ("o.tsv", "csv")])
def test_known_extensions_and_none(name: str, fmt: str) -> None:
    assert ExportOptions.for_path(name).format == fmt


@pytest.mark.parametrize("name", ["x.xlsx", "x.xls", "x.tar.gz", "report.v2"])
def test_an_unknown_extension_is_an_error(name: str, tmp_path: Path) -> None:
    with pytest.raises(QueryError) as info:
        ExportOptions.for_path(name)
    message = str(info.value)
    assert f"cannot tell the format of {name}" in message
    assert ".csv" in message and ".parquet" in message and "csv, jsonl, json, parquet, markdown, table" in message
    with pytest.raises(QueryError):
        export.write_frame(FRAME, tmp_path / name)
    assert list(tmp_path.iterdir()) == []
    export.write_frame(FRAME, tmp_path / name, format="jsonl")  # a format named: any file name
    assert (tmp_path / name).read_text(encoding="utf-8") == '{"name": "a", "n": 1}\n'


def test_tsv_is_tab_separated_csv(tmp_path: Path) -> None:
    export.write_frame(FRAME, tmp_path / "a.tsv")
    assert (tmp_path / "a.tsv").read_bytes() == b"name\tn\r\na\t1\r\n"
    export.write_frame(FRAME, tmp_path / "b.tsv", delimiter=";")
    assert (tmp_path / "b.tsv").read_bytes() == b"name;n\r\na;1\r\n"


def test_copy_to_an_unknown_extension_fails_before_any_request(session: Any, sandbox: Any, tmp_path: Path) -> None:
    before = len(sandbox.request_log)
    target = tmp_path / "contacts.xlsx"
    with pytest.raises(QueryError, match="cannot tell the format of contacts.xlsx"):
        session.execute(f"COPY (SELECT * FROM azavista.contacts) TO '{target}'")
    assert len(sandbox.request_log) == before
    assert list(tmp_path.iterdir()) == []
    session.execute(f"COPY (SELECT name FROM azavista.organizations LIMIT 1) TO '{target}' WITH (FORMAT csv)")
    assert target.read_bytes().startswith(b"name\r\n")


def test_cli_output_xlsx(cli_env: dict[str, str], tmp_path: Path) -> None:
    target = tmp_path / "x.xlsx"
    proc = subprocess.run([sys.executable, "-m", "crmql", "-e", "SELECT name FROM azavista.organizations LIMIT 2",
                           "--output", str(target)], env=cli_env, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 1
    assert proc.stderr.startswith("error: cannot tell the format of x.xlsx: crmql does not write .xlsx files")
    assert "Traceback" not in proc.stderr and "parquet" in proc.stderr
    assert not target.exists() and list(tmp_path.iterdir()) == [tmp_path / "home"]


def test_cli_format_parquet_names_the_format_of_any_path(cli_env: dict[str, str], tmp_path: Path) -> None:
    """The hint for an unknown extension says --format: every export format must be accepted there."""
    import pyarrow.parquet as pq

    target = tmp_path / "report.dat"
    run = [sys.executable, "-m", "crmql", "-e", "SELECT id, name FROM azavista.organizations LIMIT 2"]
    proc = subprocess.run([*run, "--format", "parquet", "--output", str(target)], env=cli_env, capture_output=True,
                          text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert pq.read_table(target).column_names == ["id", "name"] and pq.read_table(target).num_rows == 2
    proc = subprocess.run([*run, "--format", "parquet"], env=cli_env, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2 and "--format parquet needs --output" in proc.stderr
