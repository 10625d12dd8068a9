"""One HTTP attempt within the connection's limits: request budget, whole-response deadline and
body cap, with every failure mapped to a :class:`~crmql.errors.ConnectorError` or a retryable
transport error.

:func:`send_once` is the inner step of :meth:`crmql.http.HttpClient.request`; it is a module of
its own so that the client keeps to the retry and status logic. :class:`RequestBudget` is the
connection's request budget for one statement (``max_requests``), so that no vendor answer can
make a statement send requests without end: counted per :class:`~crmql.http.HttpClient` and per
statement (the root of the current :class:`~crmql.stats.QueryStats`, see
:func:`crmql.stats.current`); requests sent outside any statement are not counted.

>>> import httpx
>>> from crmql.http import HttpClient, run_sync
>>> http = HttpClient(vendor="demo", base_url="http://x", timeout_s=1,
...                   transport=httpx.MockTransport(lambda r: httpx.Response(200, json=[1])))
>>> async def once():
...     client = http._ensure_client()
...     return await send_once(http, client, client.build_request("GET", "/n"), "demo.t")
>>> response, error = run_sync(once())
>>> response.json(), error
([1], None)
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

import asyncio
import threading
import weakref
from typing import Protocol

import httpx

from crmql import stats
from crmql.errors import ConfigError, ConnectorError, RequestBudgetError, VendorHTTPError, VendorResponseError
from crmql.http import describe
from crmql.http.body import BodyTooLarge, UndecodableBody, read_capped
from crmql.stats import current

__all__ = ["DEFAULT_MAX_REQUESTS", "BudgetExceeded", "RequestBudget", "send_once"]

#: requests one connection may send for one statement: a full scan of max_pages (10,000) pages fits,
#: and so do the per-entity reads of an Atlas tenant whose lists come without fields
DEFAULT_MAX_REQUESTS = 50_000


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


class Sender(Protocol):
    """What :func:`send_once` reads of the connection (:class:`crmql.http.HttpClient` is one)."""

    vendor: str
    timeout_s: float
    max_response_mb: float
    max_response_bytes: int
    budget: RequestBudget

    def _error(self, cls: type[ConnectorError], message: str, table: str | None,
               response: httpx.Response | None = None, *, hint: str | None = None) -> ConnectorError:
        """A redacted error of class ``cls`` naming the vendor and table."""


async def send_once(
    http: Sender, client: httpx.AsyncClient, request: httpx.Request, table: str | None
) -> tuple[httpx.Response | None, httpx.TransportError | None]:
    """Send ``request`` once and read its body whole; return the response or a retryable error.

    ``http.timeout_s`` bounds the whole response (connect, headers and body): a vendor that
    drips bytes times out like one that never answers (an ``httpx.ReadTimeout`` is returned, to
    be retried). A body past ``http.max_response_bytes`` once decoded, or one that does not decode,
    raises :class:`~crmql.errors.VendorResponseError`; a request past the statement's budget
    raises :class:`~crmql.errors.RequestBudgetError`; neither is retried.
    """
    try:
        http.budget.charge()
    except BudgetExceeded as exc:
        raise http._error(
            RequestBudgetError,
            f"request budget of {exc.limit} requests for one statement exceeded (max_requests = {exc.limit})",
            table,
            hint="raise max_requests in the connection settings, or filter the query so that fewer pages are needed",
        ) from None
    current().add(requests=1)
    response: httpx.Response | None = None
    try:
        async with asyncio.timeout(http.timeout_s):  # the whole response, not each read
            response = await client.send(request, stream=True)
            await read_capped(response, http.max_response_bytes)
        return response, None
    except TimeoutError:
        if response is not None:
            await response.aclose()
        return None, httpx.ReadTimeout(f"no complete response within {http.timeout_s:g} s", request=request)
    except BodyTooLarge:
        raise VendorResponseError(
            f"the body is larger than the {http.max_response_mb:g} MB limit (max_response_mb)",
            vendor=http.vendor, table=table, request=request, status=response.status_code if response else None,
            hint="raise max_response_mb in the connection settings if the vendor's pages are this large",
        ) from None
    except UndecodableBody as exc:
        raise VendorResponseError(str(exc), vendor=http.vendor, table=table, request=request,
                                  status=response.status_code if response else None) from None
    except httpx.UnsupportedProtocol as exc:
        raise http._error(ConfigError, f"unsupported URL {describe.safe_url(request.url)}: {exc}", table) from None
    except httpx.TransportError as exc:
        if response is not None:
            await response.aclose()
        return None, exc
    except (httpx.HTTPError, httpx.InvalidURL, httpx.StreamError, httpx.CookieConflict) as exc:
        # e.g. a body that claims gzip but is not: the vendor sent something unreadable
        reason = describe.cause(exc, http.timeout_s, request.url)
        raise http._error(VendorHTTPError, f"could not read the response: {reason}", table) from None
