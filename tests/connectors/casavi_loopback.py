"""A loopback casavi Manager v2 (contacts only) for the connector's tests over real HTTP: plays what
the simulator does not (a value of the wrong type, a slow answer) and records every list request.

``limit`` up to ``max_size`` (above it: 400 when ``refuse``, else clamped), 25 when absent; ``page``
from 0; next links as paths; ``delay_s`` holds each list answer (two threads' requests overlap);
``key``/``secret``, when set, are the only credentials accepted.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from crmql.connectors.casavi.connector import CasaviConnector

from live_server import serve_fresh, session_on

__all__ = ["Manager", "fixtures"]

TOKEN = "loop-token-1"


@dataclass
class Manager:
    records: list[dict[str, Any]] = field(default_factory=list)
    key: str = ""
    secret: str = ""
    max_size: int = 100
    refuse: bool = False
    delay_s: float = 0.0
    #: the query string of every list request, and the id of every read by id
    lists: list[str] = field(default_factory=list)
    reads: list[str] = field(default_factory=list)

    def app(self) -> Starlette:
        return Starlette(routes=[Route("/v2/authenticate", self.auth, methods=["POST"]),
                                 Route("/v2/contacts", self.contacts), Route("/v2/contacts/{id}", self.one)])

    async def auth(self, request: Request) -> Response:
        if self.key and await request.json() != {"key": self.key, "secret": self.secret}:
            return JSONResponse({"message": "Unauthorized"}, status_code=401)
        return JSONResponse({"token": TOKEN, "expiresAt": "2999-01-01T00:00:00.000Z"})

    async def one(self, request: Request) -> Response:
        self.reads.append(request.path_params["id"])
        found = [r for r in self.records if r["id"] == request.path_params["id"]]
        return JSONResponse(found[0]) if found else JSONResponse({"message": "Not found"}, status_code=404)

    async def contacts(self, request: Request) -> Response:
        if request.headers.get("token") != TOKEN:
            return JSONResponse({"message": "Unauthorized"}, status_code=401)
        query = request.query_params
        self.lists.append(str(request.url.query))
        if self.delay_s:
            await asyncio.sleep(self.delay_s)
        size = int(query.get("limit", 25))
        if size > self.max_size and self.refuse:
            return JSONResponse({"message": f"limit must be between 1 and {self.max_size}"}, status_code=400)
        size = min(size, self.max_size)
        page = int(query.get("page", 0))
        body: dict[str, Any] = {"list": self.records[page * size:(page + 1) * size],
                                "_links": {"self": str(request.url)}}
        if (page + 1) * size < len(self.records):
            body["_links"]["next"] = f"/v2/contacts?{'limit=%d&' % size if 'limit' in query else ''}page={page + 1}"
        return JSONResponse(body)


def fixtures(contact: Callable[[int], dict[str, Any]], key: str, secret: str,
             **defaults: Any) -> tuple[Any, Any, Callable[..., Any]]:
    """A test module's ``served`` (module scope: one server), ``manager`` (per test: a fresh Manager
    of the 230 contacts ``contact(n)``, accepting only ``key``/``secret``) and ``session(served,
    **settings)`` (a session whose ``casavi`` connection is that Manager, with ``defaults``).
    Assign all three at module level: ``served, manager, session = fixtures(contact, KEY, SECRET)``."""
    def make() -> Manager:
        return Manager(records=[contact(n) for n in range(230)], key=key, secret=secret)

    @pytest.fixture(scope="module", name="served")
    def served_fixture() -> Iterator[tuple[list[Any], str]]:
        with serve_fresh(make) as served:
            yield served

    @pytest.fixture(name="manager")
    def manager_fixture(served: tuple[list[Any], str]) -> Manager:
        holder, _ = served
        holder[0] = make()
        return holder[0]

    def session(served: tuple[list[Any], str], **settings: Any) -> Any:
        return session_on(served[1], "casavi", "casavi", CasaviConnector, key=key, secret=secret,
                          **{**defaults, **settings})

    return served_fixture, manager_fixture, session
