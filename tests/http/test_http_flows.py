"""The auth flows of casavi Manager (key/secret -> token header), casavi Community (bearer with
OpenID Connect refresh) and Voyzu (session id), over real HTTP: small Starlette apps on loopback
play the API, the identity provider and a foreign host that must never see a credential."""

from __future__ import annotations

import asyncio
import datetime as dt
import itertools
import time
from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from crmql.errors import AuthenticationError, ConfigError, ConnectorError, VendorResponseError
from crmql.http import HttpClient, KeySecretTokenAuth, OidcRefreshAuth, RetryPolicy, SessionIdAuth, run_sync
from crmql.http.auth import DEFAULT_EXPIRES_IN_S

from live_server import serve

KEY, SECRET = "04523b90-9ee1-49f7-af31", "ksdasji0-sf818-nfn81-secret"


@dataclass
class Seen:
    listener: str
    method: str
    path: str
    query: str
    headers: dict[str, str]
    body: bytes


@dataclass
class World:
    """The API, the identity provider and a foreign host; what each saw, and how they behave."""

    seen: list[Seen] = field(default_factory=list)
    urls: dict[str, str] = field(default_factory=dict)
    counter: Any = field(default_factory=lambda: itertools.count(1))
    rt_counter: Any = field(default_factory=lambda: itertools.count(2))
    valid: set[str] = field(default_factory=set)
    expires_at: Any = "future"  # "future" | "absent" | any value sent as is
    token_value: Any = None  # None: a fresh token
    refresh: str = "ok"  # "ok" | "refused" | "html"
    refresh_tokens: set[str] = field(default_factory=lambda: {"rt-1"})
    token_endpoint: str = "idp"  # which listener's /oauth/token the discovery names
    issuer: str | None = None  # None: the idp's own URL
    login_answer: str = "body"  # "body" | "cookie" | "bad"
    discovery: Response | None = None  # answers the discovery request instead, when set

    def app(self, name: str) -> Starlette:
        async def handle(request: Request) -> Response:
            body = await request.body()
            self.seen.append(Seen(name, request.method, request.url.path, request.url.query,
                                  {k.lower(): v for k, v in request.headers.items()}, body))
            return await self.answer(name, request)
        return Starlette(routes=[Route("/{path:path}", handle, methods=["GET", "POST"])])

    def new_token(self) -> str:
        token = self.token_value if self.token_value is not None else f"t-{next(self.counter)}-abcdef"
        self.valid.add(token)
        return token

    async def answer(self, name: str, request: Request) -> Response:
        path = request.url.path
        if path == "/v2/authenticate":
            sent = await request.json()
            if sent != {"key": KEY, "secret": SECRET}:
                return JSONResponse({"message": f"bad key or secret {sent.get('secret')}"}, status_code=401)
            return JSONResponse(self.casavi_token())
        if path == "/v2/refresh":
            sent = await request.json()
            if self.refresh == "html":
                return Response("<html>app</html>", media_type="text/html")
            if self.refresh == "refused" or sent.get("token") not in self.valid or sent.get("apiKey") != KEY:
                return JSONResponse({"message": "refresh refused"}, status_code=401)
            return JSONResponse(self.casavi_token())
        if path == "/.well-known/openid-configuration":
            own = self.urls[name]
            if self.discovery is not None:
                return self.discovery
            return JSONResponse({"issuer": self.issuer or own, "token_endpoint":
                                 self.urls[self.token_endpoint] + "/oauth/token"})
        if path == "/oauth/token":
            form = {k: v[0] for k, v in parse_qs((await request.body()).decode()).items()}
            if form.get("grant_type") != "refresh_token" or form.get("refresh_token") not in self.refresh_tokens:
                return JSONResponse({"error": "invalid_grant"}, status_code=400)
            rotated = f"rt-{next(self.rt_counter)}"
            self.refresh_tokens = {rotated}
            return JSONResponse({"access_token": self.new_token(), "refresh_token": rotated, "expires_in": 300,
                                 "token_type": "Bearer"})
        if path == "/api/auth":
            if await request.json() != {"Email": "bob@example.test", "Password": "pw-123456", "Remember": True}:
                return JSONResponse({"ErrorMessage": "bad login pw-123456"}, status_code=401)
            session = "s;bad" if self.login_answer == "bad" else self.new_token()
            if self.login_answer == "cookie":
                response = JSONResponse({})
                response.set_cookie("voyzu-session-id", session)
                return response
            return JSONResponse({"SessionId": session})
        return self.api(request)

    def casavi_token(self) -> dict[str, Any]:
        body: dict[str, Any] = {"token": self.new_token()}
        if self.expires_at == "future":
            body["expiresAt"] = (dt.datetime.now(dt.timezone.utc) + dt.timedelta(hours=2)).isoformat()
        elif self.expires_at != "absent":
            body["expiresAt"] = self.expires_at
        return body

    def api(self, request: Request) -> Response:
        h = request.headers
        bearer = h.get("authorization", "").removeprefix("Bearer ")
        offered = {h.get("token"), bearer, request.cookies.get("voyzu-session-id"),
                   request.query_params.get("voyzu-session-id")}
        if offered & self.valid:
            return JSONResponse([{"id": 1}])
        return JSONResponse({"ErrorMessage": "no session"}, status_code=401)

    def at(self, listener: str, path: str | None = None) -> list[Seen]:
        return [s for s in self.seen if s.listener == listener and (path is None or s.path == path)]


