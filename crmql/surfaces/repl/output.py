"""How the shell shows results: aligned tables (psql style), expanded records, a footer, the pager,
and the live progress line of a running query.

>>> import pandas as pd
>>> frame = pd.DataFrame({"name": ["Kickoff", None], "n": [1, 22]})
>>> print(render_table(frame, color=False))
 name    | n
---------+----
 Kickoff |  1
 NULL    | 22
(2 rows)
>>> print(render_expanded(frame.head(1), color=False))
-[ RECORD 1 ]-
name | Kickoff
n    | 1
(1 row)
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import signal
import subprocess
import sys
import threading
import time
from typing import IO, TYPE_CHECKING, Any

from prompt_toolkit.utils import get_cwidth

if TYPE_CHECKING:
    import pandas as pd

    from ...stats import QueryStats

__all__ = ["Progress", "footer", "page", "render_expanded", "render_table", "text_width", "timing_line"]

NULL_STYLE = "\x1b[2;3m"  # dim italic: NULL never looks like the text 'NULL'
RESET = "\x1b[0m"
_ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")
DEFAULT_PAGER = "less -SRXF"


def text_width(text: str) -> int:
    """Display width of one line (ANSI escapes take no room, wide characters take two)."""
    return get_cwidth(_ANSI.sub("", text))


def _cell(value: Any, max_cell: int | None) -> str:
    from ...exec.formats import _text  # the CLI's own cell text: ISO-8601 times, true/false, JSON lists

    text = _text(value).replace("\r", "\\r").replace("\n", "\\n").replace("\t", " ")
    if max_cell is not None and get_cwidth(text) > max_cell:
        out, width = [], 0
        for ch in text:
            w = get_cwidth(ch)
            if width + w > max_cell - 1:
                break
            out.append(ch)
            width += w
        text = "".join(out) + "…"
    return text


def _null(color: bool, null: str = "NULL") -> str:
    return f"{NULL_STYLE}{null}{RESET}" if color else null


def _pad(text: str, width: int, right: bool = False) -> str:
    fill = " " * max(0, width - get_cwidth(text))
    return fill + text if right else text + fill


def _numeric(frame: pd.DataFrame) -> list[bool]:
    import pandas as pd

    out = []
    for i in range(frame.shape[1]):
        col = frame.iloc[:, i]
        out.append(bool(pd.api.types.is_numeric_dtype(col) and not pd.api.types.is_bool_dtype(col)))
    return out


def footer(total: int, shown: int) -> str:
    """``(N rows)``, or ``(N rows; showing first M of N)`` when the display was cut.

    >>> footer(1, 1), footer(2500, 1000)
    ('(1 row)', '(2500 rows; showing first 1000 of 2500)')
    """
    text = f"({total} row{'' if total == 1 else 's'}"
    if shown < total:
        text += f"; showing first {shown} of {total}"
    return text + ")"


def render_table(frame: pd.DataFrame, *, max_rows: int | None = None, max_cell: int | None = 80,
                 color: bool = True, show_footer: bool = True, null: str = "NULL") -> str:
    """An aligned table: NULL distinct, numbers right-aligned, long text cut with an ellipsis."""
    from ...exec.formats import python_rows

    total = len(frame)
    shown_frame = frame if max_rows is None or total <= max_rows else frame.head(max_rows)
    names = [str(c) for c in frame.columns]
    numeric = _numeric(frame)
    rows = [[None if v is None else _cell(v, max_cell) for v in row] for row in python_rows(shown_frame)]
    widths = [max([get_cwidth(n)] + [get_cwidth(null if r[i] is None else r[i]) for r in rows]) for i, n in enumerate(names)]
    lines = [(" " + " | ".join(_pad(n, widths[i]) for i, n in enumerate(names))).rstrip()]
    lines.append("-" + "-+-".join("-" * w for w in widths) + "-")
    null_text = _null(color, null)
    for r in rows:
        cells = []
        for i, c in enumerate(r):
            if c is None:
                cells.append(null_text + " " * (widths[i] - get_cwidth(null)))
            else:
                cells.append(_pad(c, widths[i], right=numeric[i]))
        lines.append((" " + " | ".join(cells)).rstrip())
    if show_footer:
        lines.append(footer(total, len(rows)))
    return "\n".join(lines)


def render_expanded(frame: pd.DataFrame, *, max_rows: int | None = None, max_cell: int | None = None,
                    color: bool = True, show_footer: bool = True, null: str = "NULL", width: int | None = None) -> str:
    """One block per row, one line per column (psql's ``\\x``)."""
    from ...exec.formats import python_rows

    total = len(frame)
    shown_frame = frame if max_rows is None or total <= max_rows else frame.head(max_rows)
    names = [str(c) for c in frame.columns]
    name_w = max((get_cwidth(n) for n in names), default=0)
    if max_cell is None and width is not None:
        max_cell = max(10, width - name_w - 3)
    rows = [[None if v is None else _cell(v, max_cell) for v in row] for row in python_rows(shown_frame)]
    value_w = max((get_cwidth(null if v is None else v) for r in rows for v in r), default=0)
    if width is not None:
        value_w = min(value_w, max(1, width - name_w - 4))
    lines: list[str] = []
    for n, r in enumerate(rows, 1):
        label = f"-[ RECORD {n} ]"
        if len(label) <= name_w + 1:  # psql: the header's + sits on the column separator
            lines.append(label + "-" * (name_w + 1 - len(label)) + "+" + "-" * (value_w + 1))
        else:
            lines.append(label + "-" * max(1, name_w + 3 + value_w - len(label)))
        for name, v in zip(names, r):
            lines.append(f"{_pad(name, name_w)} | {_null(color, null) if v is None else v}".rstrip())
    if not rows:
        lines.append("(no rows)" if show_footer else "")
        return "\n".join(lines)
    if show_footer:
        lines.append(footer(total, len(rows)))
    return "\n".join(lines)


def timing_line(stats: QueryStats) -> str:
    """``Time: 1.234 s · 5 requests · 4 pages · 200 rows fetched · 0 retries``."""
    return (f"Time: {stats.elapsed_ms / 1000:.3f} s · {stats.requests} request{'' if stats.requests == 1 else 's'}"
            f" · {stats.pages} page{'' if stats.pages == 1 else 's'} · {stats.rows_fetched} rows fetched"
            f" · {stats.retries} retr{'y' if stats.retries == 1 else 'ies'}")


def needs_pager(text: str, size: os.terminal_size) -> bool:
    lines = text.split("\n")
    if len(lines) >= size.lines - 1:
        return True
    return any(text_width(line) > size.columns for line in lines)


def page(text: str, command: str | None, stream: IO[str] | None = None) -> None:
    """Write ``text`` through the pager when it does not fit the terminal, else directly.

    ``command`` None disables paging. The pager is skipped unless ``stream`` is a terminal.
    """
    stream = stream or sys.stdout
    if not text.endswith("\n"):
        text += "\n"
    if command and _isatty(stream) and needs_pager(text.rstrip("\n"), shutil.get_terminal_size()):
        if _run_pager(text, command, stream):
            return
    stream.write(text)
    stream.flush()


def _isatty(stream: Any) -> bool:
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError):
        return False


