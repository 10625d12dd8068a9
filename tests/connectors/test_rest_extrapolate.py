"""Next-link extrapolation (``NextLinkPaginator(extrapolate=True)``) over real HTTP: a loopback
vendor whose links are a page counter (casavi's ``...&page=N``) and who counts the requests it
serves at once. Rows come once each and in order, pages after the second are requested
concurrently, a page is used only under the link its predecessor gave, pages requested beyond the
last are discarded whatever they answered, and nothing changes where it is not declared or a
LIMIT may stop the scan."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from crmql.connectors.rest import Col, NextLinkPaginator, Place, Resource, RestApi, RestConnector
from crmql.errors import VendorHTTPError
from crmql.plan.catalog import ColumnType

from live_server import vendor_fixtures

S = ColumnType.STRING
ROWS = [{"id": f"C-{n:03d}", "city": "Köln" if n % 5 == 0 else "München"} for n in range(57)]
SIZE = 5  # 12 pages: page=0 (no parameter) .. page=11


def _resource(name: str, **paging: Any) -> Resource:
    return Resource(name, name, "/v2/contacts", records="list", columns=(Col("id", S), Col("city", S)),
                    paginator=NextLinkPaginator(next="_links.next", size=Place.query("limit"), max_page=SIZE,
                                                total=None, **paging))


class AheadConnector(RestConnector):
    api = RestApi("ahead", "Ahead", (_resource("contacts", extrapolate=True), _resource("plain")))


class Vendor:
    """``beyond``: the status of a page past the last (200: an empty list); ``fail``: statuses by
    page; ``leave``: from this page on, the links carry ``&v=2`` (off the counter the guesses
    follow) and a page asked without it is served wrong rows, which must never show up."""

    def __init__(self) -> None:
        self.seen: list[str] = []
        self.in_flight = self.most = 0
        self.beyond = 404
        self.fail: dict[int, int] = {}
        self.leave: int | None = None
        self.rows = ROWS
        self.cursor = False  # links carry an opaque cursor (c<n>), no page counter

    def app(self) -> Starlette:
        return Starlette(routes=[Route("/v2/contacts", self.contacts)])

    async def contacts(self, request: Request) -> Response:
        self.seen.append(str(request.url.query))
        self.in_flight += 1
        self.most = max(self.most, self.in_flight)
        try:
            await asyncio.sleep(0.03)  # long enough for requests sent together to overlap here
            return self.answer(request)
        finally:
            self.in_flight -= 1

    def answer(self, request: Request) -> Response:
        query = request.query_params
        page, size = int(query.get("page", query.get("cursor", "c0")[1:])), int(query["limit"])
        if page in self.fail:
            return JSONResponse({"message": "refused"}, status_code=self.fail[page])
        rows = self.rows[page * size:(page + 1) * size]
        if not rows and page:
            return JSONResponse({"list": []}) if self.beyond == 200 else \
                JSONResponse({"message": "no such page"}, status_code=self.beyond)
        if self.leave is not None and page >= self.leave and query.get("v") != "2":
            rows = [{"id": f"WRONG-{page}-{i}", "city": "Köln"} for i in range(size)]
        body: dict[str, Any] = {"list": rows, "_links": {"self": str(request.url)}}
        if (page + 1) * size < len(self.rows):
            mark = "&v=2" if self.leave is not None and page + 1 >= self.leave else ""
            body["_links"]["next"] = (f"/v2/contacts?limit={size}&cursor=c{page + 1}" if self.cursor else
                                      f"/v2/contacts?limit={size}&page={page + 1}{mark}")
        return JSONResponse(body)


served, ahead = vendor_fixtures(Vendor, AheadConnector, "ahead", fixture="ahead", concurrency=4)


PAGES = [f"limit={SIZE}"] + [f"limit={SIZE}&page={p}" for p in range(1, 12)]


@pytest.mark.parametrize("beyond", [404, 500, 200])
def test_every_row_once_with_pages_requested_ahead(ahead: tuple[Vendor, Any], beyond: int) -> None:
    vendor, session = ahead
    vendor.beyond = beyond  # whatever a page past the last answers, it is no error
    result = session.execute("SELECT id FROM ahead.contacts WHERE city = 'München'")
    assert list(result.frame["id"]) == [r["id"] for r in ROWS if r["city"] == "München"]
    assert vendor.most >= 2  # pages in flight together (sequential links alone: one at a time)
    assert set(PAGES) <= set(vendor.seen) and len(vendor.seen) <= len(PAGES) + 3  # at most concurrency - 1 past it
    assert result.stats.pages == len(PAGES) and not result.stats.warnings


def test_a_short_scan_wastes_no_request_and_a_cursor_chain_is_followed(ahead: tuple[Vendor, Any]) -> None:
    vendor, session = ahead
    vendor.rows = ROWS[:15]  # 3 pages: the third is requested ahead as the second's real next link
    assert list(session.query("SELECT id FROM ahead.contacts")["id"]) == [r["id"] for r in ROWS[:15]]
    assert vendor.seen == PAGES[:3]  # nothing past the last page
    vendor.seen.clear()
    vendor.rows, vendor.cursor = ROWS, True  # links that are no counter: one by one, every row once
    result = session.execute("SELECT id FROM ahead.contacts")
    assert list(result.frame["id"]) == [r["id"] for r in ROWS] and vendor.most == 1
    assert vendor.seen == [f"limit={SIZE}"] + [f"limit={SIZE}&cursor=c{p}" for p in range(1, 12)]


def test_without_the_declaration_or_under_a_limit_pages_follow_one_by_one(ahead: tuple[Vendor, Any]) -> None:
    vendor, session = ahead
    assert len(session.query("SELECT id FROM ahead.plain")) == len(ROWS)
    assert vendor.seen == PAGES and vendor.most == 1
    vendor.seen.clear()
    assert len(session.query("SELECT id FROM ahead.contacts WHERE city = 'Köln' LIMIT 4")) == 4  # may stop early
    assert vendor.seen == PAGES[:4] and vendor.most == 1
    vendor.seen.clear()
    assert len(session.query("SELECT id FROM ahead.contacts LIMIT 12")) == 12  # stops after 12 rows
    assert vendor.seen == ["limit=5", "limit=5&page=1", "limit=5&page=2"]


def test_links_that_leave_the_counter_are_followed_and_guesses_discarded(ahead: tuple[Vendor, Any]) -> None:
    vendor, session = ahead
    vendor.leave = 4  # page 3 links to page=4&v=2; the guessed page=4, page=5 ... serve WRONG rows
    frame = session.query("SELECT id FROM ahead.contacts")
    assert list(frame["id"]) == [r["id"] for r in ROWS]
    assert "limit=5&page=4" in vendor.seen  # it was guessed, and not used
    assert [s for s in vendor.seen if "v=2" in s] == [f"limit=5&page={p}&v=2" for p in range(4, 12)]


def test_an_error_on_a_page_the_scan_needs_is_the_error_it_was(ahead: tuple[Vendor, Any]) -> None:
    vendor, session = ahead
    vendor.fail = {6: 400}
    with pytest.raises(VendorHTTPError, match="HTTP 400"):
        session.query("SELECT id FROM ahead.contacts")


def test_explain_says_pages_are_requested_ahead_only_where_they_are(ahead: tuple[Vendor, Any]) -> None:
    _, session = ahead
    words = "pages after the second requested ahead, checked against each page's next link"
    text = session.explain("SELECT id FROM ahead.contacts WHERE city = 'Köln'")
    assert words in text and "plus up to 3 requested beyond the last page and discarded" in text
    assert "(1, then 2, 4 .. up to 4 at once while links follow a counter)" in text
    assert words not in session.explain("SELECT id FROM ahead.contacts WHERE city = 'Köln' LIMIT 3")
    assert words not in session.explain("SELECT id FROM ahead.plain")