@pytest.fixture(scope="module")
def listeners() -> Iterator[tuple[list[World], dict[str, str]]]:
    holder = [World()]
    urls: dict[str, str] = {}
    with ExitStack() as stack:
        for name in ("api", "idp", "foreign"):
            async def app(scope: Any, receive: Any, send: Any, name: str = name) -> None:
                await holder[0].app(name)(scope, receive, send)
            urls[name] = stack.enter_context(serve(app))  # type: ignore[arg-type]
        yield holder, urls


@pytest.fixture
def world(listeners: tuple[list[World], dict[str, str]]) -> World:
    holder, urls = listeners
    holder[0] = World(urls=urls)
    return holder[0]


def client(world: World, auth: Any) -> HttpClient:
    return HttpClient(vendor="casavi", base_url=world.urls["api"], auth=auth,
                      retry=RetryPolicy(backoff_base_s=0.001, backoff_cap_s=0.005))


def get(http: HttpClient, path: str = "/v2/contacts", **kwargs: Any) -> Any:
    return run_sync(http.request_json(kwargs.pop("method", "GET"), path, table="casavi.contacts", **kwargs))


# ---------------------------------------------------------------- casavi Manager: key/secret -> token

def test_key_secret_token_goes_in_the_token_header(world: World) -> None:
    http = client(world, KeySecretTokenAuth(KEY, SECRET))
    assert get(http) == [{"id": 1}] and get(http) == [{"id": 1}]
    auth_calls, api = world.at("api", "/v2/authenticate"), world.at("api", "/v2/contacts")
    assert len(auth_calls) == 1 and auth_calls[0].body == b'{"key":"04523b90-9ee1-49f7-af31","secret":"ksdasji0-sf818-nfn81-secret"}'
    assert [s.headers.get("token") for s in api] == ["t-1-abcdef"] * 2
    assert not any("authorization" in s.headers for s in api)


@pytest.mark.parametrize("expires_at, low, high", [
    ("future", 7000, 7200),  # two hours, ISO-8601 with an offset
    (lambda: time.time() + 600, 500, 600),  # epoch seconds
    (lambda: int((time.time() + 600) * 1000), 500, 600),  # epoch milliseconds
    (lambda: f"{int(time.time() + 600)}", 500, 600),  # epoch seconds as text
    ("1985-12-05T15:31:10.000Z", DEFAULT_EXPIRES_IN_S - 100, DEFAULT_EXPIRES_IN_S),  # the docs' example: past
    ("next tuesday", DEFAULT_EXPIRES_IN_S - 100, DEFAULT_EXPIRES_IN_S),
    ("absent", DEFAULT_EXPIRES_IN_S - 100, DEFAULT_EXPIRES_IN_S),
    (True, DEFAULT_EXPIRES_IN_S - 100, DEFAULT_EXPIRES_IN_S),
])
def test_expires_at_sets_when_the_token_is_renewed(world: World, expires_at: Any, low: float, high: float) -> None:
    world.expires_at = expires_at() if callable(expires_at) else expires_at
    auth = KeySecretTokenAuth(KEY, SECRET)
    get(client(world, auth))
    assert auth._cached is not None
    assert low <= auth._cached.refresh_at - time.monotonic() <= high  # the token's planned lifetime, not a timing


