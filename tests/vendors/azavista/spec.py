"""Azavista's test spec for the contract kit (``tests/contract``, see its README): the golden
pushdown cases and the simulator's filter to check them with, the differential runs, a typical
command line, and a multi-page scan for the fault injection."""

from __future__ import annotations

from typing import Any

from crmql.sandbox import records

from contract.kit import CliSpec, FaultSpec, GoldenSpec, SupersetSpec, VendorTestSpec

from vendors.azavista import pushdown
from vendors.azavista.differential import DIFFERENTIAL


def _organizations(n: int) -> list[dict[str, Any]]:
    """The first ``n`` organizations by id, as ``--format csv`` prints ``id, name``."""
    rows = sorted(records("azavista", "organizations", 42), key=lambda r: r["id"])[:n]
    return [{"id": r["id"], "name": r["name"]} for r in rows]


GOLDEN = GoldenSpec(
    path=pushdown.HERE / "golden" / "pushdown.txt",
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

CLI = CliSpec(
    query="SELECT id, name FROM azavista.organizations ORDER BY id LIMIT 5",
    expected_rows=lambda: _organizations(5),
    export_query="SELECT id, name FROM azavista.events WHERE event_type = 'sales'",
    expected_export=lambda: {r["id"] for r in records("azavista", "events", 42) if r.get("event_type") == "sales"},
    bad_query="SELECT nme FROM azavista.events",
    bad_exit=1,
    bad_message="unknown column 'nme'",
)

FAULTS = FaultSpec(
    scan_query="SELECT id FROM azavista.organizations",  # 500 rows: 10 pages of 50
    expected_ids=lambda: {r["id"] for r in records("azavista", "organizations", 42)},
    page_path="/organization/search",
    display="Azavista",
)

SPEC = VendorTestSpec(name="azavista", connection="azavista", golden=GOLDEN, differential=DIFFERENTIAL,
                      cli=CLI, faults=FAULTS)
