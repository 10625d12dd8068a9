"""Auth as declaration: which flow a vendor's connections use, built from the connection settings.

The flows themselves live in :mod:`crmql.http` (they never import the client: httpx's design).
A REST source declares one of these; the connector builds the flow when it first needs a client.

* :class:`OAuth`: OAuth 2 client credentials (the client id and secret in the body or as Basic
  auth, ``auth_style`` overriding the vendor's default) and, where ``password_grant``, the
  password grant with refresh when the connection has a ``username`` (Azavista, Atlas);
* :class:`KeySecretToken`: casavi Manager's ``key``/``secret`` -> a ``token`` header with
  ``expiresAt`` and a refresh call;
* :class:`OidcBearer`: casavi Community's bearer token with OpenID Connect refresh;
* :class:`SessionId`: Voyzu's session id as a cookie or a query parameter.

The last three name flows of :mod:`crmql.http` (flows, session_flow) by class name with the settings they take,
so the declaration stays data: ``KeySecretToken(path="/v2/authenticate")``; the connection settings of
the same names override the declared options (``refresh_path``, ``token_origins``, ``send_as``, a
login's ``login_path``/``login_body``/``login_values``).

>>> OAuth("/3.0/oauth/token").build({"client_id": "a", "client_secret": "b"}).__class__.__name__
'OAuthClientCredentials'
>>> OAuth("/t", send_as="basic").build({"client_id": "a", "client_secret": "b", "username": "u", "password": "p"}).__class__.__name__
'OAuthClientCredentials'
"""

from __future__ import annotations

import importlib
import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from ...errors import ConfigError
from ...http import OAuthClientCredentials, OAuthPassword
from ...http.auth import Auth

__all__ = ["AuthSpec", "FlowAuth", "KeySecretToken", "NoAuth", "OAuth", "OidcBearer", "SessionId"]

log = logging.getLogger(__name__)


class AuthSpec:
    """A declared auth flow."""

    #: connection settings the flow needs (secrets: redacted by the caller)
    settings: tuple[str, ...] = ()

    def build(self, settings: Mapping[str, Any]) -> Auth | None:  # pragma: no cover - interface
        raise NotImplementedError

    def token_request(self, settings: Mapping[str, Any]) -> bool:
        """Whether a connection with ``settings`` asks for a token before its first request."""
        return True

    def token_count(self, settings: Mapping[str, Any]) -> int:
        """How many requests getting the first token takes (EXPLAIN's estimate): 0 or 1 here."""
        return 1 if self.token_request(settings) else 0


@dataclass(frozen=True)
class NoAuth(AuthSpec):
    """No credentials (a public API, or a test double)."""

    def build(self, settings: Mapping[str, Any]) -> Auth | None:
        return None

    def token_request(self, settings: Mapping[str, Any]) -> bool:
        return False


@dataclass(frozen=True)
class OAuth(AuthSpec):
    """OAuth 2 at ``token_path``: client credentials sent as ``send_as`` ("body" or "basic",
    overridden by the ``auth_style`` setting); with ``password_grant`` and a ``username``
    setting, the password grant (with refresh) instead."""

    token_path: str
    send_as: str = "body"
    password_grant: bool = False
    settings: tuple[str, ...] = ("client_id", "client_secret")

    def build(self, settings: Mapping[str, Any]) -> Auth:
        s = settings
        if self.password_grant and s.get("username"):
            return OAuthPassword(self.token_path, s["client_id"], s["client_secret"], s["username"], s["password"])
        return OAuthClientCredentials(self.token_path, s["client_id"], s["client_secret"],
                                      send_as=s.get("auth_style", self.send_as))


@dataclass(frozen=True)
class FlowAuth(AuthSpec):
    """A flow class of :mod:`crmql.http` by name, built with ``options`` plus the listed
    connection settings (each passed as the keyword of the same name)."""

    flow: str = ""
    options: Mapping[str, Any] = field(default_factory=dict)
    settings: tuple[str, ...] = ()
    #: the setting that, when given, is the first credential (no token request before it)
    given: str | None = None
    #: requests the first token takes (OpenID Connect: the discovery document, then the grant)
    requests: int = 1

    def token_count(self, settings: Mapping[str, Any]) -> int:
        return self.requests if self.token_request(settings) else 0

    def token_request(self, settings: Mapping[str, Any]) -> bool:
        return not (self.given and settings.get(self.given))

    def build(self, settings: Mapping[str, Any]) -> Auth:
        try:
            module = importlib.import_module("crmql.http")  # (its lazy map names every flow's module)
            cls = getattr(module, self.flow)
        except (ImportError, AttributeError) as e:
            raise ConfigError(f"auth flow {self.flow} is not available ({e})") from None
        kwargs = {**self.options, **{k: settings[k] for k in self.settings if settings.get(k) is not None}}
        if isinstance(kwargs.get("token_origins"), str):  # one origin, or several separated by commas
            kwargs["token_origins"] = [o.strip() for o in kwargs["token_origins"].split(",") if o.strip()]
        auth: Auth = cls(**kwargs)
        return auth


def KeySecretToken(**options: Any) -> FlowAuth:  # noqa: N802 - reads as a declaration
    """casavi Manager: ``key``/``secret`` -> ``token`` header (see :mod:`crmql.http.flows`)."""
    return FlowAuth("KeySecretTokenAuth", options, ("key", "secret", "refresh_path"))


def OidcBearer(**options: Any) -> FlowAuth:  # noqa: N802
    """casavi Community: bearer token, OpenID Connect refresh (see :mod:`crmql.http.flows`)."""
    return FlowAuth("OidcRefreshAuth", options, ("access_token", "refresh_token", "issuer", "client_id", "client_secret",
                                                 "token_origins"), given="access_token", requests=2)


def SessionId(**options: Any) -> FlowAuth:  # noqa: N802
    """Voyzu: a session id as a cookie or a query parameter (see :mod:`crmql.http.session_flow`)."""
    return FlowAuth("SessionIdAuth", options, ("session_id", "send_as", "login_path", "login_body", "login_values"),
                    given="session_id")
