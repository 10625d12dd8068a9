"""Azavista API simulator (mounted under ``/azavista``).

Documented behaviour (vendor support article, see ``vendor-notes.md`` section 1):

* ``POST /3.0/oauth/token`` (form-encoded): ``client_credentials`` gives an
  access token (no refresh token); ``password`` (client_id, client_secret,
  username, password) also gives a ``refresh_token``; ``refresh_token`` rotates
  it (the old refresh token is invalidated).  Errors: 401 ``invalid_client``,
  400 ``invalid_grant`` / ``unsupported_grant_type`` / ``invalid_request``.
* Every other endpoint needs ``Authorization: Bearer <token>``, else 401
  ``{"error": "invalid_token", ...}``.
* ``POST /3.1/organization/search`` (``organization_filter``),
  ``POST /3.1/contact/search`` (``contact_filter``), ``POST /3.0/event/search``
  (``event_filter``): body ``{"<x>_filter": tree, "limit": n, "offset": n}``;
  limit/offset fall back to the query string; default limit 50, larger limits
  are capped to 50 (the capped value is echoed); answer
  ``{"object_count", "limit", "offset", "<plural>": [...]}``, records ordered
  by ``(created_at, id)``.  Body keys other than the filter key, ``limit``
  and ``offset`` are rejected with 400 (so a misspelt filter key never
  silently returns everything); the body is parsed as JSON whatever the
  Content-Type (the vendor's organization search example sends none).
* ``GET /3.1/organization/{id}``, ``/3.1/contact/{id}``, ``/3.0/event/{id}``;
  404 ``{"error": "not_found", "message": ...}``.
* 400 bodies: ``{"error": "bad_request", "message": "..."}``.

Filter tree: ``{"and": [cond, ...], "or": [cond, ...]}`` (both optional);
matches when ALL "and" conditions hold AND (the "or" list is empty or ANY
holds).  ``cond`` is ``{"<field>": {"<op>": value}}`` or the shorthand
``{"<field>": scalar}`` (= eq).  Nested and/or groups, unknown fields,
unknown keys, operators not allowed for a field's type and ill-typed values
are rejected with 400.  A record missing the field never matches.

Operator table (our reading; the vendor says operators "differ per field type"):

============  =====================  ==========================================
field type    operators              value
============  =====================  ==========================================
string        eq, like, in           string; ``in``: non-empty array of strings
id            eq, in                 string id; ``in``: non-empty array
datetime      after, before          ISO-8601 datetime with offset or Z
integer       eq, in                 number; ``in``: non-empty array of numbers
number        eq, in                 number; ``in``: non-empty array of numbers
boolean       eq                     true / false
============  =====================  ==========================================

Sized and growing events (for the Spark tests): ``CRMQL_SANDBOX_AZAVISTA_EVENTS=N``, read when the
server starts, serves N seed-stable events instead of 2,400 (10,000 = 200 pages of 50; a value that
is not a whole number >= 0 is warned about and ignored); ``server.state.vendor("azavista")
.add_events(n, event_type=None)`` inserts n events created and updated at the server's current UTC
time (thread safe; searches, ``updated_at`` ranges and GET by id see them as soon as it returns).
Records stay ordered by ``(created_at, id)``, so new events come last, as a growing table's do.

Undocumented semantics are switchable via ``SandboxSettings.variants``
(:data:`VARIANTS`, first value is the default):

* ``azavista.like_case``: ``insensitive`` | ``sensitive``
* ``azavista.like_mode``: ``substring`` | ``regex`` (Python ``re.search``)
* ``azavista.eq_case``: ``sensitive`` | ``insensitive`` (eq and in on strings)
* ``azavista.range``: ``exclusive`` (after ``>``, before ``<``) | ``inclusive``
"""

from __future__ import annotations

import json
import logging
import os
import threading
from datetime import datetime, timezone
from typing import Any, Awaitable, Callable, Mapping

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from .data import EVENT_COUNT, NewEvents, sized_events
from .filter import FIELDS, OPERATORS, VARIANTS, FilterError, canonical, compile_filter
from .spec import SIMULATOR, TOKEN_PATH
from ..core.cache import ResultCache
from ..core.data import shared_records
from ..core.oauth import TokenEndpoint, TokenErrors
from ..core.requests import BodyError, TokenGuard, json_object, variants_of
from ..core.state import SandboxState, json_error

__all__ = ["FIELDS", "OPERATORS", "VARIANTS", "TABLES", "MAX_LIMIT", "AzavistaSimulator"]

