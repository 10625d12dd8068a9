"""Fetching a planned scan for :class:`~.connector.RestConnector`: one paged scan from its first
request (:func:`scan`), a plan's scans together (:func:`fetch`: reads by id, a fan-out, an OR split
unioned and de-duplicated by key, or the rows ``[start, stop)`` of one search, ``FetchPlan.rows``),
the vendor's total of a plan (:func:`count`) and a search's size for splitting it (:func:`extent`).

The connector's methods of the same names delegate here, so a vendor overrides them as before
(``super().fetch(...)``); these functions call back into the connector's hooks (``send``,
``read_page``, ``complete``, ``peek_next``, ``by_id_records``, ``child_rows``).

>>> _headers(NativeRequest("GET", "/a", headers=(("X-Page", "1"),)))
{'headers': {'X-Page': '1'}}
"""

from __future__ import annotations

import logging
from typing import Any

from ...errors import VendorResponseError
from ...plan.catalog import Table
from ...plan.connector import Extent, FetchPlan, Mode, NativeRequest, PageSink
from .fan_fetch import count_fan_out, fetch_fan_out
from .paginators import NextLinkPaginator, OffsetPaginator, Page, PageIndexPaginator, ScanContext
from .paging import LinkAhead, ScanLimits
from .place import dig
from .spec import Resource
from .support import cut, gather_all, shown, valid_total

#: a :class:`~.connector.RestConnector` (not imported: the connector imports this module)
RestConnector = Any

__all__ = ["count", "extent", "fetch", "limits", "scan"]

log = logging.getLogger(__name__)

Records = list[dict[str, Any]]


async def scan(conn: RestConnector, table: Table, res: Resource, request: NativeRequest, sink: PageSink, *,
               max_rows: int | None = None, sequential: bool = False, prefetch: bool = True,
               rows: tuple[int, int | None] | None = None) -> bool:
    """One paged scan from its first request; False when the sink (or ``max_rows``) stopped it.
    ``rows``: only the rows [start, stop) (a paginator that cannot read a range: NotImplementedError)."""
    paginator = res.paginator
    if rows is not None and not paginator.ranged:
        raise NotImplementedError(f"{table.qualified} cannot be read by row range: its {type(paginator).__name__} "
                                  "has no offset or page index to start from")
    stopped = False
    ahead = None
    if (isinstance(paginator, NextLinkPaginator) and paginator.peek and paginator.prefetch and prefetch
            and not sequential and max_rows is None):
        ahead = LinkAhead(lambda url: conn.http.request("GET", url, table=table.qualified, **_headers(request)),
                          decode=lambda response: conn.http.decode_json(response, table.qualified),
                          peek=conn.peek_next)

    async def fetch_page(target: NativeRequest | str, label: str) -> Page:
        if isinstance(target, str):  # a next link: the request's headers go along (a page size)
            data = await (ahead.get(target) if ahead is not None else
                          conn.http.request_json("GET", target, table=table.qualified, **_headers(request)))
        else:
            data = await conn.send(table, target, first=target == request, res=res)
        page = conn.read_page(res, table, data, label)
        page.records = await conn.complete(res, table, page.records, label)
        return page

    def counted(records: Records) -> bool:
        nonlocal stopped
        if res.explode is not None:
            try:
                records = res.explode.rows(records)
            except ValueError as e:
                raise VendorResponseError(str(e), vendor=conn.display, table=table.qualified,
                                          request=f"{request.method} {cut(request.path)}") from None
        stopped = not sink(records)
        return not stopped

    ctx = ScanContext(request, fetch_page, counted, limits(conn, table, request), max_rows=max_rows,
                      sequential=sequential, window=max(2, conn.concurrency * 2), prefetch=prefetch,
                      concurrency=conn.concurrency, learned=conn.paging_learned, rows=rows)
    try:
        result = await paginator.scan(ctx)
    finally:
        if ahead is not None:
            await ahead.aclose()
    return not stopped and result is not False


def limits(conn: RestConnector, table: Table, request: NativeRequest) -> ScanLimits:
    """Who a scan of ``table`` reads from, its page budget and its request, for its errors."""
    return ScanLimits(conn.display, table.qualified, conn.max_pages, f"{request.method} {request.path}")


