"""A streamed SELECT's result batches, pulled by a consumer: pages are fetched only as batches are asked for.

Moved here from ``crmql.surfaces.dbapi.stream`` (which re-exports it for the DB-API's cursor) so the
engine's other pull consumers (:func:`crmql.api.partitions.read_partition`: a Spark or Dask task's
Arrow batches) share it. The batches are whatever ``run``'s ``emit`` receives (pandas frames for the
cursor, Arrow tables for a partition).

:func:`crmql.exec.executor.stream_plan` pushes result batches into a callback that runs on crmql's
background event loop. :class:`RowStream` runs it on a worker thread and hands a batch over only
when the consumer asks for one: until then the callback waits, and so does the scan (no next page
is requested). A cursor's ``fetchmany(100)`` on a 10,000-row table so reads two batches (the one it takes and
the next one, gathered while waiting: :data:`~crmql.exec.executor.STREAM_BATCH_ROWS` rows each),
not the table.

That wait holds the process-wide event loop, so it must never last while anything else needs the
loop. A paused stream is **released** -- it stops waiting and keeps the rest of its rows in memory
(nothing lost, as ``fetchall`` would) -- when any DB-API statement starts (:func:`release_all`), and
after ``idle_release_s`` (default :data:`IDLE_RELEASE_S`) seconds without a fetch (another crmql user
in the process, e.g. the notebook magic, is then delayed at most that long). Closing the cursor stops the scan where the
batch being gathered ends (the scan's callback is the only place it can be stopped from): at most
one more batch of pages is read.

>>> RowStream.__name__
'RowStream'
"""

from __future__ import annotations

import logging
import queue
import threading
import weakref
from collections.abc import Callable
from typing import Any

__all__ = ["IDLE_RELEASE_S", "RowStream", "release_all"]

log = logging.getLogger(__name__)

#: seconds a paused stream may hold the event loop with no fetch before it is released: short, since
#: a tool may leave a result half-read (JupySQL fetches what it displays) while the user runs
#: %crmql next; a slower consumer only costs memory (the rest gathered), never a row
IDLE_RELEASE_S = 2.0
_POLL_S = 0.05
_DONE = object()
_streams: weakref.WeakSet[RowStream] = weakref.WeakSet()
_streams_lock = threading.Lock()


class _Stopped(Exception):
    """Raised inside the scan's callback when the consumer closed the stream."""


def release_all() -> None:
    """Release every paused stream in the process (called before each DB-API statement)."""
    with _streams_lock:
        streams = list(_streams)
    for stream in streams:
        stream.release()


class RowStream:
    """Result batches of one streamed SELECT, produced on a worker thread, taken with :meth:`next_frame`.

    ``run(emit)`` runs the scan and calls ``emit(batch)`` per batch (``stream_plan`` partially applied);
    ``idle_release_s``: seconds a paused stream waits for its consumer before keeping the rest in memory.
    """

    def __init__(self, run: Callable[[Callable[[Any], None]], Any], *, idle_release_s: float = IDLE_RELEASE_S,
                 name: str = "crmql-stream") -> None:
        self._idle_release_s = idle_release_s
        self._queue: queue.Queue[Any] = queue.Queue()  # at most one frame: one per request (_wanted)
        self._released = threading.Event()
        self._stopped = threading.Event()
        self._wanted = threading.Event()
        self._spill: list[Any] = []
        self._spill_lock = threading.Lock()
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._work, args=(run,), name=name, daemon=True)
        with _streams_lock:
            _streams.add(self)
        self._thread.start()

    # ---- producer (the scan's callback, on the event loop)
    def _emit(self, frame: Any) -> None:
        """Hand ``frame`` over once the consumer asks for one (the scan waits until then)."""
        idle = 0.0
        while not self._released.is_set():
            if self._stopped.is_set():
                raise _Stopped
            if self._wanted.wait(_POLL_S):
                self._wanted.clear()
                self._queue.put(frame)
                return
            idle += _POLL_S
            if idle >= self._idle_release_s:
                log.debug("a streamed result was not fetched for %ss: keeping its rest in memory",
                          self._idle_release_s)
                self._released.set()
        if self._stopped.is_set():
            raise _Stopped
        with self._spill_lock:
            self._spill.append(frame)

    def _work(self, run: Callable[[Callable[[Any], None]], Any]) -> None:
        try:
            run(self._emit)
        except _Stopped:
            pass
        except BaseException as e:  # handed to the consumer, raised there
            if not self._stopped.is_set():
                self._error = e
        finally:
            self._finish()

    def _finish(self) -> None:
        with self._spill_lock:
            self._spill.append(_DONE)
        self._released.set()

    # ---- consumer
    def release(self) -> None:
        """Stop holding the loop: the rest of the rows are gathered in memory."""
        self._released.set()

    def next_frame(self) -> Any:
        """The next batch of rows, waiting for the scan; ``None`` once the result is exhausted.

        Raises the scan's error (a :class:`~crmql.errors.CrmqlError`) where it happened."""
        self._wanted.set()
        while True:
            try:
                return self._queue.get(timeout=_POLL_S)
            except queue.Empty:
                pass
            with self._spill_lock:
                if self._spill and self._queue.empty():
                    item = self._spill.pop(0)
                    if item is not _DONE:
                        return item
                    self._spill.insert(0, _DONE)
                    if self._error is not None:
                        error, self._error = self._error, None
                        raise error
                    return None

    def close(self, *, wait: bool = True) -> None:
        """Stop the scan (no further page is requested) and, with ``wait``, wait for the worker
        (not from a finalizer, which may run on the event loop's thread)."""
        self._stopped.set()
        self._released.set()
        try:
            while True:
                self._queue.get_nowait()
        except queue.Empty:
            pass
        if wait:
            self._thread.join(timeout=30)
        with _streams_lock:
            _streams.discard(self)
