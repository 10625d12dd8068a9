"""A fan-out: one scan per value of a key column, planned and fetched for every REST vendor.

Planning (:func:`plan_fan_out`): the key's values come from ``key = v`` / ``key IN (..)`` (or a
join, which the planner turns into an IN list of at most 50 values per chunk); each value is put
at the fan-out's :class:`~.place.Place` (a path segment, or a query parameter). Every other pushed
condition whose native operators are all parameters of the endpoint (:attr:`FanOut.filters`) goes
into each request, each parameter once (:func:`fan_filters`). An optional key (``required=False``)
with no values, or more than ``max_values``, is no fan-out: the caller plans ONE ordinary scan and
the key condition stays local (:func:`key_left_local`). COUNT(*) is one request per key, summed,
when the paginator's total is a count and every condition is pushed.

A join supplies the key as that IN list: the planner narrows the joined scan with the other
side's key values in chunks of 50 (``CHUNK`` in :mod:`crmql.plan.joins`), each chunk planned here as
a fan-out of its values (50 = ``max_values``, so an optional key fans out too): one scan per
distinct key value in all, the result complete (the chunks' rows are unioned, each key read once).

Fetching (:func:`fetch_fan_out`): the keys' scans run concurrently, at most the connection's
concurrency at a time (and the HTTP client's limit bounds their pages); the first failure cancels
the others and is raised with the key named ("community 15: ...", same class and fields), so no
partial result is returned. A 404 for a key is no rows (where declared). With ``carried``, a row
whose carried key differs from the key it was read for is dropped (the vendor ignored the key).

>>> from crmql.language import ast
>>> from crmql.plan.pushdown import NativeCond, Pushed
>>> from crmql.plan.catalog import Column, ColumnType, Table
>>> from .spec import Col, FanOut, Resource
>>> res = Resource("units", "Units", "/api/v1/units", records="", columns=(Col("community_id", ColumnType.INTEGER),),
...                fan_out=FanOut("community_id", op="eq", place=Place.query("community_id"), required=False))
>>> table = Table("c", "units", (Column("community_id", ColumnType.INTEGER),))
>>> key = Candidate(ast.Column("community_id"), push=Pushed((NativeCond("community_id", "eq", [12, 15]),), True))
>>> [r.render() for r in plan_fan_out(res, table, [key], Needs()).requests]
['GET /api/v1/units?community_id=12', 'GET /api/v1/units?community_id=15']
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from ...errors import ConnectorError
from ...plan.catalog import ColumnType, Table
from ...plan.connector import Candidate, FetchPlan, Mode, NativeRequest, Needs
from ...plan.pushdown import Equality
from .pages import Page, Records, ScanContext
from .paging import ScanLimits
from .place import In, Place, dig
from .support import addressable, cut, gather_all, integral, request_options as _options

if TYPE_CHECKING:
    from .spec import FanOut, Resource

#: a :class:`~.connector.RestConnector` (not imported: the connector imports this module)
RestConnector = Any

__all__ = ["fan_filters", "fetch_fan_out", "count_fan_out", "key_left_local", "key_values", "plan_fan_out"]

log = logging.getLogger(__name__)


def key_values(fan: FanOut, table: Table, candidates: Sequence[Candidate]) -> tuple[int, list[Any]] | None:
    """The first candidate giving the key column its values (``=`` or ``IN``, pushed as ``fan.op`` or
    as the column's equality operators), and the distinct values (text or integers), in order.

    >>> from crmql.language import ast
    >>> from crmql.plan.pushdown import NativeCond, Pushed
    >>> from crmql.plan.catalog import Column, ColumnType
    >>> from .spec import FanOut
    >>> t = Table("c", "t", (Column("k", ColumnType.INTEGER, filters=(Equality("eq", "in"),)),))
    >>> key_values(FanOut("k", op="eq"), t, [Candidate(ast.Column("k"), push=Pushed((NativeCond("k", "in", [3, 3, 4]),), True))])
    (0, [3, 4])
    >>> key_values(FanOut("k", op="eq"), t, [Candidate(ast.Column("k"), push=Pushed((NativeCond("k", "in", [3.0, 4.5]),), True))])
    (0, [3])
    """
    column = table.column(fan.column)
    native = column.native if column is not None else fan.column
    ops = {fan.op}
    integer = column is not None and column.type is ColumnType.INTEGER
    for cap in column.filters if column is not None else ():
        if isinstance(cap, Equality):
            ops |= {cap.op, *((cap.in_op,) if cap.in_op else ())}
    for i, cand in enumerate(candidates):
        if cand.push is None or len(cand.push.conds) != 1:
            continue
        cond = cand.push.conds[0]
        if cond.op not in ops or cond.field != native:
            continue
        values = cond.value if isinstance(cond.value, list) else [cond.value]
        if values and integer:
            values = integral(values)  # 12.0 is community 12; 15.5 is none (possibly none is left)
        elif not values:
            continue
        if not all(isinstance(v, (str, int)) and not isinstance(v, bool) for v in values):
            continue
        return i, list({str(v): v for v in values}.values())
    return None


def _text(value: Any) -> str:
    """A filter value as a query parameter's text.

    >>> _text(True), _text(3), _text("2026-12-01T00:00:00.000Z")
    ('true', '3', '2026-12-01T00:00:00.000Z')
    """
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (dt.datetime, dt.date)):
        return value.isoformat()
    return str(value)


def fan_filters(fan: FanOut, table: Table, candidates: Sequence[Candidate],
                skip: int) -> tuple[list[int], list[tuple[str, str]], dict[int, str]]:
    """The candidates every fan-out request carries (all their native operators are parameters of
    the endpoint), the parameters as sent, and why a candidate that could have gone stays local
    (its parameter is already taken).

    >>> from crmql.language import ast
    >>> from crmql.plan.pushdown import NativeCond, Pushed
    >>> from crmql.plan.catalog import Column, ColumnType
    >>> from .spec import FanOut
    >>> t = Table("c", "n", (Column("created_at", ColumnType.TIMESTAMP),))
    >>> c = lambda op, v: Candidate(ast.Column("created_at"), push=Pushed((NativeCond("created_at", op, v),), False))
    >>> fan_filters(FanOut("k", filters={"after": "after", "before": "before"}), t, [c("after", "A"), c("after", "B"), c("before", "C")], -1)
    ([0, 2], [('after', 'A'), ('before', 'C')], {1: 'the endpoint takes after once per request (an earlier condition has it); checked locally'})
    """
    used: list[int] = []
    params: list[tuple[str, str]] = []
    notes: dict[int, str] = {}
    for i, cand in enumerate(candidates):
        if i == skip or cand.push is None or not cand.push.conds:
            continue
        if not all(c.op in fan.filters for c in cand.push.conds):
            continue
        mine: list[tuple[str, str]] = []
        for cond in cand.push.conds:
            value = cond.value
            if isinstance(value, list):
                if len(value) != 1:
                    break  # several values: one parameter holds one
                value = value[0]
            column = next((c for c in table.columns if c.native == cond.field), None)
            if column is not None and column.options is not None and value not in column.options:
                break  # the vendor refuses a value it does not know (a 400): checked locally instead
            mine.append((fan.filters[cond.op], _text(value)))
        else:
            names = [n for n, _ in mine]
            taken = {n for n, _ in params}
            if len(set(names)) < len(names) or set(names) & taken:
                name = sorted(set(names) & taken or names)[0]
                notes[i] = f"the endpoint takes {name} once per request (an earlier condition has it); checked locally"
                continue
            used.append(i)
            params.extend(mine)
    return used, params, notes


def key_left_local(fan: FanOut, index: int, count: int) -> str:
    """Why an optional key's condition stays local over one unscoped scan.

    >>> from .spec import FanOut
    >>> key_left_local(FanOut("community_id", required=False, noun="community"), 0, 60)
    'community_id has 60 values, more than the 50 read one community at a time: one request without it, checked locally'
    """
    return (f"{fan.column} has {count} values, more than the {fan.max_values} read one {fan.noun} at a time: one "
            "request without it, checked locally")


def plan_fan_out(res: Resource, table: Table, candidates: Sequence[Candidate], needs: Needs,
                 learned: dict[str, Any] | None = None) -> FetchPlan | dict[int, str]:
    """The fan-out plan, or (an optional key without usable values) the notes of the key candidates
    that stay local over one ordinary scan, which the caller plans (see the module docstring)."""
    fan = res.fan_out
    assert fan is not None
    found = key_values(fan, table, candidates)
    if found is None:
        if fan.required:  # the planner enforces the required filter; this is a second guard
            return FetchPlan(mode=Mode.NONE, paging=f"no {fan.column}", estimate="0 requests")
        return {}
    index, values = found
    if not values:  # every value was a fractional number: no integer key equals it
        return FetchPlan(mode=Mode.NONE, used=(index,), paging=f"no {fan.noun} can match ({fan.column} is an "
                         "integer, and no value is a whole number): nothing to fetch", estimate="0 requests")
    if not fan.required and len(values) > fan.max_values:
        return {index: key_left_local(fan, index, len(values))}
    if fan.place.where is In.PATH:
        values = [v for v in values if addressable(v)]
    if not values:
        return FetchPlan(mode=Mode.NONE, used=(index,), paging=f"no {fan.column} can be a URL path segment, so none "
                         f"names {fan.names}: nothing to fetch", estimate="0 requests")
    paginator = res.paginator
    page = paginator.max_page
    base = paginator.first(NativeRequest(res.method, res.path, params=list(res.params) or None), page)
    used, params, notes = fan_filters(fan, table, candidates, index)
    for name, value in params:
        base = Place.query(name).put(base, value)
    base = paginator.known(base, learned or {})
    used = sorted([index, *used])
    notes.update({i: fan.note for i, c in enumerate(candidates) if i not in used and i not in notes and c.pushable})
    requests = [fan.place.put(base, v) for v in values]
    native: Any = (values, list(base.params or ()))
    if needs.count_only:
        if paginator.total is None or len(used) < len(candidates):
            return FetchPlan(mode=Mode.SEARCH)  # no count per key, or a condition the count cannot carry
        return FetchPlan(mode=Mode.COUNT, used=tuple(used), notes=notes, native=native, keys=tuple(values),
                         requests=requests, paging=f"none: {paginator.total} of one request per {fan.noun}, summed",
                         estimate=f"{len(values)} request(s) (one per {fan.noun})")
    limit_rows = needs.limit_rows if not needs.order else None
    exact = len(used) == len(candidates) and all(candidates[i].exact for i in used)
    max_rows = limit_rows if exact else None  # nothing re-checked: LIMIT is a row count (and the page size)
    stop_early = limit_rows is not None and max_rows is None
    if max_rows == 0:
        return FetchPlan(mode=Mode.NONE, used=tuple(used), notes=notes, paging="LIMIT 0: nothing to fetch",
                         estimate="0 requests")
    if max_rows and paginator.size is not None and max_rows < page:
        page = max_rows
        base = paginator.sized(base, page)
        requests = [fan.place.put(base, v) for v in values]
    how = (f"one {fan.noun} at a time ({len(values)}), stopping after {max_rows} rows" if max_rows else
           f"one {fan.noun} and page at a time ({len(values)}) until {limit_rows} rows pass the local re-check"
           if stop_early else f"per {fan.noun} ({len(values)}) concurrently")
    return FetchPlan(mode=Mode.FAN_OUT, used=tuple(used), notes=notes, native=native, keys=tuple(values),
                     requests=requests, paging=f"{how}, {paginator.brief(page)}", page_size=page, max_rows=max_rows,
                     stop_early=stop_early,
                     estimate=f"{len(values)} request(s) or {'fewer' if limit_rows is not None else 'more'} (one per "
                              f"page of {table.name} per {fan.noun})")


def named(error: ConnectorError, fan: FanOut, key: Any) -> ConnectorError:
    """``error`` (same class and fields) with the key it was read for named after vendor and table.

    >>> from .spec import FanOut
    >>> e = ConnectorError("the scan failed", vendor="casavi Community", table="c.notifications")
    >>> str(named(e, FanOut("community_id", noun="community"), 15))
    'casavi Community (c.notifications): community 15: the scan failed'
    """
    where = " ".join(p for p in (error.vendor, f"({error.table})" if error.table else None) if p)
    label = f"{fan.noun} {key}"
    if where and error.message.startswith(where + ": "):
        message = f"{where}: {label}: {error.message[len(where) + 2:]}"
    else:
        message = f"{label}: {error.message}"
    error.message = message
    error.args = (message,)
    return error


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
                   sink: Any, *, max_rows: int | None = None, sequential: bool = False) -> None:
    """One key value's scan: a 404 (where declared) is no rows; each row carries the key; ``max_rows``
    and ``sequential`` as for a search scan (a LIMIT)."""
    fan = res.fan_out
    assert fan is not None
    allow = (404,) if fan.missing_is_empty else ()

    async def fetch(target: NativeRequest | str, label: str) -> Page:
        if isinstance(target, str):
            headers = {"headers": dict(request.headers)} if request.headers else {}
            response = await conn.http.request("GET", target, table=table.qualified, allow_status=allow, **headers)
            label = f"GET {cut(target)}"
        else:
            response = await conn.http.request(target.method, target.path, table=table.qualified,
                                               allow_status=allow, **_options(target))
            label = f"{target.method} {cut(target.path)}"
        if response.status_code == 404:
            return Page([], 0, None, {})
        page = conn.read_page(res, table, conn.http.decode_json(response, table.qualified), label)
        records = _carried(fan, key, page.records, f"{conn.display} ({table.qualified})")
        page.records = conn.key_rows(res, table, key, records, label)
        return page

    limits = ScanLimits(conn.display, table.qualified, conn.max_pages, f"{request.method} {cut(request.path)}",
                        key=f"{fan.noun} {key}")
    ctx = ScanContext(request, fetch, sink, limits, max_rows=max_rows, sequential=sequential, prefetch=False,
                      concurrency=conn.concurrency, learned=conn.paging_learned)
    await res.paginator.scan(ctx)


async def fetch_fan_out(conn: RestConnector, table: Table, res: Resource, plan: FetchPlan, sink: Any) -> None:
    """Every key's scan, at most ``conn.concurrency`` at a time; a failure names its key and cancels
    the others (nothing partial is returned); once the sink stops, no further key is started."""
    fan = res.fan_out
    assert fan is not None
    limited = plan.max_rows is not None or plan.stop_early  # a LIMIT: one key at a time, no request wasted
    gate = asyncio.Semaphore(1 if limited else max(1, conn.concurrency))
    stopped = False
    delivered = 0

    def guarded(records: Records) -> bool:
        nonlocal stopped, delivered
        if stopped:
            return False
        delivered += len(records)
        stopped = not sink(records) or (plan.max_rows is not None and delivered >= plan.max_rows)
        return not stopped

    async def one(key: Any, request: NativeRequest) -> None:
        async with gate:
            if stopped:
                return
            try:
                await scan_key(conn, table, res, key, request, guarded,
                               max_rows=None if plan.max_rows is None else plan.max_rows - delivered,
                               sequential=plan.stop_early)
            except ConnectorError as e:
                raise named(e, fan, key) from None

    await gather_all(*(one(k, r) for k, r in zip(plan.keys, plan.requests)))


async def count_fan_out(conn: RestConnector, table: Table, res: Resource, plan: FetchPlan) -> int:
    """COUNT(*) over a fan-out: the paginator's total of one request per key, summed (a 404 where
    declared: 0); a total that is no count is counted over that key's scan (with a warning)."""
    fan = res.fan_out
    assert fan is not None
    allow = (404,) if fan.missing_is_empty else ()
    paginator = res.paginator

    async def one(key: Any, request: NativeRequest) -> int:
        label = f"{request.method} {cut(request.path)}"
        try:
            response = await conn.http.request(request.method, request.path, table=table.qualified,
                                               allow_status=allow, **_options(request))
            if response.status_code == 404:
                return 0
            data = conn.http.decode_json(response, table.qualified)
            total = conn.read_page(res, table, data, label, links=False).total
            raw = dig(data, paginator.total) if paginator.total else None
            return await conn.total_or_count(table, plan, total, raw, label,
                                             lambda tally: scan_key(conn, table, res, key, request, tally))
        except ConnectorError as e:
            raise named(e, fan, key) from None

    return sum(await gather_all(*(one(k, r) for k, r in zip(plan.keys, plan.requests))))
