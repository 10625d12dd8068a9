"""Scan engines for the list shapes no offset or next link describes: a page index with a page
count, a count with no page parameter, and a body that is the list itself.

They are called like :func:`~crmql.connectors.rest.paging.offset_scan`: a ``fetch`` callback
supplied by the connector (it sends the request and validates the envelope), a ``sink`` that gets
the records page by page, in order, and returns False to stop, ``max_rows``, and
:class:`~crmql.connectors.rest.paging.ScanLimits` naming the vendor and table for errors and
bounding the pages. Each page is counted in :func:`crmql.stats.current` (pages, rows fetched).

* :func:`page_index_scan`: ``?page=0&limit=50`` answered with ``{page, pageCount, pageSize, rows}``
  (casavi Community's appointments, activities and official posts; page 0-based). The first page
  tells the page count; the other pages are then fetched concurrently (a bounded window) and
  delivered in order. A page count that is no count makes the scan sequential, until an empty page.
* :func:`counted_single_page`: ``{pageSize, count, rowsOnPage, rows}`` with no documented page
  parameter (casavi Community's notifications): one request; rows the vendor counted but did not
  serve are an error (or, when declared, a warning), never a silently short result.
* :func:`plain_array`: the body is the list (casavi Community's tickets, units, important
  contacts): one request.

>>> import asyncio
>>> data = [{"n": n} for n in range(120)]
>>> async def page(index, size):  # a vendor with 0-based pages: (records, page count)
...     return data[index * size:(index + 1) * size], -(-len(data) // size)
>>> got = []
>>> asyncio.run(page_index_scan(page, page_size=50, sink=lambda rows: got.extend(rows) or True))
>>> len(got), got[-1]
(120, {'n': 119})
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any, Literal

from ... import stats
from ...errors import ConnectorError, VendorResponseError
from .page_loops import IndexedPage, Records, Sink, _oversized, _pages_short, _sequential, _window
from .page_range import ranged_page_scan
from .paging import ScanLimits
from .support import check_records, shown, valid_total

__all__ = ["counted_single_page", "page_index_scan", "plain_array"]

log = logging.getLogger(__name__)

async def page_index_scan(
    fetch_page: Callable[[int, int], Awaitable[IndexedPage]],
    *,
    page_size: int,
    sink: Sink,
    base: int = 0,
    max_rows: int | None = None,
    sequential: bool = False,
    window: int = 16,
    limits: ScanLimits = ScanLimits(),
    sized: bool = True,
    rows: tuple[int, int | None] | None = None,
) -> None:
    """Page through ``fetch_page(page_index, page_size) -> (records, page_count)`` into ``sink``.
    (``sized=False``: the vendor takes no page size and serves ``page_size`` rows a page, so
    ``max_rows`` only stops the scan.) ``rows=(start, stop)``: only those rows (:mod:`.page_range`).

    Page indexes start at ``base`` (0 or 1, as the vendor declares). Every page is asked with the
    same size (``min(page_size, max_rows)``: an index only means something at a fixed size). The
    first page's ``page_count`` is used when it is a count (:func:`valid_total`) that agrees with
    the first page (a first page with records and a page count of 0 is no count); the other pages
    are then requested concurrently, at most ``window`` ahead, and delivered in order. A page count
    needing more than ``limits.max_pages`` pages fails before any of them is requested
    (:class:`~crmql.errors.RequestBudgetError`).

    In ``sequential`` mode (a LIMIT with a local re-check: no request wasted), or when the page
    count is no count, pages are read one at a time until an empty page (a vendor may cap its
    pages below the size asked, so a short page proves nothing), within ``limits.max_pages``.

    A page with more records than asked for, or equal to the page before it (the vendor ignores
    the page parameter), is a :class:`~crmql.errors.VendorResponseError`; an empty page before
    the page count ends the scan with a warning.

    >>> import asyncio
    >>> async def page(index, size):  # 1-based pages, no page count
    ...     return ([{"n": index}] if index <= 3 else []), None
    >>> got = []
    >>> asyncio.run(page_index_scan(page, page_size=1, base=1, sink=lambda r: got.extend(r) or True))
    >>> got
    [{'n': 1}, {'n': 2}, {'n': 3}]
    """
    if page_size < 1 or base < 0 or window < 1:
        raise ValueError("page_size and window must be positive, base not negative")
    if rows is not None and (rows[0] > 0 or rows[1] is not None):
        await ranged_page_scan(fetch_page, rows, page_size=page_size, sink=sink, base=base, max_rows=max_rows,
                               sequential=sequential, window=window, limits=limits)
        return
    current = stats.current()
    size = min(page_size, max_rows) if max_rows and sized else page_size

    async def checked(index: int) -> IndexedPage:
        records, count = await fetch_page(index, size)
        if len(records) > size:
            raise _oversized(limits, index, size, len(records))
        return records, count

    records, raw_count = await checked(base)
    count = valid_total(raw_count)
    if count is not None and records and count == 0:
        log.debug("%s: page count 0 with %d records on the first page: no count", limits.where, len(records))
        count = None
    current.add(pages=1, rows_fetched=len(records))
    fetched = len(records)
    if count is not None:
        want = count if max_rows is None else min(count, -(-max_rows // size))
        current.set_total_pages(max(1, want))
    if not sink(records) or (max_rows is not None and fetched >= max_rows):
        return
    if not records:
        if count is not None and count > 1:
            _pages_short(limits, count, base, base)
        return
    if count is None or sequential:
        await _sequential(checked, base, count, size, fetched, records, max_rows, sink, limits)
        return
    step = len(records) if len(records) < size and count > 1 else size  # the vendor caps its pages lower
    last = count if max_rows is None else min(count, -(-max_rows // step))  # pages wanted in all
    if last > limits.max_pages:
        raise limits.over_budget(1, f": the vendor reports {count} pages of {step}")
    await _window(checked, base, last, fetched, records, max_rows, sink, window, limits, count)


async def counted_single_page(
    fetch: Callable[[], Awaitable[tuple[Records, int | None]]],
    *,
    sink: Sink,
    max_rows: int | None = None,
    on_short: Literal["error", "warn"] = "error",
    limits: ScanLimits = ScanLimits(),
) -> None:
    """One request, ``fetch() -> (records, count)``, for a list the vendor counts but cannot page.

    A count that is missing or no count (:func:`valid_total`) leaves the rows served with a warning.
    When ``count`` says more rows match than were served, and the
    query wanted them (the sink did not stop it, ``max_rows`` was not reached), the rest cannot be
    asked for: no page parameter is documented. A silently short result would be a wrong answer
    that looks right, so by default that is a :class:`~crmql.errors.ConnectorError` naming the
    vendor, table and the rows missing, with a hint to narrow the query (the vendor's own filters,
    e.g. a time range, make the list shorter). A connector may declare ``on_short="warn"`` for a
    list where a partial answer is useful (the newest rows first); the result then carries the
    warning, like a vendor that serves fewer rows than its total.

    >>> import asyncio
    >>> async def fetch():
    ...     return [{"id": 1}, {"id": 2}], 2
    >>> got = []
    >>> asyncio.run(counted_single_page(fetch, sink=lambda r: got.extend(r) or True)); got
    [{'id': 1}, {'id': 2}]
    """
    current = stats.current()
    current.set_total_pages(1)
    records, raw = await fetch()
    current.add(pages=1, rows_fetched=len(records))
    count = valid_total(raw)
    if not sink(records) or (max_rows is not None and len(records) >= max_rows):
        return
    if count is None:  # nothing tells whether rows are missing: the user is told so
        current.warn(f"{limits.where}: the count {'is missing' if raw is None else shown(raw) + ' is no count'}; "
                     f"the {len(records)} rows served may not be all")
        return
    if count <= len(records):
        return
    missing = count - len(records)
    what = (f"the vendor counts {count} rows but served {len(records)}, and documents no way to ask for the "
            f"other {missing}")
    if on_short == "warn":
        current.warn(f"{limits.where}: {what}; the result is incomplete")
        return
    request = f" to {limits.request}" if limits.request else ""
    raise ConnectorError(f"incomplete answer{request}: {what}", vendor=limits.vendor or None,
                         table=limits.table or None,
                         hint="narrow the query with conditions the vendor filters on (a time range, a status) so "
                              "that fewer rows match")


async def plain_array(
    fetch: Callable[[], Awaitable[Any]],
    *,
    sink: Sink,
    max_rows: int | None = None,
    limits: ScanLimits = ScanLimits(),
) -> None:
    """One request, ``fetch() -> body``, where the body itself is the list of records.

    A body that is not a list, or a list item that is not an object, is a
    :class:`~crmql.errors.VendorResponseError`. All records go to the sink at once (one page:
    there is no more to ask for); ``max_rows`` is accepted for a uniform call and changes nothing.

    >>> import asyncio
    >>> async def fetch():
    ...     return [{"id": "u1"}, {"id": "u2"}]
    >>> got = []
    >>> asyncio.run(plain_array(fetch, sink=lambda r: got.extend(r) or True)); got
    [{'id': 'u1'}, {'id': 'u2'}]
    """
    current = stats.current()
    current.set_total_pages(1)
    body = await fetch()
    if not isinstance(body, list):
        kind = "an object" if isinstance(body, dict) else "null" if body is None else f"a {type(body).__name__}"
        raise VendorResponseError(f"the body is {kind}, not the list of records", vendor=limits.vendor or None,
                                  table=limits.table or None, request=limits.request or None)
    records = check_records(body, vendor=limits.vendor, table=limits.table,
                            request=limits.request or "the list request")
    current.add(pages=1, rows_fetched=len(records))
    sink(records)
