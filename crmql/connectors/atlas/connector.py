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

The catalog (tables from templates, operators per field type) is in :mod:`.catalog`; what an answer
must look like in :mod:`.pages`. The rest is the REST kit's: the declarations below and four hooks.
"""

from __future__ import annotations

import logging
from typing import Any

from ...http import run_sync
from ...http.loop import Spawned, spawn
from ...plan.catalog import Table
from ...plan.connector import FilterSet
from ..rest.support import gather_all
from ..rest import (
    ById, FanOut, FieldParams, NextLinkPaginator, OAuth, OpParams, Place, Resource, RestApi, RestConnector, Sort,
)
from .catalog import ENTITY_TYPES, RESERVED, SHAPE, entity_table, links_table, shadow_key, slug
from .pages import API, MAX_PAGE, check_entity, check_listed, link_rows, peek_link, read_entity

__all__ = ["API", "ENTITY_TYPES", "AtlasConnector", "slug"]

log = logging.getLogger(__name__)


def _entities(name: str, etype: str) -> Resource:
    """An entity type's table: ``GET /entities?type=..&limit=100&fields.ID[op]=value``, next links,
    reads by id (the id is no filter parameter), ``sort-by`` for numbers and dates."""
    return Resource(
        name, f"Atlas CRM {etype} entities", f"{API}/entities", params=(("type", etype),), records="items",
        paginator=NextLinkPaginator(next="_links.next.href", size=Place.query("limit"), max_page=MAX_PAGE,
                                    total="total", peek=True),
        filters=FieldParams("fields.{field}[{op}]"), shape=SHAPE, layout=("page", "filter", "sort"),
        by_id=ById(f"{API}/entities/{{id}}", ops=("get",), names="an entity",
                   note="a read by id carries no other filter; checked locally",
                   only="Atlas has no id filter (only a read by id: at most 50 ids, each a URL path segment, not in "
                        "an OR)"),
        sort=Sort(Place.query("sort-by")), noun="entities", answer="list")


LINKS = Resource(
    "links", "links between entities, per entity id", f"{API}/entities/{{id}}/links", records="items",
    paginator=NextLinkPaginator(size=Place.query("limit"), max_page=MAX_PAGE, prefetch=False),
    filters=OpParams({"type": "type"}), shape=SHAPE, layout=("page", "filter"), noun="links", answer="list",
    fan_out=FanOut("entity_id", op="path", place=Place.path("id"), filters={"type": "type"}, noun="entity",
                   names="an entity", note="the links endpoint filters only by entity and type; checked locally"))

API_SPEC = RestApi(
    vendor="atlas", display="Atlas CRM", required_settings=("base_url", "client_id", "client_secret"),
    auth=OAuth("/api/1.0/oauth/token", send_as="basic"),
    resources=(*(_entities(name, etype) for name, etype in ENTITY_TYPES.items()), LINKS),
)


class AtlasConnector(RestConnector):
    """Atlas CRM companies, contacts, sales and their links: a live catalog (one template request
    per table, on first use, started early by :meth:`warm`) and four answer hooks."""

    api = API_SPEC

    def __init__(self, name: str, settings: dict[str, Any]) -> None:
        super().__init__(name, settings)
        self._loaded: dict[str, Table] = {}
        self._loading: dict[str, Spawned] = {}  # template requests started by warm()

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
            request = self.api.resource(name).first_request(FilterSet(), MAX_PAGE)
            self.early.start(self.early_key(request), self.http.request_json(
                request.method, request.path, params=request.params, table=f"{self.name}.{name}"))

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
                self._loaded[name] = links_table(self.name)
            else:
                loading = self._loading.pop(name, None)
                template = loading.result() if loading is not None else run_sync(self._template(name))
                self._loaded[name] = self._entity_table(name, template)
        return self._loaded[name]

    def _entity_table(self, name: str, template: Any) -> Table:
        return entity_table(self.name, name, template, self.settings)

    async def _template(self, name: str) -> Any:
        return await self.http.request_json("GET", f"{API}/template/{ENTITY_TYPES[name]}", table=f"{self.name}.{name}")

    # ---- answers (the kit's hooks)
    def check_records(self, res: Resource, table: Table, records: list[dict[str, Any]], request: str) -> None:
        check_listed(records, self.display, table, request, entities=res.fan_out is None)

    async def complete(self, res: Resource, table: Table, records: list[dict[str, Any]],
                       request: str) -> list[dict[str, Any]]:
        """A list item without fields (as the docs' example shows) is read by id."""
        missing = [i for i, item in enumerate(records) if "fields" not in item and item.get("id") is not None]
        if res.fan_out is None and missing:
            full = await gather_all(*(read_entity(self.http, records[i]["id"], self.display, table, request)
                                      for i in missing))
            for i, entity in zip(missing, full):
                records[i] = entity
        return records

    def by_id_records(self, table: Table, records: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """An id of another entity type is no row here."""
        for record in records:
            check_entity(record, self.display, table, "GET by id")
        return [r for r in records if r.get("type") == ENTITY_TYPES[table.name]]

    def key_rows(self, res: Resource, table: Table, key: str, records: list[dict[str, Any]],
                 request: str) -> list[dict[str, Any]]:
        return link_rows(key, records, self.display, table, request)

    def peek_next(self, response: Any) -> str | None:
        return peek_link(response.content, self.http.base_url)

    _peek_next = peek_next

    def row(self, table: Table, record: dict[str, Any]) -> dict[str, Any]:
        if table.name == "links":
            return record
        fields = record.get("fields") or {}
        if any(k.lower() in RESERVED for k in fields):  # a vendor field never shadows crmql's own columns
            fields = {shadow_key(k) if k.lower() in RESERVED else k: v for k, v in fields.items()}
        return {**fields, "id": record.get("id"), "type": record.get("type")}
