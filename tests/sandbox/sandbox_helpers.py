"""Helpers shared by the sandbox tests (imported by the test modules)."""

from __future__ import annotations

from typing import Any

import httpx

from crmql.sandbox import CREDENTIALS

AZ = CREDENTIALS["azavista"]

SEARCH_PATHS = {
    "events": ("/3.0/event/search", "event_filter", "events"),
    "organizations": ("/3.1/organization/search", "organization_filter", "organizations"),
    "contacts": ("/3.1/contact/search", "contact_filter", "contacts"),
}


def fetch_token(client: httpx.Client) -> str:
    resp = client.post("/3.0/oauth/token", data={
        "grant_type": "client_credentials",
        "client_id": AZ["client_id"],
        "client_secret": AZ["client_secret"],
    })
    assert resp.status_code == 200, resp.text
    return resp.json()["access_token"]


def search(client: httpx.Client, auth: dict[str, str], table: str, tree: Any = None,
           **body: Any) -> httpx.Response:
    path, key, _ = SEARCH_PATHS[table]
    payload = dict(body)
    if tree is not None:
        payload[key] = tree
    return client.post(path, headers=auth, json=payload)


def search_all(client: httpx.Client, auth: dict[str, str], table: str, tree: Any = None) -> list[dict]:
    """Page through every match of ``tree`` and return the records."""
    _, _, list_key = SEARCH_PATHS[table]
    out: list[dict] = []
    offset = 0
    while True:
        resp = search(client, auth, table, tree, limit=50, offset=offset)
        assert resp.status_code == 200, resp.text
        body = resp.json()
        out.extend(body[list_key])
        offset += 50
        if offset >= body["object_count"]:
            assert len(out) == body["object_count"]
            return out
