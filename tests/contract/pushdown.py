"""The golden pushdown contract's machinery, written once for every vendor: plan a golden case,
render its plan as the golden text, and check a plan's native requests against the simulator's own
filter code (superset everywhere, exact where claimed).

The rendered text: per scan, ``scan <table>``, ``mode``, an optional ``contradiction``, each
request as ``NativeRequest.render()`` shows it (a body indented below its request line), each
pushed conjunct with its native form and exactness, each local re-check with its reason, and the
paging plan; a query that cannot be planned renders as ``error: <type>: <message>`` (+ hint).
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pyarrow as pa

from crmql.errors import CrmqlError
from crmql.exec.executor import local_connection
from crmql.exec.frames import to_arrow
from crmql.exec.localsql import duck_ident, expr_sql, show
from crmql.language import ast
from crmql.language.parser import parse
from crmql.plan.bind import bind
from crmql.plan.planner import Plan, ScanPlan, plan_query

from contract.kit import VendorTestSpec, allowed_by

NOW = dt.datetime(2025, 6, 15, 12, 0, tzinfo=dt.timezone.utc)
#: the column holding each record's index in the local evaluation
KEY = "__key"


def plan_case(spec: VendorTestSpec, case: dict[str, Any]) -> tuple[Plan, Any]:
    """The plan of a golden case (bound at ``NOW``) and its connector; no request is made."""
    assert spec.golden is not None
    connector = spec.golden.make_connector(case["settings"])
    stmt = parse(case["query"])
    if isinstance(stmt, ast.Explain):
        stmt = stmt.query
    bound = bind(stmt, lambda _c, t: connector.table(t), case["params"], now=NOW, text=case["query"])
    return plan_query(bound, {spec.connection: connector}), connector


_PLANS: dict[tuple[str, str], bool] = {}


def plans(spec: VendorTestSpec, case: dict[str, Any]) -> bool:
    """Whether a case plans (some cases expect an error); remembered per vendor and case name."""
    key = (spec.name, case["name"])
    if key not in _PLANS:
        try:
            plan_case(spec, case)
            _PLANS[key] = True
        except CrmqlError:
            _PLANS[key] = False
    return _PLANS[key]


def _cond(c: Any) -> str:
    return json.dumps({c.field: {c.op: c.value}}, ensure_ascii=False, default=str)


def render_scan(scan: ScanPlan, *, paging_detail: bool = False) -> list[str]:
    """The golden lines of one scan."""
    fetch = scan.fetch
    title = scan.table.qualified + (f" as {scan.ref.alias}" if scan.ref.alias else "")
    lines = [f"scan {title}", f"  mode: {fetch.mode}"]
    if scan.contradiction:
        lines.append(f"  contradiction: {scan.contradiction}")
    for request in fetch.requests:
        method_path, *body = request.render().split("\n")
        lines.append(f"  request: {method_path}")
        lines.extend(f"    {b}" for b in body)
    split = scan.candidates[fetch.split] if fetch.split is not None else None
    for cand, exact in scan.pushed:
        if fetch.mode == "get":
            native = "GET by id"
        elif cand.push is not None:
            native = " and ".join(_cond(c) for c in cand.push.conds)
        elif cand is split:
            native = "split, one request per branch: " + " | ".join(_cond(p.conds[0]) for p in cand.any_of or ())
        else:
            native = "any of " + " | ".join(_cond(p.conds[0]) for p in cand.any_of or ())
        lines.append(f"  pushed: {show(cand.expr, qualify=False)}  ->  {native}  [{'exact' if exact else 'superset'}]")
    for expr, why in scan.residual:
        lines.append(f"  local: {show(expr, qualify=False)}  ({why})")
    if fetch.mode in ("search", "count"):
        paging = f"  paging: page_size={fetch.page_size} max_rows={fetch.max_rows} stop_early={fetch.stop_early}"
        if paging_detail:
            paging += f" sorted_by={fetch.sorted_by} split={fetch.split is not None}"
        lines.append(paging)
    return lines


def render(spec: VendorTestSpec, case: dict[str, Any]) -> str:
    """The golden text of a case: its plan, or the error planning it gives."""
    assert spec.golden is not None
    try:
        plan, _ = plan_case(spec, case)
    except CrmqlError as e:
        lines = [f"error: {type(e).__name__}: {e.message}"]
        if e.hint:
            lines.append(f"  hint: {e.hint}")
        return "\n".join(lines)
    lines = []
    for scan in plan.scans:
        lines += render_scan(scan, paging_detail=spec.golden.paging_detail)
    if plan.count_column is not None:
        lines.append(f"count: from the vendor's total, as {plan.count_column!r}")
    return "\n".join(lines)


def local_keys(connector: Any, table: Any, ref_name: str, expr: ast.Expr | None,
               records: list[dict[str, Any]]) -> set[int]:
    """The records (by index) the local SQL (DuckDB, crmql's own rendering) keeps for ``expr``."""
    arrow = to_arrow(table, [connector.row(table, r) for r in records])
    arrow = arrow.append_column(KEY, pa.array(range(len(records)), type=pa.int64()))
    con = local_connection()
    try:
        con.register("t", arrow)
        params: list[Any] = []
        sql = f"SELECT {KEY} FROM t AS {duck_ident(ref_name)}"
        if expr is not None:
            sql += " WHERE " + expr_sql(expr, params)
        return {r[0] for r in con.execute(sql, params).fetchall()}
    finally:
        con.close()


def check_superset(spec: VendorTestSpec, case: dict[str, Any], plan: Plan, connector: Any,
                   requests: list[Any] | None = None, exact: bool | None = None) -> None:
    """The contract for one single-scan plan, under every reading the case's settings allow: the
    union of its native requests selects a superset of the rows the WHERE selects (exactly those
    where the plan claims exact); each pushed conjunct alone likewise; a contradiction makes no
    request and selects nothing; GET by id asks for every wanted id. ``requests``/``exact``
    override the plan's, to show that a wrong push is caught."""
    assert spec.golden is not None and spec.golden.superset is not None
    sup = spec.golden.superset
    if sup.special(plan):
        return
    (scan,) = plan.scans
    table, ref = scan.table, scan.ref.ref_name
    where = plan.bound.select.where
    fetch = scan.fetch
    records = sup.records(table, where, len(case["name"]))
    want = local_keys(connector, table, ref, where, records)
    if plan.contradiction:
        assert fetch.mode == "none" and not fetch.requests
        assert want == set(), f"a contradiction ({plan.contradiction}) must select nothing"
        return
    if fetch.mode == "none":  # LIMIT 0
        return
    if fetch.mode == "get":
        key = scan.candidates[fetch.used[0]].push.conds[0].field if fetch.used else "id"  # a child: its parent key
        missing = {records[k].get(key) for k in want} - set(fetch.native)
        assert not missing, f"GET by id misses {sorted(missing)[:3]}"
        return
    requests = requests if requests is not None else sup.plan_requests(scan)
    exact = scan.exact if exact is None else exact
    readings = [r for r in sup.readings if allowed_by(sup, case["settings"], r)]
    for reading in readings:
        got: set[int] = set()
        for request in requests:
            got |= sup.native_keys(table, request, reading, records)
        lost = want - got
        assert not lost, (f"under {reading} the native filter loses {len(lost)} row(s), "
                          f"e.g. {[records[k] for k in sorted(lost)[:2]]}")
        if exact:
            assert got == want, f"claimed exact, but under {reading} it returns {len(got - want)} extra row(s)"
    for cand, cand_exact in scan.pushed:
        rows_cand = local_keys(connector, table, ref, cand.expr, records)
        for reading in readings:
            got = set()
            for request in sup.candidate_requests(table, cand):
                got |= sup.native_keys(table, request, reading, records)
            assert rows_cand <= got, f"{show(cand.expr)} loses rows under {reading}"
            if cand_exact:
                assert got == rows_cand, f"{show(cand.expr)} claimed exact, but not under {reading}"
