"""Shared helpers for the HTTP layer tests: mock transports and fast retry policies."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
import pytest

from crmql.http import HttpClient, RetryPolicy

FAST = RetryPolicy(backoff_base_s=0.001, backoff_cap_s=0.005)


@pytest.fixture
def make_client() -> Callable[..., HttpClient]:
    """Build an HttpClient on a MockTransport around ``handler`` with a fast retry policy."""

    def make(handler: Callable[[httpx.Request], Any], **kwargs: Any) -> HttpClient:
        kwargs.setdefault("vendor", "acme")
        kwargs.setdefault("base_url", "http://api.test/acme")
        kwargs.setdefault("retry", FAST)
        return HttpClient(transport=httpx.MockTransport(handler), **kwargs)

    return make
