"""Vendor API simulators with seeded data, served over real HTTP.

Quick use::

    from crmql.sandbox import serve_in_thread, CREDENTIALS

    with serve_in_thread() as server:
        base_url = server.base_url("azavista")
        ...

Every registered vendor (:mod:`crmql.vendors`) whose spec names a simulator is served under
``/<vendor>``: its folder ``crmql/sandbox/<vendor>/`` declares a :class:`SimulatorSpec` (routes,
data, credentials, token paths, :class:`Variant` readings); the shared plumbing is in
:mod:`crmql.sandbox.core`. ``server.settings`` (a :class:`SandboxSettings`) is live: change latency,
faults, token TTL or semantic variants while the server runs. ``server.state.vendor(name)`` is a
simulator's test hooks where it registered some (e.g. Atlas: template changes, reset).
"""

from typing import TYPE_CHECKING, Any

from .core.settings import ALL_VARIANTS, CREDENTIALS, VARIANTS_HINT, SandboxSettings, parse_variants, validate_variants
from .core.spec import SimulatorSpec, Variant, all_variants, simulators

if TYPE_CHECKING:
    from .core.data import records
    from .core.server import (DEFAULT_PORT, PortInUseError, SandboxServer, bind, build_app, connection_settings,
                              serve_forever, serve_in_thread)

# the server (uvicorn, Starlette) and the data generators load on first use: reading CREDENTIALS
# (e.g. for the default config) must stay cheap, the shell's first prompt waits for it
_LAZY = {"records": "core.data", "DEFAULT_PORT": "core.server", "PortInUseError": "core.server", "bind": "core.server",
         "SandboxServer": "core.server", "build_app": "core.server", "connection_settings": "core.server",
         "serve_forever": "core.server", "serve_in_thread": "core.server"}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(f"{__name__}.{_LAZY[name]}"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "ALL_VARIANTS",
    "CREDENTIALS",
    "DEFAULT_PORT",
    "PortInUseError",
    "SandboxServer",
    "SandboxSettings",
    "SimulatorSpec",
    "VARIANTS_HINT",
    "Variant",
    "all_variants",
    "bind",
    "build_app",
    "connection_settings",
    "parse_variants",
    "records",
    "serve_forever",
    "serve_in_thread",
    "simulators",
    "validate_variants",
]
