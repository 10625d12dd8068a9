"""COPY ... WITH (FORMAT parquet, PARTITION_BY (...)): a Hive-partitioned directory that pyarrow,
pandas and DuckDB read back equal to the query (NULL, '' and path-unsafe values included), checked
before any request, written atomically, with memory bounded by batches, not by the result."""

from __future__ import annotations

import math
import os
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd
import pyarrow as pa
import pyarrow.dataset as ds
import pytest
from export_helpers import synthetic_session

from crmql.errors import CrmqlError
from crmql.export import partitioned

EVENTS = "SELECT id, name, event_type, city, start, capacity FROM azavista.events"
#: NULL (sales), '' (internal) and a value with / = % : # in it, in two partition columns
AWKWARD = ("SELECT id, name, replace(nullif(event_type, 'sales'), 'internal', '') AS kind, "
           "concat(left(city, 2), '/=%:#') AS place, start FROM azavista.events")


def text(value: Any) -> str | None:
    """A partition value as its folder holds it: NULL and '' are the default partition (NULL)."""
    if value is None or (not isinstance(value, str) and pd.isna(value)) or value == "":
        return None
    return str(value)


def pyarrow_back(path: Path) -> pd.DataFrame:
    return ds.dataset(path, format="parquet", partitioning="hive").to_table().to_pandas()


def duckdb_back(path: Path) -> pd.DataFrame:
    return duckdb.sql(f"SELECT * FROM read_parquet('{path}/**/*.parquet', hive_partitioning = true)").df()


def assert_equal(back: pd.DataFrame, want: pd.DataFrame, partition_by: tuple[str, ...], key: str = "id") -> None:
    """The same rows: the files' columns with the query's types and values, the partition columns
    (read back from the folder names, typed by the reader's guess) as text."""
    assert sorted(back.columns) == sorted(want.columns)
    back = back.sort_values(key).reset_index(drop=True)
    want = want.sort_values(key).reset_index(drop=True)
    assert len(back) == len(want)
    for name in want.columns:
        if name in partition_by:
            assert [text(v) for v in back[name].astype(object)] == [text(v) for v in want[name].astype(object)], name
        else:
            assert back[name].astype(object).where(back[name].notna(), None).tolist() == \
                want[name].astype(object).where(want[name].notna(), None).tolist(), name


def searches(sandbox: Any) -> list[Any]:
    return [e for e in sandbox.request_log if e[1].endswith("/search")]


def test_one_partition_column_reads_back_in_pyarrow_pandas_and_duckdb(session: Any, tmp_path: Path) -> None:
    out = tmp_path / "events"
    result = session.execute(f"COPY ({EVENTS}) TO '{out}/' WITH (FORMAT parquet, PARTITION_BY (event_type))")
    want = session.query(EVENTS)
    types = sorted(want["event_type"].unique())
    assert result.text == (f"COPY {len(want)} rows to {out}/ (parquet, {len(types)} partitions by event_type, "
                           f"{len(types)} files)")
    assert sorted(os.listdir(out)) == [f"event_type={t}" for t in types]
    assert os.listdir(out / f"event_type={types[0]}") == ["part-00000.parquet"]
    back = pyarrow_back(out)
    assert_equal(back, want, ("event_type",))
    assert str(back["start"].dtype) == "datetime64[us, UTC]" and str(back["capacity"].dtype) == "int64"
    assert_equal(pd.read_parquet(out), want, ("event_type",))
    assert_equal(duckdb_back(out), want, ("event_type",))
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]  # no temporary directory left


def test_two_columns_with_null_empty_and_path_unsafe_values(session: Any, tmp_path: Path) -> None:
    out = tmp_path / "awkward"
    result = session.execute(f"COPY ({AWKWARD}) TO '{out}' WITH (PARTITION_BY (kind, place))")  # parquet by default
    want = session.query(AWKWARD)
    assert "by kind, place" in result.text
    folders = sorted(os.listdir(out))
    assert "kind=__HIVE_DEFAULT_PARTITION__" in folders and "kind=" not in folders  # NULL and '' (Spark's way)
    places = os.listdir(out / "kind=marketing")
    assert places and all(p.startswith("place=") and p.endswith("%2F%3D%25%3A%23") for p in places)
    assert_equal(pyarrow_back(out), want, ("kind", "place"))
    assert_equal(duckdb_back(out), want, ("kind", "place"))
    assert want["kind"].isna().any() and (want["kind"] == "").any()  # both kinds of empty were there


def test_timestamps_and_booleans_as_partition_values(session: Any, tmp_path: Path) -> None:
    sql = ("SELECT id, date_trunc('month', start) AS month, capacity > 100 AS big, name "
           "FROM azavista.events WHERE event_type = 'sales'")
    out = tmp_path / "months"
    session.execute(f"COPY ({sql}) TO '{out}' WITH (FORMAT parquet, PARTITION_BY (month, big))")
    want = session.query(sql)
    first = want["month"].min()
    assert (out / f"month={first:%Y-%m-%d} 00%3A00%3A00").is_dir()  # as Spark writes a timestamp, in UTC
    back = pyarrow_back(out)
    assert sorted(set(back["month"].astype(str))) == sorted({f"{m:%Y-%m-%d %H:%M:%S}" for m in want["month"]})
    assert sorted(set(back["big"].astype(str))) == sorted({str(b).lower() for b in want["big"]})


