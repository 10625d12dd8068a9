"""Paginators as declarations, each bound to a shared scan engine.

A paginator says where its values go (:class:`~.place.Place`) and where the answer keeps what it
needs (the total, the next link, the page count); it never owns the request loop: the engines in
:mod:`.paging` and :mod:`.page_index` do (bounded windows, early stop, oversized and repeated
pages, budgets). The generic connector hands a paginator a :class:`ScanContext`: the scan's
first request exactly as planned (and shown by EXPLAIN), and ``fetch``, which sends a request
(or follows a next link) and returns the checked :class:`Page`. Later pages are derived from the
first request by putting the paginator's values into it.

* :class:`OffsetPaginator`: offset + limit, the total in the body (Azavista ``object_count``);
* :class:`NextLinkPaginator`: follow a next link (Atlas ``_links.next.href``, casavi Manager v2),
  in :mod:`.next_link`; the shared vocabulary (:class:`Page`, :class:`ScanContext`,
  :class:`Paginator`) is in :mod:`.pages`;
* :class:`PageIndexPaginator`: page index + page count (casavi Community, 0-based);
* :class:`CountedPaginator`: one request with a count and no page parameter (casavi notifications);
* :class:`SinglePage`: the body is the whole list (casavi tickets).

>>> p = OffsetPaginator(limit=Place.body("limit"), offset=Place.body("offset"), max_page=50)
>>> p.first(NativeRequest("POST", "/s", body={"f": {}}), 50).body
{'f': {}, 'limit': 50, 'offset': 0}
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass

from ...errors import VendorResponseError
from ...plan.connector import NativeRequest
from .next_link import NextLinkPaginator
from .page_index import counted_single_page, page_index_scan, plain_array
from .pages import Page, Paginator, PagingFacts, Records, ScanContext
from .paging import offset_scan
from .place import Place, dig
from .support import shown

__all__ = ["CountedPaginator", "NextLinkPaginator", "OffsetPaginator", "Page", "PageIndexPaginator", "Paginator",
           "PagingFacts", "ScanContext", "SinglePage"]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class OffsetPaginator(Paginator):
    """``limit``/``offset`` placed in the request, the total at ``total``. ``echo``: where the
    answer repeats the offset it served; another offset than the one asked is an error (the
    vendor ignores the parameter: duplicate rows)."""

    limit: Place = Place.body("limit")
    offset: Place = Place.body("offset")
    max_page: int = 50
    total: str | None = "object_count"
    echo: str | None = None

    @property
    def size(self) -> Place:  # type: ignore[override]
        return self.limit

    def places(self) -> tuple[Place, ...]:
        return (self.limit, self.offset)

    def first(self, request: NativeRequest, page_size: int) -> NativeRequest:
        return self.offset.put(self.limit.put(request, max(page_size, 1)), 0)

    def sized(self, request: NativeRequest, page_size: int) -> NativeRequest:
        return self.offset.put(self.limit.put(request, page_size), 0)

    def count_label(self, label: str) -> str:
        return f"{label} (offset 0)"

    async def scan(self, ctx: ScanContext) -> bool | None:
        async def page(offset: int, limit: int) -> tuple[Records, int | None]:
            label = f"{ctx.label} (offset {offset})"
            got = await ctx.fetch(self.offset.put(self.limit.put(ctx.request, limit), offset), label)
            echoed = dig(got.data, self.echo) if self.echo else None
            if echoed is not None and echoed != offset:
                raise VendorResponseError(f"asked for offset {offset} but got offset {shown(echoed)}; paging is "
                                          "unreliable", vendor=ctx.limits.vendor, table=ctx.limits.table,
                                          request=label)
            return got.records, got.total

        page_size = int(self.limit.get(ctx.request) or self.max_page)
        await offset_scan(page, page_size=page_size, sink=ctx.sink, max_rows=ctx.max_rows,
                          sequential=ctx.sequential, window=ctx.window, limits=ctx.limits)

    def describe(self, f: PagingFacts) -> tuple[str, str]:
        how = f"{self.limit.describe()}/{self.offset.describe()}, {f.page} per page"
        pages = (f"ceil({self.total} / {self.max_page}) {f.noun} requests" if self.total else
                 f"one {f.noun} request per page until a page is short")
        if f.max_rows:
            return (f"{how}, stopping after {f.max_rows} rows (nothing is re-checked locally)",
                    f"at most {math.ceil(f.max_rows / f.page)} {f.noun} request(s)")
        if f.stop_early:
            return (f"{how}, one page at a time until {f.limit_rows} rows pass the local re-check",
                    f"{pages} at most; fewer when enough rows pass early")
        if not self.total:
            return f"{how}, one page at a time (no total)", pages
        return (f"{how}; the first page gives {self.total}, the rest are fetched concurrently (up to "
                f"{f.concurrency} at a time)", pages)


@dataclass(frozen=True)
class PageIndexPaginator(Paginator):
    """A page index at ``page`` (counting from ``base``) and the page size at ``size``; the
    answer's ``page_count`` tells how many pages there are (then the rest go concurrently)."""

    page: Place = Place.query("page")
    size: Place | None = Place.query("limit")
    base: int = 0
    page_count: str = "pageCount"
    max_page: int = 100
    total: str | None = None

    def places(self) -> tuple[Place, ...]:
        return (self.page, *super().places())

    def first(self, request: NativeRequest, page_size: int) -> NativeRequest:
        return self.page.put(super().first(request, page_size), self.base)

    async def scan(self, ctx: ScanContext) -> bool | None:
        async def page(index: int, size: int) -> tuple[Records, int | None]:
            request = self.page.put(self.sized(ctx.request, size), index)
            got = await ctx.fetch(request, f"{ctx.label} (page {index})")
            return got.records, dig(got.data, self.page_count)

        size = int(self.size.get(ctx.request) or self.max_page) if self.size is not None else self.max_page
        sink, left = ctx.sink, ctx.max_rows
        if self.size is None and left is not None:  # the vendor's own pages: LIMIT cuts the rows, not the page

            def sink(records: Records) -> bool:
                nonlocal left
                records = records[:left]
                left -= len(records)
                return ctx.sink(records) and left > 0

        await page_index_scan(page, page_size=size, sink=sink, base=self.base, max_rows=ctx.max_rows,
                              sequential=ctx.sequential, window=ctx.window, limits=ctx.limits,
                              sized=self.size is not None)

    def describe(self, f: PagingFacts) -> tuple[str, str]:
        how = f"{self.page.describe()} from {self.base}, {f.page} per page"
        if f.max_rows:
            return (f"{how}, stopping after {f.max_rows} rows (nothing is re-checked locally)",
                    f"at most {math.ceil(f.max_rows / f.page)} {f.noun} request(s)")
        if f.stop_early:
            return (f"{how}, one page at a time until {f.limit_rows} rows pass the local re-check",
                    f"{self.page_count} {f.noun} requests at most; fewer when enough rows pass early")
        return (f"{how}; the first page gives {self.page_count}, the rest are fetched concurrently",
                f"{self.page_count} {f.noun} requests")


