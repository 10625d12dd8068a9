"""Voyzu's auth flow: a session id sent as a cookie or as a query parameter, optionally renewed
by a login call whose body is a declared template (its input is undocumented).

>>> auth = SessionIdAuth("s-1234567", send_as="query")
>>> auth.can_refresh, auth.send_as
(False, 'query')
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

import httpx

from crmql.errors import AuthenticationError, ConfigError, ConnectorError
from crmql.http.auth import Token, TokenAuth, _usable_token
from crmql.http.flow_util import REJECTED as _REJECTED, _base_url, _field, _vendor_message
from crmql.http.origin import origin_of, same_origin
from crmql.redaction import install_log_redaction, register_secret

if TYPE_CHECKING:
    from crmql.http.protocols import AuthClient as HttpClient  # the client as a flow sees it

__all__ = ["SessionIdAuth", "render_template"]

logger = logging.getLogger(__name__)
install_log_redaction(logger)

_PLACEHOLDER = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)\}")


def render_template(template: Any, values: Mapping[str, Any]) -> Any:
    """A JSON template with ``{name}`` placeholders filled from ``values``: a string that is only a
    placeholder takes the value as it is (any JSON type), one inside text its ``str``. An unknown
    name is a :class:`~crmql.errors.ConfigError`.

    >>> render_template({"Email": "{user}", "Remember": "{keep}", "Note": "for {user}"},
    ...                 {"user": "a@b.test", "keep": True})
    {'Email': 'a@b.test', 'Remember': True, 'Note': 'for a@b.test'}
    """
    if isinstance(template, dict):
        return {str(k): render_template(v, values) for k, v in template.items()}
    if isinstance(template, list):
        return [render_template(v, values) for v in template]
    if not isinstance(template, str):
        return template
    if unknown := [n for n in _PLACEHOLDER.findall(template) if n not in values]:
        raise ConfigError(f"the login template names {{{unknown[0]}}}, which no login value gives",
                          hint="known: " + (", ".join(sorted(values)) or "none"))
    whole = _PLACEHOLDER.fullmatch(template)
    if whole:
        return values[whole.group(1)]
    return _PLACEHOLDER.sub(lambda m: str(values[m.group(1)]), template)


@dataclass(frozen=True)
class _SessionToken(Token):  # sent as ``Cookie: <name>=<id>``, or in no header (a query parameter)
    cookie: str | None = None

    def header_items(self) -> dict[str, str]:
        return {"Cookie": f"{self.cookie}={self.value}"} if self.cookie else {}


def _cookie_safe(value: Any) -> bool:
    """A session id a cookie can carry (RFC 6265 cookie-octets: no space, quote, comma, ;, \\)."""
    return _usable_token(value) and not any(ch in value for ch in '",;\\')


class SessionIdAuth(TokenAuth):
    """Voyzu: a session id as ``Cookie: <name>=<id>`` or (``send_as="query"``, Voyzu's dev server
    only) the query parameter :meth:`query_params` gives. ``session_id`` is used first; a login
    (``login_body``: a :func:`render_template` JSON template over ``login_values`` and any other
    keyword, all secrets, posted to ``login_path``) gives the next, from ``session_field`` or the ``Set-Cookie`` named
    ``name``. ``can_refresh`` only with a login; without one a refused session is final, and
    :meth:`rejected` words that error for the user. In query placement the request that met the
    401 fails (the client re-sends its URL as it was); the next one carries the new session.

    >>> auth = SessionIdAuth("s-1234567")
    >>> auth.can_refresh, auth.secrets()
    (False, ['s-1234567'])
    """

    def __init__(self, session_id: str | None = None, *, send_as: Literal["cookie", "query"] = "cookie",
                 name: str = "voyzu-session-id", login_path: str = "/api/auth", login_body: Any = None,
                 login_values: Mapping[str, Any] | None = None, session_field: str = "SessionId",
                 refresh_margin_s: float = 60.0, **values: Any) -> None:
        super().__init__(refresh_margin_s=refresh_margin_s)
        if send_as not in ("cookie", "query"):
            raise ConfigError("send_as must be 'cookie' or 'query'")
        if session_id is not None and not _cookie_safe(session_id):
            raise ConfigError("the session id cannot be sent in a cookie (visible ASCII without ; , \" or \\)")
        if session_id is None and login_body is None:
            raise ConfigError("a session connection needs a session id or a login", hint="set session_id")
        self.session_id, self.send_as, self.name, self.login_path = session_id, send_as, name, login_path
        self.session_field, self.login_values = session_field, {**(login_values or {}), **values}
        self._register_secrets()
        self.login = render_template(login_body, self.login_values) if login_body is not None else None
        self._initial_used = False

    @property
    def can_refresh(self) -> bool:  # type: ignore[override]
        return self.login is not None

    def secrets(self) -> list[str]:
        values = [v for v in self.login_values.values() if isinstance(v, str)]
        return [self.session_id, *values] if self.session_id else values

    def _token(self, value: str) -> Token:
        register_secret(value)
        return _SessionToken(value, expires_in=None, scheme=None, cookie=self.name if self.send_as == "cookie" else None)

    async def fetch_token(self, client: HttpClient) -> Token:
        if self.session_id and not self._initial_used:
            self._initial_used = True
            return self._token(self.session_id)
        if self.login is None:  # (the client does not ask: can_refresh is False)
            raise self.rejected(AuthenticationError("refused", vendor=client.vendor, status=401))
        response = await client.request("POST", self.login_path, json=self.login, authenticated=False,
                                        idempotent=True, allow_status=(*_REJECTED, 402))
        if response.status_code in (*_REJECTED, 402):
            raise AuthenticationError("the login was refused", vendor=client.vendor, status=response.status_code,
                                      vendor_message=_vendor_message(response),
                                      hint="check the login values in the connection settings")
        value = _field(client.decode_json(response), self.session_field)
        if value is None:
            cookie = httpx.Cookies()
            cookie.extract_cookies(response)
            value = cookie.get(self.name)
        if not _cookie_safe(value):
            register_secret(value if isinstance(value, str) else None)
            raise AuthenticationError(f"the login answered without a usable {self.session_field} (or a "
                                      f"{self.name} cookie)", vendor=client.vendor, status=response.status_code)
        return self._token(value)

    async def invalidate(self, used: Mapping[str, str]) -> None:
        """Drop the session a refused request carried, and only that one: in query placement it is
        the request's ``name`` parameter (no header says which session a request had), so
        concurrent requests refused with the same old session log in once, not once each."""
        if self.send_as != "query":
            await super().invalidate(used)
        elif self._cached is not None and used.get(self.name) == self._cached.token.value:
            self._cached = None

    async def query_params(self, client: HttpClient, url: str) -> dict[str, str]:
        """``{name: session id}`` for a request to ``url`` in query placement (else ``{}``); a URL
        off the connection's origin is refused, as the client refuses a token header there."""
        if self.send_as != "query":
            return {}
        base = _base_url(client)
        absolute = url if "://" in url or url.startswith("//") else base  # relative: on the base
        if not same_origin(absolute, base):
            raise ConnectorError(f"refused to send the session id to {origin_of(url)}, which is not "
                                 f"{origin_of(base)}", vendor=client.vendor)
        await self.headers(client)
        assert self._cached is not None
        return {self.name: self._cached.token.value}

    def rejected(self, error: AuthenticationError) -> AuthenticationError:
        """``error`` (a 401 on a session with no login) worded for the user; in query placement the
        server may take the session only as a cookie (the query parameter is Voyzu's dev server's).

        >>> print(SessionIdAuth("s-1234567").rejected(AuthenticationError("x", vendor="Voyzu", status=401)))
        Voyzu: the session was refused: it has expired or was signed out [HTTP 401]
          hint: sign in to the vendor again and set session_id, or set login_values to sign in automatically
        >>> print(SessionIdAuth("s-1234567", send_as="query").rejected(AuthenticationError("x", vendor="Voyzu", status=401)))
        Voyzu: the session was refused: it has expired or was signed out, or this server takes it only as a cookie [HTTP 401]
          hint: remove send_session_as = "query" (the query parameter is the development server's); or sign in again and set session_id, or set login_values
        """
        if self.send_as == "query":
            message = "the session was refused: it has expired or was signed out, or this server takes it only as a cookie"
            hint = ('remove send_session_as = "query" (the query parameter is the development server\'s); or sign in '
                    'again and set session_id, or set login_values')
        else:
            message = "the session was refused: it has expired or was signed out"
            hint = "sign in to the vendor again and set session_id, or set login_values to sign in automatically"
        return AuthenticationError(message, vendor=error.vendor, table=error.table, status=error.status,
                                   vendor_message=error.vendor_message, hint=hint)
