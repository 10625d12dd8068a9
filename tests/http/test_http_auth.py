"""OAuth token flows, 401 handling and static header auth."""

from __future__ import annotations

import asyncio
import base64
import itertools
import time
from collections.abc import Callable
from urllib.parse import parse_qs

import httpx
import pytest

from crmql.errors import AuthenticationError, VendorHTTPError
from crmql.http import HttpClient, OAuthClientCredentials, OAuthPassword, StaticHeaderAuth, run_sync
from crmql.http.auth import TokenAuth
from crmql.stats import QueryStats, collecting

MakeClient = Callable[..., HttpClient]


def form(request: httpx.Request) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(request.content.decode()).items()}


class Vendor:
    """A fake OAuth vendor: /oauth/token issues tok-1, tok-2...; /api/* needs the latest token."""

    def __init__(self, *, expires_in: float | None = 3600, secret: str = "right-secret",
                 token_delay_s: float = 0.01) -> None:
        self.expires_in = expires_in
        self.token_delay_s = token_delay_s
        self.secret = secret
        self.counter = itertools.count(1)
        self.valid: set[str] = set()
        self.grants: list[dict[str, str]] = []
        self.token_headers: list[httpx.Headers] = []
        self.api_auth: list[str | None] = []
        self.reject_refresh = False
        self.token_failures: list[int] = []  # statuses to answer the token endpoint with first

    async def __call__(self, request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/oauth/token"):
            await asyncio.sleep(self.token_delay_s)  # (also gives concurrent callers a chance to pile up)
            grant = form(request)
            self.grants.append(grant)
            self.token_headers.append(request.headers)
            if self.token_failures:
                return httpx.Response(self.token_failures.pop(0))
            secret = grant.get("client_secret")
            if secret is None and "authorization" in request.headers:
                secret = base64.b64decode(request.headers["authorization"].split()[1]).decode().split(":")[1]
            if secret != self.secret:
                return httpx.Response(401, json={"error": "invalid_client", "error_description": f"bad secret {secret}"})
            if grant["grant_type"] == "refresh_token" and self.reject_refresh:
                return httpx.Response(400, json={"error": "invalid_grant"})
            token = f"tok-{next(self.counter)}"
            self.valid = {token}
            body: dict[str, object] = {"access_token": token, "token_type": "bearer", "refresh_token": f"r-{token}"}
            if self.expires_in is not None:
                body["expires_in"] = self.expires_in
            return httpx.Response(200, json=body)
        header = request.headers.get("authorization")
        self.api_auth.append(header)
        if header is None or header.removeprefix("Bearer ") not in self.valid:
            return httpx.Response(401, json={"message": "token expired"})
        return httpx.Response(200, json={"auth": header})


def cc_auth(**kwargs: object) -> OAuthClientCredentials:
    return OAuthClientCredentials("/oauth/token", "my-id", kwargs.pop("secret", "right-secret"), **kwargs)  # type: ignore[arg-type]


def short_lived(auth: TokenAuth) -> TokenAuth:
    """``auth`` taking a lifetime of a second or two literally (the default floor is 10 s), so the
    refresh tests need not wait that long."""
    auth.min_lifetime_s = 0.5
    return auth


def test_token_fetched_once_for_20_concurrent_requests(make_client: MakeClient) -> None:
    vendor = Vendor()
    auth = cc_auth()
    client = make_client(vendor, auth=auth)

    async def burst() -> list[object]:
        return await asyncio.gather(*(client.request_json("GET", f"/api/e/{i}") for i in range(20)))

    stats = QueryStats()
    with collecting(stats):
        results = run_sync(burst())
    assert results == [{"auth": "Bearer tok-1"}] * 20
    assert len(vendor.grants) == 1 and auth.fetch_count == 1
    assert vendor.grants[0] == {"grant_type": "client_credentials", "client_id": "my-id", "client_secret": "right-secret"}
    assert vendor.token_headers[0]["content-type"] == "application/x-www-form-urlencoded"
    assert stats.requests == 21  # the token request counts too


def test_basic_client_authentication(make_client: MakeClient) -> None:
    vendor = Vendor()
    client = make_client(vendor, auth=cc_auth(send_as="basic", extra={"scope": "read"}),
                         headers={"Content-Type": "application/json"})
    run_sync(client.request("GET", "/api/x"))
    assert vendor.grants == [{"grant_type": "client_credentials", "scope": "read"}]
    assert vendor.token_headers[0]["authorization"].startswith("Basic ")
    assert vendor.token_headers[0]["content-type"] == "application/x-www-form-urlencoded"


def test_token_refreshed_when_near_expiry(make_client: MakeClient) -> None:
    vendor = Vendor(expires_in=1)
    client = make_client(vendor, auth=short_lived(cc_auth(refresh_margin_s=0.2)))  # margin = min(0.2, 0.1) = 0.1
    assert run_sync(client.request_json("GET", "/api/x")) == {"auth": "Bearer tok-1"}
    assert run_sync(client.request_json("GET", "/api/x")) == {"auth": "Bearer tok-1"}
    time.sleep(0.95)
    assert run_sync(client.request_json("GET", "/api/x")) == {"auth": "Bearer tok-2"}
    assert len(vendor.grants) == 2


def test_a_slow_vendor_gets_its_token_refreshed_earlier(make_client: MakeClient) -> None:
    # a 0.4 s token round trip: the margin grows to twice that (0.8 s of a 2 s token, not 0.2 s),
    # so no token is handed out that a request as slow as the token request could outlive
    vendor = Vendor(expires_in=2, token_delay_s=0.4)
    client = make_client(vendor, auth=short_lived(cc_auth(refresh_margin_s=60)))
    started = time.monotonic()
    assert run_sync(client.request_json("GET", "/api/x")) == {"auth": "Bearer tok-1"}
    # renewed from 1.2 s on (was 1.8 s): 1.5 s is inside the old margin, past the new one, 0.3 s either side
    time.sleep(max(0.0, started + 1.5 - time.monotonic()))
    assert run_sync(client.request_json("GET", "/api/x")) == {"auth": "Bearer tok-2"}


def test_missing_expires_in_defaults_to_an_hour(make_client: MakeClient) -> None:
    vendor = Vendor(expires_in=None)
    client = make_client(vendor, auth=cc_auth())
    for _ in range(3):
        run_sync(client.request("GET", "/api/x"))
    assert len(vendor.grants) == 1


@pytest.mark.parametrize("expires_in", [0, 1e-9, 9.5])
def test_a_lifetime_below_the_floor_is_the_default_not_a_token_per_request(make_client: MakeClient,
                                                                           expires_in: float) -> None:
    # issue 9 review, point 12: expires_in 0 (or 1e-9) fetched a new token for each of 20 requests
    vendor = Vendor(expires_in=expires_in)
    client = make_client(vendor, auth=cc_auth())
    for _ in range(20):
        assert run_sync(client.request_json("GET", "/api/x")) == {"auth": "Bearer tok-1"}
    assert len(vendor.grants) == 1
    # the vendor's token did expire after all: the 401 refreshes it, once
    vendor.valid = {"tok-2"}
    assert run_sync(client.request_json("GET", "/api/x")) == {"auth": "Bearer tok-2"}
    assert len(vendor.grants) == 2


def test_401_invalidates_and_retries_once_with_a_new_token(make_client: MakeClient) -> None:
    vendor = Vendor()
    client = make_client(vendor, auth=cc_auth())
    run_sync(client.request("GET", "/api/x"))
    vendor.valid = {"tok-999"}  # the vendor revokes tok-1 ...
    vendor.counter = itertools.count(999)  # ... and will issue tok-999 next
    stats = QueryStats()
    with collecting(stats):
        assert run_sync(client.request_json("GET", "/api/x")) == {"auth": "Bearer tok-999"}
    assert vendor.api_auth[-2:] == ["Bearer tok-1", "Bearer tok-999"]
    assert len(vendor.grants) == 2
    assert (stats.requests, stats.retries) == (3, 1)


def test_concurrent_401s_cause_one_token_fetch(make_client: MakeClient) -> None:
    vendor = Vendor()
    client = make_client(vendor, auth=cc_auth())
    run_sync(client.request("GET", "/api/x"))
    vendor.valid = set()  # revoke; the next grant issues tok-2

    async def burst() -> None:
        await asyncio.gather(*(client.request("GET", "/api/y") for _ in range(10)))

    run_sync(burst())
    assert len(vendor.grants) == 2


def test_401_twice_is_an_authentication_error(make_client: MakeClient) -> None:
    vendor = Vendor()

    async def always_401(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/oauth/token"):
            return await vendor(request)
        return httpx.Response(401, json={"message": "no access for you"})

    client = make_client(always_401, auth=cc_auth())
    with pytest.raises(AuthenticationError) as info:
        run_sync(client.request("GET", "/api/x", table="acme.events"))
    assert info.value.status == 401
    assert str(info.value).startswith("acme (acme.events): authentication failed [HTTP 401]: no access for you")
    assert len(vendor.grants) == 2


def test_oauth_password_uses_refresh_token_then_falls_back(make_client: MakeClient) -> None:
    vendor = Vendor(expires_in=1)
    auth = OAuthPassword("/oauth/token", "my-id", "right-secret", "bob", "bobs-password", refresh_margin_s=0.5)
    client = make_client(vendor, auth=short_lived(auth))
    run_sync(client.request("GET", "/api/x"))
    assert vendor.grants[0] == {
        "grant_type": "password", "client_id": "my-id", "client_secret": "right-secret",
        "username": "bob", "password": "bobs-password",
    }
    time.sleep(0.95)
    run_sync(client.request("GET", "/api/x"))
    assert vendor.grants[1] == {
        "grant_type": "refresh_token", "client_id": "my-id", "client_secret": "right-secret", "refresh_token": "r-tok-1",
    }
    vendor.reject_refresh = True
    vendor.valid = set()  # force a 401 -> invalidate -> refresh grant (refused) -> password grant
    assert run_sync(client.request_json("GET", "/api/x")) == {"auth": "Bearer tok-3"}
    assert [g["grant_type"] for g in vendor.grants] == ["password", "refresh_token", "refresh_token", "password"]


def test_bad_client_secret_is_an_authentication_error_without_the_secret(make_client: MakeClient) -> None:
    vendor = Vendor()
    client = make_client(vendor, auth=cc_auth(secret="wrong-secret-123"))
    with pytest.raises(AuthenticationError) as info:
        run_sync(client.request("GET", "/api/x", table="acme.events"))
    text = str(info.value)
    assert "authentication failed" in text and "[HTTP 401]" in text
    assert "wrong-secret-123" not in text and "bad secret ***" in text
    assert len(vendor.grants) == 1  # a refused token request is not retried


def test_token_endpoint_5xx_is_retried(make_client: MakeClient) -> None:
    vendor = Vendor()
    vendor.token_failures = [503, 500]
    client = make_client(vendor, auth=cc_auth())
    assert run_sync(client.request_json("GET", "/api/x")) == {"auth": "Bearer tok-1"}
    assert len(vendor.grants) == 3


def test_token_endpoint_down_is_a_vendor_error(make_client: MakeClient) -> None:
    vendor = Vendor()
    vendor.token_failures = [502] * 5
    with pytest.raises(VendorHTTPError, match="bad gateway"):
        run_sync(make_client(vendor, auth=cc_auth()).request("GET", "/api/x"))


def test_static_header_auth_401_is_not_retried(make_client: MakeClient) -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(401, json={"message": "invalid api key"})

    client = make_client(handler, auth=StaticHeaderAuth({"X-Api-Key": "key-abcdef"}))
    with pytest.raises(AuthenticationError, match="invalid api key"):
        run_sync(client.request("GET", "/api/x"))
    assert len(seen) == 1 and seen[0].headers["x-api-key"] == "key-abcdef"
