"""Helpers of the casavi Community simulator tests: the credentials, a token, paged scans over
real HTTP, and the ISO-8601 times the API writes."""

from __future__ import annotations

import re
from typing import Any

import httpx

from crmql.sandbox.casavi_community.spec import CLIENT_ID, REFRESH_TOKEN

VENDOR = "casavi_community"
UTC_MS = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$")
#: the variants the lead's contract fixes (names, values, default first)
CONTRACT_VARIANTS = {
    "casavi_community.page_base": ["0", "1"], "casavi_community.ticket_list": ["summary", "full"],
    "casavi_community.notifications_order": ["newest_first", "oldest_first", "unsorted", "all"],
    "casavi_community.notifications_range": ["exclusive", "inclusive"],
    "casavi_community.refresh_rotation": ["stable", "rotate"], "casavi_community.page_size_max": ["100", "50"],
}


def refresh(client: httpx.Client, token: str = REFRESH_TOKEN, client_id: str = CLIENT_ID) -> httpx.Response:
    """A refresh_token grant at the simulator's token endpoint."""
    return client.post("/oidc/token", data={"grant_type": "refresh_token", "refresh_token": token,
                                            "client_id": client_id})


def bearer(client: httpx.Client) -> dict[str, str]:
    """The ``Authorization`` header of a fresh access token."""
    answer = refresh(client)
    assert answer.status_code == 200, answer.text
    return {"Authorization": f"Bearer {answer.json()['access_token']}"}


def scan_pages(client: httpx.Client, headers: dict[str, str], path: str, limit: int | None,
               first: int = 0) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Every row of a page-index list: the first page, then pages ``first + 1 .. pageCount - 1 + first``
    as its pageCount says: ``(rows, envelopes without rows)``."""
    params: dict[str, Any] = {} if limit is None else {"limit": limit}
    answer = client.get(path, params=params, headers=headers)
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert set(body) == {"page", "pageCount", "pageSize", "rows"}, body.keys()
    rows, envelopes = list(body["rows"]), [{k: v for k, v in body.items() if k != "rows"}]
    for page in range(first + 1, first + body["pageCount"]):
        answer = client.get(path, params={**params, "page": page}, headers=headers)
        assert answer.status_code == 200, answer.text
        rows += answer.json()["rows"]
        envelopes.append({k: v for k, v in answer.json().items() if k != "rows"})
    return rows, envelopes
