"""casavi Community authentication: OpenID Connect discovery, the token endpoint, the registration
endpoint, and the check on every API request.

Documented (``casavi-community-api.txt``, vendor-notes section 4): an ``Authorization`` header
(security scheme "API Key", header ``Authorization``: read as ``Bearer <access token>``), or the
cookie ``user_session``, or OpenID Connect through the discovery endpoint
``/.well-known/openid-configuration``; a registration call (body firstName, lastName, email,
clientId, inviteCode, providerKey, sub) answers ``{oidcIdToken, oidcAccessToken,
oidcRefreshToken, contactExtRef}``.

Our readings (CHOSEN; the paths are stripped from the doc, ambiguity 24):

* ``GET /.well-known/openid-configuration`` (relative to the connection's base URL): ``issuer`` =
  that base URL (``<server>/casavi_community``), ``token_endpoint`` = issuer + ``/oidc/token``,
  plus authorization_endpoint, jwks_uri (``/oidc/jwks``, an empty key set), the supported
  response types, subject types, signing algorithms and grants. No token needed.
* ``POST /oidc/token`` (form-encoded, RFC 6749 section 6): ``grant_type=refresh_token`` only,
  ``client_id`` must be the sandbox client (body or HTTP Basic; a ``client_secret`` is ignored:
  a public client). Answer ``{access_token, token_type: "Bearer", expires_in}`` (lifetime
  ``settings.token_ttl_s``; the ``expire`` fault revokes every access token). Refresh tokens:
  ``casavi_community.refresh_rotation=stable`` (default) answers no new one and the one used
  stays valid; ``rotate`` answers a new ``refresh_token`` each time and spends the one used (400
  ``invalid_grant`` on reuse), the configured sandbox refresh token too, as a rotating identity
  provider does: a second ``crmql`` run from the same config is then refused (crmql keeps a
  rotated token only in memory) until :meth:`CommunityAuth.reset`. Under ``stable`` the configured
  token is valid whatever an earlier ``rotate`` run spent (tests share one server).
  Errors: 401 ``invalid_client``, 400 ``invalid_request``/``unsupported_grant_type``/
  ``invalid_grant``, as ``{"error", "error_description"}``.
  (The core's ``TokenEndpoint`` does not fit: it needs a client secret and always rotates; the
  form and HTTP Basic reading are the core's ``read_form``, the access tokens the core's store.)
* ``POST /api/v1/oidc/register`` (JSON): the invite code ``SANDBOX`` and the sandbox client id
  register a resident (``contactExtRef``: a new contact's reference id, ``C-900001`` on); the
  answer's tokens work (the access token on the API, the refresh token
  at the token endpoint). A missing field, another invite code or client: 400 ``{"message"}``.
* API requests: ``Authorization: Bearer <access token>`` or the cookie ``user_session=<access
  token>``; missing, unknown, revoked or expired: 401 ``{"message": "Unauthorized"}``.
"""

from __future__ import annotations

import logging
import secrets
import threading
from collections.abc import Mapping
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from ..core.oauth import read_form
from ..core.requests import BodyError, TokenGuard, json_object
from ..core.state import SandboxState, json_error
from ..core.tokens import TokenError
from .spec import TOKEN_PATH

__all__ = ["CommunityAuth", "INVITE_CODE", "discovery_document"]

logger = logging.getLogger(__name__)

VENDOR = "casavi_community"
GUARD = TokenGuard()
INVITE_CODE = "SANDBOX"
_REGISTER_FIELDS = ("firstName", "lastName", "email", "clientId", "inviteCode")


def discovery_document(issuer: str) -> dict[str, Any]:
    """The OpenID provider configuration served under ``issuer``.

    >>> discovery_document("http://h/casavi_community")["token_endpoint"]
    'http://h/casavi_community/oidc/token'
    """
    return {"issuer": issuer, "authorization_endpoint": f"{issuer}/oidc/auth",
            "token_endpoint": f"{issuer}{TOKEN_PATH}", "jwks_uri": f"{issuer}/oidc/jwks",
            "response_types_supported": ["code"], "subject_types_supported": ["public"],
            "id_token_signing_alg_values_supported": ["RS256"],
            "grant_types_supported": ["authorization_code", "refresh_token"],
            "token_endpoint_auth_methods_supported": ["none", "client_secret_basic", "client_secret_post"],
            "scopes_supported": ["openid", "offline_access"]}


def _oauth_error(status: int, code: str, text: str) -> Response:
    return json_error(status, {"error": code, "error_description": text})