def _run_pager(text: str, command: str, stream: IO[str]) -> bool:
    try:
        argv = shlex.split(command)
    except ValueError:
        return False
    if not argv:
        return False
    env = dict(os.environ)
    env.setdefault("LESSCHARSET", "utf-8")
    stream.flush()
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN) if threading.current_thread() is threading.main_thread() else None
    try:
        try:
            proc = subprocess.Popen(argv, stdin=subprocess.PIPE, env=env)
        except OSError:
            return False
        try:
            assert proc.stdin is not None
            proc.stdin.write(text.encode("utf-8", "replace"))
            proc.stdin.close()
        except (BrokenPipeError, OSError):  # the user left the pager early
            pass
        proc.wait()
        return True
    finally:
        if previous is not None:
            signal.signal(signal.SIGINT, previous)


class Progress:
    """The live status line of a running statement, drawn by a thread once it has run ``delay`` s.

    ``notify`` is the :class:`~crmql.stats.QueryStats` ``on_progress`` callback (any thread).
    While a vendor's asynchronous job runs (``job_percent`` set) the line shows its percent and
    commentary, from before the first page: ``⠋ async request 40% · Searching contacts · 3.2 s``.
    """

    SPINNER = "⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏"

    def __init__(self, stats: QueryStats, stream: IO[str], *, delay: float = 0.5, interval: float = 0.1,
                 enabled: bool = True) -> None:
        self.stats = stats
        self.stream = stream
        self.delay = delay
        self.interval = interval
        self.enabled = enabled
        self.started = time.perf_counter()
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._lock = threading.Lock()
        self._shown = False
        self._thread: threading.Thread | None = None
        self._tick = 0
        #: shown instead of the counters while set (e.g. while the session is still starting)
        self.phase: str | None = None

    def notify(self, _stats: Any = None) -> None:
        self._wake.set()

    def start(self) -> Progress:
        self.started = time.perf_counter()
        if self.enabled:
            self._thread = threading.Thread(target=self._run, name="crmql-progress", daemon=True)
            self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(1.0)
            self._thread = None
        with self._lock:
            if self._shown:
                self.stream.write("\r\x1b[K")
                self.stream.flush()
                self._shown = False

    def __enter__(self) -> Progress:
        return self.start()

    def __exit__(self, *exc: Any) -> None:
        self.stop()

    @property
    def elapsed(self) -> float:
        return time.perf_counter() - self.started

    def line(self) -> str:
        s = self.stats
        spin = self.SPINNER[self._tick % len(self.SPINNER)]
        if self.phase:
            return f"{spin} {self.phase} · {self.elapsed:.1f} s  (Ctrl-C cancels)"
        percent, note = s.job_percent, s.job_note  # (read once: the job may end meanwhile)
        if percent is not None:  # an asynchronous vendor job: its percent is the progress
            parts = [f"async request {percent:.0f}%", *([note] if note else [])]
            if s.pages:
                parts.append(f"{s.pages} page{'' if s.pages == 1 else 's'} · {s.rows_fetched} rows")
            return f"{spin} {' · '.join(parts)} · {self.elapsed:.1f} s  (Ctrl-C cancels)"
        if s.pages:
            pages = f"{s.pages}/{s.total_pages} pages" if s.total_pages else f"{s.pages} page{'' if s.pages == 1 else 's'}"
        else:
            pages = "waiting for the first page"
        return (f"{spin} {pages} · {s.rows_fetched} rows · {s.retries} retr{'y' if s.retries == 1 else 'ies'}"
                f" · {self.elapsed:.1f} s  (Ctrl-C cancels)")

    def _run(self) -> None:
        if self._stop.wait(self.delay):
            return
        while not self._stop.is_set():
            self._draw()
            self._wake.wait(self.interval)
            self._wake.clear()
        # stop() clears the line

    def _draw(self) -> None:
        self._tick += 1
        text = self.line()
        columns = shutil.get_terminal_size().columns
        if text_width(text) > columns - 1:
            text = text[: max(0, columns - 2)] + "…"
        with self._lock:
            if self._stop.is_set():
                return
            try:
                self.stream.write("\r\x1b[K" + text)
                self.stream.flush()
                self._shown = True
            except (OSError, ValueError):
                pass
