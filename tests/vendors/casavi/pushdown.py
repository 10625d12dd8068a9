"""casavi's part of the golden pushdown contract: how to plan without a request (the custom-field
columns come from the seeded first page of each list, as the connector's one sample request would
bring them), and the simulator's own filter code (``crmql.sandbox.casavi.filter``) applied to a
list request's query parameters, on a sample of the simulator's internal records (they carry the
modification time and roles the filter-only parameters read) plus records on every boundary of a
query's literals.

What casavi can push is small (the contract): reads by id, ``isRegistered``/``isInvited`` equality
(a superset under every ``casavi.bool_filters`` reading) and the filter-only columns
(``modifiedAfter``, ``role``, ``includeInactiveContracts``), which have no value in a row to check
locally: :func:`special` checks their plans (the parameter as the docs write it; the rest of the
request a superset of the rest of the WHERE).
"""

from __future__ import annotations

import itertools
import random
import re
from functools import lru_cache
from pathlib import Path
from typing import Any

from crmql.connectors.registry import create_connector
from crmql.language import ast
from crmql.plan.catalog import ColumnType, Table
from crmql.plan.planner import Plan
from crmql.plan.predicates import columns_of
from crmql.sandbox import records as sandbox_records
from crmql.sandbox.casavi.spec import SIMULATOR
from crmql.sandbox.casavi.world import world

from contract.pushdown import local_keys
from golden import like_instances, query_literals

HERE = Path(__file__).resolve().parent
BASE_SETTINGS = {"base_url": "http://127.0.0.1:1", "key": "x", "secret": "y"}
#: the readings that change what a list filter returns
FILTER_VARIANTS = ("casavi.bool_filters", "casavi.modified_after")
_VALUES = {v.key: v.values for v in SIMULATOR.variants}
READINGS = [dict(zip(FILTER_VARIANTS, values)) for values in itertools.product(*(_VALUES[k] for k in FILTER_VARIANTS))]
#: a child table -> (its parent table, the array, the column carrying the parent's id)
CHILDREN = {"contracts": ("contacts", "contracts", "contactId"),
            "responsibilities": ("properties", "responsibilities", "propertyId")}
FILTER_ONLY = {"modifiedAfter", "role", "includeInactiveContracts"}
DOCS_TIME = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z\Z")
#: the query parameters that page, not filter
PAGING = {"limit", "page"}


def first_page(table: str) -> list[dict[str, Any]]:
    """The records the unfiltered list's first page serves at the biggest page size (list order)."""
    return sandbox_records("casavi", table, 42)[:100]


def make_connector(settings: dict[str, Any]) -> Any:
    """A casavi connector on a closed port whose custom-field sample is the seeded first page (the
    connector's own discovery code runs on it; no request is made)."""
    connector = create_connector("casavi", "casavi", {**BASE_SETTINGS, **settings})

    async def sample(table: Table) -> list[dict[str, Any]]:
        return first_page(table.name)

    connector._sample = sample  # the one request discovery makes, answered from the seeded data
    return connector


