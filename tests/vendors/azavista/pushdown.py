"""Azavista's part of the golden pushdown contract: how to plan without a request, and the
simulator's own filter (``crmql.sandbox.azavista.filter``) applied to a native filter tree, on a
sample of the seeded records plus records on every boundary of a query's literals (the bound
itself, one microsecond and one second either side, other letter cases, patterns' instances)."""

from __future__ import annotations

import datetime as dt
import itertools
import random
from functools import lru_cache
from pathlib import Path
from typing import Any

from crmql.connectors.registry import create_connector
from crmql.language import ast
from crmql.plan.catalog import ColumnType, Table
from crmql.plan.predicates import columns_of
from crmql.sandbox.azavista.filter import VARIANTS, compile_filter
from crmql.sandbox.core.data import records as sandbox_records

from golden import like_instances, query_literals

HERE = Path(__file__).resolve().parent
BASE_SETTINGS = {"base_url": "http://127.0.0.1:1", "client_id": "x", "client_secret": "y"}
VARIANT_KEYS = sorted(VARIANTS)
READINGS = [dict(zip(VARIANT_KEYS, values)) for values in itertools.product(*(VARIANTS[k] for k in VARIANT_KEYS))]
SETTING_TO_VARIANT = {
    "like_case_sensitive": ("azavista.like_case", {True: "sensitive", False: "insensitive"}),
    "eq_case_sensitive": ("azavista.eq_case", {True: "sensitive", False: "insensitive"}),
    "range_inclusive": ("azavista.range", {True: "inclusive", False: "exclusive"}),
}
#: every record gets a unique value here (no golden query filters on it)
UNIQUE = "external_reference"
_ID_COLUMNS = {"id", "organization_id"}  # lower-case hex ids: the vendor never stores another case
_SECOND, _MICRO = dt.timedelta(seconds=1), dt.timedelta(microseconds=1)


def make_connector(settings: dict[str, Any]) -> Any:
    """An Azavista connector on a closed port (planning needs no request)."""
    return create_connector("azavista", "azavista", {**BASE_SETTINGS, **settings})


def filter_key(table: str) -> str:
    """The search body's filter key of a table (``event_filter``, ...)."""
    from crmql.connectors.azavista import AzavistaConnector

    return AzavistaConnector.api.resource(table).filters.key


def _raw_values(table: Table, name: str, literals: list[Any]) -> list[Any]:
    """Raw vendor values for a column on and around the query's literals (and NULL)."""
    column = table.column(name)
    values: list[Any] = [None]
    if column.options:
        return values + list(column.options)
    if column.type is ColumnType.TIMESTAMP:
        for lit in literals:
            if isinstance(lit, dt.datetime):
                for delta in (-2 * _SECOND, -_SECOND, -_MICRO, dt.timedelta(0), _MICRO, _SECOND, 2 * _SECOND):
                    try:
                        values.append((lit + delta).isoformat())
                    except OverflowError:  # past year 1 or 9999
                        pass
        return values + ["2024-06-01T08:00:00+00:00"]
    if column.type in (ColumnType.INTEGER, ColumnType.FLOAT):
        for lit in literals:
            if isinstance(lit, (int, float)) and not isinstance(lit, bool):
                values += [lit, lit - 1, lit + 1] + ([lit + 0.5] if column.type is ColumnType.FLOAT else [])
        return values + [0]
    if column.type is ColumnType.BOOLEAN:
        return values + [True, False]
    if name in _ID_COLUMNS:
        return values + [v for v in literals if isinstance(v, str)] + ["5a541d0860a4a21893586148"]
    texts: list[str] = []
    for lit in literals:
        if isinstance(lit, str):
            texts += like_instances(lit) if ("%" in lit or "_" in lit) else [lit, f"x{lit}y"]
    for t in list(texts):
        texts += [t.upper(), t.lower(), t.swapcase()]
    return values + sorted(set(texts)) + ["unrelated"]


def synthetic_records(table: Table, expr: ast.Expr | None, seed: int) -> list[dict[str, Any]]:
    """Records whose filtered columns take every combination of boundary values (sampled if many)."""
    by_col: dict[str, list[Any]] = {}
    for col, value in query_literals(expr) if expr is not None else []:
        by_col.setdefault(col.name, []).append(value)
    for _q, name in columns_of(expr) if expr is not None else set():
        by_col.setdefault(name, [])
    if not by_col:
        return []
    assert UNIQUE not in by_col
    names = sorted(by_col)
    combos = list(itertools.product(*(_raw_values(table, n, by_col[n]) for n in names)))
    if len(combos) > 4000:
        combos = random.Random(seed).sample(combos, 4000)
    out = []
    for i, combo in enumerate(combos):
        record = {"id": f"{i:024x}"}
        record.update(zip(names, combo))
        record[UNIQUE] = f"synthetic-{i}"
        out.append(record)
    return out


@lru_cache(maxsize=None)
def _sample(table: str) -> tuple[dict[str, Any], ...]:
    rows = sandbox_records("azavista", table)
    return tuple(dict(r, **{UNIQUE: f"sandbox-{i}"}) for i, r in enumerate(rows[:: max(1, len(rows) // 600)]))


def records(table: Table, where: ast.Expr | None, seed: int) -> list[dict[str, Any]]:
    """A sample of the seeded records plus the boundary records of ``where``."""
    return list(_sample(table.name)) + synthetic_records(table, where, seed)


def native_keys(table: Table, tree: dict[str, Any], reading: Any, rows: list[dict[str, Any]]) -> set[int]:
    """The records (by index) the simulated vendor returns for a native filter tree under one reading."""
    predicate = compile_filter(table.name, tree, reading, filter_key(table.name))
    return {i for i, r in enumerate(rows) if predicate(r)}


def plan_requests(scan: Any) -> list[Any]:
    """One search request: its filter tree."""
    return [scan.fetch.native or {}]


def candidate_requests(_table: Table, cand: Any) -> list[Any]:
    """The filter tree of one pushed conjunct alone."""
    if cand.push is not None:
        return [{"and": [{c.field: {c.op: c.value}} for c in cand.push.conds]}]
    return [{"or": [{p.conds[0].field: {p.conds[0].op: p.conds[0].value}} for p in cand.any_of]}]
