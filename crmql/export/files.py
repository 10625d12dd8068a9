"""Atomic files: a result becomes its target file only once it is complete.

:func:`atomic_file` writes into a temporary file next to the target and renames it over the target
at the end; :func:`open_export` puts a :class:`~crmql.export.writers.Writer` on top of it, and
:func:`write_frame` / :func:`frame_bytes` write a DataFrame (e.g. a notebook's) to a file or to
memory with the same bytes ``COPY`` writes.

Only a regular file (or a new path) is replaced that way. A FIFO or a character device
(``/dev/null``, a terminal) is opened and written directly, and ``/dev/stdout``, ``/dev/stderr``,
``/dev/stdin``, ``/dev/fd/N`` and ``/proc/self/fd/N`` write to that open file descriptor (as a shell
redirection would, without reopening or truncating it): a rename would put a regular file in place
of the device. A block device or a socket is refused. A symbolic link to a regular file keeps
being a link: the file it points to is replaced. A SIGTERM during an atomic write (in the main
thread, when the program left SIGTERM to its default) unwinds like Ctrl-C, so the temporary file
is removed, then ends the process by SIGTERM as it would have.
"""

from __future__ import annotations

import contextlib
import io
import logging
import os
import signal
import stat
import sys
import tempfile
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

import pandas as pd

from ..errors import ExportError
from .options import ExportOptions
from .writers import Writer, make_writer

__all__ = ["atomic_file", "frame_bytes", "is_stdout", "open_export", "write_frame"]

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


#: paths that name a file descriptor of this process: written through that descriptor
_STD_STREAMS = {"/dev/stdin": 0, "/dev/stdout": 1, "/dev/stderr": 2}
_FD_DIRS = ("/dev/fd/", "/proc/self/fd/")


def descriptor_of(path: str | os.PathLike[str]) -> int | None:
    """The file descriptor ``path`` names (``/dev/stdout``, ``/dev/fd/3``, ``/proc/self/fd/3``), else None.

    >>> descriptor_of("/dev/stdout"), descriptor_of("/dev//fd/7"), descriptor_of("out.csv")
    (1, 7, None)
    """
    text = os.path.normpath(os.path.abspath(os.path.expanduser(os.fspath(path))))
    if text in _STD_STREAMS:
        return _STD_STREAMS[text]
    for prefix in _FD_DIRS:
        rest = text[len(prefix):] if text.startswith(prefix) else ""
        if rest.isdigit() and rest.isascii():
            return int(rest)
    return None


def is_stdout(path: str | os.PathLike[str]) -> bool:
    """Whether writing ``path`` writes this process's standard output (``/dev/stdout``,
    ``/dev/fd/1``, or the terminal, FIFO or descriptor stdout is): a COPY's summary line then goes
    to stderr, not after the data into the same pipe.

    >>> is_stdout("/dev/stdout"), is_stdout("out.csv")
    (True, False)
    """
    fd = descriptor_of(path)
    if fd == 1:
        return True
    try:
        out = os.fstat(1)
        if fd is not None:
            return os.path.samestat(os.fstat(fd), out)
        st = os.stat(os.path.expanduser(os.fspath(path)))
    except (OSError, ValueError):
        return False
    return (stat.S_ISCHR(st.st_mode) or stat.S_ISFIFO(st.st_mode)) and os.path.samestat(st, out)


def _kind(mode: int) -> str | None:
    """How a path of this ``st_mode`` is written: "atomic", "direct", or None (refused)."""
    if stat.S_ISREG(mode):
        return "atomic"
    if stat.S_ISFIFO(mode) or stat.S_ISCHR(mode):
        return "direct"
    return None


def _what(mode: int) -> str:
    if stat.S_ISDIR(mode):
        return "a directory"
    if stat.S_ISBLK(mode):
        return "a block device"
    if stat.S_ISSOCK(mode):
        return "a socket"
    return "not a regular file"


