"""Auth flows of the vendors that come next, each a :class:`~crmql.http.auth.TokenAuth` (cached,
renewed near expiry and once on a 401); every secret is registered for redaction, every token
checked before it goes in a header (visible ASCII, at most 16 KB).

* :class:`KeySecretTokenAuth` (casavi Manager): ``{key, secret}`` -> ``{token, expiresAt}``, sent
  as the header ``token``; the refresh call, documented without its path, where one is configured.
* :class:`OidcRefreshAuth` (casavi Community): a bearer token, OpenID Connect refresh grant.
* Voyzu's session id (a cookie or a query parameter, optionally from a login call): its own
  module, :mod:`crmql.http.session_flow`.

Where the OpenID token endpoint may be: an identity provider often has a host of its own, so the
API's origin rule cannot decide it. The refresh token goes only to the issuer the user configured:
the discovery document must name it as ``issuer`` (OpenID Connect Discovery 1.0, 4.3), and its
``token_endpoint`` must be on the issuer's origin or on one listed in ``token_origins``.

>>> auth = KeySecretTokenAuth("04523b90-key", "ksdasji0-secret")
>>> auth.secrets()
['ksdasji0-secret', '04523b90-key']
"""

from __future__ import annotations

import datetime as dt
import logging
import math
import re
import time
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import httpx

from crmql.errors import AuthenticationError, ConfigError, ConnectorError, VendorResponseError
from crmql.http.auth import _FORM_HEADERS, DEFAULT_EXPIRES_IN_S, Token, TokenAuth, _oauth_error, _usable_token
from crmql.http.flow_util import REJECTED, _base_url, _field, _vendor_message
from crmql.http.origin import origin_of, same_origin
from crmql.redaction import install_log_redaction, register_secret

if TYPE_CHECKING:
    from crmql.http.protocols import AuthClient as HttpClient  # the client as a flow sees it

__all__ = ["KeySecretTokenAuth", "OidcRefreshAuth", "expires_in_from"]

logger = logging.getLogger(__name__)
install_log_redaction(logger)  # a logger's filters see only its own records

_REJECTED = REJECTED
#: a refresh call may also be unknown or not allowed (its path is a guess): fall back, too
_REFRESH_REFUSED = (400, 401, 403, 404, 405, 410)
#: epoch numbers above this are milliseconds (1e11 s is the year 5138)
_MILLIS_FROM = 1e11
_EPOCH = re.compile(r"\s*\d{1,20}(\.\d+)?\s*")
#: the hint under a refused access_token when no refresh_token is set
NO_REFRESH_HINT = ("the access_token was refused (expired or revoked) and no refresh_token is set to renew it: "
                   "update the credentials in the connection settings, a fresh access_token, or refresh_token and "
                   "client_id so crmql renews it itself")
#: the hints under a refused refresh token: this run saw the identity provider rotate it, or it may have
ROTATED_HINT = ("the identity provider rotates refresh tokens and crmql keeps the new one only while it runs: sign "
                "in again and update refresh_token (or use an access_token)")
REFUSED_HINT = ("sign in again and update refresh_token in the connection settings (or use an access_token); if "
                "the identity provider rotates refresh tokens, crmql keeps the new one only while it runs, so the "
                "configured one is spent once a run has used it")


def _oauth_code(response: httpx.Response) -> str | None:
    """The OAuth2 ``error`` code of a refusal (RFC 6749 5.2), or None."""
    try:
        body: Any = response.json()
    except (ValueError, RecursionError):
        return None
    code = body.get("error") if isinstance(body, dict) else None
    return code if isinstance(code, str) and len(code) < 64 else None


def expires_in_from(expires_at: Any, now: float | None = None) -> float | None:
    """Seconds from ``now`` (epoch seconds) until ``expires_at``: ISO-8601 text (no offset: UTC),
    or epoch seconds or milliseconds (a number or digits). ``None`` when absent or unreadable, so
    the default lifetime applies; a time in the past gives a negative number (which
    :class:`~crmql.http.auth.TokenAuth` also replaces by the default: the 401 renews the token).

    >>> now = 500_000_000.0  # 1985-11-05
    >>> expires_in_from("1985-11-05T00:53:20.000Z", now), expires_in_from(500_000_600, now)
    (0.0, 600.0)
    >>> expires_in_from(500_000_600_000, now), expires_in_from("500000060", now), expires_in_from("soon", now)
    (600.0, 60.0, None)
    """
    now = time.time() if now is None else now
    value = float(expires_at) if isinstance(expires_at, str) and _EPOCH.fullmatch(expires_at) else expires_at
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        seconds = float(value)
        if not math.isfinite(seconds) or seconds <= 0:
            return None
        return (seconds / 1000 if seconds >= _MILLIS_FROM else seconds) - now
    if not isinstance(value, str) or len(value) > 64:
        return None
    try:
        at = dt.datetime.fromisoformat(value.strip())
    except ValueError:
        return None
    if at.tzinfo is None:
        at = at.replace(tzinfo=dt.timezone.utc)
    return at.timestamp() - now


