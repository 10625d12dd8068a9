"""casavi Community API (the residents' app API) on the REST kit: tickets and their details and
comments, appointments, official posts, important contacts, FAQ articles, notifications,
activities, units and the unread counts, each community's rows read per community.

Sources: ``shared/vendor-docs/casavi-community-api.txt`` (the Community API 1.0.0 page, a ReDoc
rendering), ``shared/vendor-notes.md`` section 4 (Community API) and ambiguities 24-26, and the
lead's contract for issue #12. What the docs say, we follow; where they are silent, these are the
readings chosen (the others are simulator variants, ``crmql sandbox variants``), each never losing
a row:

* **Paths** (ambiguity 24: the rendering stripped every path). The one path the text names is
  ``/api/v1/units`` ("See /api/v1/units ..." in the ticket body), so every route is ``/api/v1/...``.
  Routes whose docs list ``community_id`` as a *path* parameter ("path Parameters community_id
  required") are read as ``/api/v1/communities/{community_id}/<resource>``: ``appointments``,
  ``posts`` (the "Official Posts" tag), ``important-contacts``, ``chat/unread``,
  ``notifications/unread``, ``notifications``, ``activities``. Those listing it as a *query*
  parameter take ``?community_id=n``: ``/api/v1/tickets``, ``/api/v1/faq``, ``/api/v1/units``. A
  ticket by id is ``/api/v1/tickets/{ticket_id}`` (path parameter ``ticket_id``). All guesses: the
  ``paths`` connection setting overrides any of them (:mod:`.resources`).
* **Three envelopes** (ambiguity 25): appointments and activities take ``page`` ("starts at 0")
  and ``limit`` and answer ``{page, pageCount, pageSize, rows}``: we send ``limit=100`` (the
  sandbox's maximum; ``page_size`` 1..100 overrides), read page 0, then the rest concurrently up to
  ``pageCount``; the answer's ``page`` is checked against the page asked (a vendor counting from 1
  is recognised by its echo). Official posts take ``page`` only: the vendor's own ``pageSize``.
  Notifications answer ``{pageSize, count, rowsOnPage, rows}`` with no page parameter documented;
  tickets, units, important contacts are plain arrays, FAQ ``{groups, items}``, counts ``{count}``.
* **Notifications read completely** (no page parameter; ``count`` = all matching): when the first
  answer serves fewer distinct rows than ``count``, crmql asks again with ``before`` = the oldest
  ``createdAt`` served + 1 ms (newest-first answers; with oldest-first ones ``after`` = the newest
  - 1 ms), de-duplicating by id, until it has ``count`` rows. An answer that cannot advance
  (unsorted, or no new id) ends it with a WARNING naming the community ("vendor counted N, crmql got
  M") and the stats line: never silently short.
* **after / before** (ambiguity 26: "created after/before this timestamp", inclusivity unknown):
  ``created_at >``/``<`` send the bound as is, ``>=``/``<=`` widen it by 1 ms (casavi's times have
  milliseconds), BETWEEN both; always a superset re-checked locally. Times are sent as casavi writes
  them, ``YYYY-MM-DDThh:mm:ss.sssZ`` UTC (the Manager docs' format); an upper bound with finer
  digits is rounded up to the millisecond, a lower one down.
* **unreadOnly** ("only unread notifications are returned"): ``unread = TRUE`` sends
  ``unreadOnly=true`` and is exact; ``unread = FALSE`` is local (``false`` means no filter).
  ``unread`` is NOT the record's ``read``. COUNT(*) with only exact conditions is each community's
  ``count`` (one request per community).
* **Auth** (documented: an ``Authorization`` header, "open id connect ... discovery endpoint
  /.well-known/openid-configuration"): ``Authorization: Bearer <access token>`` (the docs call the
  scheme "Bearer", an API key in that header; an OpenID Connect access token is a bearer token,
  RFC 6750, so the header carries the ``Bearer`` prefix); ``refresh_token``
  (and ``client_id``, optional ``client_secret``) get new access tokens through the discovered
  ``token_endpoint`` (the registration endpoint returns ``oidcAccessToken`` and
  ``oidcRefreshToken``); an ``access_token`` setting is used first, until refused; a 401 refreshes
  once. Discovery is read at the ``issuer`` setting, by default the ``base_url`` itself (not its
  origin: the sandbox serves it under ``/casavi_community``; on a real casavi host the base URL is
  the origin anyway). The refresh token goes only to the issuer's origin (``token_origins`` adds
  others). The cookie scheme (``user_session``) is not used.
* **Tickets: list vs detail.** The docs' sample of a ticket by id has ``descriptionRendered``,
  ``customFields``, ``TicketComments``, ``Attachments``, ``TicketRating``; the list's sample item is
  empty. We read the list as summaries (the detail fields may be missing) and take the details only
  from ``GET /api/v1/tickets/{id}``: ``ticket_details`` and ``ticket_comments`` read each ticket by
  id (``id`` / ``ticket_id`` = or IN, or a join); a list answer that already has the details is used
  as is. ``tickets WHERE id = n`` reads by id too (the list has no id filter).
* **community_id** is required on the community-scoped routes (the fan-out key; ``IN`` reads each
  community concurrently, within the connection's cap) and optional on tickets, units and FAQ
  (``?community_id=n`` per value, up to 50; else one unscoped request, filtered locally). Every row
  carries its community: the key it was read for, else the record's ``Community.id`` /
  ``communityId``; a row whose own community differs from the key asked for is dropped (a vendor
  ignoring the parameter gives no duplicates). A community that does not exist (404) has no rows.
  The FAQ asked for one community also holds the articles for every community (``communityId``
  null): a FAQ row's ``community_id`` is the article's own (NULL: every community), so
  ``community_id = n`` is a superset there, re-checked locally, and a query's answer does not depend
  on whether it was read per community or unscoped.
* **Field names** (review of issue #12): the docs show record fields only for a ticket read by
  id, and only its top-level keys (``id``, ``identifier``, ``referenceId``, ``title``, ``status``,
  sample ``OPEN``, ``statusText``, ``descriptionRendered``, ``customFields``, ``TicketComments``,
  ``Attachments``, ``TicketRating``, ``TicketType``, ``Unit``, ``Community``, ``Contact``,
  ``CreatedBy``, ``AssignedTo``, ``Sharings``), plus the envelopes and ``{count}``. crmql's
  readings, not in the docs: the persons' ``id``/``firstName``/``lastName`` (and a contact's
  ``referenceId``), ``createdAt``, ``updatedAt``, what ``identifier`` means, the nested objects'
  fields (``Community.id/name/referenceId``, ``TicketType.id/name``, ``Unit.id/name/referenceId``,
  ``TicketRating.rating/comment``, the comments' and attachments' fields), the other statuses, and
  every field of appointments, posts, important contacts, FAQ groups and items, notifications,
  activities and units. DESCRIBE ends such a column's description with "(crmql's reading; not in
  the docs)"; a field a pushed or re-checked column depends on (notifications' ``read`` and
  ``createdAt``; on an unscoped list, the field carrying each row's community) missing from every
  record of an answer is a WARNING, once per statement.
* **The sandbox's communities** (community n = the n-th casavi Manager property by internalId)
  are the sandbox's own mapping, not a documented fact.

>>> c = CommunityConnector("cc", {"base_url": "https://app.example", "client_id": "a", "refresh_token": "r"})
>>> sorted(c.tables())[:4]
['activities', 'appointments', 'faq_articles', 'important_contacts']
>>> c.resource(c.table("units")).first_request(FilterSet(), 100).render()
'GET /api/v1/units'
"""