def test_a_refused_token_is_replaced_once(world: World) -> None:
    auth = KeySecretTokenAuth(KEY, SECRET, refresh_path="/v2/refresh")
    http = client(world, auth)
    get(http)
    world.valid.clear()  # the vendor revokes every token
    assert get(http) == [{"id": 1}]
    assert len(world.at("api", "/v2/authenticate")) == 2
    assert not world.at("api", "/v2/refresh")  # a refused token is not refreshed, it is replaced


@pytest.mark.parametrize("refresh, calls", [("ok", ["/v2/refresh"]), ("refused", ["/v2/refresh", "/v2/authenticate"]),
                                            ("html", ["/v2/refresh", "/v2/authenticate"])])
def test_near_expiry_the_refresh_call_renews_or_falls_back(world: World, refresh: str, calls: list[str]) -> None:
    auth = KeySecretTokenAuth(KEY, SECRET, refresh_path="/v2/refresh")
    http = client(world, auth)
    get(http)
    world.refresh = refresh
    assert auth._cached is not None
    auth._cached.refresh_at = 0.0  # as if the token were about to expire
    world.seen.clear()
    assert get(http) == [{"id": 1}]
    assert [s.path for s in world.seen][:-1] == calls
    assert world.seen[0].body == b'{"apiKey":"04523b90-9ee1-49f7-af31","token":"t-1-abcdef"}'
    assert world.seen[-1].headers["token"] == "t-2-abcdef"


def test_without_a_refresh_path_near_expiry_authenticates(world: World) -> None:
    auth = KeySecretTokenAuth(KEY, SECRET)
    http = client(world, auth)
    get(http)
    assert auth._cached is not None
    auth._cached.refresh_at = 0.0
    get(http)
    assert [s.path for s in world.seen] == ["/v2/authenticate", "/v2/contacts"] * 2


def test_concurrent_requests_share_one_authentication(world: World) -> None:
    http = client(world, KeySecretTokenAuth(KEY, SECRET))

    async def many() -> list[Any]:
        return list(await asyncio.gather(*(http.request_json("GET", f"/v2/contacts?n={n}") for n in range(8))))

    assert run_sync(many()) == [[{"id": 1}]] * 8
    assert len(world.at("api", "/v2/authenticate")) == 1


def test_wrong_secret_is_a_clear_redacted_error(world: World) -> None:
    with pytest.raises(AuthenticationError) as info:
        get(client(world, KeySecretTokenAuth(KEY, "wrong-secret-123")))
    text = str(info.value)
    assert text.startswith("casavi: authentication failed [HTTP 401]: bad key or secret ***")
    assert "wrong-secret-123" not in text and "check the key and the secret" in text


@pytest.mark.parametrize("token", ["has space", "", 12345, "a" * 20000])
def test_a_token_that_cannot_be_a_header_is_refused(world: World, token: Any) -> None:
    world.token_value = token
    with pytest.raises(AuthenticationError, match="without a token that can be sent in a header"):
        get(client(world, KeySecretTokenAuth(KEY, SECRET)))
    assert not world.at("api", "/v2/contacts")


# ---------------------------------------------------------------- casavi Community: OpenID Connect refresh

def oidc(world: World, **kwargs: Any) -> OidcRefreshAuth:
    kwargs.setdefault("issuer", world.urls["idp"])
    return OidcRefreshAuth(**kwargs)


def test_the_access_token_first_then_refresh_at_the_issuers_token_endpoint(world: World) -> None:
    world.valid.add("at-initial-1")
    auth = oidc(world, access_token="at-initial-1", refresh_token="rt-1", client_id="community-app")
    http = client(world, auth)
    assert get(http, "/api/v1/units") == [{"id": 1}]
    assert not world.at("idp")  # the configured access token needed no refresh
    world.valid.clear()
    assert get(http, "/api/v1/units") == [{"id": 1}]
    grant = world.at("idp", "/oauth/token")[0]
    assert grant.body == b"grant_type=refresh_token&refresh_token=rt-1&client_id=community-app"
    assert not any("authorization" in s.headers for s in world.at("idp"))  # no access token to the IdP
    assert not any(b"rt-" in s.body or "rt-" in s.query for s in world.at("api"))  # no refresh token to the API
    assert world.at("api")[-1].headers["authorization"] == "Bearer t-1-abcdef"
    assert not world.at("foreign")


