"""A connection's request budget for one statement (``max_requests``): no vendor answer can make
a statement send requests without end.

The count is kept here, per :class:`~crmql.http.HttpClient` and per statement (the root of the
current :class:`~crmql.stats.QueryStats`, see :func:`crmql.stats.current`); requests sent outside
any statement are not counted.

>>> from crmql.stats import QueryStats, collecting
>>> budget = RequestBudget(2)
>>> with collecting(QueryStats()):
...     budget.charge(), budget.charge()
...     try:
...         budget.charge()
...     except BudgetExceeded as e:
...         print(e.limit)
(1, 2)
2
"""

from __future__ import annotations

import threading
import weakref

from crmql import stats

__all__ = ["DEFAULT_MAX_REQUESTS", "BudgetExceeded", "RequestBudget"]

#: requests one connection may send for one statement; a full scan of 10,000 pages fits
DEFAULT_MAX_REQUESTS = 10_000


class BudgetExceeded(Exception):
    """The statement already sent ``limit`` requests on this connection."""

    def __init__(self, limit: int) -> None:
        super().__init__(f"request budget of {limit} requests exceeded")
        self.limit = limit


def _statement() -> stats.QueryStats | None:
    """The current statement's root counters, or ``None`` outside any statement."""
    node = stats.current()
    for _ in range(100):  # parents form a short chain; never loop on a cycle
        if node.parent is None:
            break
        node = node.parent
    return None if node is getattr(stats, "_sink", None) else node


class RequestBudget:
    """Count requests per statement and refuse the one past ``limit`` (``None``: no limit)."""

    def __init__(self, limit: int | None = DEFAULT_MAX_REQUESTS) -> None:
        self.limit = limit
        self._lock = threading.Lock()
        #: id(statement) -> (weak reference to it, requests sent); entries go with their statement
        self._spent: dict[int, tuple[weakref.ref[stats.QueryStats], int]] = {}

    def charge(self) -> int:
        """Count one request of the current statement; raise :class:`BudgetExceeded` past the limit."""
        if self.limit is None:
            return 0
        statement = _statement()
        if statement is None:
            return 0
        key = id(statement)
        with self._lock:
            ref, spent = self._spent.get(key, (None, 0))
            if ref is None or ref() is not statement:
                spent = 0
                spent_map = self._spent
                ref = weakref.ref(statement, lambda _r, k=key, m=spent_map: m.pop(k, None))
            if spent >= self.limit:
                raise BudgetExceeded(self.limit)
            self._spent[key] = (ref, spent + 1)
            return spent + 1