from __future__ import annotations

import contextvars
import dataclasses
import logging
from collections.abc import Sequence
from typing import Any

from ... import stats
from ...errors import ConfigError, ConnectorError, VendorResponseError
from ...http.auth import Auth
from ...plan.catalog import Table
from ...plan.connector import (  # noqa: F401 (FilterSet: the example)
    Candidate, FetchPlan, FilterSet, Mode, NativeRequest, Needs, PageSink,
)
from ..rest import OidcBearer, PageIndexPaginator, Place, Resource, RestApi, RestConnector
from ..rest.fan_out import named, report_missing, request_template
from ..rest.paginators import Page
from ..rest.planning import pick
from ..rest.support import gather_all, shown
from .columns import kinds
from .resources import PATHS, build, page_size_of, paths_of
from .rows import faq_groups, flatten

__all__ = ["API", "CommunityConnector"]

log = logging.getLogger(__name__)

#: the tables read from a ticket's detail (GET /api/v1/tickets/{id}); a list item lacking them is read by id
DETAILED = ("ticket_details", "ticket_comments")
#: per table, the fields a pushed or re-checked column depends on, and what their absence means
NEEDED = {"notifications": (("read", "unread is NULL"), ("createdAt", "created_at is NULL (a created_at condition "
                                                                     "matches none of them)"))}
