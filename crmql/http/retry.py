"""When and how long to wait before retrying a failed HTTP attempt.

>>> policy = RetryPolicy(max_attempts=3, backoff_base_s=0.5)
>>> policy.delay(0, "2")
2.0
>>> 0.0 <= policy.delay(1, None) <= 1.0
True
"""

from __future__ import annotations

import datetime
import email.utils
import math
import random
import time
from dataclasses import dataclass, field

__all__ = ["RetryPolicy", "parse_retry_after"]

DEFAULT_RETRY_STATUSES: frozenset[int] = frozenset({429, 500, 502, 503, 504})


def parse_retry_after(value: str | None, *, now: float | None = None) -> float | None:
    """Seconds to wait according to a ``Retry-After`` header, or ``None`` if absent/unusable.

    Accepts delta-seconds (``"120"``; a float such as ``"1.5"`` is tolerated) and HTTP-dates
    (``"Wed, 21 Oct 2015 07:28:00 GMT"``; a date in the past means ``0``).

    >>> parse_retry_after("3")
    3.0
    >>> parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT")
    0.0
    >>> parse_retry_after("soon") is None
    True
    """
    if value is None:
        return None
    value = value.strip()
    if not value:
        return None
    try:
        seconds = float(value)
    except ValueError:
        pass
    else:
        if math.isnan(seconds) or math.isinf(seconds):
            return None
        return max(0.0, seconds)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when is None:  # pragma: no cover - older Pythons returned None
        return None
    if when.tzinfo is None:  # HTTP-dates are always GMT
        when = when.replace(tzinfo=datetime.timezone.utc)
    current = time.time() if now is None else now
    return max(0.0, when.timestamp() - current)


@dataclass(frozen=True)
class RetryPolicy:
    """Retry budget and backoff for one :class:`~crmql.http.HttpClient`.

    ``max_attempts`` counts every try, the first one included. Tests make retries fast with a
    tiny ``backoff_base_s``.

    >>> RetryPolicy().max_attempts
    5
    >>> fast = RetryPolicy(backoff_base_s=0.001)
    >>> fast.delay(3, None) <= 0.008
    True
    """

    max_attempts: int = 5
    backoff_base_s: float = 0.2
    backoff_cap_s: float = 8.0
    max_retry_after_s: float = 60.0
    retry_statuses: frozenset[int] = field(default=DEFAULT_RETRY_STATUSES)

    def __post_init__(self) -> None:
        if self.max_attempts < 1:
            raise ValueError("RetryPolicy.max_attempts must be at least 1")
        if self.backoff_base_s < 0 or self.backoff_cap_s < 0 or self.max_retry_after_s < 0:
            raise ValueError("RetryPolicy delays must not be negative")
        if not isinstance(self.retry_statuses, frozenset):
            object.__setattr__(self, "retry_statuses", frozenset(self.retry_statuses))

    def delay(self, attempt: int, retry_after: str | None) -> float:
        """Seconds to sleep after the failed try number ``attempt`` (0 for the first try).

        A usable ``Retry-After`` header value wins, capped at ``max_retry_after_s``; otherwise
        exponential backoff with full jitter: ``uniform(0, min(cap, base * 2**attempt))``.

        >>> RetryPolicy(max_retry_after_s=10).delay(0, "3600")
        10.0
        >>> RetryPolicy().delay(0, "0")
        0.0
        """
        wait = parse_retry_after(retry_after)
        if wait is not None:
            return float(min(wait, self.max_retry_after_s))
        ceiling = min(self.backoff_cap_s, self.backoff_base_s * (2 ** max(0, min(attempt, 62))))
        return random.uniform(0.0, ceiling)
