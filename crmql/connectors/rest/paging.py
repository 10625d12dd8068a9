"""Reusable paginators. Each fetches pages through a connector-supplied ``fetch_page`` coroutine and
hands them, in order, to a sink that may stop the scan.

Offset/limit with a total (Azavista ``object_count``): the first page tells the total, then the
remaining pages are fetched concurrently through a sliding window (bounded memory; the HTTP
client's semaphore bounds the requests in flight) and delivered in order. In *sequential* mode
(a LIMIT with a local re-check) pages are fetched one at a time so no request is wasted.

>>> import asyncio
>>> data = list(range(120))
>>> async def page(offset, limit):
...     return [{"n": n} for n in data[offset:offset + limit]], len(data)
>>> got = []
>>> asyncio.run(offset_scan(page, page_size=50, sink=lambda rows: got.extend(rows) or True))
>>> len(got)
120
>>> got = []  # one partition: rows 50-109 (a request at offset 50, one at 100 for 10 rows)
>>> asyncio.run(offset_scan(page, page_size=50, sink=lambda rows: got.extend(rows) or True, rows=(50, 110)))
>>> got[0], got[-1], len(got)
({'n': 50}, {'n': 109}, 60)
"""

from __future__ import annotations

import asyncio
import collections
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from ... import stats
from ...errors import RequestBudgetError, VendorResponseError
from .support import DEFAULT_MAX_PAGES, cut, valid_total

__all__ = ["LinkAhead", "ScanLimits", "next_link_scan", "offset_scan"]

log = logging.getLogger(__name__)

Page = tuple[list[dict[str, Any]], int | None]


@dataclass(frozen=True)
class ScanLimits:
    """Who a scan reads from (for its errors and warnings) and how many pages it may read.

    >>> ScanLimits("Azavista", "azavista.events").max_pages
    10000
    """

    vendor: str = ""
    table: str = ""
    max_pages: int = DEFAULT_MAX_PAGES
    #: the scan's request as errors name it (``POST /3.0/event/search``)
    request: str = ""
    #: the fan-out key the scan reads for, as messages name it ("community 15"; "": none)
    key: str = ""

    @property
    def source(self) -> str:
        """Vendor and table ("casavi Community (casavi_community.activities)")."""
        return " ".join(p for p in (self.vendor, f"({self.table})" if self.table else "") if p) or "vendor"

    @property
    def where(self) -> str:
        """Who a warning is about: vendor, table and the fan-out key, when there is one.

        >>> ScanLimits("casavi Community", "casavi_community.activities", key="community 15").where
        'casavi Community (casavi_community.activities), community 15'
        """
        return f"{self.source}, {self.key}" if self.key else self.source

    def over_budget(self, pages: int, why: str = "") -> RequestBudgetError:
        return RequestBudgetError(  # (a fan-out key's own scan: named here, the budget is per scan)
            f"{self.key + ': ' if self.key else ''}the scan needs more than {self.max_pages} pages{why}",
            vendor=self.vendor or None,
            table=self.table or None,
            hint="narrow the query, or raise max_pages on the connection if the vendor really has that many rows")

    def repeated(self, where: str) -> VendorResponseError:
        """A page equal to the one before it: the vendor ignores the paging parameters (duplicate
        rows, and a scan that might never end)."""
        return VendorResponseError(f"the page at {where} repeats the page before it, so paging is unreliable",
                                   vendor=self.vendor or None, table=self.table or None)

    def oversized(self, offset: int, asked: int, got: int) -> VendorResponseError:
        """A page with more records than the limit asked for: consecutive pages would overlap
        (duplicate rows) and a page size of the vendor's choosing would drive the work.

        >>> str(ScanLimits("Azavista", "azavista.events", request="POST /s").oversized(50, 50, 100))
        'Azavista (azavista.events): malformed response to POST /s (offset 50, limit 50): the page has 100 records, more than the 50 asked for, so paging is unreliable'
        """
        request = " ".join(p for p in (self.request, f"(offset {offset}, limit {asked})") if p)
        return VendorResponseError(f"the page has {got} records, more than the {asked} asked for, so paging is "
                                   "unreliable", vendor=self.vendor or None, table=self.table or None, request=request)

    def served_short(self, reported: int, served: int, *, rows: tuple[int, int] | None = None) -> None:
        """Say (stats and a logged warning) that the vendor served fewer rows than its total (of the
        range ``rows`` when a partition read one: ``served`` counts that range's rows)."""
        part = f" of its rows {rows[0]}-{rows[1]}" if rows is not None else ""
        stats.current().warn(f"{self.where}: vendor reported {reported} rows, served {served}{part}; the result may "
                             "be incomplete")


