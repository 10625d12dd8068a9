"""Plan -> text (and a dict for notebooks): per scan, the exact native request(s), what was pushed
and how, what is re-checked locally and why, the paging plan and the requests it will take.
With ANALYZE, what it actually cost.

>>> print(_wrap("x", 4))
    x
"""

from __future__ import annotations

import json
import math
import textwrap
from typing import Any

from .executor import ScanResult
from ..http.redact import redact
from .localsql import select_sql, show
from ..plan.joins import CHUNK, MAX_VALUES
from ..plan.plans import Plan, ScanPlan
from ..plan.pushdown import NativeCond

__all__ = ["explain_dict", "explain_text"]


def _wrap(text: str, indent: int) -> str:
    return textwrap.indent(text, " " * indent)


#: native operators that name no operator of the vendor's, only where the value goes (Voyzu's free
#: text ``search`` is the body field ``SearchText`` itself): shown as ``{field: value}``, as sent
VALUE_ONLY_OPS = frozenset({"search"})


def _cond(c: NativeCond) -> str:
    """One native condition as the vendor sees it.

    >>> _cond(NativeCond("name", "like", "Work")), _cond(NativeCond("SearchText", "search", "Weber"))
    ('{"name": {"like": "Work"}}', '{"SearchText": "Weber"}')
    """
    if c.op in VALUE_ONLY_OPS:
        return json.dumps({c.field: c.value}, ensure_ascii=False, default=str)
    return json.dumps({c.field: {c.op: c.value}}, ensure_ascii=False, default=str)


def _pushed_lines(scan: ScanPlan) -> list[str]:
    lines = []
    split = scan.candidates[scan.fetch.split] if scan.fetch.split is not None else None
    for cand, exact in scan.pushed:
        if scan.fetch.mode == "get":
            native = "GET by id"
        elif cand.push is not None:
            native = " and ".join(_cond(c) for c in cand.push.conds)
        elif cand is split:
            native = "split, one request per branch: " + " | ".join(
                " and ".join(_cond(c) for c in p.conds) for p in cand.any_of or ())
        else:
            native = "OR group: " + " | ".join(_cond(p.conds[0]) for p in cand.any_of or ())
        lines.append(f"{show(cand.expr, qualify=False)}  ->  {native}  [{_exactness(cand, exact)}]")
    return lines


def _exactness(cand: Any, exact: bool) -> str:
    """``exact`` or ``superset``; an exact push that says why it is exact says so in its own words
    (a filter-only column: "exact by the vendor's definition (...)")."""
    if not exact:
        return "superset"
    note = cand.push.note if cand.push is not None else ""
    return note if note.startswith("exact") else "exact"


def _scan_dict(scan: ScanPlan, probe: int | None, result: ScanResult | None) -> dict[str, Any]:
    fetch = scan.fetch
    d: dict[str, Any] = {
        "table": scan.table.qualified,
        "alias": scan.ref.alias,
        "mode": fetch.mode,
        "requests": [redact(r.render()) for r in fetch.requests[:5]],
        "more_requests": max(0, len(fetch.requests) - 5),
        "pushed": _pushed_lines(scan),
        "local": [f"{show(e, qualify=False)}  ({why})" for e, why in scan.residual],
        "paging": fetch.paging,
        "estimate": fetch.estimate,
        "contradiction": scan.contradiction,
    }
    if probe is not None and fetch.mode == "search":
        want = probe if fetch.max_rows is None else min(probe, fetch.max_rows)
        pages = max(1, math.ceil(want / fetch.page_size)) if fetch.page_size else 1
        many = len(fetch.requests) > 1
        pages = pages if not many else sum(1 for _ in fetch.requests) + max(0, pages - 1)
        d["probe"] = (f"1-row probes found {probe} matching row(s) across the {len(fetch.requests)} requests "
                      f"(before de-duplication) -> at most {pages} requests" if many else
                      f"a 1-row probe found {probe} matching row(s) at the vendor -> "
                      f"{pages} search request(s){' at most' if fetch.stop_early else ''}")
    if result is not None:
        s = result.stats
        d["actual"] = (f"requests={s.requests} pages={s.pages} retries={s.retries} rows_fetched={s.rows_fetched} "
                       f"time={result.elapsed_ms} ms" + (f" count={result.count}" if result.count is not None else "")
                       + (f"; {result.note}" if result.note else ""))
    return d


