r'''Writing results to files: CSV (RFC 4180), JSON Lines, JSON, Markdown, text tables and Parquet.

Every surface writes through this module, so ``COPY (...) TO 'f.csv'``, the CLI's ``--output``,
the REPL's ``\o`` and :func:`write_frame` on a notebook's DataFrame produce the same bytes for
the same rows and format:

* CSV: RFC 4180 quoting (delimiter, quote, CR and LF trigger quotes; quotes are doubled), CRLF
  line ends, UTF-8 without BOM, a header row (``HEADER false`` drops it), ISO-8601 times, an empty
  field for NULL, and nothing but data. ``SAFE true`` neutralises text cells starting with ``=``,
  ``+``, ``-``, ``@``, tab or CR by prefixing a single quote (OWASP's advice for files opened in
  a spreadsheet).
* Rows are written batch by batch as they arrive: a query with no global step (no ORDER BY,
  GROUP BY, DISTINCT, aggregate, join or OFFSET) is streamed page by page by
  :func:`crmql.executor.stream_plan`, so memory stays flat however many rows there are.
* Files are written atomically: into a temporary file in the target's directory, renamed over the
  target only once complete. A failed or cancelled export leaves no file behind and never
  replaces an existing file with a partial one.

>>> import pandas as pd
>>> frame = pd.DataFrame({"name": ['say "hi"', "=1+1", None], "n": [1, -2, 3]})
>>> print(frame_bytes(frame, "csv", safe=True).decode())  # doctest: +NORMALIZE_WHITESPACE
name,n
"say ""hi""",1
'=1+1,-2
,3
<BLANKLINE>
'''

from __future__ import annotations

import contextlib
import csv
import io
import json
import logging
import os
import tempfile
import threading
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

import pandas as pd

from . import ast, stats
from .errors import ExportError, QueryError, did_you_mean
from .formats import _json_value, _py, _text, format_for_path, render

__all__ = [
    "EXPORT_FORMATS",
    "ExportOptions",
    "Writer",
    "atomic_file",
    "execute_copy",
    "export_query",
    "export_statement",
    "frame_bytes",
    "open_export",
    "write_frame",
]

log = logging.getLogger(__name__)

#: the formats a file can be written in (COPY's FORMAT, --output's extension)
EXPORT_FORMATS = ("csv", "jsonl", "json", "parquet", "markdown", "table")
#: rows per Parquet row group; fixed, so the file's layout depends on the rows only, never on how
#: they arrived (pages or one DataFrame), and so the writer holds at most this many rows
PARQUET_ROW_GROUP = 10_000
#: first characters a spreadsheet may read as a formula (OWASP CSV injection)
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")

_OPTIONS = ("format", "header", "delimiter", "safe")
_TRUE = {"true", "on", "yes", "1"}
_FALSE = {"false", "off", "no", "0"}


# ---- options -------------------------------------------------------------------------------------

@dataclass(frozen=True)
class ExportOptions:
    """How to write a file. ``header``, ``delimiter`` and ``safe`` apply to CSV only."""

    format: str = "csv"
    header: bool = True
    delimiter: str = ","
    safe: bool = False

    def __post_init__(self) -> None:
        fmt = str(self.format).lower()
        if fmt not in EXPORT_FORMATS:
            hint = did_you_mean(fmt, EXPORT_FORMATS) or f"formats: {', '.join(EXPORT_FORMATS)}"
            raise QueryError(f"unknown export format '{self.format}'", hint=hint)
        object.__setattr__(self, "format", fmt)
        delimiter = _delimiter(self.delimiter)
        object.__setattr__(self, "delimiter", delimiter)
        if fmt != "csv":
            for name, value, default in (("HEADER", self.header, True), ("DELIMITER", delimiter, ","),
                                         ("SAFE", self.safe, False)):
                if value != default:
                    raise QueryError(f"{name} applies to CSV only, not to {fmt}",
                                     hint=f"drop {name} or write FORMAT csv")

    @classmethod
    def for_path(cls, path: str | os.PathLike[str], format: str | None = None, **options: Any) -> ExportOptions:
        """Options for ``path``: the format given, else the file's extension, else CSV."""
        return cls(format=format or format_for_path(path) or "csv", **options)

    @classmethod
    def from_copy(cls, path: str, options: Sequence[tuple[str, Any]]) -> ExportOptions:
        """Options of a ``COPY ... TO path WITH (...)`` statement."""
        given: dict[str, Any] = {}
        for name, value in options:
            name = name.lower()
            if name not in _OPTIONS:
                hint = did_you_mean(name, _OPTIONS) or "options: FORMAT, HEADER, DELIMITER, SAFE"
                raise QueryError(f"unknown COPY option {name.upper()}", hint=hint)
            if name in given:
                raise QueryError(f"COPY option {name.upper()} is given twice")
            given[name] = value
        kwargs: dict[str, Any] = {}
        if "header" in given:
            kwargs["header"] = _boolean("HEADER", given["header"])
        if "safe" in given:
            kwargs["safe"] = _boolean("SAFE", given["safe"])
        if "delimiter" in given:
            if not isinstance(given["delimiter"], str):
                raise QueryError("DELIMITER must be a one-character string", hint="e.g. DELIMITER ';'")
            kwargs["delimiter"] = given["delimiter"]
        fmt = given.get("format")
        if fmt is not None and not isinstance(fmt, str):
            raise QueryError("FORMAT must be a name", hint=f"e.g. FORMAT csv; formats: {', '.join(EXPORT_FORMATS)}")
        return cls.for_path(path, fmt, **kwargs)


