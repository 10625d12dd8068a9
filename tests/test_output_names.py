"""Output names are unique, the same in every path and format (issue 9, points B and 14).

A repeated output name (``c.id, o.id``; ``SELECT *`` over a join; the same column twice) keeps its
first occurrence and the repeats become ``id_1``, ``id_2``, ... (DuckDB's and pandas' scheme for
repeats), whether DuckDB ran or not, on screen, in the Python API and in every export format, so
no value is lost to a repeated JSON key and Parquet can be written.
"""

from __future__ import annotations

import io
import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow.parquet as pq
import pytest

from crmql import Session
from crmql.api.copy import export_statement
from crmql.export import frame_bytes, write_frame
from crmql.exec.formats import python_rows, render, unique_names, with_unique_names

#: narrowed by its organizations (17 requests, not every contact's 211); the names are what is checked
JOIN = ("SELECT c.id, o.id, c.created_at, o.created_at, c.organization_id FROM azavista.contacts c "
        "JOIN azavista.organizations o ON c.organization_id = o.id WHERE o.name LIKE 'A%'")


@pytest.fixture
def session(make_session: Callable[..., Session]) -> Session:
    return make_session()


def _header(text: str, fmt: str) -> list[str]:
    """The column names as a format writes them."""
    if fmt == "csv":
        return text.splitlines()[0].split(",")
    if fmt == "json":
        return list(json.loads(text)[0])
    if fmt == "jsonl":
        return list(json.loads(text.splitlines()[0]))
    if fmt == "markdown":
        return [c.strip() for c in text.splitlines()[0].strip("|").split("|")]
    return [c.strip() for c in text.splitlines()[0].split("|")]  # table


def test_unique_names_scheme() -> None:
    assert unique_names(["id", "name"]) == ["id", "name"]
    assert unique_names(["id", "id", "id"]) == ["id", "id_1", "id_2"]
    # a name the query gave explicitly is never changed: the repeat takes the next free suffix
    assert unique_names(["id", "id", "id_1"]) == ["id", "id_2", "id_1"]
    assert unique_names(["a", "a", "a_1", "a_1"]) == ["a", "a_2", "a_1", "a_1_1"]
    assert unique_names(["A", "a"]) == ["A", "a"]  # distinct keys in JSON, pandas and Parquet
    assert unique_names([1, "1"]) == ["1", "1_1"]
    frame = pd.DataFrame([[1, 2]], columns=["x", "x"])
    assert list(with_unique_names(frame).columns) == ["x", "x_1"]
    unique = pd.DataFrame({"x": [1]})
    assert with_unique_names(unique) is unique


def test_join_json_keeps_both_sides(session: Session) -> None:
    frame = session.query(JOIN + " LIMIT 5")
    assert list(frame.columns) == ["id", "id_1", "created_at", "created_at_1", "organization_id"]
    for fmt in ("json", "jsonl"):
        text = render(frame, fmt)
        rows = json.loads(text) if fmt == "json" else [json.loads(line) for line in text.splitlines()]
        assert len(rows) == 5
        for row in rows:
            assert set(row) == {"id", "id_1", "created_at", "created_at_1", "organization_id"}
            assert row["id_1"] == row["organization_id"] != row["id"]  # the contact's id is kept


def test_select_star_over_a_join(session: Session) -> None:
    frame = session.query("SELECT * FROM azavista.contacts c JOIN azavista.organizations o "
                          "ON c.organization_id = o.id WHERE o.name LIKE 'A%' LIMIT 3")
    names = list(frame.columns)
    contacts = [c.name for c in session.table("azavista", "contacts").columns]
    organizations = [c.name for c in session.table("azavista", "organizations").columns]
    assert names == unique_names(contacts + organizations)
    assert len(set(names)) == len(names) == len(contacts) + len(organizations)
    assert "id_1" in names and "created_at_1" in names
    assert (frame["id_1"] == frame["organization_id"]).all()


