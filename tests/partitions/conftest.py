"""One sandbox for the partition tests of a worker (package scope, not one per module): the
simulators build their seed data on first use, and both modules read every vendor."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from crmql.sandbox import SandboxServer, SandboxSettings, serve_in_thread


@pytest.fixture(scope="package")
def sandbox_server() -> Iterator[SandboxServer]:
    with serve_in_thread(SandboxSettings()) as server:
        yield server
