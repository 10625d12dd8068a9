"""The Atlas CRM simulator's declaration: routes, data, credentials, token path and variants.

Light on purpose (no Starlette): the default config reads the credentials before the shell's first
prompt. Each variant names the ``vendor-notes.md`` ambiguity (or the vendor doc) it reads.

>>> SIMULATOR.variant_values()["atlas.page_param"]
('limit', 'ignored')
"""

from ..core.spec import SimulatorSpec, Variant

__all__ = ["SIMULATOR", "TOKEN_PATH"]

TOKEN_PATH = "/api/1.0/oauth/token"

SIMULATOR = SimulatorSpec(
    name="atlas",
    routes="crmql.sandbox.atlas.simulator:build_routes",
    data="crmql.sandbox.atlas.data:GENERATORS",
    credentials={"client_id": "sandbox-atlas-client", "client_secret": "sandbox-atlas-secret"},
    token_paths=frozenset({TOKEN_PATH}),
    variants=(
        Variant("atlas.eq_case", ("sensitive", "insensitive"),
                "whether eq on string, user and single-select fields ignores case",
                "vendor-notes ambiguity 13 (case sensitivity unspecified)"),
        Variant("atlas.contains_case", ("insensitive", "sensitive"),
                "whether contains ignores case", "vendor-notes ambiguity 13 (case sensitivity unspecified)"),
        Variant("atlas.multi_contains", ("label", "substring"),
                "multi-select contains: the list holds exactly that label, or a label contains the value",
                "atlas-crm.txt: multi-select takes contains with one option label"),
        Variant("atlas.page_param", ("limit", "ignored"),
                "whether the 'limit' page size is read (ignored: pages are always 20 items)",
                "vendor-notes ambiguity 9 (Cloud page-size parameter not named)"),
        Variant("atlas.sort_nulls", ("last", "first"),
                "where sort-by puts entities lacking the sort field",
                "vendor-notes ambiguity 13 (no sort direction, nulls unspecified)"),
        Variant("atlas.list_fields", ("included", "omitted"),
                "whether list items carry 'fields' (omitted: only id, type and _links, as the doc's example)",
                "vendor-notes ambiguity 12 (list example omits the required fields)"),
    ),
)
