"""What the Voyzu CRM vendor tests share: the seeded raw records (the simulator's, never a copy),
the request log read by path, the simulator object's test hooks and knobs (fast async timings,
the gateway limit), sessions with extra settings on this vendor's connection, and a config file
for the ``crmql`` command.

>>> PREFIX + SEARCH
'/voyzu/api/contacts/search'
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from functools import lru_cache
from pathlib import Path
from typing import Any

from crmql.api.config import sandbox_config
from crmql.api.session import Session
from crmql.sandbox import SandboxServer, records

from live_server import InFlight  # noqa: F401 (re-exported for the vendor tests)

V = "voyzu"
PREFIX = "/voyzu"
SEARCH = "/api/contacts/search"
GET = "/api/contacts/get/"
SHEETS = "/api/spreadsheets/list"
AUTH = "/api/auth"
STATUS_PATHS = {"request-status": "/api/request-status/get/", "api-request": "/api/request/get/",
                "request": "/request/get/"}
FAST = (("retry_base_s", 0.001), ("retry_cap_s", 0.01))
SESSION_ID = "sandbox-voyzu-session-5c8e1d7a"
LOGIN = {"Email": "sandbox@voyzu.example", "Password": "sandbox-voyzu-password"}


@lru_cache(maxsize=None)
def raw(table: str = "contacts") -> tuple[dict[str, Any], ...]:
    """The simulator's seeded records of ``table`` (seed 42): read only."""
    return tuple(records(V, table, 42))


def all_ids(table: str = "contacts") -> list[str]:
    return sorted(r["Id"] for r in raw(table))


#: contacts the async and class tests serve (the simulator's ``contacts`` knob: the first N)
SMALL = 2000


def small_ids() -> list[str]:
    """The ids of the first :data:`SMALL` contacts (what the simulator serves with ``contacts=SMALL``)."""
    return all_ids()[:SMALL]


def simulator(server: SandboxServer) -> Any:
    """The served Voyzu simulator (its test hooks and knobs)."""
    return server.state.vendor(V)


def calls(server: SandboxServer, start: str, method: str = "POST") -> list[tuple[str, int]]:
    """``(path, status)`` of the Voyzu requests of ``method`` whose path after ``/voyzu`` starts with ``start``."""
    return [(p, s) for m, p, s in server.request_log
            if m == method and p.startswith(PREFIX) and p[len(PREFIX):].startswith(start)]


def statuses(server: SandboxServer, start: str, method: str = "POST") -> list[int]:
    return [s for _, s in calls(server, start, method)]


def fast_async(server: SandboxServer, **knobs: Any) -> None:
    """Short async jobs on the served simulator (``async_base_ms`` 20, ``async_ms_per_1000`` 40),
    plus any other knob of the simulator or its jobs (``gateway_rows=...``, ``contacts=...``)."""
    sim = simulator(server)
    for name, value in {"async_base_ms": 20, "async_ms_per_1000": 40, **knobs}.items():
        owner = sim.jobs if hasattr(sim.jobs, name) else sim
        assert hasattr(owner, name), f"the Voyzu simulator has no knob {name!r}"
        setattr(owner, name, value)


def stall(server: SandboxServer, on: bool = True) -> None:
    """Every async job stays at 90% (``on``), or runs again."""
    simulator(server).jobs.stalled = on


def fail_next(server: SandboxServer, reason: str) -> None:
    """The next async job FAILS with ``reason``."""
    simulator(server).jobs.fail_next(reason)


def reset(server: SandboxServer) -> None:
    """The sandbox's defaults and the simulator's own (sessions, jobs, knobs)."""
    from cli_support import reset_sandbox

    reset_sandbox(server)
    simulator(server).reset()


def session_on(url: str, **settings: Any) -> Session:
    """A session on the sandbox served at ``url``, ``settings`` added to the voyzu connection."""
    config = sandbox_config(url)
    config.connections[V].settings.update({**dict(FAST), **settings})
    return Session(config)


@contextmanager
def session(server: SandboxServer, **settings: Any) -> Iterator[Session]:
    s = session_on(server.url, **settings)
    try:
        yield s
    finally:
        s.close()


def config_file(path: Path, url: str, **settings: Any) -> Path:
    """A crmql config TOML for the sandbox served at ``url``, ``settings`` added to this vendor's
    connection (a table value, e.g. ``login_values``, written inline)."""
    def toml(value: Any) -> str:
        if isinstance(value, dict):
            return "{" + ", ".join(f"{k} = {toml(v)}" for k, v in value.items()) + "}"
        return json.dumps(value)

    lines = []
    for name, conn in sandbox_config(url).connections.items():
        merged = {**conn.settings, **(settings if name == V else {})}
        lines += [f"[connections.{name}]", f"vendor = {json.dumps(conn.vendor)}"]
        lines += [f"{key} = {toml(value)}" for key, value in merged.items()]
        lines.append("")
    path.write_text("\n".join(lines), encoding="utf-8")
    return path


def ids(frame: Any) -> list[str]:
    return [str(i) for i in frame["id"]]


def no_secret(texts: Iterable[str]) -> None:
    """No Voyzu sandbox credential (the session id, the login password) in ``texts``."""
    for text in texts:
        for secret in (SESSION_ID, LOGIN["Password"]):
            assert secret not in text, f"a secret leaked: ...{secret[:6]}... in\n{text[-2000:]}"
