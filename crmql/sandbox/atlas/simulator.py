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
  "config", "required"}]}]}`` (see :mod:`crmql.sandbox.atlas.template`).
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

Modules: this one (routes, test hooks, token endpoint), :mod:`~crmql.sandbox.atlas.base`
(request plumbing), :mod:`~crmql.sandbox.atlas.lists` (list routes, cursors),
:mod:`~crmql.sandbox.atlas.entities` (entity and link routes), :mod:`~crmql.sandbox.atlas.store`
(live data, write validation), :mod:`~crmql.sandbox.atlas.filter` (query semantics) and
:mod:`~crmql.sandbox.atlas.template` (templates).
"""

from __future__ import annotations

import copy
import logging
from typing import Any, Awaitable, Callable, Iterable, Mapping

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from .entities import AtlasEntityRoutes
from .filter import DEFAULT_LIMIT, MAX_LIMIT, OPERATORS, VARIANTS, check_entity_type, sort_key
from .lists import AtlasListRoutes
from .store import VENDOR_NAME, AtlasStore, Entity, _message
from .template import CUSTOM_SECTION, NAME_FIELD, check_field_type
from .data import API_PREFIX
from .spec import SIMULATOR, TOKEN_PATH
from ..core.oauth import TokenEndpoint, TokenErrors
from ..core.state import SandboxState

__all__ = ["VARIANTS", "OPERATORS", "DEFAULT_LIMIT", "MAX_LIMIT", "AtlasSimulator", "AtlasStore"]

logger = logging.getLogger(__name__)

_ONLY = ": only client_credentials is supported (send a form-encoded body)"
#: the token endpoint's refusals: ``{"message": ...}`` like every Atlas error
TOKEN_ERRORS = TokenErrors(body=lambda code, message: {"message": message},
                           invalid_client="Invalid client credentials", missing_grant="Missing grant_type" + _ONLY,
                           unsupported_grant="Unsupported grant_type '{grant}'" + _ONLY)

Endpoint = Callable[[Request], Awaitable[Response]]


class AtlasSimulator(AtlasListRoutes, AtlasEntityRoutes):
    """Request handlers and test hooks of the Atlas simulator for one server.

    Its state and request plumbing are :class:`~crmql.sandbox.atlas.base.AtlasBase`'s.
    """

    def routes(self) -> list[BaseRoute]:
        """The simulator's routes, relative to the ``/atlas`` prefix."""
        p = API_PREFIX
        token = TokenEndpoint(self.state, VENDOR_NAME, SIMULATOR.credentials, grants=("client_credentials",),
                              errors=TOKEN_ERRORS)
        return [
            Route(TOKEN_PATH, token.handle, methods=["POST"]),
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

    # ------------------------------------------------------------- templates
    async def get_template(self, request: Request) -> Response:
        """``GET /api/1.0/workspace/CRM/template/{entity-type}``."""
        def handler(request: Request, variants: Mapping[str, str], body: Any) -> Response:
            entity_type = check_entity_type(request.path_params["entity_type"])
            return JSONResponse(self.store().templates[entity_type].to_json())
        return await self._handle(request, handler)


def build_routes(state: SandboxState) -> list[BaseRoute]:
    """Routes of a fresh simulator bound to ``state`` (reachable as ``state.vendor("atlas")``)."""
    simulator = AtlasSimulator(state)
    state.register_vendor(VENDOR_NAME, simulator)
    return simulator.routes()