def _boolean(name: str, value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, (int, str)) and str(value).lower() in _TRUE | _FALSE:
        return str(value).lower() in _TRUE
    raise QueryError(f"{name} must be true or false, not {value!r}", hint=f"e.g. {name} true")


def _delimiter(value: str) -> str:
    if value in ("\\t", "tab", "TAB"):
        return "\t"
    if not isinstance(value, str) or len(value) != 1:
        raise QueryError(f"DELIMITER must be one character, not {value!r}", hint="e.g. DELIMITER ';' or DELIMITER '\\t'")
    if value in ('"', "\r", "\n"):
        raise QueryError(f"DELIMITER cannot be {value!r}", hint="e.g. DELIMITER ';'")
    return value


# ---- rows as text --------------------------------------------------------------------------------

def _rows(frame: pd.DataFrame) -> Iterator[list[Any]]:
    """Rows of plain Python values, column by column (the values of :func:`crmql.formats.python_rows`,
    without a per-cell ``iloc``)."""
    columns = [frame.iloc[:, i].tolist() for i in range(frame.shape[1])]
    for row in zip(*columns) if columns else ([] for _ in range(len(frame))):
        yield [_py(v) for v in row]


def _neutralize(text: str) -> str:
    return "'" + text if text.startswith(FORMULA_PREFIXES) else text


# ---- writers -------------------------------------------------------------------------------------

class Writer:
    """Writes batches (DataFrames) of one result to a binary stream; :meth:`finish` ends the file.

    Thread-safe: batches may arrive from the event loop's thread while :meth:`abort` is called from
    the caller's (a cancelled export); after an abort every write raises :class:`ExportError`.
    """

    def __init__(self, out: BinaryIO, options: ExportOptions) -> None:
        self.out = out
        self.options = options
        self.rows = 0
        self.columns: list[str] | None = None
        self._lock = threading.Lock()
        self._aborted = False

    def write(self, frame: pd.DataFrame) -> None:
        """Append the rows of ``frame`` (its columns must be the result's columns)."""
        with self._lock:
            if self._aborted:
                raise ExportError("the export was stopped")
            if self.columns is None:
                self.columns = [str(c) for c in frame.columns]
                self._begin(frame)
            self._write(frame)
            self.rows += len(frame)

    def finish(self) -> None:
        with self._lock:
            if self._aborted:
                raise ExportError("the export was stopped")
            if self.columns is None:  # no batch at all: nothing to describe the columns
                self.columns = []
                self._begin(pd.DataFrame())
            self._finish()

    def abort(self) -> None:
        with self._lock:
            self._aborted = True

    # subclasses
    def _begin(self, frame: pd.DataFrame) -> None:
        pass

    def _write(self, frame: pd.DataFrame) -> None:
        raise NotImplementedError

    def _finish(self) -> None:
        pass

    def _emit(self, text: str) -> None:
        self.out.write(text.encode("utf-8"))


class CsvWriter(Writer):
    def _line(self, cells: list[str]) -> str:
        buf = io.StringIO()
        csv.writer(buf, delimiter=self.options.delimiter, lineterminator="\r\n").writerow(cells)
        return buf.getvalue()

    def _begin(self, frame: pd.DataFrame) -> None:
        if self.options.header:
            names = self.columns or []
            self._emit(self._line([_neutralize(n) for n in names] if self.options.safe else names))

    def _write(self, frame: pd.DataFrame) -> None:
        buf = io.StringIO()
        writer = csv.writer(buf, delimiter=self.options.delimiter, lineterminator="\r\n")
        safe = self.options.safe
        for row in _rows(frame):
            writer.writerow([_neutralize(v) if safe and isinstance(v, str) else _text(v) for v in row])
        self._emit(buf.getvalue())


