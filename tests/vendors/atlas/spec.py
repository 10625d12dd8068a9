"""Atlas CRM's test spec for the contract kit (``tests/contract``, see its README): the golden
pushdown cases (tables from the template fixture) and the simulator's filter to check them with,
the differential runs, a typical command line, and a multi-page scan for the fault injection."""

from __future__ import annotations

from typing import Any

from crmql.sandbox import records

from contract.kit import CliSpec, FaultSpec, GoldenSpec, SupersetSpec, VendorTestSpec

from vendors.atlas import pushdown
from vendors.atlas.differential import DIFFERENTIAL


def _companies(n: int) -> list[dict[str, Any]]:
    """The first ``n`` companies by id, as ``--format csv`` prints ``id, "company-name"``."""
    rows = sorted(records("atlas", "companies", 42), key=lambda r: r["id"])[:n]
    return [{"id": r["id"], "company-name": r["fields"]["company-name"]} for r in rows]


def _won_sales() -> set[str]:
    return {r["id"] for r in records("atlas", "sales", 42) if r["fields"].get("sale-status") == "won"}


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

CLI = CliSpec(
    query='SELECT id, "company-name" FROM atlas.companies ORDER BY id LIMIT 5',
    expected_rows=lambda: _companies(5),
    export_query="SELECT id FROM atlas.sales WHERE \"sale-status\" = 'won'",
    expected_export=_won_sales,
    bad_query='SELECT "sale-nme" FROM atlas.sales',
    bad_exit=1,
    bad_message="unknown column 'sale-nme'",
)

FAULTS = FaultSpec(
    scan_query="SELECT id FROM atlas.companies",  # 1,000 entities: 10 pages of 100, by next link
    expected_ids=lambda: {r["id"] for r in records("atlas", "companies", 42)},
    page_path="/entities",
    display="Atlas",
)

SPEC = VendorTestSpec(name="atlas", connection="atlas", golden=GOLDEN, differential=DIFFERENTIAL,
                      cli=CLI, faults=FAULTS)
