"""A small LRU cache of filter results, shared by the simulators (a filtered, sorted list is reused
by every page of the same query: paging through 10,000 records filters them once).

Not locked: a simulator uses it from the server's event loop, or under its own lock (Atlas, whose
writes clear it).

>>> cache = ResultCache(size=2)
>>> cache.get_or_compute("a", lambda: [1])
[1]
>>> cache.get_or_compute("a", lambda: [2])  # cached
[1]
>>> _ = cache.get_or_compute("b", lambda: []), cache.get_or_compute("c", lambda: [])
>>> "a" in cache  # the least recently used went
False
"""

from __future__ import annotations

import logging
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Generic, TypeVar

__all__ = ["ResultCache"]

logger = logging.getLogger(__name__)

V = TypeVar("V")


class ResultCache(Generic[V]):
    """Up to ``size`` computed values, the least recently used evicted first."""

    def __init__(self, size: int = 32) -> None:
        self._items: OrderedDict[Hashable, V] = OrderedDict()
        self._size = size

    def get_or_compute(self, key: Hashable, compute: Callable[[], V]) -> V:
        """The value for ``key``, computed (and kept) on a miss; an exception is not cached."""
        value = self._items.get(key)
        if value is not None:
            self._items.move_to_end(key)
            return value
        value = compute()
        self._items[key] = value
        if len(self._items) > self._size:
            self._items.popitem(last=False)
        return value

    def __contains__(self, key: Hashable) -> bool:
        return key in self._items

    def clear(self) -> None:
        """Forget every value (after a write)."""
        self._items.clear()
