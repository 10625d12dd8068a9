"""Azavista (events, contacts, organizations) through its documented search endpoints.

Source: the support article "APIs - Using Azavista's APIs" (``shared/vendor-docs/azavista.txt``)
and ``shared/vendor-notes.md`` section 1. What the article documents, we follow; where it is
silent, these are the readings we chose (each widened so a query never loses a row):

* **Endpoints.** ``POST /3.1/organization/search``, ``POST /3.1/contact/search`` (documented) and
  ``POST /3.0/event/search`` (EVENT3.0 ``post_event_search``; the path is inferred from the
  swagger operation id and the version pattern). ``GET /3.1/organization/{id}`` is documented;
  ``/3.1/contact/{id}`` and ``/3.0/event/{id}`` by analogy.
* **Filter tree.** ``{"<resource>_filter": {"and": [...], "or": [...]}}``, both must hold
  (documented). Nesting is not documented, so we never nest: one AND list and one OR group of
  single conditions; anything else is evaluated locally.
* **Operators.** eq, like, after, before, in are documented by name only ("the operators differ
  per field type"). We push eq/in on strings, ids and numbers, eq on booleans, like on
  free-text strings, after/before on timestamps.
* **eq case-sensitivity is unknown**: a pushed string equality is re-checked locally, except on
  columns with a closed vocabulary of canonical lower-case values (event_type, status), where a
  case-insensitive match could only find the same value. Configure ``eq_case_sensitive = true``
  on the connection if your tenant is known to compare exactly.
* **like** is a substring match (documented by example: "which have 'workshop' in their name").
  Its case-sensitivity is unknown and it may be a regular expression (Mongo-style), so we push only
  the longest literal run of a LIKE pattern that has no regex metacharacter, never push ILIKE
  (unless ``like_case_sensitive = false`` is configured), and re-check locally.
* **after/before inclusivity is unknown**: ``>``/``<`` are pushed as is (a superset under both
  readings), ``>=``/``<=`` are widened by one second, ``=`` becomes a two-second window; all
  re-checked. ``range_inclusive = true|false`` on the connection makes them exact.
* **Paging**: ``limit``/``offset`` in the JSON body next to the filter (the article's examples echo
  them in the response body; their placement in the request is not shown), limit at most 50
  (documented). ``object_count`` is the total number of matches: it drives concurrent paging and
  ``COUNT(*)``, but only when it is a count (a non-negative integer); otherwise pages are read one
  at a time until an empty page (a short page proves nothing: the vendor may cap its pages) and
  ``COUNT(*)`` counts the rows; a total above 2**53 is no count either. A page with more records
  than the ``limit`` asked for, or a 200 without the records list, is a VendorResponseError. An empty page before the total ends the scan with a
  warning ("vendor reported N rows, served M"); a total needing more than ``max_pages`` pages is
  checked with one more page (empty: a lie, the scan ends; full: the page budget is exceeded). If
  a response echoes an offset other than the one asked for, the scan fails loudly rather than
  returning duplicated rows.
* **GET by id**: an id that cannot be one URL path segment (``.``, ``..``, with ``/``) names no
  record: it matches no row and sends no request (:func:`.http_support.addressable`).
* **Sparse records**: a key missing from a record is NULL (the article's responses omit keys).
* **Scopes**: a client without "super admin" only sees its teams' records; crmql cannot detect it.

>>> c = AzavistaConnector("azavista", {"base_url": "https://3.0.app.azavista.com", "client_id": "x", "client_secret": "y"})
>>> sorted(c.tables())
['contacts', 'events', 'organizations']
"""

from __future__ import annotations

import datetime as dt
import logging
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from ...plan.catalog import Column, ColumnType, FilterShape, Table
from ...errors import VendorResponseError
from ...plan.pushdown import Capability, Equality, NativeCond, Range, Substring
from ...language.values import to_utc
from ...plan.connector import Candidate, Connector, FetchPlan, NativeRequest, Needs, PageSink, choose_filters
from ..rest.support import HttpConnectorMixin, addressable_ids, check_records, path_id, shown, valid_total
from ..rest.paging import ScanLimits, offset_scan

