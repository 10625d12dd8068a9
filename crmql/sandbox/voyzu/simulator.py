"""Voyzu CRM API simulator (mounted under ``/voyzu``; a connection's base URL is
``{server.url}/voyzu``, every path below relative to it and starting with ``/api``: the docs'
headings and prose have it, the table omits it, vendor-notes ambiguity 18).

* ``GET /api/{auth,contacts,custom-fields,spreadsheets,users,request-status}/class``: the
  JavaScript class module (``text/javascript``, no session): :mod:`.classes`.
* ``POST /api/auth``: the login, and the session on every other call: :mod:`.auth`.
* ``POST /api/contacts/search`` (ContactsSearchInput): the free-text search and its paging
  readings, :mod:`.search`.
* ``POST /api/contacts/get/{id}``: the WebContact; no such contact: 400
  ``{"ErrorMessage": "contact not found"}`` (documented: a bad id is 400, not 404).
* ``POST /api/spreadsheets/list`` (no body needed, ``{}`` accepted): ``[Spreadsheet]``, or
  ``{"Spreadsheets": [...]}`` under ``voyzu.spreadsheets=object``; 402 ``{"ErrorMessage"}``
  under ``voyzu.subscription=free`` (documented: 402 = needs a paid subscription).
* Any of these POSTs with ``?async=true``: a job (:mod:`.jobs`), polled with ``POST
  /api/request-status/get/{id}`` (``voyzu.poll_path``: or ``/api/request/get/{id}``, or
  ``/request/get/{id}``: the other two are then 404); its result link is
  ``GET <root>/voyzu-results/{id}?sig=`` (:func:`build_root_routes`, outside the prefix).
* The gateway: a sync search or list whose answer would carry more rows than
  :attr:`VoyzuSimulator.gateway_rows` (2500; ``voyzu.gateway=strict``: 500) answers 504
  ``{"message": "Endpoint request timed out"}`` at once (API Gateway's own body and its
  documented 30 s limit, front-end-development.md).
* An unknown path, or a known one with the wrong verb: 404 ``{"message": "Not Found"}``
  (documented: "404 ... check ... that you are using the correct HTTP verb"). A variant value the
  server cannot read: 500.

Settings and test hooks (``server.state.vendor("voyzu")`` is the :class:`VoyzuSimulator`):
``contacts`` (how many of the 8,000 are served: the first N, for fast tests), ``gateway_rows``,
``jobs.async_base_ms``, ``jobs.async_ms_per_1000``, ``auth.session_ttl_s`` (each also read once
from ``CRMQL_SANDBOX_VOYZU_<NAME>`` when the server starts, e.g. ``CRMQL_SANDBOX_VOYZU_CONTACTS=500``),
``jobs.stalled``, ``jobs.fail_next(reason)``, ``auth.expire_sessions()``, and :meth:`reset`.
Latency and faults come from the sandbox core (every path but ``/api/auth``; kinds 540, 541,
504 and 402 answer Voyzu's bodies).
"""

from __future__ import annotations

import logging
import os
from collections.abc import Awaitable, Callable
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from ..core.cache import ResultCache
from ..core.requests import BodyError, json_object, variants_of
from ..core.state import SandboxState, json_error
from .auth import SESSION_TTL_S, VoyzuAuth
from .classes import module
from .data import CONTACTS, contacts, spreadsheets
from .jobs import Jobs
from .search import SearchError, answer_rows, envelope, haystack, matcher, page_request
from .spec import AUTH_PATH, SIMULATOR, VARIANT_KEYS

__all__ = ["GATEWAY_TIMEOUT", "NOT_FOUND", "VoyzuSimulator", "build_root_routes", "build_routes"]

logger = logging.getLogger(__name__)

VENDOR = SIMULATOR.name
NOT_FOUND = {"message": "Not Found"}
GATEWAY_TIMEOUT = {"message": "Endpoint request timed out"}
POLL_PATHS = {"request-status": "/api/request-status/get/{request_id}", "api-request": "/api/request/get/{request_id}",
              "request": "/request/get/{request_id}"}
RESULTS_PATH = "/voyzu-results"
_VERBS = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]
#: the gateway limit under voyzu.gateway=strict
STRICT_GATEWAY_ROWS = 500
Handler = Callable[[Request, dict[str, str]], Awaitable[Response]]


def _env_number(name: str, default: float) -> float:
    raw = os.environ.get(f"CRMQL_SANDBOX_VOYZU_{name}")
    if raw is None or not raw.strip():
        return default
    try:
        value = float(raw)
    except ValueError:
        value = -1
    if value < 0:
        logger.warning("CRMQL_SANDBOX_VOYZU_%s=%r is not a number >= 0: %s is used", name, raw, default)
        return default
    return value


