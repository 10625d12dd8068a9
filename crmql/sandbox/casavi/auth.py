"""casavi Manager authentication: ``POST /v2/authenticate``, its refresh, and the ``token`` header.

Documented (``casavi-manager-api.txt``, vendor-notes section 4):

* ``POST /v2/authenticate`` JSON ``{key, secret}`` -> 200 ``{token, expiresAt}``, ``expiresAt``
  ISO-8601 UTC with milliseconds (``2026-12-03T14:00:00.000Z``). The deprecated
  ``{apiKey, email, password}`` is mapped (key = apiKey, secret = password, email ignored).
* The refresh call ``{apiKey, token}`` (the old token) -> ``{token, expiresAt}``. Its path is not
  in the doc: CHOSEN ``/v2/authenticate/refresh`` (listed right after ``/authenticate``, as its
  sibling; vendor-notes ambiguity 22). ``casavi.refresh=absent`` serves no such path (404).
  The old token stays valid until its own expiry; an unknown, revoked or expired old token, or
  another key, is a 401 (the client then authenticates again).
* Every other request sends ``token: <token>`` (a header named ``token``); missing, unknown,
  revoked or expired: 401 ``{"message": "Unauthorized"}``.

Our readings of the rest: wrong credentials 401 ``{"message": "Invalid key or secret"}``; a body
that is not a JSON object, or a field missing, empty or not a string: 400 ``{"message": ...}``.
Tokens live in the sandbox core's token store (lifetime ``settings.token_ttl_s``; the ``expire``
fault revokes them), scoped to this vendor and to the key.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import datetime, timedelta, timezone
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from ..core.data_util import utc_ms
from ..core.requests import BodyError, TokenGuard, json_object
from ..core.state import SandboxState, json_error
from ..core.tokens import TokenError

__all__ = ["CasaviAuth", "GUARD", "login_fields"]

logger = logging.getLogger(__name__)

VENDOR = "casavi"
GUARD = TokenGuard(header="token", scheme=None)


def _text(body: Mapping[str, Any], name: str) -> str:
    value = body.get(name)
    if not isinstance(value, str) or not value:
        raise BodyError(f"'{name}' is required and must be a non-empty string")
    return value


def login_fields(body: Mapping[str, Any]) -> tuple[str, str]:
    """``(key, secret)`` of an authenticate body, current or deprecated form; raises BodyError.

    >>> login_fields({"apiKey": "k", "email": "a@b.de", "password": "s"})
    ('k', 's')
    >>> login_fields({"key": "k"})
    Traceback (most recent call last):
    crmql.sandbox.core.requests.BodyError: 'secret' is required and must be a non-empty string
    """
    if "key" in body or "apiKey" not in body:
        return _text(body, "key"), _text(body, "secret")
    return _text(body, "apiKey"), _text(body, "password")  # deprecated: email is ignored


class CasaviAuth:
    """The token endpoints and the header check of one server's casavi simulator."""

    def __init__(self, state: SandboxState, credentials: Mapping[str, str]) -> None:
        self.state = state
        self.key, self.secret = credentials["key"], credentials["secret"]

    def _issue(self) -> Response:
        ttl = self.state.settings.token_ttl_s
        token = self.state.tokens.issue_access(VENDOR, self.key, ttl)
        expires = datetime.now(timezone.utc) + timedelta(seconds=ttl)
        return JSONResponse({"token": token, "expiresAt": utc_ms(expires)})

    async def authenticate(self, request: Request) -> Response:
        """``POST /v2/authenticate``."""
        try:
            key, secret = login_fields(json_object(await request.body(), empty_is_object=False))
        except BodyError as exc:
            return json_error(400, {"message": str(exc)})
        if key != self.key or secret != self.secret:
            return json_error(401, {"message": "Invalid key or secret"})
        return self._issue()

    async def refresh(self, request: Request) -> Response:
        """``POST /v2/authenticate/refresh`` (``{apiKey, token}``)."""
        try:
            body = json_object(await request.body(), empty_is_object=False)
            key, old = _text(body, "apiKey"), _text(body, "token")
        except BodyError as exc:
            return json_error(400, {"message": str(exc)})
        try:
            record = self.state.tokens.check_access(VENDOR, old)
        except TokenError as exc:
            return json_error(401, {"message": f"Unauthorized: {exc}"})
        if key != self.key or record.client_id != key:
            return json_error(401, {"message": "Unauthorized: the token was not issued for this apiKey"})
        return self._issue()

    def refusal(self, request: Request) -> Response | None:
        """401 ``{"message": "Unauthorized"}`` unless the request's ``token`` header is valid."""
        reason = GUARD.refusal(self.state, VENDOR, request.headers)
        if reason is None:
            return None
        logger.debug("casavi: refused a request: %s", reason)
        return json_error(401, {"message": "Unauthorized"})
