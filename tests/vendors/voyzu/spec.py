"""Voyzu CRM's test spec for the contract kit (``tests/contract``, see its README): the golden
pushdown cases and the simulator's search code to check them with (every search reading), the
differential runs (the default and the two most dangerous search readings), a typical command
line, and a multi-page scan for the fault injection (a session refused mid-scan logs in again:
the fault settings carry ``login_values``).

The vendor's own tests beside the contracts:

* ``test_voyzu_e2e.py``: the issue's two commands through ``crmql -e``, a 540 through the command
  (its ErrorMessage only in ``--debug``), DESCRIBE and EXPLAIN wording, COUNT(*) in one request,
  concurrent pages;
* ``test_voyzu_async.py``: the gateway limit sends a scan async (same rows), progress in QueryStats,
  the three status paths, the result link without credentials, a failed job, the deadline;
* ``test_voyzu_interrupt.py``: Ctrl-C in the shell (pty) and a kernel interrupt cancel a job's poll;
* ``test_voyzu_class.py``: the class-shape check (each paging reading, the front-end class names,
  a class that fits no reading, a search refused with 400, a short page continued, login_values
  against AuthInput);
* ``test_voyzu_errors.py``: 402, 540/541 retried, retried out, 404, 401 with and without a login,
  the session in the query string;
* ``test_voyzu_pushdown.py``: the superset check is not vacuous (a wrong push is caught).
"""

from __future__ import annotations

from crmql.sandbox import records

from contract.kit import CliSpec, FaultSpec, GoldenSpec, SupersetSpec, VendorTestSpec

from vendors.voyzu import pushdown
from vendors.voyzu.differential import DIFFERENTIAL

V = "voyzu"
#: a last name of 98 contacts (a search text with a space: pushed)
SURNAME = "Te Aho"
LOGIN = {"Email": "sandbox@voyzu.example", "Password": "sandbox-voyzu-password"}


def _surname_rows() -> list[dict[str, str]]:
    rows = sorted((r for r in records(V, "contacts", 42) if r.get("LastName") == SURNAME), key=lambda r: r["Id"])
    return [{"id": r["Id"], "display_name": r["DisplayName"]} for r in rows]


def _vip_organizations() -> set[str]:
    return {r["Id"] for r in records(V, "contacts", 42)
            if r["RecordType"] == "ORGANIZATION" and "#vip" in (r.get("Labels") or [])}


def _surname_ids() -> set[str]:
    return {r["id"] for r in _surname_rows()}


GOLDEN = GoldenSpec(
    path=pushdown.HERE / "golden" / "pushdown.txt",
    make_connector=pushdown.make_connector,
    ilike_setting="like_case_sensitive",  # Voyzu pushes no LIKE as such: no setting allows ILIKE
    min_cases=40,
    tables=frozenset({"contacts", "contact_emails", "contact_phones", "contact_addresses", "contact_labels",
                      "contact_types", "contact_custom_fields", "spreadsheets"}),
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
    query=f"SELECT id, display_name FROM {V}.contacts WHERE last_name = '{SURNAME}' ORDER BY id",
    expected_rows=_surname_rows,
    export_query=f"SELECT id FROM {V}.contacts WHERE record_type = 'ORGANIZATION' AND list_contains(labels, '#vip')",
    expected_export=_vip_organizations,
    bad_query=f"SELECT nme FROM {V}.contacts",
    bad_exit=1,
    bad_message="unknown column 'nme'",
)

FAULTS = FaultSpec(
    scan_query=f"SELECT id FROM {V}.contacts WHERE last_name = '{SURNAME}'",
    expected_ids=_surname_ids,
    page_path="/api/contacts/search",
    display="Voyzu CRM",
    settings={"page_size": 25, "login_values": LOGIN},
    wasted=0,  # the first page's RecordsFiltered says how many there are
)

SPEC = VendorTestSpec(name=V, connection=V, golden=GOLDEN, differential=DIFFERENTIAL, cli=CLI, faults=FAULTS)

__all__ = ["SPEC", "SURNAME", "V"]
