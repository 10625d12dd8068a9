"""Golden pushdown contract, for every vendor whose spec has a ``golden`` part: query -> the exact
native request(s), what is pushed (exact or superset), what is re-checked locally and why, and the
paging plan (design section 5).

Each vendor's cases live in ``tests/vendors/<vendor>/golden/pushdown.txt`` (format in
``tests/golden.py``). Statements are bound with a fixed ``now`` (2025-06-15 12:00 UTC) and planned
with a connector pointing at a closed port. Regenerate on purpose with
``CRMQL_UPDATE_GOLDEN=1 .venv/bin/python -m pytest tests/contract/test_contract_pushdown.py``
(``-k azavista`` for one vendor) and review the diff against the pushdown contract.

Besides the golden text, every case is checked mechanically:

* nothing that may not be pushed is pushed (``!=``, NOT, IS [NOT] NULL, NOT IN / NOT LIKE, and
  ILIKE unless the connection says the vendor's like/contains ignores case);
* planning makes no request;
* the native requests select a **superset** of the rows the WHERE selects under every reading of
  the undocumented vendor semantics the settings allow (each simulator variant), judged by the
  simulator's own filter code on a sample of its seeded data plus records made to sit on every
  boundary of the query's literals; exactly those rows where the plan claims exact.
"""

from __future__ import annotations

from typing import Any

import pytest

from crmql.exec.localsql import show
from crmql.plan.predicates import columns_of

from contract.kit import VendorTestSpec, with_part
from contract.pushdown import KEY, check_superset, plan_case, plans, render
from golden import UPDATE, assert_never_pushed, read_cases, update_fixture

SPECS = with_part("golden")
CASES: dict[str, list[dict[str, Any]]] = {}
for _spec in SPECS:
    assert _spec.golden is not None
    _header, CASES[_spec.name] = read_cases(_spec.golden.path)
    _actual: dict[str, str] = {}
    # one update fixture per vendor file (pytest finds fixtures among the module's names)
    globals()[f"_update_golden_{_spec.name}"] = update_fixture(_spec.golden.path, _header, CASES[_spec.name], _actual)
    globals()[f"_ACTUAL_{_spec.name}"] = _actual


def _params(pick: Any = lambda spec, case: True) -> list[Any]:
    return [pytest.param(spec, case, id=f"{spec.name}-{case['name']}")
            for spec in SPECS for case in CASES[spec.name] if pick(spec, case)]


def _single(spec: VendorTestSpec, case: dict[str, Any]) -> bool:
    return plans(spec, case) and " JOIN " not in case["query"].upper()


ALL = _params()
PLANNED = _params(plans)
SINGLE = _params(lambda spec, case: spec.golden.superset is not None and _single(spec, case))


@pytest.mark.parametrize("spec", SPECS, ids=[s.name for s in SPECS])
def test_golden_file_is_well_formed(spec: VendorTestSpec) -> None:
    assert spec.golden is not None
    cases = CASES[spec.name]
    names = [c["name"] for c in cases]
    assert len(names) == len(set(names)), "case names must be unique"
    assert len(cases) >= spec.golden.min_cases
    for case in cases:
        assert case["query"].strip(), case["name"]
        assert case["expected"].strip() or UPDATE, f"{case['name']}: no expected plan"
    prefix = f"FROM {spec.connection}."
    tables = {c["query"].split(prefix)[1].split()[0].rstrip(")") for c in cases if prefix in c["query"]}
    assert tables >= spec.golden.tables


@pytest.mark.parametrize("spec, case", ALL)
def test_pushdown_golden(spec: VendorTestSpec, case: dict[str, Any]) -> None:
    actual = render(spec, case)
    if UPDATE:
        globals()[f"_ACTUAL_{spec.name}"][case["name"]] = actual
        return
    assert actual == case["expected"]


@pytest.mark.parametrize("spec, case", PLANNED)
def test_never_pushed(spec: VendorTestSpec, case: dict[str, Any]) -> None:
    """!=, NOT, IS [NOT] NULL, NOT IN, NOT LIKE are never pushed; ILIKE only to a case-insensitive
    like/contains."""
    assert spec.golden is not None
    plan, _ = plan_case(spec, case)
    assert_never_pushed(plan, ilike_ok=case["settings"].get(spec.golden.ilike_setting) is False, show=show)


@pytest.mark.parametrize("spec", SPECS, ids=[s.name for s in SPECS])
def test_planning_makes_no_request(spec: VendorTestSpec) -> None:
    """Planning is pure: the connector points at a closed port, so any request would fail."""
    for case in CASES[spec.name]:
        render(spec, case)


@pytest.mark.parametrize("spec, case", SINGLE)
def test_pushdown_selects_a_superset(spec: VendorTestSpec, case: dict[str, Any]) -> None:
    plan, connector = plan_case(spec, case)
    where = plan.bound.select.where
    assert KEY not in {name for _q, name in (columns_of(where) if where is not None else set())}
    check_superset(spec, case, plan, connector)
