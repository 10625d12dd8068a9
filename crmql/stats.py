"""Per-statement execution counters, shared by the HTTP layer, the executor and the surfaces.

The HTTP client increments the :class:`QueryStats` found in the ``current_stats`` context
variable, so concurrent pages (asyncio tasks inherit the context) all count into the statement
that started them.

>>> s = QueryStats()
>>> with collecting(s):
...     current().requests += 1
>>> s.line()
'stats: requests=1 pages=0 rows_fetched=0 rows=0 retries=0 elapsed_ms=0'
"""

from __future__ import annotations

import contextlib
import contextvars
import logging
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

__all__ = ["QueryStats", "collecting", "current"]

log = logging.getLogger(__name__)


@dataclass
class QueryStats:
    """Counters for one statement. ``elapsed_ms`` is filled by the executor."""

    requests: int = 0
    pages: int = 0
    rows_fetched: int = 0
    rows: int = 0
    retries: int = 0
    elapsed_ms: int = 0
    total_pages: int | None = None
    #: an asynchronous vendor job's progress while one runs (``job``; several: the least), else None
    job_percent: float | None = None
    #: the vendor's word on that job ("Searching contacts"; several: "... · 3 jobs"), else None
    job_note: str | None = None
    #: what the user should know about a result that ran (e.g. a vendor served fewer rows than it
    #: reported), in order; also logged as warnings, which the CLI prints on stderr
    warnings: list[str] = field(default_factory=list)
    #: counters of the statement this scan belongs to; every add() rolls up into it
    parent: QueryStats | None = field(default=None, repr=False, compare=False)
    #: called (from any thread) after each page, for progress displays
    on_progress: Callable[[QueryStats], None] | None = field(default=None, repr=False, compare=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)
    #: the running jobs' progress, by key: (percent, note)
    _jobs: dict[object, tuple[float, str | None]] = field(default_factory=dict, repr=False, compare=False)

    def add(self, **counts: int) -> None:
        """Add to several counters at once, thread-safely, and notify the progress callback."""
        with self._lock:
            for name, value in counts.items():
                setattr(self, name, getattr(self, name) + value)
        if self.parent is not None:
            self.parent.add(**counts)
        self._notify()

    def warn(self, message: str, *, once: bool = False) -> None:
        """Record a warning for this statement (and every parent) and log it once; ``once``: not
        when this statement (or a parent) already has that warning.

        >>> s = QueryStats()
        >>> s.warn("Azavista (azavista.events): vendor reported 20000 rows, served 1")
        >>> s.warn("Azavista (azavista.events): vendor reported 20000 rows, served 1", once=True)
        >>> s.warnings
        ['Azavista (azavista.events): vendor reported 20000 rows, served 1']
        """
        node: QueryStats | None = self
        if once:
            for _ in range(100):  # parents form a short chain
                if node is None or node is _sink:
                    break
                if message in node.warnings:
                    return
                node = node.parent
            node = self
        log.warning("%s", message)
        for _ in range(100):  # parents form a short chain
            if node is None or node is _sink:  # nobody reads the throwaway counters: keep them small
                break
            with node._lock:
                node.warnings.append(message)
            node = node.parent

    def job(self, percent: float | None, note: str | None = None, *, key: object = None) -> None:
        """Record an asynchronous job's progress (0-100, or None when unknown: the job's last, else
        0) on this statement and every parent, thread-safely, and notify the progress callbacks.
        Concurrent jobs (a scan's pages) each pass a ``key`` of their own: the statement shows the
        least percent of the running jobs (so a bar never jumps back), and how many there are.

        >>> parent = QueryStats()
        >>> child = QueryStats(parent=parent)
        >>> child.job(40, "Searching contacts")
        >>> parent.job_percent, parent.job_note
        (40.0, 'Searching contacts')
        >>> child.job(10, "Queued", key="page 2"); parent.job_percent, parent.job_note
        (10.0, 'Queued · 2 jobs')
        >>> child.job_done(key="page 2"); child.job_done(); parent.job_percent is None
        True
        """
        value = float(min(max(percent, 0.0), 100.0)) if percent is not None else None
        # the vendor's words go to a terminal: no control character (an escape sequence) passes
        text = "".join(ch if ch.isprintable() else " " for ch in note[:120]).strip() if isinstance(note, str) else ""
        self._job(key, value, text or None, running=True)

    def job_done(self, key: object = None) -> None:
        """Clear the progress of the job ``key`` (it ended, finished or not) here and on every parent;
        the statement's shows no job once the last one ended."""
        self._job(key, None, None, running=False)

    def _job(self, key: object, percent: float | None, note: str | None, *, running: bool) -> None:
        node: QueryStats | None = self
        for _ in range(100):  # parents form a short chain
            if node is None or node is _sink:  # nobody reads the throwaway counters
                break
            with node._lock:
                jobs = node._jobs
                if running:  # a running job with no percent yet shows 0%: the line must say a job runs
                    jobs[key] = (percent if percent is not None else jobs.get(key, (0.0, None))[0], note)
                else:
                    jobs.pop(key, None)
                if jobs:
                    least, said = min(jobs.values(), key=lambda job: job[0])
                    node.job_percent = least
                    node.job_note = " · ".join(p for p in (said, f"{len(jobs)} jobs" if len(jobs) > 1 else None)
                                               if p) or None
                else:
                    node.job_percent = node.job_note = None
            node._notify()
            node = node.parent

    def _notify(self) -> None:
        if self.on_progress is not None:
            try:
                self.on_progress(self)
            except Exception:  # a broken progress display must never break a query
                pass

    def set_total_pages(self, pages: int) -> None:
        """Record how many pages the scan will take, once the vendor's total is known."""
        self.total_pages = pages
        if self.parent is not None:
            self.parent.set_total_pages((self.parent.total_pages or 0) + pages if self.parent.total_pages else pages)

    def line(self) -> str:
        """The ``--stats`` line, exactly as the CLI contract spells it."""
        return (
            f"stats: requests={self.requests} pages={self.pages} rows_fetched={self.rows_fetched} "
            f"rows={self.rows} retries={self.retries} elapsed_ms={self.elapsed_ms}"
        )

    def as_dict(self) -> dict[str, int]:
        return {
            "requests": self.requests,
            "pages": self.pages,
            "rows_fetched": self.rows_fetched,
            "rows": self.rows,
            "retries": self.retries,
            "elapsed_ms": self.elapsed_ms,
        }


_current: contextvars.ContextVar[QueryStats | None] = contextvars.ContextVar("crmql_stats", default=None)
_sink = QueryStats()  # counts go here when no statement is collecting


def current() -> QueryStats:
    """The stats object of the running statement (a throwaway one outside any statement)."""
    return _current.get() or _sink


@contextlib.contextmanager
def collecting(stats: QueryStats) -> Iterator[QueryStats]:
    """Make ``stats`` the current statement's counters inside the block."""
    token = _current.set(stats)
    try:
        yield stats
    finally:
        _current.reset(token)
