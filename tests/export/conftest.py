"""Fixtures for the export tests."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

#: retries wait a millisecond, never the production backoff
FAST = {"retry_base_s": 0.001, "retry_cap_s": 0.01}


@pytest.fixture
def session(make_session: Callable[..., Any]) -> Any:
    """A session on the module's served sandbox, with fast retries."""
    return make_session(**FAST)
