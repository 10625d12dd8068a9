"""casavi Community pushdown checks beside the golden contract (``tests/contract/test_contract_pushdown.py``):
the superset check is not vacuous. The boundary records sit on the bounds, so ``after`` sent
without the 1 ms widening loses the record on the bound under the exclusive reading, a range
claimed exact is caught under one of the two readings, and a request for the wrong community, or
``unreadOnly=true`` for ``unread = FALSE``, loses rows.
"""

from __future__ import annotations

from typing import Any

import pytest

from crmql.plan.connector import NativeRequest

from contract.pushdown import check_superset, plan_case
from golden import read_cases

from vendors.casavi_community.pushdown import READINGS, native_keys, records
from vendors.casavi_community.spec import GOLDEN, SPEC

_, CASES = read_cases(GOLDEN.path)
NOTIFY = "/api/v1/communities/12/notifications"


def _case(name: str) -> dict[str, Any]:
    return next(c for c in CASES if c["name"] == name)


def test_after_without_widening_is_caught() -> None:
    """``created_at >= T`` sent as ``after=T`` (not ``T - 1 ms``) loses the records at ``T`` under
    the exclusive reading; the connector's widened request keeps them under both."""
    case = _case("notifications created_at >= is widened by a millisecond")
    plan, connector = plan_case(SPEC, case)
    (scan,) = plan.scans
    rows = records(scan.table, plan.bound.select.where, 0)
    sent = scan.fetch.requests[0]
    assert dict(sent.params)["after"] == "2026-11-01T08:29:59.999Z"
    exclusive, inclusive = READINGS
    unwidened = NativeRequest("GET", NOTIFY, {"after": "2026-11-01T08:30:00.000Z"})
    assert len(native_keys(scan.table, unwidened, inclusive, rows)) > len(native_keys(scan.table, unwidened,
                                                                                          exclusive, rows))
    check_superset(SPEC, case, plan, connector)
    with pytest.raises(AssertionError, match="loses"):
        check_superset(SPEC, case, plan, connector, requests=[unwidened])
    with pytest.raises(AssertionError, match="claimed exact"):
        check_superset(SPEC, case, plan, connector, exact=True)


def test_the_wrong_community_or_unread_flag_is_caught() -> None:
    case = _case("notifications unread = FALSE stays local")
    plan, connector = plan_case(SPEC, case)
    check_superset(SPEC, case, plan, connector)
    with pytest.raises(AssertionError, match="loses"):
        check_superset(SPEC, case, plan, connector, requests=[NativeRequest("GET", NOTIFY, {"unreadOnly": "true"})])
    with pytest.raises(AssertionError, match="loses"):
        check_superset(SPEC, case, plan, connector,
                       requests=[NativeRequest("GET", "/api/v1/communities/13/notifications", {})])
