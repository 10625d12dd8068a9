"""Issue 13: an asynchronous vendor job's percent is progress, in the shell's status line and in
the notebook's bar, from before the first page (unit level: no terminal, no kernel)."""

from __future__ import annotations

import io
import time
from typing import Any

import pytest

from crmql.stats import QueryStats
from crmql.surfaces.magic.progress import _Progress
from crmql.surfaces.repl.output import Progress


def _line(st: QueryStats) -> str:
    p = Progress(st, io.StringIO())
    p.started = time.perf_counter() - 3.2
    return p.line()


def test_the_shell_line_shows_the_job() -> None:
    st = QueryStats()
    assert "waiting for the first page" in _line(st)
    st.job(40, "Searching contacts")
    line = _line(st)
    assert line.startswith("⠋ async request 40% · Searching contacts · 3.")
    assert line.endswith(" s  (Ctrl-C cancels)") and "page" not in line
    st.add(pages=2, rows_fetched=2000)
    assert "async request 40% · Searching contacts · 2 pages · 2000 rows · 3." in _line(st)
    st.job_done()
    assert _line(st).startswith("⠋ 2 pages · 2000 rows · 0 retries")


def test_the_shell_line_is_drawn_before_any_page() -> None:
    st = QueryStats()
    p = Progress(st, io.StringIO(), delay=0.0, interval=0.01)
    st.on_progress = p.notify
    p.start()
    try:
        st.job(25, "Queued")
        deadline = time.monotonic() + 5
        while "async request 25% · Queued" not in p.stream.getvalue() and time.monotonic() < deadline:
            time.sleep(0.01)
    finally:
        p.stop()
    written = p.stream.getvalue()
    assert "async request 25% · Queued" in written and written.endswith("\r\x1b[K")
    assert st.pages == 0


class FakeBar:
    """Records what a tqdm bar is asked (the notebook's bar is tqdm.auto's)."""

    made: list[FakeBar] = []

    def __init__(self, *, total: Any, initial: float, unit: str, desc: str, **_: Any) -> None:
        self.total, self.n, self.unit, self.desc = total, initial, unit, desc
        self.postfix, self.closed = "", False
        FakeBar.made.append(self)

    def update(self, n: float) -> None:
        self.n += n

    def set_postfix_str(self, text: str, refresh: bool = True) -> None:
        self.postfix = text

    def close(self) -> None:
        self.closed = True


@pytest.fixture
def bars(monkeypatch: pytest.MonkeyPatch) -> list[FakeBar]:
    import tqdm.auto
    FakeBar.made = []
    monkeypatch.setattr(tqdm.auto, "tqdm", FakeBar)
    return FakeBar.made


def test_the_notebook_bar_follows_the_job_then_the_pages(bars: list[FakeBar]) -> None:
    st = QueryStats()
    progress = _Progress(st, enabled=True, delay=0.0)
    try:
        st.job(0, "Queued")
        st.job(40, "Searching contacts")
        job = [b for b in bars if b.unit == "%"][0]  # (the timer may have drawn a page bar before the job)
        assert (job.total, job.unit, job.desc, job.n, job.postfix) == (100, "%", "crmql async", 40, "Searching contacts")
        st.job(90.5, "Preparing results")
        assert job.n == 90.5 and job.postfix == "Preparing results"
        st.job_done()
        st.set_total_pages(3)
        st.add(pages=1, rows_fetched=1000)
        assert job.closed and len([b for b in bars if b.unit == "%"]) == 1
        pages = bars[-1]
        assert (pages.total, pages.unit, pages.desc, pages.n) == (3, "page", "crmql", 1)
    finally:
        progress.close()
    assert bars[-1].closed and st.on_progress is None


def test_a_job_shows_before_the_delay_ends_only_once_it_is_due(bars: list[FakeBar]) -> None:
    st = QueryStats()
    progress = _Progress(st, enabled=True, delay=60.0)
    try:
        st.job(40, "Searching contacts")
        assert bars == []  # a fast statement shows no bar at all
    finally:
        progress.close()