class VoyzuSimulator:
    """Request handlers, settings and test hooks of the Voyzu simulator for one server."""

    def __init__(self, state: SandboxState) -> None:
        self.state = state
        self.auth = VoyzuAuth(state)
        self.jobs = Jobs()
        #: how many contacts are served (the first N of the seed's 8,000)
        self.contacts = CONTACTS
        #: a sync answer with more rows than this is a 504 (API Gateway's 30 s limit)
        self.gateway_rows = 2500
        self._settle()
        self._found: ResultCache[list[dict[str, Any]]] = ResultCache(32)
        self._haystacks: ResultCache[list[tuple[str, ...]]] = ResultCache(4)

    def routes(self) -> list[BaseRoute]:
        """The simulator's routes, relative to the ``/voyzu`` prefix (the last one: every other
        path and verb is 404)."""
        return [
            Route("/api/{resource}/class", self._class, methods=["GET"]),
            Route(AUTH_PATH, self.auth.login, methods=["POST"]),
            Route("/api/contacts/search", self._admitted(self._search), methods=["POST"]),
            Route("/api/contacts/get/{contact_id}", self._admitted(self._get), methods=["POST"]),
            Route("/api/spreadsheets/list", self._admitted(self._spreadsheets), methods=["POST"]),
            *[Route(path, self._admitted(self._poll(name)), methods=["POST"]) for name, path in POLL_PATHS.items()],
            Route("/{path:path}", self._not_found, methods=_VERBS),
        ]

    def _settle(self) -> None:
        """The settings' defaults, or the environment's ``CRMQL_SANDBOX_VOYZU_<NAME>``."""
        self.contacts = int(_env_number("CONTACTS", CONTACTS))
        self.gateway_rows = int(_env_number("GATEWAY_ROWS", 2500))
        self.jobs.async_base_ms = _env_number("ASYNC_BASE_MS", 300)
        self.jobs.async_ms_per_1000 = _env_number("ASYNC_MS_PER_1000", 400)
        self.auth.session_ttl_s = _env_number("SESSION_TTL_S", SESSION_TTL_S) or SESSION_TTL_S

    def reset(self) -> None:
        """Test hook: the default settings (or the environment's), no jobs, the configured session alive."""
        self.jobs.reset()
        self.auth.reset()
        self._settle()

    # ------------------------------------------------------------------ admission
    async def _not_found(self, request: Request) -> Response:
        return json_error(404, dict(NOT_FOUND))

    async def _class(self, request: Request) -> Response:
        try:
            variants = variants_of(self.state.settings, VARIANT_KEYS)
        except ValueError as exc:
            return json_error(500, {"ErrorMessage": str(exc)})
        text = module(request.path_params["resource"], variants)
        if text is None:
            return json_error(404, dict(NOT_FOUND))
        return Response(text, media_type="text/javascript")

    def _admitted(self, handler: Handler) -> Callable[[Request], Awaitable[Response]]:
        async def endpoint(request: Request) -> Response:
            try:
                variants = variants_of(self.state.settings, VARIANT_KEYS)
            except ValueError as exc:
                return json_error(500, {"ErrorMessage": str(exc)})
            denied = self.auth.refusal(request, variants["voyzu.session_in"])
            return denied or await handler(request, variants)
        return endpoint

    def _gateway(self, variants: dict[str, str]) -> int:
        limit = self.gateway_rows
        return min(limit, STRICT_GATEWAY_ROWS) if variants["voyzu.gateway"] == "strict" else limit

    def _answer(self, request: Request, variants: dict[str, str], kind: str, result: Any, rows: int,
                searched: int) -> Response:
        """The answer to a call: a job's RequestStatus under ``?async=true``, else the result, or
        504 when its ``rows`` pass the gateway limit."""
        if request.query_params.get("async", "").lower() == "true":
            job = self.jobs.submit(kind, result, searched)
            return JSONResponse(self.jobs.status(job, variants["voyzu.failure_status"], None))
        if rows > self._gateway(variants):
            logger.debug("voyzu: %s answers %d rows: 504 (gateway)", request.url.path, rows)
            return json_error(504, dict(GATEWAY_TIMEOUT))
        return JSONResponse(result)

    # ------------------------------------------------------------------ contacts
    def rows(self) -> list[dict[str, Any]]:
        """The contacts served (the first :attr:`contacts` of the seed's, ``Id`` ascending)."""
        return contacts(self.state.settings.seed, self.contacts)

    def found(self, text: str, fields: str, match: str) -> list[dict[str, Any]]:
        """The contacts SearchText ``text`` finds under the readings (cached per query)."""
        seed, count = self.state.settings.seed, self.contacts
        rows = self.rows()
        if not text:
            return rows

        def compute() -> list[dict[str, Any]]:
            stacks = self._haystacks.get_or_compute((seed, count, fields),
                                                    lambda: [haystack(row, fields) for row in rows])
            test = matcher(text, match)
            return [row for row, values in zip(rows, stacks) if test(values)]
        return self._found.get_or_compute((seed, count, fields, match, text), compute)

    async def _search(self, request: Request, variants: dict[str, str]) -> Response:
        try:
            body = json_object(await request.body(), empty_is_object=True)
            ask = page_request(body, variants["voyzu.paging"], int(variants["voyzu.max_length"]))
        except (BodyError, SearchError) as exc:
            return json_error(400, {"ErrorMessage": str(exc)})
        found = self.found(ask.text, variants["voyzu.search_fields"], variants["voyzu.search_match"])
        result = envelope(found, len(self.rows()), ask, variants["voyzu.paging"])
        return self._answer(request, variants, "search", result, answer_rows(found, ask), len(self.rows()))

    async def _get(self, request: Request, variants: dict[str, str]) -> Response:
        wanted = request.path_params["contact_id"]
        contact = next((row for row in self.rows() if row["Id"] == wanted), None) \
            if wanted.startswith("c-") else None
        if contact is None:
            return json_error(400, {"ErrorMessage": "contact not found"})
        return self._answer(request, variants, "get", contact, 1, 1)

    async def _spreadsheets(self, request: Request, variants: dict[str, str]) -> Response:
        try:
            json_object(await request.body(), empty_is_object=True)
        except BodyError as exc:
            return json_error(400, {"ErrorMessage": str(exc)})
        if variants["voyzu.subscription"] == "free":
            return json_error(402, {"ErrorMessage": "spreadsheets need a paid subscription"})
        sheets = spreadsheets(self.state.settings.seed)
        result: Any = {"Spreadsheets": sheets} if variants["voyzu.spreadsheets"] == "object" else sheets
        return self._answer(request, variants, "list", result, len(sheets), 0)

    # ------------------------------------------------------------------ async
    def _poll(self, name: str) -> Handler:
        async def poll(request: Request, variants: dict[str, str]) -> Response:
            if variants["voyzu.poll_path"] != name:
                return json_error(404, dict(NOT_FOUND))
            job = self.jobs.get(request.path_params["request_id"])
            if job is None:
                return json_error(400, {"ErrorMessage": "request not found"})
            url = None
            if variants["voyzu.async_result"] == "link":
                root = f"{request.url.scheme}://{request.url.netloc}"
                url = f"{root}{RESULTS_PATH}/{job.id}?sig={self.jobs.signature(job.id)}"
            return JSONResponse(self.jobs.status(job, variants["voyzu.failure_status"], url))
        return poll

    async def result_link(self, request: Request) -> Response:
        """``GET /voyzu-results/{id}?sig=``: a finished job's result, presigned: no credentials."""
        request_id = request.path_params["request_id"]
        credentials = bool(request.cookies.get("voyzu-session-id") or request.query_params.get("voyzu-session-id")
                           or request.headers.get("authorization"))
        self.jobs.link_fetches.append((request_id, credentials))
        if credentials:
            return json_error(400, {"message": "presigned URLs take no credentials"})
        job = self.jobs.get(request_id)
        if job is None:
            return json_error(404, dict(NOT_FOUND))
        if request.query_params.get("sig", "") != self.jobs.signature(request_id):
            return json_error(403, {"message": "The request signature we calculated does not match the signature you provided"})
        return JSONResponse(job.result)


def build_routes(state: SandboxState) -> list[BaseRoute]:
    """Routes of a fresh simulator bound to ``state`` (its test hooks: ``state.vendor("voyzu")``)."""
    simulator = VoyzuSimulator(state)
    state.register_vendor(VENDOR, simulator)
    return simulator.routes()


def build_root_routes(state: SandboxState) -> list[BaseRoute]:
    """The result links' route, at the server root (built after :func:`build_routes`)."""
    simulator: VoyzuSimulator = state.vendor(VENDOR)
    return [Route(RESULTS_PATH + "/{request_id}", simulator.result_link, methods=["GET"])]
