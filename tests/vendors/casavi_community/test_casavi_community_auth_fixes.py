"""casavi Community authentication fixes after the issue #12 review (B #5, B #6), over real HTTP
against the simulator:

* under ``casavi_community.refresh_rotation=rotate`` the identity provider spends the configured
  refresh token too; crmql keeps the rotated one only in memory, so a second session (a second
  process) from the same config is refused, with a hint saying why and what to do;
* a refresh_token without client_id is a ConfigError before any request; a token endpoint
  answering ``invalid_client`` names client_id in the hint;
* a refused access_token with no refresh_token says exactly that and how to fix it.
"""

from __future__ import annotations

import pytest

from crmql.errors import AuthenticationError, ConfigError
from crmql.sandbox import SandboxServer

from contract.kit import session_for

from vendors.casavi_community.spec import SPEC
from vendors.casavi_community.support import TOKEN, V, api_gets, no_secret

QUERY = f"SELECT id FROM {V}.units WHERE community_id = 1"


def _tokens(server: SandboxServer) -> list[int]:
    return [s for _, p, s in server.request_log if p == TOKEN]


def test_two_sessions_from_one_config_under_rotation(sandbox: SandboxServer) -> None:
    sandbox.settings.variants = {f"{V}.refresh_rotation": "rotate"}
    simulator = sandbox.state.vendor(V)
    try:
        with session_for(SPEC, sandbox.url) as first:
            assert len(first.query(QUERY)) > 0
        with session_for(SPEC, sandbox.url) as second, pytest.raises(AuthenticationError) as caught:
            second.query(QUERY)
        error = caught.value
        assert "refused the refresh token" in error.message
        assert "rotates refresh tokens" in (error.hint or "") and "update refresh_token" in (error.hint or "")
        assert _tokens(sandbox) == [200, 400]
        no_secret([str(error), error.hint or ""])
    finally:
        simulator.auth.reset()


def test_a_refresh_token_without_client_id_is_a_config_error(sandbox: SandboxServer) -> None:
    with session_for(SPEC, sandbox.url, (("client_id", None),)) as session, \
            pytest.raises(ConfigError, match="refresh_token is set but client_id is not") as caught:
        session.query(QUERY)
    assert "client_id" in (caught.value.hint or "")
    assert sandbox.request_log == []


def test_an_unknown_client_names_client_id(sandbox: SandboxServer) -> None:
    with session_for(SPEC, sandbox.url, (("client_id", "not-our-app"),)) as session, \
            pytest.raises(AuthenticationError, match="refused the client") as caught:
        session.query(QUERY)
    assert "client_id" in (caught.value.hint or "")
    assert _tokens(sandbox) == [401] and api_gets(sandbox) == []


def test_a_refused_access_token_without_refresh_token_says_so(sandbox: SandboxServer) -> None:
    settings = (("refresh_token", None), ("access_token", "stale-community-access-5k2p"))
    with session_for(SPEC, sandbox.url, settings) as session, pytest.raises(AuthenticationError) as caught:
        session.query(QUERY)
    hint = caught.value.hint or ""
    assert "access_token was refused" in hint and "no refresh_token is set" in hint
    assert "a fresh access_token, or refresh_token and client_id" in hint
    assert [s for _, _, s in sandbox.request_log] == [401]  # no discovery, no token call
