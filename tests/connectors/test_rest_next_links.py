"""Next-link paging as casavi Manager v2 may serve it, over real HTTP (a loopback vendor):

* the link as an absolute URL, a path, or a HAL object ``{"href": url}`` (``casavi.next_link``),
  ending absent or null (``casavi.last_page``);
* a page size the vendor refuses (``casavi.oversize=reject``): the first page is asked once more
  without the size (``NextLinkPaginator(retry_without_size=True)``), then the vendor's own pages
  are followed; nothing else is retried; the connection remembers the refusal (later scans of that
  path send no size that big, and EXPLAIN says so).
"""

from __future__ import annotations

from typing import Any

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from crmql.connectors.rest import Col, NextLinkPaginator, Place, Resource, RestApi, RestConnector
from crmql.errors import VendorHTTPError, VendorResponseError
from crmql.plan.catalog import ColumnType

from live_server import vendor_fixtures

S = ColumnType.STRING
ROWS = [{"id": f"C-{n:03d}", "city": "München" if n % 4 else "Köln"} for n in range(57)]


def _resource(name: str, **paging: Any) -> Resource:
    return Resource(name, name, "/v2/contacts", records="list", columns=(Col("id", S), Col("city", S)),
                    paginator=NextLinkPaginator(next="_links.next", size=Place.query("limit"), max_page=50,
                                                total=None, **paging))


class LinksConnector(RestConnector):
    api = RestApi("links", "Links", (_resource("contacts", retry_without_size=True), _resource("strict")))


class Vendor:
    """``link``: absolute | path | href; ``last``: absent | null; ``oversize``: clamp | reject
    (above ``max_size``); ``default``: the page size without a ``limit``; ``fail``: status by the
    ``page`` number it answers (the first page is None)."""

    def __init__(self) -> None:
        self.link, self.last, self.oversize = "absolute", "absent", "clamp"
        self.max_size, self.default = 20, 7
        self.fail: dict[int | None, int] = {}
        self.seen: list[str] = []

    def app(self) -> Starlette:
        return Starlette(routes=[Route("/v2/contacts", self.contacts)])

    async def contacts(self, request: Request) -> Response:
        query = request.query_params
        self.seen.append(str(request.url.query))
        page = int(query["page"]) if "page" in query else None
        if page in self.fail:
            return JSONResponse({"message": "refused"}, status_code=self.fail[page])
        size = int(query.get("limit", self.default))
        if size > self.max_size:
            if self.oversize == "reject":
                return JSONResponse({"message": f"limit must be between 1 and {self.max_size}"}, status_code=400)
            size = self.max_size
        index = page or 0
        body: dict[str, Any] = {"list": ROWS[index * size:(index + 1) * size], "_links": {"self": str(request.url)}}
        following = "&".join(f"{k}={v}" for k, v in query.items() if k != "page") + f"&page={index + 1}"
        path = f"/v2/contacts?{following.lstrip('&')}"
        if (index + 1) * size < len(ROWS):
            absolute = f"{str(request.base_url).rstrip('/')}{path}"
            body["_links"]["next"] = {"absolute": absolute, "path": path, "href": {"href": absolute}}[self.link]
        elif self.last == "null":
            body["_links"]["next"] = None
        return JSONResponse(body)


served, links = vendor_fixtures(Vendor, LinksConnector, "links", fixture="links")


@pytest.mark.parametrize("link", ["absolute", "path", "href"])
@pytest.mark.parametrize("last", ["absent", "null"])
def test_every_form_of_next_link_reads_every_row_once(links: tuple[Vendor, Any], link: str, last: str) -> None:
    vendor, session = links
    vendor.link, vendor.last = link, last
    frame = session.query("SELECT id FROM links.contacts")
    assert list(frame["id"]) == [r["id"] for r in ROWS]
    assert vendor.seen == ["limit=50"] + [f"limit=50&page={p}" for p in (1, 2)]  # clamped to 20 per page