def test_a_query_run_to_the_end_first_is_partitioned_too(session: Any, tmp_path: Path) -> None:
    sql = "SELECT event_type, city, COUNT(*) AS n FROM azavista.events GROUP BY event_type, city"
    out = tmp_path / "counts"
    session.execute(f"COPY ({sql}) TO '{out}' WITH (FORMAT parquet, PARTITION_BY (event_type))")
    want = session.query(sql)
    back = duckdb_back(out)
    got = sorted(zip(back["event_type"], back["city"].map(text), back["n"]), key=str)
    assert got == sorted(zip(want["event_type"], want["city"].map(text), want["n"]), key=str)


@pytest.mark.parametrize("options, message, column", [
    ("PARTITION_BY (cty)", "PARTITION_BY column cty is not in the query's result", "cty"),
    ("FORMAT parquet, PARTITION_BY (city, \"tpye\")", "PARTITION_BY column tpye is not in the query's result",
     '"tpye"'),
    ("FORMAT csv, PARTITION_BY (city)", "PARTITION_BY writes Parquet only, not csv", None),
    ("PARTITION_BY (city, city)", "PARTITION_BY names city twice", None),
    ("PARTITION_BY (city), OVERWRITE_OR_IGNORE", "OVERWRITE_OR_IGNORE is not supported", None),
    ("PARTITION_BY (city), OVERWRITE maybe", "OVERWRITE must be true or false", None),
])
def test_bad_partition_options_fail_before_any_request(session: Any, sandbox: Any, tmp_path: Path, options: str,
                                                       message: str, column: str | None) -> None:
    sql = f"COPY (SELECT id, city, event_type AS type FROM azavista.events) TO '{tmp_path / 'd'}' WITH ({options})"
    sandbox.reset_log()
    with pytest.raises(CrmqlError) as info:
        session.execute(sql)
    err = info.value
    assert str(err).startswith(message) and not searches(sandbox)
    assert not os.listdir(tmp_path)
    if column is not None:  # pointed at, with a suggestion
        assert err.line == 1 and err.column == sql.index(column, sql.index("PARTITION_BY")) + 1
        assert err.hint == ("did you mean city?" if column == "cty" else "did you mean type?")


def test_every_column_a_partition_column_is_refused(session: Any, tmp_path: Path) -> None:
    with pytest.raises(CrmqlError, match="PARTITION_BY names every column of the result"):
        session.execute(f"COPY (SELECT event_type FROM azavista.events) TO '{tmp_path / 'd'}' "
                        "WITH (PARTITION_BY (event_type))")


def test_an_existing_directory_needs_overwrite_and_is_replaced_whole(session: Any, sandbox: Any, tmp_path: Path) -> None:
    out = tmp_path / "d"
    (out / "event_type=stale").mkdir(parents=True)
    (out / "event_type=stale" / "part-00000.parquet").write_bytes(b"old")
    sql = "SELECT id, event_type FROM azavista.events WHERE event_type = 'sales'"
    sandbox.reset_log()
    with pytest.raises(CrmqlError, match="is not empty") as info:
        session.execute(f"COPY ({sql}) TO '{out}' WITH (PARTITION_BY (event_type))")
    assert "OVERWRITE" in info.value.hint and not searches(sandbox)
    assert (out / "event_type=stale" / "part-00000.parquet").read_bytes() == b"old"
    session.execute(f"COPY ({sql}) TO '{out}' WITH (PARTITION_BY (event_type), OVERWRITE)")
    assert os.listdir(out) == ["event_type=sales"]
    assert sorted(os.listdir(tmp_path)) == ["d"]  # the old directory is gone, nothing left beside
    (tmp_path / "file").write_bytes(b"x")
    with pytest.raises(CrmqlError, match="PARTITION_BY writes a directory and this is a file"):
        session.execute(f"COPY ({sql}) TO '{tmp_path / 'file'}' WITH (PARTITION_BY (event_type), OVERWRITE true)")


def test_a_failed_export_leaves_nothing_and_keeps_the_old_directory(tmp_path: Path) -> None:
    session = synthetic_session(5_000, fail_after_pages=3)
    try:
        sql = "SELECT id, id % 3 AS bucket, name FROM synthetic.rows"
        with pytest.raises(CrmqlError, match="the service went away"):
            session.execute(f"COPY ({sql}) TO '{tmp_path / 'new'}' WITH (PARTITION_BY (bucket))")
        assert not os.listdir(tmp_path)
        (tmp_path / "old" / "bucket=9").mkdir(parents=True)
        with pytest.raises(CrmqlError, match="the service went away"):
            session.execute(f"COPY ({sql}) TO '{tmp_path / 'old'}' WITH (PARTITION_BY (bucket), OVERWRITE)")
        assert os.listdir(tmp_path) == ["old"] and os.listdir(tmp_path / "old") == ["bucket=9"]
    finally:
        session.close()


