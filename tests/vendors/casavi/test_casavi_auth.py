"""casavi Manager authentication over real HTTP against the simulator (vendor-notes section 4,
ambiguity 22; the contract in the connector's docstring):

* ``POST /v2/authenticate`` ``{key, secret}`` -> ``{token, expiresAt}``, sent as the header
  ``token`` and cached: statements of one session share one token;
* near ``expiresAt`` the token is renewed with ``{apiKey, token}`` at ``/v2/authenticate/refresh``
  (a path crmql chose: the docs list the call without it); where the vendor has no such path
  (variant ``casavi.refresh=absent``: 404) crmql authenticates again;
* a 401 mid-scan (every token revoked) authenticates once more and the scan completes;
* a wrong secret is one clear error (exit code 3, the vendor named) without the secret in it.
"""

from __future__ import annotations

import time
from typing import Any

import pytest

import crmql
from crmql.sandbox import CREDENTIALS, SandboxServer, records

from contract.kit import session_for

from vendors.casavi.spec import SPEC

AUTH = "/casavi/v2/authenticate"
REFRESH = "/casavi/v2/authenticate/refresh"
PAGES = "/casavi/v2/properties"
PROPERTIES = sorted(r["id"] for r in records("casavi", "properties", 42))
QUERY = "SELECT id FROM casavi.properties"


def _auth(session: Any) -> Any:
    """The connection's token cache (the KeySecretTokenAuth flow)."""
    auth = session.connector("casavi").http.auth
    assert type(auth).__name__ == "KeySecretTokenAuth", type(auth)
    return auth


def _posts(server: SandboxServer, path: str) -> list[int]:
    return [s for m, p, s in server.request_log if m == "POST" and p == path]


def _ids(session: Any) -> list[str]:
    return sorted(str(i) for i in session.query(QUERY)["id"])


def test_one_token_serves_every_statement(sandbox: SandboxServer) -> None:
    with session_for(SPEC, sandbox.url) as session:
        assert _ids(session) == PROPERTIES
        assert _ids(session) == PROPERTIES
        assert _auth(session).header == "token"
    assert _posts(sandbox, AUTH) == [200]
    pages = [s for m, p, s in sandbox.request_log if p == PAGES]
    assert pages and set(pages) == {200}  # the token header was accepted at once


def _expire_soon(session: Any) -> None:
    """Move the cached token to its refresh time (as a month would): the next request renews it."""
    cached = _auth(session)._cached
    assert cached is not None
    cached.refresh_at = time.monotonic() - 1


def test_the_token_is_renewed_near_expires_at(sandbox: SandboxServer) -> None:
    sandbox.settings.token_ttl_s = 40
    with session_for(SPEC, sandbox.url) as session:
        assert _ids(session) == PROPERTIES
        cached = _auth(session)._cached
        # expiresAt was read: renewed before its 40 s run out (not after the default hour)
        assert time.monotonic() < cached.refresh_at < time.monotonic() + 40
        first = cached.token.value
        _expire_soon(session)
        assert _ids(session) == PROPERTIES
        assert _auth(session)._cached.token.value != first
    assert _posts(sandbox, AUTH) == [200]
    assert _posts(sandbox, REFRESH) == [200]
    assert 401 not in [s for _, p, s in sandbox.request_log if p == PAGES]


def test_without_a_refresh_call_crmql_authenticates_again(sandbox: SandboxServer) -> None:
    sandbox.settings.variants = {"casavi.refresh": "absent"}
    with session_for(SPEC, sandbox.url) as session:
        assert _ids(session) == PROPERTIES
        _expire_soon(session)
        assert _ids(session) == PROPERTIES
    assert _posts(sandbox, REFRESH) == [404]
    assert _posts(sandbox, AUTH) == [200, 200]


def test_a_401_mid_scan_authenticates_once_more(sandbox: SandboxServer) -> None:
    with session_for(SPEC, sandbox.url, (("retry_base_s", 0.001), ("retry_cap_s", 0.01))) as session:
        session.query("SELECT id FROM casavi.properties LIMIT 1")  # the token first
        sandbox.reset_log()
        sandbox.settings.faults = "expire@2"  # every token revoked before the second page
        result = session.execute(QUERY)
        sandbox.settings.faults = ""
    got = [str(i) for i in result.frame["id"]]
    assert sorted(got) == PROPERTIES and len(got) == len(set(got))
    pages = [s for m, p, s in sandbox.request_log if p == PAGES]
    assert pages.count(401) == 1 and result.stats.pages <= pages.count(200) <= result.stats.pages + 3  # look-ahead
    assert _posts(sandbox, AUTH) == [200]  # exactly one new token
    assert _posts(sandbox, REFRESH) == []  # a refused token is replaced, not refreshed


def test_a_wrong_secret_is_one_clear_error(sandbox: SandboxServer) -> None:
    wrong = "wrong-casavi-secret-7f3a9c"
    with session_for(SPEC, sandbox.url, (("secret", wrong),)) as session:
        with pytest.raises(crmql.ConnectorError) as info:
            session.query(QUERY)
    error = info.value
    message = f"{error}\n{getattr(error, 'hint', '') or ''}"
    assert isinstance(error, crmql.AuthenticationError), repr(error)
    assert error.exit_code == 3 and "casavi" in message
    assert wrong not in message and CREDENTIALS["casavi"]["secret"] not in message
    assert "Traceback" not in message
    assert _posts(sandbox, AUTH) == [401]  # refused once, not retried
    assert [p for _, p, _ in sandbox.request_log if p == PAGES] == []
