"""Helpers for the export tests: a synthetic connector (any number of rows, no HTTP), reading files
back, and a memory probe that is also a script:

    python tests/export/export_helpers.py --rows 100000 --mode stream   # or --mode frame
    -> {"rows": 100000, "mode": "stream", "peak_rss_mb": ..., "traced_peak_mb": ..., "arrow_peak_mb": ...}
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import math
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pandas as pd

REPO = Path(__file__).resolve().parents[2]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from crmql import stats  # noqa: E402
from crmql.plan.catalog import Column, ColumnType, Table  # noqa: E402
from crmql.api.config import Config, ConnectionConfig  # noqa: E402
from crmql.plan.connector import Candidate, Connector, FetchPlan, Needs  # noqa: E402
from crmql.api.session import Session  # noqa: E402

PAGE = 500
START = dt.datetime(2025, 1, 1, tzinfo=dt.timezone.utc)
COLUMNS = (
    Column("id", ColumnType.INTEGER), Column("name", ColumnType.STRING), Column("email", ColumnType.STRING),
    Column("note", ColumnType.STRING), Column("score", ColumnType.FLOAT), Column("active", ColumnType.BOOLEAN),
    Column("created_at", ColumnType.TIMESTAMP), Column("tags", ColumnType.LIST),
)
HOSTILE = ['say "hi", then\nleave', "=SUM(A1:A9)", "-1+2", "@cmd", "+33 6 12", "Zoë ✓ 東京", "", None, "a\r\nb", " x "]


def record(i: int) -> dict[str, Any]:
    return {
        "id": i, "name": f"Person {i}", "email": f"person{i}@example.com",
        "note": HOSTILE[i % len(HOSTILE)], "score": None if i % 7 == 0 else i / 8,
        "active": i % 3 == 0, "created_at": (START + dt.timedelta(minutes=i)).isoformat(),
        "tags": ["a", "b"] if i % 4 == 0 else None,
    }


class SyntheticConnector(Connector):
    """``synthetic.rows``: ``settings['rows']`` generated rows in pages of 500; nothing is pushed."""

    vendor = "synthetic"

    def load_tables(self) -> dict[str, Table]:
        return {"rows": Table(self.name, "rows", COLUMNS, "synthetic rows")}

    def plan(self, table: Table, candidates: Sequence[Candidate], needs: Needs) -> FetchPlan:
        return FetchPlan(mode="search", page_size=PAGE, stop_early=needs.limit_rows is not None,
                         paging=f"{PAGE} generated rows per page", estimate="no requests")

    async def fetch(self, table: Table, plan: FetchPlan, sink: Any) -> None:
        n = int(self.settings.get("rows", 1000))
        fail_after = self.settings.get("fail_after_pages")
        current = stats.current()
        current.set_total_pages(math.ceil(n / PAGE))
        for page, offset in enumerate(range(0, n, PAGE)):
            if fail_after is not None and page >= fail_after:
                from crmql.errors import VendorHTTPError

                raise VendorHTTPError("the service went away", vendor="synthetic", status=503)
            records = [record(i) for i in range(offset, min(n, offset + PAGE))]
            current.add(requests=1, pages=1, rows_fetched=len(records))
            if not sink(records):
                return
            await asyncio.sleep(0)


def synthetic_session(rows: int, **settings: Any) -> Session:
    """A session with one connection, ``synthetic``, whose connector is put in place directly (the
    vendor registry is not touched)."""
    options = {"rows": rows, **settings}
    session = Session(Config({"synthetic": ConnectionConfig("synthetic", "synthetic", options)}, source="synthetic"))
    session._connectors["synthetic"] = SyntheticConnector("synthetic", options)
    return session


def assert_same_rows(got: pd.DataFrame, want: pd.DataFrame) -> None:
    """The same columns and values, whatever the dtypes (every kind of missing is the same NULL)."""
    assert list(got.columns) == list(want.columns)
    assert len(got) == len(want)

    def plain(s: pd.Series) -> list[Any]:
        return [None if v is None or (not isinstance(v, (list, tuple)) and not hasattr(v, "__len__") and pd.isna(v))
                else (list(v) if hasattr(v, "tolist") and not isinstance(v, str) else v)
                for v in s.astype(object).tolist()]

    for name in want.columns:
        assert plain(got[name]) == plain(want[name]), name


def read_csv_like(path: Path, like: pd.DataFrame, **kwargs: Any) -> pd.DataFrame:
    """Read a CSV back with ``like``'s dtypes (empty field = NULL)."""
    back = pd.read_csv(path, dtype=str, keep_default_na=False, na_values=[""], encoding="utf-8", **kwargs)
    for name in like.columns:
        dtype = like[name].dtype
        if isinstance(dtype, pd.DatetimeTZDtype) or str(dtype).startswith("datetime64"):
            back[name] = pd.to_datetime(back[name], utc=True, format="ISO8601").astype(dtype)
        elif pd.api.types.is_bool_dtype(dtype):
            back[name] = back[name].map({"true": True, "false": False}).astype(dtype)
        elif pd.api.types.is_numeric_dtype(dtype):
            back[name] = pd.to_numeric(back[name]).astype(dtype)
    return back


def _rss_mb() -> float:
    """The process's resident memory now (Linux), in MB."""
    import os

    with open("/proc/self/statm", encoding="ascii") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def _measure(rows: int, mode: str, out: Path, trace: bool = True) -> dict[str, Any]:
    import gc
    import resource
    import threading
    import time
    import tracemalloc

    import pyarrow as pa

    from crmql.export import write_frame

    session = synthetic_session(rows)
    session.query("SELECT * FROM synthetic.rows LIMIT 1")  # warm up: imports, DuckDB, the catalog
    gc.collect()
    pool = pa.default_memory_pool()
    base = _rss_mb()
    peak = [base]
    done = threading.Event()

    def sample() -> None:
        while not done.wait(0.005):
            peak[0] = max(peak[0], _rss_mb())

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    if trace:
        tracemalloc.start()
    started = time.perf_counter()
    if mode == "stream":
        session.execute(f"COPY (SELECT * FROM synthetic.rows) TO '{out}'")
    else:
        write_frame(session.query("SELECT * FROM synthetic.rows"), out)
    seconds = time.perf_counter() - started
    traced = tracemalloc.get_traced_memory()[1] / 2**20 if trace else None
    tracemalloc.stop()
    done.set()
    sampler.join()
    peak[0] = max(peak[0], _rss_mb())
    return {"rows": rows, "mode": mode, "seconds": round(seconds, 2), "bytes": out.stat().st_size,
            "rss_before_mb": round(base, 1), "rss_peak_mb": round(peak[0], 1),
            "rss_growth_mb": round(peak[0] - base, 1),
            "max_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
            "traced_peak_mb": round(traced, 1) if traced is not None else None,
            "arrow_peak_mb": round(pool.max_memory() / 2**20, 1)}


if __name__ == "__main__":
    import argparse

    p = argparse.ArgumentParser()
    p.add_argument("--rows", type=int, default=100_000)
    p.add_argument("--mode", choices=["stream", "frame"], default="stream")
    p.add_argument("--out", default="export-memory.csv")
    p.add_argument("--no-trace", action="store_true", help="measure RSS only (tracemalloc slows Python down)")
    a = p.parse_args()
    print(json.dumps(_measure(a.rows, a.mode, Path(a.out), trace=not a.no_trace)))
