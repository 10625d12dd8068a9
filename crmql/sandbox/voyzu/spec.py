"""The Voyzu CRM simulator's declaration: routes, data, credentials, token path, variants.

Light on purpose (no Starlette): the default config reads the credentials before the shell's first
prompt. Every variant is a reading of something the Voyzu docs (``vendor-docs/voyzu-crm.md`` and
``vendor-specs/voyzu/*.md``) leave open; its source names ``vendor-notes.md`` section 3, an
ambiguity number (16-20) or the doc's own text. The first value of each is the default and the
reading crmql's connector is written for (the issue #13 contract).

>>> [v.key for v in SIMULATOR.variants][:2]
['voyzu.paging', 'voyzu.class_names']
>>> sorted(SIMULATOR.token_paths)
['/api/auth']
"""

from ..core.spec import SimulatorSpec, Variant

__all__ = ["AUTH_PATH", "LOGIN", "SESSION_COOKIE", "SESSION_ID", "SIMULATOR", "VARIANT_KEYS"]

#: the login (documented: ``POST /api/auth``, AuthInput -> Auth with a 'SessionId')
AUTH_PATH = "/api/auth"
#: the configured session (``crmql sandbox config`` writes it as ``session_id``)
SESSION_ID = "sandbox-voyzu-session-5c8e1d7a"
#: CHOSEN: the cookie is named as the dev server's documented query parameter
SESSION_COOKIE = "voyzu-session-id"
#: the AuthInput the sandbox accepts (its input class is undocumented: this is the sandbox's own)
LOGIN = {"Email": "sandbox@voyzu.example", "Password": "sandbox-voyzu-password"}

_SEARCH = "vendor-notes section 3 'Search' and ambiguity 19 (no filter/pagination contract; ContactsSearchInput is undocumented)"
_ASYNC = "front-end-development.md 'Asynchronous requests (polling)'; vendor-notes ambiguity 16"

SIMULATOR = SimulatorSpec(
    name="voyzu",
    routes="crmql.sandbox.voyzu.simulator:build_routes",
    root_routes="crmql.sandbox.voyzu.simulator:build_root_routes",
    data="crmql.sandbox.voyzu.data:GENERATORS",
    credentials={"session_id": SESSION_ID},
    token_paths=frozenset({AUTH_PATH}),
    variants=(
        Variant("voyzu.paging", ("datatable", "page", "none"),
                "the search's paging: {Start, Length} -> {Data, RecordsTotal, RecordsFiltered} (the mdb "
                "datatable the contacts page uses), {Page, PageSize} -> {Data, TotalCount, Page, PageSize}, "
                "or no paging (every matching row in one answer)", _SEARCH + "; front-end-development.md "
                "('datatable-search-bar', 'mdb-datatable-wrapper', output class 'ContactsDatatable?')"),
        Variant("voyzu.class_names", ("api_doc", "front_end"),
                "/api/contacts/class names the search classes ContactsSearchInput + ContactsDatatable (the API "
                "doc's table) or ContactsSearch + ContactsSearchResult (the front-end doc's text)",
                "vendor-notes ambiguity 17 (api-documentation.md against front-end-development.md)"),
        Variant("voyzu.search_fields", ("most", "names_emails"),
                "SearchText matches most fields (names, organization, job title, emails, phones, notes, labels, "
                "contact types, custom field values, import id, city) or only names, organization and emails",
                _SEARCH + "; the user docs' search box 'searches most fields'"),
        Variant("voyzu.search_match", ("substring_ci", "word_prefix", "case_sensitive"),
                "SearchText is a case-insensitive substring of a field, every word of it starts a word of the "
                "contact, or a case-sensitive substring", _SEARCH),
        Variant("voyzu.poll_path", ("request-status", "api-request", "request"),
                "the async status path: /api/request-status/get/{id} (front-end doc, with code), "
                "/api/request/get/{id} (the API doc read with /api) or /request/get/{id} (the API doc literally)",
                _ASYNC + " and 18 (/api prefix)"),
        Variant("voyzu.async_result", ("inline", "link"),
                "a PROCESSED RequestStatus carries the output as Result, or a presigned-style ResultUrl on "
                "another path that takes no credentials", _ASYNC + " (how the result is fetched is undocumented)"),
        Variant("voyzu.failure_status", ("FAILED", "ERROR"),
                "the ProcessStatus of a failed async request", _ASYNC + " (RequestPoller's onFail; only "
                "PROCESSED is shown)"),
        Variant("voyzu.gateway", ("default", "strict"),
                "a sync search or list answering more rows than the gateway limit (the simulator's gateway_rows, "
                "2500) answers 504; strict: more than 500",
                "front-end-development.md ('30 seconds (the AWS API Gateway limit)'); vendor-notes section 3"),
        Variant("voyzu.max_length", ("1000", "100"),
                "the largest page (Length / PageSize) served; a larger one is served as the maximum", _SEARCH),
        Variant("voyzu.spreadsheets", ("array", "object"),
                "POST /api/spreadsheets/list answers a plain array of Spreadsheet, or {Spreadsheets: [...]}",
                "api-documentation.md (the list's output class column is blank); vendor-notes section 3"),
        Variant("voyzu.subscription", ("paid", "free"),
                "the sandbox customer's plan: free answers 402 on /api/spreadsheets/list",
                "api-documentation.md ('402 Payment Required ... requires a paid voyzu subscription')"),
        Variant("voyzu.session_in", ("both", "cookie_only"),
                "the session is taken from the voyzu-session-id cookie or query parameter (the development "
                "server), or from the cookie only (production)",
                "api-documentation.md 'Authentication' ('When using the voyzu development server a session Id "
                "can be passed in the query string'); vendor-notes ambiguity 19"),
    ),
)

#: every variant key of this simulator
VARIANT_KEYS: tuple[str, ...] = tuple(v.key for v in SIMULATOR.variants)
