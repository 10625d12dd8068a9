"""Live, mutable settings of a sandbox server, and the sandbox credentials.

A :class:`SandboxSettings` instance is shared by reference with a running
server and read on every request, so tests can change ``latency_ms``,
``faults``, ``token_ttl_s`` or ``variants`` while the server runs.

Assigning an invalid ``faults`` spec or an unknown variant raises
``ValueError`` immediately.  (Mutating the ``variants`` dict in place bypasses
that check; an invalid value is then reported by the simulator as a 500.)
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any
from collections.abc import Iterable, Iterator, Mapping

from ...errors import did_you_mean
from .faults import parse_fault_spec
from .spec import credentials, variant_values

logger = logging.getLogger(__name__)


class _Lazy(Mapping[str, Any]):
    """A read-only mapping computed from the vendor registry on first use."""

    def __init__(self, build: Any) -> None:
        self._build = build

    def __getitem__(self, key: str) -> Any:
        return self._build()[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._build())

    def __len__(self) -> int:
        return len(self._build())

    def __repr__(self) -> str:
        return repr(dict(self._build()))


#: Credentials every simulator accepts, keyed by vendor name (from each simulator's spec).
CREDENTIALS: Mapping[str, dict[str, str]] = _Lazy(credentials)

#: Every semantic switch of every simulator: key -> allowed values (first = default).
ALL_VARIANTS: Mapping[str, tuple[str, ...]] = _Lazy(variant_values)

#: The hint under a bad variant, wherever it was given (``--variant``, the config, the environment).
VARIANTS_HINT = "crmql sandbox variants lists every variant, its values and its default"


def validate_variants(variants: Mapping[str, str]) -> None:
    """Raise ``ValueError`` if ``variants`` has an unknown key or value (with a did-you-mean).

    >>> validate_variants({"azavista.rnage": "inclusive"})  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ValueError: unknown sandbox variant 'azavista.rnage' (did you mean azavista.range...)
    >>> validate_variants({"azavista.like_case": "sensitve"})  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ValueError: invalid value 'sensitve' for sandbox variant 'azavista.like_case' (allowed: insensitive, sensitive; did you mean sensitive...)
    """
    for key, value in variants.items():
        if key not in ALL_VARIANTS:
            hint = did_you_mean(key, ALL_VARIANTS) or f"known: {', '.join(sorted(ALL_VARIANTS))}"
            raise ValueError(f"unknown sandbox variant {key!r} ({hint})")
        allowed = ALL_VARIANTS[key]
        if value not in allowed:
            hint = did_you_mean(str(value), allowed)
            raise ValueError(
                f"invalid value {value!r} for sandbox variant {key!r} "
                f"(allowed: {', '.join(allowed)}{'; ' + hint if hint else ''})"
            )


def parse_variants(items: Iterable[str] | str) -> dict[str, str]:
    """``KEY=VALUE`` items (a list, or one string of them joined by ``,``) as a checked variants dict
    (``crmql sandbox serve --variant``, ``$CRMQL_SANDBOX_VARIANTS``); raises ``ValueError``.

    >>> parse_variants(["azavista.range=inclusive", "atlas.eq_case = insensitive"])
    {'azavista.range': 'inclusive', 'atlas.eq_case': 'insensitive'}
    >>> parse_variants("azavista.range")
    Traceback (most recent call last):
    ValueError: sandbox variant 'azavista.range' must be KEY=VALUE, e.g. azavista.range=inclusive

    A key given twice must have one value (the same value twice is fine):

    >>> parse_variants("azavista.range=inclusive,azavista.range=inclusive")
    {'azavista.range': 'inclusive'}
    >>> parse_variants(["azavista.range=inclusive", "azavista.range=exclusive"])
    Traceback (most recent call last):
    ValueError: sandbox variant 'azavista.range' is given twice: inclusive and exclusive
    """
    if isinstance(items, str):
        items = [item for item in items.split(",") if item.strip()]
    variants: dict[str, str] = {}
    for item in items:
        key, sep, value = item.partition("=")
        key, value = key.strip(), value.strip()
        if not sep or not key or not value:
            known = key if key in ALL_VARIANTS else next(iter(ALL_VARIANTS), "vendor.name")
            example = f"{known}={ALL_VARIANTS[known][-1] if known in ALL_VARIANTS else 'value'}"
            raise ValueError(f"sandbox variant {item.strip()!r} must be KEY=VALUE, e.g. {example}")
        if variants.get(key, value) != value:
            raise ValueError(f"sandbox variant {key!r} is given twice: {variants[key]} and {value}")
        variants[key] = value
    validate_variants(variants)
    return variants


def variant(settings: "SandboxSettings", key: str) -> str:
    """Return the current value of variant ``key`` (its default when unset).

    Raises ``ValueError`` when the stored value is not one of the allowed values.
    """
    allowed = ALL_VARIANTS[key]
    value = settings.variants.get(key, allowed[0])
    if value not in allowed:
        raise ValueError(
            f"invalid value {value!r} for sandbox variant {key!r} "
            f"(allowed: {', '.join(allowed)})"
        )
    return value


@dataclass
class SandboxSettings:
    """Behaviour knobs of a sandbox server (read on every request).

    Attributes:
        seed: seed of the generated data and of probabilistic faults.
        latency_ms: delay added before answering every vendor API request.
        faults: fault spec, e.g. ``"429@2,500@4+5,drop@6,expire@8,503=0.05"``
            (see :mod:`crmql.sandbox.core.faults`).
        retry_after: ``Retry-After`` header value sent with injected 429s.
        token_ttl_s: lifetime of issued access tokens, in seconds.
        variants: semantic switches for undocumented behaviour, e.g.
            ``{"azavista.like_case": "sensitive"}`` (see ``ALL_VARIANTS``).
    """

    seed: int = 42
    latency_ms: float = 0
    faults: str = ""
    retry_after: str = "1"
    token_ttl_s: float = 3599
    variants: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        validate_variants(self.variants)

    def __setattr__(self, name: str, value: Any) -> None:
        if name == "faults":
            parse_fault_spec(value)
        elif name == "variants":
            validate_variants(value)
        elif name == "latency_ms" and value < 0:
            raise ValueError(f"latency_ms must be >= 0, got {value!r}")
        elif name == "token_ttl_s" and value <= 0:
            raise ValueError(f"token_ttl_s must be > 0, got {value!r}")
        super().__setattr__(name, value)
