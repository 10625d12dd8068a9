"""Golden pushdown tests for the Atlas CRM connector: query -> the exact native request(s) (method,
path, query parameters in order, URL-encoded as ``NativeRequest.render()`` shows them), what is
pushed (exact or superset), what is re-checked locally and why, and the paging plan.

The cases live in ``tests/fixtures/golden/atlas_pushdown.txt`` (the format of
``tests/test_pushdown_golden.py``: ``=== name``, optional ``@settings`` / ``@params`` lines, the
query, ``---``, the expected plan; a query that must fail expects ``error: ...``). Tables are
built from ``tests/fixtures/atlas_templates.json`` (the simulator's template responses, checked
below to be current), so no case makes a request. Regenerate with
``CRMQL_UPDATE_GOLDEN=1 .venv/bin/python -m pytest tests/test_atlas_pushdown_golden.py`` and
review the diff against design section 5.

Besides the golden text, every case is checked against the contract mechanically, with the
Atlas simulator's own code (``crmql.sandbox.atlas.filter``):

* nothing that may not be pushed is pushed (``!=``, NOT, IS [NOT] NULL, NOT IN / NOT LIKE, and
  ILIKE unless the connection says ``contains`` ignores case);
* every request is one the vendor accepts (known entity type, known field ids, operators allowed
  for the field type, value formats, page size, sort field; links' ``type``), and its URL decodes
  back to exactly the parameters planned, whatever the values contain;
* the union of the requests selects a **superset** of the rows the WHERE selects, under every
  reading of the undocumented semantics the connection settings allow (eq case-(in)sensitive,
  contains case-(in)sensitive, multi-select contains by label or substring), on a sample of the
  sandbox's entities plus entities made to sit on every boundary of the query's literals; where
  the plan claims to be exact it selects exactly those rows; each pushed conjunct alone likewise;
  a contradiction makes no request; a GET by id asks for every wanted id.
"""

from __future__ import annotations

import datetime as dt
import itertools
import json
import random
from functools import lru_cache
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

import pyarrow as pa
import pytest

from crmql.language import ast
from crmql.plan.bind import bind
from crmql.plan.catalog import Table
from crmql.connectors.atlas.connector import API, ENTITY_TYPES, AtlasConnector
from crmql.errors import CrmqlError
from crmql.exec.executor import local_connection
from crmql.exec.frames import to_arrow
from crmql.exec.localsql import expr_sql, quote_ident, show
from crmql.language.parser import parse
from crmql.plan.planner import Plan, ScanPlan, plan_query
from crmql.plan.predicates import columns_of
from crmql.sandbox import records as sandbox_records
from crmql.sandbox.atlas.filter import (
    DEFAULT_OPERATOR, OPERATORS, VARIANTS, QueryError as VendorQueryError, check_entity_type, check_sort, compile_filters,
    page_size, parse_query, resolve_filters,
)
from crmql.sandbox.atlas.template import build_templates
from crmql.sandbox.atlas.words import OWNERS

from golden import UPDATE, assert_never_pushed, like_instances, query_literals, read_cases, update_fixture

FIXTURES = Path(__file__).parent / "fixtures"
GOLDEN = FIXTURES / "golden" / "atlas_pushdown.txt"
TEMPLATES_FILE = FIXTURES / "atlas_templates.json"
NOW = dt.datetime(2025, 6, 15, 12, 0, tzinfo=dt.timezone.utc)
BASE_SETTINGS = {"base_url": "http://127.0.0.1:1", "client_id": "x", "client_secret": "y"}
TEMPLATES: dict[str, Any] = {k: v for k, v in json.loads(TEMPLATES_FILE.read_text(encoding="utf-8")).items()
                             if not k.startswith("_")}

HEADER, CASES = read_cases(GOLDEN)
_ACTUAL: dict[str, str] = {}
_update_golden = update_fixture(GOLDEN, HEADER, CASES, _ACTUAL)


def test_template_fixture_is_current():
    """The fixture is what the simulator's template endpoint answers for the default seed."""
    assert TEMPLATES == {t: tpl.to_json() for t, tpl in build_templates(42).items()}


