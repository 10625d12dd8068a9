"""What a vendor's simulator declares (:class:`SimulatorSpec`, :class:`Variant`), and the simulators
of every registered vendor (:func:`simulators`).

A vendor's sandbox folder holds one light ``spec.py``::

    SIMULATOR = SimulatorSpec(
        name="azavista",
        routes="crmql.sandbox.azavista.simulator:build_routes",   # build_routes(state) -> routes
        data="crmql.sandbox.azavista.data:GENERATORS",            # {(vendor, table): generator}
        credentials={"client_id": "...", "client_secret": "..."},
        token_paths=frozenset({"/3.0/oauth/token"}),
        variants=(Variant("azavista.range", ("exclusive", "inclusive"),
                          "whether after/before include their bound", "vendor-notes ambiguity 7"),),
    )

and its :class:`crmql.vendors.VendorSpec` names it (``simulator="crmql.sandbox.azavista.spec:SIMULATOR"``).
The routes and data are imported on first use, so reading credentials and variants stays cheap.

>>> v = Variant("demo.case", ("sensitive", "insensitive"), "case of eq", "vendor doc")
>>> v.default
'sensitive'
>>> Variant("demo.case", (), "x", "y")
Traceback (most recent call last):
ValueError: variant 'demo.case' needs at least one value
"""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from ...vendors import load_ref, vendors

__all__ = ["SimulatorSpec", "Variant", "all_variants", "credentials", "simulators", "variant_values"]

logger = logging.getLogger(__name__)

_KEY = re.compile(r"^[a-z][a-z0-9_]*\.[a-z][a-z0-9_]*$")


@dataclass(frozen=True)
class Variant:
    """One open reading of a vendor's docs the simulator can switch between.

    Attributes:
        key: ``<vendor>.<name>``, e.g. ``azavista.like_case``.
        values: the readings; the first is the default.
        meaning: one line: what the switch changes.
        source: the doc it comes from (a ``vendor-notes.md`` ambiguity, a vendor doc section).
    """

    key: str
    values: tuple[str, ...]
    meaning: str
    source: str

    def __post_init__(self) -> None:
        if not _KEY.match(self.key):
            raise ValueError(f"variant key {self.key!r} must be '<vendor>.<name>' (lowercase, digits, '_')")
        if not self.values:
            raise ValueError(f"variant {self.key!r} needs at least one value")
        if len(set(self.values)) != len(self.values):
            raise ValueError(f"variant {self.key!r} lists a value twice: {self.values}")
        object.__setattr__(self, "values", tuple(self.values))

    @property
    def default(self) -> str:
        """The reading used when none is chosen (the first value)."""
        return self.values[0]


@dataclass(frozen=True)
class SimulatorSpec:
    """How a vendor's simulator plugs into the sandbox server.

    Attributes:
        name: the vendor name, also the URL prefix (``/<name>/...``).
        routes: ``"module:attr"`` of ``build_routes(state) -> list[BaseRoute]`` (paths relative to
            the prefix).
        data: ``"module:attr"`` of its data generators, ``{(vendor, table): generator(seed, lookup)}``.
        credentials: the credentials the simulator accepts (``crmql sandbox config`` writes the ones
            the vendor's ``config_keys`` name).
        token_paths: relative paths of its token endpoints (latency, never faults or the fault count).
        variants: its switchable readings of what the docs leave open.
        root_routes: optional ``"module:attr"`` of ``build(state) -> routes`` served at the server's
            root, outside the prefix (Voyzu's presigned-style result links); built after ``routes``.
    """

    name: str
    routes: str
    data: str | None = None
    credentials: Mapping[str, str] = field(default_factory=dict)
    token_paths: frozenset[str] = frozenset()
    variants: tuple[Variant, ...] = ()
    root_routes: str | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "token_paths", frozenset(self.token_paths))
        object.__setattr__(self, "variants", tuple(self.variants))
        for v in self.variants:
            if not v.key.startswith(f"{self.name}."):
                raise ValueError(f"simulator {self.name}: variant {v.key!r} must start with '{self.name}.'")

    def variant_values(self) -> dict[str, tuple[str, ...]]:
        """``{key: values}`` of its variants (first value = default)."""
        return {v.key: v.values for v in self.variants}

    def build_routes(self, state: Any) -> list[Any]:
        """Its routes, bound to a server's state (imports the simulator)."""
        build: Callable[[Any], list[Any]] = load_ref(self.routes, what=f"simulator {self.name}'s routes")
        return build(state)

    def build_root_routes(self, state: Any) -> list[Any]:
        """Its routes served at the server root (none unless it declares ``root_routes``)."""
        if self.root_routes is None:
            return []
        build: Callable[[Any], list[Any]] = load_ref(self.root_routes, what=f"simulator {self.name}'s root routes")
        return build(state)

    def generators(self) -> dict[tuple[str, str], Callable[..., Any]]:
        """Its data generators (imports them); none when it declares no data."""
        if self.data is None:
            return {}
        return dict(load_ref(self.data, what=f"simulator {self.name}'s data"))


