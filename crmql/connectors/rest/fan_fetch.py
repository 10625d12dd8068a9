"""Fetching a fan-out (planned by :mod:`.fan_out`): one scan per key value, and COUNT(*) per key.

* :func:`fetch_fan_out`: without a LIMIT the keys' scans run concurrently, at most the connection's
  concurrency at a time (and the HTTP client's limit bounds their pages), rows delivered as they
  come. With a LIMIT the keys are read in a window of that many keys ahead of the first key not yet
  delivered; rows are delivered in key order (a later key's rows wait until the keys before it are
  done), and once the LIMIT is reached (or enough rows passed the local re-check) the keys still
  being read are cancelled and no further key is started. A key's failure names it ("community 15:
  ...") and cancels the others, so no partial result is returned; with a LIMIT a failure is raised
  when its key's turn comes (a LIMIT reached before it never sees it, as when keys were read one at
  a time).
* The 404 policy (:func:`~.fan_out.report_missing`): a key whose first request answers 404 (where
  declared: ``FanOut.missing_is_empty``) has no rows; when EVERY key asked answered 404 and the
  fan-out declares a ``missing_hint`` (its paths are guesses), that is an error naming the request
  template, since a wrong path would otherwise be an empty result; some keys answering 404 is a
  warning naming them. A 404 is no answer, so no "count is missing" warning follows it.
* :func:`count_fan_out`: COUNT(*) per key, summed: the paginator's total (a count) of one request,
  or for a page-index paginator with a size parameter, one request asking ``limit=1``: its page
  count is the number of rows when the answer holds at most one record (and says page size 1,
  where it says one); otherwise that key's rows are counted over its scan.
* With ``carried``, a row whose carried key differs from the key it was read for is dropped (the
  vendor ignored the key: the row comes under its own key).
"""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING, Any

from ...errors import ConnectorError
from ...plan.catalog import Table
from ...plan.connector import FetchPlan, NativeRequest
from .fan_out import named, report_missing, request_template
from .pages import Page, Records, ScanContext
from .paging import ScanLimits
from .place import dig
from .support import cut, gather_all, request_options as _options, valid_total

if TYPE_CHECKING:
    from .spec import FanOut, Resource

#: a :class:`~.connector.RestConnector` (not imported: the connector imports this module)
RestConnector = Any

__all__ = ["count_fan_out", "fetch_fan_out", "scan_key"]

log = logging.getLogger(__name__)


class _Missing(Exception):
    """A key's first request answered 404: the key names nothing (or the path is wrong)."""


def _carried(fan: FanOut, key: Any, records: Records, where: str) -> Records:
    """The records of ``key``'s scan that belong to it: a carried key that differs drops the row."""
    if fan.carried is None:
        return records
    kept = [r for r in records if (v := dig(r, fan.carried)) is None or str(v) == str(key)]
    if len(kept) < len(records):
        log.debug("%s: %d row(s) read for %s %s carry another %s (the vendor ignored the key): dropped, they come "
                  "under their own key", where, len(records) - len(kept), fan.noun, key, fan.carried)
    return kept


