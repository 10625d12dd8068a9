"""Atlas CRM's test spec for the contract kit (``tests/contract``)."""

from __future__ import annotations

from crmql.sandbox import records

from contract.kit import CliSpec, FaultSpec, GoldenSpec, SupersetSpec, VendorTestSpec

from vendors.atlas import pushdown
from vendors.atlas.differential import DIFFERENTIAL

GOLDEN = GoldenSpec(
    path=pushdown.HERE / "golden" / "pushdown.txt",
    make_connector=pushdown.make_connector,
    ilike_setting="contains_case_sensitive",
    min_cases=30,
    tables=frozenset({"companies", "contacts", "sales", "links"}),
    paging_detail=True,
    superset=SupersetSpec(
        readings=pushdown.READINGS,
        setting_to_variant=pushdown.SETTING_TO_VARIANT,
        records=pushdown.records,
        native_keys=pushdown.native_keys,
        plan_requests=pushdown.plan_requests,
        candidate_requests=pushdown.candidate_requests,
        special=pushdown.special,
    ),
)

FAULTS = FaultSpec(
    scan_query="SELECT id FROM atlas.companies",
    expected_ids=lambda: {str(r["id"]) for r in records("atlas", "companies", 42)},
    page_path="/entities",
    display="Atlas",
)

CLI = CliSpec(
    query="SELECT id, \"company-name\" FROM atlas.companies ORDER BY id LIMIT 5",
    expected_rows=lambda: [{"id": r["id"], "company-name": r["fields"]["company-name"]} for r in sorted(records("atlas", "companies", 42), key=lambda r: r["id"])[:5]],
    export_query="SELECT id FROM atlas.sales WHERE \"sale-status\" = 'won'",
    expected_export=lambda: {r["id"] for r in records("atlas", "sales", 42) if r["fields"].get("sale-status") == "won"},
    bad_query="SELECT \"sale-nme\" FROM atlas.sales",
    bad_exit=1,
    bad_message="unknown column 'sale-nme'",
)

SPEC = VendorTestSpec(name="atlas", connection="atlas", golden=GOLDEN, differential=DIFFERENTIAL,
                      cli=CLI, faults=FAULTS)
