"""Fixtures for the sandbox tests: one live server per test module."""

from __future__ import annotations

from typing import Iterator

import httpx
import pytest

from crmql.sandbox import SandboxServer, SandboxSettings, serve_in_thread
from sandbox_helpers import fetch_token


@pytest.fixture(scope="module")
def server() -> Iterator[SandboxServer]:
    with serve_in_thread(SandboxSettings()) as srv:
        yield srv


@pytest.fixture(autouse=True)
def _fresh_settings(server: SandboxServer) -> Iterator[None]:
    """Restore default behaviour and an empty log around every test."""
    def reset() -> None:
        server.settings.faults = ""
        server.settings.latency_ms = 0
        server.settings.token_ttl_s = 3599
        server.settings.retry_after = "1"
        server.settings.variants = {}
        server.settings.seed = 42
        server.reset_log()

    reset()
    yield
    reset()


@pytest.fixture
def client(server: SandboxServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=f"{server.url}/azavista", timeout=10) as c:
        yield c


@pytest.fixture
def auth(client: httpx.Client) -> dict[str, str]:
    return {"Authorization": f"Bearer {fetch_token(client)}"}
