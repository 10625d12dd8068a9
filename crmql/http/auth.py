"""Authentication flows: static headers and cached, self-refreshing OAuth2 tokens.

An :class:`Auth` produces the headers for each request (``headers``), forgets a token the vendor
rejected (``invalidate``) and lists its secrets for redaction (``secrets``). Token-based flows
subclass :class:`TokenAuth` and implement only ``fetch_token``; caching, expiry, the shared
lock and redaction come for free. A vendor-specific flow is a dozen lines:

>>> class KeySecretAuth(TokenAuth):
...     def __init__(self, key: str, secret: str) -> None:
...         super().__init__()
...         self.key, self.secret = key, secret
...         self._register_secrets()
...     def secrets(self) -> list[str]:
...         return [self.secret]
...     async def fetch_token(self, client: AuthClient) -> Token:
...         body = await client.request_json("POST", "/auth", json={"key": self.key,
...             "secret": self.secret}, authenticated=False, idempotent=True)
...         return Token(body["token"], expires_in=600, header="X-Token", scheme=None)
"""

from __future__ import annotations

import asyncio
import base64
import logging
import math
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

import httpx

from crmql.errors import AuthenticationError
from crmql.http.protocols import AuthClient
from crmql.redaction import redact, register_secret

__all__ = ["Auth", "OAuthClientCredentials", "OAuthPassword", "StaticHeaderAuth", "Token", "TokenAuth"]

logger = logging.getLogger(__name__)

DEFAULT_EXPIRES_IN_S = 3600.0
#: a lifetime below this (``expires_in: 0``, ``1e-9``) is taken as the default, a 401 refreshing the
#: token: taken literally it costs a token request per API request. Real tokens live minutes to
#: hours; the refresh margin (at most half the lifetime) still uses a 10 s token 5 s or more.
MIN_EXPIRES_IN_S = 10.0
_FORM_HEADERS = {"Content-Type": "application/x-www-form-urlencoded", "Accept": "application/json"}


class Auth:
    """Base class: no authentication at all.

    >>> from crmql.http.loop import run_sync
    >>> run_sync(Auth().headers(None))
    {}
    """

    #: False when ``invalidate`` cannot produce different credentials (static keys), so the
    #: client reports a 401 at once instead of retrying with the same headers.
    can_refresh: bool = True

    async def headers(self, client: AuthClient) -> dict[str, str]:
        """Headers to add to an authenticated request."""
        return {}

    async def invalidate(self, used: Mapping[str, str]) -> None:
        """The vendor answered 401 to a request sent with ``used``; forget those credentials."""

    def secrets(self) -> list[str]:
        """Every secret this object holds, for :func:`~crmql.redaction.register_secret`."""
        return []

    def _register_secrets(self) -> None:
        for value in self.secrets():
            register_secret(value)


class StaticHeaderAuth(Auth):
    """Fixed headers from the configuration, e.g. an API key; every value counts as a secret.

    >>> from crmql.http.loop import run_sync
    >>> run_sync(StaticHeaderAuth({"X-Api-Key": "k-123456"}).headers(None))
    {'X-Api-Key': 'k-123456'}
    """

    can_refresh = False

    def __init__(self, headers: Mapping[str, str]) -> None:
        self._headers = dict(headers)
        self._register_secrets()

    async def headers(self, client: AuthClient) -> dict[str, str]:
        return dict(self._headers)

    def secrets(self) -> list[str]:
        values = list(self._headers.values())
        for value in list(values):  # "Bearer abc" -> also "abc"
            scheme, _, rest = value.partition(" ")
            if rest and scheme.isalpha():
                values.append(rest)
        return values


@dataclass(frozen=True)
class Token:
    """An access token and how to send it: ``{header: f"{scheme} {value}"}``.

    ``expires_in`` is in seconds from now (``None``: never expires); ``refresh_token`` is kept
    by flows that support the refresh grant.

    >>> Token("abc123", expires_in=60).header_items()
    {'Authorization': 'Bearer abc123'}
    >>> Token("k", header="X-Session", scheme=None).header_items()
    {'X-Session': 'k'}
    """

    value: str
    expires_in: float | None = DEFAULT_EXPIRES_IN_S
    header: str = "Authorization"
    scheme: str | None = "Bearer"
    refresh_token: str | None = None

    def header_items(self) -> dict[str, str]:
        return {self.header: f"{self.scheme} {self.value}" if self.scheme else self.value}


@dataclass
class _Cached:
    token: Token
    headers: dict[str, str]
    refresh_at: float  # time.monotonic() value; inf when the token never expires


