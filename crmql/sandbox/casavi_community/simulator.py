"""casavi Community API simulator (mounted under ``/casavi_community``).

A connection's base URL is ``{server.url}/casavi_community``; every path below is relative to it.
The doc's paths are stripped (vendor-notes ambiguity 24): ``/api/v1/units`` is the one its text
names, so every resource is read as ``/api/v1/...``, and the routes documented with a
"path Parameter community_id" as ``/api/v1/communities/{community_id}/<resource>`` (CHOSEN, the
issue #12 contract).

* ``GET /.well-known/openid-configuration``, ``GET /oidc/jwks``, ``POST /oidc/token``,
  ``POST /api/v1/oidc/register``, and the bearer token / ``user_session`` cookie: :mod:`.auth`.
* ``GET /api/v1/tickets[?community_id=N]`` -> plain array of every (or N's) ticket, id ascending
  (= creation order; CHOSEN, the doc shows none); the summary, or the detail under
  ``casavi_community.ticket_list=full`` (:mod:`.data`).
* ``GET /api/v1/tickets/{ticket_id}`` -> the detail, or 404 ``{"message": "Ticket not found"}``.
* ``GET /api/v1/communities/{community_id}/appointments?page=&limit=``, ``.../activities?page=&limit=``,
  ``.../posts?page=`` -> ``{page, pageCount, pageSize, rows}`` (:mod:`.paging`).
* ``GET .../important-contacts`` -> plain array. ``GET /api/v1/faq[?community_id=N]`` -> ``{groups,
  items}``. ``GET /api/v1/units[?community_id=N]`` -> plain array.
* ``GET .../notifications[?after=&before=&unreadOnly=]`` -> ``{pageSize, count, rowsOnPage, rows}``
  (:mod:`.paging`); ``GET .../notifications/unread`` and ``.../chat/unread`` -> ``{count}`` (the
  unread notifications are those the list serves with ``read: false``).
* A community that does not exist (the ids are 1..300, one per Manager property: the sandbox's
  mapping, not a documented fact): 404 ``{"message": "Community not found"}``; a query parameter
  ``community_id`` that is not a whole number: 400. Errors are ``{"message": ...}``; an unknown path
  or method is the sandbox core's 404/405. A variant value the server cannot read: 500.

Test hooks (``server.state.vendor("casavi_community")`` is the :class:`CommunitySimulator`):
``fail_communities`` ({community id: HTTP status}: every API request of that community is answered
with that status, e.g. ``{15: 503}``), :meth:`~CommunitySimulator.add_notification` and
:meth:`~CommunitySimulator.add_ticket` (records added at run time, on top of the seeded ones),
and :meth:`~CommunitySimulator.reset` (back to the seeded state).
Latency and faults come from the sandbox core (every path but the token endpoint).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Awaitable, Callable
from datetime import datetime, timezone
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from ..core.data_util import utc_ms
from ..core.requests import variants_of
from ..core.state import SandboxState, json_error
from .auth import CommunityAuth
from .data import ticket_detail, tickets, units
from .feed import chat_unread, faq, feed
from .paging import (ParamError, notification_envelope, page_envelope, page_request,
                     parse_notification_query)
from .spec import SIMULATOR, TOKEN_PATH, VARIANT_KEYS
from .words import STATUS_TEXT, TICKET_TYPES
from .world import STAFF_BASE, world

__all__ = ["CommunitySimulator", "build_routes"]

logger = logging.getLogger(__name__)

Record = dict[str, Any]
VENDOR = SIMULATOR.name
NO_COMMUNITY = {"message": "Community not found"}
_REASONS = {400: "Bad request", 403: "Forbidden", 404: "Not found", 429: "Too many requests",
            500: "Internal server error", 502: "Bad gateway", 503: "Service unavailable", 504: "Gateway timeout"}
Handler = Callable[[Request, dict[str, str], int], Awaitable[Response]]


class CommunitySimulator:
    """Request handlers and test hooks of the casavi Community simulator for one server."""

    def __init__(self, state: SandboxState) -> None:
        self.state = state
        self.auth = CommunityAuth(state, SIMULATOR.credentials)
        #: test hook: community id -> HTTP status answered for every API request of that community
        self.fail_communities: dict[int, int] = {}
        self._lock = threading.Lock()
        self._notifications: dict[int, list[Record]] = {}
        self._tickets: list[Record] = []

    def routes(self) -> list[BaseRoute]:
        """The simulator's routes, relative to the ``/casavi_community`` prefix."""
        scoped = "/api/v1/communities/{community_id}"
        return [
            Route("/.well-known/openid-configuration", self.auth.discovery, methods=["GET"]),
            Route("/oidc/jwks", self.auth.jwks, methods=["GET"]),
            Route(TOKEN_PATH, self._token, methods=["POST"]),
            Route("/api/v1/oidc/register", self.auth.register, methods=["POST"]),
            Route("/api/v1/tickets", self._optional(self._tickets_list), methods=["GET"]),
            Route("/api/v1/tickets/{ticket_id}", self._ticket, methods=["GET"]),
            Route("/api/v1/faq", self._optional(self._faq), methods=["GET"]),
            Route("/api/v1/units", self._optional(self._units), methods=["GET"]),
            Route(f"{scoped}/appointments", self._scoped(self._paged("appointments", True)), methods=["GET"]),
            Route(f"{scoped}/activities", self._scoped(self._paged("activities", True)), methods=["GET"]),
            Route(f"{scoped}/posts", self._scoped(self._paged("posts", False)), methods=["GET"]),
            Route(f"{scoped}/important-contacts", self._scoped(self._contacts), methods=["GET"]),
            Route(f"{scoped}/chat/unread", self._scoped(self._chat_unread), methods=["GET"]),
            Route(f"{scoped}/notifications/unread", self._scoped(self._notifications_unread), methods=["GET"]),
            Route(f"{scoped}/notifications", self._scoped(self._notifications_list), methods=["GET"]),
        ]

    # ------------------------------------------------------------------ admission
    def _admit(self, request: Request, community: int | None) -> dict[str, str] | Response:
        """The readings a data request is served under, or the answer refusing it (401 without a valid
        token, 404 for no such community, the ``fail_communities`` status, 500 for a bad variant)."""
        denied = self.auth.refusal(request)
        if denied is not None:
            return denied
        if community is not None:
            if not 1 <= community <= len(world(self.state.settings.seed).communities):
                return json_error(404, NO_COMMUNITY)
            status = self.fail_communities.get(community)
            if status is not None:
                return json_error(status, {"message": _REASONS.get(status, "Error")})
        try:
            return variants_of(self.state.settings, VARIANT_KEYS)
        except ValueError as exc:
            return json_error(500, {"message": str(exc)})

    def _scoped(self, handler: Handler) -> Callable[[Request], Awaitable[Response]]:
        async def endpoint(request: Request) -> Response:
            raw = request.path_params["community_id"]
            community = int(raw) if raw.isdigit() else 0  # not a whole number: no such community (404)
            admitted = self._admit(request, community)
            return admitted if isinstance(admitted, Response) else await handler(request, admitted, community)
        return endpoint

    def _optional(self, handler: Handler) -> Callable[[Request], Awaitable[Response]]:
        """An endpoint whose ``community_id`` query parameter is optional (0 = unscoped)."""
        async def endpoint(request: Request) -> Response:
            raw = request.query_params.get("community_id")
            community = None
            if raw is not None:
                if not raw.strip().isdigit():
                    denied = self.auth.refusal(request)
                    return denied or json_error(400, {"message": f"community_id must be a whole number, got {raw!r}"})
                community = int(raw)
            admitted = self._admit(request, community)
            return admitted if isinstance(admitted, Response) else await handler(request, admitted, community or 0)
        return endpoint

    async def _token(self, request: Request) -> Response:
        try:
            rotation = variants_of(self.state.settings, VARIANT_KEYS)["casavi_community.refresh_rotation"]
        except ValueError as exc:
            return json_error(500, {"message": str(exc)})
        return await self.auth.token(request, rotation)

    # ------------------------------------------------------------------ tickets
    def ticket_rows(self, community: int | None) -> list[Record]:
        """The tickets served (seeded + added), id ascending; every community's when ``community`` is None."""
        seed = self.state.settings.seed
        rows = tickets(seed, community)
        added = [t for t in self._tickets if community is None or t["Community"]["id"] == community]
        return rows + added if added else rows

    def _detail(self, ticket_id: int) -> Record | None:
        found = ticket_detail(self.state.settings.seed, ticket_id)
        if found is None:
            found = next((t for t in self._tickets if t["id"] == ticket_id), None)
        return found

    async def _tickets_list(self, request: Request, variants: dict[str, str], community: int) -> Response:
        rows = self.ticket_rows(community or None)
        if variants["casavi_community.ticket_list"] == "full":
            rows = [self._detail(t["id"]) or t for t in rows]
        else:
            rows = [_summary(t) for t in rows] if self._tickets else rows
        return JSONResponse(rows)

    async def _ticket(self, request: Request) -> Response:
        raw = request.path_params["ticket_id"]
        found = self._detail(int(raw)) if raw.isdigit() else None
        admitted = self._admit(request, found["Community"]["id"] if found else None)
        if isinstance(admitted, Response):
            return admitted
        if found is None:
            return json_error(404, {"message": "Ticket not found"})
        return JSONResponse(found)

    # ------------------------------------------------------------------ community resources
    def rows(self, table: str, community: int) -> list[Record]:
        """Community ``community``'s ``table`` as served (seeded + added), in its list order."""
        rows = feed(world(self.state.settings.seed), table, community)
        if table == "notifications" and community in self._notifications:
            rows = rows + self._notifications[community]
        return rows

    def _paged(self, table: str, limit_param: bool) -> Handler:
        async def handler(request: Request, variants: dict[str, str], community: int) -> Response:
            try:
                page = page_request(request.query_params, variants, limit_param=limit_param)
            except ParamError as exc:
                return json_error(400, {"message": str(exc)})
            return JSONResponse(page_envelope(self.rows(table, community), page))
        return handler

    async def _contacts(self, request: Request, variants: dict[str, str], community: int) -> Response:
        return JSONResponse(self.rows("important_contacts", community))

    async def _faq(self, request: Request, variants: dict[str, str], community: int) -> Response:
        return JSONResponse(faq(world(self.state.settings.seed), community or None))

    async def _units(self, request: Request, variants: dict[str, str], community: int) -> Response:
        return JSONResponse(units(self.state.settings.seed, community or None))

    async def _chat_unread(self, request: Request, variants: dict[str, str], community: int) -> Response:
        return JSONResponse({"count": chat_unread(world(self.state.settings.seed), community)})

    async def _notifications_unread(self, request: Request, variants: dict[str, str], community: int) -> Response:
        return JSONResponse({"count": sum(1 for r in self.rows("notifications", community) if not r["read"])})

    async def _notifications_list(self, request: Request, variants: dict[str, str], community: int) -> Response:
        try:
            query = parse_notification_query(request.query_params)
        except ParamError as exc:
            return json_error(400, {"message": str(exc)})
        return JSONResponse(notification_envelope(self.rows("notifications", community), query, variants))

    # ------------------------------------------------------------------ test hooks
    def reset(self) -> None:
        """Forget records added at run time, ``fail_communities`` and issued refresh tokens."""
        with self._lock:
            self._notifications.clear()
            self._tickets.clear()
        self.fail_communities.clear()
        self.auth.reset()

    def add_notification(self, community_id: int, **fields: Any) -> Record:
        """Add a notification to a community at run time (unread, created now unless ``fields`` say
        otherwise); returns the record as served.

        ``fields`` override ``type`` (TICKET), ``title``, ``text``, ``createdAt`` (ISO text), ``read``,
        ``readAt``, ``link``, ``objectId``; ``id`` is the next free one.
        """
        seed = self.state.settings.seed
        world(seed).community(community_id)
        with self._lock:
            number = sum(len(v) for v in self._notifications.values()) + 1
            rec: Record = {"id": 50_000_000 + number, "type": "TICKET", "title": "Neue Benachrichtigung",
                           "text": "Es gibt Neuigkeiten in Ihrer Community.", "createdAt": _now_text(seed, number),
                           "read": False, "readAt": None, "link": "/notifications", "objectId": None}
            rec.update(fields)
            self._notifications.setdefault(community_id, []).append(rec)
        return rec

    def add_ticket(self, community_id: int, **fields: Any) -> Record:
        """Add a ticket to a community at run time (OPEN, type Schadensmeldung, created now unless
        ``fields`` say otherwise); returns its detail. ``fields`` override any detail field."""
        w = world(self.state.settings.seed)
        c = w.community(community_id)
        with self._lock:
            tid = w.tickets[-1]["id"] + len(self._tickets) + 1
            created = _now_text(self.state.settings.seed, len(self._tickets) + 1)
            status = fields.get("status", "OPEN")
            rec: Record = {
                "id": tid, "identifier": len(self.ticket_rows(community_id)) + 1, "referenceId": f"T-{tid}",
                "title": "Neue Meldung", "status": status, "statusText": STATUS_TEXT.get(status, status),
                "createdAt": created, "updatedAt": created, "Community": c.ref,
                "TicketType": {"id": 1, "name": TICKET_TYPES[1]}, "Unit": None, "Contact": None,
                "CreatedBy": c.staff[0] if c.staff else {"id": STAFF_BASE, "firstName": "", "lastName": "Hausverwaltung"},
                "AssignedTo": None, "descriptionRendered": "", "customFields": [], "TicketComments": [],
                "Attachments": [], "TicketRating": None, "Sharings": {}}
            rec.update(fields)
            self._tickets.append(rec)
        return rec


_DETAIL_ONLY = ("descriptionRendered", "customFields", "TicketComments", "Attachments", "TicketRating", "Sharings")


def _summary(ticket: Record) -> Record:
    return {k: v for k, v in ticket.items() if k not in _DETAIL_ONLY}


def _now_text(seed: int, offset_ms: int) -> str:
    """Now (the wall clock, never before the seeded world's "now"), plus ``offset_ms`` to keep adds apart."""
    now = max(datetime.now(timezone.utc), world(seed).now)
    return utc_ms(now.replace(microsecond=(now.microsecond // 1000) * 1000)) if offset_ms == 0 else \
        utc_ms(datetime.fromtimestamp(round(now.timestamp(), 3) + offset_ms / 1000, timezone.utc))


def build_routes(state: SandboxState) -> list[BaseRoute]:
    """Routes of a fresh simulator bound to ``state`` (its test hooks: ``state.vendor("casavi_community")``)."""
    simulator = CommunitySimulator(state)
    state.register_vendor(VENDOR, simulator)
    return simulator.routes()
