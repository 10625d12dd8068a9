"""One background asyncio event loop for the whole process, and a blocking bridge into it.

Every connector is written with ``async`` code, but crmql's surfaces (CLI, REPL, Jupyter magic,
Python API) are synchronous. :func:`run_sync` runs a coroutine on a single, process-wide event
loop that lives in a daemon thread, and blocks the calling thread until the coroutine finishes.
Because the loop is never the caller's loop, this works the same from a plain script, from a
worker thread, and from a Jupyter kernel whose thread already runs an asyncio loop: we never call
``asyncio.run``, never nest loops and never touch the caller's loop.

The coroutine runs in a *copy* of the caller's :mod:`contextvars` context, so context variables
set by the caller (such as the statement's :func:`crmql.stats.current` counters) are visible to
it and to every task it spawns.

>>> async def answer() -> int:
...     return 42
>>> run_sync(answer())
42
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextvars
import logging
import os
import threading
from collections.abc import Coroutine
from typing import Any, TypeVar

from crmql.errors import CancelledError

__all__ = ["Spawned", "get_loop", "run_sync", "spawn"]

logger = logging.getLogger(__name__)

T = TypeVar("T")

#: how long to wait for a cancelled coroutine to unwind after Ctrl-C
CANCEL_GRACE_S = 2.0
#: how often the waiting thread wakes up, so Ctrl-C is noticed on every platform
_POLL_S = 0.1

_lock = threading.Lock()
_loop: asyncio.AbstractEventLoop | None = None
_thread: threading.Thread | None = None
_pid: int | None = None


def _loop_alive() -> bool:
    return (
        _loop is not None
        and not _loop.is_closed()
        and _thread is not None
        and _thread.is_alive()
        and _pid == os.getpid()
    )


def get_loop() -> asyncio.AbstractEventLoop:
    """Return the process-wide background event loop, starting its daemon thread if needed.

    Thread-safe; the loop is created lazily on first use (and again in a forked child).
    Use it for objects that must be created on the loop, e.g. with
    ``asyncio.run_coroutine_threadsafe(make(), get_loop())``.

    >>> get_loop() is get_loop()
    True
    >>> get_loop().is_running()
    True
    """
    global _loop, _thread, _pid
    if _loop_alive():
        assert _loop is not None
        return _loop
    with _lock:
        if not _loop_alive():
            loop = asyncio.new_event_loop()
            started = threading.Event()

            def _run() -> None:
                asyncio.set_event_loop(loop)
                loop.call_soon(started.set)
                try:
                    loop.run_forever()
                except BaseException:  # pragma: no cover - the next get_loop() starts a new one
                    logger.exception("the crmql event loop stopped unexpectedly")

            thread = threading.Thread(target=_run, name="crmql-event-loop", daemon=True)
            thread.start()
            started.wait()
            _loop, _thread, _pid = loop, thread, os.getpid()
            logger.debug("started background event loop in thread %s", thread.name)
        assert _loop is not None
        return _loop


def in_loop_thread() -> bool:
    """True when called from the background loop's own thread.

    >>> in_loop_thread()
    False
    """
    return _thread is not None and threading.current_thread() is _thread and _loop_alive()


class Spawned:
    """A coroutine started on the background loop by :func:`spawn`: wait for it from any other
    thread with :meth:`result`, from a coroutine on the loop with ``await``, or :meth:`cancel` it.

    >>> async def double(x: int) -> int:
    ...     return 2 * x
    >>> spawn(double(4)).result()
    8
    """

    def __init__(self, coro: Coroutine[Any, Any, Any], loop: asyncio.AbstractEventLoop, *, start: bool = True) -> None:
        self.future: concurrent.futures.Future[Any] = concurrent.futures.Future()
        self._loop = loop
        self._coro = coro
        self._scheduled = False
        self._task: asyncio.Task[None] | None = None
        self._done = threading.Event()
        self.future.add_done_callback(lambda _f: self._done.set())
        context = contextvars.copy_context()
        future = self.future

        async def _runner() -> None:
            # Deliver every outcome through the future ourselves: a KeyboardInterrupt/SystemExit
            # escaping a task would otherwise stop the shared loop itself.
            try:
                result = await coro
            except asyncio.CancelledError:
                raise
            except BaseException as exc:
                if not future.done():
                    future.set_exception(exc)
            else:
                if not future.done():
                    future.set_result(result)

        def _transfer(task: asyncio.Task[None]) -> None:
            coro.close()  # a task cancelled before its first step never ran it (a no-op otherwise)
            if not future.done():  # only reached when the task was cancelled
                future.set_exception(CancelledError("the statement was cancelled"))

        def _start() -> None:
            if not future.set_running_or_notify_cancel():
                coro.close()  # cancelled before it ever started
                return
            self._task = loop.create_task(_runner(), context=context)
            self._task.add_done_callback(_transfer)

        self._start = _start
        if start:
            self._schedule()

    def _schedule(self) -> None:
        self._loop.call_soon_threadsafe(self._start)
        self._scheduled = True

    def result(self) -> Any:
        """Block until the coroutine returns (or raise what it raised); Ctrl-C cancels it."""
        try:
            if in_loop_thread():
                self.cancel()
                raise RuntimeError(
                    "crmql.http.run_sync() was called from the crmql event-loop thread, which would "
                    "deadlock; inside a coroutine running there, use 'await' instead"
                )
            if not self._scheduled:  # run_sync: started here, so a Ctrl-C at any point cancels it
                self._schedule()
            # Wait with a timeout in a loop: a bare blocking wait cannot be interrupted by
            # Ctrl-C on every platform, and polling lets pending signals run promptly.
            while not self._done.wait(_POLL_S):
                pass
        except KeyboardInterrupt:
            logger.debug("interrupted; cancelling the running coroutine")
            self.cancel()
            self._done.wait(CANCEL_GRACE_S)
            raise
        return self.future.result()

    def cancel(self) -> None:
        """Cancel the coroutine (aborting its in-flight requests); safe from any thread, any time."""
        if not self.future.cancel():  # already started: cancel the task on its loop
            self._loop.call_soon_threadsafe(self._cancel_task)
        elif not self._scheduled:  # never handed to the loop (closing twice is harmless)
            self._coro.close()

    def _cancel_task(self) -> None:
        if self._task is not None:
            self._task.cancel()

    def __await__(self) -> Any:
        """``await spawned`` from a coroutine running on the background loop; cancelling the
        awaiting task cancels the coroutine too."""
        return self._wait().__await__()

    async def _wait(self) -> Any:
        if not self._scheduled:
            self._schedule()
        try:
            return await asyncio.wrap_future(self.future)
        except asyncio.CancelledError:
            self.cancel()
            raise


def spawn(coro: Coroutine[Any, Any, T]) -> Spawned:
    """Start ``coro`` on the background loop, in a copy of the caller's context, without waiting.

    Used to start I/O a statement will need before the step that needs it (a table's template
    and its first page, concurrently). :func:`run_sync` does the same but starts the coroutine from
    inside its wait, so a Ctrl-C at any point cancels it.
    """
    return Spawned(coro, get_loop())


def run_sync(coro: Coroutine[Any, Any, T]) -> T:
    """Run ``coro`` on the background loop and block until it returns (or raises).

    The coroutine runs as a task in a copy of the caller's context. Its result is returned and
    its exception re-raised in the calling thread. If the caller receives ``KeyboardInterrupt``
    while waiting, the task is cancelled (which aborts in-flight HTTP requests), given up to
    ``CANCEL_GRACE_S`` seconds to unwind, and ``KeyboardInterrupt`` is re-raised. Calling it
    from the loop thread itself (i.e. from inside a coroutine already running on it) would
    deadlock and raises ``RuntimeError`` instead.

    >>> import asyncio
    >>> async def slow_double(x: int) -> int:
    ...     await asyncio.sleep(0.01)
    ...     return 2 * x
    >>> run_sync(slow_double(21))
    42
    """
    if in_loop_thread():
        coro.close()
        raise RuntimeError(
            "crmql.http.run_sync() was called from the crmql event-loop thread, which would "
            "deadlock; inside a coroutine running there, use 'await' instead"
        )
    # Not spawn(coro).result(): a Ctrl-C landing after the coroutine started but before result()
    # began waiting would leave it running. result() starts it inside its interrupt handler.
    try:
        spawned = Spawned(coro, get_loop(), start=False)
    except BaseException:
        coro.close()
        raise
    return spawned.result()