class JsonlWriter(Writer):
    def _write(self, frame: pd.DataFrame) -> None:
        names = self.columns or []
        self._emit("".join(
            json.dumps(dict(zip(names, (_json_value(v) for v in row))), ensure_ascii=False, default=str) + "\n"
            for row in _rows(frame)))


class JsonWriter(Writer):
    """One JSON array of objects, byte for byte what ``--format json`` prints, written row by row."""

    def _write(self, frame: pd.DataFrame) -> None:
        names = self.columns or []
        parts = []
        for row in _rows(frame):
            obj = json.dumps(dict(zip(names, (_json_value(v) for v in row))), ensure_ascii=False, indent=2, default=str)
            parts.append(("[\n" if self.rows == 0 and not parts else ",\n") + "  " + obj.replace("\n", "\n  "))
        self._emit("".join(parts))

    def _finish(self) -> None:
        self._emit("\n]\n" if self.rows else "[]\n")


class MarkdownWriter(Writer):
    @staticmethod
    def _esc(text: str) -> str:
        return text.replace("|", "\\|").replace("\n", "<br>")

    def _begin(self, frame: pd.DataFrame) -> None:
        names = [self._esc(n) for n in self.columns or []]
        self._emit("| " + " | ".join(names) + " |\n" + "|" + "|".join(" --- " for _ in names) + "|\n")

    def _write(self, frame: pd.DataFrame) -> None:
        self._emit("".join("| " + " | ".join(self._esc(_text(v)) if v is not None else "" for v in row) + " |\n"
                           for row in _rows(frame)))


class TableWriter(Writer):
    """The aligned text table needs every row for its widths: it keeps them until the end."""

    def _begin(self, frame: pd.DataFrame) -> None:
        self._frames: list[pd.DataFrame] = []

    def _write(self, frame: pd.DataFrame) -> None:
        self._frames.append(frame)

    def _finish(self) -> None:
        frames = [f for f in self._frames if len(f)] or self._frames[:1]
        frame = pd.concat(frames, ignore_index=True) if len(frames) > 1 else (frames[0] if frames else pd.DataFrame())
        self._emit(render(frame, "table", max_cell=None, footer=False) + "\n")


class ParquetWriter(Writer):
    """Parquet in row groups of exactly :data:`PARQUET_ROW_GROUP` rows (the last one shorter).

    The schema is fixed by the first row group: strings are ``string``, times ``timestamp[us, UTC]``,
    and a column with no value at all is a string column.
    """

    def _begin(self, frame: pd.DataFrame) -> None:
        self._pending: list[pd.DataFrame] = []
        self._pending_rows = 0
        self._template = frame.iloc[:0]
        self._writer: Any = None
        self._schema: Any = None

    def _write(self, frame: pd.DataFrame) -> None:
        if not len(frame):
            return
        self._pending.append(frame)
        self._pending_rows += len(frame)
        while self._pending_rows >= PARQUET_ROW_GROUP:
            self._flush(PARQUET_ROW_GROUP)

    def _finish(self) -> None:
        if self._pending_rows:
            self._flush(self._pending_rows)
        if self._writer is None:
            self._open(self._arrow(self._template))
        self._writer.close()

    def _flush(self, n: int) -> None:
        frame = pd.concat(self._pending, ignore_index=True) if len(self._pending) > 1 else self._pending[0]
        chunk, rest = frame.iloc[:n], frame.iloc[n:]
        self._pending = [rest] if len(rest) else []
        self._pending_rows = len(rest)
        table = self._arrow(chunk)
        if self._writer is None:
            self._open(table)
        self._writer.write_table(table, row_group_size=PARQUET_ROW_GROUP)

    def _open(self, table: Any) -> None:
        import pyarrow.parquet as pq

        self._schema = table.schema
        self._writer = pq.ParquetWriter(self.out, self._schema)

    def _arrow(self, frame: pd.DataFrame) -> Any:
        import pyarrow as pa

        table = pa.Table.from_pandas(frame.reset_index(drop=True), preserve_index=False)
        fields = [pa.field(str(name), _canonical_type(f.type)) for name, f in zip(frame.columns, table.schema)]
        schema = pa.schema(fields)
        if self._schema is not None:
            schema = self._schema
        return _cast(table.rename_columns([f.name for f in fields]), schema).combine_chunks()


