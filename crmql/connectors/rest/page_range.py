"""One row range of a page-index scan (a partition of a split scan: ``FetchPlan.rows``), for
:func:`~crmql.connectors.rest.page_index.page_index_scan` called with ``rows=(start, stop)``.

Rows ``[start, stop)`` are pages ``start // size`` to ``ceil(stop / size) - 1`` (counted from the
vendor's ``base``; ``stop`` None: to the vendor's end, the page count this range's first answer
reports, so rows added since the split are read by the last range). Every page is asked at the
same ``size`` (an index names rows only at a fixed size), and each page's rows are cut to the
range by their position (a range that is a multiple of the size cuts nothing).

An index names the rows it should only if the vendor serves pages of the size asked. A vendor
capping its pages lower (casavi Community above its maximum, a Voyzu server with a smaller
maximum) is found from the range's first page: short of the size while more pages follow, or, when
it is the vendor's last page, the page before it short too (one request more); the range is then
read again in pages of the size served (one request wasted). A page short of the size with rows
after it found later is a VendorResponseError, never rows of another range.

>>> import asyncio
>>> data = [{"n": n} for n in range(120)]
>>> async def page(index, size):  # a vendor capping its pages at 30, pages from 0
...     size = min(size, 30)
...     return data[index * size:(index + 1) * size], -(-len(data) // size)
>>> got = []
>>> asyncio.run(ranged_page_scan(page, (50, 100), page_size=50, sink=lambda r: got.extend(r) or True))
>>> got[0], got[-1], len(got)
({'n': 50}, {'n': 99}, 50)
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

from ... import stats
from ...errors import VendorResponseError
from .page_loops import IndexedPage, Records, Sink, _oversized, _pages_short, _sequential, _window
from .paging import ScanLimits
from .support import valid_total

__all__ = ["ranged_page_scan"]

log = logging.getLogger(__name__)


class _Smaller(Exception):
    """The vendor serves pages of ``size`` rows, fewer than asked."""

    def __init__(self, size: int) -> None:
        super().__init__(size)
        self.size = size


async def ranged_page_scan(fetch_page: Callable[[int, int], Awaitable[IndexedPage]], rows: tuple[int, int | None], *,
                           page_size: int, sink: Sink, base: int = 0, max_rows: int | None = None,
                           sequential: bool = False, window: int = 16, limits: ScanLimits = ScanLimits()) -> None:
    """Rows ``[start, stop)`` of a page-index scan into ``sink`` (see the module docstring);
    ``max_rows`` counts from ``start``."""
    try:
        await _scan(fetch_page, rows, page_size, sink, base, max_rows, sequential, window, limits, resized=False)
    except _Smaller as smaller:
        log.debug("%s: the vendor serves %d rows a page, not the %d asked: the range is read in pages of %d",
                  limits.where, smaller.size, page_size, smaller.size)
        await _scan(fetch_page, rows, smaller.size, sink, base, max_rows, sequential, window, limits, resized=True)


async def _scan(fetch_page: Callable[[int, int], Awaitable[IndexedPage]], rows: tuple[int, int | None], size: int,
                sink: Sink, base: int, max_rows: int | None, sequential: bool, window: int, limits: ScanLimits, *,
                resized: bool) -> None:
    start, stop = rows
    if start < 0 or (stop is not None and stop < start):
        raise ValueError(f"rows {start}-{stop}: not a range of rows")
    cap = start + max_rows if max_rows is not None else None
    if stop is not None:
        cap = stop if cap is None else min(cap, stop)
    if cap is not None and cap <= start:
        return  # an empty range: nothing to ask
    current = stats.current()
    first = base + start // size
    count: int | None = None
    short_at: int | None = None  # the first page served short of the size (the last one, if the size is the vendor's)
    filled = -1  # the highest page with rows

    def smaller(index: int, served: int) -> VendorResponseError:
        return VendorResponseError(
            f"page {index} has {served} records, fewer than the {size} asked for, and it is not the last page: the "
            "vendor serves smaller pages, so a page index does not name these rows", vendor=limits.vendor or None,
            table=limits.table or None, request=limits.request or None)

    async def raw_page(index: int) -> IndexedPage:
        nonlocal short_at, filled
        records, raw = await fetch_page(index, size)
        if len(records) > size:
            raise _oversized(limits, index, size, len(records))
        known = count if count is not None else valid_total(raw)
        if records and len(records) < size and known is not None and index - base < known - 1:
            if index == first and not resized:
                raise _Smaller(len(records))
            raise smaller(index, len(records))
        if records:
            filled = max(filled, index)
            if len(records) < size:
                short_at = index if short_at is None else min(short_at, index)
        if short_at is not None and short_at < filled:
            raise smaller(short_at, size - 1)
        return records, raw

    def cut(index: int, records: Records) -> Records:
        at = (index - base) * size  # the position of the page's first row
        return records[max(0, start - at):len(records) if cap is None else max(0, min(len(records), cap - at))]

    async def checked(index: int) -> IndexedPage:
        records, raw = await raw_page(index)
        return cut(index, records), raw

    records, raw = await raw_page(first)
    count = valid_total(raw)
    if count is not None and records and count == 0:
        count = None  # records and a page count of 0: no count
    if records and len(records) < size and first > base and not resized and (count is None or first - base >= count - 1):
        # short, and the vendor's last page: so it is if the vendor serves the size asked, which the page before tells
        before, _ = await fetch_page(first - 1, size)
        current.add(pages=1, rows_fetched=len(before))
        if 0 < len(before) < size:
            raise _Smaller(len(before))
    records = cut(first, records)
    end = None if cap is None else base - (-cap // size)  # the index after the range's last page
    if count is not None:
        end = base + count if end is None else min(end, base + count)
        current.set_total_pages(max(1, end - first))
    current.add(pages=1, rows_fetched=len(records))
    if not sink(records) or (end is not None and first + 1 >= end):
        return
    if not records:
        if count is not None and first - base < count - 1:
            _pages_short(limits, count, first, base)
        return
    if count is None or sequential:
        await _sequential(checked, base, None if end is None else end - base, size, 0, records, None, sink, limits,
                          first=first)
        return
    if end - first > limits.max_pages:
        raise limits.over_budget(1, f": the range reads {end - first} pages of {size}")
    await _window(checked, base, end - base, 0, records, None, sink, window, limits, count, first=first)
