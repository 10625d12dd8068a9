"""Azavista's test spec for the contract kit (``tests/contract``)."""

from __future__ import annotations

from pathlib import Path

from contract.kit import GoldenSpec, SupersetSpec, VendorTestSpec

from vendors.azavista import pushdown

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

SPEC = VendorTestSpec(name="azavista", connection="azavista", golden=GOLDEN)