def _canonical_type(t: Any) -> Any:
    import pyarrow as pa

    if pa.types.is_null(t) or pa.types.is_large_string(t) or pa.types.is_string_view(t):
        return pa.string()
    if pa.types.is_timestamp(t) and t.tz is not None:
        return pa.timestamp(t.unit, tz="UTC")
    if pa.types.is_large_list(t) or pa.types.is_list(t):
        return pa.list_(_canonical_type(t.value_type))
    return t


def _cast(table: Any, schema: Any) -> Any:
    import pyarrow as pa

    if table.schema.equals(schema):
        return table.replace_schema_metadata(None)
    columns = []
    for column, field in zip(table.columns, schema):
        if column.type.equals(field.type):
            columns.append(column)
            continue
        try:
            columns.append(column.cast(field.type))
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError) as e:
            raise ExportError(f"column {field.name} changed type mid-export ({column.type} after {field.type}): {e}",
                              hint="cast the column in the query so every row has one type") from None
    return pa.Table.from_arrays(columns, schema=schema)


_WRITERS: dict[str, type[Writer]] = {
    "csv": CsvWriter, "jsonl": JsonlWriter, "json": JsonWriter, "markdown": MarkdownWriter,
    "table": TableWriter, "parquet": ParquetWriter,
}


def make_writer(out: BinaryIO, options: ExportOptions) -> Writer:
    """A writer of ``options.format`` onto the binary stream ``out``."""
    return _WRITERS[options.format](out, options)


# ---- atomic files --------------------------------------------------------------------------------

def _umask() -> int:
    try:
        with open("/proc/self/status", encoding="ascii") as f:
            for line in f:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError):
        pass
    mask = os.umask(0o022)  # no /proc: read it the only other way there is
    os.umask(mask)
    return mask


def _target(path: str | os.PathLike[str], make_dirs: bool) -> Path:
    target = Path(os.path.expanduser(os.fspath(path)))
    if not target.name or target.is_dir():
        raise ExportError(f"cannot write {target}: it is a directory", hint="give a file name, e.g. 'out.csv'")
    parent = target.parent
    if make_dirs:
        try:
            parent.mkdir(parents=True, exist_ok=True)
        except OSError as e:
            raise ExportError(f"cannot create directory {parent}: {e.strerror or e}") from None
    elif not parent.is_dir():
        raise ExportError(f"cannot write {target}: directory {parent} does not exist",
                          hint="create it first, or give another path")
    return target


@contextlib.contextmanager
def atomic_file(path: str | os.PathLike[str], *, make_dirs: bool = False) -> Iterator[BinaryIO]:
    """A binary file that becomes ``path`` only if the block ends normally.

    It is written as a temporary file in the target's directory, flushed to disk, given the
    target's permissions (or the umask's) and renamed over the target. If the block raises or is
    interrupted, the temporary file is deleted and an existing ``path`` is left untouched.
    """
    target = _target(path, make_dirs)
    try:
        fd, tmp_name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    except OSError as e:
        raise ExportError(f"cannot write {target}: {e.strerror or e}") from None
    tmp = Path(tmp_name)
    out = os.fdopen(fd, "wb", buffering=1 << 16)
    try:
        try:
            yield out
            out.flush()
            os.fsync(out.fileno())
            out.close()
            try:
                mode = target.stat().st_mode & 0o7777
            except FileNotFoundError:
                mode = 0o666 & ~_umask()
            os.chmod(tmp, mode)
            os.replace(tmp, target)
        except OSError as e:
            raise ExportError(f"cannot write {target}: {e.strerror or e}") from None
    except BaseException:
        with contextlib.suppress(OSError):
            out.close()
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise


@contextlib.contextmanager
def open_export(path: str | os.PathLike[str], options: ExportOptions, *, make_dirs: bool = False) -> Iterator[Writer]:
    """A :class:`Writer` onto an :func:`atomic_file`: ``path`` appears, complete, when the block ends
    normally; if it raises or is interrupted nothing is left behind and ``path`` is untouched."""
    with atomic_file(path, make_dirs=make_dirs) as out:
        writer = make_writer(out, options)
        try:
            yield writer
            writer.finish()
        except BaseException:
            writer.abort()  # waits for a batch being written from another thread, refuses the next
            raise


def write_frame(frame: pd.DataFrame, path: str | os.PathLike[str], *, format: str | None = None,
                header: bool = True, delimiter: str = ",", safe: bool = False, make_dirs: bool = False) -> int:
    """Write a DataFrame (e.g. a notebook's ``df = %crmql ...``) atomically; returns the rows written.

    The bytes are those ``COPY (query) TO path`` writes for the query that produced ``frame``.
    """
    options = ExportOptions.for_path(path, format, header=header, delimiter=delimiter, safe=safe)
    with open_export(path, options, make_dirs=make_dirs) as writer:
        writer.write(frame)
    return len(frame)


