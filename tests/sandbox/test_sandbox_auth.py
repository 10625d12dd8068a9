"""Azavista simulator OAuth flows and bearer-token enforcement over real HTTP."""

from __future__ import annotations

import base64
import time

import httpx

from crmql.sandbox import SandboxServer
from sandbox_helpers import AZ, fetch_token, search

TOKEN = "/3.0/oauth/token"


def _password_grant(client: httpx.Client) -> httpx.Response:
    return client.post(TOKEN, data={"grant_type": "password", "client_id": AZ["client_id"],
                                    "client_secret": AZ["client_secret"],
                                    "username": AZ["username"], "password": AZ["password"]})


def test_client_credentials(client: httpx.Client) -> None:
    resp = client.post(TOKEN, data={"grant_type": "client_credentials",
                                    "client_id": AZ["client_id"], "client_secret": AZ["client_secret"]})
    assert resp.status_code == 200
    body = resp.json()
    assert body["token_type"] == "Bearer" and body["expires_in"] == 3599
    assert "refresh_token" not in body
    assert search(client, {"Authorization": f"Bearer {body['access_token']}"}, "events").status_code == 200


def test_client_credentials_via_basic_auth(client: httpx.Client) -> None:
    basic = base64.b64encode(f"{AZ['client_id']}:{AZ['client_secret']}".encode()).decode()
    resp = client.post(TOKEN, data={"grant_type": "client_credentials"},
                       headers={"Authorization": f"Basic {basic}"})
    assert resp.status_code == 200 and resp.json()["access_token"]


def test_password_and_refresh_flow(client: httpx.Client) -> None:
    first = _password_grant(client)
    assert first.status_code == 200
    body = first.json()
    assert body["token_type"] == "Bearer" and body["refresh_token"] and body["access_token"]
    refreshed = client.post(TOKEN, data={"grant_type": "refresh_token", "client_id": AZ["client_id"],
                                         "client_secret": AZ["client_secret"],
                                         "refresh_token": body["refresh_token"]})
    assert refreshed.status_code == 200
    new = refreshed.json()
    assert new["access_token"] != body["access_token"]
    assert new["refresh_token"] != body["refresh_token"]
    assert search(client, {"Authorization": f"Bearer {new['access_token']}"}, "contacts").status_code == 200
    reused = client.post(TOKEN, data={"grant_type": "refresh_token", "client_id": AZ["client_id"],
                                      "client_secret": AZ["client_secret"],
                                      "refresh_token": body["refresh_token"]})
    assert reused.status_code == 400 and reused.json()["error"] == "invalid_grant"


def test_token_errors(client: httpx.Client) -> None:
    wrong_client = client.post(TOKEN, data={"grant_type": "client_credentials",
                                            "client_id": AZ["client_id"], "client_secret": "nope"})
    assert wrong_client.status_code == 401
    assert wrong_client.json()["error"] == "invalid_client" and wrong_client.json()["error_description"]
    wrong_password = client.post(TOKEN, data={"grant_type": "password", "client_id": AZ["client_id"],
                                              "client_secret": AZ["client_secret"],
                                              "username": AZ["username"], "password": "x"})
    assert wrong_password.status_code == 400 and wrong_password.json()["error"] == "invalid_grant"
    unknown_refresh = client.post(TOKEN, data={"grant_type": "refresh_token", "client_id": AZ["client_id"],
                                               "client_secret": AZ["client_secret"], "refresh_token": "x"})
    assert unknown_refresh.status_code == 400 and unknown_refresh.json()["error"] == "invalid_grant"
    other_grant = client.post(TOKEN, data={"grant_type": "authorization_code", "client_id": AZ["client_id"],
                                           "client_secret": AZ["client_secret"]})
    assert other_grant.status_code == 400 and other_grant.json()["error"] == "unsupported_grant_type"


def test_missing_or_bad_token_is_401(client: httpx.Client) -> None:
    for headers in ({}, {"Authorization": "Bearer not-a-token"}, {"Authorization": "Basic abc"}):
        resp = search(client, headers, "events")
        assert resp.status_code == 401
        assert resp.json()["error"] == "invalid_token" and resp.json()["error_description"]
    assert client.get("/3.0/event/whatever").status_code == 401


def test_token_expires(server: SandboxServer, client: httpx.Client) -> None:
    server.settings.token_ttl_s = 0.3
    resp = client.post(TOKEN, data={"grant_type": "client_credentials",
                                    "client_id": AZ["client_id"], "client_secret": AZ["client_secret"]})
    assert resp.json()["expires_in"] == 0
    headers = {"Authorization": f"Bearer {resp.json()['access_token']}"}
    assert search(client, headers, "events").status_code == 200
    time.sleep(0.35)
    expired = search(client, headers, "events")
    assert expired.status_code == 401
    assert "expired" in expired.json()["error_description"]
    server.settings.token_ttl_s = 3599
    assert search(client, {"Authorization": f"Bearer {fetch_token(client)}"}, "events").status_code == 200