async def scan_key(conn: RestConnector, table: Table, res: Resource, key: Any, request: NativeRequest,
                   sink: Any, *, max_rows: int | None = None, sequential: bool = False) -> bool:
    """One key value's scan; True when its first request answered 404 (where declared: no rows, and
    nothing else is asked for it). Each row carries the key; ``max_rows`` and ``sequential`` as for
    a search scan (a LIMIT). A 404 on a later page is an empty page."""
    fan = res.fan_out
    assert fan is not None
    allow = (404,) if fan.missing_is_empty else ()
    answered = 0

    async def fetch(target: NativeRequest | str, label: str) -> Page:
        nonlocal answered
        if isinstance(target, str):
            headers = {"headers": dict(request.headers)} if request.headers else {}
            response = await conn.http.request("GET", target, table=table.qualified, allow_status=allow, **headers)
            label = f"GET {cut(target)}"
        else:
            response = await conn.http.request(target.method, target.path, table=table.qualified,
                                               allow_status=allow, **_options(target))
            label = f"{target.method} {cut(target.path)}"
        answered += 1
        if response.status_code == 404:
            if answered == 1:
                raise _Missing()
            return Page([], 0, None, {})
        page = conn.read_page(res, table, conn.http.decode_json(response, table.qualified), label)
        records = _carried(fan, key, page.records, f"{conn.display} ({table.qualified})")
        page.records = conn.key_rows(res, table, key, records, label)
        return page

    limits = ScanLimits(conn.display, table.qualified, conn.max_pages, f"{request.method} {cut(request.path)}",
                        key=f"{fan.noun} {key}")
    ctx = ScanContext(request, fetch, sink, limits, max_rows=max_rows, sequential=sequential, prefetch=False,
                      concurrency=conn.concurrency, learned=conn.paging_learned)
    try:
        await res.paginator.scan(ctx)
    except _Missing:
        return True
    return False


async def fetch_fan_out(conn: RestConnector, table: Table, res: Resource, plan: FetchPlan, sink: Any) -> None:
    """Every key's scan (see the module docstring): concurrently, or with a LIMIT in key order
    within a window; a failure names its key and cancels the others (nothing partial is returned)."""
    fan = res.fan_out
    assert fan is not None
    keys, requests = list(plan.keys), list(plan.requests)
    missing: dict[int, bool] = {}
    if plan.max_rows is not None or plan.stop_early:
        await _ordered(conn, table, res, plan, sink, missing)
    else:
        gate = asyncio.Semaphore(max(1, conn.concurrency))
        stopped = False

        def guarded(records: Records) -> bool:
            nonlocal stopped
            if stopped:
                return False
            stopped = not sink(records)
            return not stopped

        async def one(i: int) -> None:
            async with gate:
                if stopped:
                    return
                try:
                    missing[i] = await scan_key(conn, table, res, keys[i], requests[i], guarded)
                except ConnectorError as e:
                    raise named(e, fan, keys[i]) from None

        await gather_all(*(one(i) for i in range(len(keys))))
    asked = [keys[i] for i in sorted(missing)]
    report_missing(fan, [keys[i] for i in sorted(missing) if missing[i]], asked, request_template(res),
                   vendor=conn.display, table=table.qualified)


async def _ordered(conn: RestConnector, table: Table, res: Resource, plan: FetchPlan, sink: Any,
                   missing: dict[int, bool]) -> None:
    """A LIMIT over a fan-out: keys read concurrently, at most ``conn.concurrency`` ahead of the
    first key not yet delivered, rows delivered in key order; stops (cancelling the rest) once the
    sink stops or ``plan.max_rows`` rows were delivered."""
    fan = res.fan_out
    assert fan is not None
    keys, requests, n = list(plan.keys), list(plan.requests), len(plan.keys)
    window = max(1, conn.concurrency)
    buffers: list[list[Records]] = [[] for _ in range(n)]
    done: list[bool] = [False] * n
    failed: dict[int, BaseException] = {}
    head, delivered, stopped = 0, 0, False

    def deliver(records: Records) -> bool:
        nonlocal delivered, stopped
        if stopped:
            return False
        if plan.max_rows is not None:
            records = records[:max(0, plan.max_rows - delivered)]
        delivered += len(records)
        stopped = not sink(records) or (plan.max_rows is not None and delivered >= plan.max_rows)
        return not stopped

    def sink_of(i: int) -> Any:
        def put(records: Records) -> bool:
            if stopped:
                return False
            if i == head:
                return deliver(records)
            buffers[i].append(records)  # a later key: its rows wait for the keys before it
            return True
        return put

    def advance() -> None:
        nonlocal head
        while head < n and done[head] and not stopped:
            if head in failed:
                raise failed[head]
            head += 1
            if head < n:
                for records in buffers[head]:
                    if not deliver(records):
                        break
                buffers[head].clear()

    async def one(i: int) -> None:
        try:
            missing[i] = await scan_key(conn, table, res, keys[i], requests[i], sink_of(i), max_rows=plan.max_rows,
                                        sequential=plan.stop_early)
        except ConnectorError as e:
            raise named(e, fan, keys[i]) from None

    running: dict[asyncio.Future[None], int] = {}
    started = 0
    try:
        while not stopped:
            while started < n and started < head + window:
                running[asyncio.ensure_future(one(started))] = started
                started += 1
            if not running:
                break
            finished, _ = await asyncio.wait(running, return_when=asyncio.FIRST_COMPLETED)
            for task in finished:
                i = running.pop(task)
                error = task.exception()
                if error is not None:
                    failed[i] = error
                done[i] = True
            advance()
    finally:
        for task in running:
            task.cancel()
        if running:
            await asyncio.gather(*running, return_exceptions=True)