__all__ = ["AzavistaConnector"]

log = logging.getLogger(__name__)

MAX_PAGE = 50
MAX_GET_IDS = 50
S, I, F, B, T = ColumnType.STRING, ColumnType.INTEGER, ColumnType.FLOAT, ColumnType.BOOLEAN, ColumnType.TIMESTAMP

EVENT_TYPES = ("marketing", "sales", "internal", "webinar", "conference", "training", "partner")
EVENT_STATUSES = ("draft", "published", "cancelled", "completed")


@dataclass(frozen=True)
class _Resource:
    search: str
    filter_key: str
    items_key: str
    get: str
    description: str


RESOURCES = {
    "events": _Resource("/3.0/event/search", "event_filter", "events", "/3.0/event/{id}", "Events (EVENT3.0)"),
    "contacts": _Resource("/3.1/contact/search", "contact_filter", "contacts", "/3.1/contact/{id}", "Contacts (CRM3.1)"),
    "organizations": _Resource("/3.1/organization/search", "organization_filter", "organizations",
                               "/3.1/organization/{id}", "Organizations (CRM3.1)"),
}

# (name, type, kind, description[, options]); kind picks the capabilities below
_COLUMNS: dict[str, list[tuple[Any, ...]]] = {
    "events": [
        ("id", S, "id", "24-hex event id"),
        ("name", S, "text", "event name"),
        ("event_type", S, "enum", "event type", EVENT_TYPES),
        ("status", S, "enum", "draft, published, cancelled or completed", EVENT_STATUSES),
        ("start", T, "time", "start, with the event's offset, shown in UTC"),
        ("end", T, "time", "end"),
        ("timezone", S, "eq", "IANA time zone of the event"),
        ("is_virtual", B, "bool", "online-only event"),
        ("venue_name", S, "text", "venue (NULL for virtual events)"),
        ("city", S, "text", "city (NULL for virtual events)"),
        ("country", S, "eq", "ISO country code"),
        ("capacity", I, "number", "maximum attendees"),
        ("registered_count", I, "number", "registrations so far"),
        ("price", F, "number", "ticket price (NULL when free)"),
        ("currency", S, "eq", "currency of the price"),
        ("language", S, "eq", "event language"),
        ("organizer_email", S, "text", "organizer's e-mail"),
        ("external_reference", S, "eq", "your own reference"),
        ("created_at", T, "time", "created"),
        ("updated_at", T, "time", "last updated"),
    ],
    "contacts": [
        ("id", S, "id", "24-hex contact id"),
        ("first_name", S, "text", "first name"),
        ("last_name", S, "text", "last name"),
        ("email", S, "text", "e-mail address"),
        ("organization_id", S, "id", "the contact's organization (organizations.id)"),
        ("organization_manager", B, "bool", "manages the organization"),
        ("job_title", S, "text", "job title"),
        ("phone", S, "eq", "phone number"),
        ("city", S, "text", "city"),
        ("country", S, "eq", "ISO country code"),
        ("language", S, "eq", "preferred language"),
        ("external_reference", S, "eq", "your own reference"),
        ("external_id", S, "none", "deprecated by Azavista, always NULL"),
        ("created_at", T, "time", "created"),
        ("updated_at", T, "time", "last updated"),
    ],
    "organizations": [
        ("id", S, "id", "24-hex organization id"),
        ("name", S, "text", "organization name"),
        ("industry", S, "text", "industry"),
        ("city", S, "text", "city"),
        ("country", S, "eq", "ISO country code"),
        ("website", S, "text", "website"),
        ("employee_count", I, "number", "employees"),
        ("external_reference", S, "eq", "your own reference"),
        ("external_id", S, "none", "deprecated by Azavista, always NULL"),
        ("created_at", T, "time", "created"),
        ("updated_at", T, "time", "last updated"),
    ],
}


def _render_time(value: dt.datetime | dt.date) -> str:
    return to_utc(value).isoformat()


