"""A small asyncio token bucket that spaces out requests to a vendor.

>>> import asyncio
>>> from crmql.http.loop import run_sync
>>> limiter = RateLimiter(requests_per_second=100, burst=2)
>>> async def three() -> None:
...     for _ in range(3):
...         await limiter.acquire()
>>> run_sync(three())
"""

from __future__ import annotations

import asyncio
import logging
import time

__all__ = ["RateLimiter"]

logger = logging.getLogger(__name__)


class RateLimiter:
    """Token bucket: at most ``burst`` requests at once, refilled at ``requests_per_second``.

    The bucket starts full. Waiters are served in arrival order (an :class:`asyncio.Lock`,
    created lazily on the loop that first uses the limiter, is held while sleeping), so a long
    queue of requests drains at exactly the configured rate.

    >>> RateLimiter(5).requests_per_second
    5.0
    """

    def __init__(self, requests_per_second: float, burst: int = 1) -> None:
        rate, burst = float(requests_per_second), int(burst)
        if not rate > 0:
            raise ValueError("requests_per_second must be positive")
        if burst < 1:
            raise ValueError("burst must be at least 1")
        self.requests_per_second = rate
        self.burst = burst
        self._tokens = float(burst)
        self._updated = time.monotonic()
        self._lock: asyncio.Lock | None = None

    def _refill(self, now: float) -> None:
        elapsed = max(0.0, now - self._updated)
        self._tokens = min(float(self.burst), self._tokens + elapsed * self.requests_per_second)
        self._updated = now

    async def acquire(self) -> None:
        """Wait until a request may be sent, and take one token.

        >>> from crmql.http.loop import run_sync
        >>> run_sync(RateLimiter(10).acquire())
        """
        if self._lock is None:
            self._lock = asyncio.Lock()
        async with self._lock:
            self._refill(time.monotonic())
            if self._tokens < 1.0:
                wait = (1.0 - self._tokens) / self.requests_per_second
                logger.debug("rate limiter: waiting %.3f s", wait)
                await asyncio.sleep(wait)
                self._refill(time.monotonic())
            self._tokens = max(0.0, self._tokens - 1.0)

    def __repr__(self) -> str:
        return f"RateLimiter(requests_per_second={self.requests_per_second:g}, burst={self.burst})"
