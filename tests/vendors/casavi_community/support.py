"""What the casavi Community vendor tests share: the seeded raw records (the simulator's, never a
copy), the request log read by path, requests in flight counted at the sandbox, fast retries, a
config file for the ``crmql`` command with extra settings on this vendor's connection, and the
simulator object's test hooks (``fail_communities``)."""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from functools import lru_cache
from pathlib import Path
from typing import Any

from crmql.api.config import sandbox_config
from crmql.sandbox import SandboxServer, records

from live_server import InFlight  # noqa: F401 (re-exported for the vendor tests)

V = "casavi_community"
PREFIX = "/casavi_community"
API = PREFIX + "/api/v1"
DISCOVERY = PREFIX + "/.well-known/openid-configuration"
TOKEN = PREFIX + "/oidc/token"
FAST = (("retry_base_s", 0.001), ("retry_cap_s", 0.01))
COMMUNITY_PATH = re.compile(r"/api/v1/communities/(\d+)/")


@lru_cache(maxsize=None)
def raw(table: str) -> tuple[dict[str, Any], ...]:
    """The simulator's seeded records of ``table`` (seed 42), each with its ``community_id``: read only."""
    return tuple(records(V, table, 42))


def of(table: str, community: int) -> list[dict[str, Any]]:
    """The raw records of one community."""
    return [r for r in raw(table) if r["community_id"] == community]


def biggest(table: str, below: int = 10**9) -> tuple[int, int]:
    """``(community, number of records)`` of the community with the most records of ``table``
    (fewer than ``below``)."""
    counts: dict[int, int] = {}
    for r in raw(table):
        counts[r["community_id"]] = counts.get(r["community_id"], 0) + 1
    return max(((c, n) for c, n in counts.items() if n < below), key=lambda cn: (cn[1], -cn[0]))


def api_gets(server: SandboxServer, suffix: str = "") -> list[tuple[str, int]]:
    """``(path, status)`` of the API GETs (not discovery, not tokens) whose path ends with ``suffix``."""
    return [(p, s) for m, p, s in server.request_log
            if m == "GET" and p.startswith(API) and p.endswith(suffix)]


def communities_asked(server: SandboxServer, resource: str) -> list[int]:
    """The community of every request to ``/communities/{id}/<resource>``, in log order."""
    out = []
    for path, _ in api_gets(server, "/" + resource):
        match = COMMUNITY_PATH.search(path)
        if match:
            out.append(int(match.group(1)))
    return out


def simulator(server: SandboxServer) -> Any:
    """The served casavi Community simulator (its test hooks)."""
    return server.state.vendor(V)


def config_file(path: Path, url: str, **settings: Any) -> Path:
    """A crmql config TOML for the sandbox served at ``url``, ``settings`` added to this vendor's connection."""
    lines = []
    for name, conn in sandbox_config(url).connections.items():
        merged = {**conn.settings, **(settings if name == V else {})}
        lines += [f"[connections.{name}]", f"vendor = {json.dumps(conn.vendor)}"]
        lines += [f"{key} = {json.dumps(value)}" for key, value in merged.items()]
        lines.append("")
    path.write_text("\n".join(lines), encoding="utf-8")
    return path


def ids(frame: Any) -> list[int]:
    return [int(i) for i in frame["id"]]


def no_secret(texts: Iterable[str], tokens: Iterable[str] = ()) -> None:
    """No sandbox credential of this vendor (refresh token) nor an issued token in ``texts``."""
    from crmql.sandbox import CREDENTIALS

    secrets = [CREDENTIALS[V]["refresh_token"], *tokens]
    for text in texts:
        for secret in secrets:
            assert secret not in text, f"a secret leaked: ...{secret[:6]}... in\n{text[-2000:]}"


