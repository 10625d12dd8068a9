"""Vendor API simulators with seeded data, served over real HTTP.

Quick use::

    from crmql.sandbox import serve_in_thread, CREDENTIALS

    with serve_in_thread() as server:
        base_url = f"{server.url}/azavista"
        ...

``server.settings`` (a :class:`SandboxSettings`) is live: change latency,
faults, token TTL or semantic variants while the server runs.
``server.state.vendor("atlas")`` is the Atlas CRM simulator's test hooks
(template changes, reset; see :mod:`crmql.sandbox.atlas`).
"""

from .data import records
from .server import (
    DEFAULT_PORT,
    SandboxServer,
    build_app,
    connection_settings,
    serve_forever,
    serve_in_thread,
)
from .settings import ALL_VARIANTS, CREDENTIALS, SandboxSettings

__all__ = [
    "ALL_VARIANTS",
    "CREDENTIALS",
    "DEFAULT_PORT",
    "SandboxServer",
    "SandboxSettings",
    "build_app",
    "connection_settings",
    "records",
    "serve_forever",
    "serve_in_thread",
]