# ---- planning a case ------------------------------------------------------------------------------

def make_connector(settings: dict[str, Any] | None = None) -> AtlasConnector:
    """An Atlas connector whose tables come from the template fixture (no template request)."""
    connector = AtlasConnector("atlas", {**BASE_SETTINGS, **(settings or {})})
    for name, etype in ENTITY_TYPES.items():
        connector._loaded[name] = connector._entity_table(name, TEMPLATES[etype])
    return connector


def plan_case(case: dict[str, Any]) -> tuple[Plan, AtlasConnector]:
    connector = make_connector(case["settings"])
    stmt = parse(case["query"])
    if isinstance(stmt, ast.Explain):
        stmt = stmt.query
    bound = bind(stmt, lambda _c, t: connector.table(t), case["params"], now=NOW, text=case["query"])
    return plan_query(bound, {"atlas": connector}), connector


def _cond(c: Any) -> str:
    return json.dumps({c.field: {c.op: c.value}}, ensure_ascii=False, default=str)


def render_scan(scan: ScanPlan) -> list[str]:
    fetch = scan.fetch
    title = scan.table.qualified + (f" as {scan.ref.alias}" if scan.ref.alias else "")
    lines = [f"scan {title}", f"  mode: {fetch.mode}"]
    if scan.contradiction:
        lines.append(f"  contradiction: {scan.contradiction}")
    lines.extend(f"  request: {r.render()}" for r in fetch.requests)
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
        lines.append(f"  paging: page_size={fetch.page_size} max_rows={fetch.max_rows} stop_early={fetch.stop_early}"
                     f" sorted_by={fetch.sorted_by} split={fetch.split is not None}")
    return lines


def render(case: dict[str, Any]) -> str:
    try:
        plan, _ = plan_case(case)
    except CrmqlError as e:
        lines = [f"error: {type(e).__name__}: {e.message}"]
        if e.hint:
            lines.append(f"  hint: {e.hint}")
        return "\n".join(lines)
    lines: list[str] = []
    for scan in plan.scans:
        lines += render_scan(scan)
    if plan.count_column is not None:
        lines.append(f"count: from the vendor's total, as {plan.count_column!r}")
    return "\n".join(lines)


def _plans(case: dict[str, Any]) -> bool:
    try:
        plan_case(case)
    except CrmqlError:
        return False
    return True


PLANNED = [c for c in CASES if _plans(c)]


# ---- the golden cases -----------------------------------------------------------------------------

def test_golden_file_is_well_formed():
    names = [c["name"] for c in CASES]
    assert len(names) == len(set(names)), "case names must be unique"
    assert len(CASES) >= 30
    for case in CASES:
        assert case["query"].strip(), case["name"]
        assert case["expected"].strip() or UPDATE, f"{case['name']}: no expected plan"
    tables = {c["query"].split("FROM atlas.")[1].split()[0].rstrip(")") for c in CASES if "FROM atlas." in c["query"]}
    assert tables >= {"companies", "contacts", "sales", "links"}


@pytest.mark.parametrize("case", CASES, ids=[c["name"] for c in CASES])
def test_atlas_pushdown_golden(case):
    actual = render(case)
    if UPDATE:
        _ACTUAL[case["name"]] = actual
        return
    assert actual == case["expected"]


# ---- the contract, checked mechanically on every case ---------------------------------------------

@pytest.mark.parametrize("case", PLANNED, ids=[c["name"] for c in PLANNED])
def test_never_pushed(case):
    """!=, NOT, IS [NOT] NULL, NOT IN, NOT LIKE are never pushed; ILIKE only to a case-insensitive contains."""
    plan, _ = plan_case(case)
    assert_never_pushed(plan, ilike_ok=case["settings"].get("contains_case_sensitive") is False, show=show)


def test_planning_makes_no_request():
    """Planning is pure: the connector points at a closed port, so any request would fail."""
    for case in CASES:
        render(case)


FIELD_TYPES = {etype: {f["id"]: f["type"] for s in tpl["sections"] for f in s["fields"]}
               for etype, tpl in TEMPLATES.items()}
