"""Hive-partitioned Parquet: ``COPY (...) TO 'dir/' WITH (FORMAT parquet, PARTITION_BY (col, ...))``.

The result becomes a directory with one folder per partition value, ``dir/col=value/part-00000.parquet``
(``dir/a=1/b=x/...`` for two columns), the layout Spark, Hive, DuckDB
(``read_parquet('dir/**/*.parquet', hive_partitioning = true)``), pyarrow (``partitioning="hive"``) and
pandas (``pd.read_parquet('dir')``) read back. As in Hive and Spark, the partition columns are in
the folder names only, not in the files; readers add them back (typed by their own guess from the
text: an integer column may come back as int32, a timestamp as a string).

Folder names (Spark's ``ExternalCatalogUtils.escapePathName``, which Hive shares):

* a value is written as crmql writes it in CSV (``true``, ``2025-03-01``, ``12.5``), but a timestamp
  as Spark writes one, in UTC: ``2025-03-01 09:30:00`` (Spark reads that back as a timestamp; the ISO
  form with ``T`` and ``Z`` would come back as a string);
* the characters ``" # % ' * / : = ? \\ { [ ] ^``, DEL and the control characters become ``%XX``
  (upper-case hex of the byte), so ``a/b`` is ``a%2Fb``; every reader above decodes them;
* NULL is ``__HIVE_DEFAULT_PARTITION__``, which every reader above reads as NULL. An empty string
  is written there too: Spark refuses an empty folder value (``col=``) and writes '' there itself,
  so '' reads back as NULL (as it does from a Spark-written table);
* a folder name longer than 255 bytes (the file-name limit of Linux, macOS and Windows file systems)
  is an error naming the column, never a truncated value.

Memory is bounded by batches, not by the result: rows wait per partition until a row group
(:data:`~crmql.export.writers.PARQUET_ROW_GROUP` rows) is complete, but at most
:data:`MAX_PENDING_ROWS` rows wait in all (the largest waiting partitions are written first), and at
most :data:`MAX_OPEN_FILES` files are open at once: the least recently used is closed, and a later
row of its partition starts the next file of that folder (``part-00001.parquet``).

The directory appears complete or not at all: it is written under a temporary name beside the
target and renamed into place at the end, so a failed or cancelled export leaves nothing behind. An
existing directory that is not empty is an error unless ``OVERWRITE`` is given; it is then replaced
only once the new one is complete.

>>> hive_escape("a/b=c%"), folder_value(None), folder_value(""), folder_value(True)
('a%2Fb%3Dc%25', '__HIVE_DEFAULT_PARTITION__', '__HIVE_DEFAULT_PARTITION__', 'true')
"""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
import os
import shutil
import tempfile
import threading
from collections import OrderedDict
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from ..errors import ExportError
from ..exec.formats import _text, unique_names
from .options import ExportOptions
from .writers import PARQUET_ROW_GROUP, _canonical_type, _cast

__all__ = ["DEFAULT_PARTITION", "MAX_OPEN_FILES", "MAX_PENDING_ROWS", "PartitionedWriter", "check_target",
           "folder_value", "hive_escape", "open_partitioned"]

log = logging.getLogger(__name__)

#: the folder value of NULL (and of ''), as Hive and Spark write it
DEFAULT_PARTITION = "__HIVE_DEFAULT_PARTITION__"
#: files open at once; the least recently written is closed when another is needed
MAX_OPEN_FILES = 64
#: rows waiting for their row group, across all partitions; beyond it the largest are written
MAX_PENDING_ROWS = 50_000
#: the longest file or folder name common file systems take, in bytes
MAX_NAME_BYTES = 255

_ESCAPED = frozenset('"#%\'*/:=?\\{[]^\x7f') | frozenset(chr(c) for c in range(0x20))


def hive_escape(text: str) -> str:
    """``text`` as Hive and Spark write it in a folder name: unsafe characters as ``%XX``.

    >>> hive_escape("München"), hive_escape("10:30"), hive_escape("x y")
    ('München', '10%3A30', 'x y')
    """
    return "".join("".join(f"%{b:02X}" for b in c.encode("utf-8")) if c in _ESCAPED else c for c in text)


