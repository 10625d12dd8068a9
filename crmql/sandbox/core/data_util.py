"""Helpers shared by the per-vendor data generators (ids, timestamps, slugs)."""

from __future__ import annotations

import logging
import random
import unicodedata
from functools import lru_cache
from typing import Sequence, TypeVar
from datetime import datetime, timedelta, timezone

logger = logging.getLogger(__name__)

T = TypeVar("T")

UTC = timezone.utc

#: Fixed "now" of the generated world, so data does not depend on the wall clock.
WORLD_NOW = datetime(2025, 11, 15, 9, 30, tzinfo=UTC)

_TRANSLIT = str.maketrans(
    {"ø": "o", "Ø": "O", "æ": "ae", "Æ": "AE", "ß": "ss", "ł": "l", "Ł": "L", "đ": "d",
     "ð": "d", "þ": "th", "œ": "oe", "Œ": "OE", "'": "", "’": ""}
)


def make_rng(seed: int, *parts: str) -> random.Random:
    """Return an RNG deterministic for ``seed`` and the given labels."""
    return random.Random(":".join([str(seed), *parts]))


class ObjectIdFactory:
    """Mongo-ObjectId-like 24-hex ids: 4-byte timestamp, 5-byte random, 3-byte counter.

    Ids from one factory are unique (the counter never repeats within 2**24 ids).
    """

    def __init__(self, rng: random.Random) -> None:
        self._random = rng.getrandbits(40)
        self._counter = rng.getrandbits(24)

    def new(self, created: datetime) -> str:
        """Return a fresh id embedding the ``created`` timestamp."""
        self._counter = (self._counter + 1) & 0xFFFFFF
        return f"{int(created.timestamp()):08x}{self._random:010x}{self._counter:06x}"


def utc_ms(moment: datetime) -> str:
    """Format as UTC ISO-8601 with milliseconds and Z, e.g. ``2025-01-23T11:29:18.876Z``."""
    if moment.tzinfo is not UTC:
        moment = moment.astimezone(UTC)
    return moment.isoformat(timespec="milliseconds")[:-6] + "Z"  # drop "+00:00"


def random_moment(rng: random.Random, start: datetime, end: datetime) -> datetime:
    """Uniform random instant in [start, end] with millisecond precision."""
    span_ms = max(0, int((end - start).total_seconds() * 1000))
    return start + timedelta(milliseconds=int(rng.random() * (span_ms + 1)))


def created_updated(
    rng: random.Random, start: datetime, end: datetime, p_never_updated: float = 0.3
) -> tuple[datetime, datetime]:
    """Random ``created`` in [start, end] and ``updated`` in [created, WORLD_NOW]."""
    created = random_moment(rng, start, end)
    if rng.random() < p_never_updated or created >= WORLD_NOW:
        return created, created
    return created, random_moment(rng, created, WORLD_NOW)


def ascii_fold(text: str) -> str:
    """Strip accents and transliterate a few letters (``Søren Müller`` -> ``Soren Muller``)."""
    text = text.translate(_TRANSLIT)
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


@lru_cache(maxsize=4096)
def slug(text: str, sep: str = "") -> str:
    """Lowercase ASCII slug of ``text`` (letters and digits only, words joined by ``sep``)."""
    words = "".join(ch if ch.isalnum() else " " for ch in ascii_fold(text).lower()).split()
    return sep.join(words)


class Weighted:
    """A reusable weighted choice over the keys of ``options`` (weights are the values)."""

    def __init__(self, options: dict[str, float]) -> None:
        self._keys = list(options)
        self._cum: list[float] = []
        total = 0.0
        for weight in options.values():
            total += weight
            self._cum.append(total)

    def pick(self, rng: random.Random) -> str:
        """Draw one key."""
        return rng.choices(self._keys, cum_weights=self._cum)[0]


def pick(rng: random.Random, seq: Sequence[T]) -> T:
    """Uniform choice from ``seq`` (a faster ``rng.choice`` for hot loops)."""
    return seq[int(rng.random() * len(seq))]


def weighted(rng: random.Random, options: dict[str, float]) -> str:
    """Pick a key of ``options`` with probability proportional to its weight (one-off)."""
    return rng.choices(list(options), weights=list(options.values()))[0]
