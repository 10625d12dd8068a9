"""A fake vendor on loopback that impersonates Azavista and Atlas CRM closely enough for crmql's
connectors (token endpoints included), and misbehaves on demand.

Two listeners run uvicorn on daemon threads: the *vendor* (``url``: ``/azavista/...`` and
``/atlas/...``) and a *catcher* on another port (``catcher_url``) that answers like the vendor
but exists only to receive what should never reach it. Every request to either is recorded as a
:class:`Hit`, with the ``Authorization`` header it carried, so a test can assert that the token
only went to the vendor's own origin (:meth:`HostileVendor.leaks`).

The vendor is well-behaved by default; :class:`Mode` switches on one misbehaviour at a time
(a foreign or self next link, a lying or malformed total, string items, a template field that
would shadow ``id``, an HTML or huge body, or any response a test builds with ``override``).

>>> with serve() as vendor:                                     # doctest: +SKIP
...     vendor.mode.total = 20000                               # object_count lies
...     vendor.session().query("SELECT id FROM azavista.events")
"""

from __future__ import annotations

import json
import logging
import secrets
import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, urlencode

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from crmql.api.config import Config, ConnectionConfig
from crmql.api.session import Session

__all__ = ["AZAVISTA_TABLES", "Hit", "HostileVendor", "Mode", "serve"]

log = logging.getLogger(__name__)

CLIENT_ID, CLIENT_SECRET = "hostile-client", "hostile-secret-3f9a"
AZAVISTA_TABLES = {"event": "events", "contact": "contacts", "organization": "organizations"}
ATLAS_TYPES = ("company", "contact", "sale")
ATLAS_API = "/atlas/api/1.0/workspace/CRM"
#: Mode.total's default: report the true number of records
TRUE = object()


@dataclass(frozen=True)
class Hit:
    """One request a listener received."""

    listener: str  # "vendor" | "catcher"
    method: str
    path: str
    query: str
    authorization: str | None


@dataclass
class Mode:
    """How the fake vendor (mis)behaves; the defaults are a well-behaved vendor.

    ``next_link``: the Atlas list's next link, a ``str.format`` template over ``catcher`` (the
    catcher's URL), ``catcher_hostport``, ``vendor`` (the vendor's URL) and ``self`` (the URL just
    requested), or ``"endless"`` (a new URL every page, never ending). ``total``: the
    ``object_count`` / ``total`` reported (``TRUE``: the real one; ``None``: left out; any other
    value is written as is, ``float('inf')`` as ``Infinity``). ``page_cap``: most records served per
    page, whatever was asked. ``items``: ``"objects"`` or ``"strings"``. ``shadow_id``: the contact
    template gains a field whose id is ``shadow_field`` (``id`` unless set: ``ID``, ``Type``...). ``body``: ``"html"`` (a 200 with an HTML page) or
    ``"huge"`` (a 200 with ``huge_records`` records). ``ignore_offset``: every Azavista page starts
    at the first record (no offset echoed). ``override(request, body)``: return a
    :class:`Response` to answer a vendor API request with it (token requests excepted).
    """

    rows: int = 120
    page_cap: int | None = None
    total: Any = TRUE
    next_link: str | None = None
    items: str = "objects"
    shadow_id: bool = False
    shadow_field: str = "id"
    body: str | None = None
    huge_records: int = 200_000
    ignore_offset: bool = False
    override: Callable[[Request, bytes], Response | None] | None = None


def azavista_record(kind: str, i: int) -> dict[str, Any]:
    """The i-th record of an Azavista table (every event is a 'sales' event)."""
    rid = f"{ATLAS_TYPES.index('contact') if kind == 'contact' else 0}{i:023x}"
    record = {"id": rid, "name": f"{kind} {i}", "created_at": "2025-01-01T00:00:00Z"}
    if kind == "event":
        record.update(event_type="sales", status="published")
    return record


def atlas_entity(etype: str, i: int) -> dict[str, Any]:
    return {"id": f"{etype}-{i:06d}", "type": etype,
            "fields": {f"{etype}-name": f"{etype} {i}", f"{etype}-email": f"{etype}{i}@example.com"}}


def dumps(value: Any) -> bytes:
    """JSON as a sloppy vendor writes it: NaN and Infinity allowed."""
    return json.dumps(value, allow_nan=True).encode()


