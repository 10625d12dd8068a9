"""Request plumbing every simulator shares: the access-token guard, the JSON body, the variants.

Each returns a plain value or raises with a client-facing message; the simulator turns that into
its own error shape (Azavista ``{"error", "message"}``, Atlas ``{"message"}``, ...).

>>> json_object(b' {"limit": 5} ', empty_is_object=False)
{'limit': 5}
>>> json_object(b"", empty_is_object=True)
{}
>>> json_object(b"[1]", empty_is_object=True)
Traceback (most recent call last):
crmql.sandbox.core.requests.BodyError: Request body must be a JSON object
>>> TokenGuard().presented({"authorization": "Bearer abc "})
'abc'
>>> TokenGuard(header="token", scheme=None).presented({"token": "abc"})
'abc'
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from .settings import SandboxSettings, variant
from .state import SandboxState
from .tokens import TokenError

__all__ = ["BodyError", "TokenGuard", "json_object", "variants_of"]

logger = logging.getLogger(__name__)


class BodyError(ValueError):
    """A request body the simulator refuses (the message is client-facing)."""


def json_object(raw: bytes, *, empty_is_object: bool) -> dict[str, Any]:
    """The request body as a JSON object; an empty body is ``{}`` when ``empty_is_object``, else an
    error. Raises :class:`BodyError` ("not valid JSON", "must be a JSON object")."""
    if not raw.strip():
        if empty_is_object:
            return {}
        raise BodyError("Request body must be a JSON object")
    try:
        body = json.loads(raw)
    except (json.JSONDecodeError, UnicodeDecodeError):
        raise BodyError("Request body is not valid JSON") from None
    if not isinstance(body, dict):
        raise BodyError("Request body must be a JSON object")
    return body


@dataclass(frozen=True)
class TokenGuard:
    """Where a simulator reads the access token: ``Authorization: Bearer <token>`` by default, or a
    header of its own holding the bare token (``header="token", scheme=None``, as casavi)."""

    header: str = "authorization"
    scheme: str | None = "bearer"

    def presented(self, headers: Mapping[str, str]) -> str | None:
        """The token the request presents, or None."""
        value = headers.get(self.header, "")
        if self.scheme is None:
            return value.strip() or None
        scheme, _, token = value.partition(" ")
        return token.strip() if scheme.lower() == self.scheme else None

    def refusal(self, state: SandboxState, vendor: str, headers: Mapping[str, str]) -> str | None:
        """Why the request's token is not accepted (missing, invalid, expired), or None when it is."""
        try:
            state.tokens.check_access(vendor, self.presented(headers))
        except TokenError as exc:
            return str(exc)
        return None


def variants_of(settings: SandboxSettings, keys: Iterable[str]) -> dict[str, str]:
    """The current value of each variant in ``keys`` (its default when unset); a stored value that
    is not allowed raises ``ValueError`` (the simulator answers 500: the sandbox is misconfigured)."""
    return {key: variant(settings, key) for key in keys}
