"""Atlas CRM's part of the golden pushdown contract: tables built from the template fixture
(``templates.json``: the simulator's template responses, checked to be current by
``test_atlas_pushdown.py``), so no case makes a request; and the Atlas simulator's own code
(``crmql.sandbox.atlas.filter``) applied to a request's query parameters, on a sample of the
sandbox's entities plus entities on every boundary of a query's literals.

Stored values are what the vendor can hold: option labels for selects, canonical (lower-case)
account ids for users, millisecond UTC text for timestamps.
"""

from __future__ import annotations

import datetime as dt
import itertools
import json
import random
from functools import lru_cache
from pathlib import Path
from typing import Any

import pyarrow as pa

from crmql.connectors.registry import create_connector
from crmql.exec.executor import local_connection
from crmql.exec.frames import to_arrow
from crmql.exec.localsql import duck_ident, expr_sql
from crmql.language import ast
from crmql.plan.catalog import Table
from crmql.plan.planner import Plan
from crmql.plan.predicates import columns_of
from crmql.sandbox import records as sandbox_records
from crmql.sandbox.atlas.filter import VARIANTS, check_entity_type, compile_filters, parse_query, resolve_filters
from crmql.sandbox.atlas.words import OWNERS

from golden import like_instances, query_literals

HERE = Path(__file__).resolve().parent
TEMPLATES_FILE = HERE / "templates.json"
BASE_SETTINGS = {"base_url": "http://127.0.0.1:1", "client_id": "x", "client_secret": "y"}
TEMPLATES: dict[str, Any] = {k: v for k, v in json.loads(TEMPLATES_FILE.read_text(encoding="utf-8")).items()
                             if not k.startswith("_")}
#: table -> Atlas entity type
ENTITY_TYPES = {"companies": "company", "contacts": "contact", "sales": "sale"}
API = "/api/1.0/workspace/CRM"
FIELD_TYPES = {etype: {f["id"]: f["type"] for s in tpl["sections"] for f in s["fields"]}
               for etype, tpl in TEMPLATES.items()}
DEFAULT_READING = {k: v[0] for k, v in VARIANTS.items()}
FILTER_VARIANTS = ("atlas.eq_case", "atlas.contains_case", "atlas.multi_contains")
READINGS = [dict(DEFAULT_READING, **dict(zip(FILTER_VARIANTS, values)))
            for values in itertools.product(*(VARIANTS[k] for k in FILTER_VARIANTS))]
SETTING_TO_VARIANT = {
    "eq_case_sensitive": ("atlas.eq_case", {True: "sensitive", False: "insensitive"}),
    "contains_case_sensitive": ("atlas.contains_case", {True: "sensitive", False: "insensitive"}),
}
KEY = "__key"
_SECOND, _MS = dt.timedelta(seconds=1), dt.timedelta(milliseconds=1)
OWNER_IDS = [o for o, _ in OWNERS]


def make_connector(settings: dict[str, Any] | None = None) -> Any:
    """An Atlas connector whose tables come from the template fixture (no template request)."""
    connector = create_connector("atlas", "atlas", {**BASE_SETTINGS, **(settings or {})})
    for name, etype in ENTITY_TYPES.items():
        connector._loaded[name] = connector._entity_table(name, TEMPLATES[etype])
    return connector