class KeySecretTokenAuth(TokenAuth):
    """casavi Manager: ``POST path {key, secret}`` -> ``{token, expiresAt}`` (an absolute time),
    sent as ``token: <token>``. With ``refresh_path`` (undocumented), ``{apiKey, token}`` renews
    a token near expiry; a refusal (400/401/403/404/405/410) or an answer without a usable token
    falls back to authenticating. A token the vendor refused (401) is replaced, not refreshed.

    >>> KeySecretTokenAuth("k-1234", "s-5678", refresh_path="/v2/refresh").path
    '/v2/authenticate'
    """

    def __init__(self, key: str, secret: str, *, path: str = "/v2/authenticate", refresh_path: str | None = None,
                 header: str = "token", refresh_margin_s: float = 60.0) -> None:
        super().__init__(refresh_margin_s=refresh_margin_s)
        if not key or not secret:
            raise ConfigError("the key and the secret are both required", hint="casavi customer service supplies them")
        self.key, self.secret = key, secret
        self.path, self.refresh_path, self.header = path, refresh_path, header
        self._register_secrets()

    def secrets(self) -> list[str]:
        return [self.secret, self.key]  # together they open the whole casavi account

    async def fetch_token(self, client: HttpClient) -> Token:
        old = self._cached.token.value if self._cached is not None else None  # None after a 401
        if self.refresh_path and old:
            response = await client.request("POST", self.refresh_path, json={"apiKey": self.key, "token": old},
                                            authenticated=False, idempotent=True, allow_status=_REFRESH_REFUSED)
            token = None if response.status_code in _REFRESH_REFUSED else self._parse(client, response, strict=False)
            if token is not None:
                return token
            logger.debug("the token refresh was refused (HTTP %s); authenticating", response.status_code)
        response = await client.request("POST", self.path, json={"key": self.key, "secret": self.secret},
                                        authenticated=False, idempotent=True, allow_status=_REJECTED)
        if response.status_code in _REJECTED:
            raise AuthenticationError("authentication failed", vendor=client.vendor, status=response.status_code,
                                      vendor_message=_vendor_message(response),
                                      hint="check the key and the secret in the connection settings")
        return self._parse(client, response, strict=True)  # type: ignore[return-value]  # strict: a token

    def _parse(self, client: HttpClient, response: httpx.Response, *, strict: bool) -> Token | None:
        """The token in ``{token, expiresAt}``; unusable: an error (``strict``) or None."""
        try:
            body = client.decode_json(response)
        except VendorResponseError:
            if strict:
                raise
            return None  # a refresh path that is no API (an HTML page): authenticate instead
        value = _field(body, "token")
        if not _usable_token(value):
            register_secret(value if isinstance(value, str) else None)
            if not strict:
                return None
            raise AuthenticationError("the authentication answered without a token that can be sent in a header",
                                      vendor=client.vendor, status=response.status_code)
        assert isinstance(value, str)
        register_secret(value)
        raw = _field(body, "expiresAt")
        expires_in = expires_in_from(raw)
        if expires_in is not None and expires_in < self.min_lifetime_s:
            logger.warning("%s: the token's expiresAt (%s) is %s; using the token until the vendor refuses it",
                           client.vendor, str(raw)[:40], "past" if expires_in <= 0 else "too close")
        return Token(value, expires_in=DEFAULT_EXPIRES_IN_S if expires_in is None else expires_in,
                     header=self.header, scheme=None)