DEFAULT_READING = {k: v[0] for k, v in VARIANTS.items()}


def request_pairs(request: Any) -> tuple[str, list[tuple[str, str]]]:
    """The path and query parameters the vendor decodes from the rendered request line."""
    method, _, url = request.render().partition(" ")
    assert method == "GET"
    parts = urlsplit(url)
    return parts.path, parse_qsl(parts.query, keep_blank_values=True, encoding="utf-8", errors="strict")


@pytest.mark.parametrize("case", PLANNED, ids=[c["name"] for c in PLANNED])
def test_requests_are_valid_for_the_vendor(case):
    """Every request decodes to the planned parameters and passes the simulator's validation
    (which answers 400 for anything else); a sort field is a decimal or a date."""
    plan, _ = plan_case(case)
    for scan in plan.scans:
        fetch = scan.fetch
        if fetch.mode == "none":
            assert not fetch.requests
        for request in fetch.requests:
            path, pairs = request_pairs(request)
            assert pairs == [(str(k), str(v)) for k, v in (request.params or [])], "the URL does not round-trip"
            if fetch.mode in ("search", "count"):
                assert path == f"{API}/entities"
                query = parse_query(pairs)
                etype = check_entity_type(query.entity_type)
                assert etype == ENTITY_TYPES[scan.table.name]
                for paging in VARIANTS["atlas.page_param"]:
                    size = page_size(query, dict(DEFAULT_READING, **{"atlas.page_param": paging}))
                    assert size == (fetch.page_size if paging == "limit" else 20)
                types = FIELD_TYPES[etype]
                resolve_filters(query, etype, types)
                sort = check_sort(query, etype, types)
                assert (sort is None) == (fetch.sorted_by is None)
                if sort is not None:
                    assert types[sort] in ("decimal", "date")
                    assert scan.table.column(fetch.sorted_by).native == sort
                assert all(k in ("type", "limit", "sort-by") or k.startswith("fields.") for k, _ in pairs)
            elif fetch.mode == "get":
                prefix = f"{API}/entities/"
                assert path.startswith(prefix) and "/" not in path[len(prefix):] and not pairs
                assert unquote(path[len(prefix):]) in fetch.native
            elif fetch.mode == "links":
                assert path.startswith(f"{API}/entities/") and path.endswith("/links")
                entity = unquote(path[len(f"{API}/entities/"):-len("/links")])
                assert entity in fetch.native[0] and "/" not in path[len(f"{API}/entities/"):-len("/links")]
                query = parse_query(pairs)
                check_entity_type(query.entity_type, required=False)
                assert not query.filters and query.sort_by is None  # they would need type
                page_size(query, DEFAULT_READING)
            else:
                pytest.fail(f"unexpected mode {fetch.mode}")


# ---- semantic check: superset under every vendor reading, exact where claimed ----------------------

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


def allowed_by(settings: dict[str, Any], reading: dict[str, str]) -> bool:
    """Whether the connection settings admit this reading of the vendor's semantics."""
    for key, (variant, values) in SETTING_TO_VARIANT.items():
        if settings.get(key) is not None and reading[variant] != values[settings[key]]:
            return False
    return True


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


def local_keys(connector: AtlasConnector, table: Table, ref_name: str, expr: ast.Expr | None,
               records: list[dict[str, Any]]) -> set[int]:
    """The records (by index) the local SQL (DuckDB, crmql's own rendering) keeps for ``expr``."""
    arrow = to_arrow(table, [connector.row(table, r) for r in records])
    arrow = arrow.append_column(KEY, pa.array(range(len(records)), type=pa.int64()))
    con = local_connection()
    try:
        con.register("t", arrow)
        params: list[Any] = []
        sql = f"SELECT {KEY} FROM t AS {quote_ident(ref_name)}"
        if expr is not None:
            sql += " WHERE " + expr_sql(expr, params)
        return {r[0] for r in con.execute(sql, params).fetchall()}
    finally:
        con.close()


