"""Helpers of the SQL-tools tests (issue 14), imported by name (``import conftest`` would find whichever
conftest comes first on ``sys.path``).

* ``tools_config`` (module scope, a fixture): a config file for the module's served sandbox (mode 600,
  millisecond retries), the way a user points every tool at one config; ``traffic`` (a fixture): a
  :class:`Traffic` on the module's server. The test modules import both (no conftest here: a second
  ``conftest`` module without a package clashes with tests/magic's when both are collected for doctests).
* ``engine_url(config)``: the ``crmql://`` URL of a config file (``crmql:///<path>``).
* ``Traffic``: what the sandbox saw while a block ran: its request log (method, path, status) as a
  multiset, and the body of every Azavista search (native filter, limit, offset; the simulator's
  ``search`` is spied on), so two tools can be proved to have sent the same requests, not only as many.
"""

from __future__ import annotations

import contextlib
import json
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from cli_support import reset_sandbox, write_config_file

#: the issue's "Done when" query and its parameter
DONE_WHEN_SQL = "SELECT name FROM azavista.events WHERE event_type = :t"
DONE_WHEN_PARAMS = {"t": "sales"}
#: retries wait a millisecond, never the production backoff
FAST = {"retry_base_s": 0.001, "retry_cap_s": 0.01}


def engine_url(config: Path) -> str:
    """``crmql:///`` + the config file's absolute path (``crmql:////tmp/x/crmql.toml``)."""
    return f"crmql:///{Path(config).resolve()}"


class Traffic:
    """The requests the sandbox served during ``with traffic.recording():`` (one block at a time)."""

    def __init__(self, server: Any) -> None:
        self.server = server
        self.log: Counter[tuple[str, str, int]] = Counter()
        self.searches: Counter[str] = Counter()

    @contextlib.contextmanager
    def recording(self) -> Iterator["Traffic"]:
        reset_sandbox(self.server)
        from crmql.sandbox.azavista.simulator import AzavistaSimulator

        original = AzavistaSimulator.search  # azavista does not register itself with the state: spy on the class
        state = self.server.state
        seen: list[str] = []

        async def search(simulator: Any, request: Any, table: str) -> Any:
            if simulator.state is state:  # the body is read again by the handler (Starlette keeps it)
                seen.append(f"{table} {json.dumps(json.loads(await request.body() or b'{}'), sort_keys=True)}")
            return await original(simulator, request, table)

        AzavistaSimulator.search = search  # type: ignore[method-assign]
        try:
            yield self
        finally:
            AzavistaSimulator.search = original  # type: ignore[method-assign]
            self.log = Counter(self.server.request_log)
            self.searches = Counter(seen)
            reset_sandbox(self.server)

    @property
    def requests(self) -> int:
        return sum(self.log.values())

    def same_as(self, other: "Traffic") -> bool:
        return self.log == other.log and self.searches == other.searches

    def __repr__(self) -> str:
        return f"Traffic({self.requests} requests: {dict(self.log)}, searches {dict(self.searches)})"


@pytest.fixture(scope="module")
def tools_config(sandbox_server: Any, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A config file for the module's served sandbox, readable by its owner only (no warning)."""
    path = write_config_file(tmp_path_factory.mktemp("tools") / "crmql.toml", sandbox_server.url, **FAST)
    path.chmod(0o600)
    return path


@pytest.fixture
def traffic(sandbox_server: Any) -> Traffic:
    """A fresh :class:`Traffic` on the module's server."""
    return Traffic(sandbox_server)
