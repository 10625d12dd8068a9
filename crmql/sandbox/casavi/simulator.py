"""casavi Manager API v2 simulator (mounted under ``/casavi``).

A connection's base URL is ``{server.url}/casavi``; every path below is relative to it.

* ``POST /v2/authenticate``, ``POST /v2/authenticate/refresh`` and the ``token`` header:
  :mod:`.auth`.
* ``GET /v2/contacts``, ``/v2/properties``, ``/v2/units`` -> ``{"list": [...], "_links": {"self",
  "next"}}`` (no total, no count): filters in :mod:`.filter`, page size, page number and links in
  :mod:`.paging`. List order: ``internalId`` ascending (CHOSEN; :mod:`.world`).
* ``GET /v2/contacts/{id}``, ``/v2/properties/{id}``, ``/v2/units/{id}``: the customer's reference
  id as one percent-encoded path segment -> the record (the shape of a list item; units read
  ``includeInactiveContracts`` too), or 404 ``{"message": "Not found"}``.
* Errors are ``{"message": ...}``: 400 for a refused parameter or body, 401 ``Unauthorized``,
  404; an unknown path or a wrong method is answered by the sandbox core (404, 405, with
  ``message``). A variant set to a value it does not allow is a 500 (the sandbox is misconfigured).

Records and their readings: :mod:`.data` (served view), :mod:`.world` (the seeded world),
:mod:`.people`/:mod:`.places` (fields). Every ``casavi.*`` variant is declared with its meaning
and source in :mod:`.spec`.

Test hooks: ``server.state.vendor("casavi")`` is the :class:`CasaviSimulator`.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from ..core.cache import ResultCache
from ..core.requests import variants_of
from ..core.state import SandboxState, json_error
from .auth import CasaviAuth
from .data import TABLES, internal_records, served_table
from .filter import ListFilter, ParamError, parse_bool, parse_filter
from .paging import page_links, page_request
from .spec import AUTH_PATH, REFRESH_PATH, SIMULATOR, VARIANT_KEYS

__all__ = ["CasaviSimulator", "build_routes"]

logger = logging.getLogger(__name__)

Record = dict[str, Any]
Endpoint = Callable[[Request], Awaitable[Response]]
VENDOR = SIMULATOR.name
NOT_FOUND = {"message": "Not found"}


class CasaviSimulator:
    """Request handlers of the casavi simulator for one server."""

    def __init__(self, state: SandboxState, cache_size: int = 32) -> None:
        self.state = state
        self.auth = CasaviAuth(state, SIMULATOR.credentials)
        self._cache: ResultCache[list[Record]] = ResultCache(cache_size)
        self._index: dict[tuple[int, str], dict[str, int]] = {}

    def routes(self) -> list[BaseRoute]:
        """The simulator's routes, relative to the ``/casavi`` prefix."""
        routes: list[BaseRoute] = [Route(AUTH_PATH, self.auth.authenticate, methods=["POST"]),
                                   Route(REFRESH_PATH, self._refresh, methods=["POST"])]
        for table in TABLES:
            routes.append(Route(f"/v2/{table}", self._endpoint(self.list, table), methods=["GET"]))
            routes.append(Route(f"/v2/{table}/{{id}}", self._endpoint(self.get_one, table), methods=["GET"]))
        return routes

    def _endpoint(self, handler: Callable[[Request, str], Awaitable[Response]], table: str) -> Endpoint:
        async def endpoint(request: Request) -> Response:
            return await handler(request, table)
        return endpoint

    def _variants(self) -> dict[str, str]:
        return variants_of(self.state.settings, VARIANT_KEYS)

    def _admit(self, request: Request) -> dict[str, str] | Response:
        """The readings a data request is served under, or the answer refusing it (no or a bad
        token: 401; a variant value the server cannot read: 500)."""
        denied = self.auth.refusal(request)
        if denied is not None:
            return denied
        try:
            return self._variants()
        except ValueError as exc:
            return json_error(500, {"message": str(exc)})

    async def _refresh(self, request: Request) -> Response:
        try:
            served = self._variants()["casavi.refresh"] == "served"
        except ValueError as exc:
            return json_error(500, {"message": str(exc)})
        return await self.auth.refresh(request) if served else json_error(404, NOT_FOUND)

    # ------------------------------------------------------------------ lists
    def matches(self, table: str, flt: ListFilter, variants: Mapping[str, str]) -> list[Record]:
        """The served records ``flt`` selects, in list order (LRU-cached per seed, filter and view)."""
        seed = self.state.settings.seed
        postal_number = variants["casavi.postal_code"] == "number"
        view = served_table(seed, table, postal_number=postal_number, include_inactive=flt.include_inactive)
        if flt.selects_all:
            return view

        def compute() -> list[Record]:
            rows = internal_records(table, seed)
            return [view[i] for i, row in enumerate(rows) if flt.matches(row)]

        return self._cache.get_or_compute((seed, table, flt, postal_number), compute)

    async def list(self, request: Request, table: str) -> Response:
        """``GET /v2/<table>``: one page of the filtered list."""
        variants = self._admit(request)
        if isinstance(variants, Response):
            return variants
        params = request.query_params
        try:
            flt = parse_filter(table, params, variants)
            page = page_request(params, variants)
        except ParamError as exc:
            return json_error(400, {"message": str(exc)})
        rows = self.matches(table, flt, variants)
        url = request.url
        links = page_links(f"{url.scheme}://{url.netloc}", url.path, params.multi_items(), page, len(rows), variants)
        return JSONResponse({"list": rows[page.offset:page.offset + page.size], "_links": links})

    # ------------------------------------------------------------------ by id
    def position(self, table: str, record_id: str) -> int | None:
        """Where the record with ``id`` is in the list of the current seed, or None."""
        seed = self.state.settings.seed
        index = self._index.get((seed, table))
        if index is None:
            index = {row["id"]: i for i, row in enumerate(internal_records(table, seed))}
            self._index[(seed, table)] = index
        return index.get(record_id)

    async def get_one(self, request: Request, table: str) -> Response:
        """``GET /v2/<table>/{id}``."""
        variants = self._admit(request)
        if isinstance(variants, Response):
            return variants
        include = False
        if table == "units" and "includeInactiveContracts" in request.query_params:
            try:
                include = parse_bool("includeInactiveContracts", request.query_params["includeInactiveContracts"])
            except ParamError as exc:
                return json_error(400, {"message": str(exc)})
        where = self.position(table, request.path_params["id"])
        if where is None:
            return json_error(404, NOT_FOUND)
        view = served_table(self.state.settings.seed, table, postal_number=variants["casavi.postal_code"] == "number",
                            include_inactive=include)
        return JSONResponse(view[where])


def build_routes(state: SandboxState) -> list[BaseRoute]:
    """Routes of a fresh simulator bound to ``state`` (its test hooks: ``state.vendor("casavi")``)."""
    simulator = CasaviSimulator(state)
    state.register_vendor(VENDOR, simulator)
    return simulator.routes()
