"""Paginators as declarations, each bound to a shared scan engine.

A paginator says where its values go (:class:`~.place.Place`) and where the answer keeps what it
needs (the total, the next link, the page count); it never owns the request loop: the engines in
:mod:`.paging` and :mod:`.page_index` do (bounded windows, early stop, oversized and repeated
pages, budgets). The generic connector hands a paginator a :class:`ScanContext`: the scan's
first request exactly as planned (and shown by EXPLAIN), and ``fetch``, which sends a request
(or follows a next link) and returns the checked :class:`Page`. Later pages are derived from the
first request by putting the paginator's values into it.

* :class:`OffsetPaginator`: offset + limit, the total in the body (Azavista ``object_count``);
* :class:`NextLinkPaginator`: follow a next link (Atlas ``_links.next.href``, casavi Manager v2);
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
from abc import ABC, abstractmethod
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from ...errors import VendorResponseError
from ...plan.connector import NativeRequest
from .page_index import counted_single_page, page_index_scan, plain_array
from .paging import ScanLimits, next_link_scan, offset_scan
from .place import Place, dig
from .support import cut, shown

__all__ = ["CountedPaginator", "NextLinkPaginator", "OffsetPaginator", "Page", "PageIndexPaginator", "Paginator",
           "PagingFacts", "ScanContext", "SinglePage"]

log = logging.getLogger(__name__)

Records = list[dict[str, Any]]


@dataclass
class Page:
    """One checked answer: its records, total (a count or None), next link (on the connection's
    origin, absolute) and the decoded body (for a quirk hook)."""

    records: Records
    total: int | None = None
    next: str | None = None
    data: Any = None


@dataclass
class ScanContext:
    """What a paginator gets for one scan."""

    request: NativeRequest
    #: ``fetch(request_or_next_link, label)`` -> the checked page (``label`` names it in errors)
    fetch: Callable[[NativeRequest | str, str], Awaitable[Page]]
    sink: Callable[[Records], bool]
    limits: ScanLimits
    max_rows: int | None = None
    #: one page at a time (a LIMIT whose rows are re-checked locally: no page wasted)
    sequential: bool = False
    #: pages fetched concurrently (offset and page-index engines)
    window: int = 16
    #: a next page may be requested while this one is handled (off when a LIMIT may stop the scan)
    prefetch: bool = True

    @property
    def label(self) -> str:
        return f"{self.request.method} {self.request.path}"


@dataclass(frozen=True)
class PagingFacts:
    """What EXPLAIN's paging line says about a search scan."""

    page: int
    max_rows: int | None = None
    stop_early: bool = False
    limit_rows: int | None = None
    splits: int = 1
    sorted_by: str | None = None
    concurrency: int = 8
    #: how the resource's requests are named ("search", "entities")
    noun: str = "search"


class Paginator(ABC):
    """How a resource pages. ``max_page``: the most rows the vendor serves per page;
    ``total``: where the answer keeps the number of matches (None: nowhere)."""

    max_page: int
    total: str | None = None
    #: where the page size goes (None: the vendor takes none)
    size: Place | None = None

    def places(self) -> tuple[Place, ...]:
        """The places the paginator puts its values (a filter parameter must not share one)."""
        return (self.size,) if self.size is not None else ()

    def first(self, request: NativeRequest, page_size: int) -> NativeRequest:
        """The first page's request: the page size (and start position) put in their places."""
        return self.size.put(request, page_size) if self.size is not None else request

    def sized(self, request: NativeRequest, page_size: int) -> NativeRequest:
        """``request`` asking pages of ``page_size`` (1 for a count's probe)."""
        return self.size.put(request, page_size) if self.size is not None else request

    def next_link(self, data: Any) -> Any:
        """The raw next link of an answer (None: none); checked by the connector."""
        return None

    def count_label(self, label: str) -> str:
        """How a count's 1-row request is named in errors."""
        return label

    @abstractmethod
    async def scan(self, ctx: ScanContext) -> bool | None:
        """Read the pages into ``ctx.sink`` (False: the scan was stopped early)."""

    @abstractmethod
    def describe(self, facts: PagingFacts) -> tuple[str, str]:
        """EXPLAIN's ``paging`` and ``requests`` lines for a search."""

    def describe_count(self, noun: str) -> tuple[str, str]:
        return f"none: {self.total} of one 1-row request", f"1 {noun} request"

    def brief(self, page: int) -> str:
        """The paging of one scan of a fan-out, in a few words."""
        return f"{page} per page"


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
class NextLinkPaginator(Paginator):
    """Follow the link at ``next`` (a dotted path; each step an object, ``[]`` or null: none)
    until there is none; the page size at ``size``. ``prefetch``: request the next page while
    this one is handled (not when a LIMIT may stop the scan); ``peek``: read the next link from
    the raw body before decoding it (the connector's ``peek_next``)."""

    next: str = "_links.next.href"
    size: Place | None = Place.query("limit")
    max_page: int = 100
    total: str | None = "total"
    prefetch: bool = True
    peek: bool = False

    def next_link(self, data: Any) -> Any:
        """The link at ``next``; a step that is neither an object nor empty is an error.

        >>> NextLinkPaginator().next_link({"_links": []}), NextLinkPaginator().next_link({"_links": {"next": {"href": "/p"}}})
        (None, '/p')
        """
        *steps, last = self.next.split(".")
        node = data
        for i, step in enumerate(steps):
            child = node.get(step) if isinstance(node, dict) else None
            if child is None or child == [] or (i > 0 and not child):
                return None
            if not isinstance(child, dict):
                outer, inner = (steps[i - 1], step) if i else (step, steps[1] if len(steps) > 1 else last)
                raise ValueError(f"its '{outer}' are not an object with a '{inner}' object")
            node = child
        return node.get(last) if isinstance(node, dict) else None

    def count_label(self, label: str) -> str:
        return f"{label} (total)"

    async def scan(self, ctx: ScanContext) -> bool | None:
        async def page(url: str | None) -> tuple[Records, int | None, str | None]:
            got = await (ctx.fetch(ctx.request, ctx.label) if url is None else ctx.fetch(url, f"GET {cut(url)}"))
            return got.records, got.total, got.next

        return await next_link_scan(page, sink=ctx.sink, max_rows=ctx.max_rows,
                                    prefetch=self.prefetch and ctx.prefetch, limits=ctx.limits)

    def _shown(self) -> str:
        return self.next.removesuffix(".href")

    def describe(self, f: PagingFacts) -> tuple[str, str]:
        size = f" ({self.size.describe()})" if self.size is not None else ""
        paging = f"{f.page} per page{size}, following {self._shown()}"
        if f.splits > 1:
            paging += f"; the OR is split into {f.splits} requests, unioned and de-duplicated by id"
        if f.sorted_by is not None:
            paging += f"; sorted by {f.sorted_by} at the vendor, stopping once {f.limit_rows} rows with a value pass"
        elif f.stop_early:
            paging += f"; one page at a time until {f.limit_rows} rows pass the local re-check"
        elif f.max_rows:
            paging += f"; stopping after {f.max_rows} rows (nothing is re-checked locally)"
        pages = (f"ceil({self.total} / {f.page}) {f.noun} requests" if self.total else
                 f"one {f.noun} request per page until there is no {self._shown()}")
        return paging, pages + (" per split request" if f.splits > 1 else "")

    def brief(self, page: int) -> str:
        return f"{page} per page, following {self._shown()}"


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
