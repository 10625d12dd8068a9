"""Per-server runtime state shared by the middleware and the simulators.

Besides the request log, a :class:`ConcurrencyMeter` counts per vendor the API requests in flight
(from the moment the middleware sees a request, before its latency, to the moment its last body
byte is handed to the server, or it fails) and the peak since the last reset, so a test can check
that a client (a Spark job, a Dask graph) never had more requests at once at the vendor than its
cap. Token requests count too: the vendor sees them. The meter is reset with the log.

>>> meter = ConcurrencyMeter()
>>> meter.enter("azavista"); meter.enter("azavista"); meter.leave("azavista")
>>> meter.reading("azavista")
{'in_flight': 1, 'peak': 2}
>>> meter.reset(); meter.reading("azavista"), meter.reading("atlas")
({'in_flight': 1, 'peak': 1}, {'in_flight': 0, 'peak': 0})
"""

from __future__ import annotations

import logging
import threading
from typing import Any, Awaitable, Callable

from starlette.responses import JSONResponse
from starlette.types import Message, Send

from .faults import FaultInjector
from .settings import SandboxSettings
from .tokens import TokenStore

logger = logging.getLogger(__name__)

#: One request log entry: (method, path, status); status 0 means the connection was dropped.
LogEntry = tuple[str, str, int]


class ConcurrencyMeter:
    """Requests in flight now and the peak since the last reset, per vendor (thread safe)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._in_flight: dict[str, int] = {}
        self._peak: dict[str, int] = {}

    def enter(self, vendor: str) -> None:
        """One more request of ``vendor`` in flight (raises the peak if need be)."""
        with self._lock:
            now = self._in_flight.get(vendor, 0) + 1
            self._in_flight[vendor] = now
            if now > self._peak.get(vendor, 0):
                self._peak[vendor] = now

    def leave(self, vendor: str) -> None:
        """One request of ``vendor`` done (answered, failed or dropped)."""
        with self._lock:
            self._in_flight[vendor] = max(0, self._in_flight.get(vendor, 0) - 1)

    async def counting(self, vendor: str, send: Send, handle: Callable[[Send], Awaitable[None]]) -> None:
        """Run ``handle(send)`` (one ASGI request of ``vendor``) counted in flight until the last
        part of its body is handed to the server (before the client can see it) or it fails."""
        self.enter(vendor)
        counted = True

        async def send_counted(message: Message) -> None:
            nonlocal counted
            if counted and message["type"] == "http.response.body" and not message.get("more_body", False):
                counted = False
                self.leave(vendor)
            await send(message)

        try:
            await handle(send_counted)
        finally:
            if counted:
                self.leave(vendor)

    def reading(self, vendor: str) -> dict[str, int]:
        """``{"in_flight": n, "peak": m}`` of ``vendor`` (zeros for a vendor never requested)."""
        with self._lock:
            return {"in_flight": self._in_flight.get(vendor, 0), "peak": self._peak.get(vendor, 0)}

    def reset(self) -> None:
        """Start a new peak: what is in flight now (requests still running keep counting)."""
        with self._lock:
            self._peak = dict(self._in_flight)


class SandboxState:
    """Live settings, token store, fault counter and request log of one server."""

    def __init__(self, settings: SandboxSettings) -> None:
        self.settings = settings
        self.tokens = TokenStore()
        self.faults = FaultInjector()
        self._log: list[LogEntry] = []
        self._log_lock = threading.Lock()
        self._vendors: dict[str, Any] = {}
        self.meter = ConcurrencyMeter()

    def register_vendor(self, name: str, simulator: Any) -> None:
        """Make a simulator's test hooks reachable as ``vendor(name)`` (called by build_routes)."""
        self._vendors[name] = simulator

    def vendor(self, name: str) -> Any:
        """The simulator object of ``name`` that registered itself, e.g. ``vendor("atlas")``."""
        try:
            return self._vendors[name]
        except KeyError:
            raise KeyError(f"no simulator registered as {name!r} (registered: "
                           f"{', '.join(sorted(self._vendors)) or 'none'})") from None

    def log_request(self, method: str, path: str, status: int) -> None:
        """Append one API request to the log."""
        with self._log_lock:
            self._log.append((method, path, status))

    def request_log(self) -> list[LogEntry]:
        """A snapshot copy of the request log."""
        with self._log_lock:
            return list(self._log)

    def concurrency(self, vendor: str) -> dict[str, int]:
        """``{"in_flight": n, "peak": m}``: ``vendor``'s API requests in flight now and the most at
        once since the last :meth:`reset_log` (zeros for a vendor never requested)."""
        return self.meter.reading(vendor)

    def reset_log(self) -> None:
        """Clear the log, restart fault request numbering (and the fault RNG) and the concurrency peaks."""
        with self._log_lock:
            self._log.clear()
            self.meter.reset()
        self.faults.reset()


def json_error(status: int, body: dict[str, Any], headers: dict[str, str] | None = None) -> JSONResponse:
    """A JSON error response."""
    return JSONResponse(body, status_code=status, headers=headers)
