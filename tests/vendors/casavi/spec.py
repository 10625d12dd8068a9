"""casavi's test spec for the contract kit (``tests/contract``, see its README): the golden
pushdown cases and the simulator's filter to check them with, the differential runs, a typical
command line, and a multi-page scan for the fault injection.

The vendor's own tests beside the contracts: ``test_casavi_e2e.py`` (the issue's queries, odd ids,
custom fields, the ``crmql`` command and ``crmql sandbox dump``), ``test_casavi_modified.py``
(``modifiedAfter``, ``role``, ``includeInactiveContracts``), ``test_casavi_paging.py`` (every paging
reading), ``test_casavi_auth.py`` (token, refresh, 401, wrong secret), ``test_casavi_differential.py``
(``casavi.contracts``, the catalog, postal codes as numbers), ``test_casavi_pushdown.py`` (the
superset check is not vacuous).
"""

from __future__ import annotations

from typing import Any

from crmql.sandbox import records

from contract.kit import CliSpec, FaultSpec, GoldenSpec, SupersetSpec, VendorTestSpec

from vendors.casavi import pushdown
from vendors.casavi.differential import DIFFERENTIAL


def _properties(n: int) -> list[dict[str, Any]]:
    """The first ``n`` properties by id, as ``--format csv`` prints ``id, name``."""
    rows = sorted(records("casavi", "properties", 42), key=lambda r: r["id"])[:n]
    return [{"id": r["id"], "name": r.get("name") or ""} for r in rows]


GOLDEN = GoldenSpec(
    path=pushdown.HERE / "golden" / "pushdown.txt",
    make_connector=pushdown.make_connector,
    ilike_setting="like_case_sensitive",  # casavi pushes no LIKE at all: no setting allows ILIKE
    min_cases=30,
    tables=frozenset({"contacts", "properties", "units", "contracts", "responsibilities"}),
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
    query="SELECT id, name FROM casavi.properties ORDER BY id LIMIT 5",
    expected_rows=lambda: _properties(5),
    export_query="SELECT id FROM casavi.properties WHERE city = 'Berlin'",
    expected_export=lambda: {r["id"] for r in records("casavi", "properties", 42) if r.get("city") == "Berlin"},
    bad_query="SELECT nme FROM casavi.properties",
    bad_exit=1,
    bad_message="unknown column 'nme'",
)

FAULTS = FaultSpec(
    scan_query="SELECT id FROM casavi.properties",  # about 300 properties: pages of 100, by next link
    expected_ids=lambda: {r["id"] for r in records("casavi", "properties", 42)},
    page_path="/v2/properties",
    display="casavi",
    wasted=3,  # pages requested ahead past the last one (the connector's docstring: 3 at most per scan)
)

SPEC = VendorTestSpec(name="casavi", connection="casavi", golden=GOLDEN, differential=DIFFERENTIAL,
                      cli=CLI, faults=FAULTS)
