"""The casavi Manager API v2 simulator's declaration: routes, data, credentials, token paths, variants.

Light on purpose (no Starlette): the default config reads the credentials before the shell's first
prompt. Every variant below is a reading of something the vendor doc (``casavi-manager-api.txt``)
leaves open; its source names ``vendor-notes.md`` section 4 or an ambiguity number (21-23, 26).
The first value of each is the default and the reading crmql's connector is written for.

>>> [v.key for v in SIMULATOR.variants][:3]
['casavi.page_size_param', 'casavi.page_size_max', 'casavi.oversize']
>>> sorted(SIMULATOR.token_paths)
['/v2/authenticate', '/v2/authenticate/refresh']
"""

from ..core.spec import SimulatorSpec, Variant

__all__ = ["AUTH_PATH", "REFRESH_PATH", "SIMULATOR", "VARIANT_KEYS"]

AUTH_PATH = "/v2/authenticate"
#: CHOSEN (undocumented): the refresh call is listed right after ``/authenticate`` in the doc's
#: authentication section, as its sibling (vendor-notes ambiguity 22)
REFRESH_PATH = "/v2/authenticate/refresh"

_PAGING = "vendor-notes section 4 (v2 page-size parameter, maximum and page base unknown)"
_FILTERS = "vendor-notes section 4 (v2 list filters seen in third-party code, semantics undocumented)"

SIMULATOR = SimulatorSpec(
    name="casavi",
    routes="crmql.sandbox.casavi.simulator:build_routes",
    data="crmql.sandbox.casavi.data:GENERATORS",
    credentials={"key": "sandbox-casavi-key-04523b90", "secret": "sandbox-casavi-secret-ksdasji0"},
    token_paths=frozenset({AUTH_PATH, REFRESH_PATH}),
    variants=(
        Variant("casavi.page_size_param", ("limit", "pageSize", "size"),
                "the query parameter read as the page size (another name is ignored: 25 per page); "
                "'limit' as the sibling casavi Community API documents it", _PAGING),
        Variant("casavi.page_size_max", ("100", "50", "500"),
                "the largest page size served", _PAGING),
        Variant("casavi.oversize", ("clamp", "reject"),
                "a page size above the maximum: served as the maximum, or 400 'limit must be between 1 and <max>'",
                _PAGING),
        Variant("casavi.page_base", ("0", "1"),
                "the number of the first page in 'page' (the next links use it; the first page is asked "
                "without 'page')", _PAGING + "; one client sends page=1,2,... (1-based?)"),
        Variant("casavi.next_link", ("absolute", "path", "href"),
                "_links.next as an absolute URL, a root-relative path, or a HAL object {href: absolute URL}",
                "vendor-notes section 4 (v2 envelope: next page URL in _links.next, form not shown)"),
        Variant("casavi.last_page", ("absent", "null"),
                "on the last page _links.next is absent, or null",
                "vendor-notes section 4 ('absent/null at end')"),
        Variant("casavi.bool_filters", ("honoured", "true_only", "ignored"),
                "contacts' isRegistered/isInvited: both values filter, only =true filters (=false ignored), "
                "or neither is read", _FILTERS),
        Variant("casavi.modified_after", ("exclusive", "inclusive"),
                "modifiedAfter keeps records modified after the value (>), or at or after it (>=)",
                "vendor-notes ambiguity 26 (modifiedAfter exclusivity unspecified)"),
        Variant("casavi.modified_format", ("lenient", "strict"),
                "modifiedAfter takes any ISO-8601 date or date-time (no offset = UTC), or only "
                "YYYY-MM-DDThh:mm:ss.sssZ (else 400)",
                "vendor-notes section 4 (format undocumented); the doc's own date format"),
        Variant("casavi.postal_code", ("string", "number"),
                "a property's postalCode served as a string (read model), or as a JSON number (import example)",
                "vendor-notes ambiguity 23"),
        Variant("casavi.refresh", ("served", "absent"),
                "POST /v2/authenticate/refresh {apiKey, token} renews a token, or the path does not exist (404)",
                "vendor-notes ambiguity 22 (refresh documented without its path)"),
    ),
)

#: every variant key of this simulator
VARIANT_KEYS: tuple[str, ...] = tuple(v.key for v in SIMULATOR.variants)
