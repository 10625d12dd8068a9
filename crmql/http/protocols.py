"""What an authentication flow may use of the client that calls it, as a protocol.

httpx's design: an auth flow is handed the client, it never imports it. :class:`AuthClient` is
the part of :class:`crmql.http.HttpClient` a flow needs (send a request, decode a JSON body, name
the vendor in errors), so :mod:`crmql.http.auth` (and the flows built on it) sit below
:mod:`crmql.http.client` and the client imports them, not the other way round.

>>> from crmql.http.client import HttpClient
>>> isinstance(HttpClient(vendor="demo", base_url="http://x"), AuthClient)
True
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from typing import Any, Protocol, runtime_checkable

import httpx

__all__ = ["AuthClient"]


@runtime_checkable
class AuthClient(Protocol):
    """The client as an auth flow sees it (structurally: :class:`crmql.http.HttpClient` is one)."""

    vendor: str

    async def request(
        self,
        method: str,
        url: str,
        *,
        table: str | None = None,
        params: Any = None,
        json: Any = None,
        data: Any = None,
        headers: Mapping[str, str] | None = None,
        idempotent: bool | None = None,
        authenticated: bool = True,
        allow_status: Collection[int] = (),
    ) -> httpx.Response:
        """Send one request (``authenticated=False`` for the token request itself)."""

    async def request_json(self, method: str, url: str, **kwargs: Any) -> Any:
        """:meth:`request`, then the strict JSON body."""

    def decode_json(self, response: httpx.Response, table: str | None = None) -> Any:
        """The strict JSON body of a response :meth:`request` returned."""
