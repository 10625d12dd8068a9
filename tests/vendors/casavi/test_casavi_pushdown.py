"""casavi-only pushdown checks beside the golden contract (``tests/contract/test_contract_pushdown.py``):
the superset check on casavi's flags is not vacuous under the simulator's readings."""

from __future__ import annotations

import pytest

from contract.pushdown import check_superset, plan_case
from golden import read_cases

from vendors.casavi.pushdown import READINGS, native_keys, records
from vendors.casavi.spec import GOLDEN, SPEC

_, CASES = read_cases(GOLDEN.path)


def _case(name: str) -> dict:
    return next(c for c in CASES if c["name"] == name)


def test_a_flag_claimed_exact_is_caught() -> None:
    """``isRegistered=false`` returns more under ``bool_filters=true_only``/``ignored``: claiming it
    exact fails the check; the connector's superset passes."""
    case = _case("isRegistered false is a superset")
    plan, connector = plan_case(SPEC, case)
    (scan,) = plan.scans
    rows = records(scan.table, plan.bound.select.where, 0)
    ignored = dict(READINGS[0], **{"casavi.bool_filters": "ignored"})
    request = list(scan.fetch.native[0])
    honoured = native_keys(scan.table, request, READINGS[0], rows)
    assert len(native_keys(scan.table, request, ignored, rows)) > len(honoured)
    check_superset(SPEC, case, plan, connector)
    with pytest.raises(AssertionError, match="claimed exact"):
        check_superset(SPEC, case, plan, connector, exact=True)


def test_a_flag_pushed_with_the_wrong_value_is_caught() -> None:
    case = _case("isRegistered false is a superset")
    plan, connector = plan_case(SPEC, case)
    wrong = [[("isRegistered", "true"), ("limit", "100")]]
    with pytest.raises(AssertionError, match="loses"):
        check_superset(SPEC, case, plan, connector, requests=wrong)
