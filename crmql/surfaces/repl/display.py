"""Where the shell's output goes: results to the screen (through the pager when they do not fit)
or into the ``\\o`` file, and shell chatter and errors to the terminal.

:class:`DisplayMixin` is the part of :class:`~crmql.surfaces.repl.app.Shell` that prints; rendering itself
(tables, expanded records, the pager, the progress line) is in :mod:`crmql.surfaces.repl.output`.

A ``\\o`` file is written in the format its extension names, as ``--output`` does (``.csv``,
``.json``, ``.jsonl``, ``.md``: the same bytes as ``--output`` for each result; ``.txt``: aligned
tables); a name without an extension takes the ``\\format`` in force. Results are appended one
after the other while the file is open, as psql does.
"""

from __future__ import annotations

import logging
import os
import shutil
import traceback
from pathlib import Path
from typing import IO, TYPE_CHECKING

from .output import _isatty, page, render_expanded, render_table, text_width, timing_line

if TYPE_CHECKING:
    import pandas as pd

    from ...api.session import Result
    from .settings import ReplSettings

__all__ = ["DisplayMixin", "output_delimiter", "output_format"]

log = logging.getLogger(__name__)


class DisplayMixin:
    """Printing for :class:`~crmql.surfaces.repl.app.Shell`: ``out`` and ``err`` are the terminal, ``_output``
    the open ``\\o`` file (None: the screen)."""

    settings: ReplSettings
    stats: bool
    debug: bool
    out: IO[str]
    err: IO[str]
    _output: IO[str] | None
    _output_path: Path | None
    #: the \o file's format (from its extension); None: the \format in force
    _output_format: str | None = None
    #: the \o file's CSV delimiter (a tab for .tsv)
    _output_delimiter: str = ","

    @property
    def color(self) -> bool:
        return self._output is None and not os.environ.get("NO_COLOR") and _isatty(self.out)

    def message(self, text: str) -> None:
        """Shell chatter (never into a \\o file)."""
        self.out.write(text.rstrip("\n") + "\n")
        self.out.flush()

    def error(self, error: BaseException | str, *, source: str | None = None) -> None:
        """One error message on the terminal; ``source`` (a ``\\i`` file) is named after ``error:``."""
        text = str(error)
        if not isinstance(error, str):
            from ...errors import CrmqlError

            if not isinstance(error, CrmqlError):
                from ...http import redact

                text = f"internal error: {redact(text) or type(error).__name__}"
                if self.debug:
                    text += "\n" + "".join(traceback.format_exception(error))
            else:
                text = f"error: {source + ': ' if source else ''}{text}"
        else:
            text = f"error: {source + ': ' if source else ''}{text}"
        if _isatty(self.err) and not os.environ.get("NO_COLOR"):
            first, _, rest = text.partition("\n")
            text = f"\x1b[31m{first}\x1b[0m" + (f"\n{rest}" if rest else "")
        self.out.flush()
        self.err.write(text.rstrip("\n") + "\n")
        self.err.flush()

    def emit(self, text: str) -> None:
        """A result: into the \\o file, or the screen (through the pager when it does not fit)."""
        if self._output is not None:
            self._output.write(text if text.endswith("\n") else text + "\n")
            self._output.flush()
            return
        page(text, self.settings.pager, self.out)

    def show_frame(self, frame: pd.DataFrame) -> None:
        s = self.settings
        to_file = self._output is not None
        fmt = (self._output_format if to_file else None) or s.format
        if fmt != "table" and to_file:  # the bytes --output writes for this result
            from ...export.files import frame_bytes

            self.emit(frame_bytes(frame, fmt, delimiter=self._output_delimiter).decode("utf-8"))
            return
        if fmt != "table":
            from ...exec.formats import render

            self.emit(render(frame, fmt, max_cell=None, footer=False))
            return
        max_rows = None if to_file else s.max_rows
        max_cell = None if to_file else s.max_width
        width = shutil.get_terminal_size().columns
        expanded = s.expanded == "on"
        text = None
        if not expanded:
            text = render_table(frame, max_rows=max_rows, max_cell=max_cell, color=self.color)
            if s.expanded == "auto" and not to_file and len(frame) and max(map(text_width, text.split("\n", 2)[:2])) > width:
                expanded = True
        if expanded:
            text = render_expanded(frame, max_rows=max_rows, max_cell=max_cell if to_file else None, color=self.color,
                                   width=None if to_file else width)
        assert text is not None
        self.emit(text)

    def show_result(self, result: Result) -> None:
        if result.frame is None:  # EXPLAIN's plan, COPY's summary
            from ...api.copy import summary_on_stderr

            if summary_on_stderr(result):  # the data went to stdout: the summary must not follow it there
                self.out.flush()
                self.err.write((result.text or "").rstrip("\n") + "\n")
                self.err.flush()
                return
            self.emit(result.text or "")
        else:
            self.show_frame(result.frame)
        if self.settings.timing:
            self.message(timing_line(result.stats))
        if self.stats:
            self.err.write(result.stats.line() + "\n")
            self.err.flush()

    def set_output(self, path: Path | None) -> None:
        """``\\o FILE``: results go to ``path`` in the format of its extension; None: the screen."""
        fmt = None if path is None else output_format(path)
        if self._output is not None:
            self._output.close()
            self.message(f"Results go to the screen again (were going to {self._output_path}).")
            self._output, self._output_path, self._output_format = None, None, None
        if path is None:
            return
        try:
            self._output = open(path, "w", encoding="utf-8", newline="")  # noqa: SIM115 - closed by \o
        except OSError as e:
            raise ValueError(f"cannot write {path}: {e.strerror or e}") from None
        self._output_path, self._output_format = path, fmt
        self._output_delimiter = output_delimiter(path)
        tabs = self._output_delimiter == "\t"
        how = f" as {'tab-separated ' if tabs else ''}{fmt}" if fmt else ""
        self.message(f"Results go to {path}{how} (\\o alone: back to the screen).")


def output_format(path: Path) -> str | None:
    """The format of a ``\\o`` file, from its extension as ``--output`` and ``COPY TO`` read it
    (:func:`crmql.export.export_format`: ``.tsv`` is tab-separated CSV), except that ``.txt`` is
    the aligned table and no extension (or one with no letter, ``report.2024``) is the ``\\format``
    in force (None).

    Raises ValueError for Parquet (not a stream of text results: use COPY or ``--output``) and
    for an extension crmql does not write.

    >>> [output_format(Path(p)) for p in ("out.csv", "out.tsv", "out.txt", "out", "report.2024")]
    ['csv', 'csv', 'table', None, None]
    """
    from ...errors import CrmqlError
    from ...export.options import export_format, has_extension

    if not has_extension(path):
        return None
    try:
        fmt = export_format(path)
    except CrmqlError as e:  # an extension crmql does not write
        raise ValueError(str(e).replace("--format on the command line", "\\format in the shell")) from None
    if fmt == "parquet":
        raise ValueError(f"\\o writes text results; for Parquet use COPY (SELECT ...) TO '{path}' or crmql --output {path}")
    return fmt


def output_delimiter(path: Path) -> str:
    """The CSV delimiter of a ``\\o`` file: a tab for ``.tsv``, else a comma.

    >>> output_delimiter(Path("x.TSV")), output_delimiter(Path("x.csv"))
    ('\\t', ',')
    """
    from ...export.options import ExportOptions

    if output_format(path) != "csv":
        return ","
    return ExportOptions.for_path(path).delimiter
