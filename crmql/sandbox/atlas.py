"""Atlas CRM (Avisi, Jira app) API simulator (mounted under ``/atlas``).

A connection's base URL is ``{server.url}/atlas``; every path below is relative to it.

Documented behaviour (vendor doc ``atlas-crm.txt``, ``vendor-notes.md`` section 2):

* ``POST /api/1.0/oauth/token``, form-encoded ``grant_type=client_credentials``,
  client credentials as HTTP Basic or as body fields ``client_id``/``client_secret``
  -> ``{"access_token", "token_type": "Bearer", "expires_in"}`` (TTL from
  ``settings.token_ttl_s``; no refresh token).  Wrong client: 401
  ``{"message": "Invalid client credentials"}``; another grant: 400 ``{"message"}``.
* Every other endpoint needs ``Authorization: Bearer <token>`` (else 401
  ``{"message": "Unauthorized"}``) and ``Content-Type: application/json`` on every
  request, GETs and DELETEs included (the documented quirk; else 400
  ``{"message": "Content-Type must be application/json"}``).  Auth is checked first.
* ``GET /api/1.0/workspace/CRM/template/{company|contact|sale}`` ->
  ``{"sections": [{"name", "fields": [{"id", "label", "type", "default-value",
  "config", "required"}]}]}`` (see :mod:`crmql.sandbox.atlas_template`).
* ``GET /api/1.0/workspace/CRM/entities?type=<t>`` with filters
  ``fields.<FIELD_ID>[<op>]=<value>`` / ``fields.<FIELD_ID>=<value>`` (default
  operator), ``sort-by=<field-id>``, ``limit`` (1..100, default 20) and an opaque
  ``cursor`` -> ``{"items", "total", "_links": {"self", "next"}}``; ``next`` (an
  absolute URL with every original parameter plus ``cursor``) is absent on the
  last page.  Operators per field type (first = default): string eq, contains;
  text contains; date/timestamp/decimal eq, gte, lte (inclusive); user eq;
  single-select eq (option label); multi-select contains (one option label).
  Different parameters AND; the same field + operator repeated OR (a bare
  ``fields.x=v`` counts as the type's default operator); the same field with
  different operators AND.  An entity without the field never matches.
  Default order: the type's name field; ``sort-by`` sorts ascending (no
  direction parameter); ties by id.
* ``GET/PUT/DELETE /entities/{id}``, ``POST /entities`` (201), with field
  validation against the template; ``PUT`` is partial and ``null`` removes a value.
* Links: ``GET/POST /entities/{id}/links``, ``GET/PUT/DELETE
  /entities/{id}/links/{other-id}``; links are symmetric.

Our reading of the undocumented parts:

* 400 bodies are ``{"message": "..."}`` (as on Atlas Server); unknown field,
  unknown operator, operator not allowed on the type, a badly formatted value
  (date not ``yyyy-mm-dd``, decimal not a number, timestamp not ISO-8601; a
  timestamp without offset is UTC), unknown/missing ``type``, unknown
  ``sort-by`` field, a bad ``limit`` and an invalid cursor are 400s.  Unknown
  query parameters are ignored.  An unknown option label in a filter simply
  matches nothing.
* Strings sort by code point, decimals numerically, dates as dates,
  timestamps as instants, multi-selects by their label list.
* Writes: timestamps are stored normalised to UTC (``...T..:..:..sssZ``), an
  empty multi-select list removes the value, a new entity gets the template's
  default values and ``<type>-created`` (now) when not given.  Deleting an
  entity deletes its links.  Linking two already linked entities is 409.
* The links list accepts ``type`` (restricts the linked entities), ``limit``
  and ``cursor``; field filters and ``sort-by`` need ``type``.  Default order
  is the linked entity's name, then id.

Undocumented semantics are switchable via ``SandboxSettings.variants``
(:data:`VARIANTS`, first value is the default):

* ``atlas.eq_case``: ``sensitive`` | ``insensitive`` (eq on string, user, single-select)
* ``atlas.contains_case``: ``insensitive`` | ``sensitive``
* ``atlas.multi_contains``: ``label`` (the list holds exactly that label) |
  ``substring`` (a label contains the value; case per ``contains_case``)
* ``atlas.page_param``: ``limit`` | ``ignored`` (pages are always 20 items)
* ``atlas.sort_nulls``: ``last`` | ``first`` (entities lacking the sort field)
* ``atlas.list_fields``: ``included`` | ``omitted`` (list items carry only
  ``id``/``type``/``_links``, as the doc's example shows)

Test hooks: ``server.state.vendor("atlas")`` is the :class:`AtlasSimulator`;
:meth:`AtlasSimulator.add_custom_field`, :meth:`~AtlasSimulator.rename_field`,
:meth:`~AtlasSimulator.remove_field` change the template of the current seed,
:meth:`~AtlasSimulator.reset` drops every change (entities, links, templates).
"""