async def offset_scan(
    fetch_page: Callable[[int, int], Awaitable[Page]],
    *,
    page_size: int,
    sink: Callable[[list[dict[str, Any]]], bool],
    max_rows: int | None = None,
    sequential: bool = False,
    window: int = 16,
    limits: ScanLimits = ScanLimits(),
    rows: tuple[int, int | None] | None = None,
) -> None:
    """Page through ``fetch_page(offset, limit) -> (records, total)`` into ``sink``.

    The total is used only when it is a count (:func:`valid_total`); offsets are produced as
    requests go out (never a list of every offset); a page with more records than asked for is a
    :class:`VendorResponseError` (pages would overlap); an empty page before the total ends the scan
    with a warning ("vendor reported N rows, served M"); a total that would take more pages than
    ``limits.max_pages`` fails at once, and so does a scan that reads that many pages.

    ``rows=(start, stop)``: only those rows (one partition of a split scan): the first request is
    at offset ``start``, the scan ends at ``min(stop, total)`` (``stop`` None: at the total this
    range's first answer reports, so rows added since the split are read by the last range); the
    budget and the served-short warning count this range's pages and rows. ``max_rows`` then
    counts from ``start``. (The module docstring has an example.)
    """
    current = stats.current()
    start, stop = rows if rows is not None else (0, None)
    if start < 0 or (stop is not None and stop < start):
        raise ValueError(f"rows {start}-{stop}: not a range of rows")
    ranged = rows is not None and (start > 0 or stop is not None)
    # the row the scan ends before, from the range and max_rows (None: the vendor's end)
    cap = start + max_rows if max_rows is not None else None
    if stop is not None:
        cap = stop if cap is None else min(cap, stop)
    if cap is not None and cap <= start:
        return  # an empty range: nothing to ask

    def short(total: int, served_to: int) -> None:
        if ranged:
            limits.served_short(total, served_to - start, rows=(start, end if end is not None else total))
        else:
            limits.served_short(total, served_to)

    async def checked(offset: int, limit: int) -> Page:
        records, total = await fetch_page(offset, limit)
        if len(records) > limit:
            raise limits.oversized(offset, limit, len(records))
        return records, total

    first_limit = min(page_size, cap - start) if cap is not None else page_size
    records, total = await checked(start, first_limit)
    total = valid_total(total)
    fetched = start + len(records)  # the offset after the rows served so far
    step = page_size
    if records and len(records) < first_limit and total is not None and total > fetched:
        step = len(records)  # the vendor caps pages lower than we asked
    end = total if cap is None else cap if total is None else min(total, cap)
    if total is not None and end is not None:
        current.set_total_pages(max(1, -(-max(0, end - start) // step)) if step else 1)
    current.add(pages=1, rows_fetched=len(records))
    if not sink(records):
        return
    if cap is not None and fetched >= cap:
        return
    if total is None or sequential:
        await _sequential(checked, fetched, step, total, cap, sink, current, limits, previous=records,
                          start=start, short=short)
        return
    assert end is not None
    if records and fetched < end and 1 + -(-(end - fetched) // step) > limits.max_pages:
        # too many pages to plan from this total: one more page tells a lie (nothing there) from a
        # vendor that really has that many rows (which would take more pages than allowed)
        probe, _ = await checked(fetched, min(step, end - fetched))
        current.add(pages=1, rows_fetched=len(probe))
        if probe:
            raise limits.over_budget(2, f": the vendor reports {total} rows at {step} per page")
        short(total, fetched)
        return
    if not records and end > start:
        short(total, start)
        return
    next_offset = fetched
    in_flight: collections.deque[asyncio.Task[Page]] = collections.deque()

    def spawn() -> None:
        nonlocal next_offset
        in_flight.append(asyncio.ensure_future(checked(next_offset, min(step, end - next_offset))))
        next_offset += step

    previous = records
    try:
        while next_offset < end and len(in_flight) < window:
            spawn()
        while in_flight:
            page, _ = await in_flight.popleft()
            current.add(pages=1, rows_fetched=len(page))
            if not page:  # before the total: the vendor has no more rows than these
                short(total, fetched)
                return
            if page == previous:
                raise limits.repeated(f"offset {fetched}")
            previous = page
            fetched += len(page)
            if not sink(page):
                return
            if next_offset < end and fetched < end:
                spawn()
        if fetched < end:
            short(total, fetched)
    finally:
        for task in in_flight:
            task.cancel()
        if in_flight:
            await asyncio.gather(*in_flight, return_exceptions=True)


async def _sequential(fetch_page, offset, step, total, cap, sink, current, limits: ScanLimits, *,
                      previous: list[dict[str, Any]], start: int = 0,
                      short: Callable[[int, int], None] | None = None) -> None:
    """Pages one at a time from ``offset`` up to ``cap`` (the range's end, or the first offset past
    ``max_rows``; None: none). With no total, only an empty page ends the scan (a vendor may cap its
    pages below the limit asked, so a short page proves nothing), within ``limits.max_pages``."""
    pages = 1
    while True:
        if total is not None and offset >= total:
            return
        if cap is not None and offset >= cap:
            return
        if pages >= limits.max_pages:
            raise limits.over_budget(pages)
        limit = step if cap is None else min(step, cap - offset)
        page, total_now = await fetch_page(offset, limit)
        pages += 1
        if (now := valid_total(total_now)) is not None:
            total = now
        current.add(pages=1, rows_fetched=len(page))
        if not page:
            if total is not None and offset < total:
                (short or limits.served_short)(total, offset)
            return
        if page == previous:
            raise limits.repeated(f"offset {offset}")
        previous = page
        if not sink(page):
            return
        offset += len(page)


Linked = tuple[list[dict[str, Any]], int | None, str | None]
#: event-loop turns a prefetched request gets to write itself to the socket (pool lock, send)
PREFETCH_YIELDS = 4


async def next_link_scan(
    fetch: Callable[[str | None], Awaitable[Linked]],
    *,
    sink: Callable[[list[dict[str, Any]]], bool],
    max_rows: int | None = None,
    prefetch: bool = False,
    limits: ScanLimits = ScanLimits(),
) -> bool:
    """Follow next links: ``fetch(None)`` is the first page, ``fetch(url)`` the next; each returns
    ``(records, total, next_url)``. Returns False when the sink (or ``max_rows``) stopped the scan.

    Next links make pages sequential; with ``prefetch`` the next page is requested as soon as its
    link is known, so handling a page overlaps the wait for the next one. Leave it off when the
    sink may stop the scan early (a LIMIT with a local re-check): it could cost one page too many.

    A next link already followed is a paging loop (:class:`VendorResponseError`), and a scan
    reads at most ``limits.max_pages`` pages (:class:`RequestBudgetError`). ``fetch`` checks that a
    link stays on the connection's origin before returning it.

    >>> import asyncio
    >>> pages = {None: ([{"n": 1}], 2, "p2"), "p2": ([{"n": 2}], 2, None)}
    >>> async def fetch(url):
    ...     return pages[url]
    >>> got = []
    >>> asyncio.run(next_link_scan(fetch, sink=lambda rows: got.extend(rows) or True)), got
    (True, [{'n': 1}, {'n': 2}])
    """
    current = stats.current()
    fetched = 0
    first = True
    reported: int | None = None  # the first usable total: a chain ending before it was served short
    seen: set[str] = set()
    previous: list[dict[str, Any]] = []
    pages = 0
    url: str | None = None
    pending: asyncio.Future[Linked] | None = asyncio.ensure_future(fetch(None))
    try:
        while pending is not None:
            records, total, next_url = await pending
            pending = None
            pages += 1
            total = valid_total(total)
            if next_url is not None and records and (max_rows is None or fetched + len(records) < max_rows):
                if next_url in seen or next_url == url:
                    raise VendorResponseError(f"its next link {cut(next_url)} points back to a page already read "
                                              "(a paging loop)", vendor=limits.vendor or None,
                                              table=limits.table or None,
                                              request=f"GET {cut(url)}" if url else "the scan's first request")
                if pages >= limits.max_pages:
                    raise limits.over_budget(pages)
                seen.add(next_url)
            if records and records == previous:
                raise limits.repeated(cut(url) if url else "the first link")
            previous = records
            if first and total is not None:
                want = min(total, max_rows) if max_rows is not None else total
                current.set_total_pages(max(1, -(-want // max(1, len(records)))))
                first, reported = False, total
            more = bool(next_url and records) and (max_rows is None or fetched + len(records) < max_rows)
            if more and prefetch:  # the next request goes out while this page is processed
                pending = asyncio.ensure_future(fetch(next_url))
                for _ in range(PREFETCH_YIELDS):  # let it reach the socket before the page is handled
                    await asyncio.sleep(0)
            current.add(pages=1, rows_fetched=len(records))
            if not sink(records):
                return False
            fetched += len(records)
            if max_rows is not None and fetched >= max_rows:
                return False
            if not more:
                if reported is not None and fetched < reported:
                    limits.served_short(reported, fetched)
                return True
            url = next_url
            if pending is None:
                pending = asyncio.ensure_future(fetch(next_url))
        return True
    finally:
        if pending is not None and not pending.done():
            pending.cancel()
            await asyncio.gather(pending, return_exceptions=True)


class LinkAhead:
    """Requests a page's successor as soon as the page's *raw* body shows the next link.

    On a next-link chain every page waits for the one before it, and decoding a 100-entity page
    (half a millisecond) sat between a response and the next request. ``peek`` reads the link
    from the raw bytes (a connector knows where its vendor puts it); the next request goes out,
    then the body is decoded. The decoded body stays the authority: a page is only handed out
    under the URL the scan asks for (a link peeked wrongly is a request nobody takes), at most
    ``AHEAD`` pages are held, and :meth:`aclose` cancels whatever nobody took.

    >>> import asyncio
    >>> bodies = {"p1": b"p2|first page", "p2": b"|last page"}  # "next link|content"
    >>> async def send(url):
    ...     return bodies[url]
    >>> async def main():
    ...     ahead = LinkAhead(send, decode=lambda raw: raw.split(b"|")[1].decode(),
    ...                       peek=lambda raw: raw.split(b"|")[0].decode() or None)
    ...     first = await ahead.get("p1")  # p2 was requested before p1 was decoded
    ...     requested_ahead = list(ahead._started)
    ...     last = await ahead.get("p2")
    ...     await ahead.aclose()
    ...     return first, requested_ahead, last
    >>> asyncio.run(main())
    ('first page', ['p2'], 'last page')
    """

    #: pages requested ahead and not yet taken (bounds memory when the consumer is slower)
    AHEAD = 2

    def __init__(self, send: Callable[[str], Awaitable[Any]], *, decode: Callable[[Any], Any],
                 peek: Callable[[Any], str | None]) -> None:
        self._send, self._decode, self._peek = send, decode, peek
        self._started: dict[str, asyncio.Task[Any]] = {}

    async def get(self, url: str) -> Any:
        """The decoded page at ``url``: the one requested ahead if there is one, else fetched now."""
        task = self._started.pop(url, None)
        return await (task if task is not None else self._fetch(url))

    async def _fetch(self, url: str) -> Any:
        raw = await self._send(url)
        nxt = self._peek(raw)
        if nxt and nxt != url and nxt not in self._started and len(self._started) < self.AHEAD:
            self._started[nxt] = asyncio.ensure_future(self._fetch(nxt))
            for _ in range(PREFETCH_YIELDS):  # on the wire before this page is decoded
                await asyncio.sleep(0)
        return self._decode(raw)

    async def aclose(self) -> None:
        """Cancel the requests nobody took (a peeked link the decoded page did not confirm, or a
        scan that stopped)."""
        started, self._started = list(self._started.values()), {}
        for task in started:
            task.cancel()
        if started:
            await asyncio.gather(*started, return_exceptions=True)
