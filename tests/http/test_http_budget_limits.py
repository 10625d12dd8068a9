"""The request budget (``max_requests``) through a real Session on the sandbox: it is counted per
statement (scans roll up into their statement), fails clearly, and a new statement starts afresh."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from crmql import Session
from crmql.errors import RequestBudgetError
from crmql.sandbox import SandboxServer


def test_a_statement_past_the_budget_fails_and_the_next_starts_afresh(
    make_session: Callable[..., Session], sandbox: SandboxServer
) -> None:
    session = make_session()
    session.execute("SELECT id FROM azavista.contacts LIMIT 1")  # token and catalog: outside the budget test
    http = session.connector("azavista").http
    http.budget.limit = 5  # as max_requests = 5 would set it
    sandbox.reset_log()
    with pytest.raises(RequestBudgetError) as info:
        session.execute("SELECT * FROM azavista.contacts")  # 200 pages
    text = str(info.value)
    assert text.startswith("Azavista (azavista.contacts): request budget of 5 requests for one statement exceeded")
    assert "max_requests" in text and info.value.exit_code == 3
    assert len(sandbox.request_log) <= 5
    result = session.execute("SELECT id FROM azavista.contacts LIMIT 3")  # a new statement: a new budget
    assert len(result.frame) == 3 and result.stats.requests <= 5


def test_the_default_budget_leaves_a_full_scan_alone(make_session: Callable[..., Session]) -> None:
    session = make_session()
    result = session.execute("SELECT COUNT(*) AS n FROM azavista.contacts WHERE email NOT LIKE '%@gmail.com'")
    assert result.stats.requests > 100 and session.connector("azavista").http.budget.limit == 50_000