logger = logging.getLogger(__name__)

VENDOR_NAME = SIMULATOR.name
#: the token endpoint's refusals: ``{"error": <OAuth code>, "error_description": ...}`` (RFC 6749 5.2)
TOKEN_ERRORS = TokenErrors(body=lambda code, message: {"error": code, "error_description": message})
GUARD = TokenGuard()
MAX_LIMIT = 50
DEFAULT_LIMIT = 50
#: how many events the server serves (read when it starts; default 2,400)
ENV_EVENTS = "CRMQL_SANDBOX_AZAVISTA_EVENTS"

#: table -> (API version, singular resource, filter key, response list key)
TABLES: dict[str, tuple[str, str, str, str]] = {
    "organizations": ("3.1", "organization", "organization_filter", "organizations"),
    "contacts": ("3.1", "contact", "contact_filter", "contacts"),
    "events": ("3.0", "event", "event_filter", "events"),
}

Record = dict[str, Any]
Endpoint = Callable[[Request], Awaitable[Response]]


class BadRequest(Exception):
    """A 400 with a human-readable message."""


def _bad_request(message: str) -> JSONResponse:
    return json_error(400, {"error": "bad_request", "message": message})


def _int_param(body: Mapping[str, Any], query: Mapping[str, str], name: str, default: int) -> int:
    if name in body:
        value = body[name]
        if isinstance(value, bool) or not isinstance(value, (int, str)):
            raise BadRequest(f"'{name}' must be an integer, got {json.dumps(value)}")
    elif name in query:
        value = query[name]
    else:
        return default
    if isinstance(value, str):
        text = value.strip()
        if not text.lstrip("-").isdigit():
            raise BadRequest(f"'{name}' must be an integer, got {json.dumps(value)}")
        value = int(text)
    return value


def _event_count() -> int | None:
    """``$CRMQL_SANDBOX_AZAVISTA_EVENTS`` as a count, None when unset or invalid (warned)."""
    raw = os.environ.get(ENV_EVENTS, "").strip()
    if not raw:
        return None
    if not raw.isdigit():
        logger.warning("%s=%r is not a whole number >= 0: the %d seeded events are served", ENV_EVENTS, raw, EVENT_COUNT)
        return None
    return int(raw)


