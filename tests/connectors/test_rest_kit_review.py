"""The REST kit held to the first review's findings, over real HTTP (a small Starlette vendor on
loopback, queried with SQL through a Session): repeated query parameters of an asynchronous job,
an OR split over records without a key, free-form ids, a page-only paginator under LIMIT, COUNT(*)
without a total, a filter parameter named like a paging one, GET without a body, malformed child
arrays, and EXPLAIN's words when there is no total or no token."""

from __future__ import annotations

from typing import Any

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from crmql.api.session import Session
from crmql.connectors.rest import (
    AsyncJob, ById, Col, Explode, FieldParams, NextLinkPaginator, NoAuth, OffsetPaginator, PageIndexPaginator, Place,
    Resource, RestApi, RestConnector, SinglePage,
)
from crmql.errors import ConnectorError, VendorResponseError
from crmql.plan.catalog import ColumnType, FilterShape
from crmql.plan.pushdown import Equality
from live_server import session_on, vendor_fixtures

S, I = ColumnType.STRING, ColumnType.INTEGER
POSTS = [{"id": f"p{i}", "n": i} for i in range(45)]
TICKETS = [{"id": f"t{i}"} for i in range(5)]
PROPS = [{"id": "HAUS-1/A"}, {"id": "HAUS-2"}, {"id": ".."}]
CONTACTS = [{"id": f"c{i}", "city": ["Oslo", "Bergen", "Bodo"][i % 3]} for i in range(9)]
APPTS = [{"id": f"a{i}", "status": ["open", "done", "late"][i % 3],
          "notes": [{"text": f"note {i}.{k}"} for k in range(2)]} for i in range(9)]


def kinds(kind: str, _settings: Any) -> tuple[Any, ...]:
    return {"eq": (Equality("eq", None, case_sensitive=True),), "id": (Equality("eq", "in", case_sensitive=True),),
            "none": ()}[kind]


API = RestApi("review", "Review", required_settings=("base_url",), auth=NoAuth(), kinds=kinds, resources=(
    Resource("posts", "page only: the vendor's own page size is 20", "/posts", records="rows",
             columns=(Col("id", S), Col("n", I)),
             paginator=PageIndexPaginator(page=Place.query("page"), size=None, max_page=20)),
    Resource("tickets", "a plain array", "/tickets", records="", columns=(Col("id", S),), paginator=SinglePage()),
    Resource("props", "reference ids chosen by the customer", "/props", records="",
             columns=(Col("id", S, "id"),), paginator=SinglePage(),
             by_id=ById("/props/{id}", free_form=True, missing=(404, 410),
                        only="ids are no filter of the list; checked locally")),
    Resource("flaky", "answers 540 (Voyzu's transient error) once", "/flaky", records="", columns=(Col("id", S),)),
    Resource("items", "next links, no total", "/items", records="list", columns=(Col("id", S), Col("kind", S, "eq")),
             paginator=NextLinkPaginator(next="next", size=Place.query("limit"), total=None, max_page=100),
             filters=FieldParams("{field}"), shape=FilterShape(split_or=True, unique_field_op=True)),
    Resource("contacts", "an asynchronous search", "/contacts/search", method="POST", records="rows",
             columns=(Col("id", S), Col("city", S, "eq")), filters=FieldParams(),
             shape=FilterShape(or_groups=1, or_same_field_op=True, unique_field_op=True),
             paginator=OffsetPaginator(limit=Place.query("limit"), offset=Place.query("offset"), max_page=50,
                                       total="total"),
             async_job=AsyncJob(first_wait_s=0.001, max_wait_s=0.01, deadline_s=10)),
    Resource("notes", "each appointment's notes", "/appts", records="rows",
             columns=(Col("appointment_id", S), Col("status", S, "eq"), Col("text", S)),
             paginator=PageIndexPaginator(max_page=10), filters=FieldParams("{field}"),
             explode=Explode("notes", {"appointment_id": "id", "status": "status"})),
), retry_statuses=(540, 541))