def test_the_scheme_may_be_left_out(world: World) -> None:
    auth = oidc(world, refresh_token="rt-1", scheme=None)
    assert get(client(world, auth), "/api/v1/units") == [{"id": 1}]
    assert world.at("api")[-1].headers["authorization"] == "t-1-abcdef"


def test_a_rotated_refresh_token_is_used_next(world: World) -> None:
    auth = oidc(world, refresh_token="rt-1")
    http = client(world, auth)
    get(http, "/api/v1/units")
    world.valid.clear()
    get(http, "/api/v1/units")
    sent = [s.body.decode() for s in world.at("idp", "/oauth/token")]
    assert sent == ["grant_type=refresh_token&refresh_token=rt-1", "grant_type=refresh_token&refresh_token=rt-2"]
    assert len(world.at("idp", "/.well-known/openid-configuration")) == 1  # discovered once


def test_a_token_endpoint_off_the_issuers_origin_gets_no_refresh_token(world: World) -> None:
    world.token_endpoint = "foreign"
    with pytest.raises(ConnectorError) as info:
        get(client(world, oidc(world, refresh_token="rt-1")), "/api/v1/units")
    assert f"refused to send the refresh token to {world.urls['foreign']}" in str(info.value)
    assert "token_origins" in str(info.value)
    assert not world.at("foreign") and not world.at("api")
    world.seen.clear()
    auth = oidc(world, refresh_token="rt-1", token_origins=[world.urls["foreign"]])  # the user vouches for it
    assert get(client(world, auth), "/api/v1/units") == [{"id": 1}]
    assert [s.path for s in world.at("foreign")] == ["/oauth/token"]


def test_the_discovery_document_must_name_the_configured_issuer(world: World) -> None:
    world.issuer = "https://evil.example"
    with pytest.raises(VendorResponseError, match="names the issuer 'https://evil.example', not"):
        get(client(world, oidc(world, refresh_token="rt-1")), "/api/v1/units")
    assert not world.at("idp", "/oauth/token")


def test_the_issuer_defaults_to_the_apis_origin(world: World) -> None:
    world.token_endpoint = "api"
    auth = OidcRefreshAuth(refresh_token="rt-1")
    assert get(client(world, auth), "/api/v1/units") == [{"id": 1}]
    assert [s.path for s in world.at("api")] == ["/.well-known/openid-configuration", "/oauth/token", "/api/v1/units"]


@pytest.mark.parametrize("answer, error, match", [
    (JSONResponse({"error": "nope"}, status_code=404), ConfigError, "no OpenID Connect discovery document at"),
    (Response("<html/>", media_type="text/html"), VendorResponseError, "not JSON"),
    (JSONResponse(["issuer"]), VendorResponseError, "names the issuer 'None'"),
])
def test_a_discovery_document_that_is_not_one_is_a_clear_error(world: World, answer: Response, error: type,
                                                               match: str) -> None:
    world.discovery = answer
    with pytest.raises(error, match=match):
        get(client(world, oidc(world, refresh_token="rt-1")), "/api/v1/units")
    assert not world.at("idp", "/oauth/token")


def test_a_discovery_without_an_absolute_token_endpoint_is_an_error(world: World) -> None:
    world.discovery = JSONResponse({"issuer": world.urls["idp"], "token_endpoint": "/oauth/token"})
    with pytest.raises(VendorResponseError, match="has no absolute token_endpoint"):
        get(client(world, oidc(world, refresh_token="rt-1")), "/api/v1/units")


def test_a_refused_refresh_token_says_sign_in_again(world: World) -> None:
    with pytest.raises(AuthenticationError) as info:
        get(client(world, oidc(world, refresh_token="rt-stale")), "/api/v1/units")
    assert "the identity provider refused the refresh token [HTTP 400]: invalid_grant" in str(info.value)
    assert "sign in again" in str(info.value)