def native_keys(table: Table, params: list[tuple[str, str]], reading: dict[str, str],
                records: list[dict[str, Any]]) -> set[int]:
    """The records (by index) the simulated vendor returns for one entities request under one reading."""
    query = parse_query([(str(k), str(v)) for k, v in params])
    etype = check_entity_type(query.entity_type)
    types = FIELD_TYPES[etype]
    groups = resolve_filters(query, etype, types)
    predicate = compile_filters(groups, types, reading)
    return {i for i, r in enumerate(records) if r["type"] == etype and predicate(r)}


def _cand_params(table: Table, cand: Any) -> list[list[tuple[str, str]]]:
    """The native request(s) of one pushed conjunct alone (an OR group: repeated parameters)."""
    base = [("type", ENTITY_TYPES[table.name])]
    if cand.push is not None:
        return [base + [(f"fields.{c.field}[{c.op}]", str(c.value)) for c in cand.push.conds]]
    conds = [p.conds[0] for p in cand.any_of]
    if len({(c.field, c.op) for c in conds}) == 1:
        return [base + [(f"fields.{c.field}[{c.op}]", str(c.value)) for c in conds]]
    return [base + [(f"fields.{c.field}[{c.op}]", str(c.value))] for c in conds]  # split


def check_superset(case: dict[str, Any], plan: Plan, connector: AtlasConnector,
                   requests: list[list[tuple[str, str]]] | None = None, exact: bool | None = None) -> None:
    """The contract for one single-scan plan (``requests``/``exact`` override the plan's, to show
    that a wrong push is caught)."""
    (scan,) = plan.scans
    table, ref = scan.table, scan.ref.ref_name
    where = plan.bound.select.where
    fetch = scan.fetch
    if table.name == "links":
        check_links(plan)
        return
    records = list(_sample(table.name)) + synthetic_entities(table, where, seed=len(case["name"]))
    want = local_keys(connector, table, ref, where, records)
    if plan.contradiction:
        assert fetch.mode == "none" and not fetch.requests
        assert want == set(), f"a contradiction ({plan.contradiction}) must select nothing"
        return
    if fetch.mode == "none":  # LIMIT 0
        return
    if fetch.mode == "get":
        missing = {records[k]["id"] for k in want} - set(fetch.native)
        assert not missing, f"GET by id misses {sorted(missing)[:3]}"
        return
    requests = requests if requests is not None else [list(p) for p in fetch.native]
    exact = scan.exact if exact is None else exact
    readings = [r for r in READINGS if allowed_by(case["settings"], r)]
    for reading in readings:
        got: set[int] = set()
        for params in requests:
            got |= native_keys(table, params, reading, records)
        lost = want - got
        assert not lost, (f"under {reading} the native filter loses {len(lost)} row(s), "
                          f"e.g. {[records[k]['fields'] for k in sorted(lost)[:2]]}")
        if exact:
            assert got == want, f"claimed exact, but under {reading} it returns {len(got - want)} extra row(s)"
    for cand, cand_exact in scan.pushed:
        rows_cand = local_keys(connector, table, ref, cand.expr, records)
        for reading in readings:
            got = set()
            for params in _cand_params(table, cand):
                got |= native_keys(table, params, reading, records)
            assert rows_cand <= got, f"{show(cand.expr)} loses rows under {reading}"
            if cand_exact:
                assert got == rows_cand, f"{show(cand.expr)} claimed exact, but not under {reading}"


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
        sql = f"SELECT {KEY} FROM t AS {quote_ident(scan.ref.ref_name)} WHERE " + expr_sql(where, params)
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


@pytest.mark.parametrize("case", PLANNED, ids=[c["name"] for c in PLANNED])
def test_pushdown_selects_a_superset(case):
    plan, connector = plan_case(case)
    where = plan.bound.select.where
    assert KEY not in {name for _q, name in (columns_of(where) if where is not None else set())}
    check_superset(case, plan, connector)


def _case(name: str) -> dict[str, Any]:
    return next(c for c in CASES if c["name"] == name)