def test_a_link_object_without_href_is_a_malformed_answer(links: tuple[Vendor, Any]) -> None:
    vendor, session = links
    vendor.link = "href"
    original = Vendor.contacts

    async def no_href(self: Vendor, request: Request) -> Response:
        self.seen.append(str(request.url.query))
        return JSONResponse({"list": ROWS[:3], "_links": {"next": {"url": "/v2/contacts?page=1"}}})

    Vendor.contacts = no_href  # type: ignore[method-assign]
    try:
        with pytest.raises(VendorResponseError, match="its '_links.next' is an object without an 'href'"):
            session.query("SELECT id FROM links.contacts")
    finally:
        Vendor.contacts = original  # type: ignore[method-assign]


def test_a_refused_page_size_is_asked_once_more_without_it(links: tuple[Vendor, Any]) -> None:
    vendor, session = links
    vendor.oversize = "reject"
    assert "(a refused size: retried without)" in session.explain("SELECT id FROM links.contacts")
    vendor.seen.clear()  # (EXPLAIN's 1-row probe)
    result = session.execute("SELECT id FROM links.contacts WHERE city = 'Köln'")
    assert list(result.frame["id"]) == [r["id"] for r in ROWS if r["city"] == "Köln"]
    assert vendor.seen == ["limit=50", ""] + [f"page={p}" for p in range(1, 9)]  # then 7 per page, the vendor's
    assert any("refused the page size limit=50 (HTTP 400)" in w for w in result.stats.warnings)
    vendor.seen.clear()
    assert len(session.query("SELECT id FROM links.contacts LIMIT 30")) == 30  # a LIMIT below the refused 50
    assert vendor.seen[:2] == ["limit=30", ""] and len(vendor.seen) == 2 + 4
    vendor.seen.clear()
    assert len(session.query("SELECT id FROM links.contacts LIMIT 5")) == 5  # within it: never refused
    assert vendor.seen == ["limit=5"]
    assert "retried without" not in session.explain("SELECT id FROM links.strict")


def test_a_refused_page_size_is_not_sent_again_on_that_connection(links: tuple[Vendor, Any]) -> None:
    vendor, session = links
    vendor.oversize = "reject"
    assert len(session.query("SELECT id FROM links.contacts")) == len(ROWS)
    assert vendor.seen[:2] == ["limit=50", ""]
    vendor.seen.clear()
    text = session.explain("SELECT id FROM links.contacts WHERE city = 'Köln'")  # planned knowing it
    assert "GET /v2/contacts\n" in text + "\n" and "limit=50" not in text
    assert "the vendor's own page size (it refused limit earlier on this connection)" in text
    vendor.seen.clear()  # (EXPLAIN's 1-row probe)
    result = session.execute("SELECT id FROM links.contacts WHERE city = 'Köln'")
    assert list(result.frame["id"]) == [r["id"] for r in ROWS if r["city"] == "Köln"]
    assert vendor.seen == [""] + [f"page={p}" for p in range(1, 9)]  # no refused request any more
    assert not result.stats.warnings
    vendor.seen.clear()
    assert len(session.query("SELECT id FROM links.strict LIMIT 15")) == 15  # never retries: its size as declared
    assert vendor.seen == ["limit=15"]


def test_only_a_400_on_the_first_page_with_a_size_is_retried(links: tuple[Vendor, Any]) -> None:
    vendor, session = links
    vendor.oversize = "reject"
    with pytest.raises(VendorHTTPError, match="HTTP 400"):  # not declared: refused is refused
        session.query("SELECT id FROM links.strict")
    assert vendor.seen == ["limit=50"]
    vendor.seen.clear()
    vendor.fail = {None: 400}  # refused again without the size: the error, after one more try only
    with pytest.raises(VendorHTTPError, match="HTTP 400"):
        session.query("SELECT id FROM links.contacts")
    assert vendor.seen == ["limit=50", ""]
    vendor.seen.clear()
    vendor.oversize, vendor.fail = "clamp", {1: 400}  # a later page: an error as always
    with pytest.raises(VendorHTTPError, match="HTTP 400"):
        session.query("SELECT id FROM links.contacts")
    assert vendor.seen == ["limit=50", "limit=50&page=1"]
    vendor.seen.clear()
    vendor.fail = {None: 422}  # another status: not retried
    with pytest.raises(VendorHTTPError, match="HTTP 422"):
        session.query("SELECT id FROM links.contacts")
    assert vendor.seen == ["limit=50"]
