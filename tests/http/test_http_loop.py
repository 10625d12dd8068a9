"""The process-wide background loop and the run_sync bridge."""

from __future__ import annotations

import _thread
import asyncio
import concurrent.futures
import contextvars
import threading
import time

import pytest

from crmql.errors import CancelledError
from crmql.http import get_loop, run_sync
from crmql.stats import QueryStats, collecting, current

VAR: contextvars.ContextVar[str] = contextvars.ContextVar("test_var", default="unset")


async def _value_of_var() -> str:
    await asyncio.sleep(0)
    return VAR.get()


def test_returns_result_and_reraises_exceptions() -> None:
    async def boom() -> None:
        raise ValueError("nope")

    async def add(a: int, b: int) -> int:
        await asyncio.sleep(0.001)
        return a + b

    assert run_sync(add(1, 2)) == 3
    with pytest.raises(ValueError, match="nope"):
        run_sync(boom())


def test_one_loop_in_a_daemon_thread() -> None:
    async def where() -> tuple[asyncio.AbstractEventLoop, threading.Thread]:
        return asyncio.get_running_loop(), threading.current_thread()

    loop, thread = run_sync(where())
    assert loop is get_loop()
    assert thread is not threading.current_thread()
    assert thread.daemon
    assert run_sync(where())[0] is loop


def test_contextvars_propagate_as_a_copy() -> None:
    token = VAR.set("from caller")
    try:
        assert run_sync(_value_of_var()) == "from caller"

        async def change() -> str:
            VAR.set("changed inside")
            return VAR.get()

        assert run_sync(change()) == "changed inside"
        assert VAR.get() == "from caller"  # the coroutine ran in a copy
    finally:
        VAR.reset(token)


def test_stats_context_reaches_tasks_spawned_inside() -> None:
    async def spawn() -> None:
        async def one() -> None:
            current().add(requests=1)

        await asyncio.gather(*(one() for _ in range(5)))

    stats = QueryStats()
    with collecting(stats):
        run_sync(spawn())
    assert stats.requests == 5


def test_works_inside_a_running_loop_like_jupyter() -> None:
    """A Jupyter cell runs in a thread whose loop is running; run_sync must not touch it."""

    async def cell() -> tuple[str, bool]:
        caller_loop = asyncio.get_running_loop()
        token = VAR.set("notebook")
        try:
            value = run_sync(_value_of_var())  # called synchronously, as a magic would
        finally:
            VAR.reset(token)
        return value, caller_loop is not get_loop()

    assert asyncio.run(cell()) == ("notebook", True)


def test_works_from_worker_threads() -> None:
    async def square(x: int) -> int:
        await asyncio.sleep(0.001)
        return x * x

    with concurrent.futures.ThreadPoolExecutor(4) as pool:
        results = list(pool.map(lambda x: run_sync(square(x)), range(10)))
    assert results == [x * x for x in range(10)]


def test_from_the_loop_thread_raises_runtime_error() -> None:
    async def inner() -> int:
        return 1

    async def outer() -> str:
        with pytest.raises(RuntimeError, match="deadlock") as info:
            run_sync(inner())
        return str(info.value)

    assert "await" in run_sync(outer())


def test_task_cancelled_elsewhere_surfaces_as_crmql_cancelled() -> None:
    async def cancels_itself() -> None:
        asyncio.current_task().cancel()  # type: ignore[union-attr]
        await asyncio.sleep(1)

    with pytest.raises(CancelledError):
        run_sync(cancels_itself())


@pytest.mark.skipif(threading.current_thread() is not threading.main_thread(), reason="needs the main thread")
def test_keyboard_interrupt_cancels_the_coroutine() -> None:
    cancelled = threading.Event()
    running = threading.Event()

    async def long_request() -> None:
        running.set()
        try:
            await asyncio.sleep(30)
        except asyncio.CancelledError:
            await asyncio.sleep(0.01)  # cleanup that needs the loop still works
            cancelled.set()
            raise

    def interrupt_once_running() -> None:
        if running.wait(10):  # Ctrl-C while the request runs, not before it started
            _thread.interrupt_main()

    timer = threading.Thread(target=interrupt_once_running, daemon=True)
    timer.start()
    started = time.monotonic()
    try:
        with pytest.raises(KeyboardInterrupt):
            run_sync(long_request())
    finally:
        timer.join(5)
    assert cancelled.is_set()
    assert time.monotonic() - started < 3
    assert run_sync(_value_of_var()) == "unset"  # the loop is still usable afterwards