def folder_value(value: Any) -> str:
    """A partition value as written in its folder's name (escaped; NULL and '' as the default partition).

    >>> import datetime as dt
    >>> folder_value(dt.datetime(2025, 3, 1, 9, 30, tzinfo=dt.timezone.utc)), folder_value(dt.date(2025, 3, 1))
    ('2025-03-01 09%3A30%3A00', '2025-03-01')
    """
    if value is None or (isinstance(value, float) and value != value):
        return DEFAULT_PARTITION
    if isinstance(value, dt.datetime):
        if value.tzinfo is not None:
            value = value.astimezone(dt.timezone.utc)
        text = value.strftime("%Y-%m-%d %H:%M:%S") + (f".{value.microsecond:06d}".rstrip("0") if value.microsecond else "")
        return hive_escape(text)
    text = _text(value)
    return hive_escape(text) if text else DEFAULT_PARTITION


class PartitionedWriter:
    """Writes a result, batch by batch (DataFrames), as a Hive-partitioned Parquet directory under
    ``root`` (which exists). Thread-safe like :class:`~crmql.export.writers.Writer`: after
    :meth:`abort`, every write raises :class:`ExportError`."""

    def __init__(self, root: str | os.PathLike[str], partition_by: Sequence[str], *,
                 max_open: int | None = None, max_pending: int | None = None) -> None:
        self.root = Path(root)
        self.partition_by = tuple(partition_by)
        self.max_open = max(1, MAX_OPEN_FILES if max_open is None else max_open)
        self.max_pending = max(1, MAX_PENDING_ROWS if max_pending is None else max_pending)
        self.rows = 0
        self.files = 0
        self.columns: list[str] | None = None
        self._schema: Any = None  # the whole result's Arrow schema, fixed by the first rows
        self._file_schema: Any = None  # without the partition columns
        self._folders: dict[tuple[str, ...], str] = {}
        self._parts: dict[tuple[str, ...], int] = {}
        self._open: OrderedDict[tuple[str, ...], Any] = OrderedDict()
        self._pending: dict[tuple[str, ...], list[Any]] = {}
        self._pending_rows: dict[tuple[str, ...], int] = {}
        self._waiting = 0
        self._lock = threading.Lock()
        self._aborted = False

    @property
    def partitions(self) -> int:
        """The folders written (distinct partition values)."""
        return len(self._folders)

    def write(self, frame: pd.DataFrame) -> None:
        """Append the rows of ``frame`` (the result's columns; at least those of ``partition_by``)."""
        with self._lock:
            if self._aborted:
                raise ExportError("the export was stopped")
            if self.columns is None:
                self.columns = unique_names(frame.columns)
                self._check_columns()
            if not len(frame):
                return
            table = self._arrow(frame)
            for key, rows in self._groups(table).items():
                self._add(key, table.take(rows) if len(rows) < table.num_rows else table)  # rows: numpy
            self.rows += len(frame)
            while self._waiting > self.max_pending:
                self._flush(max(self._pending_rows, key=self._pending_rows.__getitem__))

    def finish(self) -> None:
        """Write every waiting row and close every file."""
        with self._lock:
            if self._aborted:
                raise ExportError("the export was stopped")
            for key in list(self._pending):
                self._flush(key)
            while self._open:
                self._close_oldest()

    def abort(self) -> None:
        """Stop: later writes raise; open files are closed (the caller removes the directory)."""
        with self._lock:
            self._aborted = True
            for writer in self._open.values():
                with contextlib.suppress(Exception):
                    writer.close()
            self._open.clear()

    # ---- internals -------------------------------------------------------------------------------

    def _check_columns(self) -> None:
        columns = self.columns or []
        missing = [c for c in self.partition_by if c not in columns]
        if missing:
            raise ExportError(f"PARTITION_BY column {missing[0]} is not in the result",
                              hint=f"the result's columns: {', '.join(columns)}")
        if len(self.partition_by) >= len(columns):
            raise ExportError("PARTITION_BY names every column of the result: the files would hold no column",
                              hint="select at least one more column")

    def _arrow(self, frame: pd.DataFrame) -> Any:
        import pyarrow as pa

        frame = frame.reset_index(drop=True).set_axis(self.columns or [], axis=1)
        table = pa.Table.from_pandas(frame, preserve_index=False)
        if self._schema is None:
            schema = pa.schema([pa.field(f.name, _canonical_type(f.type)) for f in table.schema])
            for name in self.partition_by:
                t = schema.field(name).type
                if pa.types.is_nested(t) or pa.types.is_binary(t):
                    raise ExportError(f"cannot partition by {name}: it is a {t} column",
                                      hint="partition by a text, number, date or boolean column")
            self._schema = schema
            self._file_schema = pa.schema([f for f in schema if f.name not in self.partition_by])
        return _cast(table, self._schema)

    def _groups(self, table: Any) -> dict[tuple[str, ...], Any]:
        """Row numbers by folder, each in the rows' order. Each column is dictionary-encoded, so a
        folder name is made once per distinct value of the batch, not once per row."""
        import numpy as np
        import pyarrow as pa
        import pyarrow.compute as pc

        codes, names = [], []
        combined = np.zeros(table.num_rows, dtype=np.int64)
        for name in self.partition_by:
            try:
                encoded = pc.dictionary_encode(table.column(name).combine_chunks(), null_encoding="encode")
            except pa.ArrowNotImplementedError:  # a type Arrow cannot encode: one folder name per row
                encoded = None
            if encoded is None:
                column = [folder_value(v) for v in table.column(name).to_pylist()]
                distinct = list(dict.fromkeys(column))
                index = {v: i for i, v in enumerate(distinct)}
                names.append(distinct)
                codes.append(np.array([index[v] for v in column], dtype=np.int64))
            else:
                names.append([folder_value(v) for v in encoded.dictionary.to_pylist()])
                codes.append(encoded.indices.to_numpy(zero_copy_only=False).astype(np.int64))
            # kept below the row count, however many columns there are
            combined = np.unique(combined * len(names[-1]) + codes[-1], return_inverse=True)[1].reshape(-1)
        order = np.argsort(combined, kind="stable")
        starts = np.flatnonzero(np.r_[True, np.diff(combined[order]) != 0])
        groups: dict[tuple[str, ...], Any] = {}
        for rows in np.split(order, starts[1:]):
            key = tuple(values[int(c[rows[0]])] for values, c in zip(names, codes))
            groups[key] = np.sort(np.concatenate([groups[key], rows])) if key in groups else rows  # NULL and ''
        return groups

    def _add(self, key: tuple[str, ...], rows: Any) -> None:
        if key not in self._folders:
            self._folders[key] = self._folder(key)
            self._parts[key] = 0
        self._pending.setdefault(key, []).append(rows.drop_columns(list(self.partition_by)))
        self._pending_rows[key] = self._pending_rows.get(key, 0) + rows.num_rows
        self._waiting += rows.num_rows
        if self._pending_rows[key] >= PARQUET_ROW_GROUP:
            self._flush(key)

    def _folder(self, key: tuple[str, ...]) -> str:
        parts = []
        for name, value in zip(self.partition_by, key):
            part = f"{hive_escape(name)}={value}"
            if len(part.encode("utf-8")) > MAX_NAME_BYTES:
                raise ExportError(f"a value of PARTITION_BY column {name} is too long for a folder name "
                                  f"({len(part.encode('utf-8'))} bytes; file systems take {MAX_NAME_BYTES})",
                                  hint=f"partition by a shorter value, e.g. left({name}, 100) AS {name}_prefix")
            parts.append(part)
        return "/".join(parts)

    def _flush(self, key: tuple[str, ...]) -> None:
        import pyarrow as pa

        tables = self._pending.pop(key)
        rows = self._pending_rows.pop(key)
        self._waiting -= rows
        writer = self._writer(key)
        table = pa.concat_tables(tables) if len(tables) > 1 else tables[0]
        try:
            writer.write_table(table, row_group_size=PARQUET_ROW_GROUP)
        except OSError as e:
            raise ExportError(f"cannot write {self.root / self._folders[key]}: {e.strerror or e}") from None

    def _writer(self, key: tuple[str, ...]) -> Any:
        writer = self._open.get(key)
        if writer is not None:
            self._open.move_to_end(key)
            return writer
        import pyarrow.parquet as pq

        while len(self._open) >= self.max_open:
            self._close_oldest()
        folder = self.root / self._folders[key]
        path = folder / f"part-{self._parts[key]:05d}.parquet"
        try:
            folder.mkdir(parents=True, exist_ok=True)
            writer = pq.ParquetWriter(path, self._file_schema)
        except OSError as e:
            raise ExportError(f"cannot write {path}: {e.strerror or e}") from None
        self._parts[key] += 1
        self.files += 1
        self._open[key] = writer
        return writer

    def _close_oldest(self) -> None:
        key, writer = self._open.popitem(last=False)
        try:
            writer.close()
        except OSError as e:
            raise ExportError(f"cannot write {self.root / self._folders[key]}: {e.strerror or e}") from None


