"""pytest fixtures for the hostile vendor: import them into a test module with
``from hostile.fixtures import hostile, hostile_server  # noqa: F401``.

* ``hostile_server`` (module scope): one :class:`~hostile.server.HostileVendor` and its catcher.
* ``hostile`` (per test): the same vendor, well-behaved and with an empty log before the test;
  after it, the test fails if any request carried credentials to the catcher.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from .server import HostileVendor

__all__ = ["hostile", "hostile_server"]


@pytest.fixture(scope="module")
def hostile_server() -> Iterator[HostileVendor]:
    vendor = HostileVendor()
    try:
        yield vendor
    finally:
        vendor.stop()


@pytest.fixture
def hostile(hostile_server: HostileVendor) -> Iterator[HostileVendor]:
    hostile_server.reset()
    yield hostile_server
    leaks = hostile_server.leaks()
    hostile_server.reset()
    assert not leaks, f"credentials sent off the vendor's origin: {leaks}"
