"""Plan a query into partitions: slices of one statement that executors read independently.

The driver plans the statement once (:meth:`Session.plan`, every pushdown decision as for a plain
query) and cuts the single scan where the vendor lets a slice be read on its own:

* ``rows``: one search request whose paginator reports a total (offset + total, page index + page
  count): one 1-row request asks the vendor's total (:meth:`Connector.extent`), the pages are split
  into contiguous ranges; the last range is open-ended, so rows added meanwhile at the end are read.
* ``requests``: an OR split into one request per branch: ranges of requests; a partition keeps a row
  only when the first branch it matches (locally, as the WHERE re-check evaluates it) is one of its
  own, so a row two branches match is emitted once (see :func:`branch_filter`).
* ``keys``: reads by id and fan-outs (one scan per key value): ranges of keys.
* ``window``: a :class:`~crmql.api.partition_spec.Window` given: one statement per range of a column.
* ``whole``: anything else (joins, GROUP BY, aggregates, DISTINCT, ORDER BY, LIMIT/OFFSET, COUNT
  from the vendor's total, a next-link scan): one partition running the statement.

The cap: at most ``max_partitions`` partitions and never more than the connection's ``concurrency``
(:attr:`PartitionedQuery.cap`); each partition's client gets ``cap // partitions`` requests in flight,
so however the tasks are scheduled the vendor never sees more than ``cap`` requests at once. A
larger ``max_partitions`` does not raise the cap: raise the connection's ``concurrency`` for that.

What a row range can and cannot promise: offsets are the vendor's list at the moment each page is
read (as for crmql's own concurrent pages), so rows appended while the partitions run are read by
the open-ended last range, but a row inserted or deleted in the middle of the vendor's order moves
the rows behind it by one between two ranges. A join's semi-join chunks are decided at run time
from the other side's rows, so a join is one ``whole`` partition (or ``window`` s, given one).

>>> split_ranges(10, 3)
[(0, 4), (4, 7), (7, 10)]
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
import math
from collections.abc import Mapping
from typing import Any

import duckdb
import pyarrow as pa

from ..errors import QueryError
from ..exec.executor import _duckdb_message, can_stream, local_connection
from ..exec.formats import unique_names
from ..exec.frames import to_arrow
from ..exec.localsql import select_sql, show
from ..http import run_sync
from ..language import ast
from ..language.parser import parse
from ..plan.plans import Plan, ScanPlan
from ..plan.predicates import conjuncts, normalize
from .partition_spec import FilterStatus, PartitionedQuery, ScanPartition, Window
from .partition_window import window_sqls

__all__ = ["branch_filter", "fingerprint", "plan_partitions", "plan_schema", "result_schema", "split_ranges"]

log = logging.getLogger(__name__)


def parse_select(sql: str) -> ast.Select:
    """The SELECT ``sql`` holds; another statement is a QueryError."""
    stmt = parse(sql)
    if not isinstance(stmt, ast.Select):
        raise QueryError("a partitioned read takes one SELECT", hint="write SELECT ... FROM conn.table ...")
    return stmt


def split_ranges(n: int, parts: int) -> list[tuple[int, int]]:
    """``range(n)`` cut into ``parts`` contiguous ranges as even as possible (the first ones longer)."""
    parts = max(1, min(parts, n)) if n else 1
    size, extra = divmod(n, parts)
    out, start = [], 0
    for i in range(parts):
        stop = start + size + (1 if i < extra else 0)
        out.append((start, stop))
        start = stop
    return out


def fingerprint(plan: Plan) -> str:
    """A hash of what the plan sends: per scan its mode, rendered requests, keys and split OR.

    >>> len(fingerprint(type("P", (), {"scans": []})()))
    16
    """
    shape = [[str(s.fetch.mode), [r.render() for r in s.fetch.requests], list(s.fetch.keys), s.fetch.split]
             for s in plan.scans]
    return hashlib.sha256(json.dumps(shape, default=str, ensure_ascii=False).encode()).hexdigest()[:16]


def plan_schema(plan: Plan) -> pa.Schema:
    """The result's Arrow schema, from DuckDB over empty typed tables (no vendor request)."""
    if plan.count_column is not None:
        return pa.schema([pa.field(plan.count_column, pa.int64())])
    con = local_connection()
    names: dict[str, str] = {}
    try:
        for i, scan in enumerate(plan.scans):
            con.register(f"t{i}", to_arrow(scan.table, []))
            names[scan.ref.ref_name] = f"t{i}"
        params: list[Any] = []
        sql = select_sql(plan.select, names, params)
        table = con.sql(sql, params=params).to_arrow_table()  # a relation: no DB-API copy warning
    except duckdb.Error as e:
        raise QueryError(_duckdb_message(e), hint="check the types of the values you compare") from None
    finally:
        con.close()
    schema = table.schema
    return pa.schema([pa.field(n, f.type) for n, f in zip(unique_names(schema.names), schema)])