def check_target(path: str | os.PathLike[str], options: ExportOptions, make_dirs: bool = False) -> Path:
    """The directory a partitioned export writes (a symbolic link: the directory it points to),
    checked before any request: not a file, empty unless ``overwrite``, its parent there (or made)."""
    target = Path(os.path.expanduser(os.fspath(path)))
    if target.is_symlink():
        target = Path(os.path.realpath(target))
    if target.exists():
        if not target.is_dir():
            raise ExportError(f"cannot write {target}: PARTITION_BY writes a directory and this is a file",
                              hint="give a directory, e.g. 'out/'")
        if any(target.iterdir()) and not options.overwrite:
            raise ExportError(f"directory {target} is not empty",
                              hint="COPY ... WITH (OVERWRITE) replaces it; or give a new or empty directory")
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


def _umask() -> int:
    from .files import _umask as umask

    return umask()


def _place(tmp: Path, target: Path) -> None:
    """Rename the complete ``tmp`` to ``target``; an existing ``target`` is moved aside first and
    removed once the new directory is in place (put back if the rename fails)."""
    old: Path | None = None
    if target.exists():
        old = Path(tempfile.mkdtemp(prefix=f".{target.name}.", suffix=".old", dir=target.parent))
        os.rmdir(old)
        os.rename(target, old)
    try:
        os.rename(tmp, target)
    except OSError:
        if old is not None:
            os.rename(old, target)
        raise
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


