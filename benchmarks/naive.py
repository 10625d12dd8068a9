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


class NaiveClient:
    """A sequential fetch-all client: one token, then page after page with an empty filter.

    Use as a context manager (it holds one keep-alive ``httpx.Client``)::

        with NaiveClient(base_url, client_id, client_secret) as c:
            contacts = c.fetch_all("contacts")
    """

    def __init__(self, base_url: str, client_id: str, client_secret: str, *, timeout_s: float = 30.0) -> None:
        self.client_id = client_id
        self.client_secret = client_secret
        self.http = httpx.Client(base_url=base_url.rstrip("/"), timeout=timeout_s)
        self.headers: dict[str, str] | None = None

    def __enter__(self) -> NaiveClient:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def close(self) -> None:
        self.http.close()

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
