"""Parquet, JSON Lines, JSON, Markdown and text exports: round trips, and the same bytes whether rows
arrive page by page (COPY) or as one DataFrame (write_frame), and as the CLI's --format prints."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow.parquet as pq
import pytest
from export_helpers import assert_same_rows, synthetic_session

from crmql.export import PARQUET_ROW_GROUP, frame_bytes, write_frame
from crmql.exec.formats import render

QUERIES = [
    "SELECT * FROM azavista.events WHERE event_type = 'sales'",
    "SELECT * FROM azavista.contacts WHERE country = 'NL'",
    "SELECT id, name, employee_count, created_at FROM azavista.organizations",
]
_frames: dict[str, pd.DataFrame] = {}


def query(session: Any, sql: str) -> pd.DataFrame:
    """The rows of ``sql`` (the sandbox's data is seeded: the same every time)."""
    if sql not in _frames:
        _frames[sql] = session.query(sql)
    return _frames[sql]


@pytest.mark.parametrize("sql", QUERIES)
def test_parquet_round_trip(session: Any, tmp_path: Path, sql: str) -> None:
    path = tmp_path / "out.parquet"
    session.execute(f"COPY ({sql}) TO '{path}' WITH (FORMAT parquet)")
    frame = query(session, sql)
    back = pd.read_parquet(path)
    assert_same_rows(back, frame)
    schema = pq.read_schema(path)
    assert not schema.metadata  # no pandas index metadata: any reader sees the same columns
    write_frame(frame, tmp_path / "df.parquet")
    assert (tmp_path / "df.parquet").read_bytes() == path.read_bytes()


def test_parquet_types(session: Any, tmp_path: Path) -> None:
    path = tmp_path / "e.parquet"
    session.execute(f"COPY (SELECT name, start, capacity, price, is_virtual, external_reference "
                    f"FROM azavista.events) TO '{path}'")
    types = {f.name: str(f.type) for f in pq.read_schema(path)}
    assert types == {"name": "string", "start": "timestamp[us, tz=UTC]", "capacity": "int64", "price": "double",
                     "is_virtual": "bool", "external_reference": "string"}


def test_parquet_row_groups_do_not_depend_on_how_rows_arrived(tmp_path: Path) -> None:
    session = synthetic_session(25_000)
    try:
        session.execute(f"COPY (SELECT * FROM synthetic.rows) TO '{tmp_path / 'a.parquet'}'")
        write_frame(session.query("SELECT * FROM synthetic.rows"), tmp_path / "b.parquet")
    finally:
        session.close()
    meta = pq.read_metadata(tmp_path / "a.parquet")
    assert [meta.row_group(i).num_rows for i in range(meta.num_row_groups)] == [PARQUET_ROW_GROUP] * 2 + [5_000]
    assert (tmp_path / "a.parquet").read_bytes() == (tmp_path / "b.parquet").read_bytes()
    back = pd.read_parquet(tmp_path / "a.parquet")
    assert len(back) == 25_000 and back["tags"][0].tolist() == ["a", "b"] and back["tags"][1] is None


def test_parquet_of_no_rows_keeps_the_columns(session: Any, tmp_path: Path) -> None:
    path = tmp_path / "none.parquet"
    result = session.execute(f"COPY (SELECT name, start FROM azavista.events WHERE 1 = 2) TO '{path}'")
    assert result.stats.rows == 0
    back = pd.read_parquet(path)
    assert list(back.columns) == ["name", "start"] and len(back) == 0


def test_jsonl_round_trip(session: Any, tmp_path: Path) -> None:
    path = tmp_path / "c.jsonl"
    session.execute(f"COPY (SELECT * FROM azavista.contacts WHERE country = 'NL') TO '{path}' WITH (FORMAT jsonl)")
    frame = session.query("SELECT * FROM azavista.contacts WHERE country = 'NL'")
    lines = path.read_text(encoding="utf-8").splitlines()
    assert len(lines) == len(frame)
    first = json.loads(lines[0])
    assert list(first) == list(frame.columns)
    assert first["created_at"].endswith("Z") and "external_id" in first and first["external_id"] is None
    back = pd.DataFrame([json.loads(x) for x in lines])
    back["created_at"] = pd.to_datetime(back["created_at"], utc=True, format="ISO8601").astype(frame["created_at"].dtype)
    back["updated_at"] = pd.to_datetime(back["updated_at"], utc=True, format="ISO8601").astype(frame["updated_at"].dtype)
    assert_same_rows(back, frame)


@pytest.mark.parametrize("fmt", ["csv", "jsonl", "json", "markdown"])
@pytest.mark.parametrize("sql", QUERIES[:2])
def test_copy_writes_what_the_cli_prints(session: Any, tmp_path: Path, fmt: str, sql: str) -> None:
    path = tmp_path / f"out.{fmt}"
    session.execute(f"COPY ({sql}) TO '{path}' WITH (FORMAT {fmt})")
    frame = query(session, sql)
    assert path.read_bytes() == render(frame, fmt).encode("utf-8") == frame_bytes(frame, fmt)


def test_json_of_no_rows(tmp_path: Path) -> None:
    empty = pd.DataFrame({"a": pd.Series([], dtype="int64")})
    assert frame_bytes(empty, "json") == render(empty, "json").encode() == b"[]\n"


def test_text_table(session: Any, tmp_path: Path) -> None:
    path = tmp_path / "t.txt"
    session.execute(f"COPY (SELECT name, capacity FROM azavista.events LIMIT 3) TO '{path}' WITH (FORMAT table)")
    frame = session.query("SELECT name, capacity FROM azavista.events LIMIT 3")
    assert path.read_text(encoding="utf-8") == render(frame, "table", max_cell=None, footer=False) + "\n"
