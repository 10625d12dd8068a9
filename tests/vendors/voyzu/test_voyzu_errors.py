"""Voyzu's documented error codes over real HTTP against the simulator (one sandbox for the module):

* 402 (``voyzu.subscription=free`` on the spreadsheets): one plain error naming the paid subscription,
  not retried;
* 540 and 541 (Voyzu's custom errors, ``ErrorMessage`` bodies): retried like a 503 and then the
  answer is complete; retried out: one error without the vendor's ``ErrorMessage`` (the docs: it
  "should never be presented to the user"), which is logged (logger ``crmql.connectors.voyzu``) instead;
* 404 (a wrong base_url; Voyzu answers 404 to a wrong verb too): the path, the verb and the hint;
* 401: without ``login_values`` one error saying the session expired; with them one re-login
  (``POST /api/auth``) and the query completes; a wrong login is one error, tried once;
* the session in the query string (``send_session_as = "query"``, the dev server's parameter):
  served, never in crmql's logs; refused by a cookie-only server (``voyzu.session_in=cookie_only``).
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Any

import pytest

import crmql
from crmql.sandbox import SandboxServer

from vendors.voyzu.support import (AUTH, LOGIN, SEARCH, SESSION_ID, SHEETS, V, calls, raw, reset, session, simulator,
                                   statuses)

SHEETS_Q = f"SELECT id, name FROM {V}.spreadsheets"
INJECTED = "Injected error"  # the sandbox's ErrorMessage of a 540


@pytest.fixture
def voyzu(sandbox_server: SandboxServer) -> Iterator[SandboxServer]:
    reset(sandbox_server)
    yield sandbox_server
    reset(sandbox_server)


def sheet_ids() -> list[str]:
    return sorted(r["Id"] for r in raw("spreadsheets"))


def test_402_names_the_paid_subscription_and_is_not_retried(voyzu: SandboxServer) -> None:
    voyzu.settings.variants = {f"{V}.subscription": "free"}
    with session(voyzu) as s:
        with pytest.raises(crmql.ConnectorError) as info:
            s.query(SHEETS_Q)
    message = str(info.value)
    assert "paid Voyzu subscription" in message and "402" in message, message
    assert "Traceback" not in message
    assert statuses(voyzu, SHEETS) == [402]  # not retried


@pytest.mark.parametrize("kind", ["540", "541"])
def test_540_and_541_are_retried_and_the_answer_is_complete(voyzu: SandboxServer, kind: str) -> None:
    with session(voyzu) as s:
        s.query(SHEETS_Q)  # warm: the fault lands on the list itself
        voyzu.reset_log()
        voyzu.settings.faults = f"{kind}@1"
        result = s.execute(SHEETS_Q)
    assert sorted(str(i) for i in result.frame["id"]) == sheet_ids()
    assert result.stats.retries >= 1
    assert statuses(voyzu, SHEETS) == [int(kind), 200]


def test_retried_out_the_error_hides_the_error_message_and_logs_it(voyzu: SandboxServer,
                                                                  caplog: pytest.LogCaptureFixture) -> None:
    with session(voyzu, max_attempts=2) as s:
        s.query(SHEETS_Q)
        voyzu.reset_log()
        voyzu.settings.faults = "540=1.0"
        with caplog.at_level(logging.DEBUG):
            with pytest.raises(crmql.ConnectorError) as info:
                s.query(SHEETS_Q)
    message = str(info.value) + " " + str(getattr(info.value, "hint", "") or "")
    assert "540" in message and "spreadsheets" in message, message
    assert INJECTED not in message, message
    assert statuses(voyzu, SHEETS) == [540, 540]
    logged = [r for r in caplog.records if r.name.startswith("crmql.connectors.voyzu")]
    assert any(INJECTED in r.getMessage() for r in logged), [r.getMessage() for r in caplog.records]


def test_404_names_the_path_and_points_at_base_url(voyzu: SandboxServer) -> None:
    with session(voyzu, base_url=voyzu.url + "/voyzu/v2") as s:
        with pytest.raises(crmql.ConnectorError) as info:
            s.query(SHEETS_Q)
    error = info.value
    text = str(error) + " " + str(getattr(error, "hint", "") or "")
    assert "Voyzu has no POST" in text and "/api/spreadsheets/list" in text, text
    assert "wrong HTTP verb" in text and "base_url" in text, text
    assert [s for _, s in calls(voyzu, "/v2/")].count(404) == 1  # not retried


def test_401_without_a_login_says_the_session_expired(voyzu: SandboxServer) -> None:
    with session(voyzu) as s:
        s.query(SHEETS_Q)
        voyzu.reset_log()
        voyzu.settings.faults = "expire@1"
        with pytest.raises(crmql.CrmqlError) as info:
            s.query(SHEETS_Q)
    message = str(info.value)
    assert "session was refused" in message and "expired" in message, message
    assert statuses(voyzu, SHEETS) == [401]
    assert calls(voyzu, AUTH) == []


def test_401_with_login_values_logs_in_once_and_completes(voyzu: SandboxServer) -> None:
    with session(voyzu, login_values=dict(LOGIN)) as s:
        s.query(SHEETS_Q)
        voyzu.reset_log()
        voyzu.settings.faults = "expire@1"
        frame = s.query(SHEETS_Q)
    assert sorted(str(i) for i in frame["id"]) == sheet_ids()
    assert statuses(voyzu, SHEETS) == [401, 200]
    assert statuses(voyzu, AUTH) == [200]


def test_a_wrong_login_is_one_clear_error(voyzu: SandboxServer) -> None:
    wrong: dict[str, Any] = {**LOGIN, "Password": "not-the-password"}
    with session(voyzu, login_values=wrong) as s:
        s.query(SHEETS_Q)
        voyzu.reset_log()
        voyzu.settings.faults = "expire@1"
        with pytest.raises(crmql.CrmqlError) as info:
            s.query(SHEETS_Q)
    message = str(info.value)
    assert "not-the-password" not in message and "Traceback" not in message
    assert statuses(voyzu, AUTH) == [401]  # once, not in a loop


def test_the_session_in_the_query_string_works_and_never_reaches_a_log(voyzu: SandboxServer,
                                                                      caplog: pytest.LogCaptureFixture) -> None:
    """``send_session_as = "query"`` (the dev server's ``?voyzu-session-id=``): the rows come, and the
    session id is in no line of crmql's logs (its URLs are logged at DEBUG), nor in httpx's and
    httpcore's own (httpx's INFO line "HTTP Request: POST <url>" names the full URL: crmql redacts it)."""
    with caplog.at_level(logging.DEBUG):
        with session(voyzu, send_session_as="query") as s:
            frame = s.query(SHEETS_Q)
    assert sorted(str(i) for i in frame["id"]) == sheet_ids()
    ours = [r for r in caplog.records if r.name.startswith(("crmql", "httpx", "httpcore"))]
    assert ours and any(r.name == "httpx" for r in ours)
    assert not any(SESSION_ID in r.getMessage() for r in ours)


def test_a_server_that_takes_only_the_cookie_refuses_the_query_string(voyzu: SandboxServer) -> None:
    voyzu.settings.variants = {f"{V}.session_in": "cookie_only"}
    with session(voyzu, send_session_as="query") as s:
        with pytest.raises(crmql.CrmqlError) as info:
            s.query(SHEETS_Q)
    assert "session was refused" in str(info.value) and SESSION_ID not in str(info.value), str(info.value)
    assert "only as a cookie" in str(info.value) and 'remove send_session_as = "query"' in str(info.value)
    with session(voyzu) as s:  # the cookie (the default) is accepted
        assert sorted(str(i) for i in s.query(SHEETS_Q)["id"]) == sheet_ids()


def test_concurrent_pages_refused_with_one_old_query_session_log_in_once(voyzu: SandboxServer) -> None:
    """``send_session_as = "query"`` + ``login_values``: pages in flight together, all refused with the
    session the ``expire`` fault revoked, drop only that session: one login serves them all (a request
    in query placement carries its session in no header, so each 401 used to drop whatever session was
    current, the one another page had just obtained too, and log in again)."""
    simulator(voyzu).contacts = 2000
    with session(voyzu, send_session_as="query", login_values=LOGIN, page_size=100, concurrency=8) as s:
        assert len(s.query(f"SELECT id FROM {V}.contacts")) == 2000  # warm: the class, the first login-free scan
        voyzu.reset_log()
        voyzu.settings.faults = "expire@3"
        assert len(s.query(f"SELECT id FROM {V}.contacts")) == 2000
    assert statuses(voyzu, SEARCH).count(401) >= 2, statuses(voyzu, SEARCH)  # several pages met the old session
    assert statuses(voyzu, AUTH) == [200], statuses(voyzu, AUTH)
