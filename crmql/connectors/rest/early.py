"""Requests started before the plan that uses them, so their wait overlaps another one.

A statement first binds (which may need a live catalog: Atlas columns come from a template
request) and only then plans and fetches. When the first data request is already known from the
statement's text alone, for a whole-table read with no WHERE, ORDER BY, LIMIT or aggregate, it
can go out together with the catalog request instead of after it: one round trip fewer on a chain
of next links that cannot be fetched concurrently. The connector starts it under a key that says
exactly what it asks for; the scan takes it only if its own first request has the same key, and
the session discards what no scan took (a cancelled or wasted request, never a wrong row).

>>> import asyncio
>>> early = EarlyRequests()
>>> async def page() -> list[int]:
...     return [1, 2]
>>> early.start(("entities", "type=contact"), page())
>>> early.take(("entities", "type=contact")).result(), early.take(("entities", "type=contact"))
([1, 2], None)
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Coroutine, Hashable
from typing import Any

from ...http.loop import Spawned, spawn

__all__ = ["EarlyRequests"]

log = logging.getLogger(__name__)


class EarlyRequests:
    """Started requests by key; each is taken at most once, or discarded."""

    def __init__(self) -> None:
        self._started: dict[Hashable, Spawned] = {}
        self._lock = threading.Lock()  # start/discard run on the caller's thread, take on the loop

    def start(self, key: Hashable, coro: Coroutine[Any, Any, Any]) -> None:
        """Start ``coro`` on the background loop now (unless a request under ``key`` is already out)."""
        with self._lock:
            if key in self._started:
                coro.close()
                return
            log.debug("starting early: %s", key)
            self._started[key] = spawn(coro)

    def take(self, key: Hashable) -> Spawned | None:
        """The request started under ``key`` (await it or call ``.result()``), or None."""
        with self._lock:
            return self._started.pop(key, None)

    def discard(self) -> None:
        """Cancel every request nobody took (a finished one is simply dropped)."""
        with self._lock:
            started, self._started = self._started, {}
        for key, spawned in started.items():
            log.debug("discarding an early request nobody used: %s", key)
            spawned.cancel()

    def __len__(self) -> int:
        return len(self._started)
