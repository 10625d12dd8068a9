"""COPY ... WITH (PARTITION_BY (...)) writes a Hive layout Spark reads back: folder values decoded
(path-unsafe characters, NULL and '' as the default partition), timestamps typed as timestamps."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd
import pytest

pytestmark = pytest.mark.xdist_group("spark")

SQL = ("SELECT id, name, replace(nullif(event_type, 'sales'), 'internal', '') AS kind, "
       "concat(left(event_type, 2), '/=%:#') AS place, date_trunc('year', start) AS year, start "
       "FROM azavista.events WHERE capacity > 150")  # about 20 folders: Spark lists and reads each


def test_spark_reads_the_partitioned_directory(spark: Any, crmql_session: Any, tmp_path: Path) -> None:
    out = tmp_path / "events"
    crmql_session.execute(f"COPY ({SQL}) TO '{out}' WITH (FORMAT parquet, PARTITION_BY (kind, place, year))")
    want = crmql_session.query(SQL)
    df = spark.read.parquet(str(out))
    types = dict(df.dtypes)
    assert types["year"] == "timestamp" and types["start"] == "timestamp" and types["kind"] == "string"
    rows = {r["id"]: r for r in df.collect()}
    assert sorted(rows) == sorted(want["id"])
    for _, w in want.iterrows():
        got = rows[w["id"]]
        assert got["kind"] == (None if pd.isna(w["kind"]) or w["kind"] == "" else w["kind"])  # NULL, '': default
        assert got["place"] == w["place"] and got["place"].endswith("/=%:#")
        assert got["year"] == w["year"].to_pydatetime().replace(tzinfo=None)  # the session's time zone is UTC
        assert got["name"] == w["name"]
