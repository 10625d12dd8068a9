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

from ..atlas.filter import VARIANTS as ATLAS_VARIANTS
from ..azavista.filter import VARIANTS as AZAVISTA_VARIANTS
from .faults import parse_fault_spec

logger = logging.getLogger(__name__)

#: Credentials every simulator accepts, keyed by vendor name.
CREDENTIALS: dict[str, dict[str, str]] = {
    "azavista": {
        "client_id": "sandbox-azavista-client",
        "client_secret": "sandbox-azavista-secret",
        "username": "analyst@sandbox.example",
        "password": "sandbox-azavista-password",
    },
    "atlas": {"client_id": "sandbox-atlas-client", "client_secret": "sandbox-atlas-secret"},
}

#: Every semantic switch of every simulator: key -> allowed values (first = default).
ALL_VARIANTS: dict[str, tuple[str, ...]] = {
    **AZAVISTA_VARIANTS,
    **ATLAS_VARIANTS,
}


def validate_variants(variants: dict[str, str]) -> None:
    """Raise ``ValueError`` if ``variants`` has an unknown key or value."""
    for key, value in variants.items():
        if key not in ALL_VARIANTS:
            known = ", ".join(sorted(ALL_VARIANTS))
            raise ValueError(f"unknown sandbox variant {key!r} (known: {known})")
        allowed = ALL_VARIANTS[key]
        if value not in allowed:
            raise ValueError(
                f"invalid value {value!r} for sandbox variant {key!r} "
                f"(allowed: {', '.join(allowed)})"
            )


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
