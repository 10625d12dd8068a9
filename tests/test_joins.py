"""Semi-join pushdown (crmql.plan.joins): one side of an equi-join is narrowed with the other's key values.

Every test compares the result with the same join done by pandas over full, unfiltered reads,
and checks that narrowing really saved requests where it should.
"""

from __future__ import annotations

from collections.abc import Callable

import pandas as pd
import pytest

from crmql import QueryError, Session
from crmql.plan.joins import CHUNK, MAX_VALUES
from crmql.sandbox import SandboxServer, records


def _requests(server: SandboxServer, fragment: str) -> int:
    return sum(1 for _, path, _ in server.request_log if fragment in path)


def _pairs(frame: pd.DataFrame, *cols: str) -> list[tuple]:
    return sorted(tuple(None if pd.isna(v) else v for v in row) for row in frame[list(cols)].itertuples(index=False))


CONTACTS = pd.DataFrame(records("azavista", "contacts"))
ORGS = pd.DataFrame(records("azavista", "organizations"))


def test_inner_join_narrows_the_unfiltered_side(sandbox: SandboxServer, make_session: Callable[..., Session]) -> None:
    session = make_session()
    result = session.execute("SELECT c.id AS cid, o.name FROM azavista.contacts c JOIN azavista.organizations o "
                             "ON c.organization_id = o.id WHERE o.country = 'NL'")
    expected = CONTACTS.merge(ORGS[ORGS.country == "NL"], left_on="organization_id", right_on="id",
                              suffixes=("_c", "_o"))
    assert _pairs(result.frame, "cid", "name") == _pairs(expected, "id_c", "name")
    nl = int((ORGS.country == "NL").sum())
    assert 0 < nl <= MAX_VALUES
    # contacts were read by organization_id IN (...) chunks, not in full (200 pages)
    contact_pages = _requests(sandbox, "/contact/search")
    assert contact_pages < 200 / 2, contact_pages
    assert contact_pages >= -(-nl // CHUNK)


def test_left_join_never_narrows_its_preserved_side(sandbox: SandboxServer, make_session: Callable[..., Session]) -> None:
    session = make_session()
    frame = session.query("SELECT o.id AS oid, c.id AS cid FROM azavista.organizations o "
                          "LEFT JOIN azavista.contacts c ON c.organization_id = o.id WHERE o.city = 'Amsterdam'")
    left = ORGS[ORGS.city == "Amsterdam"]
    expected = left.merge(CONTACTS, how="left", left_on="id", right_on="organization_id", suffixes=("_o", "_c"))
    assert _pairs(frame, "oid", "cid") == _pairs(expected, "id_o", "id_c")
    # organizations without contacts are kept (NULL cid) when there are any
    assert frame["oid"].nunique() == len(left)


def test_explain_shows_the_narrowing(make_session: Callable[..., Session]) -> None:
    text = make_session().explain("SELECT c.first_name FROM azavista.contacts c JOIN azavista.organizations o "
                                  "ON c.organization_id = o.id WHERE o.country = 'NL'")
    assert "narrowed at run time: c.organization_id IN (the id values of o, fetched first)" in text


def test_no_key_values_means_no_request_for_the_other_side(sandbox: SandboxServer,
                                                           make_session: Callable[..., Session]) -> None:
    session = make_session()
    frame = session.query("SELECT c.id FROM azavista.contacts c JOIN azavista.organizations o "
                          "ON c.organization_id = o.id WHERE o.name = 'no such organization'")
    assert frame.empty
    assert _requests(sandbox, "/contact/search") == 0


def test_too_many_key_values_falls_back_to_the_planned_scan(sandbox: SandboxServer,
                                                            make_session: Callable[..., Session]) -> None:
    session = make_session()
    result = session.execute("EXPLAIN ANALYZE SELECT c.id FROM azavista.organizations o JOIN azavista.contacts c "
                             "ON c.organization_id = o.id WHERE c.organization_manager = true")
    # ~1,000 managers give more than MAX_VALUES organization ids? either way the answer is right
    frame = session.query("SELECT c.id FROM azavista.organizations o JOIN azavista.contacts c "
                          "ON c.organization_id = o.id WHERE c.organization_manager = true")
    managers = CONTACTS[(CONTACTS.organization_manager == True) & CONTACTS.organization_id.notna()]  # noqa: E712
    assert sorted(frame["id"]) == sorted(managers["id"])
    assert "narrowed" in result.text or "not narrowed" in result.text


def test_atlas_links_take_their_required_entity_ids_from_a_join(make_session: Callable[..., Session]) -> None:
    session = make_session()
    frame = session.query("SELECT co.id, l.other_entity_id, l.other_type FROM atlas.companies co "
                          "JOIN atlas.links l ON l.entity_id = co.id WHERE co.\"company-name\" LIKE 'ACME%'")
    companies = {e["id"] for e in records("atlas", "companies") if e["fields"].get("company-name", "").startswith("ACME")}
    links = [(link["entity_id"], link["other_entity_id"], link["other_type"]) for link in records("atlas", "links")
             if link["entity_id"] in companies]
    assert sorted(map(tuple, frame.itertuples(index=False))) == sorted(links)


def test_atlas_links_without_any_entity_filter_still_fail_clearly(make_session: Callable[..., Session]) -> None:
    with pytest.raises(QueryError, match="atlas.links needs a filter on entity_id"):
        make_session().query("SELECT * FROM atlas.links l JOIN atlas.companies co ON l.other_type = co.type")


def test_reads_by_id_narrow_a_join_only_up_to_one_chunk(sandbox: SandboxServer,
                                                         make_session: Callable[..., Session]) -> None:
    """Narrowing through reads by id costs one request per key value: up to one chunk of values it
    is used (a few GETs instead of a scan), beyond that the planned scan runs (a 300-row casavi
    property list is 3 pages; 290 reads by id would be 290 requests)."""
    contacts = records("casavi", "contacts")
    properties = {p["id"]: p.get("name") for p in records("casavi", "properties")}
    one = contacts[0]["id"]
    session = make_session()
    sandbox.reset_log()
    few = session.query("SELECT c.contactId, p.name FROM casavi.contracts c JOIN casavi.properties p "
                        f"ON p.id = c.propertyId WHERE c.contactId = '{one}'")
    wanted = sorted((one, properties[k["propertyId"]]) for k in contacts[0].get("contracts") or [])
    assert sorted(zip(few["contactId"], few["name"])) == wanted
    by_id = [p for _, p, _ in sandbox.request_log if "/v2/properties/" in p]
    assert 0 < len(by_id) <= CHUNK and _requests(sandbox, "/v2/properties?") == 0
    sandbox.reset_log()
    frame = session.query("SELECT c.contactId, p.name FROM casavi.contracts c JOIN casavi.properties p "
                          "ON p.id = c.propertyId")
    pairs = sorted((c["id"], properties[k["propertyId"]]) for c in contacts for k in c.get("contracts") or [])
    assert sorted(zip(frame["contactId"], frame["name"])) == pairs
    assert len({k["propertyId"] for c in contacts for k in c.get("contracts") or []}) > CHUNK
    assert not [p for _, p, _ in sandbox.request_log if "/v2/properties/" in p]  # scanned, not read by id
    assert 0 < _requests(sandbox, "/v2/properties") <= 5