async def count_fan_out(conn: RestConnector, table: Table, res: Resource, plan: FetchPlan) -> int:
    """COUNT(*) over a fan-out, one request per key, summed (see the module docstring); a 404 where
    declared is 0 (and the 404 policy); a total that is no count is counted over that key's scan."""
    fan = res.fan_out
    assert fan is not None
    allow = (404,) if fan.missing_is_empty else ()
    paginator = res.paginator
    # (a COUNT plan of a page-index paginator asks pages of one row; EXPLAIN's probe of a scan plan does not)
    by_pages = paginator.total is None and plan.mode == "count" and plan.page_size == 1
    missing: list[bool] = [False] * len(plan.keys)

    async def one(i: int, key: Any, request: NativeRequest) -> int:
        label = f"{request.method} {cut(request.path)}"
        full = paginator.sized(request, paginator.max_page) if by_pages else request
        try:
            response = await conn.http.request(request.method, request.path, table=table.qualified,
                                               allow_status=allow, **_options(request))
            if response.status_code == 404:
                missing[i] = True
                return 0
            data = conn.http.decode_json(response, table.qualified)
            page = conn.read_page(res, table, data, label, links=False)
            if by_pages:
                count = _page_count(paginator, data, page.records)
                if count is not None:
                    return count
                log.debug("%s (%s): %s served another page size than 1: counting %s %s's rows over its scan",
                          conn.display, table.qualified, label, fan.noun, key)
                return await _counted(lambda tally: scan_key(conn, table, res, key, full, tally))
            raw = dig(data, paginator.total) if paginator.total else None
            return await conn.total_or_count(table, plan, page.total, raw, label,
                                             lambda tally: scan_key(conn, table, res, key, request, tally))
        except ConnectorError as e:
            raise named(e, fan, key) from None

    total = sum(await gather_all(*(one(i, k, r) for i, (k, r) in enumerate(zip(plan.keys, plan.requests)))))
    report_missing(fan, [k for k, m in zip(plan.keys, missing) if m], list(plan.keys), request_template(res),
                   vendor=conn.display, table=table.qualified)
    return total


def _page_count(paginator: Any, data: Any, records: Records) -> int | None:
    """The rows counted by an answer to ``limit=1``: its page count, when at most one record was
    served and the answer's page size (where it says one) is 1; else None (count over the scan)."""
    if len(records) > 1 or not isinstance(data, dict):
        return None
    echo = getattr(paginator, "size_echo", None)
    if echo is not None:
        size = dig(data, echo)
        if size is not None and (isinstance(size, bool) or size != 1):
            return None
    count = valid_total(dig(data, paginator.page_count))
    return None if count is None or len(records) > count or (not records and count) else count


async def _counted(scan: Any) -> int:
    """The rows ``scan(tally)`` delivers."""
    counted = 0

    def tally(records: Records) -> bool:
        nonlocal counted
        counted += len(records)
        return True

    await scan(tally)
    return counted
