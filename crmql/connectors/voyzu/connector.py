"""Voyzu CRM on the REST kit: contacts (free-text search, read by id), their nested arrays as child
tables, and the user's Google spreadsheets.

Sources: ``shared/vendor-docs/voyzu-crm.md`` (API doc), ``shared/vendor-specs/voyzu/*.md``
(front-end and API development docs), ``shared/vendor-notes.md`` section 3 and ambiguities 16-20,
and the lead's contract for issue #13. What the docs say we follow; where they are silent these
are the readings chosen (the others are simulator variants, ``crmql sandbox variants``), none
ever losing a row:

* **Paths** (ambiguity 18): every path is ``/api/...`` under ``base_url`` (the table's paths omit
  ``/api``, the headings and prose have it, and ``/api/contacts/class`` is the front-end doc's own
  URL); every call is a POST but ``GET /api/<resource>/class`` (documented); the prose's resource
  ``contact`` is the table's ``contacts`` (the table is the reference). ``base_url`` has no default:
  the docs name only the dev server ``https://crm-dev.voyzu.com``. This is the voyzu.com Voyzu CRM
  (Google Workspace contacts), not the newer voyzu.org platform (ambiguity 20: a different API).
* **Auth** (documented: the session cookie; the dev server also takes ``?voyzu-session-id=``):
  ``session_id`` goes as ``Cookie: voyzu-session-id=<id>``, the cookie name CHOSEN as the query
  parameter's documented name; ``send_session_as = "query"`` sends the parameter instead (dev
  server only). ``login_values`` (optional) is posted as-is as the JSON body of ``POST /api/auth``:
  the AuthInput class is undocumented, so the user gives the fields their server's
  ``GET /api/auth/class`` shows, and crmql checks them against that class's ``AuthInput`` when it
  can read it (an unknown key is a ConfigError naming the class's fields; a missing one a
  warning). The login answer's ``SessionId`` (documented: "Auth contains a 'SessionId'
  attribute"), else its ``Set-Cookie``, is the next session; a 401 logs in again once, and
  without ``login_values`` is "the session was refused: it has expired or was signed out".
* **Search** (ambiguities 17, 19; :mod:`.readings`, :mod:`.search`): the input and output classes
  are undocumented; three readings (``datatable`` default, ``page``, ``none``), chosen from
  ``/api/contacts/class`` once per connection (``search_reading``). Only ``=`` / ``LIKE 'text%'`` on
  the name and e-mail columns (and ``list_contains(emails, v)``) are pushed, as ONE ``SearchText``,
  never exact: a superset under every reading of which fields are searched and how.
* **Async** (documented: ``?async=true`` and the RequestStatus example; ambiguity 16, the poll
  path): statuses are polled at ``/api/request-status/get/{id}`` (front-end doc, with code), then
  ``/api/request/get/{id}`` (API doc read with ``/api``), then ``/request/get/{id}`` (API doc
  literally), the next only after a 404, remembered per connection. The result is undocumented:
  CHOSEN, the PROCESSED status's ``Result`` (the output class instance), else its ``ResultUrl``
  fetched with no credentials (an AWS-presigned style link: a session cookie or parameter sent
  there would leak it, and such links refuse credentials). ``async = "auto"`` (default): a request
  that may carry more than ``async_rows`` (5,000) rows (the ``none`` reading with no search) goes
  async at once; a sync one answering 504 (API Gateway's documented 30 s limit) or timing out is
  re-sent async, and that table's later requests on the connection go async at once (a timeout of
  the sync try is not retried first: the gateway would time out again; a 540, 541, 500 or a
  dropped connection keeps its retries). ``"always"``,
  ``"never"`` (a 504 is then an error). No cancel endpoint is documented: an interrupted query
  stops polling and leaves the vendor's job (a read) to finish.
* **Errors** (documented codes; ``ErrorMessage`` "should never be presented to the user"): the
  ``ErrorMessage`` of any answer is logged (logger ``crmql.connectors.voyzu``, INFO, redacted),
  never put in the error text. 540, 541 (Voyzu's own transient errors) and 500 (documented as
  "something has gone wrong in an un-anticipated way", e.g. at the AWS layer) are retried like a
  503, reads only; 400 (the input is malformed: sending it again cannot help), 402 (a paid
  subscription is needed) and 404 (no such endpoint or wrong verb) are not. A 400 or 404 reading
  a contact by id is no such contact (documented: 400 for a non-existent id).

>>> c = VoyzuConnector("v", {"base_url": "https://crm.example", "session_id": "s-1234567"})
>>> sorted(c.tables())[:3]
['contact_addresses', 'contact_custom_fields', 'contact_emails']
>>> c.resource(c.table("contacts")).first_request(FilterSet(), 1000).render()
'POST /api/contacts/search\\n{"SearchText": "", "Length": 1000, "Start": 0}'
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Mapping, Sequence
from typing import Any

from ... import stats
from ...errors import ConfigError, ConnectorError, NetworkError, VendorHTTPError, VendorResponseError
from ...http.auth import Auth
from ...plan.catalog import Table
from ...plan.connector import Candidate, Extent, FetchPlan, FilterSet, Mode, NativeRequest, Needs, PageSink
from ...redaction import redact
from ..rest import AsyncJob, Place, Resource, RestApi, RestConnector, SessionId, fetch_classes
from ..rest.paginators import Page
from ..rest.support import request_options
from .columns import kinds
from .errors import reword
from .readings import READINGS, Reading, choose, reading_named
from .resources import SEARCH_PATH, build, page_size_of
from .rows import flatten
from .search import FIELD, OP, NativeCond, one_search, pushdown_on
from .settings import async_settings

__all__ = ["API", "STATUS_PATHS", "VoyzuConnector"]

log = logging.getLogger(__name__)

#: the poll paths, in order (ambiguity 16)
STATUS_PATHS = ("/api/request-status/get/{id}", "/api/request/get/{id}", "/request/get/{id}")
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")

API = RestApi(vendor="voyzu", display="Voyzu CRM", resources=build(READINGS["datatable"], 1000), auth=SessionId(),
              kinds=kinds, required_settings=("base_url",), retry_statuses=(540, 541))


class VoyzuConnector(RestConnector):
    """Voyzu CRM: the resources of :mod:`.resources` under the connection's search reading, one
    search text per request, async jobs where the gateway limit needs them, and Voyzu's errors
    worded without its ErrorMessage."""

    api = API

    def __init__(self, name: str, settings: dict[str, Any]) -> None:
        super().__init__(name, settings)
        s = self.settings
        login = s.get("login_values")
        if not s.get("session_id") and not login:
            raise ConfigError("session_id or login_values: neither is set (one is needed)",
                              hint="sign in to Voyzu and set session_id (the voyzu-session-id cookie), or set "
                                   "login_values to the AuthInput fields your server's GET /api/auth/class shows")
        if login is not None:
            if not isinstance(login, Mapping) or not login:
                raise ConfigError("login_values: must be a table of AuthInput fields", hint='e.g. login_values = '
                                  '{Email = "me@example.com", Password = "${VOYZU_PASSWORD}"}')
            if bad := [k for k in login if not isinstance(k, str) or not _NAME.fullmatch(k)]:
                raise ConfigError(f"login_values: {bad[0]!r} is not a field name (letters, digits, _)")
        if s.get("send_session_as", "cookie") not in ("cookie", "query"):
            raise ConfigError("send_session_as: must be 'cookie' or 'query'")
        self.async_mode, self.async_rows, self.async_deadline_s = async_settings(s)  # (checked: a dict config too)
        self.page_size = page_size_of(s)
        self.named = reading_named(s.get("search_reading"))
        self.reading: Reading = self.named or READINGS["datatable"]
        self.class_checked = False  # the contacts class module read (or found unreadable) on this connection
        self._login_checked = False
        self._lock: tuple[asyncio.AbstractEventLoop, asyncio.Lock] | None = None
        self._switched: set[str] = set()  # tables whose requests go async after a gateway timeout
        self._resources = {r.name: r for r in build(self.reading, self.page_size, pushdown=pushdown_on(s))}

    # ---- catalog and auth
    def make_auth(self) -> Auth | None:
        """The session flow: ``send_session_as`` as ``send_as``, ``login_values`` posted as-is."""
        s = self.settings
        options: dict[str, Any] = {"session_id": s.get("session_id"), "send_as": s.get("send_session_as") or "cookie"}
        if s.get("login_values"):
            values = dict(s["login_values"])
            options.update(login_body={k: "{" + k + "}" for k in values}, login_values=values)
        return self.api.auth.build(options)

    # ---- planning
    def plan(self, table: Table, candidates: Sequence[Candidate], needs: Needs) -> FetchPlan:
        """The kit's plan with ONE search text (:func:`.search.one_search`), ``?async=true`` where the
        request goes async up front, and the class request counted while it has not been made."""
        given = list(candidates)
        if pushdown_on(self.settings):
            candidates = one_search(candidates)
        plan = super().plan(table, candidates, needs)
        for i, (before, after) in enumerate(zip(given, candidates)):
            if before is not after and i not in plan.used:  # a search text left out: say why
                plan.notes[i] = after.reason
        res = self.resource(table)
        if plan.mode in (Mode.SEARCH, Mode.COUNT):
            plan.requests = [self._mark(res, r) for r in plan.requests]
            if res.path == SEARCH_PATH and not self.class_checked:
                plan.estimate = f"{plan.estimate}; plus 1 class request (GET /api/contacts/class, once per " \
                                "connection: it picks the search reading)"
            if any(_is_async(r) for r in plan.requests):
                plan.paging = f"{plan.paging}; sent as an async job (?async=true), polled until done"
        return plan

    def _mark(self, res: Resource, request: NativeRequest) -> NativeRequest:
        """``request`` with ``async=true`` when it goes async up front (see the module docstring)."""
        if self.async_mode == "never" or request.path not in (SEARCH_PATH, res.path):
            return request
        body = request.body if isinstance(request.body, dict) else {}
        asked = body.get("Length") or body.get("PageSize")
        # the none reading without a search serves every contact (unbounded); a page asks its size
        big = res.path == SEARCH_PATH and (
            (self.reading.name == "none" and not body.get(FIELD))
            or (isinstance(asked, int) and asked > self.async_rows))
        if self.async_mode == "always" or res.name in self._switched or big:
            return Place.query("async").put(request, "true")
        return request

    def _replan(self, res: Resource, plan: FetchPlan) -> FetchPlan:
        """The plan's search requests rebuilt for the reading the class check chose (a plan made
        before it assumed ``datatable``); the same search text and page size."""
        if plan.mode not in (Mode.SEARCH, Mode.COUNT) or res.path != SEARCH_PATH:
            return plan
        fresh = []
        for request in plan.requests:
            body = dict(request.body or {})
            if set(body) == set(self.reading.inputs) or request.path != SEARCH_PATH:
                fresh.append(self._mark(res, request))
                continue
            text = body.get(FIELD) or ""
            size = body.get("Length") or body.get("PageSize") or self.page_size
            filters = FilterSet([NativeCond(FIELD, OP, text)] if text else [])
            fresh.append(self._mark(res, res.first_request(filters, int(size))))
        plan.requests = fresh
        return plan

    # ---- once per connection: the class check, the login fields
    async def _ready(self, res: Resource) -> None:
        loop = asyncio.get_running_loop()
        if self._lock is None or self._lock[0] is not loop:  # (a lock serves one event loop)
            self._lock = (loop, asyncio.Lock())
        async with self._lock[1]:
            if self.settings.get("login_values") and not self._login_checked:
                self._login_checked = True
                await self._check_login()
            if res.path == SEARCH_PATH and not self.class_checked:
                classes = await self._classes("/api/contacts/class")
                self.class_checked = True
                reading = choose(classes, self.settings.get("search_reading")) if classes is not None \
                    else self.reading
                if reading != self.reading:
                    log.info("%s: the contacts class declares the %s reading", self.display, reading.name)
                    self.reading = reading
                    self._resources = {r.name: r for r in build(reading, self.page_size,
                                                                 pushdown=pushdown_on(self.settings))}

    async def _classes(self, path: str) -> dict[str, tuple[str, ...]] | None:
        """The classes of the module at ``path`` (no session), or None (logged at INFO) when it
        cannot be read: the class is a check, not a dependency."""
        try:
            return await fetch_classes(self.http, path)
        except ConnectorError as e:
            log.info("%s: GET %s could not be read (%s); going on without the class check", self.display, path,
                     redact(str(e).splitlines()[0])[:200])
            return None

    async def _check_login(self) -> None:
        """``login_values``' keys checked against the ``AuthInput`` of ``/api/auth/class``."""
        classes = await self._classes("/api/auth/class")
        fields = (classes or {}).get("AuthInput")
        if not fields:
            return
        given = list(self.settings["login_values"])
        if unknown := [k for k in given if k not in fields]:
            # (checked at the first query, past the session's own prefixing: said like a config error)
            raise ConfigError(f"connections.{self.name}: login_values: {unknown[0]!r} is not a field of Voyzu's "
                              f"AuthInput (its fields: {', '.join(fields)})",
                              hint="set login_values to the AuthInput fields")
        if missing := [f for f in fields if f not in given]:
            stats.current().warn(f"{self.display}: login_values has no {', '.join(missing)} (fields of AuthInput); "
                                 "the login may be refused", once=True)

    # ---- fetching
    async def fetch(self, table: Table, plan: FetchPlan, sink: PageSink) -> None:
        res = self.resource(table)
        try:
            await self._ready(res)
            await super().fetch(table, self._replan(self.resource(table), plan), sink)
        except ConnectorError as e:
            raise reword(e, self, res) from None

    async def count(self, table: Table, plan: FetchPlan) -> int:
        res = self.resource(table)
        try:
            await self._ready(res)
            res = self.resource(table)
            plan = self._replan(res, plan)
            if self.reading.name == "none" and res.path == SEARCH_PATH and res.explode is None:
                return await self._count_served(table, res, plan)
            return await super().count(table, plan)
        except ConnectorError as e:
            raise reword(e, self, res) from None

    async def extent(self, table: Table, plan: FetchPlan) -> Extent | None:
        """The kit's extent under the reading the class check chose (the plan rebuilt for it)."""
        res = self.resource(table)
        try:
            await self._ready(res)
            return await super().extent(table, self._replan(self.resource(table), plan))
        except ConnectorError as e:
            raise reword(e, self, res) from None

    async def _count_served(self, table: Table, res: Resource, plan: FetchPlan) -> int:
        """COUNT(*) under the ``none`` reading: its one answer holds every match, so the rows it
        served are the count (the kit would ask again for a scan to count: a second full read)."""
        total = 0
        for request in plan.requests:
            label = f"{request.method} {request.path}"
            data = await self.send(table, request, res=res)
            records = self.read_page(res, table, data, label, links=False).records
            stats.current().add(pages=1, rows_fetched=len(records))
            total += len(records)
        return total

    async def send(self, table: Table, request: NativeRequest, *, first: bool = False,
                   res: Resource | None = None) -> Any:
        """A list request: async when marked (``?async=true``), else sync, re-sent async after a
        504 or a timeout (``async = "auto"``; ``"never"``: an error)."""
        if res is None:
            return await super().send(table, request, first=first, res=res)
        if _is_async(request) or res.name in self._switched:  # (a later page of a scan that switched)
            return await self._send_async(table, request if _is_async(request) else
                                          Place.query("async").put(request, "true"))
        gateway: str | None = None
        try:
            response = await self._sync(table, request, once=self.async_mode != "never")
            if response.status_code != 504:
                return self.http.decode_json(response, table.qualified)
            gateway = "answered 504 (API Gateway's 30 s limit)"
        except NetworkError as e:
            if not _timed_out(e):
                raise
            gateway = "timed out"
        if self.async_mode == "never":
            raise VendorHTTPError(f"{request.method} {request.path} {gateway}: it passed Voyzu's 30 s gateway limit",
                                  vendor=self.display, table=table.qualified, status=504,
                                  hint='set async = "auto" on the connection (large answers then run as Voyzu async '
                                       'jobs), or narrow the search')
        log.info("%s (%s): %s %s %s; sent again as an async job, and so are this table's later requests",
                 self.display, table.qualified, request.method, request.path, gateway)
        self._switched.add(res.name)
        return await self._send_async(table, Place.query("async").put(request, "true"))

    async def _sync(self, table: Table, request: NativeRequest, *, once: bool) -> Any:
        """The sync attempt of a list request (a 504 answered, not raised). ``once`` (an async
        fallback exists): a timeout is NOT retried, since Voyzu's gateway would time out again
        (5 tries of 30 s before the fallback); it goes async at once. Other transient errors (a 540,
        541 or 500, a dropped connection, 429, 503) keep the client's retries."""
        return await self.http.request(request.method, request.path, table=table.qualified, idempotent=True,
                                       allow_status=(504,), retry_timeouts=not once, **request_options(request))

    async def _send_async(self, table: Table, request: NativeRequest) -> Any:
        """The kit's async call (submit, poll, progress into the statement's stats) under this
        connection's deadline."""
        return await self.send_async(table, request, AsyncJob(status_paths=STATUS_PATHS,
                                                              deadline_s=self.async_deadline_s))

    # ---- answers
    def read_page(self, res: Resource, table: Table, data: Any, request: str, *, links: bool = True) -> Page:
        """The kit's checks; the spreadsheets' list as a plain array or ``{"Spreadsheets": [...]}``."""
        if res.name == "spreadsheets" and isinstance(data, dict):
            if not isinstance(data.get("Spreadsheets"), list):
                raise VendorResponseError("the spreadsheets answer is neither a list nor an object with a "
                                          "Spreadsheets list", vendor=self.display, table=table.qualified,
                                          request=request)
            data = data["Spreadsheets"]
        return super().read_page(res, table, data, request, links=links)

    def row(self, table: Table, record: dict[str, Any]) -> dict[str, Any]:
        record = super().row(table, record)
        return flatten(self.display, table.qualified, record) if table.name == "contacts" else record


def _timed_out(e: NetworkError) -> bool:
    """A request sent whose answer did not come in time (not a connection that could not be made)."""
    return "waiting for the response" in e.message


def _is_async(request: NativeRequest) -> bool:
    params = request.params.items() if isinstance(request.params, dict) else request.params or ()
    return ("async", "true") in list(params)