def frame_bytes(frame: pd.DataFrame, format: str = "csv", *, header: bool = True, delimiter: str = ",",
                safe: bool = False) -> bytes:
    """The bytes :func:`write_frame` would write, in memory."""
    options = ExportOptions(format=format, header=header, delimiter=delimiter, safe=safe)
    buf = io.BytesIO()
    writer = make_writer(buf, options)
    writer.write(frame)
    writer.finish()
    return buf.getvalue()


# ---- queries -------------------------------------------------------------------------------------

def _copy_message(rows: int, path: str | os.PathLike[str], fmt: str) -> str:
    return f"COPY {rows} row{'s' if rows != 1 else ''} to {os.fspath(path)} ({fmt})"


def _export_select(session: Any, select: ast.Select, sql: str, path: str | os.PathLike[str], options: ExportOptions,
                   params: Mapping[str, Any] | None, st: stats.QueryStats, statement: Any, make_dirs: bool) -> Any:
    from .executor import can_stream, execute_plan, stream_plan
    from .session import Result

    plan = session.plan(select, params, text=sql)
    with open_export(path, options, make_dirs=make_dirs) as writer:
        if can_stream(plan):
            log.debug("exporting %s page by page", path)
            stream_plan(plan, st, writer.write)
        else:
            frame, _ = execute_plan(plan, st)
            writer.write(frame)
        rows = writer.rows
    st.rows = rows
    return Result("copy", text=_copy_message(rows, path, options.format), stats=st, statement=statement)


def execute_copy(session: Any, stmt: ast.Copy, sql: str, params: Mapping[str, Any] | None,
                 st: stats.QueryStats) -> Any:
    """Run ``COPY (query) TO 'path' [WITH (...)]`` (called by :meth:`crmql.Session.execute`)."""
    options = ExportOptions.from_copy(stmt.path, stmt.options)
    return _export_select(session, stmt.query, sql, stmt.path, options, params, st, stmt, make_dirs=False)


def export_query(session: Any, sql: str, path: str | os.PathLike[str], *, params: Mapping[str, Any] | None = None,
                 format: str | None = None, header: bool = True, delimiter: str = ",", safe: bool = False,
                 statement_stats: stats.QueryStats | None = None, make_dirs: bool = False) -> Any:
    """Run one SELECT and write its rows to ``path`` (streamed when the query allows it).

    Returns a :class:`crmql.Result` of kind ``"copy"`` whose ``text`` says what was written.
    """
    from .parser import parse

    stmt = parse(sql)
    if not isinstance(stmt, ast.Select):
        raise QueryError("only a SELECT can be exported this way", hint="use export_statement() for other statements")
    options = ExportOptions.for_path(path, format, header=header, delimiter=delimiter, safe=safe)
    st = statement_stats or stats.QueryStats()
    return _export_select(session, stmt, sql, path, options, params, st, stmt, make_dirs)


def export_statement(session: Any, sql: str, path: str | os.PathLike[str], *, format: str | None = None,
                     params: Mapping[str, Any] | None = None, statement_stats: stats.QueryStats | None = None,
                     make_dirs: bool = True) -> Any:
    """Run any statement and write its result to ``path`` (the CLI's ``--output``, the REPL's ``\\o``).

    A SELECT streams like COPY; SHOW TABLES and DESCRIBE write their rows; EXPLAIN writes its text.
    """
    from .parser import parse
    from .session import Result

    stmt = parse(sql)
    st = statement_stats or stats.QueryStats()
    if isinstance(stmt, ast.Copy):
        raise QueryError("COPY writes its own file", hint="leave out the output file, or run the SELECT inside it")
    options = ExportOptions.for_path(path, format)
    if isinstance(stmt, ast.Select):
        return _export_select(session, stmt, sql, path, options, params, st, stmt, make_dirs)
    result = session.execute(sql, params, statement_stats=st)
    if result.frame is not None:
        with open_export(path, options, make_dirs=make_dirs) as writer:
            writer.write(result.frame)
        return Result("copy", text=_copy_message(len(result.frame), path, options.format), stats=result.stats,
                      statement=stmt)
    with atomic_file(path, make_dirs=make_dirs) as out:
        out.write(((result.text or "") + "\n").encode("utf-8"))
    return Result("copy", text=f"wrote the plan to {os.fspath(path)}", stats=result.stats, statement=stmt)
