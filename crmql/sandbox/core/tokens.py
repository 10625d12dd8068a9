"""In-memory OAuth token store shared by the simulators of one sandbox server.

Access tokens expire after a TTL (monotonic clock) and can all be revoked at
once (the ``expire`` fault).  Refresh tokens are single-use: redeeming one
invalidates it.  Tokens are scoped to a vendor so one vendor's token is not
accepted by another.
"""

from __future__ import annotations

import logging
import secrets
import threading
import time
from dataclasses import dataclass

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class AccessToken:
    """An issued access token."""

    vendor: str
    client_id: str
    username: str | None
    expires_at: float


@dataclass(frozen=True)
class RefreshToken:
    """An issued refresh token (bound to its client and user)."""

    vendor: str
    client_id: str
    username: str


class TokenError(Exception):
    """Why a presented access token is not acceptable (message is client-facing)."""


class TokenStore:
    """Issue, check, expire and revoke tokens (thread-safe)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._access: dict[str, AccessToken] = {}
        self._refresh: dict[str, RefreshToken] = {}

    def issue_access(
        self, vendor: str, client_id: str, ttl_s: float, username: str | None = None
    ) -> str:
        """Create an access token valid for ``ttl_s`` seconds and return it."""
        token = secrets.token_urlsafe(32)
        record = AccessToken(vendor, client_id, username, time.monotonic() + ttl_s)
        with self._lock:
            self._purge_expired()
            self._access[token] = record
        return token

    def issue_refresh(self, vendor: str, client_id: str, username: str) -> str:
        """Create a refresh token for ``username`` and return it."""
        token = secrets.token_urlsafe(32)
        with self._lock:
            self._refresh[token] = RefreshToken(vendor, client_id, username)
        return token

    def redeem_refresh(self, vendor: str, client_id: str, token: str) -> RefreshToken | None:
        """Consume a refresh token; return its record, or None if unknown or not ours."""
        with self._lock:
            record = self._refresh.get(token)
            if record is None or record.vendor != vendor or record.client_id != client_id:
                return None
            del self._refresh[token]
            return record

    def check_access(self, vendor: str, token: str | None) -> AccessToken:
        """Return the token's record or raise :class:`TokenError` with a reason."""
        if not token:
            raise TokenError("The access token is missing")
        with self._lock:
            record = self._access.get(token)
        if record is None or record.vendor != vendor:
            raise TokenError("The access token is invalid or has been revoked")
        if time.monotonic() >= record.expires_at:
            raise TokenError("The access token has expired")
        return record

    def revoke_all_access(self) -> int:
        """Revoke every issued access token (refresh tokens stay valid); return how many."""
        with self._lock:
            count = len(self._access)
            self._access.clear()
        logger.debug("revoked %d access tokens", count)
        return count

    def _purge_expired(self) -> None:
        # Keep recently expired tokens a while so clients get "expired", not "invalid".
        horizon = time.monotonic() - 300
        expired = [t for t, rec in self._access.items() if rec.expires_at <= horizon]
        for token in expired:
            del self._access[token]
