"""The casavi Community simulator's authentication over real HTTP: the declared variants, OpenID
Connect discovery under the connection's base URL, the refresh_token grant under both rotation
readings, expiry and revocation, the bearer header and the user_session cookie, and registration."""

from __future__ import annotations

import base64
import json
import time
from collections.abc import Iterator

import httpx
import pytest

from crmql.sandbox import SandboxServer
from crmql.sandbox.casavi_community.spec import CLIENT_ID, REFRESH_TOKEN
from crmql.surfaces.cli import main
from casavi_community_support import CONTRACT_VARIANTS, VENDOR, bearer, refresh

TICKETS = "/api/v1/tickets?community_id=12"
REGISTRATION = {"firstName": "Max", "lastName": "Mustermann", "email": "max@mustermann.com", "clientId": CLIENT_ID,
                "inviteCode": "SANDBOX", "providerKey": "somekey", "sub": "u00001"}


@pytest.fixture
def client(server: SandboxServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server.base_url(VENDOR), timeout=30) as c:
        yield c


def test_sandbox_variants_lists_the_contracts_readings_with_their_sources(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["sandbox", "variants", "--format", "json"]) == 0
    rows = [r for r in json.loads(capsys.readouterr().out) if r["vendor"] == VENDOR]
    assert {r["key"]: r["values"] for r in rows} == CONTRACT_VARIANTS
    assert all(r["default"] == r["values"][0] and r["meaning"] and
               ("vendor-notes" in r["source"] or "casavi-community-api" in r["source"]) for r in rows)


def test_discovery_names_the_base_url_as_issuer_and_its_token_endpoint(server: SandboxServer,
                                                                      client: httpx.Client) -> None:
    answer = client.get("/.well-known/openid-configuration")  # no token needed
    assert answer.status_code == 200
    doc = answer.json()
    issuer = server.base_url(VENDOR)
    assert doc["issuer"] == issuer and doc["token_endpoint"] == f"{issuer}/oidc/token"
    assert {"authorization_endpoint", "jwks_uri", "response_types_supported", "subject_types_supported",
            "id_token_signing_alg_values_supported", "grant_types_supported"} <= set(doc)
    assert "refresh_token" in doc["grant_types_supported"]
    assert client.get(doc["jwks_uri"]).json() == {"keys": []}


def test_a_refresh_grant_answers_a_bearer_token_that_opens_the_api(server: SandboxServer, client: httpx.Client) -> None:
    server.settings.token_ttl_s = 600
    assert client.get(TICKETS).status_code == 401
    answer = refresh(client)
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["token_type"] == "Bearer" and body["expires_in"] == 600 and "refresh_token" not in body  # stable
    api = client.get(TICKETS, headers={"Authorization": f"Bearer {body['access_token']}"})
    assert api.status_code == 200 and api.json()
    assert refresh(client).status_code == 200  # the configured refresh token stays valid
    basic = base64.b64encode(f"{CLIENT_ID}:ignored-secret".encode()).decode()
    via_basic = client.post("/oidc/token", data={"grant_type": "refresh_token", "refresh_token": REFRESH_TOKEN},
                            headers={"Authorization": f"Basic {basic}"})
    assert via_basic.status_code == 200


@pytest.mark.parametrize("form, status, error", [
    ({"grant_type": "refresh_token", "refresh_token": REFRESH_TOKEN, "client_id": "someone-else"}, 401, "invalid_client"),
    ({"refresh_token": REFRESH_TOKEN, "client_id": CLIENT_ID}, 400, "invalid_request"),
    ({"grant_type": "client_credentials", "client_id": CLIENT_ID}, 400, "unsupported_grant_type"),
    ({"grant_type": "refresh_token", "refresh_token": "not-a-token", "client_id": CLIENT_ID}, 400, "invalid_grant"),
    ({"grant_type": "refresh_token", "client_id": CLIENT_ID}, 400, "invalid_request"),
])
def test_the_token_endpoint_refuses_with_oauth_errors(client: httpx.Client, form: dict[str, str], status: int,
                                                      error: str) -> None:
    answer = client.post("/oidc/token", data=form)
    assert answer.status_code == status and answer.json()["error"] == error and answer.json()["error_description"]


