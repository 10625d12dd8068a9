"""Azavista's test spec for the contract kit (``tests/contract``)."""

from __future__ import annotations

from pathlib import Path

from crmql.sandbox import records

from contract.kit import CliSpec, FaultSpec, GoldenSpec, SupersetSpec, VendorTestSpec

from vendors.azavista import pushdown
from vendors.azavista.differential import DIFFERENTIAL

HERE = Path(__file__).resolve().parent

GOLDEN = GoldenSpec(
    path=HERE / "golden" / "pushdown.txt",
    make_connector=pushdown.make_connector,
    ilike_setting="like_case_sensitive",
    min_cases=40,
    tables=frozenset({"events", "contacts", "organizations"}),
    superset=SupersetSpec(
        readings=pushdown.READINGS,
        setting_to_variant=pushdown.SETTING_TO_VARIANT,
        records=pushdown.records,
        native_keys=pushdown.native_keys,
        plan_requests=pushdown.plan_requests,
        candidate_requests=pushdown.candidate_requests,
    ),
)

FAULTS = FaultSpec(
    scan_query="SELECT id FROM azavista.organizations",
    expected_ids=lambda: {str(r["id"]) for r in records("azavista", "organizations", 42)},
    page_path="/organization/search",
    display="Azavista",
)

CLI = CliSpec(
    query="SELECT id, name FROM azavista.organizations ORDER BY id LIMIT 5",
    expected_rows=lambda: [{"id": r["id"], "name": r["name"]} for r in sorted(records("azavista", "organizations", 42), key=lambda r: r["id"])[:5]],
    export_query="SELECT id, name FROM azavista.events WHERE event_type = 'sales'",
    expected_export=lambda: {r["id"] for r in records("azavista", "events", 42) if r.get("event_type") == "sales"},
    bad_query="SELECT nme FROM azavista.events",
    bad_exit=1,
    bad_message="unknown column 'nme'",
)

SPEC = VendorTestSpec(name="azavista", connection="azavista", golden=GOLDEN, differential=DIFFERENTIAL,
                      cli=CLI, faults=FAULTS)
