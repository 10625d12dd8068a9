"""An OAuth 2 token endpoint, written once for every simulator (RFC 6749 sections 4.3, 4.4, 6).

A simulator declares which grants it takes, its credentials and its error shape
(:class:`TokenErrors`); :class:`TokenEndpoint` does the rest: the form-encoded body, client
credentials as HTTP Basic or as body fields (Basic fills what the body lacks), the
``client_credentials``, ``password`` and ``refresh_token`` grants (a refresh token is single-use and
rotated), and the token's lifetime from the live ``settings.token_ttl_s``::

    endpoint = TokenEndpoint(state, "atlas", credentials, grants=("client_credentials",), errors=ATLAS_ERRORS)
    Route("/api/1.0/oauth/token", endpoint.handle, methods=["POST"])

>>> read_form(b"grant_type=password&username=a%40b&username=c", "")
{'grant_type': 'password', 'username': 'c'}
>>> read_form(b"grant_type=client_credentials", "Basic aWQ6c2VjcmV0")
{'grant_type': 'client_credentials', 'client_id': 'id', 'client_secret': 'secret'}
"""

from __future__ import annotations

import base64
import binascii
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from .state import SandboxState, json_error

__all__ = ["GRANTS", "TokenEndpoint", "TokenErrors", "read_form"]

logger = logging.getLogger(__name__)

#: the grants a token endpoint can take
GRANTS = ("client_credentials", "password", "refresh_token")


@dataclass(frozen=True)
class TokenErrors:
    """A vendor's answers when its token endpoint refuses.

    ``body(code, message)`` builds the JSON body from the OAuth error code (``invalid_client``,
    ``invalid_request``, ``unsupported_grant_type``, ``invalid_grant``) and the message; each message
    may use ``{grant}`` (the grant as sent) and ``{grant_repr}`` (its Python repr).
    """

    body: Callable[[str, str], dict[str, Any]]
    invalid_client: str = "Client authentication failed"
    missing_grant: str = "Missing grant_type (send a form-encoded body)"
    unsupported_grant: str = "Unsupported grant_type {grant_repr}"
    invalid_password: str = "Invalid username or password"
    invalid_refresh: str = "Invalid or expired refresh token"

    def response(self, status: int, code: str, message: str, grant: str | None = None) -> Response:
        """The error response for one refusal."""
        text = message.format(grant=grant, grant_repr=repr(grant))
        return json_error(status, self.body(code, text))


def read_form(raw: bytes, authorization: str) -> dict[str, str]:
    """The token request's form fields (the last of a repeated field wins), with HTTP Basic client
    credentials filling ``client_id``/``client_secret`` when the body has none."""
    form = dict(parse_qsl(raw.decode("utf-8", "replace"), keep_blank_values=True))
    if authorization[:6].lower() == "basic ":
        try:
            user, _, secret = base64.b64decode(authorization[6:].strip()).decode("utf-8").partition(":")
            form.setdefault("client_id", user)
            form.setdefault("client_secret", secret)
        except (binascii.Error, UnicodeDecodeError):
            pass
    return form


class TokenEndpoint:
    """``POST <token path>`` of one simulator; route it to :meth:`handle`."""

    def __init__(self, state: SandboxState, vendor: str, credentials: Mapping[str, str], *,
                 grants: tuple[str, ...], errors: TokenErrors) -> None:
        unknown = set(grants) - set(GRANTS)
        if unknown:
            raise ValueError(f"unknown grants {sorted(unknown)} (known: {', '.join(GRANTS)})")
        if "password" in grants and not {"username", "password"} <= set(credentials):
            raise ValueError(f"{vendor}: the password grant needs a username and password in the credentials")
        self.state, self.vendor, self.credentials = state, vendor, dict(credentials)
        self.grants, self.errors = grants, errors

    async def handle(self, request: Request) -> Response:
        """Answer one token request (Starlette calls a bound method as a request endpoint)."""
        form = read_form(await request.body(), request.headers.get("authorization", ""))
        creds, errors = self.credentials, self.errors
        if form.get("client_id") != creds["client_id"] or form.get("client_secret") != creds["client_secret"]:
            return errors.response(401, "invalid_client", errors.invalid_client)
        grant = form.get("grant_type")
        if not grant:
            return errors.response(400, "invalid_request", errors.missing_grant)
        if grant not in self.grants:
            return errors.response(400, "unsupported_grant_type", errors.unsupported_grant, grant)
        ttl = self.state.settings.token_ttl_s
        tokens, client = self.state.tokens, creds["client_id"]
        if grant == "client_credentials":
            access = tokens.issue_access(self.vendor, client, ttl)
            return JSONResponse({"access_token": access, "token_type": "Bearer", "expires_in": int(ttl)})
        if grant == "password":
            if form.get("username") != creds.get("username") or form.get("password") != creds.get("password"):
                return errors.response(400, "invalid_grant", errors.invalid_password)
            username = creds["username"]
        else:
            record = tokens.redeem_refresh(self.vendor, client, form.get("refresh_token", ""))
            if record is None:
                return errors.response(400, "invalid_grant", errors.invalid_refresh)
            username = record.username
        access = tokens.issue_access(self.vendor, client, ttl, username)
        refresh = tokens.issue_refresh(self.vendor, client, username)
        return JSONResponse({"access_token": access, "token_type": "Bearer",
                             "expires_in": int(ttl), "refresh_token": refresh})
