"""What HTTP connectors share: building the client and auth flow from settings, GET-by-id fan-out.

>>> class Demo(HttpConnectorMixin):
...     settings = {"concurrency": 4}
>>> Demo().concurrency
4
"""

from __future__ import annotations

import asyncio
from urllib.parse import quote
from collections.abc import Sequence
from typing import Any

from .. import stats
from ..catalog import Table
from ..http import HttpClient, OAuthClientCredentials, OAuthPassword
from ..http.auth import Auth
from ..http.retry import RetryPolicy
from .early import EarlyRequests

__all__ = ["HttpConnectorMixin", "path_id"]


def path_id(value: object) -> str:
    """An id as one URL path segment: percent-encoded, so ``../x`` or ``a?b`` stay a (missing) id.

    >>> path_id("../contact/1?x=2")
    '..%2Fcontact%2F1%3Fx%3D2'
    """
    return quote(str(value), safe="")

DEFAULT_CONCURRENCY = 8


class HttpConnectorMixin:
    """Lazily builds ``self.http`` (an :class:`HttpClient`) from the connection settings."""

    settings: dict[str, Any]
    display: str = ""
    vendor: str = ""
    token_path: str = ""
    _http: HttpClient | None = None
    _early: EarlyRequests | None = None

    @property
    def early(self) -> EarlyRequests:
        """Requests started before the plan that uses them (see :mod:`crmql.connectors.early`)."""
        if self._early is None:
            self._early = EarlyRequests()
        return self._early

    def discard_early(self) -> None:
        if self._early is not None:
            self._early.discard()

    @property
    def concurrency(self) -> int:
        return int(self.settings.get("concurrency") or DEFAULT_CONCURRENCY)

    def make_auth(self) -> Auth | None:
        """OAuth password flow when a username is configured, else client credentials."""
        s = self.settings
        if s.get("username"):
            return OAuthPassword(self.token_path, s["client_id"], s["client_secret"], s["username"], s["password"])
        return OAuthClientCredentials(self.token_path, s["client_id"], s["client_secret"],
                                      send_as=s.get("auth_style", "body"))

    def default_headers(self) -> dict[str, str]:
        return {"Content-Type": "application/json", "Accept": "application/json"}

    @property
    def http(self) -> HttpClient:
        if self._http is None:
            s = self.settings
            if callable(s.get("base_url")):  # a sandbox connection: the server starts on first use
                s["base_url"] = s["base_url"]()
            self._http = HttpClient(
                vendor=self.display or self.vendor,
                base_url=s["base_url"],
                auth=self.make_auth(),
                timeout_s=float(s.get("timeout_s") or 30.0),
                concurrency=self.concurrency,
                requests_per_second=s.get("requests_per_second"),
                retry=self.retry_policy(),
                headers=self.default_headers(),
            )
        return self._http

    def retry_policy(self) -> RetryPolicy:
        """The retry policy; ``max_attempts``, ``retry_base_s`` and ``retry_cap_s`` override its defaults.

        >>> class Demo(HttpConnectorMixin):
        ...     settings = {"max_attempts": 3, "retry_base_s": 0.001}
        >>> Demo().retry_policy().max_attempts, Demo().retry_policy().backoff_base_s
        (3, 0.001)
        """
        s, default = self.settings, RetryPolicy()
        return RetryPolicy(
            max_attempts=int(s["max_attempts"]) if s.get("max_attempts") is not None else default.max_attempts,
            backoff_base_s=float(s["retry_base_s"]) if s.get("retry_base_s") is not None else default.backoff_base_s,
            backoff_cap_s=float(s["retry_cap_s"]) if s.get("retry_cap_s") is not None else default.backoff_cap_s,
        )

    async def fetch_by_ids(self, table: Table, paths: Sequence[str], sink: Any) -> None:
        """GET each path concurrently; a 404 is simply no row."""
        current = stats.current()
        current.set_total_pages(len(paths))

        async def one(path: str) -> dict[str, Any] | None:
            response = await self.http.request("GET", path, table=table.qualified, allow_status=(404,))
            current.add(pages=1)
            if response.status_code == 404:
                return None
            return response.json()

        results = await asyncio.gather(*(one(p) for p in paths if p))
        records = [r for r in results if isinstance(r, dict)]
        current.add(rows_fetched=len(records))
        sink(records)

    async def aclose(self) -> None:
        if self._early is not None:
            self._early.discard()
        if self._http is not None:
            await self._http.aclose()
            self._http = None
