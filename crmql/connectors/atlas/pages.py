"""What an Atlas CRM answer must look like before crmql uses it: list envelopes (items, total,
``_links.next``), entities, entity links; and the next link read ahead from a raw body.

Atlas is untrusted input like every vendor: an item that is not an object, fields that are not an
object, ``_links`` of another shape, or a next link off the connection's origin is a
:class:`~crmql.errors.VendorResponseError` naming the table and the request; a total counts only
when it is a non-negative integer (:func:`.http_support.valid_total`).

>>> API, MAX_PAGE
('/api/1.0/workspace/CRM', 100)
"""

from __future__ import annotations

import logging
import re
from typing import Any
from urllib.parse import urljoin

from ...plan.catalog import Table
from ...errors import VendorResponseError
from ...plan.connector import FetchPlan, PageSink
from ..rest.support import addressable, check_records, cut, gather_all, path_id, same_origin, shown, valid_total
from ..rest.paging import ScanLimits, next_link_scan

__all__ = ["API", "MAX_PAGE", "AtlasPages"]

log = logging.getLogger(__name__)

API = "/api/1.0/workspace/CRM"
MAX_PAGE = 100
#: a list body's own next link: unescaped, closing the body (next, _links and the envelope end
#: right after it), so a "next" object inside a record is never taken for it (see _peek_next)
_NEXT_HREF = re.compile(rb'"next"\s*:\s*\{\s*"href"\s*:\s*"([^"\\]*)"\s*\}\s*\}\s*\}\s*$')
PEEK_BYTES = 2048


class AtlasPages:
    """Reading and checking Atlas answers; mixed into :class:`~crmql.connectors.atlas.connector.AtlasConnector`
    (which provides ``http``, ``display``, ``max_pages`` and ``next_link``)."""

    display: str
    http: Any
    max_pages: int
    next_link: Any  # HttpConnectorMixin.next_link: the origin check

    async def _entity(self, entity_id: Any, table: Table, listed_by: str) -> dict[str, Any]:
        """One entity a list named without its fields, read by id."""
        if not isinstance(entity_id, (str, int)) or isinstance(entity_id, bool) or not addressable(entity_id):
            raise VendorResponseError(f"a listed entity's id {shown(entity_id)} cannot be read by id", vendor=self.display,
                                      table=table.qualified, request=listed_by)
        path = f"{API}/entities/{path_id(entity_id)}"
        entity = await self.http.request_json("GET", path, table=table.qualified)
        if not isinstance(entity, dict):
            raise VendorResponseError("a read by id answered with no entity object", vendor=self.display,
                                      table=table.qualified, request=f"GET {cut(path)}")
        return self._check_entity(entity, table, f"GET {cut(path)}")

    def _check_entity(self, entity: dict[str, Any], table: Table, request: str) -> dict[str, Any]:
        if not isinstance(entity.get("fields") or {}, dict):  # (null fields: none, as before)
            raise VendorResponseError("an entity's fields are not an object", vendor=self.display,
                                      table=table.qualified, request=request)
        return entity

    def _peek_next(self, response: Any) -> str | None:
        """The page's next link read from the end of its raw body, where the documented list shape
        puts the page's ``_links`` (after ``items``); None when it is not plainly there."""
        content = response.content
        match = _NEXT_HREF.search(content, max(0, len(content) - PEEK_BYTES))
        if match is None:
            return None
        base = self.http.base_url.rstrip("/") + "/"
        try:
            link = urljoin(base, match.group(1).decode("utf-8", "replace"))
        except ValueError:
            return None
        return link if same_origin(link, base) else None  # the token never goes anywhere on a peek alone

    def _envelope(self, data: Any, table: Table, request: str, *, links: bool = True,
                  entities: bool = True) -> tuple[list[dict[str, Any]], int | None, str | None]:
        """Items (each an object, its fields an object, and for ``entities`` its id a string or an
        integer), total (None unless a count) and next link (on the connection's origin) of a list
        response; anything else a VendorResponseError. ``"_links": []`` (an empty map as PHP
        writes it) is no links."""
        def bad(what: str) -> VendorResponseError:
            return VendorResponseError(what, vendor=self.display, table=table.qualified, request=request)

        if not isinstance(data, dict) or not isinstance(data.get("items"), list):
            raise bad("the list response has no 'items' list")
        items = check_records(data["items"], vendor=self.display, table=table.qualified, request=request)
        for n, item in enumerate(items, 1):
            self._check_entity(item, table, request)
            entity_id = item.get("id")
            if entities and (not isinstance(entity_id, (str, int)) or isinstance(entity_id, bool)):
                raise bad(f"item {n} of the page has the id {shown(entity_id)}, not a string or an integer")
        link_obj = data.get("_links")
        if link_obj == []:
            link_obj = None
        nxt = None
        if links and link_obj is not None:
            if not isinstance(link_obj, dict) or not isinstance(link_obj.get("next") or {}, dict):
                raise bad("its '_links' are not an object with a 'next' object")
            nxt = self.next_link((link_obj.get("next") or {}).get("href"), table.qualified, request)
        return items, valid_total(data.get("total")), nxt

    async def _fetch_links(self, table: Table, plan: FetchPlan, sink: PageSink) -> None:
        ids, params = plan.native

        async def one(entity_id: str) -> None:
            async def page(url: str | None) -> tuple[list[dict[str, Any]], int | None, str | None]:
                if not entity_id:
                    return [], 0, None
                target = url or f"{API}/entities/{path_id(entity_id)}/links"
                response = await self.http.request("GET", target, params=None if url else params,
                                                   table=table.qualified, allow_status=(404,))
                if response.status_code == 404:
                    return [], 0, None
                request = f"GET {cut(target)}"
                items, total, nxt = self._envelope(self.http.decode_json(response, table.qualified), table, request,
                                                   entities=False)
                if any(not isinstance(it.get("entity") or {}, dict) for it in items):
                    raise VendorResponseError("a link's 'entity' is not an object", vendor=self.display,
                                              table=table.qualified, request=request)
                rows = [{"entity_id": entity_id, "other_entity_id": (it.get("entity") or {}).get("id"),
                         "other_type": (it.get("entity") or {}).get("type"), "roles": it.get("roles") or []}
                        for it in items]
                return rows, total, nxt

            await next_link_scan(page, sink=sink, limits=ScanLimits(self.display, table.qualified, self.max_pages))

        await gather_all(*(one(v) for v in ids))