@contextlib.contextmanager
def atomic_file(path: str | os.PathLike[str], *, make_dirs: bool = False) -> Iterator[BinaryIO]:
    """A binary file that becomes ``path`` only if the block ends normally.

    It is written as a temporary file in the target's directory, flushed to disk, given the
    target's permissions (or the umask's) and renamed over the target. If the block raises or is
    interrupted (Ctrl-C, or SIGTERM in the main thread), the temporary file is deleted and an
    existing ``path`` is left untouched. A FIFO, a character device or a file descriptor's path
    (``/dev/stdout``, ``/dev/fd/N``) is written directly instead: it cannot be replaced, and what was
    written before a failure has already been read.

    >>> import tempfile, pathlib
    >>> with atomic_file("/dev/null") as out:
    ...     _ = out.write(b"gone")
    >>> pathlib.Path("/dev/null").is_char_device()
    True
    """
    fd = descriptor_of(path)
    if fd is not None:
        with _descriptor_file(path, fd) as out:
            yield out
        return
    target = Path(os.path.expanduser(os.fspath(path)))
    try:
        mode = target.stat().st_mode
    except FileNotFoundError:
        mode = None
    except OSError as e:
        raise ExportError(f"cannot write {target}: {e.strerror or e}") from None
    if mode is not None:
        kind = _kind(mode)
        if kind is None:
            if stat.S_ISDIR(mode):
                raise ExportError(f"cannot write {target}: it is a directory", hint="give a file name, e.g. 'out.csv'")
            raise ExportError(f"cannot write {target}: it is {_what(mode)}",
                              hint="write to a regular file, a FIFO, a character device or /dev/stdout")
        if kind == "direct":
            with _device_file(target) as out:
                yield out
            return
    if target.is_symlink():  # replace (or, for a dangling link, create) the file it points to; the link stays
        target = Path(os.path.realpath(target))
    with _sigterm_unwinds(), _replacing_file(_target(target, make_dirs)) as out:
        yield out


@contextlib.contextmanager
def _replacing_file(target: Path) -> Iterator[BinaryIO]:
    """A temporary file next to ``target``, renamed over it when the block ends normally."""
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
def _device_file(target: Path) -> Iterator[BinaryIO]:
    """A FIFO or character device, opened for writing as it is (a FIFO waits for its reader)."""
    try:
        fd = os.open(target, os.O_WRONLY | getattr(os, "O_NOCTTY", 0))
    except OSError as e:
        raise ExportError(f"cannot write {target}: {e.strerror or e}") from None
    with _stream(target, os.fdopen(fd, "wb", buffering=1 << 16)) as out:
        yield out


@contextlib.contextmanager
def _descriptor_file(path: str | os.PathLike[str], fd: int) -> Iterator[BinaryIO]:
    """This process's open file descriptor ``fd``, written through a duplicate (never reopened, so
    a redirected stdout is not truncated, and closing ours leaves it open)."""
    for stream in (sys.stdout, sys.stderr):  # what was printed before comes first
        with contextlib.suppress(Exception):
            if stream is not None and stream.fileno() == fd:
                stream.flush()
    try:
        copy = os.dup(fd)
    except OSError as e:
        raise ExportError(f"cannot write {os.fspath(path)}: file descriptor {fd}: {e.strerror or e}") from None
    with _stream(Path(os.fspath(path)), os.fdopen(copy, "wb", buffering=1 << 16)) as out:
        yield out


@contextlib.contextmanager
def _stream(target: Path, out: BinaryIO) -> Iterator[BinaryIO]:
    """``out`` written as it is: flushed at the end, closed either way (a broken pipe included)."""
    try:
        yield out
        out.flush()
    except OSError as e:  # a reader that went away is EPIPE: the export is not complete
        raise ExportError(f"cannot write {target}: {e.strerror or e}") from None
    finally:
        with contextlib.suppress(OSError):
            out.close()


class _Terminated(KeyboardInterrupt):
    """SIGTERM during an atomic write: unwinds like Ctrl-C (requests cancelled, the temporary file
    removed), then the process ends by SIGTERM."""


@contextlib.contextmanager
def _sigterm_unwinds() -> Iterator[None]:
    """While the block runs, a SIGTERM raises :class:`_Terminated` (a ``KeyboardInterrupt``) so the
    block's cleanup runs; then the previous (default) handler is restored and the signal delivered
    again, so the process ends as SIGTERM ends it. Only in the main thread, and only when SIGTERM
    has its default action (ignored, or handled by the program, it is left alone)."""
    term = getattr(signal, "SIGTERM", None)
    if term is None or threading.current_thread() is not threading.main_thread() \
            or signal.getsignal(term) is not signal.SIG_DFL:
        yield
        return
    received: list[int] = []

    def handler(signum: int, frame: object) -> None:
        if not received:
            received.append(signum)
            raise _Terminated()

    signal.signal(term, handler)
    try:
        yield
    finally:
        signal.signal(term, signal.SIG_DFL)
        if received:
            log.info("SIGTERM during an export: the temporary file was removed; terminating")
            for stream in (sys.stdout, sys.stderr):
                with contextlib.suppress(Exception):
                    stream.flush()
            os.kill(os.getpid(), term)


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
                header: bool = True, delimiter: str | None = None, safe: bool = False, make_dirs: bool = False) -> int:
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
