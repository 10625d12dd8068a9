"""Atlas CRM's test spec for the contract kit (``tests/contract``)."""

from __future__ import annotations

from contract.kit import GoldenSpec, SupersetSpec, VendorTestSpec

from vendors.atlas import pushdown

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

SPEC = VendorTestSpec(name="atlas", connection="atlas", golden=GOLDEN)
