"""Helpers of the SQL-tools tests (issue 14), imported by name (``import conftest`` would find whichever
conftest comes first on ``sys.path``).

* ``engine_url(config)``: the ``crmql://`` URL of a config file (``crmql:///<path>``).
* ``Traffic``: what the sandbox saw while a block ran: its request log (method, path, status) as a
  multiset, and the native filter of every Azavista search (the simulator's ``matches`` is spied on),
  so two tools can be proved to have sent the same requests, not only the same number.
"""

from __future__ import annotations

import contextlib
import json
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from cli_support import reset_sandbox

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
        self.filters: Counter[str] = Counter()

    @contextlib.contextmanager
    def recording(self) -> Iterator["Traffic"]:
        reset_sandbox(self.server)
        simulator = self.server.state.vendor("azavista")
        original = simulator.matches
        seen: list[str] = []

        def matches(table: str, tree: Any, variants: Any) -> Any:
            seen.append(f"{table} {json.dumps(tree, sort_keys=True)}")
            return original(table, tree, variants)

        simulator.matches = matches
        try:
            yield self
        finally:
            del simulator.matches  # the class's method again
            self.log = Counter(self.server.request_log)
            self.filters = Counter(seen)
            reset_sandbox(self.server)

    @property
    def requests(self) -> int:
        return sum(self.log.values())

    def same_as(self, other: "Traffic") -> bool:
        return self.log == other.log and self.filters == other.filters

    def __repr__(self) -> str:
        return f"Traffic({self.requests} requests: {dict(self.log)}, filters {dict(self.filters)})"