def result_schema(session: Any, sql: str, params: Mapping[str, Any] | None = None) -> pa.Schema:
    """The Arrow schema of ``sql``'s result, without fetching its rows (catalog I/O only).

    >>> result_schema(crmql.connect(), "SELECT COUNT(*) AS n FROM azavista.events")  # doctest: +SKIP
    n: int64
    """
    plan = session.plan(parse_select(sql), params, text=sql)
    _discard(plan)
    return plan_schema(plan)


def _discard(plan: Plan) -> None:
    for scan in plan.scans:
        scan.connector.discard_early()


# ---- filters -----------------------------------------------------------------------------------

def _top(expr: ast.Expr | None) -> list[ast.Expr]:
    if expr is None:
        return []
    if isinstance(expr, ast.And):
        return [c for item in expr.items for c in _top(item)]
    return [expr]


def filter_statuses(sql: str, plan: Plan) -> list[FilterStatus]:
    """One :class:`FilterStatus` per top-level conjunct of the WHERE, in source order: exact when
    every piece the planner made of it (BETWEEN is two) is pushed exactly on every request of its
    scan, superset when a piece is pushed, else local; the reason is EXPLAIN's."""
    states: list[tuple[ast.Expr, str, str]] = []  # candidate expr, status, reason
    for scan in plan.scans:
        pushed = {id(c): exact for c, exact in scan.pushed}
        residual = {id(e): why for e, why in scan.residual}
        for cand in scan.candidates:
            status = ("exact" if pushed[id(cand)] else "superset") if id(cand) in pushed else "local"
            states.append((cand.expr, status, residual.get(id(cand.expr), "")))
    out = []
    for conj in _top(plan.select.where):
        span = conj.span
        text = sql[span.start:span.end] if span is not None else show(conj, qualify=False)
        pieces = conjuncts(normalize(conj))
        found, reasons = [], []
        for piece in pieces:
            match = next((s for s in states if s[0] == piece), None)
            if match is None:
                found.append("local")
                reasons.append("checked locally (not a condition on one table's column the vendor takes)")
            else:
                found.append(match[1])
                if match[2]:
                    reasons.append(match[2])
        if found and all(f == "exact" for f in found):
            status = "exact"
        elif any(f in ("exact", "superset") for f in found):
            status = "superset"
        else:
            status = "local"
        out.append(FilterStatus(text, status, "" if status == "exact" else "; ".join(dict.fromkeys(reasons))
                                or "checked locally"))
    return out


# ---- the split OR ------------------------------------------------------------------------------

def branches(scan: ScanPlan) -> list[ast.Expr] | None:
    """The split OR's branches, one per request of the scan (None when they cannot be told)."""
    if scan.fetch.split is None:
        return None
    expr = scan.candidates[scan.fetch.split].expr
    if isinstance(expr, ast.Or):
        items = list(expr.items)
    elif isinstance(expr, ast.InList) and not expr.negated:
        items = [ast.Compare("=", expr.operand, v) for v in expr.items
                 if not (isinstance(v, ast.Literal) and v.kind == "null")]
    else:
        return None
    return items if len(items) == len(scan.fetch.requests) else None


def branch_filter(scan: ScanPlan, start: int, stop: int) -> ast.Expr | None:
    """The condition partition ``[start, stop)`` of a split OR adds to its local re-check: the row
    matches one of its branches and none before ``start`` (a NULL branch counts as no match)."""
    items = branches(scan)
    if items is None:
        return None

    def any_of(sel: list[ast.Expr]) -> ast.Expr:
        inner = sel[0] if len(sel) == 1 else ast.Or(tuple(sel))
        return ast.Func("coalesce", (inner, ast.Literal(False, "boolean")))

    mine = any_of(items[start:stop])
    if start == 0:
        return mine
    return ast.And((mine, ast.Not(any_of(items[:start]))))


# ---- partitions --------------------------------------------------------------------------------

def _cap(plan: Plan) -> int:
    caps = [int(getattr(s.connector, "concurrency", 1) or 1) for s in plan.scans]
    return max(1, min(caps)) if caps else 1


def row_wise(plan: Plan) -> bool:
    """One scan, nothing global (ORDER BY, GROUP BY, DISTINCT, aggregates, LIMIT, OFFSET)."""
    return can_stream(plan) and plan.select.limit is None and not plan.semijoins \
        and plan.scans[0].fetch.max_rows is None and not plan.scans[0].fetch.stop_early


