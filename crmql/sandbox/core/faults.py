"""Fault spec parsing and per-request fault decisions.

Spec grammar (``SandboxSettings.faults``): comma-separated items, each either

* ``KIND@N[+N...]``: fire on the N-th counted API request (1-based; token
  requests are not counted), e.g. ``500@4+5``;
* ``KIND=P``: fire on each counted request with probability ``P`` in [0, 1],
  drawn from an RNG seeded with the settings' seed.

Kinds:

* ``429``: answer 429 with ``Retry-After`` and a ``rate_limited`` body;
* ``500``, ``502``, ``503``: answer with that status and a JSON error body;
* ``504``: API Gateway's timeout (``{"message": "Endpoint request timed out"}``); ``540``, ``541``,
  ``402``: Voyzu's custom errors and payment refusal (``{"ErrorMessage": ...}``);
* ``drop``: start the response, then abort the connection;
* ``expire``: revoke every issued access token before handling the request.

Example: ``"429@2,500@4+5,drop@6,expire@8,503=0.05"``.
"""

from __future__ import annotations

import logging
import random
import threading
from dataclasses import dataclass

logger = logging.getLogger(__name__)

#: Fault kinds that replace the response, in the order they win when several fire.
RESPONSE_KINDS: tuple[str, ...] = ("drop", "429", "500", "502", "503", "504", "540", "541", "402")
#: All accepted fault kinds.
FAULT_KINDS: frozenset[str] = frozenset(RESPONSE_KINDS + ("expire",))


@dataclass(frozen=True)
class FaultRule:
    """One item of a fault spec: fire at request numbers ``at`` or with ``probability``."""

    kind: str
    at: frozenset[int] = frozenset()
    probability: float | None = None


def _parse_item(item: str) -> FaultRule:
    if "@" in item:
        kind, _, numbers = item.partition("@")
        kind = kind.strip()
        _check_kind(kind, item)
        at: set[int] = set()
        for part in numbers.split("+"):
            part = part.strip()
            if not part.isdigit() or int(part) < 1:
                raise ValueError(
                    f"invalid fault spec item {item!r}: request numbers after '@' must be "
                    f"positive integers joined by '+', e.g. '500@4+5'"
                )
            at.add(int(part))
        return FaultRule(kind=kind, at=frozenset(at))
    if "=" in item:
        kind, _, prob = item.partition("=")
        kind = kind.strip()
        _check_kind(kind, item)
        try:
            probability = float(prob)
        except ValueError:
            probability = -1.0
        if not 0.0 <= probability <= 1.0:
            raise ValueError(
                f"invalid fault spec item {item!r}: probability after '=' must be a "
                f"number between 0 and 1, e.g. '503=0.1'"
            )
        return FaultRule(kind=kind, probability=probability)
    raise ValueError(
        f"invalid fault spec item {item!r}: expected KIND@N[+N...] or KIND=P "
        f"(kinds: {', '.join(sorted(FAULT_KINDS))})"
    )


def _check_kind(kind: str, item: str) -> None:
    if kind not in FAULT_KINDS:
        raise ValueError(
            f"invalid fault spec item {item!r}: unknown fault kind {kind!r} "
            f"(kinds: {', '.join(sorted(FAULT_KINDS))})"
        )


def parse_fault_spec(spec: str) -> tuple[FaultRule, ...]:
    """Parse a fault spec into rules; raise ``ValueError`` with a clear message if invalid."""
    if not isinstance(spec, str):
        raise ValueError(f"fault spec must be a string, got {type(spec).__name__}")
    items = [item.strip() for item in spec.split(",")]
    return tuple(_parse_item(item) for item in items if item)


class FaultInjector:
    """Counts API requests and decides which faults fire on each (thread-safe)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._count = 0
        self._spec: str | None = None
        self._seed: int | None = None
        self._rules: tuple[FaultRule, ...] = ()
        self._rng = random.Random(0)

    def reset(self) -> None:
        """Restart request numbering at 1 and reseed the probability RNG."""
        with self._lock:
            self._count = 0
            self._spec = None

    @property
    def count(self) -> int:
        """Number of counted requests since start or the last reset."""
        with self._lock:
            return self._count

    def next_request(self, spec: str, seed: int) -> tuple[int, list[str]]:
        """Count one API request and return ``(its number, the fault kinds that fire)``.

        Kinds come back in spec order; probabilistic rules each draw once per request.
        """
        with self._lock:
            if spec != self._spec or seed != self._seed:
                self._rules = parse_fault_spec(spec)
                self._rng = random.Random(f"sandbox-faults:{seed}")
                self._spec, self._seed = spec, seed
            self._count += 1
            number = self._count
            fired: list[str] = []
            for rule in self._rules:
                if rule.probability is not None:
                    if self._rng.random() < rule.probability:
                        fired.append(rule.kind)
                elif number in rule.at:
                    fired.append(rule.kind)
        if fired:
            logger.debug("request #%d: injecting faults %s", number, fired)
        return number, fired


def response_fault(kinds: list[str]) -> str | None:
    """Return the fault kind that determines the response, if any fired."""
    for kind in RESPONSE_KINDS:
        if kind in kinds:
            return kind
    return None
