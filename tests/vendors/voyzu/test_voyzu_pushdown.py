"""Voyzu pushdown checks beside the golden contract (``tests/contract/test_contract_pushdown.py``):
the superset check is not vacuous. The boundary records hold the literal in other cases and inside
longer words, so a search claimed exact is caught, a text sent in another case loses rows under
``search_match=case_sensitive``, a text pushed for ``LIKE '%mid%'`` loses rows under
``word_prefix``, and a search for an email loses rows under ``search_fields=names_emails`` when it
is sent as a phone number's text would be (a field the reading does not search).
"""

from __future__ import annotations

from typing import Any

import pytest

from crmql.plan.connector import NativeRequest

from contract.pushdown import check_superset, plan_case
from golden import read_cases

from vendors.voyzu.pushdown import READINGS, native_keys, records
from vendors.voyzu.spec import GOLDEN, SPEC

_, CASES = read_cases(GOLDEN.path)
SEARCH = "/api/contacts/search"


def _case(name: str) -> dict[str, Any]:
    return next(c for c in CASES if c["name"] == name)


def _search(text: str) -> NativeRequest:
    return NativeRequest("POST", SEARCH, body={"SearchText": text, "Start": 0, "Length": 1000})


def test_a_search_claimed_exact_is_caught() -> None:
    case = _case("first_name = is one search text (a superset, re-checked)")
    plan, connector = plan_case(SPEC, case)
    (scan,) = plan.scans
    assert scan.fetch.requests[0].body["SearchText"] == "Anna" and not scan.exact
    check_superset(SPEC, case, plan, connector)
    with pytest.raises(AssertionError, match="claimed exact"):
        check_superset(SPEC, case, plan, connector, exact=True)


def test_a_text_in_another_case_is_caught_under_case_sensitive() -> None:
    case = _case("first_name = is one search text (a superset, re-checked)")
    plan, connector = plan_case(SPEC, case)
    (scan,) = plan.scans
    rows = records(scan.table, plan.bound.select.where, 0)
    sensitive = next(r for r in READINGS if r["voyzu.search_match"] == "case_sensitive")
    assert native_keys(scan.table, _search("Anna"), sensitive, rows) - native_keys(scan.table, _search("anna"),
                                                                                    sensitive, rows)
    with pytest.raises(AssertionError, match="loses"):
        check_superset(SPEC, case, plan, connector, requests=[_search("anna")])


def test_an_infix_sent_as_text_is_caught_under_word_prefix() -> None:
    case = _case("LIKE infix is never pushed")
    plan, connector = plan_case(SPEC, case)
    (scan,) = plan.scans
    assert not scan.pushed  # the connector keeps it local
    check_superset(SPEC, case, plan, connector)
    with pytest.raises(AssertionError, match="loses"):
        check_superset(SPEC, case, plan, connector, requests=[_search("mid")])


def test_a_column_outside_names_and_emails_is_caught() -> None:
    case = _case("a column the search does not cover stays local")
    plan, connector = plan_case(SPEC, case)
    check_superset(SPEC, case, plan, connector)
    with pytest.raises(AssertionError, match="loses"):
        check_superset(SPEC, case, plan, connector, requests=[_search("CEO")])
