"""Next-link paging: follow the link each answer gives (Atlas ``_links.next.href``, casavi
Manager v2 ``_links.next`` as a URL or a HAL ``{href}`` object) until there is none.

>>> NextLinkPaginator(next="_links.next").next_link({"_links": {"next": {"href": "/v2/contacts?page=1"}}})
'/v2/contacts?page=1'
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from ... import stats
from ...errors import VendorHTTPError, VendorResponseError
from ...plan.connector import NativeRequest
from .extrapolate import Extrapolator
from .pages import Page, Paginator, PagingFacts, Records, ScanContext
from .paging import next_link_scan
from .place import Place
from .support import cut

__all__ = ["NextLinkPaginator"]

log = logging.getLogger(__name__)

#: the key of :attr:`~.pages.ScanContext.learned` naming the paths whose page size the vendor refused
_REFUSED = "size refused"


@dataclass(frozen=True)
class NextLinkPaginator(Paginator):
    """Follow the link at ``next`` (a dotted path; each step an object, ``[]`` or null: none)
    until there is none; the page size at ``size``. ``prefetch``: request the next page while
    this one is handled (not when a LIMIT may stop the scan); ``peek``: read the next link from
    the raw body before decoding it (the connector's ``peek_next``). ``retry_without_size``: the
    vendor's page-size parameter is a guess (casavi), so when the FIRST page is refused with HTTP
    400 while a size was sent, that request is sent once more without it, and the scan follows
    the next links of the vendor's own page size (logged, and a warning in the statement's
    stats); any other refusal, or a refusal of a later page, is an error as always.
    ``extrapolate``: once two consecutive links differ only in a counter that grows by one
    (casavi's ``page``), the following pages are requested ahead, concurrently (1, 2, 4 .. up to
    ``ahead`` or the connection's concurrency), each taken only under the link its predecessor
    gives (:mod:`.extrapolate`); never when a LIMIT may stop the scan. A scan ended by an error or
    a cancellation discards the pages requested ahead at once (no grace). A page size refused on
    the first page is remembered on the connection per path (:meth:`known`)."""

    next: str = "_links.next.href"
    size: Place | None = Place.query("limit")
    max_page: int = 100
    total: str | None = "total"
    prefetch: bool = True
    peek: bool = False
    retry_without_size: bool = False
    extrapolate: bool = False
    #: pages requested ahead at once (None: the connection's concurrency); each one beyond the
    #: last page is a request whose answer is discarded
    ahead: int | None = None

    def next_link(self, data: Any) -> Any:
        """The link at ``next``; a step that is neither an object nor empty is an error. At the
        link's place a HAL link object ``{"href": url}`` stands for its ``href`` (casavi serves
        either form: variant ``casavi.next_link``), an object without one is an error.

        >>> NextLinkPaginator().next_link({"_links": []}), NextLinkPaginator().next_link({"_links": {"next": {"href": "/p"}}})
        (None, '/p')
        >>> hal = NextLinkPaginator(next="_links.next")
        >>> hal.next_link({"_links": {"next": {"href": "/p2"}}}), hal.next_link({"_links": {"next": "/p2"}})
        ('/p2', '/p2')
        >>> hal.next_link({"_links": {"next": {"link": "/p2"}}})
        Traceback (most recent call last):
        ...
        ValueError: its '_links.next' is an object without an 'href'
        """
        link = self._at_next(data)
        if isinstance(link, dict):
            if "href" not in link:
                raise ValueError(f"its '{self.next}' is an object without an 'href'")
            return link["href"]
        return link

    def _at_next(self, data: Any) -> Any:
        """The value at ``next`` (None when a step is missing or empty)."""
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
        ahead = None
        if self._ahead(ctx.prefetch and not ctx.sequential and ctx.max_rows is None):
            ahead = Extrapolator(lambda url: ctx.fetch(url, f"GET {cut(url)}"), self._depth(ctx.concurrency))

        async def page(url: str | None) -> tuple[Records, int | None, str | None]:
            if url is None:
                got = await self._first(ctx)
            else:
                got = await (ahead.get(url) if ahead is not None else ctx.fetch(url, f"GET {cut(url)}"))
            return got.records, got.total, got.next

        try:
            done = await next_link_scan(page, sink=ctx.sink, max_rows=ctx.max_rows,
                                        prefetch=self.prefetch and ctx.prefetch, limits=ctx.limits)
        except BaseException:  # an error or a cancellation: nobody waits for pages beyond the last
            if ahead is not None:
                await ahead.aclose(grace_s=0)
            raise
        if ahead is not None:
            await ahead.aclose()
        return done

    def _depth(self, concurrency: int) -> int:
        """Pages requested ahead at once: ``ahead`` (when declared) within the connection's concurrency."""
        return max(1, min(self.ahead or concurrency, concurrency))

    def _ahead(self, whole: bool) -> bool:
        """Whether pages are requested ahead of their links: declared, and the scan reads to its
        end (no LIMIT that may stop it; a raw-body peek is another way ahead)."""
        return self.extrapolate and whole and self.prefetch and not self.peek

    def refused(self, request: NativeRequest, learned: dict[str, Any]) -> bool:
        """Whether the vendor refused, earlier on this connection and path, a page size no bigger
        than the one ``request`` asks (``learned``: the connection's memory,
        :attr:`~.pages.ScanContext.learned`; a smaller size, a LIMIT's, is still asked for)."""
        smallest = learned.get(_REFUSED, {}).get(request.path) if self.retry_without_size else None
        sent = self.size.get(request) if self.size is not None else None
        if smallest is None or sent is None:
            return False
        return not (str(sent).isdigit() and int(sent) < smallest)

    def known(self, request: NativeRequest, learned: dict[str, Any]) -> NativeRequest:
        """``request`` as the connection sends it: without the page size where the vendor refused
        that size (or a smaller one) on its path before, so a refusal costs one request per
        connection and path, not one per scan.

        >>> p = NextLinkPaginator(next="_links.next", size=Place.query("limit"), retry_without_size=True)
        >>> request = NativeRequest("GET", "/v2/contacts", [("limit", "100")])
        >>> learned = {"size refused": {"/v2/contacts": 50}}
        >>> p.known(request, {}).render(), p.known(request, learned).render()
        ('GET /v2/contacts?limit=100', 'GET /v2/contacts')
        >>> p.known(NativeRequest("GET", "/v2/contacts", [("limit", "10")]), learned).render()
        'GET /v2/contacts?limit=10'
        """
        if self.size is None or not self.refused(request, learned):
            return request
        return self.size.remove(request)

    async def _first(self, ctx: ScanContext) -> Page:
        """The scan's first page; refused (HTTP 400) with a page size sent, once more without it
        where :attr:`retry_without_size` is declared (and remembered on the connection, see
        :meth:`known`). The page's ``sent`` is the request that answered it."""
        request = self.known(ctx.request, ctx.learned)
        if request is not ctx.request:
            log.debug("%s: %s sent without its page size (refused earlier on this connection)", ctx.limits.where,
                      ctx.label)
        try:
            got = await ctx.fetch(request, ctx.label)
            got.sent = request
            return got
        except VendorHTTPError as e:
            sent = self.size.get(request) if self.size is not None else None
            if not self.retry_without_size or e.status != 400 or sent is None or isinstance(e, VendorResponseError):
                raise
            assert self.size is not None
            log.info("%s: the first page was refused (HTTP 400: %s) with %s=%s; asking once more without a "
                     "page size", ctx.limits.where, e.vendor_message or "no message", self.size.describe(), sent)
            stats.current().warn(f"{ctx.limits.where}: the vendor refused the page size {self.size.describe()}={sent}"
                                 f" (HTTP 400), so its own page size is used; set page_size on the connection if it "
                                 f"takes a smaller one")
            without = self.size.remove(request)
            got = await ctx.fetch(without, f"{without.method} {without.path} (without {self.size.describe()})")
            got.sent = without  # taken without it: the size was what the vendor refused (remembered)
            refused = ctx.learned.setdefault(_REFUSED, {})
            size = int(sent) if str(sent).isdigit() else 0
            refused[request.path] = min(size, refused.get(request.path, size))
            return got

    def _shown(self) -> str:
        return self.next.removesuffix(".href")

    def describe(self, f: PagingFacts) -> tuple[str, str]:
        size = f" ({self.size.describe()})" if self.size is not None else ""
        paging = f"{f.page} per page{size}, following {self._shown()}"
        if self.retry_without_size and self.size is not None and f.size_refused:
            paging = (f"the vendor's own page size (it refused {self.size.describe()} earlier on this connection), "
                      f"following {self._shown()}")
        elif self.retry_without_size and self.size is not None:
            paging += " (a refused size: retried without)"
        ahead = self._ahead(not (f.stop_early or f.max_rows or f.sorted_by is not None))
        if ahead:
            paging += "; pages after the second requested ahead, checked against each page's next link"
            if self._depth(f.concurrency) > 1:
                paging += f" (1, then 2, 4 .. up to {self._depth(f.concurrency)} at once while links follow a counter)"
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
        if ahead and self._depth(f.concurrency) > 1:
            pages += f", plus up to {self._depth(f.concurrency) - 1} requested beyond the last page and discarded"
        return paging, pages + (" per split request" if f.splits > 1 else "")

    def brief(self, page: int) -> str:
        return f"{page} per page, following {self._shown()}"