def explain_dict(plan: Plan, probes: dict[int, int] | None = None, results: list[ScanResult] | None = None,
                 statement: Any = None) -> dict[str, Any]:
    """The plan as plain data (JSON-able)."""
    probes = probes or {}
    params: list[Any] = []
    names = {s.ref.ref_name: f"t{i}" for i, s in enumerate(plan.scans)}
    local = select_sql(plan.select, names, params)
    refs = [s.ref.ref_name for s in plan.scans]
    d: dict[str, Any] = {
        "scans": [_scan_dict(s, probes.get(i), results[i] if results else None) for i, s in enumerate(plan.scans)],
        "semijoins": [sj.describe(refs) for sj in plan.semijoins],
        "local_sql": None if plan.count_column else local,
        "local_params": [str(p) for p in params],
        "count_from_vendor_total": plan.count_column is not None,
    }
    if statement is not None:
        d["actual"] = statement.line().replace("stats: ", "")
    return d


def explain_text(plan: Plan, probes: dict[int, int] | None = None, results: list[ScanResult] | None = None,
                 statement: Any = None) -> str:
    """A readable EXPLAIN (ANALYZE) report."""
    d = explain_dict(plan, probes, results, statement)
    out: list[str] = []
    if plan.contradiction:
        out.append(f"The WHERE can never be true ({plan.contradiction}): no request is made.")
    for i, scan in enumerate(d["scans"]):
        title = scan["table"] + (f" AS {scan['alias']}" if scan["alias"] else "")
        out.append(f"Scan {title}")
        for sj in plan.semijoins:
            if sj.target == i:
                out.append(f"  narrowed at run time: {sj.describe([s.ref.ref_name for s in plan.scans])}, "
                           f"pushed as IN in chunks of {CHUNK} when there are at most {MAX_VALUES} values (where "
                           f"the vendor answers an IN with one read by id per value: at most {CHUNK})")
        if scan["requests"]:
            label = "request" if len(scan["requests"]) == 1 else "requests"
            out.append(f"  {label}:")
            for r in scan["requests"]:
                out.append(_wrap(r, 4))
            if scan["more_requests"]:
                out.append(f"    ... and {scan['more_requests']} more")
        if scan["contradiction"]:
            out.append(f"  no request: {scan['contradiction']}")
            continue
        out.append("  pushed to the vendor:")
        out.extend(_wrap(line, 4) for line in scan["pushed"]) if scan["pushed"] else out.append("    nothing")
        out.append("  checked locally:")
        if scan["local"]:
            out.extend(_wrap(line, 4) for line in scan["local"])
        else:
            out.append("    nothing (every condition is pushed exactly)")
        out.append(f"  paging: {scan['paging']}")
        token = int(getattr(plan.scans[i].connector, "token_requests", 1)) if scan["mode"] != "none" else 0
        out.append(f"  requests: {scan['estimate']}" + (f", plus {token} token request{'s' * (token > 1)} when none is "
                                                         "cached" if token else ""))
        if "probe" in scan:
            out.append(f"  estimate: {scan['probe']}")
        if "actual" in scan:
            out.append(f"  actual: {scan['actual']}")
    if d["count_from_vendor_total"]:
        out.append("COUNT(*) is read from the vendor's total; no rows are fetched.")
    elif d["local_sql"]:
        out.append("Local (DuckDB, the WHERE re-applied in full):")
        out.append(_wrap(d["local_sql"], 2))
    if "actual" in d:
        out.append(f"Total: {d['actual']}")
    return "\n".join(out)
