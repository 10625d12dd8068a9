"""The vendor registry: one :class:`VendorSpec` per vendor, found through the entry-point group
``crmql.vendors``.

A vendor is registered once, by its package's metadata, so a third party adds one without touching
crmql::

    # pyproject.toml of the package that brings the vendor
    [project.entry-points."crmql.vendors"]
    acme = "acme_crmql.vendor:VENDOR"

    # acme_crmql/vendor.py
    VENDOR = VendorSpec(name="acme", display_name="Acme CRM",
                        connector="acme_crmql.connector:AcmeConnector",
                        simulator="acme_crmql.sandbox:SIMULATOR",      # optional
                        config_keys=("api_key",), docs=("https://acme.example/api",))

Everything that lists vendors derives from :func:`vendors`: the connector classes
(:mod:`crmql.connectors.registry`), the sandbox's connections and ``crmql sandbox config``, the
simulators the sandbox server mounts, their data, credentials and variants. A spec names its
connector and simulator as ``"module:attr"`` strings, imported on first use: listing the vendors
stays cheap (the shell's first prompt waits for the default config), and the connector package
never imports the sandbox.

A broken third-party entry point (it fails to import, is not a VendorSpec, or takes a name that is
already registered) is skipped with one warning naming it; the other vendors keep working.

>>> spec = VendorSpec(name="demo", display_name="Demo", connector="collections:OrderedDict")
>>> spec.connector_class().__name__
'OrderedDict'
>>> VendorSpec(name="Demo!", display_name="Demo", connector="x:y")
Traceback (most recent call last):
crmql.errors.ConfigError: vendor name 'Demo!' must be lowercase letters, digits and '_', starting with a letter
"""

from __future__ import annotations

import importlib
import logging
import re
import threading
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from .errors import ConfigError, did_you_mean

__all__ = ["ENTRY_POINT_GROUP", "REGISTER_HINT", "VendorSpec", "load_ref", "problems", "registered", "reload", "vendor", "vendors"]

logger = logging.getLogger(__name__)

#: the entry-point group every vendor registers in
ENTRY_POINT_GROUP = "crmql.vendors"
#: said where a name may be a vendor that is not registered (its entry point forgotten, or not installed)
REGISTER_HINT = (f"vendors are registered through the {ENTRY_POINT_GROUP} entry-point group; "
                 "after adding one run pip install -e .")
#: the distribution whose entry points are read first (its vendor names cannot be taken by another)
_OWN_DIST = "crmql"
_NAME = re.compile(r"^[a-z][a-z0-9_]*$")
_REF = re.compile(r"^[A-Za-z_][\w.]*:[A-Za-z_][\w.]*$")


def load_ref(ref: str, *, what: str) -> Any:
    """Import ``"module:attr"`` (``attr`` may be dotted); a failure is a :class:`ConfigError` naming
    ``what`` and the reference, never a traceback.

    >>> load_ref("json:dumps", what="demo").__name__
    'dumps'
    >>> load_ref("json:nope", what="vendor demo's connector")
    Traceback (most recent call last):
    crmql.errors.ConfigError: vendor demo's connector 'json:nope' cannot be loaded: module 'json' has no attribute 'nope'
    """
    module_name, _, attr = ref.partition(":")
    try:
        value: Any = importlib.import_module(module_name)
        for part in attr.split("."):
            value = getattr(value, part)
    except Exception as e:  # noqa: BLE001 - a third party's code: any failure is its error
        raise ConfigError(f"{what} {ref!r} cannot be loaded: {e}") from None
    return value


@dataclass(frozen=True)
class VendorSpec:
    """Everything crmql needs to know about one vendor, as data.

    Attributes:
        name: the connection's ``vendor`` value, the sandbox connection's name and URL prefix.
        display_name: the vendor's name for people (``"Atlas CRM"``).
        connector: ``"module:attr"`` of the connector class (a :class:`crmql.plan.connector.Connector`).
        simulator: ``"module:attr"`` of its sandbox simulator
            (a :class:`crmql.sandbox.core.spec.SimulatorSpec`), or None when there is none.
        config_keys: the settings a connection must have besides ``base_url``; each is a
            credential (redacted, best given as ``${ENV}`` in the config file).
        optional_keys: credentials a connection may have (the connector says which it needs, e.g.
            "a refresh_token or an access_token"); redacted like config keys, and written by
            ``crmql sandbox config`` when the simulator has them.
        docs: where the vendor's behaviour was read from (doc files, URLs).
        description: one line for listings.
        rank: position in listings, lower first, then by name: the first vendor's sandbox
            connection is the default connection (entry points come in no set order).
    """

    name: str
    display_name: str
    connector: str
    simulator: str | None = None
    config_keys: tuple[str, ...] = ()
    optional_keys: tuple[str, ...] = ()
    docs: tuple[str, ...] = ()
    description: str = ""
    rank: int = 100

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not _NAME.match(self.name):
            raise ConfigError(f"vendor name {self.name!r} must be lowercase letters, digits and '_', "
                              "starting with a letter")
        for field, ref in (("connector", self.connector), ("simulator", self.simulator)):
            if ref is None and field == "simulator":
                continue
            if not isinstance(ref, str) or not _REF.match(ref):
                raise ConfigError(f"vendor {self.name}: {field} must be 'module:attr', not {ref!r}")
        object.__setattr__(self, "config_keys", tuple(self.config_keys))
        object.__setattr__(self, "optional_keys", tuple(self.optional_keys))
        object.__setattr__(self, "docs", tuple(self.docs))

    @property
    def required_settings(self) -> tuple[str, ...]:
        """Settings every connection of this vendor must have (``base_url`` and the config keys)."""
        return ("base_url", *self.config_keys)

    def connector_class(self) -> Any:
        """The connector class (imported now)."""
        return load_ref(self.connector, what=f"vendor {self.name}'s connector")

    def simulator_spec(self) -> Any | None:
        """The sandbox simulator's spec (imported now), or None when the vendor has no simulator."""
        if self.simulator is None:
            return None
        return load_ref(self.simulator, what=f"vendor {self.name}'s simulator")


