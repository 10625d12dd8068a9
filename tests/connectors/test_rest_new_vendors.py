"""A vendor of the coming kind is declaration only: a casavi Community-like source (page index +
page count, a count with no page parameter, a plain array; a bearer token renewed by OpenID
Connect refresh) declared on the REST kit, registered at run time, and queried through a
:class:`~crmql.api.session.Session` over real HTTP against a loopback Starlette app."""

from __future__ import annotations

import math
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs

import pytest
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from crmql import vendors as registry
from crmql.api.config import Config, ConnectionConfig
from crmql.api.session import Session
from crmql.connectors.rest import (
    Col, CountedPaginator, FieldParams, OidcBearer, PageIndexPaginator, Place, Resource, RestApi, RestConnector,
    SinglePage,
)
from crmql.errors import ConnectorError
from crmql.plan.catalog import ColumnType
from crmql.vendors import VendorSpec

STR, INT = ColumnType.STRING, ColumnType.INTEGER

APPOINTMENTS = Resource(
    "appointments", "Appointments (page index from 0 + pageCount)", "/api/v1/appointments", records="rows",
    columns=(Col("id", STR, description="appointment id"), Col("title", STR), Col("n", INT)),
    paginator=PageIndexPaginator(page=Place.query("page"), size=Place.query("limit"), base=0,
                                 page_count="pageCount", max_page=20),
    filters=FieldParams())
NOTIFICATIONS = Resource(
    "notifications", "Notifications (count, no page parameter)", "/api/v1/notifications", records="rows",
    columns=(Col("id", STR), Col("text", STR)), paginator=CountedPaginator(count="count"), filters=FieldParams())
TICKETS = Resource(
    "tickets", "Tickets (a plain array)", "/api/v1/tickets", records="",
    columns=(Col("id", STR), Col("status", STR)), paginator=SinglePage(), filters=FieldParams())


class CommunityConnector(RestConnector):
    """The whole connector: declarations."""

    api = RestApi("casavi_community", "casavi Community", (APPOINTMENTS, NOTIFICATIONS, TICKETS),
                  auth=OidcBearer(client_id="community-app"))


@dataclass
class Community:
    """The fake casavi Community: an identity provider at its own origin's root, the API beside it."""

    appointments: int = 95
    notifications: int = 12
    valid: set[str] = field(default_factory=set)
    seen: list[str] = field(default_factory=list)
    url: str = ""
    tokens: int = 0

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        await Starlette(routes=[Route("/{path:path}", self.handle, methods=["GET", "POST"])])(scope, receive, send)

    async def handle(self, request: Request) -> Response:
        path, query = request.url.path, request.query_params
        self.seen.append(f"{request.method} {path}" + (f"?{request.url.query}" if request.url.query else ""))
        if path == "/.well-known/openid-configuration":
            return JSONResponse({"issuer": self.url, "token_endpoint": f"{self.url}/oauth/token"})
        if path == "/oauth/token":
            form = parse_qs((await request.body()).decode())
            if form.get("refresh_token") != ["rt-community-1"] or form.get("client_id") != ["community-app"]:
                return JSONResponse({"error": "invalid_grant"}, status_code=400)
            self.tokens += 1
            token = f"at-{self.tokens}-community"
            self.valid.add(token)
            return JSONResponse({"access_token": token, "expires_in": 300, "token_type": "Bearer"})
        if request.headers.get("authorization", "").removeprefix("Bearer ") not in self.valid:
            return JSONResponse({"message": "unauthorized"}, status_code=401)
        if path == "/api/v1/appointments":
            page, limit = int(query["page"]), int(query["limit"])
            rows = [{"id": f"a{n}", "title": f"Viewing {n}", "n": n} for n in range(self.appointments)]
            return JSONResponse({"page": page, "pageSize": limit, "pageCount": math.ceil(self.appointments / limit),
                                 "rows": rows[page * limit:(page + 1) * limit]})
        if path == "/api/v1/notifications":
            rows = [{"id": f"n{n}", "text": f"Note {n}"} for n in range(min(self.notifications, 10))]
            return JSONResponse({"pageSize": 10, "count": self.notifications, "rowsOnPage": len(rows), "rows": rows})
        if path == "/api/v1/tickets":
            return JSONResponse([{"id": "t1", "status": "OPEN"}, {"id": "t2", "status": "DONE"},
                                 {"id": "t3", "status": "OPEN"}])
        return JSONResponse({"message": "no such path"}, status_code=404)


