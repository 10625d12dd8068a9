"""Small helpers the auth flows of :mod:`crmql.http.flows` and :mod:`crmql.http.session_flow`
share: the vendor's message of a refusal, the connection's base URL, a dotted field of a body.

>>> _field({"a": {"b": 1}}, "a.b"), _field({"a": 1}, "a.b")
(1, None)
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

import httpx

from crmql.errors import ConfigError
from crmql.http.describe import vendor_message
from crmql.redaction import redact

if TYPE_CHECKING:
    from crmql.http.protocols import AuthClient as HttpClient  # the client as a flow sees it

__all__ = ["REJECTED", "_base_url", "_field", "_vendor_message"]

logger = logging.getLogger(__name__)

#: a credential the vendor refused
REJECTED = (400, 401, 403)


def _vendor_message(response: httpx.Response) -> str | None:
    message = vendor_message(response)  # Voyzu's ErrorMessage too
    return redact(message[:300]) if message else None


def _base_url(client: HttpClient) -> str:
    base = getattr(client, "base_url", None)  # an HttpClient has one
    if not isinstance(base, str):
        raise ConfigError("this auth flow needs the connection's base_url", vendor=client.vendor)
    return base


def _field(body: Any, path: str) -> Any:
    for key in path.split("."):
        body = body.get(key) if isinstance(body, dict) else None
    return body