@pytest.mark.skipif(threading.current_thread() is not threading.main_thread(), reason="needs the main thread")
def test_ctrl_c_the_moment_the_coroutine_starts_still_cancels_it() -> None:
    # The interrupt lands while the caller may still be between starting the coroutine and
    # waiting for it; run_sync must cancel it wherever it lands (it once leaked the coroutine).
    for _ in range(10):
        cancelled = threading.Event()

        async def interrupts_at_once() -> None:
            _thread.interrupt_main()
            try:
                await asyncio.sleep(30)
            except asyncio.CancelledError:
                cancelled.set()
                raise

        with pytest.raises(KeyboardInterrupt):
            run_sync(interrupts_at_once())
        assert cancelled.wait(2)


def test_system_exit_inside_the_coroutine_does_not_kill_the_loop() -> None:
    async def exits() -> None:
        raise SystemExit(3)

    loop = get_loop()
    with pytest.raises(SystemExit):
        run_sync(exits())
    assert get_loop() is loop and loop.is_running()


# ---- spawn: start now, wait later ----------------------------------------------------------------

def test_spawn_starts_at_once_and_result_waits() -> None:
    from crmql.http.loop import spawn

    started = threading.Event()

    async def work() -> str:
        started.set()
        await asyncio.sleep(0.05)
        return VAR.get()

    token = VAR.set("caller")
    try:
        spawned = spawn(work())
    finally:
        VAR.reset(token)
    assert started.wait(2), "spawn() did not start the coroutine before anyone waited"
    assert spawned.result() == "caller"  # the caller's context, copied at spawn time


def test_spawned_can_be_awaited_on_the_loop_and_cancelled() -> None:
    from crmql.http.loop import spawn

    cancelled = threading.Event()

    async def double_later() -> int:
        await asyncio.sleep(0.01)
        return 21

    quick = spawn(double_later())

    async def waiter() -> int:
        return 2 * await quick

    assert run_sync(waiter()) == 42
    running = threading.Event()

    async def forever() -> None:
        running.set()
        try:
            await asyncio.sleep(60)
        except asyncio.CancelledError:
            cancelled.set()
            raise

    slow = spawn(forever())
    assert running.wait(5)  # cancelling before it starts would close it without a CancelledError
    slow.cancel()
    assert cancelled.wait(2)
    with pytest.raises(CancelledError):
        slow.result()


def test_cancelling_the_task_awaiting_a_spawned_coroutine_cancels_it_too() -> None:
    from crmql.http.loop import spawn

    cancelled = threading.Event()

    async def slow() -> None:
        try:
            await asyncio.sleep(30)
        except asyncio.CancelledError:
            cancelled.set()
            raise

    spawned = spawn(slow())

    async def waiter() -> None:
        task = asyncio.ensure_future(_await(spawned))
        await asyncio.sleep(0.05)
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)

    run_sync(waiter())
    assert cancelled.wait(2), "the spawned coroutine kept running after its awaiting task was cancelled"


async def _await(spawned: object) -> object:
    return await spawned  # type: ignore[misc]


def test_a_task_cancelled_before_its_first_step_closes_its_coroutine() -> None:
    # cancel() between the future starting and the task's first step: the task never runs the
    # coroutine, which must still be closed (no "coroutine ... was never awaited")
    from crmql.http.loop import Spawned

    async def work() -> int:
        return 1

    coro = work()
    spawned = Spawned(coro, get_loop(), start=False)
    original = spawned.future.set_running_or_notify_cancel

    def start_then_cancel() -> bool:
        started = original()
        spawned.cancel()  # queued on the loop ahead of the task's first step
        return started

    spawned.future.set_running_or_notify_cancel = start_then_cancel  # type: ignore[method-assign]
    with pytest.raises(Exception):
        spawned.result()
    assert coro.cr_frame is None  # closed


def test_awaiting_an_unstarted_spawned_starts_it() -> None:
    from crmql.http.loop import Spawned

    async def value() -> int:
        return 7

    async def outer() -> int:
        return await Spawned(value(), get_loop(), start=False)

    assert run_sync(outer()) == 7