def _utc_ms(moment: dt.datetime) -> str:
    return moment.astimezone(dt.timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _field_kind(table: Table, name: str) -> str:
    """The template field type behind a column ("id" and "type" for the two built-ins)."""
    column = table.column(name)
    if column.name in ("id", "type"):
        return column.name
    return FIELD_TYPES[ENTITY_TYPES[table.name]][column.native]


def _raw_values(table: Table, name: str, literals: list[Any]) -> list[Any]:
    """Raw vendor values for a column on and around the query's literals (and absent = None).

    Stored values are what the vendor can hold: option labels for selects, canonical (lower-case)
    account ids for users, millisecond UTC text for timestamps.
    """
    column = table.column(name)
    kind = _field_kind(table, name)
    values: list[Any] = [None]
    if kind == "type":
        return [ENTITY_TYPES[table.name]]
    if kind == "single-select":
        return values + list(column.options or ())
    if kind == "multi-select":
        options = list(column.options or ())
        return values + [[o] for o in options] + [options[:2], options[1:4:2], [options[-1], options[0]]]
    if kind == "timestamp":
        for lit in literals:
            if isinstance(lit, dt.date):
                moment = lit if isinstance(lit, dt.datetime) else dt.datetime(lit.year, lit.month, lit.day, tzinfo=dt.timezone.utc)
                for delta in (-2 * _SECOND, -_SECOND, -_MS, dt.timedelta(0), _MS, _SECOND, 2 * _SECOND):
                    try:
                        values.append(_utc_ms(moment + delta))
                    except OverflowError:
                        pass
        return values + ["2024-06-01T08:00:00.000Z"]
    if kind == "date":
        for lit in literals:
            if isinstance(lit, dt.date):
                day = lit.date() if isinstance(lit, dt.datetime) else lit
                for delta in (-1, 0, 1):
                    try:
                        values.append((day + dt.timedelta(days=delta)).isoformat())
                    except OverflowError:
                        pass
        return values + ["2024-06-01"]
    if kind == "decimal":
        for lit in literals:
            if isinstance(lit, (int, float)) and not isinstance(lit, bool):
                values += [lit, lit - 1, lit + 1, lit - 0.5, lit + 0.5]
        return values + [0]
    if kind == "user":
        texts = [v.lower() for v in literals if isinstance(v, str)]
        return values + sorted(set(texts + [f"x{t}y" for t in texts] + OWNER_IDS[:2]))
    if kind == "id":
        return [v for v in literals if isinstance(v, str)] + ["a0000000-0000-4000-8000-000000000000"]
    texts: list[str] = []
    for lit in literals:
        if isinstance(lit, str):
            texts += like_instances(lit) if ("%" in lit or "_" in lit) else [lit, f"x{lit}y"]
    for t in list(texts):
        texts += [t.upper(), t.lower(), t.swapcase()]
    return values + sorted(set(texts)) + ["unrelated"]


def synthetic_entities(table: Table, expr: ast.Expr | None, seed: int) -> list[dict[str, Any]]:
    """Entities whose filtered fields take every combination of boundary values (sampled if many)."""
    by_col: dict[str, list[Any]] = {}
    for col, value in query_literals(expr) if expr is not None else []:
        by_col.setdefault(table.column(col.name).name, []).append(value)
    for _q, name in columns_of(expr) if expr is not None else set():
        by_col.setdefault(table.column(name).name, [])
    if not by_col:
        return []
    names = sorted(by_col)
    combos = list(itertools.product(*(_raw_values(table, n, by_col[n]) for n in names)))
    if len(combos) > 2500:
        combos = random.Random(seed).sample(combos, 2500)
    etype = ENTITY_TYPES[table.name]
    out = []
    for i, combo in enumerate(combos):
        entity: dict[str, Any] = {"id": f"synthetic-{i}", "type": etype, "fields": {}}
        for name, value in zip(names, combo):
            native = table.column(name).native
            if native in ("id", "type"):
                if value is not None:
                    entity[native] = value
            elif value is not None:
                entity["fields"][native] = value
        out.append(entity)
    return out


@lru_cache(maxsize=None)
def _sample(table: str) -> tuple[dict[str, Any], ...]:
    rows = sandbox_records("atlas", table)
    return tuple(rows[:: max(1, len(rows) // 600)])


def native_keys(table: Table, params: list[tuple[str, str]], reading: dict[str, str],
                records: list[dict[str, Any]]) -> set[int]:
    """The records (by index) the simulated vendor returns for one entities request under one reading."""
    query = parse_query([(str(k), str(v)) for k, v in params])
    etype = check_entity_type(query.entity_type)
    types = FIELD_TYPES[etype]
    groups = resolve_filters(query, etype, types)
    predicate = compile_filters(groups, types, reading)
    return {i for i, r in enumerate(records) if r["type"] == etype and predicate(r)}


def check_links(plan: Plan) -> None:
    """atlas.links: the rows of the requested entities (restricted to ``type``) hold every wanted row."""
    (scan,) = plan.scans
    where = plan.bound.select.where
    table = scan.table
    sample = sandbox_records("atlas", "links")[::40]
    # an entity whose id is no URL path segment ("", ".", "..", a "/") cannot be read, nor its links
    ids = [v for c, v in query_literals(where) if c.name == "entity_id" and isinstance(v, str)
           and v not in ("", ".", "..") and "/" not in v]
    records = list(sample) + [{"entity_id": i, "other_entity_id": f"o{n}", "other_type": t, "roles": ["x"]}
                              for n, (i, t) in enumerate(itertools.product(ids + ["zz"], ENTITY_TYPES.values()))]
    arrow = to_arrow(table, records).append_column(KEY, pa.array(range(len(records)), type=pa.int64()))
    con = local_connection()
    try:
        con.register("t", arrow)
        params: list[Any] = []
        sql = f"SELECT {KEY} FROM t AS {duck_ident(scan.ref.ref_name)} WHERE " + expr_sql(where, params)
        want = {r[0] for r in con.execute(sql, params).fetchall()}
    finally:
        con.close()
    entity_ids, link_params = scan.fetch.native
    other_type = dict(link_params).get("type")
    got = {i for i, r in enumerate(records) if r["entity_id"] in entity_ids
           and (other_type is None or r["other_type"] == other_type)}
    assert want <= got
    if scan.exact:
        assert want == got


def records(table: Table, where: ast.Expr | None, seed: int) -> list[dict[str, Any]]:
    """A sample of the seeded entities plus the boundary entities of ``where``."""
    return list(_sample(table.name)) + synthetic_entities(table, where, seed)


def plan_requests(scan: Any) -> list[list[tuple[str, str]]]:
    """The query parameters of each entities request (an OR split: one per branch)."""
    return [list(p) for p in scan.fetch.native]


def candidate_requests(table: Table, cand: Any) -> list[list[tuple[str, str]]]:
    """The native request(s) of one pushed conjunct alone (an OR group: repeated parameters)."""
    base = [("type", ENTITY_TYPES[table.name])]
    if cand.push is not None:
        return [base + [(f"fields.{c.field}[{c.op}]", str(c.value)) for c in cand.push.conds]]
    conds = [p.conds[0] for p in cand.any_of]
    if len({(c.field, c.op) for c in conds}) == 1:
        return [base + [(f"fields.{c.field}[{c.op}]", str(c.value)) for c in conds]]
    return [base + [(f"fields.{c.field}[{c.op}]", str(c.value))] for c in conds]  # split


def special(plan: Plan) -> bool:
    """atlas.links has no filter of its own: its check is :func:`check_links`."""
    if len(plan.scans) == 1 and plan.scans[0].table.name == "links":
        check_links(plan)
        return True
    return False
