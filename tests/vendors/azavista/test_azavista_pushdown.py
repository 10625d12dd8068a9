"""Azavista-only pushdown checks beside the golden contract (``tests/contract/test_contract_pushdown.py``)."""

from __future__ import annotations

import pytest

from contract.pushdown import check_superset, plan_case
from golden import read_cases

from vendors.azavista.pushdown import READINGS, native_keys, records
from vendors.azavista.spec import GOLDEN, SPEC

_, CASES = read_cases(GOLDEN.path)


def test_superset_check_catches_a_wrong_push():
    """The semantic check is not vacuous: a push that is too narrow is caught."""
    case = next(c for c in CASES if c["name"] == "greater or equal on a timestamp is widened by a second")
    plan, connector = plan_case(SPEC, case)
    (scan,) = plan.scans
    where = plan.bound.select.where
    (cond,) = scan.candidates[0].push.conds
    # pushing ">=" as "after <the bound itself>" loses the bound under the exclusive reading
    unwidened = {"and": [{cond.field: {"after": where.right.value.isoformat()}}]}
    exclusive = dict(READINGS[0], **{"azavista.range": "exclusive"})
    rows = records(scan.table, where, 0)
    assert native_keys(scan.table, plan.scans[0].fetch.native, exclusive, rows) != native_keys(
        scan.table, unwidened, exclusive, rows)
    with pytest.raises(AssertionError, match="loses"):
        check_superset(SPEC, case, plan, connector, requests=[unwidened])