@dataclass(frozen=True)
class CountedPaginator(Paginator):
    """One request; ``count`` says how many rows match. More than served is an error (no page
    parameter is documented), or a warning with ``on_short="warn"``."""

    count: str = "count"
    max_page: int = 0
    total: str | None = "count"
    on_short: str = "error"

    async def scan(self, ctx: ScanContext) -> bool | None:
        async def one() -> tuple[Records, int | None]:
            got = await ctx.fetch(ctx.request, ctx.label)
            return got.records, dig(got.data, self.count)

        await counted_single_page(one, sink=ctx.sink, max_rows=ctx.max_rows, on_short=self.on_short,  # type: ignore[arg-type]
                                  limits=ctx.limits)

    def describe(self, f: PagingFacts) -> tuple[str, str]:
        return f"one request; {self.count} must not exceed the rows served", f"1 {f.noun} request"


@dataclass(frozen=True)
class SinglePage(Paginator):
    """One request whose answer holds every row (a plain array: declare ``records=""``)."""

    max_page: int = 0
    total: str | None = None

    async def scan(self, ctx: ScanContext) -> bool | None:
        async def one() -> Any:
            return (await ctx.fetch(ctx.request, ctx.label)).records

        await plain_array(one, sink=ctx.sink, max_rows=ctx.max_rows, limits=ctx.limits)

    def describe(self, f: PagingFacts) -> tuple[str, str]:
        return "one request: the answer is the whole list", f"1 {f.noun} request"