class AzavistaConnector(HttpConnectorMixin, Connector):
    """Azavista events, contacts and organizations."""

    vendor = "azavista"
    display = "Azavista"
    required_settings = ("base_url", "client_id", "client_secret")
    token_path = "/3.0/oauth/token"

    def _capabilities(self, kind: str) -> tuple[Capability, ...]:
        opt = self.settings
        eq_cs = opt.get("eq_case_sensitive")
        like_cs = opt.get("like_case_sensitive")
        inclusive = opt.get("range_inclusive")
        return {
            "id": (Equality("eq", "in", case_sensitive=eq_cs, lowercase_ids=True),),
            "enum": (Equality("eq", "in", case_sensitive=eq_cs), Substring("like", like_cs)),
            "text": (Equality("eq", "in", case_sensitive=eq_cs), Substring("like", like_cs)),
            "eq": (Equality("eq", "in", case_sensitive=eq_cs),),
            "number": (Equality("eq", "in", case_sensitive=True),),
            "bool": (Equality("eq", None, case_sensitive=True),),
            "time": (Range("after", "before", inclusive=inclusive, widen=dt.timedelta(seconds=1), render=_render_time),),
            "none": (),
        }[kind]

    def load_tables(self) -> dict[str, Table]:
        tables = {}
        for name, specs in _COLUMNS.items():
            columns = tuple(
                Column(spec[0], spec[1], spec[3], filters=self._capabilities(spec[2]),
                       options=spec[4] if len(spec) > 4 else None)
                for spec in specs
            )
            tables[name] = Table(self.name, name, columns, RESOURCES[name].description, shape=FilterShape(or_groups=1))
        return tables

    # ---- planning
    def plan(self, table: Table, candidates: Sequence[Candidate], needs: Needs) -> FetchPlan:
        res = RESOURCES[table.name]
        ids = self._ids(candidates)
        if ids is not None and not needs.count_only:
            index, values = ids
            notes = {i: "GET by id carries no other filter; checked locally" for i, c in enumerate(candidates)
                     if i != index and c.pushable}
            if not values:
                return FetchPlan(mode="none", used=(index,), notes=notes, native=[],
                                 paging="no id can be a URL path segment, so none names a record: nothing to fetch",
                                 estimate="0 requests")
            return FetchPlan(
                mode="get", used=(index,), notes=notes, native=values,
                requests=[NativeRequest("GET", res.get.format(id=path_id(v))) for v in values],
                paging=f"one GET per id ({len(values)}), concurrently", estimate=f"{len(values)} GET request(s)",
            )
        choice = choose_filters(table.shape, candidates)
        used, notes = choice.used, choice.notes
        tree = _tree(choice.first.conds, choice.first.or_groups)
        exact = all(candidates[i].exact for i in used) and len(used) == len(candidates)
        if needs.count_only:
            body = {res.filter_key: tree, "limit": 1, "offset": 0}
            return FetchPlan(mode="count", requests=[NativeRequest("POST", res.search, body=body)], used=tuple(used),
                             notes=notes, native=tree, page_size=1, paging="none: object_count of one 1-row request",
                             estimate="1 search request")
        limit_rows = needs.unordered_limit  # Azavista does not sort, so an ORDER BY needs every row
        max_rows = limit_rows if (limit_rows is not None and exact) else None
        page = min(MAX_PAGE, max_rows) if max_rows else MAX_PAGE
        stop_early = limit_rows is not None and not exact
        body = {res.filter_key: tree, "limit": max(page, 1), "offset": 0}
        if max_rows == 0:
            return FetchPlan(mode="none", used=tuple(used), notes=notes, paging="LIMIT 0: nothing to fetch", estimate="0 requests")
        if max_rows:
            paging = f"limit/offset, {page} per page, stopping after {max_rows} rows (nothing is re-checked locally)"
            estimate = f"at most {math.ceil(max_rows / page)} search request(s)"
        elif stop_early:
            paging = (f"limit/offset, {page} per page, one page at a time until {limit_rows} rows pass the local re-check")
            estimate = "ceil(object_count / 50) search requests at most; fewer when enough rows pass early"
        else:
            paging = (f"limit/offset, {page} per page; the first page gives object_count, the rest are fetched "
                      f"concurrently (up to {self.concurrency} at a time)")
            estimate = "ceil(object_count / 50) search requests"
        return FetchPlan(mode="search", requests=[NativeRequest("POST", res.search, body=body)], used=tuple(used),
                         notes=notes, native=tree, page_size=page, max_rows=max_rows, stop_early=stop_early,
                         paging=paging, estimate=estimate)

    @staticmethod
    def _ids(candidates: Sequence[Candidate]) -> tuple[int, list[str]] | None:
        for i, cand in enumerate(candidates):
            if cand.push is None or len(cand.push.conds) != 1:
                continue
            cond = cand.push.conds[0]
            if cond.field != "id":
                continue
            values = cond.value if cond.op == "in" else [cond.value] if cond.op == "eq" else None
            if values is not None and 0 < len(values) <= MAX_GET_IDS and all(isinstance(v, str) for v in values):
                return i, addressable_ids(values)  # an id that cannot be a path segment matches no row
        return None

    # ---- fetching
    async def count(self, table: Table, plan: FetchPlan) -> int:
        """``object_count`` of a 1-row search; when it is no count (missing, text, negative, not
        finite), the matching rows are counted over a scan instead."""
        res = RESOURCES[table.name]
        data = await self.http.request_json("POST", res.search, table=table.qualified, idempotent=True,
                                            json={res.filter_key: plan.native or {}, "limit": 1, "offset": 0})
        total = self._payload(data, res, table)[1]
        search = FetchPlan(mode="search", native=plan.native, page_size=MAX_PAGE)
        return await self.total_or_count(table, plan, total, data.get("object_count"), f"POST {res.search} (limit 1)",
                                         lambda sink: self.fetch(table, search, sink))

    async def fetch(self, table: Table, plan: FetchPlan, sink: PageSink) -> None:
        res = RESOURCES[table.name]
        if plan.mode == "none":
            return
        if plan.mode == "get":
            await self.fetch_by_ids(table, [res.get.format(id=path_id(v)) for v in addressable_ids(plan.native)], sink)
            return

        async def page(offset: int, limit: int) -> tuple[list[dict[str, Any]], int | None]:
            body = {res.filter_key: plan.native or {}, "limit": limit, "offset": offset}
            data = await self.http.request_json("POST", res.search, table=table.qualified, idempotent=True, json=body)
            records, total = self._payload(data, res, table, offset)
            echoed = data.get("offset")
            if echoed is not None and echoed != offset:
                raise VendorResponseError(f"asked for offset {offset} but got offset {shown(echoed)}; paging is unreliable",
                                          vendor=self.display, table=table.qualified,
                                          request=f"POST {res.search} (offset {offset})")
            return records, total

        await offset_scan(page, page_size=plan.page_size, sink=sink, max_rows=plan.max_rows,
                          sequential=plan.stop_early, window=max(2, self.concurrency * 2),
                          limits=ScanLimits(self.display, table.qualified, self.max_pages, f"POST {res.search}"))

    def _payload(self, data: Any, res: _Resource, table: Table,
                 offset: int = 0) -> tuple[list[dict[str, Any]], int | None]:
        """The records and the total (None unless it is a count) of a search response. The items
        key must be there and a list: ``{}`` or ``{"message": ...}`` on a 200 is no empty page."""
        request = f"POST {res.search} (offset {offset})"
        if not isinstance(data, dict) or not isinstance(data.get(res.items_key), list):
            raise VendorResponseError(f"the search response has no '{res.items_key}' list", vendor=self.display,
                                      table=table.qualified, request=request)
        records = check_records(data[res.items_key], vendor=self.display, table=table.qualified, request=request)
        return records, valid_total(data.get("object_count"))


def _tree(and_conds: list[NativeCond], or_groups: list[list[NativeCond]]) -> dict[str, Any]:
    tree: dict[str, Any] = {}
    if and_conds:
        tree["and"] = [{c.field: {c.op: c.value}} for c in and_conds]
    if or_groups:
        tree["or"] = [{c.field: {c.op: c.value}} for c in or_groups[0]]
    return tree
