"""Streaming: a query with no global step is written while pages arrive, in bounded batches, and a
LIMIT stops the scan early; every other query goes through the ordinary path. Peak memory of a
100,000-row export stays flat (measured in a fresh process)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from export_helpers import synthetic_session

import crmql.export as export
from crmql import stats
from crmql.exec.executor import STREAM_BATCH_ROWS, can_stream
from crmql.language.parser import parse

HERE = Path(__file__).resolve().parent


@pytest.mark.parametrize("sql, streams", [
    ("SELECT * FROM azavista.contacts", True),
    ("SELECT first_name, lower(email) AS e FROM azavista.contacts WHERE country = 'NL' LIMIT 20", True),
    ("SELECT * FROM azavista.contacts ORDER BY last_name", False),
    ("SELECT DISTINCT country FROM azavista.contacts", False),
    ("SELECT country, COUNT(*) AS n FROM azavista.contacts GROUP BY country", False),
    ("SELECT COUNT(*) FROM azavista.contacts WHERE country = 'NL'", False),
    ("SELECT MAX(created_at) AS last FROM azavista.contacts", False),
    ("SELECT * FROM azavista.contacts LIMIT 5 OFFSET 10", False),
    ("SELECT c.email, o.name FROM azavista.contacts c JOIN azavista.organizations o ON c.organization_id = o.id", False),
])
def test_which_queries_stream(session: Any, sql: str, streams: bool) -> None:
    assert can_stream(session.plan(parse(sql), None, text=sql)) is streams


class Spy:
    """Records, for each batch the writer gets, its size and how many pages had arrived by then."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.batches: list[tuple[int, int]] = []
        original = export.Writer.write
        spy = self

        def write(writer: Any, frame: Any) -> None:
            spy.batches.append((len(frame), stats.current().pages))
            original(writer, frame)

        monkeypatch.setattr(export.Writer, "write", write)


def test_rows_are_written_while_pages_arrive(session: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    spy = Spy(monkeypatch)
    st = stats.QueryStats()
    result = session.execute(f"COPY (SELECT * FROM azavista.contacts) TO '{tmp_path / 'c.csv'}'", statement_stats=st)
    assert result.stats.rows == 10_000 and st.pages == 200
    sizes = [n for n, _ in spy.batches]
    assert sum(sizes) == 10_000 and max(sizes) <= STREAM_BATCH_ROWS + 50 and len(sizes) >= 10_000 // (STREAM_BATCH_ROWS + 50)
    assert spy.batches[0][1] < 200  # the first rows were written long before the last page came


def test_ordered_queries_are_written_at_the_end(session: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    spy = Spy(monkeypatch)
    session.execute(f"COPY (SELECT * FROM azavista.organizations ORDER BY name) TO '{tmp_path / 'o.csv'}'")
    assert [n for n, _ in spy.batches] == [500]


def test_limit_stops_the_scan_early(session: Any, sandbox: Any, tmp_path: Path) -> None:
    sql = "SELECT first_name, email FROM azavista.contacts WHERE first_name ILIKE '%an%' LIMIT 30"
    sandbox.reset_log()
    result = session.execute(f"COPY ({sql}) TO '{tmp_path / 'l.csv'}'")
    searches = [e for e in sandbox.request_log if e[1].endswith("/search")]
    assert result.stats.rows == 30 and len(searches) < 10
    frame = session.query(sql)
    assert (tmp_path / "l.csv").read_bytes() == export.frame_bytes(frame, "csv")


def test_a_zero_row_result_still_has_its_header(session: Any, tmp_path: Path) -> None:
    path = tmp_path / "z.csv"
    result = session.execute(f"COPY (SELECT name, city FROM azavista.events WHERE name = 'no such event') TO '{path}'")
    assert result.stats.rows == 0 and path.read_bytes() == b"name,city\r\n"
    session.execute(f"COPY (SELECT name FROM azavista.events WHERE 1 = 2) TO '{path}'")  # no request at all
    assert path.read_bytes() == b"name\r\n"


def test_streamed_and_materialized_exports_are_identical(tmp_path: Path) -> None:
    session = synthetic_session(12_345)
    try:
        session.execute(f"COPY (SELECT * FROM synthetic.rows) TO '{tmp_path / 's.csv'}' WITH (SAFE true)")
        frame = session.query("SELECT * FROM synthetic.rows")
    finally:
        session.close()
    export.write_frame(frame, tmp_path / "f.csv", safe=True)
    assert (tmp_path / "s.csv").read_bytes() == (tmp_path / "f.csv").read_bytes()


def test_peak_memory_of_a_100k_row_export_is_flat(tmp_path: Path) -> None:
    """Exporting 100,000 rows page by page grows the process by a few MB, not by the result."""
    out = subprocess.run(
        [sys.executable, str(HERE / "export_helpers.py"), "--rows", "100000", "--mode", "stream", "--no-trace",
         "--out", str(tmp_path / "big.csv")],
        capture_output=True, text=True, timeout=120, cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    report = json.loads(out.stdout.strip().splitlines()[-1])
    print(report)
    assert report["bytes"] > 8_000_000  # ~9 MB of CSV
    assert report["rss_growth_mb"] < 40
    assert report["arrow_peak_mb"] < 5
