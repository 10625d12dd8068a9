"""A vendor of the coming kind is declaration only: a casavi Community-like source (page index +
page count, a count with no page parameter, a plain array; a bearer token renewed by OpenID
Connect refresh) declared on the REST kit, registered at run time, and queried through a
:class:`~crmql.api.session.Session` over real HTTP against a loopback Starlette app."""

from __future__ import annotations

import math
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from crmql import vendors as registry
from crmql.api.config import Config, ConnectionConfig
from crmql.api.session import Session
from crmql.connectors.rest import (
    Col, CountedPaginator, FieldParams, KeySecretToken, NextLinkPaginator, OidcBearer, PageIndexPaginator, Place,
    Resource, RestApi, RestConnector, SessionId, SinglePage,
)
from crmql.errors import ConnectorError
from crmql.plan.catalog import ColumnType
from crmql.vendors import VendorSpec

from live_server import serve

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
def registered(monkeypatch: pytest.MonkeyPatch, vendor: str, connector: str, app: Any,
               **settings: Any) -> Iterator[Session]:
    """A session whose connection ``cc`` is of ``vendor`` (registered at run time), on ``app``."""
    spec = VendorSpec(name=vendor, display_name=vendor, connector=f"{__name__}:{connector}")
    monkeypatch.setattr(registry, "_registry", {**registry.vendors(), vendor: spec})
    with serve(app) as url:
        app.url = url
        settings = {"base_url": url, "max_attempts": 2, "retry_base_s": 0.001, "retry_cap_s": 0.01, "timeout_s": 5,
                    **settings}
        with Session(Config({"cc": ConnectionConfig("cc", vendor, settings)}, source="test")) as session:
            yield session


@pytest.fixture
def community(monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[Community, Session]]:
    vendor = Community()
    with registered(monkeypatch, "casavi_community", "CommunityConnector", vendor,
                    refresh_token="rt-community-1") as session:
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


# ---------------------------------------------------------------- casavi Manager: key/secret, next links

CONTACTS = Resource(
    "contacts", "Contacts (list + _links.next)", "/v2/contacts", records="list",
    columns=(Col("id", STR), Col("lastName", STR)),
    paginator=NextLinkPaginator(next="_links.next", size=Place.query("pageSize"), max_page=10, total=None),
    filters=FieldParams())


class ManagerConnector(RestConnector):
    api = RestApi("casavi_manager", "casavi Manager", (CONTACTS,), auth=KeySecretToken(path="/v2/authenticate"))


@dataclass
class Manager:
    url: str = ""
    seen: list[tuple[str, str | None]] = field(default_factory=list)
    tokens: set[str] = field(default_factory=set)

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        await Starlette(routes=[Route("/{path:path}", self.handle, methods=["GET", "POST"])])(scope, receive, send)

    async def handle(self, request: Request) -> Response:
        self.seen.append((f"{request.method} {request.url.path}", request.headers.get("token")))
        if request.url.path == "/v2/authenticate":
            if await request.json() != {"key": "mgr-key-1", "secret": "mgr-secret-1"}:
                return JSONResponse({"message": "wrong key or secret"}, status_code=401)
            token = f"tok-{len(self.tokens) + 1}-manager"
            self.tokens.add(token)
            return JSONResponse({"token": token, "expiresAt": "2999-12-05T15:31:10.000Z"})
        if request.headers.get("token") not in self.tokens:
            return JSONResponse({"message": "invalid token"}, status_code=401)
        page = int(request.query_params.get("page", "0"))
        size = int(request.query_params["pageSize"]) if "pageSize" in request.query_params else 10
        rows = [{"id": f"C-{n:04d}", "lastName": f"Smith {n}"} for n in range(23)]
        body: dict[str, Any] = {"list": rows[page * size:(page + 1) * size]}
        if (page + 1) * size < len(rows):
            body["_links"] = {"next": f"/v2/contacts?page={page + 1}&pageSize={size}"}
        return JSONResponse(body)


def test_a_key_secret_vendor_with_next_links(monkeypatch: pytest.MonkeyPatch) -> None:
    vendor = Manager()
    with registered(monkeypatch, "casavi_manager", "ManagerConnector", vendor, key="mgr-key-1",
                    secret="mgr-secret-1") as session:
        frame = session.query("SELECT id FROM cc.contacts WHERE lastName LIKE '%2%' ORDER BY id")
        assert list(frame["id"]) == ["C-0002", "C-0012", "C-0020", "C-0021", "C-0022"]
        assert [s for s, _ in vendor.seen].count("POST /v2/authenticate") == 1
        assert {t for s, t in vendor.seen if s == "GET /v2/contacts"} == {"tok-1-manager"}
        vendor.tokens.clear()  # revoked: one re-authentication, then the scan goes on
        assert len(session.query("SELECT id FROM cc.contacts")) == 23


# ---------------------------------------------------------------- Voyzu: session cookie, POST search

VOYZU_CONTACTS = Resource(
    "contacts", "Contacts (POST search, the whole list)", "/api/contacts/search", method="POST", body={},
    records="Contacts", columns=(Col("Id", STR), Col("RecordType", STR)), paginator=SinglePage(),
    filters=FieldParams(), key="Id")


class VoyzuConnector(RestConnector):
    api = RestApi("voyzu", "Voyzu", (VOYZU_CONTACTS,), auth=SessionId(name="voyzu-session-id"))


@dataclass
class Voyzu:
    url: str = ""
    cookies: list[str | None] = field(default_factory=list)

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        await Starlette(routes=[Route("/{path:path}", self.handle, methods=["GET", "POST"])])(scope, receive, send)

    async def handle(self, request: Request) -> Response:
        self.cookies.append(request.headers.get("cookie"))
        if request.cookies.get("voyzu-session-id") != "s-voyzu-live":
            return JSONResponse({"ErrorMessage": "no session"}, status_code=401)
        return JSONResponse({"Contacts": [{"Id": "v1", "RecordType": "PERSON"},
                                          {"Id": "v2", "RecordType": "ORGANIZATION"}]})


@pytest.mark.parametrize("session_id, ok", [("s-voyzu-live", True), ("s-voyzu-expired", False)])
def test_a_session_cookie_vendor(monkeypatch: pytest.MonkeyPatch, session_id: str, ok: bool) -> None:
    vendor = Voyzu()
    with registered(monkeypatch, "voyzu", "VoyzuConnector", vendor, session_id=session_id) as session:
        if ok:
            assert list(session.query("SELECT Id FROM cc.contacts WHERE RecordType = 'PERSON'")["Id"]) == ["v1"]
        else:
            with pytest.raises(ConnectorError, match=r"authentication failed \[HTTP 401\]: no session"):
                session.query("SELECT Id FROM cc.contacts")
        assert vendor.cookies == [f"voyzu-session-id={session_id}"]