@contextmanager
def serve(app: Any) -> Iterator[str]:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    sock.listen(64)
    server = uvicorn.Server(uvicorn.Config(app, log_config=None, log_level="critical", access_log=False,
                                           loop="asyncio", lifespan="off", timeout_graceful_shutdown=1))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        assert thread.is_alive() and time.monotonic() < deadline, "the test server did not start"
        time.sleep(0.005)
    try:
        yield "http://127.0.0.1:%d" % sock.getsockname()[1]
    finally:
        server.should_exit = True
        thread.join(5)
        sock.close()


@pytest.fixture
def community(monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[Community, Session]]:
    spec = VendorSpec(name="casavi_community", display_name="casavi Community",
                      connector=f"{__name__}:CommunityConnector")
    monkeypatch.setattr(registry, "_registry", {**registry.vendors(), "casavi_community": spec})
    vendor = Community()
    with serve(vendor) as url:
        vendor.url = url
        settings = {"base_url": url, "refresh_token": "rt-community-1", "max_attempts": 2, "retry_base_s": 0.001,
                    "retry_cap_s": 0.01, "timeout_s": 5}
        config = Config({"cc": ConnectionConfig("cc", "casavi_community", settings)}, source="test")
        with Session(config) as session:
            yield vendor, session


def test_a_page_index_table_reads_every_page(community: tuple[Community, Session]) -> None:
    vendor, session = community
    frame = session.query("SELECT id, n FROM cc.appointments WHERE n % 10 = 3 ORDER BY n")
    assert list(frame["n"]) == [3, 13, 23, 33, 43, 53, 63, 73, 83, 93]
    pages = [s for s in vendor.seen if s.startswith("GET /api/v1/appointments")]
    assert sorted(pages) == sorted(f"GET /api/v1/appointments?limit=20&page={p}" for p in range(5))
    assert vendor.seen[:2] == ["GET /.well-known/openid-configuration", "POST /oauth/token"]
    assert vendor.tokens == 1


def test_a_limit_reads_only_the_pages_it_needs(community: tuple[Community, Session]) -> None:
    vendor, session = community
    frame = session.query("SELECT id FROM cc.appointments LIMIT 5")
    assert len(frame) == 5
    assert [s for s in vendor.seen if "appointments" in s] == ["GET /api/v1/appointments?limit=5&page=0"]


def test_a_counted_table_complete_or_a_clear_error(community: tuple[Community, Session]) -> None:
    vendor, session = community
    vendor.notifications = 7
    assert len(session.query("SELECT * FROM cc.notifications")) == 7
    vendor.notifications = 25
    with pytest.raises(ConnectorError, match=r"casavi Community \(cc.notifications\): incomplete answer to .*the "
                                             r"vendor counts 25 rows but served 10"):
        session.query("SELECT * FROM cc.notifications")


def test_a_plain_array_table(community: tuple[Community, Session]) -> None:
    _, session = community
    frame = session.query("SELECT id FROM cc.tickets WHERE status = 'OPEN' ORDER BY id")
    assert list(frame["id"]) == ["t1", "t3"]


def test_an_expired_token_is_renewed_by_the_refresh_grant(community: tuple[Community, Session]) -> None:
    vendor, session = community
    session.query("SELECT id FROM cc.tickets")
    vendor.valid.clear()  # every access token expires
    assert len(session.query("SELECT id FROM cc.tickets")) == 3
    assert vendor.tokens == 2
    assert vendor.seen.count("GET /.well-known/openid-configuration") == 1