def test_rotation_answers_a_new_refresh_token_and_spends_the_one_used(server: SandboxServer,
                                                                      client: httpx.Client) -> None:
    server.settings.variants = {"casavi_community.refresh_rotation": "rotate"}
    first = refresh(client)
    assert first.status_code == 200
    rotated = first.json()["refresh_token"]
    assert rotated != REFRESH_TOKEN
    second = refresh(client, rotated)
    assert second.status_code == 200 and second.json()["refresh_token"] not in (rotated, REFRESH_TOKEN)
    reused = refresh(client, rotated)
    assert reused.status_code == 400 and reused.json()["error"] == "invalid_grant"
    simulator = server.state.vendor(VENDOR)
    try:  # the configured token was spent by the first refresh, as a rotating identity provider does
        assert refresh(client).json()["error"] == "invalid_grant"
        server.settings.variants = {}
        assert refresh(client).status_code == 200  # under stable it is valid whatever rotate spent
    finally:
        simulator.auth.reset()
    server.settings.variants = {"casavi_community.refresh_rotation": "rotate"}
    assert refresh(client).status_code == 200  # reset: valid again
    server.settings.variants = {}
    assert refresh(client).status_code == 200


def test_access_tokens_expire_after_the_ttl_and_a_refresh_gets_a_new_one(server: SandboxServer,
                                                                         client: httpx.Client) -> None:
    server.settings.token_ttl_s = 0.2
    headers = bearer(client)
    time.sleep(0.4)
    assert client.get(TICKETS, headers=headers).json() == {"message": "Unauthorized"}
    server.settings.token_ttl_s = 3599
    assert client.get(TICKETS, headers=bearer(client)).status_code == 200


def test_the_expire_fault_revokes_tokens_and_the_token_endpoint_is_never_faulted(server: SandboxServer,
                                                                                 client: httpx.Client) -> None:
    headers = bearer(client)
    server.settings.faults = "expire@1,500@2"
    assert client.get(TICKETS, headers=headers).status_code == 401
    assert refresh(client).status_code == 200  # not counted: request 2 is the next API call
    assert client.get(TICKETS, headers=bearer(client)).status_code == 500


@pytest.mark.parametrize("headers", [{}, {"Authorization": "Bearer nope"}, {"Authorization": "Basic abc"}])
def test_api_requests_without_a_valid_token_are_401(client: httpx.Client, headers: dict[str, str]) -> None:
    for path in (TICKETS, "/api/v1/communities/12/notifications", "/api/v1/units", "/api/v1/tickets/1001",
                 "/api/v1/communities/999/posts"):
        answer = client.get(path, headers=headers)
        assert answer.status_code == 401 and answer.json() == {"message": "Unauthorized"}, path


def test_the_user_session_cookie_is_the_documented_alternative(server: SandboxServer) -> None:
    with httpx.Client(base_url=server.base_url(VENDOR), timeout=30) as c:
        token = refresh(c).json()["access_token"]
        c.cookies.set("user_session", token)
        assert c.get(TICKETS).status_code == 200
        c.cookies.set("user_session", "stale")
        assert c.get(TICKETS).status_code == 401


def test_registration_answers_the_docs_shape_with_working_tokens(client: httpx.Client) -> None:
    answer = client.post("/api/v1/oidc/register", json=REGISTRATION)
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert set(body) == {"oidcIdToken", "oidcAccessToken", "oidcRefreshToken", "contactExtRef"}
    assert body["contactExtRef"].startswith("C-9")
    assert client.get(TICKETS, headers={"Authorization": f"Bearer {body['oidcAccessToken']}"}).status_code == 200
    assert refresh(client, body["oidcRefreshToken"]).status_code == 200


@pytest.mark.parametrize("change", [{"inviteCode": "WRONG"}, {"clientId": "other"}, {"email": ""},
                                    {"firstName": None}])
def test_registration_refuses_a_wrong_invite_code_client_or_field(client: httpx.Client, change: dict) -> None:
    answer = client.post("/api/v1/oidc/register", json={**REGISTRATION, **change})
    assert answer.status_code == 400 and answer.json()["message"]
    assert client.post("/api/v1/oidc/register", content=b"[1]").status_code == 400