class TokenAuth(Auth):
    """A cached token, fetched by :meth:`fetch_token` when missing, near expiry or rejected.

    The token is refreshed once ``now >= expires_at - margin`` where
    ``margin = min(refresh_margin_s, ttl * 0.1)``, so short-lived tokens still get used, but at
    least twice the token request's own round trip (at most half the lifetime): a token handed out
    must outlive the request it goes with, whose wait the vendor may count against it.
    Concurrent callers share one fetch through a lock created lazily on the running loop. A
    lifetime below ``min_lifetime_s`` (default :data:`MIN_EXPIRES_IN_S`) or not finite counts as
    :data:`DEFAULT_EXPIRES_IN_S`: the token is kept until the vendor refuses it (401).
    """

    #: lifetimes below this are not taken literally (see :data:`MIN_EXPIRES_IN_S`)
    min_lifetime_s: float = MIN_EXPIRES_IN_S

    def __init__(self, *, refresh_margin_s: float = 60.0) -> None:
        self.refresh_margin_s = refresh_margin_s
        self._cached: _Cached | None = None
        self._lock: asyncio.Lock | None = None
        self.fetch_count = 0  # how many tokens were obtained (handy in tests and --verbose)

    async def fetch_token(self, client: AuthClient) -> Token:  # pragma: no cover - abstract
        """Obtain a new token from the vendor. Subclasses must implement this."""
        raise NotImplementedError

    def _valid(self) -> _Cached | None:
        cached = self._cached
        if cached is not None and time.monotonic() < cached.refresh_at:
            return cached
        return None

    async def headers(self, client: AuthClient) -> dict[str, str]:
        cached = self._valid()
        if cached is None:
            if self._lock is None:
                self._lock = asyncio.Lock()
            async with self._lock:
                cached = self._valid()  # someone else may have fetched it while we waited
                if cached is None:
                    cached = await self._fetch(client)
        return dict(cached.headers)

    async def _fetch(self, client: AuthClient) -> _Cached:
        started = time.monotonic()
        token = await self.fetch_token(client)
        self.fetch_count += 1
        register_secret(token.value)
        register_secret(token.refresh_token)
        headers = token.header_items()
        for value in headers.values():
            register_secret(value)
        ttl = None if token.expires_in is None else _lifetime(token.expires_in, self.min_lifetime_s)
        if ttl is None:
            refresh_at = float("inf")
        else:
            round_trip = time.monotonic() - started
            margin = max(min(self.refresh_margin_s, ttl * 0.1), min(ttl * 0.5, 2 * round_trip))
            refresh_at = started + ttl - margin
        self._cached = _Cached(token, headers, refresh_at)
        logger.debug("obtained a new token for %s (%s)", client.vendor,  # whole seconds: 3599, not 3598.99694...
                     "no expiry" if ttl is None else f"expires in {ttl:.0f} s")
        return self._cached

    async def invalidate(self, used: Mapping[str, str]) -> None:
        cached = self._cached
        if cached is not None and all(used.get(k) == v for k, v in cached.headers.items()):
            logger.debug("dropping the rejected token")
            self._cached = None


def _lifetime(expires_in: Any, floor: float = MIN_EXPIRES_IN_S) -> float:
    """The seconds a token is used for: ``expires_in`` as a number, or the default when it is
    none, not finite, negative or below ``floor`` (a 401 then refreshes the token).

    >>> _lifetime(900), _lifetime(0), _lifetime(1e-9), _lifetime("NaN"), _lifetime(-5), _lifetime("x")
    (900.0, 3600.0, 3600.0, 3600.0, 3600.0, 3600.0)
    """
    try:
        seconds = float(expires_in)
    except (TypeError, ValueError, OverflowError):
        return DEFAULT_EXPIRES_IN_S
    return seconds if math.isfinite(seconds) and seconds >= max(0.0, floor) else DEFAULT_EXPIRES_IN_S


def _usable_token(token: Any) -> bool:
    """A token that can go in an ``Authorization`` header: visible ASCII, at most 16 KB.

    >>> _usable_token("eyJ.abc-_~+/="), _usable_token({"a": 1}), _usable_token("a\\r\\nX-Evil: 1")
    (True, False, False)
    """
    return isinstance(token, str) and 0 < len(token) <= 16384 and all("!" <= ch <= "~" for ch in token)


def _oauth_error(response: httpx.Response) -> str | None:
    """``error_description`` or ``error`` from an OAuth2 error body, redacted."""
    try:
        body: Any = response.json()
    except (ValueError, RecursionError):  # not JSON, or nested past the stack
        text = response.text.strip()
        return redact(text[:300]) if text else None
    if isinstance(body, dict):
        message = body.get("error_description") or body.get("error") or body.get("message")
        if message:
            return redact(str(message)[:300])
    return None