def test_superset_check_catches_a_wrong_push():
    """The semantic check above is not vacuous: a push that is too narrow, or wrongly claimed
    exact, is caught under some reading of the vendor docs."""
    case = _case("string equality is a superset (eq may ignore case)")
    plan, connector = plan_case(case)
    (request,) = plan.scans[0].fetch.native
    # claiming exact: a case-insensitive eq returns other spellings too
    with pytest.raises(AssertionError, match="claimed exact"):
        check_superset(case, plan, connector, exact=True)
    # eq with the value lower-cased loses the row under a case-sensitive eq
    lowered = [(k, v.lower() if k.startswith("fields.") else v) for k, v in request]
    with pytest.raises(AssertionError, match="loses"):
        check_superset(case, plan, connector, requests=[lowered])
    # an OR split into requests: dropping one branch's request loses rows
    split = _case("OR across two fields is split into one request per branch")
    plan, connector = plan_case(split)
    assert len(plan.scans[0].fetch.native) == 2
    with pytest.raises(AssertionError, match="loses"):
        check_superset(split, plan, connector, requests=[list(plan.scans[0].fetch.native[0])])
    # ILIKE pushed as contains would lose rows under a case-sensitive contains
    ilike = _case("ILIKE is pushed only to a contains known to ignore case")
    plan, connector = plan_case(dict(ilike, settings={}))
    assert plan.scans[0].fetch.native[0] == [("type", "contact"), ("limit", "100")]
    with pytest.raises(AssertionError, match="loses"):
        check_superset(dict(ilike, settings={}), plan, connector,
                       requests=[[("type", "contact"), ("fields.contact-email[contains]", "GMAIL")]])


def test_the_vendor_rejects_what_atlas_does_not_document():
    """The validation used above is the simulator's: it does answer 400 for these."""
    types = FIELD_TYPES["sale"]
    bad = [
        [("type", "sale"), ("fields.sale-name[gte]", "a")],
        [("type", "sale"), ("fields.sale-balance[eq]", "abc")],
        [("type", "sale"), ("fields.sale-close-date[gte]", "2024-1-1")],
        [("type", "sale"), ("fields.sale-created[gte]", "99-01-01T00:00:00.000Z")],
        [("type", "sale"), ("fields.id[get]", "x")],
        [("type", "Sale")],
    ]
    for pairs in bad:
        with pytest.raises(VendorQueryError):
            query = parse_query(pairs)
            resolve_filters(query, check_entity_type(query.entity_type), types)
    assert OPERATORS["multi-select"] == ("contains",)


def test_operators_are_documented_and_defaults_explicit():
    """Every native operator a column can push is in the documented table for its field type, and
    the operator for the type's natural predicate is the documented default (sent explicitly as
    ``fields.ID[op]``, which the vendor reads like a bare ``fields.ID=value``)."""
    connector = make_connector()
    natural = {"string": "eq", "user": "eq", "single-select": "eq", "date": "eq", "decimal": "eq",
               "text": "contains", "multi-select": "contains", "timestamp": None}
    for name, etype in ENTITY_TYPES.items():
        table = connector.table(name)
        for field_id, ftype in FIELD_TYPES[etype].items():
            column = table.column(field_id)
            ops = {getattr(cap, attr) for cap in column.filters for attr in ("op", "lower", "upper") if hasattr(cap, attr)}
            assert ops and ops <= set(OPERATORS[ftype]), (field_id, ftype, ops)
            if natural[ftype] is not None:
                assert column.filters[0].op == natural[ftype] == DEFAULT_OPERATOR[ftype], (field_id, ftype)
    # the vendor reads the bare parameter as the default operator: the same rows
    records = list(_sample("sales"))
    types = FIELD_TYPES["sale"]
    for bare, explicit in [(("fields.sale-status", "won"), ("fields.sale-status[eq]", "won")),
                           (("fields.sale-description", "Jira"), ("fields.sale-description[contains]", "Jira"))]:
        a, b = (compile_filters(resolve_filters(parse_query([("type", "sale"), p]), "sale", types), types,
                                DEFAULT_READING) for p in (bare, explicit))
        hits = [r for r in records if a(r)]
        assert hits and hits == [r for r in records if b(r)]