class OidcRefreshAuth(TokenAuth):
    """casavi Community: ``Authorization: Bearer`` with the OpenID Connect ``refresh_token`` grant
    (``scheme=None`` sends the bare token: the docs call the header an API key named Bearer).
    ``access_token`` (optional) is used first, until refused (its lifetime is unknown);
    ``refresh_token`` then obtains new ones from the discovered ``token_endpoint`` (a rotated
    refresh token replaces it, in memory only: persisting it is out of scope, so a rotating
    provider refuses the configured token to the next run, and the error's hint says so). Without
    a refresh token a refused access token is final (``can_refresh`` is False). An ``invalid_client``
    refusal names client_id in its hint. ``issuer`` defaults to the API's origin.

    >>> auth = OidcRefreshAuth(issuer="https://id.example", refresh_token="rt-123456", client_id="app")
    >>> auth.can_refresh, auth.secrets()
    (True, ['rt-123456'])
    """

    def __init__(self, *, refresh_token: str | None = None, access_token: str | None = None,
                 issuer: str | None = None, client_id: str | None = None, client_secret: str | None = None,
                 token_origins: Sequence[str] = (), discovery_path: str = "/.well-known/openid-configuration",
                 scheme: str | None = "Bearer", refresh_margin_s: float = 60.0) -> None:
        super().__init__(refresh_margin_s=refresh_margin_s)
        if not refresh_token and not access_token:
            raise ConfigError("an OpenID Connect connection needs a refresh_token or an access_token")
        if access_token is not None and not _usable_token(access_token):
            raise ConfigError("the access_token cannot be sent in a header (visible ASCII, at most 16 KB)")
        self.refresh_token, self.access_token = refresh_token, access_token
        self.issuer = issuer.rstrip("/") if issuer else None
        self.client_id, self.client_secret = client_id, client_secret
        self.token_origins, self.discovery_path, self.scheme = tuple(token_origins), discovery_path, scheme
        self._endpoint: str | None = None
        self._initial_used = False  # the configured access token was handed out
        self._rotated = False  # the identity provider answered a new refresh token
        self._register_secrets()

    @property
    def can_refresh(self) -> bool:  # type: ignore[override]
        return bool(self.refresh_token)

    @property
    def refused_hint(self) -> str | None:
        """The hint under a refused token that cannot be renewed (the HTTP client shows it)."""
        return None if self.refresh_token else NO_REFRESH_HINT

    def secrets(self) -> list[str]:
        return [s for s in (self.refresh_token, self.access_token, self.client_secret) if s]

    async def fetch_token(self, client: HttpClient) -> Token:
        if self.access_token and not self._initial_used:
            self._initial_used = True
            return Token(self.access_token, expires_in=None, scheme=self.scheme)
        if not self.refresh_token:
            raise AuthenticationError("the access_token was refused and no refresh_token is set to renew it",
                                      vendor=client.vendor, hint=NO_REFRESH_HINT)
        endpoint = await self.token_endpoint(client)
        form = {"grant_type": "refresh_token", "refresh_token": self.refresh_token}
        form.update({k: v for k, v in (("client_id", self.client_id), ("client_secret", self.client_secret)) if v})
        response = await client.request("POST", endpoint, data=form, headers=_FORM_HEADERS, authenticated=False,
                                        idempotent=True, allow_status=_REJECTED)
        if response.status_code in _REJECTED:
            code = _oauth_code(response)
            if code == "invalid_client":
                raise AuthenticationError("the identity provider refused the client", vendor=client.vendor,
                                          status=response.status_code, vendor_message=_oauth_error(response),
                                          hint="check client_id (and client_secret, if the client has one) in the "
                                               "connection settings: the refresh token is bound to its client")
            raise AuthenticationError("the identity provider refused the refresh token", vendor=client.vendor,
                                      status=response.status_code, vendor_message=_oauth_error(response),
                                      hint=ROTATED_HINT if self._rotated else REFUSED_HINT)
        body = client.decode_json(response)
        value = _field(body, "access_token")
        if not _usable_token(value):
            register_secret(value if isinstance(value, str) else None)
            raise AuthenticationError("the token endpoint answered without an access_token that can be sent in a "
                                      "header", vendor=client.vendor, status=response.status_code)
        assert isinstance(value, str)
        register_secret(value)
        rotated = _field(body, "refresh_token")
        if isinstance(rotated, str) and rotated:
            register_secret(rotated)
            self._rotated = self._rotated or rotated != self.refresh_token
            self.refresh_token = rotated  # the old one may be spent (rotation); kept in memory only
        raw = _field(body, "expires_in")
        expires_in = DEFAULT_EXPIRES_IN_S if raw is None or isinstance(raw, bool) else raw
        return Token(value, expires_in=expires_in if isinstance(expires_in, (int, float)) else DEFAULT_EXPIRES_IN_S,
                     scheme=self.scheme)

    async def token_endpoint(self, client: HttpClient) -> str:
        """The discovered ``token_endpoint`` (read once), checked as the module docstring says."""
        if self._endpoint is not None:
            return self._endpoint
        issuer = self.issuer or origin_of(_base_url(client))
        url = issuer + self.discovery_path
        response = await client.request("GET", url, authenticated=False, allow_status=(404,))
        if response.status_code == 404:
            raise ConfigError(f"no OpenID Connect discovery document at {url}", vendor=client.vendor, status=404,
                              hint="check the issuer in the connection settings")
        body = client.decode_json(response)
        request = f"GET {url}"
        named = _field(body, "issuer")
        if not isinstance(named, str) or named.rstrip("/") != issuer:
            raise VendorResponseError(f"the discovery document names the issuer {str(named)[:120]!r}, not "
                                      f"{issuer!r} (OpenID Connect Discovery 1.0, 4.3)", vendor=client.vendor,
                                      request=request)
        endpoint = _field(body, "token_endpoint")
        if not isinstance(endpoint, str) or not endpoint.lower().startswith(("https://", "http://")):
            raise VendorResponseError("the discovery document has no absolute token_endpoint", vendor=client.vendor,
                                      request=request)
        if not (same_origin(endpoint, issuer) or any(same_origin(endpoint, o) for o in self.token_origins)):
            raise ConnectorError(f"refused to send the refresh token to {origin_of(endpoint)}, the discovery "
                                 f"document's token_endpoint, which is not the issuer's origin {origin_of(issuer)}",
                                 vendor=client.vendor,
                                 hint="if that identity provider is really yours, list its origin in token_origins")
        self._endpoint = endpoint
        return endpoint