from __future__ import annotations

import base64
import binascii
import copy
import gc
import hashlib
import json
import logging
import threading
from collections import OrderedDict
from datetime import datetime, timezone
from typing import Any, Awaitable, Callable, Iterable, Mapping
from urllib.parse import parse_qsl, quote, urlencode

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from .atlas_filter import (
    DEFAULT_LIMIT, MAX_LIMIT, OPERATORS, VARIANTS, AtlasQuery, QueryError,
    check_entity_type, check_sort, compile_filters, is_number, page_size, parse_date,
    parse_query, parse_timestamp, resolve_filters, sort_key,
)
from .atlas_template import (
    CUSTOM_SECTION, NAME_FIELD, Template, build_templates, check_field_type, new_uuid,
)
from .data import shared_records
from .data_atlas import API_PREFIX, ENTITIES_PATH, entity_links
from .data_util import make_rng, utc_ms
from .settings import CREDENTIALS, variant
from .state import SandboxState, VendorSpec, json_error
from .tokens import TokenError

__all__ = ["VARIANTS", "OPERATORS", "DEFAULT_LIMIT", "MAX_LIMIT", "VENDOR", "AtlasSimulator", "AtlasStore"]

logger = logging.getLogger(__name__)

VENDOR_NAME = "atlas"
TOKEN_PATH = "/api/1.0/oauth/token"
TABLE_OF_TYPE = {"company": "companies", "contact": "contacts", "sale": "sales"}

Entity = dict[str, Any]
Endpoint = Callable[[Request], Awaitable[Response]]