def test_memory_is_bounded_by_batches_not_by_the_result(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Rows wait for their row group up to MAX_PENDING_ROWS in all, and at most MAX_OPEN_FILES files
    are open (the least recently used is closed; its partition goes on in a new file)."""
    monkeypatch.setattr(partitioned, "MAX_PENDING_ROWS", 3_000)
    monkeypatch.setattr(partitioned, "MAX_OPEN_FILES", 3)
    held: list[tuple[int, int]] = []
    original = partitioned.PartitionedWriter.write

    def write(writer: Any, frame: pd.DataFrame) -> None:
        original(writer, frame)
        held.append((writer._waiting, pa.total_allocated_bytes()))

    monkeypatch.setattr(partitioned.PartitionedWriter, "write", write)
    rows = 30_000
    session = synthetic_session(rows)
    try:
        sql = "SELECT id % 7 AS bucket, * FROM synthetic.rows"
        base = pa.total_allocated_bytes()
        result = session.execute(f"COPY ({sql}) TO '{tmp_path / 'big'}' WITH (PARTITION_BY (bucket))")
        want = session.query(sql)
    finally:
        session.close()
    size = pa.Table.from_pandas(want, preserve_index=False).nbytes
    assert result.stats.rows == rows and len(held) >= rows // 2_500
    assert max(w for w, _ in held) <= 3_000
    assert max(b for _, b in held) - base < size / 4, (max(b for _, b in held) - base, size)
    files = sorted(p.relative_to(tmp_path / "big").as_posix() for p in (tmp_path / "big").rglob("*.parquet"))
    assert len({f.split("/")[0] for f in files}) == 7 and len(files) > 7  # partitions went on in new files
    assert "bucket=0/part-00001.parquet" in files
    back = pyarrow_back(tmp_path / "big")
    assert len(back) == rows and sorted(back["id"]) == list(range(rows))
    assert all(int(b) == i % 7 for b, i in zip(back["bucket"], back["id"]))
    assert math.isclose(back["score"].sum(), want["score"].sum())


def test_export_query_and_the_command_line_write_the_same_dataset(session: Any, sandbox_server: Any,
                                                                 tmp_path: Path) -> None:
    from cli_support import cli_environment, run_crmql_in_process, write_config_file

    from crmql.api.copy import export_query

    sql = "SELECT id, name, event_type, city FROM azavista.events WHERE capacity > 100"
    result = export_query(session, sql, tmp_path / "api", partition_by=["event_type", "city"])
    assert "by event_type, city" in result.text
    config = write_config_file(tmp_path / "crmql.toml", sandbox_server.url)
    argv = ["--config", str(config), "-e", sql, "--output", "cli/", "--partition-by", "event_type",
            "--partition-by", "city"]
    run = run_crmql_in_process(argv, env=cli_environment(tmp_path), cwd=tmp_path)
    assert run.returncode == 0, run.stderr
    api, cli = (sorted(p.relative_to(tmp_path / d).as_posix() for p in (tmp_path / d).rglob("*.parquet"))
                for d in ("api", "cli"))
    assert api == cli and len(api) > 10
    assert_equal(pyarrow_back(tmp_path / "cli"), session.query(sql), ("event_type", "city"))
    again = run_crmql_in_process(argv, env=cli_environment(tmp_path), cwd=tmp_path)
    assert again.returncode != 0 and "is not empty" in again.stderr
    other = run_crmql_in_process(["--config", str(config), "-e", "DESCRIBE azavista.events", "--output", "d/",
                                  "--partition-by", "column"],
                                 env=cli_environment(tmp_path), cwd=tmp_path)
    assert other.returncode == 1 and "only a SELECT's rows can be partitioned" in other.stderr


def test_a_whole_table_read_sends_no_row_request_before_the_check(make_session: Any, sandbox: Any,
                                                                   tmp_path: Path) -> None:
    """A whole-table read usually sends its first page with the catalog request (Atlas): not a
    partitioned COPY's, whose columns are checked first; a non-empty directory fails before the catalog."""
    session = make_session()
    sandbox.reset_log()
    with pytest.raises(CrmqlError, match="PARTITION_BY column nme is not in the query's result"):
        session.execute(f"COPY (SELECT * FROM atlas.contacts) TO '{tmp_path / 'd'}' WITH (PARTITION_BY (nme))")
    paths = [e[1] for e in sandbox.request_log]
    assert any("/template/" in p for p in paths) and not any(p.endswith("/entities") for p in paths), paths
    (tmp_path / "full").mkdir()
    (tmp_path / "full" / "x").write_bytes(b"")
    sandbox.reset_log()
    with pytest.raises(CrmqlError, match="is not empty"):
        make_session().execute(f"COPY (SELECT * FROM atlas.sales) TO '{tmp_path / 'full'}' WITH (PARTITION_BY (x))")
    assert not sandbox.request_log
