"""Atlas-only pushdown checks beside the golden contract (``tests/contract/test_contract_pushdown.py``):
the template fixture is current, every planned request is one the vendor accepts (its URL decodes
back to exactly the parameters planned, whatever the values contain), the superset check catches
wrong pushes, and the operators are the documented ones."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

import pytest

from crmql.sandbox.atlas.filter import (
    DEFAULT_OPERATOR, OPERATORS, VARIANTS, QueryError as VendorQueryError, check_entity_type, check_sort, compile_filters,
    page_size, parse_query, resolve_filters,
)
from crmql.sandbox.atlas.template import build_templates

from contract.pushdown import check_superset as _check_superset, plan_case as _plan_case, plans
from golden import read_cases

from vendors.atlas.pushdown import API, DEFAULT_READING, ENTITY_TYPES, FIELD_TYPES, TEMPLATES, _sample, make_connector
from vendors.atlas.spec import GOLDEN, SPEC

_, CASES = read_cases(GOLDEN.path)
PLANNED = [c for c in CASES if plans(SPEC, c)]


def plan_case(case: dict[str, Any]) -> Any:
    return _plan_case(SPEC, case)


def check_superset(case: dict[str, Any], plan: Any, connector: Any, **override: Any) -> None:
    _check_superset(SPEC, case, plan, connector, **override)


def test_template_fixture_is_current():
    """The fixture is what the simulator's template endpoint answers for the default seed."""
    assert TEMPLATES == {t: tpl.to_json() for t, tpl in build_templates(42).items()}


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