class CommunityAuth:
    """Discovery, token and registration endpoints and the request check of one server's simulator."""

    def __init__(self, state: SandboxState, credentials: Mapping[str, str]) -> None:
        self.state = state
        self.client_id, self.configured = credentials["client_id"], credentials["refresh_token"]
        self._lock = threading.Lock()
        self._refresh: set[str] = set()
        self._spent: set[str] = set()
        self._registered = 0

    def reset(self) -> None:
        """Test hook: forget every issued and spent refresh token (the configured one is valid again)."""
        with self._lock:
            self._refresh.clear()
            self._spent.clear()

    def issuer(self, request: Request) -> str:
        """The connection base URL the request came through (``<server>/casavi_community``)."""
        path, suffix = request.url.path, "/.well-known/openid-configuration"
        prefix = path[:-len(suffix)] if path.endswith(suffix) else request.scope.get("root_path", "")
        return f"{request.url.scheme}://{request.url.netloc}{prefix}"

    async def discovery(self, request: Request) -> Response:
        """``GET /.well-known/openid-configuration``."""
        return JSONResponse(discovery_document(self.issuer(request)))

    async def jwks(self, request: Request) -> Response:
        """``GET /oidc/jwks``: no signing keys (the sandbox issues opaque tokens)."""
        return JSONResponse({"keys": []})

    def _access(self) -> str:
        return self.state.tokens.issue_access(VENDOR, self.client_id, self.state.settings.token_ttl_s)

    def _valid(self, token: str, rotation: str) -> bool:
        if token == self.configured and rotation != "rotate":
            return True
        with self._lock:
            if token in self._spent:
                return False
            return token == self.configured or token in self._refresh

    def _spend(self, token: str) -> str:
        fresh = secrets.token_urlsafe(32)
        with self._lock:
            self._refresh.discard(token)
            self._spent.add(token)
            self._refresh.add(fresh)
        return fresh

    async def token(self, request: Request, rotation: str) -> Response:
        """``POST /oidc/token`` under the refresh reading ``rotation`` (``stable`` or ``rotate``)."""
        form = read_form(await request.body(), request.headers.get("authorization", ""))
        if form.get("client_id") != self.client_id:
            return _oauth_error(401, "invalid_client", "Unknown client_id")
        grant = form.get("grant_type")
        if not grant:
            return _oauth_error(400, "invalid_request", "Missing grant_type (send a form-encoded body)")
        if grant != "refresh_token":
            return _oauth_error(400, "unsupported_grant_type", f"Unsupported grant_type {grant!r}")
        presented = form.get("refresh_token", "")
        if not presented:
            return _oauth_error(400, "invalid_request", "Missing refresh_token")
        if not self._valid(presented, rotation):
            return _oauth_error(400, "invalid_grant", "Invalid, expired or already used refresh token")
        ttl = self.state.settings.token_ttl_s
        answer: dict[str, Any] = {"access_token": self._access(), "token_type": "Bearer", "expires_in": int(ttl)}
        if rotation == "rotate":
            answer["refresh_token"] = self._spend(presented)
        return JSONResponse(answer)

    async def register(self, request: Request) -> Response:
        """``POST /api/v1/oidc/register``."""
        try:
            body = json_object(await request.body(), empty_is_object=False)
        except BodyError as exc:
            return json_error(400, {"message": str(exc)})
        for name in _REGISTER_FIELDS:
            if not isinstance(body.get(name), str) or not body[name]:
                return json_error(400, {"message": f"'{name}' is required and must be a non-empty string"})
        if body["inviteCode"] != INVITE_CODE:
            return json_error(400, {"message": "Invalid invite code"})
        if body["clientId"] != self.client_id:
            return json_error(400, {"message": "Unknown clientId"})
        refresh = secrets.token_urlsafe(32)
        with self._lock:
            self._registered += 1
            self._refresh.add(refresh)
            number = self._registered
        return JSONResponse({"oidcIdToken": secrets.token_urlsafe(24), "oidcAccessToken": self._access(),
                             "oidcRefreshToken": refresh, "contactExtRef": f"C-{900000 + number:06d}"})

    def refusal(self, request: Request) -> Response | None:
        """401 ``{"message": "Unauthorized"}`` unless the request's bearer token (or ``user_session``
        cookie) is valid."""
        token = GUARD.presented(request.headers) or request.cookies.get("user_session") or None
        try:
            self.state.tokens.check_access(VENDOR, token)
        except TokenError as exc:
            logger.debug("casavi_community: refused a request: %s", exc)
            return json_error(401, {"message": "Unauthorized"})
        return None