class _OAuth2(TokenAuth):
    """Shared plumbing for form-encoded OAuth2 token endpoints."""

    _REJECTED = (400, 401, 403)

    def __init__(self, token_path: str, client_id: str, client_secret: str, *, refresh_margin_s: float) -> None:
        super().__init__(refresh_margin_s=refresh_margin_s)
        self.token_path = token_path
        self.client_id = client_id
        self.client_secret = client_secret

    def secrets(self) -> list[str]:
        return [self.client_secret]

    async def _grant(
        self, client: AuthClient, form: dict[str, str], headers: Mapping[str, str] | None = None
    ) -> httpx.Response:
        return await client.request(
            "POST",
            self.token_path,
            data=form,
            headers={**_FORM_HEADERS, **(headers or {})},
            authenticated=False,
            idempotent=True,
            allow_status=self._REJECTED,
        )

    def _rejected(self, client: AuthClient, response: httpx.Response) -> AuthenticationError:
        return AuthenticationError(
            "authentication failed",
            vendor=client.vendor,
            status=response.status_code,
            vendor_message=_oauth_error(response),
            hint="check the client id and secret (and user credentials) in the connection settings",
        )

    def _parse(self, client: AuthClient, response: httpx.Response) -> Token:
        body = client.decode_json(response)  # strict: a malformed body is a VendorResponseError
        token = body.get("access_token") if isinstance(body, dict) else None
        if not _usable_token(token):
            register_secret(token if isinstance(token, str) else None)
            what = "without an access_token" if not token else "with an access_token that cannot be sent in a header"
            raise AuthenticationError(
                f"the token endpoint answered {what}",
                vendor=client.vendor,
                status=response.status_code,
            )
        assert isinstance(body, dict) and isinstance(token, str)
        register_secret(token)
        refresh = body.get("refresh_token")
        register_secret(refresh if isinstance(refresh, str) else None)
        raw = body.get("expires_in")  # absent, "", true, "soon", "NaN" or -5: the default
        expires_in = _lifetime(DEFAULT_EXPIRES_IN_S if raw is None or isinstance(raw, bool) else raw, 0.0)
        scheme = body.get("token_type")
        if not isinstance(scheme, str) or not scheme.isascii() or not scheme.isalnum() or len(scheme) > 32:
            scheme = "Bearer"  # absent, or nothing a header could carry
        if scheme.lower() == "bearer":
            scheme = "Bearer"
        return Token(
            token,
            expires_in=expires_in,
            scheme=scheme,
            refresh_token=refresh if isinstance(refresh, str) and refresh else None,
        )


class OAuthClientCredentials(_OAuth2):
    """OAuth2 ``client_credentials`` grant; the token is cached and refreshed before expiry.

    ``token_path`` is relative to the client's ``base_url`` (or absolute). The client id and
    secret go in the form body, or as HTTP Basic credentials with ``send_as="basic"``.

    >>> auth = OAuthClientCredentials("/oauth/token", "my-id", "my-client-secret")
    >>> auth.secrets()
    ['my-client-secret']
    """

    def __init__(
        self,
        token_path: str,
        client_id: str,
        client_secret: str,
        *,
        send_as: Literal["body", "basic"] = "body",
        extra: Mapping[str, str] | None = None,
        refresh_margin_s: float = 60.0,
    ) -> None:
        super().__init__(token_path, client_id, client_secret, refresh_margin_s=refresh_margin_s)
        if send_as not in ("body", "basic"):
            raise ValueError("send_as must be 'body' or 'basic'")
        self.send_as = send_as
        self.extra = dict(extra or {})
        self._register_secrets()

    def secrets(self) -> list[str]:
        if self.send_as == "basic":
            return [self.client_secret, self._basic()]
        return [self.client_secret]

    def _basic(self) -> str:
        raw = f"{self.client_id}:{self.client_secret}".encode()
        return base64.b64encode(raw).decode("ascii")

    async def fetch_token(self, client: AuthClient) -> Token:
        form = {"grant_type": "client_credentials", **self.extra}
        headers: dict[str, str] = {}
        if self.send_as == "basic":
            headers["Authorization"] = f"Basic {self._basic()}"
        else:
            form.update(client_id=self.client_id, client_secret=self.client_secret)
        response = await self._grant(client, form, headers)
        if response.status_code in self._REJECTED:
            raise self._rejected(client, response)
        return self._parse(client, response)


class OAuthPassword(_OAuth2):
    """OAuth2 ``password`` grant, renewed with the ``refresh_token`` grant.

    When the refresh grant is refused (400/401), the password grant is used once more.

    >>> auth = OAuthPassword("/token", "id", "client-secret", "bob", "bobs-password")
    >>> sorted(auth.secrets())
    ['bobs-password', 'client-secret']
    """

    def __init__(self, token_path: str, client_id: str, client_secret: str, username: str, password: str, *,
                 refresh_margin_s: float = 60.0) -> None:
        super().__init__(token_path, client_id, client_secret, refresh_margin_s=refresh_margin_s)
        self.username = username
        self.password = password
        self._refresh_token: str | None = None
        self._register_secrets()

    def secrets(self) -> list[str]:
        return [self.client_secret, self.password]

    async def fetch_token(self, client: AuthClient) -> Token:
        base = {"client_id": self.client_id, "client_secret": self.client_secret}
        if self._refresh_token:
            form = {"grant_type": "refresh_token", **base, "refresh_token": self._refresh_token}
            response = await self._grant(client, form)
            if response.status_code not in self._REJECTED:
                return self._keep(self._parse(client, response))
            logger.debug("refresh grant refused (HTTP %s); using the password grant", response.status_code)
            self._refresh_token = None
        form = {"grant_type": "password", **base, "username": self.username, "password": self.password}
        response = await self._grant(client, form)
        if response.status_code in self._REJECTED:
            raise self._rejected(client, response)
        return self._keep(self._parse(client, response))

    def _keep(self, token: Token) -> Token:
        if token.refresh_token:
            self._refresh_token = token.refresh_token
        return token