class ApiError(Exception):
    """An error response ``{"message": ...}`` with a status code."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def _message(status: int, message: str, headers: dict[str, str] | None = None) -> JSONResponse:
    return json_error(status, {"message": message}, headers=headers)


def _json_text(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False)


class AtlasStore:
    """The live (mutable) data of one seed: templates, entities and links.

    Copy-on-write: an entity's ``fields`` dict and a link's roles list start out
    shared with the generated records and are only ever replaced, never mutated.
    """

    def __init__(self, seed: int) -> None:
        self.seed = seed
        self.templates: dict[str, Template] = build_templates(seed)
        self.entities: dict[str, Entity] = {}
        self.by_type: dict[str, dict[str, Entity]] = {}
        for entity_type, table in TABLE_OF_TYPE.items():
            bucket = {row["id"]: {"id": row["id"], "type": row["type"], "fields": row["fields"]}
                      for row in shared_records(VENDOR_NAME, table, seed)}
            self.by_type[entity_type] = bucket
            self.entities.update(bucket)
        self._links: dict[str, dict[str, list[str]]] | None = None
        self.rng = make_rng(seed, "atlas", "store")

    @property
    def links(self) -> dict[str, dict[str, list[str]]]:
        """Entity id -> linked entity id -> roles (both directions; built on first use)."""
        if self._links is None:
            links: dict[str, dict[str, list[str]]] = {}
            was_enabled = gc.isenabled()
            gc.disable()
            try:
                for row in shared_records(VENDOR_NAME, "links", self.seed):
                    other = links.get(row["entity_id"])
                    if other is None:
                        other = links[row["entity_id"]] = {}
                    other[row["other_entity_id"]] = row["roles"]
            finally:
                if was_enabled:
                    gc.enable()
            self._links = links
        return self._links

    def new_id(self) -> str:
        """A fresh entity or field id (UUID, deterministic per store)."""
        while True:
            candidate = new_uuid(self.rng)
            if candidate not in self.entities:
                return candidate

    def link(self, a: str, b: str, roles: list[str]) -> None:
        """Create or replace the symmetric link between ``a`` and ``b``."""
        self.links.setdefault(a, {})[b] = list(roles)
        self.links.setdefault(b, {})[a] = list(roles)

    def unlink(self, a: str, b: str) -> None:
        """Remove the link between ``a`` and ``b`` (both directions)."""
        self.links.get(a, {}).pop(b, None)
        self.links.get(b, {}).pop(a, None)


class AtlasSimulator:
    """Request handlers and test hooks of the Atlas simulator for one server."""

    def __init__(self, state: SandboxState, cache_size: int = 32) -> None:
        self.state = state
        self._stores: dict[int, AtlasStore] = {}
        self._lock = threading.RLock()
        self._cache: OrderedDict[tuple[Any, ...], list[Entity]] = OrderedDict()
        self._cache_size = cache_size
        self._modified = False

    def routes(self) -> list[BaseRoute]:
        """The simulator's routes, relative to the ``/atlas`` prefix."""
        p = API_PREFIX
        return [
            Route(TOKEN_PATH, self.token, methods=["POST"]),
            Route(f"{p}/template/{{entity_type}}", self.get_template, methods=["GET"]),
            Route(f"{p}/entities", self.list_entities, methods=["GET"]),
            Route(f"{p}/entities", self.create_entity, methods=["POST"]),
            Route(f"{p}/entities/{{id}}", self.get_entity, methods=["GET"]),
            Route(f"{p}/entities/{{id}}", self.update_entity, methods=["PUT"]),
            Route(f"{p}/entities/{{id}}", self.delete_entity, methods=["DELETE"]),
            Route(f"{p}/entities/{{id}}/links", self.list_links, methods=["GET"]),
            Route(f"{p}/entities/{{id}}/links", self.create_link, methods=["POST"]),
            Route(f"{p}/entities/{{id}}/links/{{other}}", self.get_link, methods=["GET"]),
            Route(f"{p}/entities/{{id}}/links/{{other}}", self.update_link, methods=["PUT"]),
            Route(f"{p}/entities/{{id}}/links/{{other}}", self.delete_link, methods=["DELETE"]),
        ]

    # ------------------------------------------------------------ state/hooks
    def store(self) -> AtlasStore:
        """The live data of the current seed (created from the generated data on first use)."""
        seed = self.state.settings.seed
        with self._lock:
            store = self._stores.get(seed)
            if store is None:
                store = AtlasStore(seed)
                self._stores[seed] = store
            return store

    def reset(self) -> None:
        """Forget every write and template change (all seeds): back to the generated data."""
        with self._lock:
            self._stores.clear()
            self._cache.clear()
            self._modified = False

    @property
    def modified(self) -> bool:
        """True when a write or template change happened since the start or the last :meth:`reset`."""
        return self._modified

    def _invalidate(self) -> None:
        """After any write: clear the filter cache."""
        self._cache.clear()
        self._modified = True

    def template(self, entity_type: str) -> dict[str, Any]:
        """The current template of ``entity_type`` (as ``GET /template/{type}`` returns it)."""
        check_entity_type(entity_type)
        with self._lock:
            return self.store().templates[entity_type].to_json()

    def add_custom_field(self, entity_type: str, label: str, field_type: str,
                         options: Iterable[str] | None = None, *, currency: str | None = None,
                         required: bool = False, section: str = CUSTOM_SECTION) -> str:
        """Add a custom field (UUID id) to the template of the current seed; return its id.

        ``options`` (option labels) are required for single- and multi-select fields.
        """
        check_entity_type(entity_type)
        check_field_type(field_type)
        labels = list(options or [])
        if field_type in ("single-select", "multi-select") and not labels:
            raise ValueError(f"a {field_type} field needs options")
        config: dict[str, Any] = {}
        if labels:
            config["options"] = [{"label": label} for label in labels]
        if currency:
            config["currency"] = currency
        with self._lock:
            store = self.store()
            field_id = store.new_id()
            store.templates[entity_type].add_field(
                {"id": field_id, "label": label, "type": field_type, "default-value": None,
                 "config": config, "required": required}, section)
            self._invalidate()
        logger.debug("atlas: added %s field %r (%s) as %s", entity_type, label, field_type, field_id)
        return field_id

    def rename_field(self, entity_type: str, field_id: str, new_label: str) -> None:
        """Change the label of a field of the current seed's template (``KeyError`` if unknown)."""
        check_entity_type(entity_type)
        with self._lock:
            field = self.store().templates[entity_type].field(field_id)
            if field is None:
                raise KeyError(f"unknown {entity_type} field {field_id!r}")
            field["label"] = new_label
            self._invalidate()

    def remove_field(self, entity_type: str, field_id: str) -> None:
        """Remove a field from the template and its values from every entity of the type."""
        check_entity_type(entity_type)
        with self._lock:
            store = self.store()
            store.templates[entity_type].remove_field(field_id)
            for entity in store.by_type[entity_type].values():
                if field_id in entity["fields"]:  # copy-on-write: never mutate shared dicts
                    entity["fields"] = {k: v for k, v in entity["fields"].items() if k != field_id}
            self._invalidate()

    def entities(self, entity_type: str) -> list[Entity]:
        """Deep copies of the live entities of a type (``{"id", "type", "fields"}``), default order."""
        check_entity_type(entity_type)
        with self._lock:
            rows = list(self.store().by_type[entity_type].values())
            name = NAME_FIELD[entity_type]
            rows.sort(key=sort_key(name, "string", "last"))
            return copy.deepcopy(rows)

    # ------------------------------------------------------------------ auth
    async def token(self, request: Request) -> Response:
        """``POST /api/1.0/oauth/token``."""
        raw = (await request.body()).decode("utf-8", "replace")
        form = dict(parse_qsl(raw, keep_blank_values=True))
        basic = request.headers.get("authorization", "")
        if basic[:6].lower() == "basic ":
            try:
                user, _, secret = base64.b64decode(basic[6:].strip()).decode("utf-8").partition(":")
                form.setdefault("client_id", user)
                form.setdefault("client_secret", secret)
            except (binascii.Error, UnicodeDecodeError):
                pass
        creds = CREDENTIALS[VENDOR_NAME]
        if form.get("client_id") != creds["client_id"] or form.get("client_secret") != creds["client_secret"]:
            return _message(401, "Invalid client credentials")
        grant = form.get("grant_type")
        if grant != "client_credentials":
            what = f"Unsupported grant_type '{grant}'" if grant else "Missing grant_type"
            return _message(400, f"{what}: only client_credentials is supported "
                                 f"(send a form-encoded body)")
        ttl = self.state.settings.token_ttl_s
        access = self.state.tokens.issue_access(VENDOR_NAME, creds["client_id"], ttl)
        return JSONResponse({"access_token": access, "token_type": "Bearer", "expires_in": int(ttl)})

    def _guard(self, request: Request) -> Response | None:
        header = request.headers.get("authorization", "")
        scheme, _, token = header.partition(" ")
        presented = token.strip() if scheme.lower() == "bearer" else None
        try:
            self.state.tokens.check_access(VENDOR_NAME, presented)
        except TokenError:
            return _message(401, "Unauthorized", headers={"WWW-Authenticate": "Bearer"})
        ctype = request.headers.get("content-type", "").split(";")[0].strip().lower()
        if ctype != "application/json":
            return _message(400, "Content-Type must be application/json")
        return None

    def _variants(self) -> dict[str, str]:
        return {key: variant(self.state.settings, key) for key in VARIANTS}

    # ------------------------------------------------------------- plumbing
    async def _handle(self, request: Request, handler: Callable[..., Response],
                      with_body: bool = False) -> Response:
        denied = self._guard(request)
        if denied is not None:
            return denied
        try:
            variants = self._variants()
        except ValueError as exc:
            return _message(500, str(exc))
        body: Any = None
        if with_body:
            raw = await request.body()
            try:
                body = json.loads(raw) if raw.strip() else None
            except (json.JSONDecodeError, UnicodeDecodeError):
                return _message(400, "Request body is not valid JSON")
            if not isinstance(body, dict):
                return _message(400, "Request body must be a JSON object")
        try:
            with self._lock:
                return handler(request, variants, body)
        except (ApiError, QueryError) as exc:
            status = exc.status if isinstance(exc, ApiError) else 400
            return _message(status, exc.message if isinstance(exc, ApiError) else str(exc))

    @staticmethod
    def _base(request: Request) -> str:
        return f"{request.url.scheme}://{request.url.netloc}{request.scope.get('root_path', '')}"

    @staticmethod
    def _pairs(request: Request) -> list[tuple[str, str]]:
        raw = request.scope.get("query_string", b"").decode("utf-8", "replace")
        return parse_qsl(raw, keep_blank_values=True, encoding="utf-8", errors="replace")

    def _entity(self, store: AtlasStore, entity_id: str) -> Entity:
        entity = store.entities.get(entity_id)
        if entity is None:
            raise ApiError(404, "Entity not found")
        return entity

    @staticmethod
    def _render(entity: Entity, base: str, with_fields: bool = True) -> dict[str, Any]:
        out: dict[str, Any] = {"id": entity["id"], "type": entity["type"]}
        if with_fields:
            out["fields"] = entity["fields"]
        out["_links"] = entity_links(entity["id"], base)
        return out

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

    # ------------------------------------------------------------- templates
    async def get_template(self, request: Request) -> Response:
        """``GET /api/1.0/workspace/CRM/template/{entity-type}``."""
        def handler(request: Request, variants: Mapping[str, str], body: Any) -> Response:
            entity_type = check_entity_type(request.path_params["entity_type"])
            return JSONResponse(self.store().templates[entity_type].to_json())
        return await self._handle(request, handler)

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
        cached = self._cache.get(key)
        if cached is not None:
            self._cache.move_to_end(key)
            return cached
        types = store.templates[entity_type].field_types()
        rows = store.by_type[entity_type].values()
        if groups:
            predicate = compile_filters(groups, types, variants)
            result = [e for e in rows if predicate(e)]
        else:
            result = list(rows)
        field_id = sort_by or NAME_FIELD[entity_type]
        result.sort(key=sort_key(field_id, types.get(field_id, "string"), variants["atlas.sort_nulls"]))
        self._cache[key] = result
        if len(self._cache) > self._cache_size:
            self._cache.popitem(last=False)
        return result

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
    def _link_item(self, store: AtlasStore, entity_id: str, other: Entity, base: str) -> dict[str, Any]:
        return {"roles": list(store.links[entity_id][other["id"]]),
                "entity": self._render(other, base, with_fields=False),
                "_links": {"self": {"href": f"{base}{ENTITIES_PATH}/{entity_id}/links/{other['id']}"}}}

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