@lru_cache(maxsize=None)
def _sample(table: str) -> tuple[dict[str, Any], ...]:
    """Every n-th internal record (or child row) of the seeded world, about 600."""
    if table in CHILDREN:
        parent, array, carry = CHILDREN[table]
        rows = [{**item, carry: p["id"]} for p in world(42).table(parent) for item in p.get(array) or []]
    else:
        rows = world(42).table(table)
    return tuple(rows[:: max(1, len(rows) // 600)])


def _raw_values(table: Table, name: str, literals: list[Any]) -> list[Any]:
    """Raw values for a column on and around the query's literals (and absent = None)."""
    column = table.column(name)
    values: list[Any] = [None]
    if column.type is ColumnType.BOOLEAN:
        return values + [True, False]
    if column.type in (ColumnType.INTEGER, ColumnType.FLOAT):
        return values + [v + d for v in literals if isinstance(v, (int, float)) and not isinstance(v, bool)
                         for d in (-1, 0, 1)] + [0]
    if column.type is ColumnType.TIMESTAMP:
        return values + [v.isoformat().replace("+00:00", "Z") for v in literals if hasattr(v, "isoformat")] + [
            "2026-06-01T00:00:00.000Z"]
    texts: list[str] = []
    for lit in literals:
        if isinstance(lit, str):
            texts += like_instances(lit) if ("%" in lit or "_" in lit) else [lit, f"x{lit}y"]
    for t in list(texts):
        texts += [t.upper(), t.lower()]
    return values + sorted(set(texts)) + ["unrelated"]


def synthetic(table: Table, expr: ast.Expr | None, seed: int) -> list[dict[str, Any]]:
    """Records whose filtered fields take every combination of boundary values (sampled if many),
    built on a seeded record so every other field is real."""
    by_col: dict[str, list[Any]] = {}
    for col, value in query_literals(expr) if expr is not None else []:
        by_col.setdefault(col.name, []).append(value)
    for _q, name in columns_of(expr) if expr is not None else set():
        by_col.setdefault(name, [])
    names = sorted(n for n in by_col if n not in FILTER_ONLY and table.column(n).native == n)
    if not names:
        return []
    combos = list(itertools.product(*(_raw_values(table, n, by_col[n]) for n in names)))
    if len(combos) > 2000:
        combos = random.Random(seed).sample(combos, 2000)
    base = _sample(table.name)[0]
    out = []
    for i, combo in enumerate(combos):
        record = {k: v for k, v in base.items() if k not in names}
        record.update({n: v for n, v in zip(names, combo) if v is not None})
        if "id" not in names and table.name not in CHILDREN:
            record["id"] = f"SYN-{i:05d}"
        out.append(record)
    return out


def records(table: Table, where: ast.Expr | None, seed: int) -> list[dict[str, Any]]:
    """A sample of the seeded internal records plus the boundary records of ``where``."""
    return [dict(r) for r in _sample(table.name)] + synthetic(table, where, seed)


def _filters(request: list[tuple[str, str]]) -> list[tuple[str, str]]:
    return [(str(k), str(v)) for k, v in request if k not in PAGING]


def native_keys(table: Table, request: list[tuple[str, str]], reading: dict[str, str],
                rows: list[dict[str, Any]]) -> set[int]:
    """The records (by index) the simulated vendor lists for one request's parameters under one
    reading: the simulator's own filter code. A child table's request filters its parents."""
    from crmql.sandbox.casavi import filter as sim_filter  # (imported when a check runs)

    params = _filters(request)
    if table.name in CHILDREN:
        assert not params, f"a filter on the parents of {table.name}: {params}"  # none is declared today
        return set(range(len(rows)))
    flt = sim_filter.parse_filter(table.name, dict(params), reading)
    return {i for i, r in enumerate(rows) if flt.matches(r)}


def plan_requests(scan: Any) -> list[list[tuple[str, str]]]:
    """The query parameters of the list request (the kit's parameter view: one list per request)."""
    return [list(p) for p in scan.fetch.native] or [[]]


def candidate_requests(_table: Table, cand: Any) -> list[list[tuple[str, str]]]:
    """The parameters of one pushed conjunct alone (an OR group: one request per branch)."""
    render = {True: "true", False: "false"}
    if cand.push is not None:
        return [[(c.field, render.get(c.value, str(c.value))) for c in cand.push.conds]]
    return [[(p.conds[0].field, render.get(p.conds[0].value, str(p.conds[0].value)))] for p in cand.any_of]


def special(plan: Plan) -> bool:
    """Plans with a filter-only column: its parameter is sent as the docs write it (times as
    ``YYYY-MM-DDThh:mm:ss.sssZ``) and marked exact; the other pushed conjuncts are checked as any
    push is, on the WHERE without the filter-only ones (they cannot be evaluated locally)."""
    if len(plan.scans) != 1:
        return False
    scan = plan.scans[0]
    only = [(cand, exact) for cand, exact in scan.pushed
            if {name for _q, name in columns_of(cand.expr)} & FILTER_ONLY]
    if not only:
        return False
    for cand, exact in only:
        assert exact, f"{cand.expr}: a filter-only column is exact by the vendor's definition"
        for cond in cand.push.conds:
            sent = [v for params in scan.fetch.native for k, v in params if k == cond.field]
            assert sent, f"{cond.field} was not sent"
            if cond.field == "modifiedAfter":
                assert all(DOCS_TIME.match(v) for v in sent), sent
    others = [cand for cand, _ in scan.pushed if all(cand is not c for c, _ in only)]
    connector = make_connector({})
    table = scan.table
    rows = records(table, None, 0)
    for cand in others:
        want = local_keys(connector, table, scan.ref.ref_name, cand.expr, rows)
        for reading in READINGS:
            got: set[int] = set()
            for request in plan_requests(scan):
                got |= native_keys(table, [(k, v) for k, v in request if k not in FILTER_ONLY], reading, rows)
            assert want <= got, f"{cand.expr} loses rows under {reading}"
    return True


__all__ = ["HERE", "READINGS", "candidate_requests", "make_connector", "native_keys", "plan_requests", "records",
           "special"]
