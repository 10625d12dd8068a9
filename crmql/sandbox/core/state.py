"""Per-server runtime state shared by the middleware and the simulators."""

from __future__ import annotations

import logging
import threading
from typing import Any

from starlette.responses import JSONResponse

from .faults import FaultInjector
from .settings import SandboxSettings
from .tokens import TokenStore

logger = logging.getLogger(__name__)

#: One request log entry: (method, path, status); status 0 means the connection was dropped.
LogEntry = tuple[str, str, int]


class SandboxState:
    """Live settings, token store, fault counter and request log of one server."""

    def __init__(self, settings: SandboxSettings) -> None:
        self.settings = settings
        self.tokens = TokenStore()
        self.faults = FaultInjector()
        self._log: list[LogEntry] = []
        self._log_lock = threading.Lock()
        self._vendors: dict[str, Any] = {}

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

    def reset_log(self) -> None:
        """Clear the log and restart fault request numbering (and the fault RNG)."""
        with self._log_lock:
            self._log.clear()
        self.faults.reset()


def json_error(status: int, body: dict[str, Any], headers: dict[str, str] | None = None) -> JSONResponse:
    """A JSON error response."""
    return JSONResponse(body, status_code=status, headers=headers)
