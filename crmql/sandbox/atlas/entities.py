"""Atlas CRM simulator entity routes: reading and writing entities and the links between them.

``GET/POST /entities``, ``GET/PUT/DELETE /entities/{id}`` validate written values against the
type's template (:func:`crmql.sandbox.atlas.store._apply`); ``POST /entities/{id}/links`` and
``GET/PUT/DELETE /entities/{id}/links/{other-id}`` keep links symmetric.  Every write clears the
list cache.  See :mod:`crmql.sandbox.atlas.simulator` for the documented behaviour and our reading of the
undocumented parts.
"""

from __future__ import annotations

import logging
from datetime import datetime, timezone
from typing import Any, Mapping

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from .base import AtlasBase
from .filter import check_entity_type
from .store import ApiError, AtlasStore, Entity, _apply, _roles
from ..core.data_util import utc_ms

__all__ = ["AtlasEntityRoutes"]

logger = logging.getLogger(__name__)


class AtlasEntityRoutes(AtlasBase):
    """The entity and link routes of the Atlas simulator (everything but the lists)."""

    # ------------------------------------------------------------ entities
    async def get_entity(self, request: Request) -> Response:
        """``GET /entities/{id}``."""
        def handler(request: Request, variants: Mapping[str, str], body: Any) -> Response:
            entity = self._entity(self.store(), request.path_params["id"])
            return JSONResponse(self._render(entity, self._base(request)))
        return await self._handle(request, handler)

    async def create_entity(self, request: Request) -> Response:
        """``POST /entities`` ``{"type", "fields"}`` -> 201."""
        def handler(request: Request, variants: Mapping[str, str], body: Any) -> Response:
            if body is None:
                raise ApiError(400, "Request body must be a JSON object with 'type' and 'fields'")
            entity_type = body.get("type")
            if not isinstance(entity_type, str):
                raise ApiError(400, "Missing 'type' (company, contact or sale)")
            check_entity_type(entity_type)
            values = body.get("fields", {})
            if not isinstance(values, dict):
                raise ApiError(400, "'fields' must be an object mapping field ids to values")
            store = self.store()
            template = store.templates[entity_type]
            fields: dict[str, Any] = {}
            for f in template.fields():
                if f["default-value"] is not None:
                    fields[f["id"]] = f["default-value"]
            created_field = f"{entity_type}-created"
            if created_field in template.field_types():
                fields[created_field] = utc_ms(datetime.now(timezone.utc))
            _apply(template, fields, values)
            for field_id in template.required():
                if fields.get(field_id) in (None, ""):
                    raise ApiError(400, f"Field '{field_id}' is required")
            entity = {"id": store.new_id(), "type": entity_type, "fields": fields}
            store.entities[entity["id"]] = entity
            store.by_type[entity_type][entity["id"]] = entity
            self._invalidate()
            return JSONResponse(self._render(entity, self._base(request)), status_code=201)
        return await self._handle(request, handler, with_body=True)

    async def update_entity(self, request: Request) -> Response:
        """``PUT /entities/{id}`` ``{"fields"}`` (partial; null removes a value)."""
        def handler(request: Request, variants: Mapping[str, str], body: Any) -> Response:
            store = self.store()
            entity = self._entity(store, request.path_params["id"])
            if body is None or not isinstance(body.get("fields"), dict):
                raise ApiError(400, "Request body must be {\"fields\": {...}}")
            template = store.templates[entity["type"]]
            fields = dict(entity["fields"])
            _apply(template, fields, body["fields"])
            for field_id in template.required():
                if fields.get(field_id) in (None, ""):
                    raise ApiError(400, f"Field '{field_id}' is required")
            entity["fields"] = fields
            self._invalidate()
            return JSONResponse(self._render(entity, self._base(request)))
        return await self._handle(request, handler, with_body=True)

    async def delete_entity(self, request: Request) -> Response:
        """``DELETE /entities/{id}`` (its links go too)."""
        def handler(request: Request, variants: Mapping[str, str], body: Any) -> Response:
            store = self.store()
            entity = self._entity(store, request.path_params["id"])
            rendered = self._render(entity, self._base(request))
            for other in list(store.links.get(entity["id"], {})):
                store.unlink(entity["id"], other)
            store.links.pop(entity["id"], None)
            del store.entities[entity["id"]]
            del store.by_type[entity["type"]][entity["id"]]
            self._invalidate()
            return JSONResponse(rendered)
        return await self._handle(request, handler)

    # ---------------------------------------------------------------- links
    async def create_link(self, request: Request) -> Response:
        """``POST /entities/{id}/links`` ``{"entity-id", "roles"}`` -> 201."""
        def handler(request: Request, variants: Mapping[str, str], body: Any) -> Response:
            store = self.store()
            entity = self._entity(store, request.path_params["id"])
            if body is None or not isinstance(body.get("entity-id"), str):
                raise ApiError(400, "Request body must be {\"entity-id\": \"...\", \"roles\": [...]}")
            other = self._entity(store, body["entity-id"])
            if other["id"] == entity["id"]:
                raise ApiError(400, "An entity cannot be linked to itself")
            roles = _roles(body.get("roles", []))
            if other["id"] in store.links.get(entity["id"], {}):
                raise ApiError(409, "Entities are already linked")
            store.link(entity["id"], other["id"], roles)
            self._invalidate()
            return JSONResponse(self._link_item(store, entity["id"], other, self._base(request)),
                                status_code=201)
        return await self._handle(request, handler, with_body=True)

    def _linked(self, store: AtlasStore, request: Request) -> tuple[Entity, Entity]:
        entity = self._entity(store, request.path_params["id"])
        other = self._entity(store, request.path_params["other"])
        if other["id"] not in store.links.get(entity["id"], {}):
            raise ApiError(404, "Link not found")
        return entity, other

    async def get_link(self, request: Request) -> Response:
        """``GET /entities/{id}/links/{other-id}``."""
        def handler(request: Request, variants: Mapping[str, str], body: Any) -> Response:
            store = self.store()
            entity, other = self._linked(store, request)
            return JSONResponse(self._link_item(store, entity["id"], other, self._base(request)))
        return await self._handle(request, handler)

    async def update_link(self, request: Request) -> Response:
        """``PUT /entities/{id}/links/{other-id}`` ``{"roles"}``."""
        def handler(request: Request, variants: Mapping[str, str], body: Any) -> Response:
            store = self.store()
            entity, other = self._linked(store, request)
            if body is None or "roles" not in body:
                raise ApiError(400, "Request body must be {\"roles\": [...]}")
            store.link(entity["id"], other["id"], _roles(body["roles"]))
            self._invalidate()
            return JSONResponse(self._link_item(store, entity["id"], other, self._base(request)))
        return await self._handle(request, handler, with_body=True)

    async def delete_link(self, request: Request) -> Response:
        """``DELETE /entities/{id}/links/{other-id}``."""
        def handler(request: Request, variants: Mapping[str, str], body: Any) -> Response:
            store = self.store()
            entity, other = self._linked(store, request)
            item = self._link_item(store, entity["id"], other, self._base(request))
            store.unlink(entity["id"], other["id"])
            self._invalidate()
            return JSONResponse(item)
        return await self._handle(request, handler)