# ------------------------------------------------------------------ helpers
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


def _roles(value: Any) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(r, str) for r in value):
        raise ApiError(400, "'roles' must be an array of strings")
    return list(dict.fromkeys(value))


def _check_value(template: Template, field: dict[str, Any], value: Any) -> Any:
    """Validate a written value for ``field``; return the value to store (None: remove)."""
    field_id, ftype = field["id"], field["type"]

    def bad(expected: str) -> ApiError:
        return ApiError(400, f"Invalid value for field '{field_id}' ({ftype}): expected {expected}, "
                             f"got {_json_text(value)}")

    if value is None:
        return None
    if ftype in ("string", "text"):
        if not isinstance(value, str):
            raise bad("a string")
        return value
    if ftype == "user":
        if not isinstance(value, str) or not value:
            raise bad("an Atlassian account id")
        return value
    if ftype == "date":
        if parse_date(value) is None:
            raise bad("a date yyyy-mm-dd")
        return value
    if ftype == "timestamp":
        instant = parse_timestamp(value)
        if instant is None:
            raise bad("an ISO-8601 date-time")
        return utc_ms(instant.astimezone(timezone.utc))
    if ftype == "decimal":
        if not is_number(value):
            raise bad("a number")
        return value
    options = template.options(field_id)
    if ftype == "single-select":
        if not isinstance(value, str) or value not in options:
            raise ApiError(400, f"Invalid option {_json_text(value)} for field '{field_id}' "
                                f"(single-select); options: {', '.join(options)}")
        return value
    # multi-select
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise bad("an array of option labels")
    for label in value:
        if label not in options:
            raise ApiError(400, f"Invalid option {_json_text(label)} for field '{field_id}' "
                                f"(multi-select); options: {', '.join(options)}")
    return list(dict.fromkeys(value)) or None


def _apply(template: Template, fields: dict[str, Any], values: Mapping[str, Any]) -> None:
    """Validate ``values`` against ``template`` and write them into ``fields`` (None removes)."""
    for field_id, value in values.items():
        field = template.field(field_id)
        if field is None:
            raise ApiError(400, f"Unknown field '{field_id}' for entity type '{template.entity_type}'")
        stored = _check_value(template, field, value)
        if stored is None:
            fields.pop(field_id, None)
        else:
            fields[field_id] = stored


def build_routes(state: SandboxState) -> list[BaseRoute]:
    """Routes of a fresh simulator bound to ``state`` (reachable as ``state.vendor("atlas")``)."""
    simulator = AtlasSimulator(state)
    state.register_vendor(VENDOR_NAME, simulator)
    return simulator.routes()


#: Registration of this simulator with the server.
VENDOR = VendorSpec(name=VENDOR_NAME, build_routes=build_routes, token_paths=frozenset({TOKEN_PATH}))
