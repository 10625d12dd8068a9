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
* :class:`CountedPaginator`: a count and no page parameter (casavi notifications), read completely
  by a time keyset (:mod:`.counted`);
* :class:`SinglePage`: the body is the whole list (casavi tickets), or one record (``single``).

>>> p = OffsetPaginator(limit=Place.body("limit"), offset=Place.body("offset"), max_page=50)
>>> p.first(NativeRequest("POST", "/s", body={"f": {}}), 50).body
{'f': {}, 'limit': 50, 'offset': 0}
"""

from __future__ import annotations

import datetime as dt
import logging
import math
from dataclasses import dataclass
from typing import Any, ClassVar

from ...errors import VendorResponseError
from ...plan.connector import NativeRequest
from .counted import Keyset, keyset_scan
from .next_link import NextLinkPaginator
from .page_index import counted_single_page, page_index_scan, plain_array
from .pages import Page, Paginator, PagingFacts, Records, ScanContext
from .paging import offset_scan
from .place import Place, dig
from .support import shown

__all__ = ["CountedPaginator", "Keyset", "NextLinkPaginator", "OffsetPaginator", "Page", "PageIndexPaginator", "Paginator",
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
    ranged: ClassVar[bool] = True

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
                          sequential=ctx.sequential, window=ctx.window, limits=ctx.limits, rows=ctx.rows)

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
    answer's ``page_count`` tells how many pages there are (then the rest go concurrently).

    ``echo``: where the answer says which page it served (None: nowhere; then only the repeated-page
    check guards). The first request asks ``page=base``; an answer saying ``base + 1`` is a vendor
    counting from one more than declared that serves the first page for ``base`` (casavi Community
    under the ``page_base=1`` reading): the scan continues from ``base + 2``, the vendor's indexes up
    to its page count, and the connection remembers the base for its later scans (EXPLAIN then shows
    ``page=base + 1``). Any other page than the one asked is a VendorResponseError.

    >>> p = PageIndexPaginator()
    >>> p.known(p.first(NativeRequest("GET", "/a"), 20), {p.learned_key: 1}).render()
    'GET /a?limit=20&page=1'
    """

    page: Place = Place.query("page")
    size: Place | None = Place.query("limit")
    base: int = 0
    page_count: str = "pageCount"
    max_page: int = 100
    total: str | None = None
    echo: str | None = "page"
    #: where the answer says its page size (None: nowhere): COUNT(*) over a fan-out asks pages of
    #: one row and takes the page count as the row count only when this says 1
    size_echo: str | None = None
    ranged: ClassVar[bool] = True

    @property
    def learned_key(self) -> tuple[str, str]:
        """Where the connection keeps the page base it learned from an echo."""
        return ("page_base", self.page.name)

    def places(self) -> tuple[Place, ...]:
        return (self.page, *super().places())

    def first(self, request: NativeRequest, page_size: int) -> NativeRequest:
        return self.page.put(super().first(request, page_size), self.base)

    def known(self, request: NativeRequest, learned: dict[str, Any]) -> NativeRequest:
        shift = learned.get(self.learned_key, self.base) - self.base
        return self.page.put(request, self.base + shift) if shift else request

    async def scan(self, ctx: ScanContext) -> bool | None:
        shift = ctx.learned.get(self.learned_key, self.base) - self.base

        async def page(index: int, size: int) -> tuple[Records, int | None]:
            nonlocal shift
            asked = index + shift
            request = self.page.put(self.sized(ctx.request, size), asked)
            label = f"{ctx.label} (page {asked})"
            got = await ctx.fetch(request, label)
            echoed = dig(got.data, self.echo) if self.echo and isinstance(got.data, dict) else None
            if echoed is not None and echoed != asked:
                if index == self.base and shift == 0 and echoed == asked + 1 and not isinstance(echoed, bool):
                    shift = 1  # the vendor counts from base + 1: its first page was served for base
                    ctx.learned[self.learned_key] = self.base + 1
                    log.debug("%s: asked for page %d, got page %d: the vendor counts pages from %d", ctx.limits.where,
                              asked, echoed, self.base + 1)
                else:
                    raise VendorResponseError(f"asked for page {asked}, got page {shown(echoed)}; paging is unreliable",
                                              vendor=ctx.limits.vendor or None, table=ctx.limits.table or None,
                                              request=label)
            return got.records, dig(got.data, self.page_count)

        size = int(self.size.get(ctx.request) or self.max_page) if self.size is not None else self.max_page
        if ctx.rows is not None and ctx.rows[0] > 0 and self.echo and self.learned_key not in ctx.learned:
            shift = await self._base(ctx)
        sink, left = ctx.sink, ctx.max_rows
        if self.size is None and left is not None:  # the vendor's own pages: LIMIT cuts the rows, not the page

            def sink(records: Records) -> bool:
                nonlocal left
                records = records[:left]
                left -= len(records)
                return ctx.sink(records) and left > 0

        await page_index_scan(page, page_size=size, sink=sink, base=self.base, max_rows=ctx.max_rows,
                              sequential=ctx.sequential, window=ctx.window, limits=ctx.limits,
                              sized=self.size is not None, rows=ctx.rows)

    async def _base(self, ctx: ScanContext) -> int:
        """The vendor's page base confirmed by one 1-row request for page ``base``, before a row
        range that does not start at row 0 (once per connection): a vendor counting from
        ``base + 1`` serves page N as its N-th (echoing N), which nothing in that range could tell
        (its rows would be one page off). Returns the shift (0 or 1), remembered on the connection."""
        request = self.page.put(self.sized(ctx.request, 1), self.base)
        got = await ctx.fetch(request, f"{ctx.label} (page {self.base}, its page base)")
        echoed = dig(got.data, self.echo) if self.echo and isinstance(got.data, dict) else None
        if echoed is not None and echoed not in (self.base, self.base + 1) or isinstance(echoed, bool):
            raise VendorResponseError(f"asked for page {self.base}, got page {shown(echoed)}; paging is unreliable",
                                      vendor=ctx.limits.vendor or None, table=ctx.limits.table or None,
                                      request=f"{ctx.label} (page {self.base})")
        shift = 1 if echoed == self.base + 1 else 0
        ctx.learned[self.learned_key] = self.base + shift
        return shift

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
    """One request; ``count`` says how many rows match. Without a ``keyset``, more than served is
    an error (no page parameter is documented), or a warning with ``on_short="warn"``. With a
    :class:`~.counted.Keyset`, the rest is asked for by narrowing the time range past the rows
    served until ``count`` distinct rows came (casavi Community's notifications; see :mod:`.counted`).

    >>> CountedPaginator(keyset=Keyset()).describe(PagingFacts(0))[0]
    'count of the first answer; while fewer distinct rows than count were served, again with before = the oldest createdAt served + 1 ms (after = the newest - 1 ms when served oldest first), de-duplicated by id'
    """

    count: str = "count"
    max_page: int = 0
    total: str | None = "count"
    on_short: str = "error"
    keyset: Keyset | None = None

    async def scan(self, ctx: ScanContext) -> bool | None:
        if self.keyset is not None:
            async def next_page(request: NativeRequest) -> tuple[Records, int | None]:
                got = await ctx.fetch(request, f"{request.method} {request.path}")
                return got.records, dig(got.data, self.count)

            return await keyset_scan(next_page, ctx.request, self.keyset, sink=ctx.sink, max_rows=ctx.max_rows,
                                     on_short=self.on_short, limits=ctx.limits)  # type: ignore[arg-type]

        async def one() -> tuple[Records, int | None]:
            got = await ctx.fetch(ctx.request, ctx.label)
            return got.records, dig(got.data, self.count)

        await counted_single_page(one, sink=ctx.sink, max_rows=ctx.max_rows, on_short=self.on_short,  # type: ignore[arg-type]
                                  limits=ctx.limits)

    def describe(self, f: PagingFacts) -> tuple[str, str]:
        if self.keyset is not None:
            return (f"{self.count} of the first answer; {self.keyset.describe(self.count)}",
                    f"1 {f.noun} request, one more per page the vendor counted but did not serve")
        return f"one request; {self.count} must not exceed the rows served", f"1 {f.noun} request"

    def brief(self, page: int) -> str:
        if self.keyset is None:
            return "one request"
        return (f"one request, more while fewer distinct rows than {self.count} came ({self.keyset.before.describe()} "
                f"= the oldest {self.keyset.field} served + {self.keyset.step / dt.timedelta(milliseconds=1):g} ms)")


@dataclass(frozen=True)
class SinglePage(Paginator):
    """One request whose answer holds every row (a plain array: declare ``records=""``); with
    ``single=True`` the answer (at ``records``) is ONE object, delivered as one record (casavi
    Community's ticket detail); a list or a scalar there is a VendorResponseError.

    >>> SinglePage(single=True).describe(PagingFacts(0))[0]
    'one request: the answer is one record'
    """

    max_page: int = 0
    total: str | None = None
    single: bool = False

    async def scan(self, ctx: ScanContext) -> bool | None:
        async def one() -> Any:
            return (await ctx.fetch(ctx.request, ctx.label)).records

        await plain_array(one, sink=ctx.sink, max_rows=ctx.max_rows, limits=ctx.limits)

    def describe(self, f: PagingFacts) -> tuple[str, str]:
        if self.single:
            return "one request: the answer is one record", f"1 {f.noun} request"
        return "one request: the answer is the whole list", f"1 {f.noun} request"

    def brief(self, page: int) -> str:
        return "one request"
