"""Fixtures and helpers of the Atlas simulator tests (no tests here; imported by them)."""

from __future__ import annotations

from typing import Any, Iterator
from urllib.parse import parse_qsl, urlsplit

import httpx
import pytest

from crmql.sandbox import CREDENTIALS, SandboxServer, records
from crmql.sandbox.atlas.template import custom_field_ids
from crmql.sandbox.atlas.data import entity_links

ATLAS = CREDENTIALS["atlas"]
TOKEN = "/api/1.0/oauth/token"
P = "/api/1.0/workspace/CRM"
ENTITIES = f"{P}/entities"
JSON = {"Content-Type": "application/json"}

COMPANIES = records("atlas", "companies")
CONTACTS = records("atlas", "contacts")
SALES = records("atlas", "sales")
LINKS = records("atlas", "links")
ROWS = {"company": COMPANIES, "contact": CONTACTS, "sale": SALES}
#: custom field key -> UUID id, per entity type (seed 42)
CF = {t: custom_field_ids(42, t) for t in ("company", "contact", "sale")}


def atlas_token(client: httpx.Client) -> str:
    resp = client.post(TOKEN, data={"grant_type": "client_credentials", **ATLAS})
    assert resp.status_code == 200, resp.text
    return resp.json()["access_token"]


@pytest.fixture(scope="module")
def _atlas_http(server: SandboxServer) -> Iterator[httpx.Client]:
    # one client per module: creating an httpx.Client (its SSL context) costs ~30 ms
    with httpx.Client(base_url=server.base_url("atlas"), timeout=10) as c:
        yield c


@pytest.fixture
def atlas(_atlas_http: httpx.Client) -> Iterator[httpx.Client]:
    """A client of the Atlas simulator sending a fresh bearer token and Content-Type on every request."""
    _atlas_http.headers.update({"Authorization": f"Bearer {atlas_token(_atlas_http)}", **JSON})
    yield _atlas_http
    _atlas_http.headers.pop("Authorization", None)
    _atlas_http.headers.pop("Content-Type", None)


@pytest.fixture
def raw(_atlas_http: httpx.Client) -> Iterator[httpx.Client]:
    """A client of the Atlas simulator without default headers."""
    _atlas_http.headers.pop("Authorization", None)
    _atlas_http.headers.pop("Content-Type", None)
    yield _atlas_http


@pytest.fixture(autouse=True)
def _fresh_atlas(server: SandboxServer) -> Iterator[None]:
    """Undo writes and template changes after a test that made some."""
    yield
    simulator = server.state.vendor("atlas")
    if simulator.modified:
        simulator.reset()


def listing(client: httpx.Client, params: Any) -> httpx.Response:
    return client.get(ENTITIES, params=params)


def list_all(client: httpx.Client, params: Any, path: str = ENTITIES) -> tuple[list[dict], list[httpx.Response]]:
    """Follow ``_links.next`` until it is absent; return every item and every response."""
    resp = client.get(path, params=params)
    responses = [resp]
    items: list[dict] = []
    while True:
        assert resp.status_code == 200, resp.text
        body = resp.json()
        items.extend(body["items"])
        nxt = body["_links"].get("next")
        if nxt is None:
            break
        assert len(responses) < 1000
        resp = client.get(nxt["href"])
        responses.append(resp)
    return items, responses


def ids(rows: list[dict]) -> list[str]:
    return [r["id"] for r in rows]


def where(entity_type: str, predicate: Any) -> list[str]:
    """Ids of the generated entities of a type matching ``predicate(fields)``, in default order."""
    return [r["id"] for r in ROWS[entity_type] if predicate(r["fields"])]


def as_served(record: dict, base: str) -> dict:
    """A generated record as the served API shows it (absolute self link)."""
    return {**record, "_links": entity_links(record["id"], base)}


def query_pairs(href: str) -> list[tuple[str, str]]:
    return parse_qsl(urlsplit(href).query, keep_blank_values=True)
