"""Atomic files: a result becomes its target file only once it is complete.

:func:`atomic_file` writes into a temporary file next to the target and renames it over the target
at the end; :func:`open_export` puts a :class:`~crmql.export.writers.Writer` on top of it, and
:func:`write_frame` / :func:`frame_bytes` write a DataFrame (e.g. a notebook's) to a file or to
memory with the same bytes ``COPY`` writes.
"""

from __future__ import annotations

import contextlib
import io
import logging
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

import pandas as pd

from ..errors import ExportError
from .options import ExportOptions
from .writers import Writer, make_writer

__all__ = ["atomic_file", "frame_bytes", "open_export", "write_frame"]

log = logging.getLogger(__name__)

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
