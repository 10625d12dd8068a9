"""Atlas CRM simulator list routes: filtered, sorted, cursor-paged entities and links.

``GET /entities?type=...`` and ``GET /entities/{id}/links`` parse their query string with
:func:`crmql.sandbox.atlas.filter.parse_query`, filter and sort the entities (the entity list
through an LRU cache that every write clears) and answer one page with an opaque cursor in
``_links.next``.  A cursor names its offset and a fingerprint of the query (type, filters,
sort-by), so it cannot be reused with another query.  See :mod:`crmql.sandbox.atlas.simulator` for the
documented behaviour and our reading of the undocumented parts.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import logging
from typing import Any, Callable, Mapping
from urllib.parse import quote, urlencode

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from .base import AtlasBase
from .filter import (
    AtlasQuery, QueryError, check_entity_type, check_sort, compile_filters, page_size, parse_query,
    resolve_filters, sort_key,
)
from .store import AtlasStore, Entity
from .template import NAME_FIELD

__all__ = ["AtlasListRoutes"]

logger = logging.getLogger(__name__)


class AtlasListRoutes(AtlasBase):
    """The list routes of the Atlas simulator: entities of a type, links of an entity."""

    # ------------------------------------------------------------- plumbing
    def _page(self, request: Request, query: AtlasQuery, variants: Mapping[str, str],
              matches: list[Any], fingerprint: str,
              render: Callable[[Any], dict[str, Any]]) -> JSONResponse:
        size = page_size(query, variants)
        offset = _decode_cursor(query.cursor, fingerprint) if query.cursor is not None else 0
        page = matches[offset:offset + size]
        links: dict[str, Any] = {"self": {"href": str(request.url)}}
        if offset + size < len(matches):
            pairs = [(k, v) for k, v in query.pairs if k != "cursor"]
            pairs.append(("cursor", _encode_cursor(offset + size, fingerprint)))
            links["next"] = {"href": str(request.url.replace(query=urlencode(pairs, quote_via=quote)))}
        return JSONResponse({"items": [render(item) for item in page], "total": len(matches),
                             "_links": links})

    # ----------------------------------------------------------------- list
    async def list_entities(self, request: Request) -> Response:
        """``GET /api/1.0/workspace/CRM/entities?type=...``."""
        def handler(request: Request, variants: Mapping[str, str], body: Any) -> Response:
            query = parse_query(self._pairs(request))
            entity_type = check_entity_type(query.entity_type)
            assert entity_type is not None
            store = self.store()
            types = store.templates[entity_type].field_types()
            groups = resolve_filters(query, entity_type, types)
            sort_by = check_sort(query, entity_type, types)
            matches = self.matches(store, entity_type, groups, sort_by, variants)
            fingerprint = _fingerprint(entity_type, groups, sort_by)
            base = self._base(request)
            with_fields = variants["atlas.list_fields"] == "included"
            return self._page(request, query, variants, matches, fingerprint,
                              lambda e: self._render(e, base, with_fields))
        return await self._handle(request, handler)

    def matches(self, store: AtlasStore, entity_type: str,
                groups: Mapping[tuple[str, str], tuple[str, ...]], sort_by: str | None,
                variants: Mapping[str, str]) -> list[Entity]:
        """Entities of a type matching ``groups``, sorted (LRU-cached; writes clear the cache)."""
        key = (store.seed, entity_type, tuple(sorted(groups.items())), sort_by,
               tuple(sorted(variants.items())))

        def compute() -> list[Entity]:
            types = store.templates[entity_type].field_types()
            rows = store.by_type[entity_type].values()
            if groups:
                predicate = compile_filters(groups, types, variants)
                result = [e for e in rows if predicate(e)]
            else:
                result = list(rows)
            field_id = sort_by or NAME_FIELD[entity_type]
            result.sort(key=sort_key(field_id, types.get(field_id, "string"), variants["atlas.sort_nulls"]))
            return result

        return self._cache.get_or_compute(key, compute)

    # ---------------------------------------------------------------- links
    async def list_links(self, request: Request) -> Response:
        """``GET /entities/{id}/links`` (``type``, field filters with ``type``, ``limit``, ``cursor``)."""
        def handler(request: Request, variants: Mapping[str, str], body: Any) -> Response:
            store = self.store()
            entity = self._entity(store, request.path_params["id"])
            query = parse_query(self._pairs(request))
            entity_type = check_entity_type(query.entity_type, required=False)
            others = [store.entities[o] for o in store.links.get(entity["id"], {})]
            groups: dict[tuple[str, str], tuple[str, ...]] = {}
            sort_by = None
            if entity_type is None:
                if query.filters or query.sort_by is not None:
                    raise QueryError("Filtering or sorting links on fields requires the 'type' parameter")
                others.sort(key=lambda e: (e["fields"].get(NAME_FIELD[e["type"]], ""), e["id"]))
            else:
                types = store.templates[entity_type].field_types()
                groups = resolve_filters(query, entity_type, types)
                sort_by = check_sort(query, entity_type, types)
                others = [e for e in others if e["type"] == entity_type]
                if groups:
                    predicate = compile_filters(groups, types, variants)
                    others = [e for e in others if predicate(e)]
                field_id = sort_by or NAME_FIELD[entity_type]
                others.sort(key=sort_key(field_id, types[field_id], variants["atlas.sort_nulls"]))
            fingerprint = _fingerprint(f"{entity['id']}:{entity_type}", groups, sort_by)
            base = self._base(request)
            return self._page(request, query, variants, others, fingerprint,
                              lambda other: self._link_item(store, entity["id"], other, base))
        return await self._handle(request, handler)


# ------------------------------------------------------------------ cursors
def _fingerprint(scope: str, groups: Mapping[tuple[str, str], tuple[str, ...]], sort_by: str | None) -> str:
    text = json.dumps([scope, sorted([list(k), list(v)] for k, v in groups.items()), sort_by],
                      ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha1(text.encode("utf-8")).hexdigest()[:12]


def _encode_cursor(offset: int, fingerprint: str) -> str:
    raw = json.dumps({"o": offset, "q": fingerprint}, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _decode_cursor(cursor: str, fingerprint: str) -> int:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        data = json.loads(raw)
        offset, owner = data["o"], data["q"]
    except (ValueError, TypeError, KeyError, binascii.Error):
        raise QueryError("Invalid cursor") from None
    if not isinstance(offset, int) or isinstance(offset, bool) or offset < 0:
        raise QueryError("Invalid cursor")
    if owner != fingerprint:
        raise QueryError("Cursor does not belong to this query (type, filters and sort-by must not change)")
    return offset
