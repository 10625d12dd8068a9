"""The progress bar of a long-running scan in the notebook (tqdm.auto, shown after a delay).

Pages drive it (``unit="page"``, out of the scan's total when known); while an asynchronous
vendor job runs (the statement's ``job_percent`` is set), a bar of its own shows the job's
percent (``total=100``, ``unit="%"``, ``desc="crmql async"``) with the vendor's commentary; the
page bar comes back when the job ends.
"""

from __future__ import annotations

import threading
import time
import warnings
from typing import Any

from ... import stats


class _Progress:
    """A tqdm.auto bar for a scan that has run ``delay`` seconds, fed by the statement's page
    counters (called from the event loop's thread, and once by a timer if no page came yet)."""

    def __init__(self, st: stats.QueryStats, *, enabled: bool, delay: float, desc: str = "crmql") -> None:
        self.st = st
        self.desc = desc
        self.started = time.monotonic()
        self.delay = delay
        self.bar: Any = None
        self._job_bar = False  # whether ``bar`` is an async job's
        self.closed = not enabled
        self._lock = threading.Lock()
        self._timer: threading.Timer | None = None
        if enabled:
            st.on_progress = self.update
            self._timer = threading.Timer(delay, self.update)
            self._timer.daemon = True
            self._timer.start()

    def update(self, _stats: Any = None) -> None:
        with self._lock:
            if self.closed or time.monotonic() - self.started < self.delay:
                return
            st = self.st
            percent, note = st.job_percent, st.job_note  # (read once: the job may end meanwhile)
            if self.bar is not None and self._job_bar != (percent is not None):
                self.bar.close()
                self.bar = None
            if self.bar is None:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")  # tqdm.auto warns when ipywidgets is missing
                    from tqdm.auto import tqdm
                self._job_bar = percent is not None
                if self._job_bar:
                    self.bar = tqdm(total=100, initial=0, unit="%", desc=f"{self.desc} async", leave=False,
                                    mininterval=0.25)
                else:
                    self.bar = tqdm(total=st.total_pages, initial=st.pages, unit="page", desc=self.desc,
                                    leave=False, mininterval=0.25)
            if percent is not None:
                self.bar.set_postfix_str(note or "", refresh=False)
                self.bar.update(round(percent, 1) - self.bar.n)
                return
            elif st.total_pages is not None and self.bar.total != st.total_pages:
                self.bar.total = st.total_pages
            self.bar.set_postfix_str(f"{st.rows_fetched:,} rows", refresh=False)
            self.bar.update(st.pages - self.bar.n)

    def close(self) -> None:
        with self._lock:
            self.closed = True
            if self._timer is not None:
                self._timer.cancel()
            if self.bar is not None:
                self.bar.close()
        self.st.on_progress = None