def test_without_a_refresh_token_a_refused_access_token_is_final(world: World) -> None:
    auth = oidc(world, access_token="at-dead-1")
    assert not auth.can_refresh
    with pytest.raises(AuthenticationError, match=r"authentication failed \[HTTP 401\]"):
        get(client(world, auth), "/api/v1/units")
    assert len(world.at("api")) == 1 and not world.at("idp")


def test_an_oidc_connection_needs_a_token() -> None:
    with pytest.raises(ConfigError, match="needs a refresh_token or an access_token"):
        OidcRefreshAuth(issuer="https://id.example")


# ---------------------------------------------------------------- Voyzu: session id

LOGIN = {"Email": "{user}", "Password": "{password}", "Remember": "{remember}"}
VALUES = {"user": "bob@example.test", "password": "pw-123456", "remember": True}


def post(http: HttpClient, **kwargs: Any) -> Any:
    return get(http, "/api/contacts/search", method="POST", json={}, **kwargs)


def test_the_session_goes_in_a_cookie(world: World) -> None:
    world.valid.add("s-configured-1")
    assert post(client(world, SessionIdAuth("s-configured-1"))) == [{"id": 1}]
    assert world.at("api")[0].headers["cookie"] == "voyzu-session-id=s-configured-1"


def test_a_refused_session_without_login_is_final_and_says_it_expired(world: World) -> None:
    auth = SessionIdAuth("s-expired-1")
    with pytest.raises(AuthenticationError) as info:
        post(client(world, auth))
    assert len(world.at("api")) == 1  # no retry with the same cookie
    assert str(auth.rejected(info.value)).startswith(
        "casavi (casavi.contacts): the session was refused: it has expired or was signed out [HTTP 401]: no session")


@pytest.mark.parametrize("answer", ["body", "cookie"])
def test_with_a_login_a_refused_session_logs_in_again(world: World, answer: str) -> None:
    world.login_answer = answer
    auth = SessionIdAuth("s-expired-1", login_body=LOGIN, login_values=VALUES)
    assert auth.can_refresh
    assert post(client(world, auth)) == [{"id": 1}]
    assert [s.path for s in world.seen] == ["/api/contacts/search", "/api/auth", "/api/contacts/search"]
    assert world.seen[1].body == b'{"Email":"bob@example.test","Password":"pw-123456","Remember":true}'
    assert world.seen[2].headers["cookie"] == "voyzu-session-id=t-1-abcdef"


def test_login_values_may_come_as_keywords(world: World) -> None:
    auth = SessionIdAuth(login_body=LOGIN, **VALUES)  # as a declared flow gets them from the settings
    assert post(client(world, auth)) == [{"id": 1}]
    assert "pw-123456" in auth.secrets()


def test_a_refused_login_is_a_clear_redacted_error(world: World) -> None:
    auth = SessionIdAuth(login_body=LOGIN, login_values={**VALUES, "password": "pw-wrong-999"})
    with pytest.raises(AuthenticationError) as info:
        post(client(world, auth))
    assert "the login was refused [HTTP 401]: bad login" in str(info.value)
    assert "pw-wrong-999" not in str(info.value)


def test_a_session_id_a_cookie_cannot_carry_is_refused(world: World) -> None:
    world.login_answer = "bad"
    with pytest.raises(AuthenticationError, match="without a usable SessionId"):
        post(client(world, SessionIdAuth(login_body=LOGIN, login_values=VALUES)))
    with pytest.raises(ConfigError, match="cannot be sent in a cookie"):
        SessionIdAuth("a;b=c")


def test_the_login_template_names_only_known_values() -> None:
    with pytest.raises(ConfigError, match=r"names \{pasword\}, which no login value gives"):
        SessionIdAuth(login_body={"Password": "{pasword}"}, login_values={"password": "x"})


def test_query_placement_stays_on_the_origin(world: World) -> None:
    world.valid.add("s-query-1234")
    auth = SessionIdAuth("s-query-1234", send_as="query")
    http = client(world, auth)
    params = run_sync(auth.query_params(http, "/api/contacts/search"))
    assert params == {"voyzu-session-id": "s-query-1234"}
    assert post(http, params=params) == [{"id": 1}]
    assert "cookie" not in world.at("api")[0].headers
    with pytest.raises(ConnectorError, match="refused to send the session id to"):
        run_sync(auth.query_params(http, world.urls["foreign"] + "/api/contacts/search"))