class HostileVendor:
    """The fake vendor and its catcher, their request log and the mode in force."""

    def __init__(self) -> None:
        self.mode = Mode()
        self.token = "hostile-token-" + secrets.token_hex(12)
        self._hits: list[Hit] = []
        self._lock = threading.Lock()
        self._servers: list[tuple[uvicorn.Server, socket.socket, threading.Thread]] = []
        self.url = self._start("vendor")
        self.catcher_url = self._start("catcher")

    # ---- lifecycle
    def _start(self, name: str) -> str:
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(("127.0.0.1", 0))
        sock.listen(128)
        sock.setblocking(False)
        app = Starlette(routes=[Route("/{path:path}", self._endpoint(name),
                                      methods=["GET", "POST", "PUT", "DELETE", "HEAD", "OPTIONS", "PATCH"])])
        server = uvicorn.Server(uvicorn.Config(app, log_config=None, log_level="critical", access_log=False,
                                               loop="asyncio", lifespan="off", timeout_graceful_shutdown=1))
        thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True,
                                  name=f"hostile-{name}")
        thread.start()
        deadline = time.monotonic() + 10
        while not server.started:
            if time.monotonic() > deadline or not thread.is_alive():
                raise RuntimeError(f"hostile {name} did not start")
            time.sleep(0.005)
        self._servers.append((server, sock, thread))
        return "http://127.0.0.1:%d" % sock.getsockname()[1]

    def stop(self) -> None:
        for server, _, _ in self._servers:
            server.should_exit = True
        for server, sock, thread in self._servers:
            thread.join(5)
            if thread.is_alive():
                server.force_exit = True
                thread.join(5)
            sock.close()

    def __enter__(self) -> HostileVendor:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # ---- what tests use
    def reset(self) -> None:
        """Well-behaved again, with an empty request log."""
        self.mode = Mode()
        with self._lock:
            self._hits.clear()

    @property
    def hits(self) -> list[Hit]:
        with self._lock:
            return list(self._hits)

    def api_hits(self, listener: str = "vendor") -> list[Hit]:
        """Requests other than token requests."""
        return [h for h in self.hits if h.listener == listener and not h.path.endswith("/oauth/token")]

    def leaks(self) -> list[Hit]:
        """Requests that carried credentials (a bearer token or basic auth) anywhere but the vendor."""
        return [h for h in self.hits if h.listener != "vendor" and h.authorization]

    def config(self, **settings: Any) -> Config:
        """A config whose ``azavista`` and ``atlas`` connections point at this vendor."""
        base = {"client_id": CLIENT_ID, "client_secret": CLIENT_SECRET, "max_attempts": 2,
                "retry_base_s": 0.001, "retry_cap_s": 0.01, "timeout_s": 5, **settings}
        return Config({name: ConnectionConfig(name, name, {"base_url": f"{self.url}/{name}", **base})
                       for name in ("azavista", "atlas")}, source="hostile vendor")

    def session(self, **settings: Any) -> Session:
        return Session(self.config(**settings))

    # ---- serving
    def _endpoint(self, listener: str) -> Callable[[Request], Any]:
        async def endpoint(request: Request) -> Response:
            body = await request.body()
            hit = Hit(listener, request.method, request.url.path, request.url.query,
                      request.headers.get("authorization"))
            with self._lock:
                self._hits.append(hit)
            return self._answer(request, body)
        return endpoint

    def _answer(self, request: Request, body: bytes) -> Response:
        path = request.url.path
        if path.endswith("/oauth/token"):
            return Response(dumps({"access_token": self.token, "token_type": "bearer", "expires_in": 3600}),
                            media_type="application/json")
        mode = self.mode
        if mode.override is not None:
            answer = mode.override(request, body)
            if answer is not None:
                return answer
        if mode.body == "html":
            return Response(b"<!doctype html><html><body>Maintenance</body></html>", media_type="application/json")
        if path.startswith("/azavista/"):
            return self._azavista(request, path[len("/azavista"):], body)
        if path.startswith(ATLAS_API):
            return self._atlas(request, path[len(ATLAS_API):])
        return Response(dumps({"message": "no such endpoint"}), status_code=404, media_type="application/json")

    def _json(self, value: Any, status: int = 200) -> Response:
        return Response(dumps(value), status_code=status, media_type="application/json")

    def _total(self, real: int) -> dict[str, Any]:
        total = self.mode.total
        if total is None:
            return {}
        return {"value": real if total is TRUE else total}

    # ---- Azavista: POST /3.x/<kind>/search, GET /3.x/<kind>/<id>
    def _azavista(self, request: Request, path: str, body: bytes) -> Response:
        parts = path.strip("/").split("/")
        mode = self.mode
        if len(parts) == 3 and parts[2] == "search" and parts[1] in AZAVISTA_TABLES:
            kind = parts[1]
            try:
                asked = json.loads(body or b"{}")
            except ValueError:
                return self._json({"message": "bad json"}, 400)
            offset, limit = int(asked.get("offset", 0)), int(asked.get("limit", 50))
            echo = offset
            if mode.ignore_offset:  # serves the first records whatever the offset, and echoes none
                offset, echo = 0, None
            served = min(limit, mode.page_cap) if mode.page_cap else limit
            if mode.body == "huge":
                records: list[Any] = [azavista_record(kind, i) for i in range(mode.huge_records)]
            else:
                records = [azavista_record(kind, i) for i in range(offset, min(mode.rows, offset + served))]
            if mode.items == "strings":
                records = [r["id"] for r in records]
            answer: dict[str, Any] = {AZAVISTA_TABLES[kind]: records, "offset": echo, "limit": limit}
            total = self._total(mode.rows)
            if total:
                answer["object_count"] = total["value"]
            return self._json(answer)
        if len(parts) == 3 and parts[1] in AZAVISTA_TABLES and request.method == "GET":
            wanted = [azavista_record(parts[1], i) for i in range(mode.rows)]
            found = next((r for r in wanted if r["id"] == parts[2]), None)
            return self._json(found) if found else self._json({"message": "not found"}, 404)
        return self._json({"message": f"no such endpoint {path}"}, 404)

    # ---- Atlas: templates, entity lists with _links.next, entities by id, links
    def _atlas(self, request: Request, path: str) -> Response:
        mode = self.mode
        parts = path.strip("/").split("/")
        if parts[0] == "template" and len(parts) == 2 and parts[1] in ATLAS_TYPES:
            fields = [{"id": f"{parts[1]}-name", "label": "Name", "type": "string"},
                      {"id": f"{parts[1]}-email", "label": "E-mail", "type": "string"}]
            if mode.shadow_id and parts[1] == "contact":
                fields.append({"id": mode.shadow_field, "label": "Legacy id", "type": "string"})
            return self._json({"sections": [{"name": "General", "fields": fields}]})
        if parts == ["entities"]:
            query = dict(parse_qsl(request.url.query))
            etype = query.get("type", "contact")
            offset, limit = int(query.get("offset", 0)), int(query.get("limit", 20))
            served = min(limit, mode.page_cap) if mode.page_cap else limit
            end = offset + served if mode.next_link == "endless" else min(mode.rows, offset + served)
            items: list[Any] = [atlas_entity(etype, i) for i in range(offset, end)]
            if mode.shadow_id:
                for item in items:
                    item["fields"][mode.shadow_field] = "legacy-" + item["id"]
            if mode.items == "strings":
                items = [item["id"] for item in items]
            links: dict[str, Any] = {}
            if mode.next_link == "endless":
                links["next"] = {"href": self._page_url(query, offset + max(1, len(items)))}
            elif mode.next_link is not None and offset == 0:
                links["next"] = {"href": mode.next_link.format(
                    catcher=self.catcher_url, catcher_hostport=self.catcher_url.split("//", 1)[1],
                    vendor=self.url, self=str(request.url))}
            elif end < mode.rows:
                links["next"] = {"href": self._page_url(query, end)}
            answer: dict[str, Any] = {"items": items}
            total = self._total(mode.rows)
            if total:
                answer["total"] = total["value"]
            answer["_links"] = links
            return self._json(answer)
        if len(parts) == 2 and parts[0] == "entities":
            for etype in ATLAS_TYPES:
                for i in range(mode.rows):
                    if atlas_entity(etype, i)["id"] == parts[1]:
                        return self._json(atlas_entity(etype, i))
            return self._json({"message": "not found"}, 404)
        if len(parts) == 3 and parts[0] == "entities" and parts[2] == "links":
            return self._json({"items": [], "total": 0, "_links": {}})
        return self._json({"message": f"no such endpoint {path}"}, 404)

    def _page_url(self, query: dict[str, str], offset: int) -> str:
        return f"{self.url}{ATLAS_API}/entities?" + urlencode({**query, "offset": str(offset)})


@contextmanager
def serve() -> Iterator[HostileVendor]:
    """A running hostile vendor (and its catcher), stopped on exit."""
    vendor = HostileVendor()
    try:
        yield vendor
    finally:
        vendor.stop()
