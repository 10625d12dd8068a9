"""Bound query + catalog capabilities -> :class:`Plan`: per scan, what is pushed, what is
re-checked locally and why, and how it is paged.

The rules (design section 5): push a superset; widen where the vendor's semantics are unknown;
a contradiction makes zero requests; LIMIT stops paging early (and is the page size when nothing
is re-checked); ``COUNT(*)`` with a fully, exactly pushed filter reads the vendor's total.

>>> from crmql.connectors.azavista.connector import AzavistaConnector
>>> from crmql.language.parser import parse
>>> from crmql.plan.bind import bind
>>> c = AzavistaConnector("azavista", {"base_url": "http://x", "client_id": "i", "client_secret": "s"})
>>> q = bind(parse("SELECT * FROM azavista.events WHERE event_type = 'sales' AND name != 'x'"), lambda _, t: c.table(t))
>>> p = plan_query(q, {"azavista": c})
>>> [str(r[1])[:35] for r in p.scans[0].residual]
['Azavista has no operator for !=']
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from ..language import ast
from .bind import BoundQuery, uses_aggregates
from .catalog import Column, Table
from .connector import Candidate, Connector, FetchPlan, Mode, Needs
from ..errors import QueryError
from .joins import CHUNK, SemiJoin, find_semijoins, narrowing_candidate
from .plans import Plan, ScanPlan
from .contradictions import contradiction
from .predicates import conjuncts, constant_conjuncts, is_simple, normalize, predicate_column
from .pushdown import Pushed

__all__ = ["Plan", "ScanPlan", "narrow", "plan_query"]

log = logging.getLogger(__name__)


def _candidate(expr: ast.Expr, bound: BoundQuery, vendor: str) -> Candidate:
    if isinstance(expr, ast.Or):
        pushes: list[Pushed] = []
        for branch in expr.items:
            single = _candidate(branch, bound, vendor)
            if single.push is None:
                return Candidate(expr, reason=f"a branch of the OR cannot be pushed ({single.reason or 'not simple'})")
            if len(single.push.conds) != 1:
                return Candidate(expr, reason="a branch of the OR needs more than one native condition")
            pushes.append(single.push)
        return Candidate(expr, any_of=tuple(pushes))
    if not is_simple(expr):
        return Candidate(expr, reason="compares computed values or columns; checked locally")
    col = predicate_column(expr)
    column: Column | None = bound.column(col)
    if column is None:
        return Candidate(expr, reason="not a table column")
    if not column.filters:
        return Candidate(expr, reason=f"{vendor} cannot filter {column.name}")
    reasons = []
    for capability in column.filters:
        result = capability.push(expr, column)
        if isinstance(result, Pushed):
            return Candidate(expr, push=result)
        reasons.append(result)
    if isinstance(expr, ast.InList) and not expr.negated and len(expr.items) > 1:
        # no native IN: the same rows as an OR of equalities, which the vendor may take as a group
        # (a NULL in the list matches no row: it adds no branch, and no capability sees a NULL)
        values = [v for v in expr.items if not (isinstance(v, ast.Literal) and v.kind == "null")]
        as_or = _candidate(ast.Or(tuple(ast.Compare("=", col, v, span=expr.span) for v in values)), bound, vendor) \
            if values else None
        if as_or is not None and as_or.any_of is not None:
            return Candidate(expr, any_of=as_or.any_of)
    informative = [r for r in reasons if not r.startswith("no native")] or reasons
    return Candidate(expr, reason=informative[0].replace("no native", f"{vendor} has no") if informative else "not pushable")


def _only(expr: ast.Expr, ref_name: str) -> bool:
    """Whether ``expr`` reads columns, all of the table known in this query as ``ref_name``."""
    seen = False
    for node in ast.walk(expr):
        if node.__class__ is ast.Column:
            if node.qualifier != ref_name:
                return False
            seen = True
    return seen


def _is_count_star(select: ast.Select) -> str | None:
    if len(select.items) != 1 or select.group_by or select.having is not None or select.distinct or select.joins:
        return None
    item = select.items[0]
    if isinstance(item, ast.SelectItem) and isinstance(item.expr, ast.Func) and item.expr.name == "count" and item.expr.star:
        return item.alias or item.text or "count"
    return None


def _has_aggregate(select: ast.Select) -> bool:
    return uses_aggregates(select) or select.having is not None


def _check_required(ref: ast.TableRef, table: Table, scan_conjuncts: list[ast.Expr], joined: set[str] = frozenset()) -> None:
    for req in table.required:
        ok = req.column in joined  # a semi-join supplies the values at run time
        for c in scan_conjuncts:
            if isinstance(c, ast.Compare) and isinstance(c.left, ast.Column) and c.left.name == req.column and c.op in req.operators:
                ok = True
            if isinstance(c, ast.InList) and not c.negated and isinstance(c.operand, ast.Column) \
                    and c.operand.name == req.column and "IN" in req.operators:
                ok = True
        if not ok:
            raise QueryError(f"{table.qualified} needs a filter on {req.column} ({' or '.join(req.operators)})",
                             hint=f"e.g. {req.example}" if req.example else f"add WHERE {req.column} = ...", at=ref.span)


def plan_query(bound: BoundQuery, connectors: Mapping[str, Connector]) -> Plan:
    """Plan a bound SELECT over the given connectors (keyed by connection name)."""
    try:
        return _plan_query(bound, connectors)
    except RecursionError:  # the parser bounds nesting (parser.MAX_DEPTH); a tree built elsewhere may not
        raise QueryError("the statement is nested too deeply", hint="simplify the expression",
                         at=bound.select.span) from None


def _plan_query(bound: BoundQuery, connectors: Mapping[str, Connector]) -> Plan:
    select = bound.select
    where = normalize(select.where) if select.where is not None else None
    items = conjuncts(where)
    impossible = contradiction(items)
    single = not select.joins
    count_column = _is_count_star(select)
    if constant_conjuncts(items):
        # a condition on constants that did not fold (e.g. lower('A') = 'a') is for DuckDB to decide;
        # the vendor's total cannot answer for it (constants that fold are TRUE, dropped, or FALSE,
        # a contradiction: see predicates.fold_constants)
        count_column = None
    limit_rows = None
    order: tuple[Column, ...] = ()
    if single and select.limit is not None and not select.group_by and not select.distinct \
            and not _has_aggregate(select) and len(select.order_by) <= 1:
        limit_rows = int(select.limit.value) + (int(select.offset.value) if select.offset is not None else 0)
        if select.order_by:
            key = select.order_by[0]
            column = bound.column(key.expr) if isinstance(key.expr, ast.Column) else None
            if column is None or key.descending:
                limit_rows = None  # only a vendor's ascending sort on a plain column can end a scan early
            else:
                order = (column,)

    prepared = []
    for ref, table in bound.tables:
        connector = connectors[ref.connection]
        scan_items = [c for c in items if _only(c, ref.ref_name)]
        candidates = [_candidate(c, bound, getattr(connector, "display", connector.vendor)) for c in scan_items]
        prepared.append((ref, table, connector, scan_items, candidates))
    semijoins = find_semijoins(bound, [sum(c.pushable for c in p[4]) for p in prepared]) if select.joins else []

    scans: list[ScanPlan] = []
    for index, (ref, table, connector, scan_items, candidates) in enumerate(prepared):
        _check_required(ref, table, scan_items, {sj.target_column for sj in semijoins if sj.target == index})
        if impossible:
            fetch = FetchPlan(mode="none", paging="none", estimate="0 requests (the WHERE can never be true)")
            scans.append(ScanPlan(ref, table, connector, candidates, fetch, impossible, scan_items))
            continue
        fetch = None
        if count_column and all(c.pushable and c.exact for c in candidates):
            fetch = connector.plan(table, candidates, Needs(count_only=True))
            if fetch.mode != "count" or not fetch.used_all(candidates):
                fetch = None
        if fetch is None:
            count_column_used = None
            fetch = connector.plan(table, candidates, Needs(limit_rows=limit_rows if single else None, order=order))
        else:
            count_column_used = count_column
        scans.append(ScanPlan(ref, table, connector, candidates, fetch, None, scan_items))
        if single:
            count_column = count_column_used
    if not single:
        count_column = None
    return Plan(bound, scans, where, count_column=count_column, contradiction=impossible, semijoins=semijoins,
                narrower=_narrow_join)


def narrow(plan: Plan, index: int, column: str, values: list[Any]) -> list[ScanPlan] | None:
    """Plans of scan ``index`` restricted to ``column IN values`` (one per chunk of values), or None
    when the vendor would not take that filter (then the scan runs as planned)."""
    scan = plan.scans[index]
    vendor = getattr(scan.connector, "display", scan.connector.vendor)
    out = []
    for start in range(0, len(values), CHUNK):
        expr = narrowing_candidate(scan.ref.ref_name, column, values[start:start + CHUNK])
        cand = _candidate(expr, plan.bound, vendor)
        candidates = [*scan.candidates, cand]
        fetch = scan.connector.plan(scan.table, candidates, Needs())
        if len(candidates) - 1 not in fetch.used:
            return None
        out.append(ScanPlan(scan.ref, scan.table, scan.connector, candidates, fetch, None, scan.filter))
    return out


def _narrow_join(plan: Plan, join: SemiJoin, values: list[Any]) -> list[ScanPlan] | None:
    """:func:`narrow` for a join, except where the narrowed reads would be reads by id (one request
    per key value) for more than one chunk of values: the planned scan then costs fewer requests
    (a 300-row casavi property list is 3 pages, 297 reads by id are 297 requests)."""
    chunks = narrow(plan, join.target, join.target_column, values)
    if chunks is not None and len(values) > CHUNK and all(c.fetch.mode == Mode.GET for c in chunks):
        return None
    if (chunks is not None and len(values) > CHUNK and all(c.fetch.mode == Mode.FAN_OUT for c in chunks)
            and plan.scans[join.target].fetch.mode != Mode.NONE):
        return None  # likewise a fan-out whose key is optional (the planned scan runs without it): one scan
    return chunks