class AzavistaSimulator:
    """Request handlers and test hooks of the Azavista simulator for one server."""

    def __init__(self, state: SandboxState, cache_size: int = 32) -> None:
        self.state = state
        self._cache: ResultCache[list[Record]] = ResultCache(cache_size)
        self._index: dict[tuple[str, int], tuple[int, dict[str, Record]]] = {}  # -> (version, by id)
        self.event_count = _event_count()
        self._added: list[Record] = []
        self._new_events: NewEvents | None = None
        self._events: dict[int, tuple[int, list[Record]]] = {}  # seed -> (len(_added), rows)
        self._lock = threading.Lock()

    def add_events(self, n: int, *, event_type: str | None = None) -> list[Record]:
        """Insert ``n`` events created and updated now (the server's UTC clock), visible to every
        request from when this returns; returns them (copies).

        ``event_type`` (e.g. ``"sales"``) makes them all of that type; else they are drawn as the
        seeded ones are.
        """
        with self._lock:
            if self._new_events is None:
                self._new_events = NewEvents(self.state.settings.seed)
            made = self._new_events.make(n, datetime.now(timezone.utc), event_type)
            self._added = self._added + made  # a new list: a request reading the old one keeps it
            self._events = {}
        logger.debug("azavista: %d events added (%d in all)", n, len(self._added))
        return [dict(event) for event in made]

    def _rows(self, table: str, seed: int) -> tuple[int, list[Record]]:
        """``(version, records)`` of ``table``: the seeded ones, sized and grown for events."""
        if table != "events" or (self.event_count is None and not self._added):
            return 0, shared_records(VENDOR_NAME, table, seed)
        with self._lock:
            built = self._events.get(seed)
            if built is None:
                base = (shared_records(VENDOR_NAME, table, seed) if self.event_count is None
                        else sized_events(seed, self.event_count))
                rows = sorted(base + self._added, key=lambda r: (r["created_at"], r["id"])) if self._added else base
                built = self._events[seed] = (len(self._added), rows)
            return built

    def routes(self) -> list[BaseRoute]:
        """The simulator's routes, relative to the ``/azavista`` prefix."""
        token = TokenEndpoint(self.state, VENDOR_NAME, SIMULATOR.credentials,
                              grants=("client_credentials", "password", "refresh_token"), errors=TOKEN_ERRORS)
        routes: list[BaseRoute] = [Route(TOKEN_PATH, token.handle, methods=["POST"])]
        for table, (version, resource, _, _) in TABLES.items():
            routes.append(Route(f"/{version}/{resource}/search", self._search_endpoint(table),
                                methods=["POST"]))
            routes.append(Route(f"/{version}/{resource}/{{id}}", self._get_endpoint(table),
                                methods=["GET"]))
        return routes

    # ------------------------------------------------------------------ auth
    def _unauthorized(self, request: Request) -> Response | None:
        reason = GUARD.refusal(self.state, VENDOR_NAME, request.headers)
        if reason is None:
            return None
        return json_error(401, {"error": "invalid_token", "error_description": reason},
                          headers={"WWW-Authenticate": 'Bearer error="invalid_token"'})

    # ---------------------------------------------------------------- search
    def _search_endpoint(self, table: str) -> Endpoint:
        async def endpoint(request: Request) -> Response:
            return await self.search(request, table)
        return endpoint

    def _get_endpoint(self, table: str) -> Endpoint:
        async def endpoint(request: Request) -> Response:
            return await self.get_one(request, table)
        return endpoint

    async def search(self, request: Request, table: str) -> Response:
        """``POST /<v>/<resource>/search``."""
        denied = self._unauthorized(request)
        if denied is not None:
            return denied
        try:
            variants = variants_of(self.state.settings, VARIANTS)
        except ValueError as exc:
            return json_error(500, {"error": "sandbox_misconfigured", "message": str(exc)})
        _, _, filter_key, list_key = TABLES[table]
        try:
            body = json_object(await request.body(), empty_is_object=True)
        except BodyError as exc:
            return _bad_request(str(exc))
        for key in body:
            if key not in (filter_key, "limit", "offset"):
                return _bad_request(f"Unknown key '{key}' in request body; expected "
                                    f"'{filter_key}', 'limit' and 'offset'")
        try:
            limit = _int_param(body, request.query_params, "limit", DEFAULT_LIMIT)
            offset = _int_param(body, request.query_params, "offset", 0)
            if limit < 1:
                raise BadRequest(f"'limit' must be at least 1, got {limit}")
            if offset < 0:
                raise BadRequest(f"'offset' must not be negative, got {offset}")
            matches = self.matches(table, body.get(filter_key), variants)
        except (BadRequest, FilterError) as exc:
            return _bad_request(str(exc))
        limit = min(limit, MAX_LIMIT)
        return JSONResponse({"object_count": len(matches), "limit": limit, "offset": offset,
                             list_key: matches[offset:offset + limit]})

    def matches(self, table: str, tree: Any, variants: Mapping[str, str]) -> list[Record]:
        """All records of ``table`` matching ``tree`` (LRU-cached; raises FilterError)."""
        seed = self.state.settings.seed
        _, _, filter_key, _ = TABLES[table]
        version, rows = self._rows(table, seed)
        if tree is None or tree == {}:
            return rows
        def compute() -> list[Record]:
            predicate = compile_filter(table, tree, variants, filter_key)
            return [row for row in rows if predicate(row)]

        key = (table, seed, self.event_count, version, canonical(tree), tuple(sorted(variants.items())))
        return self._cache.get_or_compute(key, compute)

    # ------------------------------------------------------------------- get
    async def get_one(self, request: Request, table: str) -> Response:
        """``GET /<v>/<resource>/{id}``."""
        denied = self._unauthorized(request)
        if denied is not None:
            return denied
        seed = self.state.settings.seed
        version, rows = self._rows(table, seed)
        built = self._index.get((table, seed))
        if built is None or built[0] != version:
            built = self._index[(table, seed)] = (version, {row["id"]: row for row in rows})
        index = built[1]
        record_id = request.path_params["id"]
        record = index.get(record_id)
        if record is None:
            resource = TABLES[table][1]
            return json_error(404, {"error": "not_found",
                                    "message": f"{resource.capitalize()} '{record_id}' not found"})
        return JSONResponse(record)


def build_routes(state: SandboxState) -> list[BaseRoute]:
    """Routes of a fresh simulator bound to ``state`` (its test hooks: ``state.vendor("azavista")``)."""
    simulator = AzavistaSimulator(state)
    state.register_vendor(VENDOR_NAME, simulator)
    return simulator.routes()