class ReviewConnector(RestConnector):
    api = API


class Vendor:
    """The fake vendor; ``seen`` logs every request as ``METHOD path?query body``."""

    def __init__(self) -> None:
        self.seen: list[str] = []
        self.jobs: dict[str, Any] = {}
        self.items: list[dict[str, Any]] = [{"id": "x1", "kind": "gold"}, {"id": "x2", "kind": "silver"}]
        self.appts: list[dict[str, Any]] = APPTS

    async def log(self, request: Request) -> None:
        body = await request.body()
        self.seen.append(f"{request.method} {request.url.path}?{request.url.query} {body.decode()}".strip())

    async def posts(self, request: Request) -> Response:
        await self.log(request)
        page = int(request.query_params["page"])
        return JSONResponse({"page": page, "pageCount": -(-len(POSTS) // 20), "rows": POSTS[page * 20:(page + 1) * 20]})

    async def tickets(self, request: Request) -> Response:
        await self.log(request)
        return JSONResponse(TICKETS)

    async def props(self, request: Request) -> Response:
        await self.log(request)
        return JSONResponse(PROPS)

    async def prop(self, request: Request) -> Response:
        await self.log(request)
        found = [p for p in PROPS if p["id"] == request.path_params["pid"]]
        return JSONResponse(found[0]) if found else JSONResponse({"message": "gone"}, status_code=410)

    async def flaky(self, request: Request) -> Response:
        await self.log(request)
        if len(self.seen) == 1:
            return JSONResponse({"ErrorMessage": "try again"}, status_code=540)
        return JSONResponse(TICKETS)

    async def items_list(self, request: Request) -> Response:
        await self.log(request)
        kinds = request.query_params.getlist("kind")
        return JSONResponse({"list": [i for i in self.items if not kinds or i.get("kind") in kinds], "next": None})

    async def contacts(self, request: Request) -> Response:
        await self.log(request)
        cities = request.query_params.getlist("city[eq]")
        rows = [c for c in CONTACTS if not cities or c["city"] in cities]
        rid = f"r{len(self.jobs)}"
        self.jobs[rid] = {"total": len(rows), "rows": rows}
        return JSONResponse({"RequestId": rid})

    async def status(self, request: Request) -> Response:
        rid = request.path_params["rid"]
        return JSONResponse({"RequestId": rid, "ProcessStatus": "PROCESSED", "Result": self.jobs[rid]})

    async def appts_list(self, request: Request) -> Response:
        await self.log(request)
        rows = [p for p in self.appts if request.query_params.get("status") in (None, p["status"])]
        page, limit = int(request.query_params["page"]), int(request.query_params["limit"])
        return JSONResponse({"pageCount": -(-len(rows) // limit), "rows": rows[page * limit:(page + 1) * limit]})

    def app(self) -> Starlette:
        return Starlette(routes=[
            Route("/posts", self.posts), Route("/tickets", self.tickets), Route("/props", self.props),
            Route("/props/{pid:path}", self.prop), Route("/items", self.items_list), Route("/flaky", self.flaky),
            Route("/contacts/search", self.contacts, methods=["POST"]),
            Route("/api/request-status/get/{rid}", self.status, methods=["POST"]), Route("/appts", self.appts_list),
        ])


served, review = vendor_fixtures(Vendor, ReviewConnector, "rv", fixture="review", vendor="review")


# ---- finding 2: an asynchronous job keeps repeated query parameters (the vendor's OR)
def test_an_async_job_sends_every_value_of_a_repeated_parameter(review: tuple[Vendor, Session]) -> None:
    vendor, session = review
    sql = "SELECT id, city FROM rv.contacts WHERE city = 'Oslo' OR city = 'Bergen'"
    text = session.explain(sql)
    assert "POST /contacts/search?city%5Beq%5D=Oslo&city%5Beq%5D=Bergen&limit=50&offset=0&async=true" in text or \
        "POST /contacts/search?city[eq]=Oslo&city[eq]=Bergen&limit=50&offset=0&async=true" in text, text
    frame = session.query(sql)
    assert sorted(frame["city"]) == sorted(c["city"] for c in CONTACTS if c["city"] in ("Oslo", "Bergen"))
    assert vendor.seen[0].startswith("POST /contacts/search?city%5Beq%5D=Oslo&city%5Beq%5D=Bergen&")
    assert vendor.seen[0].count("async=true") == 1


# ---- finding 3: an OR split de-duplicates by a key every record must have
def test_a_child_table_cannot_be_split_by_or() -> None:
    with pytest.raises(ValueError, match="split"):
        Resource("notes", "n", "/appts", columns=(Col("status", S, "eq"),), paginator=PageIndexPaginator(),
                 filters=FieldParams("{field}"), shape=FilterShape(split_or=True),
                 explode=Explode("notes", {"status": "status"}))


def test_an_or_split_over_records_without_a_key_is_a_vendor_error(review: tuple[Vendor, Session]) -> None:
    vendor, session = review
    vendor.items = [{"kind": "gold"}, {"kind": "silver"}]  # no "id": the union cannot be de-duplicated
    with pytest.raises(VendorResponseError, match="id"):
        session.query("SELECT kind FROM rv.items WHERE kind = 'gold' OR kind = 'silver'")


def test_an_or_split_unions_records_by_key(review: tuple[Vendor, Session]) -> None:
    vendor, session = review
    frame = session.query("SELECT id FROM rv.items WHERE kind = 'gold' OR kind = 'silver'")
    assert sorted(frame["id"]) == ["x1", "x2"]
    assert len(vendor.seen) == 2


# ---- finding 4: a free-form id that cannot be a path segment is found by a scan, not dropped
def test_a_free_form_id_with_a_slash_is_found_by_a_scan(review: tuple[Vendor, Session]) -> None:
    vendor, session = review
    assert list(session.query("SELECT id FROM rv.props WHERE id = 'HAUS-1/A'")["id"]) == ["HAUS-1/A"]
    assert vendor.seen == ["GET /props?"]
    vendor.seen.clear()
    assert sorted(session.query("SELECT id FROM rv.props WHERE id IN ('HAUS-1/A', '..')")["id"]) == ["..", "HAUS-1/A"]
    vendor.seen.clear()
    assert list(session.query("SELECT id FROM rv.props WHERE id = 'HAUS-2'")["id"]) == ["HAUS-2"]
    assert vendor.seen == ["GET /props/HAUS-2?"]


# ---- finding 5: a paginator that takes no page size stops by count under LIMIT
def test_a_page_only_paginator_under_limit(review: tuple[Vendor, Session]) -> None:
    vendor, session = review
    assert list(session.query("SELECT id FROM rv.posts LIMIT 5")["id"]) == [f"p{i}" for i in range(5)]
    assert vendor.seen == ["GET /posts?page=0"]
    vendor.seen.clear()
    assert len(session.query("SELECT id FROM rv.posts LIMIT 25")) == 25
    assert vendor.seen == ["GET /posts?page=0", "GET /posts?page=1"]
    text = session.explain("SELECT id FROM rv.posts LIMIT 5")
    assert "5 per page" not in text and "20 per page, stopping after 5 rows" in text, text
    assert "at most 1 search request(s)" in text, text


# ---- finding 6: COUNT(*) with no total is one scan, counted locally
@pytest.mark.parametrize("table, requests", [("tickets", ["GET /tickets?"]),
                                             ("posts", ["GET /posts?page=0", "GET /posts?page=1", "GET /posts?page=2"])])
def test_count_without_a_total_is_a_counted_scan(review: tuple[Vendor, Session], table: str,
                                                 requests: list[str], caplog: pytest.LogCaptureFixture) -> None:
    vendor, session = review
    frame = session.query(f"SELECT COUNT(*) AS n FROM rv.{table}")
    assert int(frame["n"][0]) == {"tickets": len(TICKETS), "posts": len(POSTS)}[table]
    assert sorted(vendor.seen) == requests
    assert "no usable total" not in caplog.text
    assert "None" not in session.explain(f"SELECT COUNT(*) FROM rv.{table}")


# ---- finding 7: a filter parameter named like a paging parameter is refused when declared
def test_a_filter_parameter_named_like_a_paging_parameter_is_refused() -> None:
    with pytest.raises(ValueError, match="limit"):
        Resource("items", "i", "/items", records="list", columns=(Col("id", S), Col("limit", S, "eq")),
                 paginator=NextLinkPaginator(next="next", size=Place.query("limit"), total=None),
                 filters=FieldParams("{field}"))
    with pytest.raises(ValueError, match="page"):
        Resource("posts", "p", "/posts", params=(("page", "1"),), paginator=PageIndexPaginator())


def test_a_paging_value_never_replaces_a_filter_parameter() -> None:
    from crmql.plan.connector import FilterSet
    from crmql.plan.pushdown import NativeCond
    res = Resource("items", "i", "/items", records="list", columns=(Col("id", S), Col("k", S, "eq")),
                   paginator=NextLinkPaginator(next="next", size=Place.query("limit"), total=None),
                   filters=FieldParams("{field}"))
    with pytest.raises(ConnectorError, match="limit"):
        res.first_request(FilterSet([NativeCond("limit", "eq", "gold")]), 100)


# ---- finding 8: a GET sends no JSON body; a body encoder on GET is refused
def test_a_get_resource_sends_no_body(review: tuple[Vendor, Session]) -> None:
    vendor, session = review
    session.query("SELECT id FROM rv.tickets")
    assert vendor.seen == ["GET /tickets?"]
    assert "{" not in session.explain("SELECT id FROM rv.tickets").split("paging")[0]
    from crmql.connectors.rest import FilterList, JsonFilterTree
    for encoder in (JsonFilterTree("filter"), FilterList("filters")):
        with pytest.raises(ValueError, match="GET"):
            Resource("t", "t", "/t", filters=encoder)


# ---- finding 9: a malformed child array is a vendor error, not fewer rows
@pytest.mark.parametrize("notes", [{"text": "one"}, "n=1;n=2", ["x", {"text": "ok"}]])
def test_a_malformed_child_array_is_a_vendor_error(review: tuple[Vendor, Session], notes: Any) -> None:
    vendor, session = review
    vendor.appts = [{"id": "a0", "status": "open", "notes": notes}]
    with pytest.raises(VendorResponseError, match="notes"):
        session.query("SELECT text FROM rv.notes")


def test_missing_or_null_children_are_no_rows(review: tuple[Vendor, Session]) -> None:
    vendor, session = review
    vendor.appts = [{"id": "a0", "status": "open"}, {"id": "a1", "status": "open", "notes": None},
                    {"id": "a2", "status": "open", "notes": [{"text": "t"}]}]
    assert list(session.query("SELECT appointment_id FROM rv.notes")["appointment_id"]) == ["a2"]


# ---- finding 10: EXPLAIN says no "None" and no token request where there is none
def test_explain_without_a_total_or_a_token(review: tuple[Vendor, Session]) -> None:
    _, session = review
    for sql in ("SELECT id FROM rv.items", "SELECT id FROM rv.tickets", "SELECT id FROM rv.posts"):
        text = session.explain(sql)
        assert "None" not in text and "token request" not in text, text


def test_explain_of_an_offset_paginator_without_a_total() -> None:
    from crmql.connectors.rest.paginators import PagingFacts
    paging, requests = OffsetPaginator(total=None).describe(PagingFacts(50))
    assert "None" not in paging + requests and "one page at a time" in paging


# ---- gaps: the auth settings reach the flows; a session id in the query string is sent
def test_connection_settings_reach_the_auth_flows() -> None:
    from crmql.connectors.rest import KeySecretToken, OidcBearer, SessionId
    oidc = OidcBearer().build({"refresh_token": "rt-secret-1234", "issuer": "https://id.example",
                               "token_origins": ["https://login.example"]})
    assert oidc.token_origins == ("https://login.example",)  # type: ignore[attr-defined]
    assert OidcBearer().build({"refresh_token": "rt-secret-1234", "token_origins": "https://a.example, https://b.example"}
                              ).token_origins == ("https://a.example", "https://b.example")  # type: ignore[attr-defined]
    session = SessionId().build({"session_id": "sess-123456", "send_as": "query", "login_body": {"Email": "{user}"},
                                 "login_values": {"user": "a@b.example"}})
    assert (session.send_as, session.can_refresh, session.login) == ("query", True, {"Email": "a@b.example"})  # type: ignore[attr-defined]
    keyed = KeySecretToken().build({"key": "k-1234", "secret": "s-5678", "refresh_path": "/v2/refresh"})
    assert keyed.refresh_path == "/v2/refresh"  # type: ignore[attr-defined]
    assert not SessionId().token_request({"session_id": "s-1"}) and SessionId().token_request({})
    assert KeySecretToken().token_request({"key": "k"}) and not OidcBearer().token_request({"access_token": "a"})


def test_the_new_auth_settings_are_checked_with_the_config() -> None:
    from crmql.api.config_rules import validate_settings
    from crmql.errors import ConfigError
    ok = validate_settings({"send_as": "Query", "token_origins": ["https://id.example"], "login_body": {"a": "{b}"}},
                           connection="v")
    assert ok == {"send_as": "query", "token_origins": ["https://id.example"], "login_body": {"a": "{b}"}}
    for bad in ({"send_as": "header"}, {"token_origins": [1]}, {"login_values": "user=me password=secret"}):
        with pytest.raises(ConfigError) as error:
            validate_settings(bad, connection="v")
        assert "secret" not in str(error.value)


def test_a_session_id_in_the_query_string_is_sent(served: tuple[list[Vendor], str]) -> None:
    import dataclasses
    from crmql.connectors.rest import SessionId
    holder, url = served
    holder[0] = vendor = Vendor()

    class QueryConnector(RestConnector):
        api = dataclasses.replace(API, vendor="review_query", auth=SessionId())

    with session_on(url, "rq", "review_query", QueryConnector, session_id="sess-123456", send_as="query") as session:
        assert len(session.query("SELECT id FROM rq.tickets")) == len(TICKETS)
        assert len(session.query("SELECT id FROM rq.posts LIMIT 25")) == 25
        assert "token request" not in session.explain("SELECT id FROM rq.tickets")
    assert vendor.seen[:3] == ["GET /tickets?voyzu-session-id=sess-123456",
                               "GET /posts?page=0&voyzu-session-id=sess-123456",
                               "GET /posts?page=1&voyzu-session-id=sess-123456"]
    assert all(s.endswith("voyzu-session-id=sess-123456") for s in vendor.seen)  # (EXPLAIN may start a page early)


# ---- gaps: the vendor's own transient and not-found statuses are declared
def test_a_declared_not_found_status_is_no_row(review: tuple[Vendor, Session]) -> None:
    vendor, session = review
    assert len(session.query("SELECT id FROM rv.props WHERE id = 'nope'")) == 0
    assert vendor.seen == ["GET /props/nope?"]


def test_a_declared_transient_status_is_retried(served: tuple[list[Vendor], str]) -> None:
    holder, url = served
    holder[0] = vendor = Vendor()
    with session_on(url, "rv", "review", ReviewConnector, max_attempts=2, retry_base_s=0.001) as session:
        assert len(session.query("SELECT id FROM rv.flaky")) == len(TICKETS)
    assert vendor.seen == ["GET /flaky?", "GET /flaky?"]