async def fetch(conn: RestConnector, table: Table, plan: FetchPlan, sink: PageSink) -> None:
    """The plan's rows into ``sink``: reads by id, a fan-out, or its search scans (an OR split into
    several: unioned, de-duplicated by the resource's key)."""
    if plan.mode is Mode.NONE:
        return
    if plan.rows is not None and (plan.mode is not Mode.SEARCH or len(plan.requests) != 1):
        raise NotImplementedError(f"{table.qualified}: a row range is read from one search request, not from "
                                  f"{len(plan.requests)} {plan.mode} request(s)")
    res = conn.resource(table)
    if plan.fill:  # a filter-only column's value: every record carries it
        given, fill = sink, plan.fill
        sink = lambda records: given([{**r, **fill} for r in records])  # noqa: E731
    if plan.mode is Mode.GET:
        rows = ((lambda records: conn.by_id_records(table, records)) if res.explode is None else
                (lambda records: conn.child_rows(table, res, plan.keys, records)))
        await conn.fetch_by_ids(table, plan.requests, lambda records: sink(rows(records)),
                                missing=res.by_id.missing if res.by_id is not None else (404,))
        return
    if plan.mode is Mode.FAN_OUT:  # one scan per key value (see :mod:`.fan_out`)
        await fetch_fan_out(conn, table, res, plan, sink)
        return
    seen: set[Any] | None = set() if len(plan.requests) > 1 else None

    def dedupe(records: Records) -> bool:
        if seen is not None:  # an OR split into requests: a row may come from several
            for r in records:
                key = r.get(res.key)
                if key is None or isinstance(key, bool) or not isinstance(key, (str, int, float)):
                    raise VendorResponseError(
                        f"a record's {res.key} is {'missing' if key is None else shown(key)}, so the requests "
                        "of the split OR cannot be de-duplicated", vendor=conn.display, table=table.qualified,
                        request=f"{plan.requests[0].method} {plan.requests[0].path}")
            records = [r for r in records if r[res.key] not in seen]
            seen.update(r[res.key] for r in records)
        return sink(records)

    scans = [conn.scan(table, res, r, dedupe, max_rows=plan.max_rows, sequential=plan.stop_early,
                       prefetch=not plan.stop_early, rows=plan.rows) for r in plan.requests]
    if plan.stop_early or len(scans) == 1:
        for one in scans:
            if not await one:
                for rest in scans:
                    rest.close()
                return
    else:
        await gather_all(*scans)


async def count(conn: RestConnector, table: Table, plan: FetchPlan) -> int:
    """The vendor's total for the plan's filter (one 1-row request per request of the plan,
    summed: a split OR's estimate); when it is no count, the matching rows are counted over
    a scan for COUNT(*) (with a warning), and EXPLAIN's probe fails."""
    res = conn.resource(table)
    paginator = res.paginator
    if res.explode is not None:  # a total of parents is no count of their children
        raise NotImplementedError(f"{table.qualified} has no total of its own")
    if res.fan_out is not None and plan.keys and plan.mode in (Mode.COUNT, Mode.FAN_OUT):  # per key, summed
        return await count_fan_out(conn, table, res, plan)

    async def one(request: NativeRequest) -> int:
        label = f"{request.method} {request.path}"
        data = await conn.send(table, paginator.sized(request, 1), res=res)
        total = conn.read_page(res, table, data, paginator.count_label(label), links=False).total
        full = paginator.sized(request, paginator.max_page)
        raw = dig(data, paginator.total) if paginator.total else None
        return await conn.total_or_count(table, plan, total, raw,
                                         f"{label} (limit 1)",
                                         lambda tally: conn.scan(table, res, full, tally, prefetch=False))

    return sum(await gather_all(*(one(r) for r in plan.requests)))


async def extent(conn: RestConnector, table: Table, plan: FetchPlan) -> Extent | None:
    """The vendor's total rows and the scan's page size from ONE request of one row, for a plan
    whose rows can be read in ranges: one search request, no LIMIT (``max_rows``, ``stop_early``),
    no child table, an offset paginator with a total or a page-index one with a page size. None
    otherwise, and when the answer gives no count (:func:`~.support.valid_total`), or a page-index
    vendor did not serve a page of one row (then its page count is no row count). The vendor's
    errors are the kit's (they name the request)."""
    res = conn.resource(table)
    paginator = res.paginator
    if (plan.mode is not Mode.SEARCH or len(plan.requests) != 1 or plan.max_rows is not None or plan.stop_early
            or res.explode is not None or plan.rows is not None):
        return None
    request = plan.requests[0]
    if isinstance(paginator, OffsetPaginator) and paginator.total:
        page = paginator.limit.get(request)
    elif isinstance(paginator, PageIndexPaginator) and paginator.size is not None:
        page = paginator.size.get(request)
    else:
        return None
    label = f"{request.method} {request.path}"
    data = await conn.send(table, paginator.sized(request, 1), res=res)
    got = conn.read_page(res, table, data, f"{paginator.count_label(label)} (limit 1)", links=False)
    size = int(page) if str(page or "").isdigit() and int(page) > 0 else paginator.max_page
    if isinstance(paginator, OffsetPaginator):
        return Extent(got.total, size) if got.total is not None else None
    echo = dig(data, paginator.size_echo) if paginator.size_echo and isinstance(data, dict) else None
    if len(got.records) > 1 or (echo is not None and echo != 1):
        log.debug("%s (%s): a page of 1 row was answered with %d rows: the page count is no row count",
                  conn.display, table.qualified, len(got.records))
        return None
    rows = got.total if paginator.total else valid_total(dig(data, paginator.page_count))
    if rows is None or (rows == 0 and got.records):
        return None
    return Extent(rows, size)


def _headers(request: NativeRequest) -> dict[str, Any]:
    """The request's own headers as a keyword (none: no keyword, as before the kit)."""
    return {"headers": dict(request.headers)} if request.headers else {}
