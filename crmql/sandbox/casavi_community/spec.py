"""The casavi Community API simulator's declaration: routes, data, credentials, token path, variants.

Light on purpose (no Starlette): the default config reads the credentials before the shell's first
prompt. Every variant below is a reading of something the vendor doc
(``casavi-community-api.txt``, a ReDoc rendering with the URL paths stripped) leaves open; its
source names ``vendor-notes.md`` section 4 (Community API), an ambiguity number (24-26) or the
doc's own text. The first value of each is the default and the reading crmql's connector is
written for (the issue #12 contract).

>>> [v.key for v in SIMULATOR.variants][:2]
['casavi_community.page_base', 'casavi_community.ticket_list']
>>> sorted(SIMULATOR.token_paths)
['/oidc/token']
"""

from ..core.spec import SimulatorSpec, Variant

__all__ = ["CLIENT_ID", "REFRESH_TOKEN", "SIMULATOR", "TOKEN_PATH", "VARIANT_KEYS"]

#: CHOSEN (undocumented): the token endpoint the discovery document names, issuer + ``/oidc/token``
TOKEN_PATH = "/oidc/token"
CLIENT_ID = "crmql-sandbox"
REFRESH_TOKEN = "sandbox-casavi-community-refresh-7f3k29qd"

_PAGES = "vendor-notes section 4 and ambiguity 25 (page index 'starts at 0' per the doc; page size maximum unknown)"
_NOTIFY = "vendor-notes section 4 and ambiguity 25 (notifications: {pageSize, count, rowsOnPage, rows}, no page parameter)"

SIMULATOR = SimulatorSpec(
    name="casavi_community",
    routes="crmql.sandbox.casavi_community.simulator:build_routes",
    data="crmql.sandbox.casavi_community.data:GENERATORS",
    credentials={"client_id": CLIENT_ID, "refresh_token": REFRESH_TOKEN},
    token_paths=frozenset({TOKEN_PATH}),
    variants=(
        Variant("casavi_community.page_base", ("0", "1"),
                "appointments, posts, activities: the first page is page 0 (as the doc says), or page 1 "
                "(page=0 is then answered as page 1 and the envelope says page: 1)",
                _PAGES + "; the doc's 'starts at 0' against the Manager v2 clients' page=1,2,..."),
        Variant("casavi_community.ticket_list", ("summary", "full"),
                "GET /api/v1/tickets items: the summary (no description, comments, attachments, custom "
                "fields, rating), or the full detail as GET /api/v1/tickets/{ticket_id} serves it",
                "casavi-community-api.txt (the list's response sample is an empty object; only the "
                "by-id answer shows the fields); vendor-notes section 4"),
        Variant("casavi_community.notifications_order", ("newest_first", "oldest_first", "unsorted", "all"),
                "notifications: the newest 50 matching (createdAt descending), the oldest 50 (ascending), "
                "50 in no order, or every matching row in one answer (pageSize = count)", _NOTIFY),
        Variant("casavi_community.notifications_range", ("exclusive", "inclusive"),
                "after/before keep createdAt > after and < before, or >= and <=",
                "vendor-notes ambiguity 26 ('created after/before this timestamp': inclusivity unspecified)"),
        Variant("casavi_community.refresh_rotation", ("stable", "rotate"),
                "a refresh_token grant answers no new refresh token (the one used stays valid), or a new "
                "one each time and the one used is spent (400 invalid_grant on reuse)",
                "vendor-notes section 4 (OpenID Connect via discovery; the provider's refresh policy is "
                "not documented)"),
        Variant("casavi_community.page_size_max", ("100", "50"),
                "the largest 'limit' served (a larger one is served as the maximum)",
                _PAGES + "; casavi-community-api.txt ('Limit the number of results returned', no maximum)"),
    ),
)

#: every variant key of this simulator
VARIANT_KEYS: tuple[str, ...] = tuple(v.key for v in SIMULATOR.variants)
