"""The baseline: what a person would write by hand against the Azavista API with httpx.

Get a ``client_credentials`` token, then POST the table's search endpoint with an empty filter,
50 rows per page (the documented maximum), ``offset += 50``, one request after the other, until
``object_count`` is reached. Every filter, join, sort and limit is then done in Python by the
caller. It deliberately knows nothing about crmql (its paths are written out by hand here).
"""

from __future__ import annotations

from typing import Any

import httpx

__all__ = ["ENDPOINTS", "PAGE_SIZE", "NaiveClient"]

PAGE_SIZE = 50
TOKEN_PATH = "/3.0/oauth/token"

#: table -> (search path, filter key, list key in the response)
ENDPOINTS: dict[str, tuple[str, str, str]] = {
    "events": ("/3.0/event/search", "event_filter", "events"),
    "contacts": ("/3.1/contact/search", "contact_filter", "contacts"),
    "organizations": ("/3.1/organization/search", "organization_filter", "organizations"),
}


class _Baseline:
    """The plumbing every hand-written baseline client shares: one keep-alive httpx client."""

    def __init__(self, base_url: str, client_id: str, client_secret: str, *, timeout_s: float = 30.0) -> None:
        self.client_id = client_id
        self.client_secret = client_secret
        self.http = httpx.Client(base_url=base_url.rstrip("/"), timeout=timeout_s)
        self.headers: dict[str, str] | None = None

    def __enter__(self) -> Any:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def close(self) -> None:
        self.http.close()


class NaiveClient(_Baseline):
    """A sequential fetch-all client: one token, then page after page with an empty filter.

    Use as a context manager (it holds one keep-alive ``httpx.Client``)::

        with NaiveClient(base_url, client_id, client_secret) as c:
            contacts = c.fetch_all("contacts")
    """

    def token(self) -> None:
        """Fetch a client_credentials token (the flow the vendor's article documents)."""
        r = self.http.post(TOKEN_PATH, data={
            "grant_type": "client_credentials",
            "client_id": self.client_id,
            "client_secret": self.client_secret,
        })
        r.raise_for_status()
        self.headers = {"Authorization": f"Bearer {r.json()['access_token']}"}

    def search(self, table: str, tree: dict[str, Any] | None = None, *, limit: int = PAGE_SIZE,
               offset: int = 0) -> dict[str, Any]:
        """One search request; returns the decoded response body."""
        if self.headers is None:
            self.token()
        path, filter_key, _ = ENDPOINTS[table]
        r = self.http.post(path, headers=self.headers,
                           json={filter_key: tree or {}, "limit": limit, "offset": offset})
        r.raise_for_status()
        return r.json()

    def fetch_all(self, table: str) -> list[dict[str, Any]]:
        """Every record of ``table``: empty filter, 50 per page, sequentially, until object_count."""
        _, _, list_key = ENDPOINTS[table]
        rows: list[dict[str, Any]] = []
        offset = 0
        while True:
            data = self.search(table, {}, limit=PAGE_SIZE, offset=offset)
            page = data.get(list_key) or []
            rows.extend(page)
            offset += PAGE_SIZE
            if not page or offset >= int(data.get("object_count") or 0):
                return rows


ATLAS_PAGE = 100
ATLAS_TOKEN_PATH = "/api/1.0/oauth/token"
ATLAS_API = "/api/1.0/workspace/CRM"
ATLAS_TYPES = {"companies": "company", "contacts": "contact", "sales": "sale"}


class NaiveAtlasClient(_Baseline):
    """The Atlas baseline, written by hand with httpx: a client_credentials token, then
    ``GET /entities?type=...&limit=100`` following ``_links.next`` one page after the other, with
    ``Content-Type: application/json`` on every request (the documented quirk). Every filter, sort
    and limit is then done in Python by the caller (``fields`` keyed by field id)."""

    def token(self) -> None:
        r = self.http.post(ATLAS_TOKEN_PATH, data={"grant_type": "client_credentials"},
                           auth=(self.client_id, self.client_secret))
        r.raise_for_status()
        self.headers = {"Authorization": f"Bearer {r.json()['access_token']}", "Content-Type": "application/json"}

    def get(self, url: str, params: Any = None) -> dict[str, Any]:
        if self.headers is None:
            self.token()
        r = self.http.get(url, params=params, headers=self.headers)
        r.raise_for_status()
        return r.json()

    def total(self, params: list[tuple[str, str]]) -> int:
        """The vendor's total for one list request's parameters (asked for one row)."""
        one = [(k, "1" if k == "limit" else v) for k, v in params]
        return int(self.get(f"{ATLAS_API}/entities", one)["total"])

    def fetch_all(self, table: str) -> list[dict[str, Any]]:
        """Every entity of ``table``: 100 per page, following next links sequentially."""
        data = self.get(f"{ATLAS_API}/entities", {"type": ATLAS_TYPES[table], "limit": ATLAS_PAGE})
        rows = list(data["items"])
        while (nxt := ((data.get("_links") or {}).get("next") or {}).get("href")):
            data = self.get(nxt)
            rows.extend(data["items"])
        return rows