_lock = threading.RLock()
_simulators: dict[str, SimulatorSpec] | None = None
_loaded_from: object = None  # the registry mapping _simulators was read from (a new one: read again)
_loading = False


def simulators() -> dict[str, SimulatorSpec]:
    """The simulator of every registered vendor that has one, in the registry's order.

    A simulator that cannot be loaded is skipped with a warning naming it; the others still serve.

    >>> list(simulators())[:2]  # the built-ins first, then any vendor a plugin registers
    ['azavista', 'atlas']
    """
    global _simulators, _loaded_from, _loading
    registry = vendors()
    with _lock:
        if _simulators is None or _loaded_from is not registry:
            if _loading:  # a simulator's spec module asks for the simulators while it is being imported
                raise RuntimeError("the sandbox's simulators are listed while they load: a simulator's spec "
                                   "module must not call simulators() (or read CREDENTIALS) when it is imported")
            _loading = True
            try:
                _simulators, _loaded_from = _load_simulators(registry), registry
            finally:
                _loading = False
        return _simulators


def _load_simulators(registry: Mapping[str, Any]) -> dict[str, SimulatorSpec]:
    found: dict[str, SimulatorSpec] = {}
    for name, spec in registry.items():
        if spec.simulator is None:
            continue
        try:
            sim = spec.simulator_spec()
        except Exception as e:  # noqa: BLE001 - a ConfigError naming it, or a third party's bug
            logger.warning("vendor %s: its simulator is skipped: %s", name, e)
            continue
        if not isinstance(sim, SimulatorSpec) or sim.name != name:
            logger.warning("vendor %s: its simulator %r is skipped: not a SimulatorSpec named %r",
                           name, spec.simulator, name)
            continue
        found[name] = sim
    return found


def reload() -> None:
    """Forget the loaded simulators (after :func:`crmql.vendors.reload`, in tests)."""
    global _simulators
    with _lock:
        _simulators = None


def credentials() -> dict[str, dict[str, str]]:
    """The credentials each simulator accepts, by vendor."""
    return {name: dict(sim.credentials) for name, sim in simulators().items()}


_variants: tuple[object, dict[str, Variant], dict[str, tuple[str, ...]]] | None = None


def _variants_of(sims: dict[str, SimulatorSpec]) -> tuple[dict[str, Variant], dict[str, tuple[str, ...]]]:
    global _variants
    cached = _variants
    if cached is None or cached[0] is not sims:  # read on every simulated request: computed once per registry
        by_key = {v.key: v for sim in sims.values() for v in sim.variants}
        cached = _variants = (sims, by_key, {key: v.values for key, v in by_key.items()})
    return cached[1], cached[2]


def all_variants() -> dict[str, Variant]:
    """Every variant of every simulator, by key (do not mutate)."""
    return _variants_of(simulators())[0]


def variant_values() -> dict[str, tuple[str, ...]]:
    """``{key: values}`` of every variant of every simulator (first value = default; do not mutate)."""
    return _variants_of(simulators())[1]