@contextlib.contextmanager
def open_partitioned(path: str | os.PathLike[str], options: ExportOptions, *,
                     make_dirs: bool = False) -> Iterator[PartitionedWriter]:
    """A :class:`PartitionedWriter` whose directory becomes ``path`` when the block ends normally;
    if it raises or is interrupted nothing is left behind and an existing ``path`` is untouched.

    >>> import tempfile, pandas as pd, pyarrow.dataset as ds
    >>> out = tempfile.mkdtemp() + "/out"
    >>> with open_partitioned(out, ExportOptions("parquet", partition_by=("c",))) as w:
    ...     w.write(pd.DataFrame({"c": ["x", "y", "x"], "n": [1, 2, 3]}))
    >>> w.rows, w.partitions, w.files, sorted(os.listdir(out))
    (3, 2, 2, ['c=x', 'c=y'])
    >>> sorted(ds.dataset(out, partitioning="hive").to_table().to_pylist(), key=str)[0]
    {'n': 1, 'c': 'x'}
    >>> import shutil; shutil.rmtree(os.path.dirname(out))
    """
    from .files import _sigterm_unwinds

    target = check_target(path, options, make_dirs)
    try:
        tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent))
    except OSError as e:
        raise ExportError(f"cannot write {target}: {e.strerror or e}") from None
    writer = PartitionedWriter(tmp, options.partition_by)
    try:
        with _sigterm_unwinds():
            yield writer
            writer.finish()
            os.chmod(tmp, 0o777 & ~_umask())  # mkdtemp's is 0o700; the folders inside have the umask's
            try:
                _place(tmp, target)
            except OSError as e:
                raise ExportError(f"cannot write {target}: {e.strerror or e}") from None
    except BaseException:
        writer.abort()
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    log.debug("wrote %s rows to %s in %d files", writer.rows, target, writer.files)