#: the ticket ids a list scan of a DETAILED table was asked for (more than reads by id take): only
#: these list items are read by id (set by :meth:`CommunityConnector.fetch` for its scan's tasks)
_WANTED: contextvars.ContextVar[frozenset[str] | None] = contextvars.ContextVar("casavi_community_wanted",
                                                                                 default=None)

API = RestApi(vendor="casavi_community", display="casavi Community", resources=build(PATHS, 100),
              auth=OidcBearer(), kinds=kinds, required_settings=("base_url",))


class CommunityConnector(RestConnector):
    """casavi Community: the declarations of :mod:`.resources` under the connection's ``paths`` and
    ``page_size``, records flattened by :mod:`.rows`, list tickets completed by their details where
    a table needs them, and ``unread_counts`` as two requests per community."""

    api = API

    def __init__(self, name: str, settings: dict[str, Any]) -> None:
        super().__init__(name, settings)
        if not (self.settings.get("refresh_token") or self.settings.get("access_token")):
            raise ConfigError("refresh_token or access_token: neither is set (one is needed: a refresh_token is "
                              "renewed through OpenID Connect, an access_token is used until refused)",
                              hint="the registration endpoint returns oidcRefreshToken; set refresh_token and client_id")
        if self.settings.get("refresh_token") and not self.settings.get("client_id"):
            raise ConfigError("refresh_token is set but client_id is not (the token endpoint renews a refresh token "
                              "only for the client it was issued to)",
                              hint="set client_id to the OpenID Connect client the refresh token belongs to "
                                   "(or use an access_token alone)")
        try:
            self.paths = paths_of(self.settings)
            self._resources = {r.name: r for r in build(self.paths, page_size_of(self.settings))}
        except ConfigError as e:
            raise ConfigError(e.message, hint=e.hint) from None
        except ValueError as e:  # a declaration the kit refuses (a path the overrides made impossible)
            raise ConfigError(f"paths: {e}", hint="check the paths setting") from None

    def make_auth(self) -> Auth | None:
        """The OpenID Connect flow, discovery read at ``issuer`` (default: the base URL itself)."""
        s = self.settings
        return self.api.auth.build({**s, "issuer": s.get("issuer") or str(s.get("base_url") or "").rstrip("/")})

    # ---- answers
    def read_page(self, res: Resource, table: Table, data: Any, request: str, *, links: bool = True) -> Page:
        """The kit's checks, and for the FAQ both lists checked and each item's group name added
        (an item whose group is not in ``groups``: NULL, logged)."""
        groups = faq_groups(self.display, table.qualified, data, request) if res.name == "faq_articles" else None
        page = super().read_page(res, table, data, request, links=links)
        self._check_fields(res, table, page.records)
        for record in page.records if groups is not None else ():
            if record.get("groupId") not in groups:
                log.debug("%s: FAQ article %s names group %s, which the answer does not list", table.qualified,
                          shown(record.get("id")), shown(record.get("groupId")))
            record["group_name"] = groups.get(record.get("groupId"))
        return page

    def _check_fields(self, res: Resource, table: Table, records: list[dict[str, Any]], *,
                      unscoped: bool = False) -> None:
        """A WARNING (once per statement) when a field a pushed or re-checked column depends on is
        missing from every record of a non-empty answer (the field names are crmql's reading); on
        an ``unscoped`` list also the field that carries each row's community."""
        if not records:
            return
        needed = dict(NEEDED.get(res.name, ()))
        fan = res.fan_out
        if unscoped and fan is not None and fan.carried:
            needed[fan.carried.split(".")[0]] = "community_id is NULL (a community_id condition matches none of them)"
        for field, consequence in needed.items():
            if all(r.get(field) is None for r in records):
                stats.current().warn(f"{self.display} ({table.qualified}): no record has {field!r} (crmql's reading "
                                     f"of an undocumented field), so {consequence}", once=True)

    async def complete(self, res: Resource, table: Table, records: list[dict[str, Any]],
                       request: str) -> list[dict[str, Any]]:
        """A plain (unscoped) list's records: a warning when none carries its community; for
        ticket_details and ticket_comments read from the list (more ids than reads by id take),
        each summary item whose id was asked for is read by id (the others are dropped unread; a
        ticket gone since the list: left out, logged)."""
        self._check_fields(res, table, records, unscoped=True)  # (a fan-out's pages do not come here)
        if res.name not in DETAILED:
            return records
        wanted = _WANTED.get()
        if wanted is not None:
            records = [r for r in records if _id_text(r.get("id")) in wanted]
        missing = [i for i, r in enumerate(records) if "TicketComments" not in r and r.get("id") is not None]
        details = await gather_all(*(self._detail(table, records[i]["id"], request) for i in missing))
        for i, detail in zip(missing, details):
            records[i] = detail
        return [r for r in records if r is not None]

    async def _detail(self, table: Table, ticket: Any, request: str) -> dict[str, Any] | None:
        path = Place.path("ticket_id").put(NativeRequest("GET", self.paths["ticket"]), ticket).path
        response = await self.http.request("GET", path, table=table.qualified, allow_status=(404,))
        if response.status_code == 404:
            log.debug("%s: ticket %s was listed by %s but is not found by id: left out", table.qualified,
                      shown(ticket), request)
            return None
        data = self.http.decode_json(response, table.qualified)
        if not isinstance(data, dict):
            raise VendorResponseError("a ticket read by id is not an object", vendor=self.display,
                                      table=table.qualified, request=f"GET {path}")
        return data

    def key_rows(self, res: Resource, table: Table, key: str, records: list[dict[str, Any]],
                 request: str) -> list[dict[str, Any]]:
        """A fan-out page's rows; an FAQ article keeps its own community (NULL: every community)."""
        if res.name == "faq_articles":
            return records
        return super().key_rows(res, table, key, records, request)

    def row(self, table: Table, record: dict[str, Any]) -> dict[str, Any]:
        """A record as a row: see :mod:`.rows`."""
        out = super().row(table, record)
        return flatten(self.display, table.qualified, self.resource(table).columns, out)

    # ---- ticket details from the list (many ids); unread_counts: two counts per community
    def plan(self, table: Table, candidates: Sequence[Candidate], needs: Needs) -> FetchPlan:
        plan = super().plan(table, candidates, needs)
        paginator = self.resource(table).paginator
        if isinstance(paginator, PageIndexPaginator) and paginator.size is None and plan.page_size:
            # posts take no page size (the vendor's own, 20 in the sandbox): not the kit's bound of 500
            plan = dataclasses.replace(plan, paging=plan.paging.replace(f"{plan.page_size} per page",
                                                                        "pages of the vendor's own size"))
        if table.name in DETAILED and plan.mode is Mode.SEARCH:
            return self._plan_list_details(table, candidates, plan)
        if table.name != "unread_counts" or plan.mode is not Mode.FAN_OUT:
            return plan
        second = NativeRequest("GET", self.paths["notifications_unread"])
        pairs = [(r, Place.path("community_id").put(second, key)) for key, r in zip(plan.keys, plan.requests)]
        how = (f"a few at a time, stopping after {plan.max_rows} rows" if plan.max_rows is not None else
               "a few at a time, stopping once LIMIT rows pass the local re-check" if plan.stop_early
               else "concurrently")
        return dataclasses.replace(plan, requests=[r for pair in pairs for r in pair],
                                   paging=f"per community ({len(pairs)}) {how}: its chat and notification unread "
                                          "counts, one request each",
                                   estimate=f"{'up to ' if plan.max_rows or plan.stop_early else ''}{2 * len(pairs)} "
                                            "request(s)")

    def _plan_list_details(self, table: Table, candidates: Sequence[Candidate], plan: FetchPlan) -> FetchPlan:
        """More ticket ids than reads by id take: the list once, then a GET by id for each listed
        ticket among the ids asked for (the ids ride in ``keys``, which a list scan does not use)."""
        res = self.resource(table)
        assert res.by_id is not None
        column = table.column(res.by_id.column)
        found = pick(candidates, res.by_id.ops, field=column.native if column else res.by_id.column)
        if found is None:  # (the required filter makes this a join's or a plan without ids: every item)
            return dataclasses.replace(plan, estimate=f"1 list request + 1 GET per listed ticket ({plan.estimate})")
        ids = sorted({_id_text(v) for v in found[1]})
        return dataclasses.replace(
            plan, keys=tuple(ids), paging=f"the ticket list once, then one GET per listed ticket among the {len(ids)} "
                                          "ids asked for, concurrently",
            estimate=f"1 list request + up to {len(ids)} GET request(s) (one per listed ticket asked for)")

    async def fetch(self, table: Table, plan: FetchPlan, sink: PageSink) -> None:
        if table.name in DETAILED and plan.mode is Mode.SEARCH and plan.keys:
            token = _WANTED.set(frozenset(plan.keys))
            try:
                await super().fetch(table, plan, sink)
            finally:
                _WANTED.reset(token)
            return
        if table.name != "unread_counts" or plan.mode is not Mode.FAN_OUT:
            await super().fetch(table, plan, sink)
            return

        res = self.resource(table)
        fan = res.fan_out
        assert fan is not None
        requests, keys = plan.requests, list(plan.keys)
        missing: list[Any] = []
        asked: list[Any] = []

        async def one(key: Any, chat: NativeRequest, notes: NativeRequest) -> list[dict[str, Any]]:
            try:
                counts = await gather_all(self._count(table, chat), self._count(table, notes))
            except ConnectorError as e:  # (the other communities' requests are cancelled: no partial result)
                raise named(e, fan, key) from None
            stats.current().add(pages=2, rows_fetched=0 if None in counts else 1)
            if None in counts:  # a community that does not exist: no row (the 404 policy below)
                missing.append(key)
                return []
            return [{"community_id": key, "chat": counts[0], "notifications": counts[1]}]

        # communities in order, a few at a time, so LIMIT stops after enough rows (one row per community)
        got, at, limited = 0, 0, plan.max_rows is not None or plan.stop_early
        while at < len(keys):
            step = max(1, self.concurrency) if limited else len(keys)
            if plan.max_rows is not None:
                step = max(1, min(step, plan.max_rows - got))
            chunk = range(at, min(at + step, len(keys)))
            asked += [keys[i] for i in chunk]
            answers = await gather_all(*(one(keys[i], requests[2 * i], requests[2 * i + 1]) for i in chunk))
            at = chunk.stop
            rows = [row for answer in answers for row in answer]
            got += len(rows)
            if rows and not sink(rows):
                break
            if plan.max_rows is not None and got >= plan.max_rows:
                break
        report_missing(fan, sorted(missing, key=keys.index), asked, request_template(res), vendor=self.display,
                       table=table.qualified)

    async def _count(self, table: Table, request: NativeRequest) -> int | None:
        """One ``{count}`` answer: a non-negative integer, or None for a 404 (no such community)."""
        response = await self.http.request("GET", request.path, table=table.qualified, allow_status=(404,))
        if response.status_code == 404:
            return None
        data = self.http.decode_json(response, table.qualified)
        count = data.get("count") if isinstance(data, dict) else None
        if isinstance(count, bool) or not isinstance(count, int) or count < 0:
            raise VendorResponseError(f"the count is {shown(count) if isinstance(data, dict) else 'not an object'}"
                                      ", not a non-negative integer", vendor=self.display, table=table.qualified,
                                      request=f"GET {request.path}")
        return count


def _id_text(value: Any) -> str | None:
    """An id as the text a pushed id value is compared by (``1042`` and ``"1042"`` alike)."""
    return None if value is None or isinstance(value, bool) else str(value)

