"""Helpers of the Voyzu simulator tests: the session, a fast and small simulator per test, and
the variants the lead's contract fixes."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from crmql.sandbox import SandboxServer
from crmql.sandbox.voyzu.simulator import VoyzuSimulator
from crmql.sandbox.voyzu.spec import LOGIN, SESSION_COOKIE, SESSION_ID

VENDOR = "voyzu"
UTC_MS = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$")
#: contacts a test's simulator serves (the first N of the 8,000: keeps the tests cheap)
SMALL = 400
#: the variants the lead's contract fixes (names, values, default first)
CONTRACT_VARIANTS = {
    "voyzu.paging": ["datatable", "page", "none"], "voyzu.class_names": ["api_doc", "front_end"],
    "voyzu.search_fields": ["most", "names_emails"],
    "voyzu.search_match": ["substring_ci", "word_prefix", "case_sensitive"],
    "voyzu.poll_path": ["request-status", "api-request", "request"], "voyzu.async_result": ["inline", "link"],
    "voyzu.failure_status": ["FAILED", "ERROR"], "voyzu.gateway": ["default", "strict"],
    "voyzu.max_length": ["1000", "100"], "voyzu.spreadsheets": ["array", "object"],
    "voyzu.subscription": ["paid", "free"], "voyzu.session_in": ["both", "cookie_only"],
}
__all__ = ["CONTRACT_VARIANTS", "LOGIN", "SESSION_COOKIE", "SESSION_ID", "SMALL", "UTC_MS", "VENDOR",
           "client_of", "poll_until", "simulator"]


def simulator(server: SandboxServer) -> VoyzuSimulator:
    """The server's Voyzu simulator (its settings and test hooks)."""
    sim: VoyzuSimulator = server.state.vendor(VENDOR)
    return sim


@pytest.fixture
def sim(server: SandboxServer) -> Iterator[VoyzuSimulator]:
    """The simulator reset, serving :data:`SMALL` contacts with fast async jobs; reset again after."""
    found = simulator(server)
    found.reset()
    found.contacts = SMALL
    found.jobs.async_base_ms, found.jobs.async_ms_per_1000 = 60, 100
    yield found
    found.reset()


def client_of(server: SandboxServer, session: str | None = SESSION_ID) -> httpx.Client:
    """A client on the simulator's base URL sending ``session`` as the session cookie."""
    cookies = {SESSION_COOKIE: session} if session else None
    return httpx.Client(base_url=server.base_url(VENDOR), cookies=cookies, timeout=30)


@pytest.fixture
def api(server: SandboxServer, sim: VoyzuSimulator) -> Iterator[httpx.Client]:
    """A client with the configured session (the simulator reset and small)."""
    with client_of(server) as c:
        yield c


def poll_until(client: httpx.Client, path: str, done: Any, timeout_s: float = 20) -> list[dict[str, Any]]:
    """POST ``path`` until ``done(status)``; every status seen (bounded: fails after ``timeout_s``)."""
    seen: list[dict[str, Any]] = []
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        answer = client.post(path)
        assert answer.status_code == 200, answer.text
        seen.append(answer.json())
        if done(seen[-1]):
            return seen
        time.sleep(0.02)
    raise AssertionError(f"{path} never finished: last {seen[-1] if seen else None}")
