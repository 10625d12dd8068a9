"""The Azavista simulator's declaration: routes, data, credentials, token path and variants.

Light on purpose (no Starlette): the default config reads the credentials before the shell's first
prompt. The readings of what the support article leaves open are ``vendor-notes.md`` ambiguity 7
("operators per field type ... to be added in a future version"; ``like`` case and ``after``/``before``
inclusivity unspecified).

>>> [v.key for v in SIMULATOR.variants]
['azavista.like_case', 'azavista.like_mode', 'azavista.eq_case', 'azavista.range']
"""

from ..core.spec import SimulatorSpec, Variant

__all__ = ["SIMULATOR", "TOKEN_PATH"]

TOKEN_PATH = "/3.0/oauth/token"
_OPS = "vendor-notes ambiguity 7 (operators per field type 'to be added')"

SIMULATOR = SimulatorSpec(
    name="azavista",
    routes="crmql.sandbox.azavista.simulator:build_routes",
    data="crmql.sandbox.azavista.data:GENERATORS",
    credentials={
        "client_id": "sandbox-azavista-client",
        "client_secret": "sandbox-azavista-secret",
        "username": "analyst@sandbox.example",
        "password": "sandbox-azavista-password",
    },
    token_paths=frozenset({TOKEN_PATH}),
    variants=(
        Variant("azavista.like_case", ("insensitive", "sensitive"),
                "whether 'like' ignores case", "vendor-notes ambiguity 7 ('like' case sensitivity unspecified)"),
        Variant("azavista.like_mode", ("substring", "regex"),
                "'like' as a plain substring or as a regular expression (re.search)", _OPS),
        Variant("azavista.eq_case", ("sensitive", "insensitive"),
                "whether 'eq' and 'in' on strings ignore case", _OPS),
        Variant("azavista.range", ("exclusive", "inclusive"),
                "whether 'after'/'before' include their bound",
                "vendor-notes ambiguity 7 (after/before inclusivity unspecified)"),
    ),
)