@pytest.mark.parametrize("fmt", ["csv", "json", "jsonl", "markdown", "table", "parquet"])
def test_every_format_and_path_same_names(session: Session, tmp_path: Path, fmt: str) -> None:
    """The Python API, the screen, a streamed export, a whole-result export and write_frame."""
    expected = ["name", "name_1", "lower(name)", "lower(name)_1"]
    streamed = "SELECT name, name, lower(name), lower(name) FROM azavista.organizations LIMIT 3"
    whole = streamed.replace("LIMIT 3", "ORDER BY name LIMIT 3")  # ORDER BY: not streamed (10 pages, not events' 48)
    frame = session.query(streamed)
    assert list(frame.columns) == expected
    assert list(session.query(whole).columns) == expected
    ext = {"markdown": "md", "table": "txt"}.get(fmt, fmt)
    outputs = []
    for i, sql in enumerate((streamed, whole)):
        path = tmp_path / f"out{i}.{ext}"
        export_statement(session, sql, path)
        outputs.append(path)
        session.execute(f"COPY ({sql}) TO '{tmp_path / f'copy{i}.{ext}'}'")
        outputs.append(tmp_path / f"copy{i}.{ext}")
    path = tmp_path / f"frame.{ext}"
    write_frame(frame.set_axis(["name"] * 2 + ["lower(name)"] * 2, axis=1), path)  # a hand-made frame with repeats
    outputs.append(path)
    for path in outputs:
        if fmt == "parquet":
            back = pq.read_table(path)
            assert back.column_names == expected
            assert back.num_rows == 3
        else:
            assert _header(path.read_text(encoding="utf-8"), fmt) == expected
    if fmt != "parquet":
        assert _header(render(frame, fmt), fmt) == expected


def test_parquet_export_of_a_join(session: Session, tmp_path: Path) -> None:
    path = tmp_path / "join.parquet"
    result = session.execute(f"COPY ({JOIN} LIMIT 20) TO '{path}'")
    assert result.text.startswith("COPY 20 rows")
    back = pq.read_table(path).to_pandas()
    assert list(back.columns) == ["id", "id_1", "created_at", "created_at_1", "organization_id"]
    assert (back["id_1"] == back["organization_id"]).all()
    assert (back["id"] != back["id_1"]).all()


def test_same_names_whether_duckdb_ran_or_not(session: Session) -> None:
    bare = session.query("SELECT * FROM azavista.organizations")  # no DuckDB: the fetched table as is
    local = session.query("SELECT * FROM azavista.organizations WHERE name IS NOT NULL OR name IS NULL")
    assert list(bare.columns) == list(local.columns)
    assert len(bare) == len(local) == 500


def test_write_frame_with_repeated_names_loses_nothing(tmp_path: Path) -> None:
    frame = pd.DataFrame([[1, 2, 3]], columns=["n", "n", "n"])
    assert json.loads(frame_bytes(frame, "jsonl")) == {"n": 1, "n_1": 2, "n_2": 3}
    assert json.loads(frame_bytes(frame, "json")) == [{"n": 1, "n_1": 2, "n_2": 3}]
    write_frame(frame, tmp_path / "f.parquet")
    assert pq.read_table(tmp_path / "f.parquet").to_pylist() == [{"n": 1, "n_1": 2, "n_2": 3}]
    buf = io.StringIO(render(frame, "csv"))
    assert buf.read().splitlines() == ["n,n_1,n_2", "1,2,3"]


def test_the_same_column_a_thousand_times_prints_in_linear_time(session: Session) -> None:
    """Point 14: 1,000 repeats of one column took 15-24 s to print (each ``frame[name]`` built a
    1,000-column frame); now a fraction of a second."""
    frame = session.query("SELECT " + ", ".join(["name"] * 1000) + " FROM azavista.events LIMIT 10")
    assert list(frame.columns) == ["name"] + [f"name_{i}" for i in range(1, 1000)]
    repeated = frame.set_axis(["name"] * 1000, axis=1)  # a hand-made frame keeps its repeats
    started = time.process_time()
    for f in (frame, repeated):
        text = render(f, "table")
        assert text.splitlines()[0].split(" | ")[1].strip() == "name_1"
        rows: list[Any] = list(python_rows(f))
        assert len(rows) == 10 and len(rows[0]) == 1000
    assert time.process_time() - started < 5