def plan_partitions(session: Any, sql: str, params: Mapping[str, Any] | None = None, *,
                    max_partitions: int | None = None, window: Window | None = None) -> PartitionedQuery:
    """Plan ``sql`` into :class:`ScanPartition` s an executor reads with
    :func:`~crmql.api.partition_read.read_partition` (see the module docstring).

    >>> q = plan_partitions(crmql.connect(), "SELECT * FROM azavista.events")  # doctest: +SKIP
    >>> [p.label for p in q.partitions]                                         # doctest: +SKIP
    ['azavista.events rows 0-5,000 of 10,000', 'azavista.events rows 5,000- of 10,000 (to the end)']
    """
    if max_partitions is not None and max_partitions < 1:
        raise QueryError(f"max_partitions must be at least 1, not {max_partitions}")
    params = dict(params or {})
    now = dt.datetime.now(dt.timezone.utc)
    select = parse_select(sql)
    plan = session.plan(select, params, text=sql, now=now)
    try:
        schema = plan_schema(plan)
        cap = _cap(plan)
        limit = min(cap, max_partitions or cap)
        base = dict(params=tuple(params.items()), now=now.isoformat(), fingerprint=fingerprint(plan))
        single = plan.scans[0] if len(plan.scans) == 1 else None
        name = single.table.qualified if single is not None else "query"
        if window is not None:
            inner = all(j.kind != "left" for j in plan.select.joins)  # a range on a LEFT JOIN's side: not split
            if not (row_wise(plan) or (plan.select.joins and inner and _no_global(plan.select))):
                raise QueryError("a window partitions only a row-wise query (no GROUP BY, aggregate, DISTINCT, "
                                 "ORDER BY, LIMIT, OFFSET or LEFT JOIN)", hint="partition the query without a "
                                 "window, or drop the global step and let Spark or Dask do it")
            sqls = window_sqls(sql, select, window, min(limit, window.count))
            parts = [ScanPartition(i, text, kind="window", concurrency=max(1, cap // len(sqls)),
                                   label=f"{name} {label}",
                                   **{**base, "fingerprint": _planned(session, text, params, now)})
                     for i, (text, label) in enumerate(sqls)]
        else:
            parts = _slices(plan, single, sql, base, cap, limit) if single is not None and row_wise(plan) else None
            if not parts:
                parts = [ScanPartition(0, sql, kind="whole", concurrency=cap, label=f"{name} (whole statement)",
                                       **base)]
        return PartitionedQuery(sql, params, schema, parts, filter_statuses(sql, plan),
                                single.ref.connection if single is not None else None,
                                single.table.name if single is not None else None, cap)
    finally:
        _discard(plan)


def _planned(session: Any, sql: str, params: Mapping[str, Any], now: dt.datetime) -> str:
    """The fingerprint of a window's own statement, planned here as the executor will plan it."""
    plan = session.plan(parse_select(sql), params, text=sql, now=now)
    _discard(plan)
    return fingerprint(plan)


def _no_global(select: ast.Select) -> bool:
    from ..plan.bind import uses_aggregates

    return not (select.group_by or select.distinct or select.having is not None or select.order_by
                or select.limit is not None or select.offset is not None or uses_aggregates(select))


def _slices(plan: Plan, scan: ScanPlan, sql: str, base: dict[str, Any], cap: int,
            limit: int) -> list[ScanPartition] | None:
    fetch, name = scan.fetch, scan.table.qualified
    mode = str(fetch.mode)
    # one request per key (a fan-out asking several requests per key, e.g. two unread counts, stays whole)
    one_each = len(fetch.keys) == len(fetch.requests) or (mode == "get" and not fetch.keys)
    if mode in ("get", "links") and len(fetch.requests) > 1 and one_each:
        ranges, what, total = split_ranges(len(fetch.requests), limit), "keys", len(fetch.requests)
    elif mode == "search" and len(fetch.requests) > 1 and branches(scan) is not None:
        ranges, what, total = split_ranges(len(fetch.requests), limit), "requests", len(fetch.requests)
    elif mode == "search" and len(fetch.requests) == 1:
        return _row_slices(scan, sql, base, cap, limit)
    else:
        return None
    if len(ranges) < 2:
        return None
    conc = max(1, cap // len(ranges))
    return [ScanPartition(i, sql, kind=what, start=a, stop=b, concurrency=conc,
                          label=f"{name} {what} {a + 1}-{b} of {total}" if b - a > 1 else
                          f"{name} {what[:-1]} {b} of {total}", **base)
            for i, (a, b) in enumerate(ranges)]


def _row_slices(scan: ScanPlan, sql: str, base: dict[str, Any], cap: int, limit: int) -> list[ScanPartition] | None:
    """Page ranges of a search whose vendor reports a total (:meth:`Connector.extent`)."""
    extent_of = getattr(scan.connector, "extent", None)
    if extent_of is None or limit < 2:
        return None
    extent = run_sync(extent_of(scan.table, scan.fetch))
    if extent is None or extent.page < 1:
        return None
    pages = max(1, math.ceil(extent.rows / extent.page))
    budget = getattr(scan.connector, "max_pages", None)
    if isinstance(budget, int) and pages > budget:  # one partition: the scan's own budget error, as a query's
        return None
    ranges = split_ranges(pages, limit)
    if len(ranges) < 2:
        return None
    conc, name, parts = max(1, cap // len(ranges)), scan.table.qualified, []
    for i, (a, b) in enumerate(ranges):
        start, stop = a * extent.page, (b * extent.page if i < len(ranges) - 1 else None)
        shown = f"{start:,}-{stop:,}" if stop is not None else f"{start:,}- (to the end)"
        parts.append(ScanPartition(i, sql, kind="rows", start=start, stop=stop, concurrency=conc,
                                   label=f"{name} rows {shown} of {extent.rows:,}", **base))
    return parts
