"""The progress bar for slow scans, and interrupting a running scan (the shell stays usable)."""

from __future__ import annotations

import _thread
import threading
import time
from pathlib import Path
from typing import Any

import pytest
from IPython.core.error import UsageError
from magic_helpers import run


class FakeBar:
    made: list[FakeBar] = []

    def __init__(self, total: int | None = None, initial: int = 0, **kwargs: Any) -> None:
        self.total, self.kwargs, self.n, self.closed, self.updates = total, kwargs, initial, False, 0
        FakeBar.made.append(self)

    def set_postfix_str(self, text: str, refresh: bool = True) -> None:
        self.postfix = text

    def update(self, n: int) -> None:
        self.n += n
        self.updates += 1

    def close(self) -> None:
        self.closed = True


@pytest.fixture
def bars(monkeypatch: pytest.MonkeyPatch) -> list[FakeBar]:
    import tqdm.auto

    FakeBar.made = []
    monkeypatch.setattr(tqdm.auto, "tqdm", FakeBar)
    return FakeBar.made


def test_a_slow_scan_shows_a_progress_bar(ip: Any, sandbox: Any, bars: list[FakeBar]) -> None:
    ip.run_line_magic("config", "Crmql.progress = True")
    ip.run_line_magic("config", "Crmql.progress_delay = 0.2")
    sandbox.settings.latency_ms = 80
    df = run(ip, "%crmql SELECT name FROM azavista.events")
    assert len(bars) == 1
    bar = bars[0]
    assert bar.closed and bar.kwargs["unit"] == "page" and bar.kwargs["leave"] is False
    assert bar.total and bar.n == bar.total and bar.updates >= 2
    assert bar.postfix == f"{len(df):,} rows"


def test_a_fast_scan_shows_none(ip: Any, bars: list[FakeBar]) -> None:
    ip.run_line_magic("config", "Crmql.progress = True")
    # "fast" = finished before the delay; a generous delay keeps a loaded CI machine from making
    # a one-request query look slow (the default 0.5 s was crossed once under two busy workers)
    ip.run_line_magic("config", "Crmql.progress_delay = 5.0")
    run(ip, "%crmql SELECT name FROM azavista.events LIMIT 5")
    assert bars == []


def test_statements_that_do_not_scan_show_none(ip: Any, sandbox: Any, bars: list[FakeBar]) -> None:
    ip.run_line_magic("config", "Crmql.progress = True")
    ip.run_line_magic("config", "Crmql.progress_delay = 0.0")
    sandbox.settings.latency_ms = 50
    run(ip, "%crmql SHOW TABLES")
    run(ip, "%crmql DESCRIBE azavista.events")
    run(ip, "%crmql --explain SELECT name FROM azavista.events")
    assert bars == []
    run(ip, "%crmql --analyze SELECT name FROM azavista.events")
    assert len(bars) == 1


def test_the_real_bar_writes_to_stderr(ip: Any, sandbox: Any, capsys: pytest.CaptureFixture[str]) -> None:
    ip.run_line_magic("config", "Crmql.progress = True")
    ip.run_line_magic("config", "Crmql.progress_delay = 0.1")
    sandbox.settings.latency_ms = 60
    run(ip, "%crmql SELECT name FROM azavista.events")
    assert "page" in capsys.readouterr().err


def _interrupt_after(seconds: float) -> threading.Timer:
    timer = threading.Timer(seconds, _thread.interrupt_main)
    timer.start()
    return timer


def test_interrupt_cancels_the_scan_and_the_shell_stays_usable(ip: Any, sandbox: Any) -> None:
    sandbox.settings.latency_ms = 150
    timer = _interrupt_after(0.8)
    started = time.monotonic()
    result = ip.run_cell("%crmql SELECT * FROM azavista.contacts")
    timer.join()
    assert time.monotonic() - started < 5
    assert type(result.error_in_exec) is UsageError and "cancelled" in str(result.error_in_exec)
    seen = len(sandbox.request_log)
    time.sleep(0.6)
    assert len(sandbox.request_log) - seen <= 8  # no scan keeps running behind the user's back
    sandbox.settings.latency_ms = 0
    assert run(ip, "%crmql SELECT COUNT(*) AS n FROM azavista.organizations")["n"].tolist() == [500]
    assert len(run(ip, "%crmql SELECT * FROM azavista.organizations")) == 500


def test_interrupting_a_copy_leaves_no_file(ip: Any, sandbox: Any, tmp_path: Path) -> None:
    (tmp_path / "old.csv").write_text("old content\n")
    sandbox.settings.latency_ms = 150
    timer = _interrupt_after(0.8)
    result = ip.run_cell("%crmql COPY (SELECT * FROM azavista.contacts) TO 'old.csv'")
    timer.join()
    assert type(result.error_in_exec) is UsageError and "cancelled" in str(result.error_in_exec)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["crmql.toml", "old.csv"]
    assert (tmp_path / "old.csv").read_text() == "old content\n"
