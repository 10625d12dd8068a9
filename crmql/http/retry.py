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

__all__ = ["RetryBudgetExceeded", "RetryPolicy", "parse_retry_after"]

DEFAULT_RETRY_STATUSES: frozenset[int] = frozenset({429, 500, 502, 503, 504})
#: seconds one request may spend waiting between its attempts, Retry-After included
DEFAULT_MAX_RETRY_WAIT_S = 60.0


def parse_retry_after(value: str | None, *, now: float | None = None) -> float | None:
    """Seconds to wait according to a ``Retry-After`` header, or ``None`` if absent/unusable.

    Accepts delta-seconds (``"120"``; a float such as ``"1.5"`` is tolerated) and HTTP-dates
    (``"Wed, 21 Oct 2015 07:28:00 GMT"``; a date in the past means ``0``). A number too large to
    represent (``"1e400"``, ``"inf"``) is ``math.inf``: the vendor asked for longer than any
    budget, not for nothing.

    >>> parse_retry_after("3")
    3.0
    >>> parse_retry_after("1e400")
    inf
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
        if math.isnan(seconds):
            return None
        return max(0.0, seconds)  # +inf stays inf (longer than any budget); -inf, like -1, is 0
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


class RetryBudgetExceeded(Exception):
    """The vendor's ``Retry-After`` asks for more than is left of ``max_retry_wait_s``."""

    def __init__(self, asked: float, left: float, budget: float) -> None:
        self.asked, self.left, self.budget = asked, left, budget
        spent = f", {budget - left:.1f} s of it already spent" if budget - left > 0 else ""
        how_long = f"{asked:g} s" if math.isfinite(asked) else "a time too long to represent"
        super().__init__(
            f"the vendor asked to wait {how_long} before retrying (Retry-After), more than the "
            f"{left:.1f} s left of the {budget:g} s retry budget{spent} (max_retry_wait_s)"
        )


@dataclass(frozen=True)
class RetryPolicy:
    """Retry budget and backoff for one :class:`~crmql.http.HttpClient`.

    ``max_attempts`` counts every try, the first one included. ``max_retry_wait_s`` is the retry
    budget of one request: the total time it may spend waiting between attempts (a vendor's
    ``Retry-After`` asking for more than is left fails at once, see
    :class:`~crmql.http.HttpClient`). Tests make retries fast with a tiny ``backoff_base_s``.

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
    max_retry_wait_s: float = DEFAULT_MAX_RETRY_WAIT_S
    retry_statuses: frozenset[int] = field(default=DEFAULT_RETRY_STATUSES)

    def __post_init__(self) -> None:
        if self.max_attempts < 1:
            raise ValueError("RetryPolicy.max_attempts must be at least 1")
        if min(self.backoff_base_s, self.backoff_cap_s, self.max_retry_after_s, self.max_retry_wait_s) < 0:
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

    def next_wait(self, attempt: int, retry_after: str | None, *, waited: float = 0.0) -> float:
        """:meth:`delay` within the retry budget, given the seconds this request ``waited`` so far.

        A ``Retry-After`` asking for more than is left of ``max_retry_wait_s`` raises
        :class:`RetryBudgetExceeded` (waiting less than asked would only be refused again); a
        backoff of crmql's own is cut to what is left.

        >>> RetryPolicy(max_retry_wait_s=60).next_wait(0, "5", waited=50)
        5.0
        >>> try:
        ...     RetryPolicy(max_retry_wait_s=60).next_wait(0, "999999")
        ... except RetryBudgetExceeded as e:
        ...     print(e)
        the vendor asked to wait 999999 s before retrying (Retry-After), more than the 60.0 s left of the 60 s retry budget (max_retry_wait_s)
        >>> RetryPolicy(max_retry_wait_s=1).next_wait(10, None, waited=1)
        0.0
        """
        left = max(0.0, self.max_retry_wait_s - waited)
        asked = parse_retry_after(retry_after)
        if asked is not None and asked > left:
            raise RetryBudgetExceeded(asked, left, self.max_retry_wait_s)
        return min(self.delay(attempt, retry_after), left)