_lock = threading.RLock()
_registry: dict[str, VendorSpec] | None = None
_problems: list[str] = []
_loading = False


def _entry_points() -> Iterable[Any]:
    """The group's entry points (tests replace this to register a vendor at run time)."""
    from importlib.metadata import entry_points

    return entry_points(group=ENTRY_POINT_GROUP)


def _dist_name(ep: Any) -> str:
    dist = getattr(ep, "dist", None)
    return str(getattr(dist, "name", "") or "")


def _ordered(eps: Iterable[Any]) -> list[Any]:
    """crmql's own entry points first (a third party cannot take a built-in vendor's name), then by name."""
    return sorted(eps, key=lambda ep: (_dist_name(ep) != _OWN_DIST, ep.name))


def _by_rank(specs: Mapping[str, VendorSpec]) -> dict[str, VendorSpec]:
    return dict(sorted(specs.items(), key=lambda item: (item[1].rank, item[0])))


def _load(eps: Iterable[Any]) -> tuple[dict[str, VendorSpec], list[str]]:
    found: dict[str, VendorSpec] = {}
    origin: dict[str, tuple[str, str]] = {}  # vendor name -> (entry point name, value) that registered it
    problems: list[str] = []
    for ep in _ordered(eps):
        where = f"entry point {ep.name!r} = {ep.value!r}" + (f" (from {_dist_name(ep)})" if _dist_name(ep) else "")
        try:
            spec = ep.load()
        except Exception as e:  # noqa: BLE001 - a third party's code: any failure is its error
            problems.append(f"vendor {where} is skipped: it cannot be loaded: {type(e).__name__}: {e}")
            continue
        if not isinstance(spec, VendorSpec):
            problems.append(f"vendor {where} is skipped: it is a {type(spec).__name__}, not a crmql.vendors.VendorSpec")
            continue
        if found.get(spec.name) is spec and origin[spec.name] == (ep.name, ep.value):
            continue  # the same registration seen twice (a package on sys.path twice)
        if spec.name in found:  # another vendor's name, or the same spec under another entry point
            problems.append(f"vendor {where} is skipped: vendor {spec.name!r} is already registered "
                            f"(by entry point {origin[spec.name][0]!r} = {origin[spec.name][1]!r})")
            continue
        if spec.name != ep.name:
            logger.debug("vendor entry point %r registers vendor %r", ep.name, spec.name)
        found[spec.name] = spec
        origin[spec.name] = (ep.name, ep.value)
    found = _by_rank(found)
    for problem in problems:
        logger.warning("%s", problem)
    return found, problems


def vendors() -> Mapping[str, VendorSpec]:
    """Every registered vendor, by name (read from the entry points once per process).

    >>> list(vendors())[:2]
    ['azavista', 'atlas']
    """
    global _registry, _loading
    with _lock:
        if _registry is None:
            if _loading:  # a vendor module asks for the registry while it is being imported
                raise ConfigError("the vendor registry is used while it loads: a vendor's spec module must not "
                                  "call crmql.vendors.vendors() when it is imported")
            _loading = True
            try:
                _registry, problems = _load(_entry_points())
            finally:
                _loading = False
            _problems[:] = problems
            if not _registry:
                logger.warning("no crmql vendor is registered (entry-point group %s); is crmql installed? "
                               "pip install -e . registers the built-in ones", ENTRY_POINT_GROUP)
        return _registry


def vendor(name: str) -> VendorSpec:
    """The spec of vendor ``name``; an unknown name is a :class:`ConfigError` with a did-you-mean.

    >>> vendor("azavista").display_name
    'Azavista'
    >>> vendor("atlass")
    Traceback (most recent call last):
    crmql.errors.ConfigError: unknown vendor 'atlass'
      hint: did you mean atlas?
    """
    known = vendors()
    spec = known.get(name)
    if spec is None:
        raise ConfigError(f"unknown vendor '{name}'", hint=did_you_mean(name, known)
                          or f"vendors: {', '.join(known) or 'none registered'}; {REGISTER_HINT}")
    return spec


def problems() -> list[str]:
    """The warnings about entry points that were skipped (each names the entry point)."""
    vendors()
    return list(_problems)


def reload() -> None:
    """Forget the loaded registry: the next :func:`vendors` reads the entry points again (tests)."""
    global _registry
    with _lock:
        _registry = None
        _problems.clear()


@contextmanager
def registered(*specs: VendorSpec) -> Iterator[None]:
    """Add vendors for the duration of a ``with`` block, as if their packages registered them (tests,
    or trying a vendor out in a notebook before packaging it). Everything that derives from the
    registry (connectors, the sandbox's simulators, data, credentials, variants) sees them.

    >>> demo = VendorSpec(name="demo", display_name="Demo", connector="collections:OrderedDict")
    >>> with registered(demo):
    ...     "demo" in vendors()
    True
    >>> "demo" in vendors()
    False
    """
    global _registry
    with _lock:
        known = vendors()
        taken = [spec.name for spec in specs if spec.name in known]
        if taken:
            raise ConfigError(f"vendor {taken[0]!r} is already registered")
        _registry = _by_rank({**known, **{spec.name: spec for spec in specs}})
    try:
        yield
    finally:
        with _lock:
            if _registry is not None:  # a new dict: whoever cached the old one sees the change
                _registry = {name: spec for name, spec in _registry.items() if all(spec is not s for s in specs)}
