"""The REST kit's generic connector over real HTTP: a vendor declared only as data (no hook) for
every shape of the five vendors' docs, served by a small Starlette app on loopback, queried with
SQL through a Session.

* ``demo.appointments``: page index (0-based) + ``pageCount``, a ``status=`` filter parameter;
* ``demo.notifications``: ``{count, rows}`` with no page parameter;
* ``demo.tickets``: a plain array, read by id with POST (Voyzu's ``/get/{id}`` style);
* ``demo.units``: one scan per ``community_id`` (a path segment), next links in ``next``, the
  page size in a header;
* ``demo.contacts``: a POST search with ``filters`` and ``options.limit/offset`` in the body, run
  as an asynchronous job (``?async=true``, then polled).
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from crmql.api.session import Session
from crmql.connectors.rest import (
    AsyncJob, ById, Col, CountedPaginator, Explode, FanOut, FieldParams, FilterList, NextLinkPaginator, NoAuth,
    OffsetPaginator, PageIndexPaginator, Place, Resource, RestApi, RestConnector, SinglePage,
)
from crmql.errors import ConnectorError, QueryError, VendorResponseError
from crmql.plan.catalog import ColumnType, RequiredFilter
from crmql.plan.pushdown import Equality

from live_server import vendor_fixtures

S, I = ColumnType.STRING, ColumnType.INTEGER
APPOINTMENTS = [{"id": f"a{i}", "status": "open" if i % 3 else "done", "n": i,
                 "notes": [{"text": f"note {i}.{k}"} for k in range(i % 3)]} for i in range(47)]
NOTIFICATIONS = [{"id": f"n{i}", "text": f"note {i}"} for i in range(7)]
TICKETS = [{"id": f"t{i}", "title": f"ticket {i}"} for i in range(5)]
UNITS = {"c1": [{"id": f"c1-u{i}"} for i in range(5)], "c2": [{"id": "c2-u0"}]}
UPDATES = [{"id": f"u{i}", "updatedAt": f"2025-01-{i + 1:02d}T12:00:00+00:00"} for i in range(20)]
CONTACTS = [{"id": f"p{i}", "city": "Oslo" if i % 2 else "Bergen"} for i in range(23)]


def kinds(kind: str, _settings: Any) -> tuple[Any, ...]:
    return {
        "eq": (Equality("eq", None, case_sensitive=True),),
        "id": (Equality("eq", "in", case_sensitive=True),),
        "key": (Equality("path", "path", case_sensitive=True),),
        "none": (),
    }[kind]


DEMO = RestApi("demo", "Demo", required_settings=("base_url",), auth=NoAuth(), kinds=kinds, resources=(
    Resource("appointments", "appointments", "/api/v1/appointments", records="rows",
             columns=(Col("id", S, "none"), Col("status", S, "eq"), Col("n", I)),
             paginator=PageIndexPaginator(page=Place.query("page"), size=Place.query("limit"), base=0,
                                          page_count="pageCount", max_page=10),
             filters=FieldParams("{field}")),
    Resource("notes", "each appointment's notes", "/api/v1/appointments", records="rows",
             columns=(Col("appointment_id", S), Col("status", S, "eq"), Col("text", S)),
             paginator=PageIndexPaginator(max_page=10), filters=FieldParams("{field}"),
             explode=Explode("notes", {"appointment_id": "id", "status": "status"})),
    Resource("updates", "changed records", "/api/v1/updates", records="rows",
             columns=(Col("id", S), Col("updatedAt", ColumnType.TIMESTAMP),
                      Col("modified_after", ColumnType.TIMESTAMP, param=Place.query("modifiedAfter"))),
             paginator=SinglePage()),
    Resource("broken", "answers as the test says", "/api/v1/broken", records="list",
             columns=(Col("id", S),), paginator=NextLinkPaginator(next="next", size=None, total=None)),
    Resource("notifications", "notifications", "/api/v1/notifications", records="rows",
             columns=(Col("id", S), Col("text", S)), paginator=CountedPaginator(count="count")),
    Resource("tickets", "tickets", "/api/v1/tickets", records="", columns=(Col("id", S, "id"), Col("title", S)),
             paginator=SinglePage(), by_id=ById("/api/tickets/get/{id}", method="POST")),
    Resource("units", "units per community", "/api/v1/communities/{id}/units", records="list",
             columns=(Col("community_id", S, "key"), Col("id", S)),
             paginator=NextLinkPaginator(next="next", size=Place.header("X-Page-Size"), max_page=2, total=None),
             fan_out=FanOut("community_id", noun="community", names="a community"),
             required=(RequiredFilter("community_id", ("=", "IN"), "WHERE community_id = 'c1'"),)),
    Resource("contacts", "contacts", "/api/contacts/search", method="POST", records="rows",
             columns=(Col("id", S), Col("city", S, "eq")), filters=FilterList("filters"),
             paginator=OffsetPaginator(limit=Place.body("options.limit"), offset=Place.body("options.offset"),
                                       max_page=10, total="total"),
             async_job=AsyncJob(first_wait_s=0.001, max_wait_s=0.01, deadline_s=10)),
))


class DemoConnector(RestConnector):
    api = DEMO


class Vendor:
    """The fake vendor; ``seen`` logs every request as ``METHOD path?query [header] body``."""

    def __init__(self) -> None:
        self.seen: list[str] = []
        self.jobs: dict[str, Any] = {}
        self.polls = 0
        self.broken: Any = {"list": []}

    def log(self, request: Request, body: bytes = b"", header: str = "") -> None:
        extra = f" [{header}={request.headers.get(header)}]" if header else ""
        shown = json.dumps(json.loads(body)) if body else ""
        self.seen.append(f"{request.method} {request.url.path}?{request.url.query}{extra} {shown}".strip())

    async def appointments(self, request: Request) -> Response:
        self.log(request)
        rows = [r for r in APPOINTMENTS if request.query_params.get("status") in (None, r["status"])]
        page, limit = int(request.query_params["page"]), int(request.query_params["limit"])
        return JSONResponse({"page": page, "pageCount": -(-len(rows) // limit), "pageSize": limit,
                             "rows": rows[page * limit:(page + 1) * limit]})

    async def notifications(self, request: Request) -> Response:
        self.log(request)
        count = int(request.query_params.get("claim", len(NOTIFICATIONS)))
        return JSONResponse({"pageSize": 50, "count": count, "rowsOnPage": len(NOTIFICATIONS), "rows": NOTIFICATIONS})

    async def broken_list(self, request: Request) -> Response:
        self.log(request)
        return JSONResponse(self.broken)

    async def updates(self, request: Request) -> Response:
        self.log(request)
        after = request.query_params.get("modifiedAfter")
        rows = [u for u in UPDATES if after is None or dt.datetime.fromisoformat(u["updatedAt"]) > dt.datetime.fromisoformat(after)]
        return JSONResponse({"rows": rows})

    async def tickets(self, request: Request) -> Response:
        self.log(request)
        return JSONResponse(TICKETS)

    async def ticket(self, request: Request) -> Response:
        self.log(request)
        found = [t for t in TICKETS if t["id"] == request.path_params["tid"]]
        return JSONResponse(found[0]) if found else JSONResponse({"message": "no such ticket"}, status_code=404)

    async def units(self, request: Request) -> Response:
        self.log(request, header="X-Page-Size")
        units = UNITS.get(request.path_params["cid"])
        if units is None:
            return JSONResponse({"message": "no such community"}, status_code=404)
        start, size = int(request.query_params.get("from", 0)), int(request.headers["X-Page-Size"])
        nxt = f"{request.url.path}?from={start + size}" if start + size < len(units) else None
        return JSONResponse({"list": units[start:start + size], "next": nxt})

    async def contacts(self, request: Request) -> Response:
        body = await request.body()
        self.log(request, body)
        query = json.loads(body)
        rows = [c for c in CONTACTS if all(c[f["field"]] == f["value"] for f in query.get("filters", []))]
        opts = query["options"]
        rid = f"r{len(self.jobs)}"
        self.jobs[rid] = {"total": len(rows), "rows": rows[opts["offset"]:opts["offset"] + opts["limit"]]}
        return JSONResponse({"RequestId": rid})

    async def status(self, request: Request) -> Response:
        self.log(request)
        self.polls += 1
        rid = request.path_params["rid"]
        if self.polls % 2:  # every job answers "running" once
            return JSONResponse({"RequestId": rid, "ProcessStatus": "RUNNING", "PercentComplete": 50})
        return JSONResponse({"RequestId": rid, "ProcessStatus": "PROCESSED", "Result": self.jobs[rid]})

    def app(self) -> Starlette:
        return Starlette(routes=[
            Route("/api/v1/appointments", self.appointments),
            Route("/api/v1/notifications", self.notifications),
            Route("/api/v1/tickets", self.tickets),
            Route("/api/v1/updates", self.updates),
            Route("/api/v1/broken", self.broken_list),
            Route("/api/tickets/get/{tid}", self.ticket, methods=["POST"]),
            Route("/api/v1/communities/{cid}/units", self.units),
            Route("/api/contacts/search", self.contacts, methods=["POST"]),
            Route("/api/request-status/get/{rid}", self.status, methods=["POST"]),
        ])


served, demo = vendor_fixtures(Vendor, DemoConnector, "demo", fixture="demo")


def test_page_index_pages_with_the_filter_as_a_parameter(demo: tuple[Vendor, Session]) -> None:
    vendor, session = demo
    frame = session.query("SELECT id, n FROM demo.appointments WHERE status = 'open' ORDER BY n")
    want = [r for r in APPOINTMENTS if r["status"] == "open"]
    assert list(frame["id"]) == [r["id"] for r in want]
    pages = -(-len(want) // 10)
    assert sorted(vendor.seen) == sorted(f"GET /api/v1/appointments?status=open&limit=10&page={p}" for p in range(pages))


def test_explain_shows_the_request_the_fetcher_sends(demo: tuple[Vendor, Session]) -> None:
    vendor, session = demo
    text = session.explain("SELECT id FROM demo.appointments WHERE status = 'done'")
    assert "GET /api/v1/appointments?status=done&limit=10&page=0" in text
    vendor.seen.clear()
    session.query("SELECT id FROM demo.appointments WHERE status = 'done'")
    assert vendor.seen[0] == "GET /api/v1/appointments?status=done&limit=10&page=0"


def test_a_counted_list_is_read_in_one_request(demo: tuple[Vendor, Session]) -> None:
    vendor, session = demo
    assert list(session.query("SELECT id FROM demo.notifications")["id"]) == [n["id"] for n in NOTIFICATIONS]
    assert vendor.seen == ["GET /api/v1/notifications?"]


def test_a_counted_list_served_short_is_an_error(demo: tuple[Vendor, Session], monkeypatch: pytest.MonkeyPatch) -> None:
    _vendor, session = demo
    res = DEMO.resource("notifications")  # the vendor claims 9 rows and serves 7
    short = Resource(res.name, res.description, res.path, params=(("claim", "9"),), records="rows",
                     columns=res.columns, paginator=res.paginator)
    monkeypatch.setattr(DemoConnector, "api", RestApi("demo", "Demo", (short,), kinds=kinds))
    with pytest.raises(ConnectorError, match="counts 9 rows but served 7"):
        session.query("SELECT id FROM demo.notifications")


def test_a_plain_array_and_reads_by_id_with_post(demo: tuple[Vendor, Session]) -> None:
    vendor, session = demo
    assert len(session.query("SELECT * FROM demo.tickets")) == len(TICKETS)
    vendor.seen.clear()
    frame = session.query("SELECT title FROM demo.tickets WHERE id IN ('t1', 't3', 'zz', '..')")
    assert sorted(frame["title"]) == ["ticket 1", "ticket 3"]
    # '..' cannot be a path segment: it names no ticket and is never sent; 'zz' is a 404, no row
    assert sorted(vendor.seen) == ["POST /api/tickets/get/t1?", "POST /api/tickets/get/t3?", "POST /api/tickets/get/zz?"]


def test_fan_out_per_key_with_the_page_size_in_a_header(demo: tuple[Vendor, Session]) -> None:
    vendor, session = demo
    frame = session.query("SELECT community_id, id FROM demo.units WHERE community_id IN ('c1', 'c2', 'c9') "
                          "ORDER BY id")
    assert list(frame["id"]) == [u["id"] for u in UNITS["c1"] + UNITS["c2"]]
    assert list(frame["community_id"]) == ["c1"] * 5 + ["c2"]
    assert sorted(vendor.seen) == sorted([
        "GET /api/v1/communities/c1/units? [X-Page-Size=2]", "GET /api/v1/communities/c1/units?from=2 [X-Page-Size=2]",
        "GET /api/v1/communities/c1/units?from=4 [X-Page-Size=2]", "GET /api/v1/communities/c2/units? [X-Page-Size=2]",
        "GET /api/v1/communities/c9/units? [X-Page-Size=2]"])


def test_an_async_search_is_submitted_and_polled(demo: tuple[Vendor, Session]) -> None:
    vendor, session = demo
    frame = session.query("SELECT id FROM demo.contacts WHERE city = 'Oslo' ORDER BY id")
    assert sorted(frame["id"]) == sorted(c["id"] for c in CONTACTS if c["city"] == "Oslo")
    submits = [s for s in vendor.seen if s.startswith("POST /api/contacts/search")]
    assert submits[0] == ('POST /api/contacts/search?async=true {"filters": [{"field": "city", "operator": "eq", '
                          '"value": "Oslo"}], "options": {"limit": 10, "offset": 0}}')
    assert len(submits) == 2  # 11 rows at 10 per page, the second page from the first page's total
    assert sum(s.startswith("POST /api/request-status/get/") for s in vendor.seen) == 4


def test_count_reads_the_total_of_a_one_row_request(demo: tuple[Vendor, Session]) -> None:
    vendor, session = demo
    frame = session.query("SELECT COUNT(*) AS n FROM demo.contacts WHERE city = 'Bergen'")
    assert int(frame["n"][0]) == sum(c["city"] == "Bergen" for c in CONTACTS)
    assert [s for s in vendor.seen if "search" in s] == [
        'POST /api/contacts/search?async=true {"filters": [{"field": "city", "operator": "eq", "value": "Bergen"}], '
        '"options": {"limit": 1, "offset": 0}}']


def test_a_child_table_from_a_nested_array(demo: tuple[Vendor, Session]) -> None:
    vendor, session = demo
    want = [(a["id"], n["text"]) for a in APPOINTMENTS if a["status"] == "done" for n in a["notes"]]
    frame = session.query("SELECT appointment_id, text FROM demo.notes WHERE status = 'done'")
    assert sorted(zip(frame["appointment_id"], frame["text"])) == sorted(want)
    assert all("status=done" in s for s in vendor.seen)  # a carried column's condition is the parents' filter
    count = session.query("SELECT COUNT(*) AS n FROM demo.notes")
    assert int(count["n"][0]) == sum(len(a["notes"]) for a in APPOINTMENTS)  # counted, not a parent total
    vendor.seen.clear()
    assert len(session.query("SELECT text FROM demo.notes LIMIT 3")) == 3  # a LIMIT of children, not of parents
    assert vendor.seen == ["GET /api/v1/appointments?limit=10&page=0"]


def test_a_filter_only_column_is_a_request_parameter_the_rows_carry(demo: tuple[Vendor, Session]) -> None:
    vendor, session = demo
    frame = session.query("SELECT id, modified_after FROM demo.updates WHERE modified_after = TIMESTAMP '2025-01-15' "
                          "AND id <> 'u19'")
    assert sorted(frame["id"]) == ["u14", "u15", "u16", "u17", "u18"]
    assert {str(v) for v in frame["modified_after"]} == {"2025-01-15 00:00:00+00:00"}
    assert vendor.seen == ["GET /api/v1/updates?modifiedAfter=2025-01-15T00%3A00%3A00%2B00%3A00"]
    assert "modifiedAfter=2025-01-15T00%3A00%3A00%2B00%3A00" in session.explain(
        "SELECT id FROM demo.updates WHERE modified_after = TIMESTAMP '2025-01-15'")
    assert len(session.query("SELECT id FROM demo.updates")) == len(UPDATES)  # no condition: no parameter
    with pytest.raises(QueryError, match="modified_after exists only as the request parameter modifiedAfter"):
        session.query("SELECT id FROM demo.updates WHERE modified_after > TIMESTAMP '2025-01-15'")


@pytest.mark.parametrize("body, message", [
    ({"message": "try later"}, "malformed response to GET /api/v1/broken: the search response has no 'list' list"),
    ({"list": [{"id": "a"}, "b"]}, "item 2 of the page is a string, not a record"),
    ({"list": [{"id": "a"}], "next": "http://elsewhere.example/api/v1/broken?p=2"},
     "its next link goes to another origin \\(http://elsewhere.example\\)"),
    ({"list": [{"id": "a"}], "next": "/api/v1/broken"}, "points back to a page already read"),
])
def test_every_answer_is_checked_by_the_kit(demo: tuple[Vendor, Session], body: Any, message: str) -> None:
    vendor, session = demo
    vendor.broken = body
    with pytest.raises(VendorResponseError, match=message):
        session.query("SELECT id FROM demo.broken")
    assert all("elsewhere" not in s for s in vendor.seen)  # the token never follows a foreign link
