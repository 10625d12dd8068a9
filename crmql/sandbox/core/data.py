"""Deterministic, seeded data of every simulator.

``records(vendor, table, seed)`` returns the raw records exactly as the
vendor API would return them, in the API's stable order.  Results are cached
per ``(vendor, table, seed)``.

Each vendor contributes generators in its own folder (``crmql/sandbox/<vendor>/data.py``) as a
``GENERATORS`` dict keyed by ``(vendor, table)``, named by its simulator spec (``data=``); a
generator is called as ``generator(seed, lookup)`` where ``lookup(table)`` returns another table
of the same vendor and seed (for foreign keys). :data:`GENERATORS` merges every registered
simulator's, on first use.
"""

from __future__ import annotations

import logging
import threading
from typing import Any, Callable

from .spec import simulators

logger = logging.getLogger(__name__)

Record = dict[str, Any]
Lookup = Callable[[str], list[Record]]
Generator = Callable[[int, Lookup], list[Record]]

_cache: dict[tuple[str, str, int], list[Record]] = {}
_lock = threading.RLock()
_generators: tuple[object, dict[tuple[str, str], Generator]] | None = None


def generators() -> dict[tuple[str, str], Generator]:
    """All data generators of the registered simulators, keyed by (vendor, table)."""
    global _generators
    sims = simulators()
    with _lock:
        if _generators is None or _generators[0] is not sims:  # read again when the registry changed
            _generators = (sims, {key: gen for sim in sims.values() for key, gen in sim.generators().items()})
        return _generators[1]


def __getattr__(name: str) -> object:
    if name == "GENERATORS":  # the old constant, now read from the registry on first use
        return generators()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def vendors() -> list[str]:
    """Vendors that have generated data."""
    return sorted({vendor for vendor, _ in generators()})


def tables(vendor: str) -> list[str]:
    """Tables of ``vendor`` that have generated data."""
    return sorted(table for v, table in generators() if v == vendor)


def _generate(vendor: str, table: str, seed: int) -> list[Record]:
    key = (vendor, table, seed)
    with _lock:
        cached = _cache.get(key)
        if cached is not None:
            return cached
        generator = generators().get((vendor, table))
        if generator is None:
            known = ", ".join(f"{v}.{t}" for v, t in sorted(generators()))
            raise KeyError(f"no sandbox data for {vendor}.{table} (known: {known})")

        def lookup(other: str) -> list[Record]:
            return _generate(vendor, other, seed)

        result = generator(seed, lookup)
        _cache[key] = result
        logger.debug("generated %d records for %s.%s (seed %d)", len(result), vendor, table, seed)
        return result


def records(vendor: str, table: str, seed: int = 42) -> list[Record]:
    """Return the raw records of ``vendor``'s ``table`` for ``seed``.

    The list is a fresh copy, but the record dicts are shared with the cache:
    do not mutate them.  Raises ``KeyError`` for an unknown vendor/table.
    """
    return list(_generate(vendor, table, seed))


def shared_records(vendor: str, table: str, seed: int = 42) -> list[Record]:
    """Like :func:`records` but returns the cached list itself (read-only use)."""
    return _generate(vendor, table, seed)
