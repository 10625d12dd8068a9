"""Voyzu sessions in the sandbox: the configured session id, the ``/api/auth`` login, expiry, and
the check on every API request.

Documented (api-documentation.md "Authentication", front-end-development.md): every call but
``/auth`` and ``/class`` carries "the voyzu session cookie"; missing or invalid: 401
Unauthorised; the development server also takes the session id in the query string
(``?voyzu-session-id=<id>``, the poller example). ``POST /api/auth`` takes an AuthInput and
answers an Auth that "contains a 'SessionId' attribute". Our readings (CHOSEN, the issue #13
contract; vendor-notes ambiguity 19):

* The cookie is named ``voyzu-session-id``, as the documented query parameter is.
  ``voyzu.session_in=both`` (DEFAULT, the dev server) takes the cookie or the parameter;
  ``cookie_only`` (production) the cookie only (a parameter alone: 401).
* The configured session ``sandbox-voyzu-session-5c8e1d7a`` never expires by itself; the
  ``expire`` fault (the core revokes every access token: the configured session is tied to one
  held in the core's store) or :meth:`VoyzuAuth.expire_sessions` ends it, :meth:`VoyzuAuth.reset`
  brings it back.
* AuthInput is the sandbox's own ``{"Email", "Password"}`` (the real one is undocumented: login
  goes through Google). The sandbox user's pair answers 200 ``{"SessionId", "Email",
  "ExpiresDate"}`` and ``Set-Cookie: voyzu-session-id=<id>``; the session lives
  ``session_ttl_s`` seconds (a session is the core's access token, so the ``expire`` fault revokes
  it too). Another pair: 401 ``{"ErrorMessage": "invalid credentials"}``; a missing or unknown
  field, or a body that is not a JSON object: 400 with an ErrorMessage.
* Refused: 401 ``{"ErrorMessage": "Unauthorised"}``.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta, timezone

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from ..core.data_util import utc_ms
from ..core.requests import BodyError, json_object
from ..core.state import SandboxState, json_error
from ..core.tokens import TokenError
from .spec import LOGIN, SESSION_COOKIE, SESSION_ID

__all__ = ["UNAUTHORISED", "VoyzuAuth"]

logger = logging.getLogger(__name__)

VENDOR = "voyzu"
UNAUTHORISED = {"ErrorMessage": "Unauthorised"}
#: a login session's lifetime, in seconds (the simulator's ``session_ttl_s``)
SESSION_TTL_S = 3600.0
#: the configured session's stand-in in the core's token store (revoked by the ``expire`` fault)
_FOREVER_S = 10 * 365 * 24 * 3600.0


class VoyzuAuth:
    """The login endpoint and the session check of one server's Voyzu simulator."""

    def __init__(self, state: SandboxState) -> None:
        self.state = state
        #: seconds a session from a login lives
        self.session_ttl_s = SESSION_TTL_S
        self._configured = self._hold()
        self._configured_ended = False
        self.logins = 0

    def _hold(self) -> str:
        return self.state.tokens.issue_access(VENDOR, "configured-session", _FOREVER_S)

    def reset(self) -> None:
        """Test hook: the configured session works again (login sessions stay as they are)."""
        self._configured = self._hold()
        self._configured_ended = False
        self.logins = 0

    def expire_sessions(self, configured: bool = True) -> None:
        """Test hook: end every login session, and the configured one unless ``configured=False``."""
        self.state.tokens.revoke_all_access()
        if not configured:
            self._configured = self._hold()
        else:
            self._configured_ended = True

    def _alive(self, session: str | None) -> bool:
        if not session:
            return False
        if session == SESSION_ID:
            if self._configured_ended:
                return False
            session = self._configured
        try:
            self.state.tokens.check_access(VENDOR, session)
        except TokenError:
            return False
        return True

    def session_of(self, request: Request, session_in: str) -> str | None:
        """The session id a request presents under ``voyzu.session_in`` (the cookie first)."""
        cookie = request.cookies.get(SESSION_COOKIE)
        if cookie:
            return cookie
        return request.query_params.get(SESSION_COOKIE) if session_in == "both" else None

    def refusal(self, request: Request, session_in: str) -> Response | None:
        """401 Unauthorised unless the request carries a live session."""
        if self._alive(self.session_of(request, session_in)):
            return None
        logger.debug("voyzu: refused %s %s: no live session", request.method, request.url.path)
        return json_error(401, dict(UNAUTHORISED))

    async def login(self, request: Request) -> Response:
        """``POST /api/auth``: AuthInput -> Auth (and the session cookie)."""
        try:
            body = json_object(await request.body(), empty_is_object=False)
        except BodyError as exc:
            return json_error(400, {"ErrorMessage": str(exc)})
        unknown = [key for key in body if key not in LOGIN]
        if unknown:
            return json_error(400, {"ErrorMessage": f"invalid AuthInput: unknown property '{unknown[0]}'"})
        missing = [key for key in LOGIN if not isinstance(body.get(key), str) or not body[key]]
        if missing:
            return json_error(400, {"ErrorMessage": f"invalid AuthInput: '{missing[0]}' is required"})
        if body != LOGIN:
            return json_error(401, {"ErrorMessage": "invalid credentials"})
        ttl = self.session_ttl_s
        session = self.state.tokens.issue_access(VENDOR, "login", ttl)
        self.logins += 1
        expires = datetime.now(timezone.utc) + timedelta(seconds=ttl)
        answer = JSONResponse({"SessionId": session, "Email": LOGIN["Email"],
                               "ExpiresDate": utc_ms(expires.replace(microsecond=expires.microsecond // 1000 * 1000))})
        answer.set_cookie(SESSION_COOKIE, session, max_age=int(ttl), path="/", httponly=True, samesite="lax")
        return answer

