"""casavi Community's test spec for the contract kit (``tests/contract``, see its README): the golden
pushdown cases and the simulator's filter code to check them with, the differential runs (every
``casavi_community.*`` reading), a typical command line, and a multi-page scan for the fault injection.

The vendor's own tests beside the contracts:

* ``test_casavi_community_e2e.py``: the issue's three commands through ``crmql -e`` and the Python
  API, the required-filter error before any request, ``crmql sandbox dump``, joins, COUNT(*) from
  the vendor's counts;
* ``test_casavi_community_fanout.py``: 20 communities within the connection's cap, one failing, a
  missing one, a join giving more than 50;
* ``test_casavi_community_paging.py``: page index under both page bases and both maxima, LIMIT;
* ``test_casavi_community_notifications.py``: every order and range reading, the truncation warning;
* ``test_casavi_community_auth.py``: discovery, refresh, expiry, rotation, a wrong refresh token;
* ``test_casavi_community_tables.py``: ticket details and comments by id, FAQ, unread counts;
* ``test_casavi_community_pushdown.py``: the superset check is not vacuous.
"""

from __future__ import annotations

from crmql.sandbox import records

from contract.kit import CliSpec, FaultSpec, GoldenSpec, SupersetSpec, VendorTestSpec

from vendors.casavi_community import pushdown
from vendors.casavi_community.differential import DIFFERENTIAL

V = "casavi_community"
#: a community with more than 200 activities (207: three pages of 100; checked by test_casavi_community_paging)
FAULT_COMMUNITY = 24


def _open_tickets(community: int) -> list[dict[str, str]]:
    """The OPEN tickets of a community by id, as ``--format csv`` prints ``id, title, status``."""
    rows = sorted((r for r in records(V, "tickets", 42) if r["community_id"] == community and r["status"] == "OPEN"),
                  key=lambda r: r["id"])
    return [{"id": str(r["id"]), "title": r["title"], "status": r["status"]} for r in rows]


def _unread(communities: tuple[int, ...]) -> set[str]:
    return {str(r["id"]) for r in records(V, "notifications", 42)
            if r["community_id"] in communities and r["read"] is False}


def _activities(community: int) -> set[str]:
    return {str(r["id"]) for r in records(V, "activities", 42) if r["community_id"] == community}


GOLDEN = GoldenSpec(
    path=pushdown.HERE / "golden" / "pushdown.txt",
    make_connector=pushdown.make_connector,
    ilike_setting="like_case_sensitive",  # casavi Community pushes no LIKE: no setting allows ILIKE
    min_cases=30,
    tables=frozenset({"tickets", "ticket_details", "ticket_comments", "appointments", "posts", "important_contacts",
                      "faq_articles", "notifications", "activities", "units", "unread_counts"}),
    superset=SupersetSpec(
        readings=pushdown.READINGS,
        setting_to_variant={},
        records=pushdown.records,
        native_keys=pushdown.native_keys,
        plan_requests=pushdown.plan_requests,
        candidate_requests=pushdown.candidate_requests,
        special=pushdown.special,
    ),
)

CLI = CliSpec(
    query=f"SELECT id, title, status FROM {V}.tickets WHERE community_id = 12 AND status = 'OPEN' ORDER BY id",
    expected_rows=lambda: _open_tickets(12),
    export_query=f"SELECT id FROM {V}.notifications WHERE community_id IN (12, 15) AND unread = TRUE",
    expected_export=lambda: _unread((12, 15)),
    bad_query=f"SELECT * FROM {V}.notifications WHERE unread = TRUE",
    bad_exit=1,
    bad_message=f"{V}.notifications needs a filter on community_id (= or IN)",
)

FAULTS = FaultSpec(
    scan_query=f"SELECT id FROM {V}.activities WHERE community_id = {FAULT_COMMUNITY}",
    expected_ids=lambda: _activities(FAULT_COMMUNITY),
    page_path="/activities",
    display="casavi Community",
    wasted=0,  # page index: the first page's pageCount says how many there are; none is asked past it
)

SPEC = VendorTestSpec(name=V, connection=V, golden=GOLDEN, differential=DIFFERENTIAL, cli=CLI, faults=FAULTS)

__all__ = ["FAULT_COMMUNITY", "SPEC", "V"]
