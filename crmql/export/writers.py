"""The format writers: one :class:`Writer` subclass per export format, fed batch by batch.

A writer receives the result's rows as DataFrames (one per page when streamed, or one for the whole
result) and turns them into bytes on a binary stream; :meth:`Writer.finish` ends the file (the JSON
array's closing bracket, the text table, the Parquet footer). :func:`make_writer` picks the class
for an :class:`~crmql.export.options.ExportOptions`.
"""

from __future__ import annotations

import csv
import io
import json
import logging
import threading
from typing import Any, BinaryIO

import pandas as pd

from ..errors import ExportError
from ..exec.formats import _json_value, _text, python_rows, render, unique_names
from .options import ExportOptions

__all__ = [
    "FORMULA_PREFIXES",
    "PARQUET_ROW_GROUP",
    "CsvWriter",
    "JsonWriter",
    "JsonlWriter",
    "MarkdownWriter",
    "ParquetWriter",
    "TableWriter",
    "Writer",
    "make_writer",
]

log = logging.getLogger(__name__)

#: rows per Parquet row group; fixed, so the file's layout depends on the rows only, never on how
#: they arrived (pages or one DataFrame), and so the writer holds at most this many rows
PARQUET_ROW_GROUP = 10_000
#: first characters a spreadsheet may read as a formula (OWASP CSV injection)
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


# ---- rows as text --------------------------------------------------------------------------------

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
            if self.columns is None:  # unique, as on screen: a repeated name would lose a JSON key
                self.columns = unique_names(frame.columns)
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
        for row in python_rows(frame):
            writer.writerow([_neutralize(v) if safe and isinstance(v, str) else _text(v) for v in row])
        self._emit(buf.getvalue())


class JsonlWriter(Writer):
    def _write(self, frame: pd.DataFrame) -> None:
        names = self.columns or []
        self._emit("".join(
            json.dumps(dict(zip(names, (_json_value(v) for v in row))), ensure_ascii=False, default=str) + "\n"
            for row in python_rows(frame)))


class JsonWriter(Writer):
    """One JSON array of objects, byte for byte what ``--format json`` prints, written row by row."""

    def _write(self, frame: pd.DataFrame) -> None:
        names = self.columns or []
        parts = []
        for row in python_rows(frame):
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
                           for row in python_rows(frame)))


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

        frame = frame.reset_index(drop=True).set_axis(self.columns or [], axis=1)  # unique names
        table = pa.Table.from_pandas(frame, preserve_index=False)
        fields = [pa.field(name, _canonical_type(f.type)) for name, f in zip(frame.columns, table.schema)]
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
