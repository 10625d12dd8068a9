"""The loops the page-index engines share: a bounded window of concurrent pages delivered in order,
one page at a time until an empty page, and the errors and warnings they raise. Used by
:mod:`.page_index` (a whole scan) and :mod:`.page_range` (a range of rows), which call each other
never.

>>> str(_oversized(ScanLimits("casavi Community", "casavi_community.activities"), 2, 50, 51)).split(": ", 1)[1]
'malformed response to (page 2, page size 50): the page has 51 records, more than the 50 asked for, so paging is unreliable'
"""

from __future__ import annotations

import asyncio
import collections
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from ... import stats
from ...errors import VendorResponseError
from .paging import ScanLimits
from .support import valid_total

__all__ = ["IndexedPage", "Records", "Sink"]

log = logging.getLogger(__name__)

Records = list[dict[str, Any]]
Sink = Callable[[Records], bool]
#: ``fetch_page(page_index, page_size) -> (records, page_count)``
IndexedPage = tuple[Records, int | None]


def _oversized(limits: ScanLimits, index: int, size: int, got: int) -> VendorResponseError:
    """A page with more records than the page size asked for: pages would overlap."""
    request = " ".join(p for p in (limits.request, f"(page {index}, page size {size})") if p)
    return VendorResponseError(f"the page has {got} records, more than the {size} asked for, so paging is "
                               "unreliable", vendor=limits.vendor or None, table=limits.table or None,
                               request=request)


def _pages_short(limits: ScanLimits, reported: int, index: int, base: int) -> None:
    """Warn (stats and log) that a page the page count promised came back empty."""
    stats.current().warn(f"{limits.where}: vendor reported {reported} pages, but page {index} (counting from "
                         f"{base}) was empty; the result may be incomplete")



async def _window(checked: Callable[[int], Awaitable[IndexedPage]], base: int, last: int, fetched: int,
                  previous: Records, max_rows: int | None, sink: Sink, window: int, limits: ScanLimits,
                  count: int, *, first: int | None = None) -> None:
    """Pages ``first + 1 .. base + last - 1`` (``first``: the page already read, ``base`` unless a
    range starts later), at most ``window`` in flight, delivered in order; with ``max_rows`` not
    reached by then (pages served short), the next pages up to ``count`` one by one."""
    current = stats.current()
    next_index = (base if first is None else first) + 1
    end = base + last
    in_flight: collections.deque[tuple[int, asyncio.Task[IndexedPage]]] = collections.deque()

    def spawn() -> None:
        nonlocal next_index
        in_flight.append((next_index, asyncio.ensure_future(checked(next_index))))
        next_index += 1

    try:
        while next_index < end and len(in_flight) < window:
            spawn()
        while in_flight:
            index, task = in_flight.popleft()
            page, _ = await task
            current.add(pages=1, rows_fetched=len(page))
            if not page:  # before the page count: the vendor has no more rows than these
                _pages_short(limits, count, index, base)
                return
            if page == previous:
                raise limits.repeated(f"page {index}")
            previous = page
            fetched += len(page)
            if not sink(page) or (max_rows is not None and fetched >= max_rows):
                return
            if next_index < end:
                spawn()
            elif max_rows is not None and not in_flight and next_index < base + count:  # max_rows not reached
                if next_index - base >= limits.max_pages:
                    raise limits.over_budget(next_index - base)
                spawn()
    finally:
        for _, task in in_flight:
            task.cancel()
        if in_flight:
            await asyncio.gather(*(t for _, t in in_flight), return_exceptions=True)


async def _sequential(checked: Callable[[int], Awaitable[IndexedPage]], base: int, count: int | None, size: int,
                      fetched: int, previous: Records, max_rows: int | None, sink: Sink,
                      limits: ScanLimits, *, first: int | None = None) -> None:
    """Pages one at a time after the first (``first``: the page already read, ``base`` unless a
    range starts later): up to the page count when there is one, else until an empty page; never
    more than ``limits.max_pages`` pages in all."""
    current = stats.current()
    index, pages = (base if first is None else first) + 1, 1
    while True:
        if count is not None and index - base >= count:
            return
        if max_rows is not None and fetched >= max_rows:
            return
        if pages >= limits.max_pages:
            raise limits.over_budget(pages)
        page, now = await checked(index)
        pages += 1
        current.add(pages=1, rows_fetched=len(page))
        if count is None and (now := valid_total(now)) is not None and now > 0:
            count = now  # a later page may tell what the first did not
        if not page:
            if count is not None and index - base < count:
                _pages_short(limits, count, index, base)
            return
        if page == previous:
            raise limits.repeated(f"page {index}")
        previous = page
        fetched += len(page)
        if not sink(page):
            return
        index += 1
