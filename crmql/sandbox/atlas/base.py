"""Atlas CRM simulator plumbing: the state and request handling its routes share.

:class:`AtlasBase` holds a simulator's stores (one per seed), its lock and its filter cache, and
runs every API request the same way (:meth:`~AtlasBase._handle`): bearer token and
``Content-Type`` first, then the JSON body, then the handler under the lock, with
:class:`~crmql.sandbox.atlas.store.ApiError` and filter errors turned into ``{"message"}``
responses.  The routes themselves are in :mod:`crmql.sandbox.atlas.lists` and
:mod:`crmql.sandbox.atlas.entities`; :class:`crmql.sandbox.atlas.simulator.AtlasSimulator` puts them together.
"""

from __future__ import annotations

import logging
import threading
from typing import Any, Callable
from urllib.parse import parse_qsl

from starlette.requests import Request
from starlette.responses import Response

from .filter import VARIANTS, QueryError
from .store import VENDOR_NAME, ApiError, AtlasStore, Entity, _message
from .data import ENTITIES_PATH, entity_links
from ..core.cache import ResultCache
from ..core.requests import BodyError, TokenGuard, json_object, variants_of
from ..core.state import SandboxState

__all__ = ["AtlasBase"]

logger = logging.getLogger(__name__)

GUARD = TokenGuard()


class AtlasBase:
    """State (stores per seed, lock, filter cache) and request plumbing of the Atlas simulator."""

    def __init__(self, state: SandboxState, cache_size: int = 32) -> None:
        self.state = state
        self._stores: dict[int, AtlasStore] = {}
        self._lock = threading.RLock()
        self._cache: ResultCache[list[Entity]] = ResultCache(cache_size)
        self._modified = False

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

    def _invalidate(self) -> None:
        """After any write: clear the filter cache."""
        self._cache.clear()
        self._modified = True

    # ------------------------------------------------------------------ auth
    def _guard(self, request: Request) -> Response | None:
        if GUARD.refusal(self.state, VENDOR_NAME, request.headers) is not None:
            return _message(401, "Unauthorized", headers={"WWW-Authenticate": "Bearer"})
        ctype = request.headers.get("content-type", "").split(";")[0].strip().lower()
        if ctype != "application/json":
            return _message(400, "Content-Type must be application/json")
        return None

    # ------------------------------------------------------------- plumbing
    async def _handle(self, request: Request, handler: Callable[..., Response],
                      with_body: bool = False) -> Response:
        denied = self._guard(request)
        if denied is not None:
            return denied
        try:
            variants = variants_of(self.state.settings, VARIANTS)
        except ValueError as exc:
            return _message(500, str(exc))
        body: Any = None
        if with_body:
            try:
                body = json_object(await request.body(), empty_is_object=False)
            except BodyError as exc:
                return _message(400, str(exc))
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

    # ---------------------------------------------------------------- links
    def _link_item(self, store: AtlasStore, entity_id: str, other: Entity, base: str) -> dict[str, Any]:
        return {"roles": list(store.links[entity_id][other["id"]]),
                "entity": self._render(other, base, with_fields=False),
                "_links": {"self": {"href": f"{base}{ENTITIES_PATH}/{entity_id}/links/{other['id']}"}}}
