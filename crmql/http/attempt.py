"""One HTTP attempt within the connection's limits: request budget, whole-response deadline and
body cap, with every failure mapped to a :class:`~crmql.errors.ConnectorError` or a retryable
transport error.

:func:`send_once` is the inner step of :meth:`crmql.http.HttpClient.request`; it is a module of
its own so that the client keeps to the retry and status logic.

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
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

import httpx

from crmql.errors import ConfigError, RequestBudgetError, VendorHTTPError, VendorResponseError
from crmql.http import describe
from crmql.http.body import BodyTooLarge, UndecodableBody, read_capped
from crmql.http.budget import BudgetExceeded
from crmql.stats import current

if TYPE_CHECKING:
    from crmql.http.client import HttpClient

__all__ = ["send_once"]


async def send_once(
    http: HttpClient, client: httpx.AsyncClient, request: httpx.Request, table: str | None
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
