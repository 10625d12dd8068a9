"""A small casavi Community-like vendor declared on the REST kit (issue #12's kit changes), and a
loopback Starlette app playing it, with switches for what the real simulator does not play (a
vendor that ignores ``?community_id=``, a failing community, a bad page echo, a slow answer).

Communities 1..``communities`` exist (others: 404 ``Community not found``). Community c has 3
tickets (ids c*100+i), 7 appointments, ``notes`` notifications (createdAt c-th day + n seconds,
every other one read), a chat unread count c. Every request is recorded in ``seen``; the most
requests in flight at once in ``peak``. ``no_count``: notifications without ``count``;
``serve_size``: appointments in pages of that size whatever ``limit`` asks.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import math
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from crmql.connectors.rest import (
    ById, Col, CountedPaginator, FanOut, Keyset, OpParams, PageIndexPaginator, Place, Resource, RestApi, RestConnector,
    SinglePage,
)
from crmql.language import ast
from crmql.plan.catalog import Column, ColumnType, RequiredFilter, Table
from crmql.plan.columns import Capability
from crmql.plan.pushdown import Equality, NativeCond, Pushed, Range

from live_server import serve_fresh, session_on

S, I, B, T = ColumnType.STRING, ColumnType.INTEGER, ColumnType.BOOLEAN, ColumnType.TIMESTAMP
DAY0 = dt.datetime(2026, 11, 1, tzinfo=dt.timezone.utc)
NEED = RequiredFilter("community_id", ("=", "IN"), "SELECT ... WHERE community_id = 12")


def iso(value: dt.datetime) -> str:
    return value.astimezone(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


class TrueOnly(Capability):
    """``col = TRUE`` as the native operator "unread" (exact); FALSE stays local."""

    sql_ops = ("= TRUE",)

    def push(self, pred: ast.Expr, column: Column) -> Pushed | str:
        if isinstance(pred, ast.Compare) and pred.op == "=" and getattr(pred.right, "value", None) is True:
            return Pushed((NativeCond(column.native, "unread", True),), True)
        return "only unread = TRUE is a filter of the endpoint"


def kinds(kind: str, settings: Any) -> tuple[Capability, ...]:
    return {"key": (Equality("eq", "in", case_sensitive=True),), "status": (Equality("status", None, case_sensitive=True),),
            "time": (Range("after", "before", inclusive=False, widen=dt.timedelta(milliseconds=1), render=iso),),
            "unread": (TrueOnly(),), "none": ()}[kind]


def _community(path: str, **fan: Any) -> FanOut:
    return FanOut("community_id", op="eq", place=Place.path("community_id") if path else Place.query("community_id"),
                  noun="community", names="a community", **fan)


TICKETS = Resource(
    "tickets", "Tickets (community_id optional)", "/api/v1/tickets", records="", paginator=SinglePage(),
    columns=(Col("id", I, "key"), Col("community_id", I, "key", field="Community.id"), Col("title", S), Col("status", S, "status"),
             Col("ticket_type", S, field="TicketType.name"), Col("community_name", S, field="Community.name")),
    filters=OpParams({"status": "status"}), by_id=ById("/api/v1/tickets/{id}"),
    fan_out=_community("", required=False, carried="Community.id", filters={"status": "status"}))
DETAILS = Resource(
    "ticket_details", "One ticket read by id", "/api/v1/tickets/{ticket_id}", records="",
    paginator=SinglePage(single=True), columns=(Col("id", I, "key"), Col("title", S)),
    fan_out=FanOut("id", op="eq", place=Place.path("ticket_id"), noun="ticket"),
    required=(RequiredFilter("id", ("=", "IN"), "SELECT ... WHERE id = 201"),))
APPOINTMENTS = Resource(
    "appointments", "Appointments (page index)", "/api/v1/communities/{community_id}/appointments", records="rows",
    paginator=PageIndexPaginator(max_page=5), columns=(Col("community_id", I, "key"), Col("id", I), Col("title", S)),
    fan_out=_community("path"), required=(NEED,))
NOTIFICATIONS = Resource(
    "notifications", "Notifications (counted, keyset)", "/api/v1/communities/{community_id}/notifications",
    records="rows", paginator=CountedPaginator(on_short="warn", keyset=Keyset(render=iso)),
    columns=(Col("community_id", I, "key"), Col("id", I), Col("created_at", T, "time", field="createdAt"),
             Col("unread", B, "unread")),
    fan_out=_community("path", filters={"after": "after", "before": "before", "unread": "unreadOnly"}),
    required=(NEED,))
CHAT = Resource(
    "chat_unread", "One count per community (one object)", "/api/v1/communities/{community_id}/chat/unread",
    records="", paginator=SinglePage(single=True), columns=(Col("community_id", I, "key"), Col("count", I)),
    fan_out=_community("path"), required=(NEED,))
COMMUNITIES = Resource("communities", "The communities (a plain array)", "/api/v1/communities", records="",
                       paginator=SinglePage(), columns=(Col("id", I), Col("big", B)))


class KitConnector(RestConnector):
    api = RestApi("cckit", "casavi Community", (TICKETS, DETAILS, APPOINTMENTS, NOTIFICATIONS, CHAT, COMMUNITIES),
                  kinds=kinds)

    def row(self, table: Table, record: dict[str, Any]) -> dict[str, Any]:
        out = super().row(table, record)
        if table.name == "notifications":
            out["unread"] = not record.get("read")
        return out


@dataclass
class Vendor:
    communities: int = 25
    notes: int = 12
    order: str = "newest_first"
    page_base: int = 0
    ignore_key: bool = False
    fail: set[int] = field(default_factory=set)
    echo: int | None = None
    bad_type: bool = False
    chat_list: bool = False
    delay_s: float = 0.0
    #: notifications' answers without their ``count``
    no_count: bool = False
    #: appointments served in pages of this size whatever ``limit`` asks (None: as asked)
    serve_size: int | None = None
    seen: list[str] = field(default_factory=list)
    flight: int = 0
    peak: int = 0

    def app(self) -> Starlette:
        return Starlette(routes=[Route("/{path:path}", self.handle)])

    def tickets(self, c: int) -> list[dict[str, Any]]:
        kind = "Reparatur" if not self.bad_type else "x"
        return [{"id": c * 100 + i, "title": f"T{c}-{i}", "status": "OPEN" if i != 1 else "CLOSED",
                 "Community": {"id": c, "name": f"C{c}"},
                 "TicketType": None if i == 2 else (kind if self.bad_type else {"id": 1, "name": kind})}
                for i in range(3)]

    async def handle(self, request: Request) -> Response:
        self.seen.append(f"GET {request.url.path}" + (f"?{request.url.query}" if request.url.query else ""))
        self.flight += 1
        self.peak = max(self.peak, self.flight)
        try:
            if self.delay_s:
                await asyncio.sleep(self.delay_s)
            return self.answer(request.url.path.split("/")[3:], request.query_params)
        finally:
            self.flight -= 1

    def answer(self, parts: list[str], q: Any) -> Response:
        exists = range(1, self.communities + 1)
        if parts == ["communities"]:
            return JSONResponse([{"id": c, "big": c % 2 == 0} for c in exists])
        if parts[0] == "tickets":
            if len(parts) == 2:
                c, i = divmod(int(parts[1]), 100)
                found = [t for t in self.tickets(c) if t["id"] == int(parts[1])] if c in exists else []
                return JSONResponse(found[0]) if found else JSONResponse({"message": "Not found"}, status_code=404)
            cs = [int(q["community_id"])] if "community_id" in q and not self.ignore_key else list(exists)
            rows = [t for c in cs if c in exists for t in self.tickets(c)]
            return JSONResponse([t for t in rows if "status" not in q or t["status"] == q["status"]])
        c = int(parts[1])
        if c in self.fail:
            return JSONResponse({"message": "boom"}, status_code=500)
        if c not in exists:
            return JSONResponse({"message": "Community not found"}, status_code=404)
        if parts[2] == "chat":
            body: Any = {"count": c}
            return JSONResponse([body] if self.chat_list else body)
        if parts[2] == "appointments":
            asked, limit = int(q["page"]), self.serve_size or int(q["limit"])
            served = max(asked, 1) if self.page_base == 1 else asked
            rows = [{"id": c * 10 + n, "title": f"A{n}"} for n in range(7)]
            start = (served - self.page_base) * limit
            return JSONResponse({"page": served if self.echo is None else self.echo, "pageSize": limit,
                                 "pageCount": math.ceil(7 / limit), "rows": rows[start:start + limit]})
        return self.notifications(c, q)

    def notifications(self, c: int, q: Any) -> Response:
        rows = [{"id": c * 1000 + n, "createdAt": iso(DAY0 + dt.timedelta(days=c, seconds=n)), "read": n % 2 == 0}
                for n in range(self.notes)]
        if "after" in q:
            rows = [r for r in rows if r["createdAt"] > iso(dt.datetime.fromisoformat(q["after"]))]
        if "before" in q:
            rows = [r for r in rows if r["createdAt"] < iso(dt.datetime.fromisoformat(q["before"]))]
        if q.get("unreadOnly") == "true":
            rows = [r for r in rows if not r["read"]]
        rows.sort(key=lambda r: r["createdAt"], reverse=self.order != "oldest_first")
        page = rows[:5]
        if self.order == "unsorted" and len(page) > 2:
            page = [page[1], page[0], *page[2:]]
        body = {"pageSize": 5, "count": len(rows), "rowsOnPage": len(page), "rows": page}
        if self.no_count:
            del body["count"]
        return JSONResponse(body)


#: community 2's appointments and notifications, as the vendor's log records them
APPTS = "GET /api/v1/communities/2/appointments"
NOTES = "GET /api/v1/communities/2/notifications"


def sent(vendor: "Vendor", prefix: str) -> list[str]:
    """The requests the loopback vendor saw that start with ``prefix``."""
    return [s for s in vendor.seen if s.startswith(prefix)]


def fixtures(**settings: Any) -> tuple[Any, Any]:
    """``served`` (module) and ``kit`` (per test: a fresh vendor and a session with connection ``cc``)."""
    import pytest

    @pytest.fixture(scope="module", name="served")
    def served_fixture() -> Iterator[tuple[list[Any], str]]:
        with serve_fresh(Vendor) as served:
            yield served

    @pytest.fixture(name="kit")
    def kit(served: tuple[list[Any], str]) -> Iterator[tuple[Vendor, Any]]:
        holder, url = served
        holder[0] = Vendor()
        with session_on(url, "cc", "cckit", KitConnector, **settings) as session:
            yield holder[0], session

    return served_fixture, kit
