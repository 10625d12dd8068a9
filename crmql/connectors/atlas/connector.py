"""Atlas CRM by Avisi (companies, contacts, sales, links) through its Cloud REST API.

Source: ``shared/vendor-docs/atlas-crm.txt`` (the Cloud endpoints page) and
``shared/vendor-notes.md`` section 2. Documented, and followed: client_credentials tokens at
``/api/1.0/oauth/token`` valid one hour without refresh; ``Content-Type: application/json`` on
every request, GET included; columns from ``GET /workspace/CRM/template/{type}``; filters
``fields.ID[op]=value`` with the per-type operator table; different parameters AND, the same
field and operator repeated OR; gte/lte inclusive; pages of at most 100 with ``_links.next`` and
``total``. Where the docs are silent, our readings (each widened so no row is lost):

* **Page size parameter**: not named on Cloud; we send ``limit=100`` (the Server API's name). If the
  vendor ignores it, pages are 20 and we still follow ``_links.next``: only slower, never wrong.
* **eq / contains case-sensitivity**: undocumented, so string equality and every contains are
  re-checked locally (single-select labels and user ids are closed vocabularies: exact when the
  value is one of them). ``eq_case_sensitive`` / ``contains_case_sensitive`` settings make them exact.
* **contains** is a plain partial match (not a pattern); we push the longest literal run of a LIKE.
* **multi-select contains** may match a whole label or a substring of one: pushed for
  ``list_contains(col, 'label')`` and re-checked.
* **timestamps** may be compared as text: bounds are widened by a second and re-checked.
* **Sorting**: ``sort-by`` has no direction and undocumented NULL placement and collation. We push
  it only for ``ORDER BY <decimal or date column> ASC LIMIT n``, where numeric/date order is
  unambiguous, and stop once n rows with a non-NULL key passed the re-check.
* **List items**: the docs' example omits ``fields``; when an item comes without them, we GET it.
* **An OR across fields** cannot be expressed: when every branch is pushable it is split into one
  request per branch (at most 4), unioned and de-duplicated by id.
* **Custom fields** (UUID ids) get a readable column name from their label (``Lead Source`` ->
  ``lead_source``); the UUID works too.
* **Links**: ``/entities/{id}/links`` per entity id (required); ``other_type`` goes out as ``type``.
* **Untrusted answers**: a next link is followed only on the connection's own scheme, host and
  port, never twice, and at most ``max_pages`` per scan; ``total`` counts only when it is a
  non-negative integer (else ``COUNT(*)`` counts the entities); an id no URL path segment can carry
  matches no row; a field whose id is ``id`` or ``type`` gets a column of its own (checked locally)
  (in any case: ``ID``, ``Type``) and never replaces the entity's id or type; a listed entity's id
  must be a string or an integer; a chain that ends before its total warns that it was served
  short; ``"_links": []`` is no links. Anything malformed is a ``VendorResponseError``.

The catalog (tables from templates, operators per field type) is in :mod:`.atlas_catalog`.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

from ...plan.catalog import ColumnType, Table
from ...errors import VendorResponseError
from ...http import OAuthClientCredentials, run_sync
from ...http.loop import Spawned, spawn
from ...http.auth import Auth
from ...plan.connector import Candidate, Connector, FetchPlan, FilterSet, NativeRequest, Needs, PageSink, choose_filters
from ..rest.support import HttpConnectorMixin, addressable_ids, cut, gather_all, path_id
from .catalog import ENTITY_TYPES, RESERVED, entity_table, links_table, shadow_key, slug
from .pages import API, MAX_PAGE, AtlasPages
from ..rest.paging import LinkAhead, ScanLimits, next_link_scan

__all__ = ["AtlasConnector", "slug"]

log = logging.getLogger(__name__)

MAX_GET_IDS = 50

SORTABLE = (ColumnType.FLOAT, ColumnType.INTEGER, ColumnType.DATE)



class AtlasConnector(AtlasPages, HttpConnectorMixin, Connector):
    """Atlas CRM companies, contacts, sales and their links."""

    vendor = "atlas"
    display = "Atlas CRM"
    required_settings = ("base_url", "client_id", "client_secret")
    token_path = "/api/1.0/oauth/token"

    def __init__(self, name: str, settings: dict[str, Any]) -> None:
        super().__init__(name, settings)
        self._loaded: dict[str, Table] = {}
        self._loading: dict[str, Spawned] = {}  # template requests started by warm()

    def make_auth(self) -> Auth:
        s = self.settings
        return OAuthClientCredentials(self.token_path, s["client_id"], s["client_secret"],
                                      send_as=s.get("auth_style", "basic"))

    # ---- catalog: one template request per table, on first use
    def table_names(self) -> list[str]:
        return [*ENTITY_TYPES, "links"]

    def load_tables(self) -> dict[str, Table]:
        return {name: self.load_table(name) for name in self.table_names()}

    def refresh(self) -> None:
        for loading in self._loading.values():
            loading.cancel()
        self._loading.clear()
        self._loaded.clear()
        self._tables = None

    def warm(self, name: str, *, whole_table: bool = False) -> None:
        """Start the table's template request and, for a whole-table read, its first page with it:
        the page does not depend on the template when nothing is filtered or sorted."""
        name = name.lower()
        if name not in ENTITY_TYPES or name in self._loaded:
            return  # links have no template; a loaded template is no wait to overlap
        if name not in self._loading:
            self._loading[name] = spawn(self._template(name))
        if whole_table:
            params = self._params(ENTITY_TYPES[name], FilterSet(), MAX_PAGE)
            self.early.start(("entities", tuple(params)), self.http.request_json(
                "GET", f"{API}/entities", params=params, table=f"{self.name}.{name}"))

    def discard_early(self) -> None:
        """Also drop a template request warm() started that no statement used (a failed one must
        not answer for the next statement)."""
        super().discard_early()
        loading, self._loading = self._loading, {}
        for spawned in loading.values():
            spawned.cancel()

    def load_table(self, name: str) -> Table:
        if name not in self._loaded:
            if name == "links":
                self._loaded[name] = self._links_table()
            else:
                loading = self._loading.pop(name, None)
                template = loading.result() if loading is not None else run_sync(self._template(name))
                self._loaded[name] = self._entity_table(name, template)
        return self._loaded[name]

    def _entity_table(self, name: str, template: Any) -> Table:
        return entity_table(self.name, name, template, self.settings)

    def _links_table(self) -> Table:
        return links_table(self.name)

    async def _template(self, name: str) -> Any:
        return await self.http.request_json("GET", f"{API}/template/{ENTITY_TYPES[name]}", table=f"{self.name}.{name}")

    # ---- planning
    def plan(self, table: Table, candidates: Sequence[Candidate], needs: Needs) -> FetchPlan:
        if table.name == "links":
            return self._plan_links(table, candidates)
        ids = _pick(candidates, "get")
        if ids is not None and not needs.count_only:
            index, values = ids
            notes = {i: "a read by id carries no other filter; checked locally" for i, c in enumerate(candidates)
                     if i != index and c.pushable}
            if not values:
                return FetchPlan(mode="none", used=(index,), notes=notes, native=[],
                                 paging="no id can be a URL path segment, so none names an entity: nothing to fetch",
                                 estimate="0 requests")
            return FetchPlan(mode="get", used=(index,), notes=notes, native=values,
                             requests=[NativeRequest("GET", f"{API}/entities/{path_id(v)}") for v in values],
                             paging=f"one GET per id ({len(values)}), concurrently", estimate=f"{len(values)} GET request(s)")
        # ids are no filter parameter: an id condition that is not a read by id stays local
        usable = [c if not _uses(c, "get") else Candidate(
            c.expr, reason="Atlas has no id filter (only a read by id: at most 50 ids, each a URL path segment, not in an OR)")
                  for c in candidates]
        choice = choose_filters(table.shape, usable)
        choice.notes.update({i: u.reason for i, (u, c) in enumerate(zip(usable, candidates)) if u is not c})
        exact = choice.split is None and all(usable[i].exact for i in choice.used) and len(choice.used) == len(usable)
        etype = ENTITY_TYPES[table.name]
        if needs.count_only:
            if choice.split is not None:
                return FetchPlan(mode="search")  # overlapping requests: no total to trust
            params = self._params(etype, choice.first, 1)
            return FetchPlan(mode="count", requests=[NativeRequest("GET", f"{API}/entities", params)],
                             used=tuple(choice.used), notes=choice.notes, native=[params], page_size=1,
                             paging="none: total of one 1-row request", estimate="1 entities request")
        sort_field = None
        if needs.order and needs.limit_rows is not None and choice.split is None and needs.order[0].type in SORTABLE:
            sort_field = needs.order[0]
        limit_rows = needs.limit_rows if (sort_field is not None or not needs.order) else None
        max_rows = limit_rows if (limit_rows is not None and exact and sort_field is None) else None
        stop_early = limit_rows is not None and max_rows is None
        page = min(MAX_PAGE, max_rows) if max_rows else MAX_PAGE
        if max_rows == 0:
            return FetchPlan(mode="none", used=tuple(choice.used), notes=choice.notes, paging="LIMIT 0: nothing to fetch",
                             estimate="0 requests")
        params_list = [self._params(etype, fs, page, sort_field.native if sort_field else None) for fs in choice.requests]
        split = len(params_list) > 1
        paging = f"{page} per page (limit), following _links.next"
        if split:
            paging += f"; the OR is split into {len(params_list)} requests, unioned and de-duplicated by id"
        if sort_field is not None:
            paging += f"; sorted by {sort_field.name} at the vendor, stopping once {limit_rows} rows with a value pass"
        elif stop_early:
            paging += f"; one page at a time until {limit_rows} rows pass the local re-check"
        elif max_rows:
            paging += f"; stopping after {max_rows} rows (nothing is re-checked locally)"
        estimate = (f"ceil(total / {page}) entities requests" + (" per split request" if split else ""))
        return FetchPlan(mode="search", requests=[NativeRequest("GET", f"{API}/entities", p) for p in params_list],
                         used=tuple(choice.used), notes=choice.notes, native=params_list, page_size=page,
                         max_rows=max_rows, stop_early=stop_early, paging=paging, estimate=estimate,
                         sorted_by=sort_field.name if sort_field else None, split=choice.split)

    @staticmethod
    def _params(etype: str, fs: Any, page: int, sort_by: str | None = None) -> list[tuple[str, str]]:
        params = [("type", etype), ("limit", str(page))]
        for c in fs.conds:
            params.append((f"fields.{c.field}[{c.op}]", str(c.value)))
        for group in fs.or_groups:
            params.extend((f"fields.{c.field}[{c.op}]", str(c.value)) for c in group)
        if sort_by:
            params.append(("sort-by", sort_by))
        return params

    def _plan_links(self, table: Table, candidates: Sequence[Candidate]) -> FetchPlan:
        ids = _pick(candidates, "path", limit=None)
        if ids is None:  # the planner enforces the required filter; this is a second guard
            return FetchPlan(mode="none", paging="no entity_id", estimate="0 requests")
        if not ids[1]:
            return FetchPlan(mode="none", used=(ids[0],), paging="no entity_id can be a URL path segment, so none "
                             "names an entity: nothing to fetch", estimate="0 requests")
        index, values = ids
        used, notes = [index], {}
        other = _pick(candidates, "type")
        params = [("limit", str(MAX_PAGE))]
        if other is not None and len(other[1]) == 1 and other[1][0] in ENTITY_TYPES.values():  # else a 400
            used.append(other[0])
            params.append(("type", other[1][0]))
        for i, c in enumerate(candidates):
            if i not in used and c.pushable:
                notes[i] = "the links endpoint filters only by entity and type; checked locally"
        return FetchPlan(mode="links", used=tuple(sorted(used)), notes=notes, native=(values, params),
                         requests=[NativeRequest("GET", f"{API}/entities/{path_id(v)}/links", params) for v in values],
                         paging=f"per entity ({len(values)}) concurrently, {MAX_PAGE} per page, following _links.next",
                         estimate=f"{len(values)} request(s) or more (one per page of links per entity)")

    # ---- fetching
    async def count(self, table: Table, plan: FetchPlan) -> int:
        """The vendor's total; for a split OR (EXPLAIN's estimate) the sum over its requests."""
        async def one(native: list[tuple[str, str]]) -> int:
            params = [(k, "1" if k == "limit" else v) for k, v in native]
            data = await self.http.request_json("GET", f"{API}/entities", params=params, table=table.qualified)
            total = self._envelope(data, table, f"GET {API}/entities (total)", links=False)[1]
            scan_params = [(k, str(MAX_PAGE) if k == "limit" else v) for k, v in native]
            return await self.total_or_count(table, plan, total, data.get("total"), f"GET {API}/entities (limit 1)",
                                             lambda sink: self._scan(table, scan_params, sink, None))

        return sum(await gather_all(*(one(p) for p in plan.native)))

    async def fetch(self, table: Table, plan: FetchPlan, sink: PageSink) -> None:
        if plan.mode == "none":
            return
        etype = ENTITY_TYPES.get(table.name)
        if plan.mode == "get":
            def typed(records: list[dict[str, Any]]) -> bool:  # an id of another entity type is no row here
                for record in records:
                    self._check_entity(record, table, "GET by id")
                return sink([r for r in records if r.get("type") == etype])
            await self.fetch_by_ids(table, [f"{API}/entities/{path_id(v)}" for v in addressable_ids(plan.native)],
                                    typed)
            return
        if plan.mode == "links":
            await self._fetch_links(table, plan, sink)
            return
        seen: set[str] | None = set() if len(plan.native) > 1 else None

        def dedupe(records: list[dict[str, Any]]) -> bool:
            if seen is not None:
                records = [r for r in records if r.get("id") not in seen]
                seen.update(r.get("id") for r in records)
            return sink(records)

        prefetch = not plan.stop_early
        scans = [self._scan(table, params, dedupe, plan.max_rows, prefetch) for params in plan.native]
        if plan.stop_early or len(scans) == 1:
            for scan in scans:
                if not await scan:
                    for rest in scans:
                        rest.close()
                    return
        else:
            await gather_all(*scans)

    async def _scan(self, table: Table, params: list[tuple[str, str]], sink: PageSink, max_rows: int | None,
                    prefetch: bool = False) -> bool:
        ahead = LinkAhead(lambda url: self.http.request("GET", url, table=table.qualified),
                          decode=lambda response: self.http.decode_json(response, table.qualified),
                          peek=self._peek_next) if prefetch and max_rows is None else None

        async def page(url: str | None) -> tuple[list[dict[str, Any]], int | None, str | None]:
            if url is None:
                early = self.early.take(("entities", tuple(params)))  # started with the template (warm)
                data = await early if early is not None else \
                    await self.http.request_json("GET", f"{API}/entities", params=params, table=table.qualified)
            elif ahead is not None:
                data = await ahead.get(url)
            else:
                data = await self.http.request_json("GET", url, table=table.qualified)
            request = f"GET {cut(url)}" if url else f"GET {API}/entities"
            items, total, next_url = self._envelope(data, table, request)
            missing = [i for i, item in enumerate(items) if "fields" not in item and item.get("id") is not None]
            if missing:  # list items without fields (as the docs' example shows): read each entity
                full = await gather_all(*(self._entity(items[i]["id"], table, request) for i in missing))
                for i, entity in zip(missing, full):
                    items[i] = entity
            return items, total, next_url

        try:
            return await next_link_scan(page, sink=sink, max_rows=max_rows, prefetch=prefetch,
                                        limits=ScanLimits(self.display, table.qualified, self.max_pages))
        finally:
            if ahead is not None:
                await ahead.aclose()

    def row(self, table: Table, record: dict[str, Any]) -> dict[str, Any]:
        if table.name == "links":
            return record
        fields = record.get("fields") or {}
        if any(k.lower() in RESERVED for k in fields):  # a vendor field never shadows crmql's own columns
            fields = {shadow_key(k) if k.lower() in RESERVED else k: v for k, v in fields.items()}
        return {**fields, "id": record.get("id"), "type": record.get("type")}


def _is(cand: Candidate, op: str) -> bool:
    return cand.push is not None and len(cand.push.conds) == 1 and cand.push.conds[0].op == op


def _uses(cand: Candidate, op: str) -> bool:
    """Whether any native condition of the candidate (or of a branch of its OR) uses ``op``."""
    pushes = (cand.push,) if cand.push is not None else cand.any_of or ()
    return any(c.op == op for p in pushes for c in p.conds)


def _pick(candidates: Sequence[Candidate], op: str, *, limit: int | None = MAX_GET_IDS) -> tuple[int, list[str]] | None:
    """The first candidate pushed as ``op`` (single value or list), with its values."""
    for i, cand in enumerate(candidates):
        if not _is(cand, op):
            continue
        value = cand.push.conds[0].value
        values = value if isinstance(value, list) else [value]
        if limit is not None and len(set(map(str, values))) > limit:
            continue  # too many for reads by id: checked locally over a scan
        # an id that cannot be a URL path segment names no entity (http_support.addressable):
        # it matches no row, and with no id left nothing is fetched
        return i, addressable_ids(values)
    return None
