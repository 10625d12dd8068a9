"""casavi Community authentication over real HTTP against the simulator (the docs: an
``Authorization`` header, OpenID Connect through ``/.well-known/openid-configuration``; vendor-notes
section 4):

* the first statement discovers the token endpoint (relative to the base URL: the issuer is
  ``<root>/casavi_community``) and refreshes there once; later statements reuse the access token;
* an access token refused mid-scan (the ``expire`` fault) is refreshed once and the scan completes;
  so is one past its lifetime (``token_ttl_s``);
* with rotation (``casavi_community.refresh_rotation=rotate``) every refresh answers a new refresh
  token and spends the one used: crmql keeps the new one, so a second refresh succeeds;
* a wrong refresh token is one clear AuthenticationError (exit code 3, the vendor named, no API
  request, no secret in it).
"""

from __future__ import annotations

import time
from typing import Any

import pytest

import crmql
from crmql.sandbox import CREDENTIALS, SandboxServer

from contract.kit import session_for

from vendors.casavi_community.spec import SPEC
from vendors.casavi_community.support import (API, DISCOVERY, FAST, TOKEN, V, api_gets, ids, no_secret, of,
                                              simulator)

QUERY = f"SELECT id FROM {V}.notifications WHERE community_id IN (12, 15, 18)"
WANT = sorted(r["id"] for c in (12, 15, 18) for r in of("notifications", c))


def _calls(server: SandboxServer, path: str) -> list[int]:
    return [s for _, p, s in server.request_log if p == path]


def test_discovery_then_one_refresh_serves_every_statement(sandbox: SandboxServer) -> None:
    with session_for(SPEC, sandbox.url) as session:
        assert sorted(ids(session.query(QUERY))) == WANT
        assert sorted(ids(session.query(QUERY))) == WANT
    assert _calls(sandbox, DISCOVERY) == [200]
    assert _calls(sandbox, TOKEN) == [200]
    statuses = {s for _, s in api_gets(sandbox)}
    assert statuses == {200}, statuses  # the bearer token was accepted at once


def test_a_refused_token_is_refreshed_once(sandbox: SandboxServer) -> None:
    with session_for(SPEC, sandbox.url, FAST) as session:
        session.query(f"SELECT id FROM {V}.units WHERE community_id = 1")  # the token first
        sandbox.reset_log()
        sandbox.settings.faults = "expire@2"  # every token revoked before the second request
        result = session.execute(QUERY)
        sandbox.settings.faults = ""
    got = ids(result.frame)
    assert sorted(got) == WANT and len(got) == len(set(got))
    assert [s for _, s in api_gets(sandbox)].count(401) >= 1
    assert _calls(sandbox, TOKEN) == [200]  # exactly one new token
    assert _calls(sandbox, DISCOVERY) == []  # the endpoint was remembered


def test_an_expired_token_is_refreshed(sandbox: SandboxServer) -> None:
    sandbox.settings.token_ttl_s = 1
    with session_for(SPEC, sandbox.url, FAST) as session:
        assert sorted(ids(session.query(QUERY))) == WANT
        time.sleep(1.2)  # the token's lifetime runs out (not a timing assert: the next query needs a new one)
        assert sorted(ids(session.query(QUERY))) == WANT
    tokens = _calls(sandbox, TOKEN)
    assert len(tokens) >= 2 and set(tokens) == {200}, tokens  # (a loaded machine may need one more)


@pytest.fixture
def rotating(sandbox: SandboxServer) -> Any:
    """The sandbox under ``refresh_rotation=rotate``; the spent refresh tokens forgotten afterwards
    (the configured one is spent by the first refresh)."""
    sandbox.settings.variants = {f"{V}.refresh_rotation": "rotate"}
    yield sandbox
    simulator(sandbox).reset()


def test_rotated_refresh_tokens_are_kept(rotating: SandboxServer) -> None:
    sandbox = rotating
    with session_for(SPEC, sandbox.url, FAST) as session:
        assert sorted(ids(session.query(QUERY))) == WANT
        auth = session.connector(V).http.auth
        first = auth.refresh_token
        assert first != CREDENTIALS[V]["refresh_token"]  # the rotated one replaced it, in memory
        assert _calls(sandbox, TOKEN) == [200]
        sandbox.reset_log()
        sandbox.settings.faults = "expire@1"
        assert sorted(ids(session.query(QUERY))) == WANT  # refreshed with the rotated token
        sandbox.settings.faults = ""
        assert auth.refresh_token not in (first, CREDENTIALS[V]["refresh_token"])
    assert _calls(sandbox, TOKEN) == [200]  # the spent one was not sent again (that would be a 400)


def test_a_wrong_refresh_token_is_one_clear_error(sandbox: SandboxServer) -> None:
    wrong = "wrong-community-refresh-9x7q2w"
    with session_for(SPEC, sandbox.url, (("refresh_token", wrong),)) as session:
        with pytest.raises(crmql.ConnectorError) as info:
            session.query(QUERY)
    error: Any = info.value
    message = f"{error}\n{getattr(error, 'hint', '') or ''}"
    assert isinstance(error, crmql.AuthenticationError), repr(error)
    assert error.exit_code == 3 and "casavi Community" in message, message
    assert wrong not in message and "Traceback" not in message
    no_secret([message])
    assert _calls(sandbox, TOKEN) and set(_calls(sandbox, TOKEN)) <= {400, 401}  # refused, not retried forever
    assert len(_calls(sandbox, TOKEN)) == 1
    assert api_gets(sandbox) == []  # no API request without a token


def test_a_configured_access_token_is_used_first_until_refused(sandbox: SandboxServer) -> None:
    """``access_token`` (e.g. the registration's ``oidcAccessToken``) goes out first, with no
    discovery or token request; refused (401), crmql refreshes once and sends the request again."""
    stale = "stale-community-access-4k8m2p"
    with session_for(SPEC, sandbox.url, (*FAST, ("access_token", stale))) as session:
        frame = session.query(f"SELECT id FROM {V}.units WHERE community_id = 12")
    assert sorted(ids(frame)) == sorted(r["id"] for r in of("units", 12))
    log = [(p, s) for _, p, s in sandbox.request_log]
    assert log[0] == (f"{API}/units", 401), log  # the configured token first, before any discovery
    assert [s for p, s in log if p == TOKEN] == [200] and log[-1] == (f"{API}/units", 200), log


def test_an_access_token_alone_refused_is_one_clear_error(sandbox: SandboxServer) -> None:
    """A connection with only an ``access_token`` is allowed (``refresh_token`` OR ``access_token``);
    once that token is refused there is nothing to refresh with: one AuthenticationError."""
    from crmql.api.config import sandbox_config
    from crmql.api.session import Session

    stale = "stale-community-access-7c1v9b"
    config = sandbox_config(sandbox.url)
    settings = config.connections[V].settings
    settings.pop("refresh_token")
    settings.update(access_token=stale, **dict(FAST))
    with Session(config) as session:
        with pytest.raises(crmql.AuthenticationError) as info:
            session.query(f"SELECT id FROM {V}.units WHERE community_id = 12")
    message = f"{info.value}\n{info.value.hint or ''}"
    assert info.value.exit_code == 3 and "casavi Community" in message and "credentials" in message, message
    assert stale not in message
    assert [(p, s) for _, p, s in sandbox.request_log] == [(f"{API}/units", 401)]  # no discovery, no token call
