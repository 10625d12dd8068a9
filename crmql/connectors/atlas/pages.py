"""What an Atlas CRM answer must look like before crmql uses it (the connector's hooks): listed
entities, entities read by id, entity links; and the next link read ahead from a raw body.

Atlas is untrusted input like every vendor: an item that is not an object (the kit checks that),
fields that are not an object, an entity id that is neither a string nor an integer, a link whose
``entity`` is not an object, or a next link off the connection's origin is a
:class:`~crmql.errors.VendorResponseError` naming the table and the request.

>>> API, MAX_PAGE
('/api/1.0/workspace/CRM', 100)
>>> peek_link(b'{"items":[],"_links":{"next":{"href":"/api/1.0/workspace/CRM/entities?cursor=2"}}}', "http://h/")
'http://h/api/1.0/workspace/CRM/entities?cursor=2'
"""

from __future__ import annotations

import logging
import re
from typing import Any
from urllib.parse import urljoin

from ...errors import VendorResponseError
from ...plan.catalog import Table
from ..rest.support import addressable, cut, path_id, same_origin, shown

__all__ = ["API", "MAX_PAGE", "check_entity", "check_listed", "link_rows", "peek_link", "read_entity"]

log = logging.getLogger(__name__)

API = "/api/1.0/workspace/CRM"
MAX_PAGE = 100
#: a list body's own next link: unescaped, closing the body (next, _links and the envelope end
#: right after it), so a "next" object inside a record is never taken for it (see peek_link)
_NEXT_HREF = re.compile(rb'"next"\s*:\s*\{\s*"href"\s*:\s*"([^"\\]*)"\s*\}\s*\}\s*\}\s*$')
PEEK_BYTES = 2048


def check_entity(entity: dict[str, Any], vendor: str, table: Table, request: str) -> dict[str, Any]:
    """``entity`` when its fields are an object (or absent or null), else a VendorResponseError."""
    if not isinstance(entity.get("fields") or {}, dict):  # (null fields: none, as before)
        raise VendorResponseError("an entity's fields are not an object", vendor=vendor, table=table.qualified,
                                  request=request)
    return entity


def check_listed(items: list[dict[str, Any]], vendor: str, table: Table, request: str, *, entities: bool) -> None:
    """Each listed item's fields are an object, and for ``entities`` its id a string or an integer."""
    for n, item in enumerate(items, 1):
        check_entity(item, vendor, table, request)
        entity_id = item.get("id")
        if entities and (not isinstance(entity_id, (str, int)) or isinstance(entity_id, bool)):
            raise VendorResponseError(f"item {n} of the page has the id {shown(entity_id)}, not a string or an "
                                      "integer", vendor=vendor, table=table.qualified, request=request)


async def read_entity(http: Any, entity_id: Any, vendor: str, table: Table, listed_by: str) -> dict[str, Any]:
    """One entity a list named without its fields, read by id."""
    if not isinstance(entity_id, (str, int)) or isinstance(entity_id, bool) or not addressable(entity_id):
        raise VendorResponseError(f"a listed entity's id {shown(entity_id)} cannot be read by id", vendor=vendor,
                                  table=table.qualified, request=listed_by)
    path = f"{API}/entities/{path_id(entity_id)}"
    entity = await http.request_json("GET", path, table=table.qualified)
    if not isinstance(entity, dict):
        raise VendorResponseError("a read by id answered with no entity object", vendor=vendor,
                                  table=table.qualified, request=f"GET {cut(path)}")
    return check_entity(entity, vendor, table, f"GET {cut(path)}")


def link_rows(entity_id: str, items: list[dict[str, Any]], vendor: str, table: Table,
              request: str) -> list[dict[str, Any]]:
    """The ``links`` rows of one page of an entity's links."""
    if any(not isinstance(it.get("entity") or {}, dict) for it in items):
        raise VendorResponseError("a link's 'entity' is not an object", vendor=vendor, table=table.qualified,
                                  request=request)
    return [{"entity_id": entity_id, "other_entity_id": (it.get("entity") or {}).get("id"),
             "other_type": (it.get("entity") or {}).get("type"), "roles": it.get("roles") or []} for it in items]


def peek_link(content: bytes, base_url: str) -> str | None:
    """The page's next link read from the end of its raw body, where the documented list shape
    puts the page's ``_links`` (after ``items``); None when it is not plainly there, or off the
    connection's origin (the token never goes anywhere on a peek alone)."""
    match = _NEXT_HREF.search(content, max(0, len(content) - PEEK_BYTES))
    if match is None:
        return None
    base = base_url.rstrip("/") + "/"
    try:
        link = urljoin(base, match.group(1).decode("utf-8", "replace"))
    except ValueError:
        return None
    return link if same_origin(link, base) else None
