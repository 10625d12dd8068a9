"""The HTTP client every connector uses: retries, rate limits, auth, stats and clean errors.

:class:`HttpClient` wraps one lazily created :class:`httpx.AsyncClient`. Each attempt holds a
slot of a concurrency semaphore (never during backoff sleeps), waits for the optional rate
limiter, is counted in :func:`crmql.stats.current`, and is retried on 429/5xx and transport
errors according to a :class:`~crmql.http.retry.RetryPolicy`. Whatever goes wrong surfaces as a
:class:`crmql.errors.ConnectorError` subclass naming the vendor and table, with secrets redacted.
No httpx exception escapes.

>>> import httpx
>>> from crmql.http.loop import run_sync
>>> transport = httpx.MockTransport(lambda request: httpx.Response(200, json={"ok": True}))
>>> client = HttpClient(vendor="demo", base_url="http://api.test/v1", transport=transport)
>>> run_sync(client.request_json("GET", "/ping"))
{'ok': True}
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Collection, Mapping
from typing import Any

import httpx

from crmql.errors import (
    AuthenticationError,
    ConfigError,
    ConnectorError,
    NetworkError,
    RateLimitedError,
    VendorHTTPError,
)
from crmql.http import describe
from crmql.http.auth import Auth
from crmql.http.attempt import DEFAULT_MAX_REQUESTS, RequestBudget, send_once
from crmql.http.decode import decode_json
from crmql.http.origin import origin_of, same_origin
from crmql.http.pool import open_pool
from crmql.http.ratelimit import RateLimiter
from crmql.redaction import redact, register_secret, safe_url
from crmql.http.retry import RetryBudgetExceeded, RetryPolicy
from crmql.stats import current

__all__ = ["HttpClient"]

logger = logging.getLogger(__name__)

IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "PUT", "DELETE", "OPTIONS", "TRACE"})
#: statuses that prove the server did not process the request: safe to retry any method
_UNPROCESSED_STATUSES = frozenset({429, 503})
#: the largest decoded response body a connection accepts by default (``max_response_mb``)
DEFAULT_MAX_RESPONSE_MB = 64.0

#: transport errors that prove the request never reached the server
_UNSENT_ERRORS = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)
_SENSITIVE_HEADER_WORDS = ("authorization", "token", "key", "secret", "password", "cookie", "session")


def _with(params: Any, extra: Mapping[str, str]) -> Any:
    """``params`` (a mapping, pairs or None) with ``extra`` replacing a parameter of the same name.

    >>> _with({"a": "1", "s": "old"}, {"s": "new"}), _with(None, {}), _with([("a", "1")], {})
    ([('a', '1'), ('s', 'new')], None, [('a', '1')])
    """
    if not extra:
        return params
    pairs = list(params.items() if isinstance(params, Mapping) else params or ())
    return [*(p for p in pairs if p[0] not in extra), *extra.items()]


class HttpClient:
    """Async HTTP client for one vendor connection.

    ``base_url`` may carry a path prefix: ``/3.0/event/search`` against
    ``http://127.0.0.1:5000/azavista`` requests ``http://127.0.0.1:5000/azavista/3.0/event/search``;
    absolute URLs are used as they are. ``headers`` are sent with every request. Pass an
    ``httpx.MockTransport`` as ``transport`` in tests.

    Limits, each a clear :class:`~crmql.errors.ConnectorError` when passed: ``timeout_s`` is a
    deadline for a whole response (connect, headers and body) per attempt; ``max_response_mb``
    caps the decoded body, checked while reading; ``max_requests`` caps the requests one
    statement sends on this connection (``None``: no cap); the retry policy's
    ``max_retry_wait_s`` caps the time one request spends waiting between attempts.

    >>> HttpClient(vendor="demo", base_url="http://127.0.0.1:5000/azavista").base_url
    'http://127.0.0.1:5000/azavista/'
    """

    def __init__(
        self,
        *,
        vendor: str,
        base_url: str,
        auth: Auth | None = None,
        timeout_s: float = 30.0,
        concurrency: int = 8,
        requests_per_second: float | None = None,
        retry: RetryPolicy | None = None,
        headers: Mapping[str, str] | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
        max_response_mb: float = DEFAULT_MAX_RESPONSE_MB,
        max_requests: int | None = DEFAULT_MAX_REQUESTS,
    ) -> None:
        if concurrency < 1:
            raise ValueError("concurrency must be at least 1")
        if not timeout_s > 0 or not max_response_mb > 0 or (max_requests is not None and max_requests < 1):
            raise ValueError("timeout_s, max_response_mb and max_requests must be positive")
        self.vendor = vendor
        self.base_url = base_url.rstrip("/") + "/"
        self.auth = auth
        self.timeout_s = float(timeout_s)
        self.concurrency = int(concurrency)
        self.retry = retry or RetryPolicy()
        self.headers = dict(headers or {})
        self.rate_limiter = RateLimiter(requests_per_second) if requests_per_second else None
        self.max_response_mb = float(max_response_mb)
        self.max_response_bytes = int(self.max_response_mb * (1 << 20))
        self.budget = RequestBudget(max_requests)
        self._transport = transport
        self._client: httpx.AsyncClient | None = None
        self._semaphore: asyncio.Semaphore | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        #: configured headers that are credentials (an API key): they, too, stay on the origin
        self._secret_headers = False
        for name, value in self.headers.items():
            if any(word in name.lower() for word in _SENSITIVE_HEADER_WORDS):
                register_secret(value)
                self._secret_headers = True

    def __repr__(self) -> str:
        return f"HttpClient(vendor={self.vendor!r}, base_url={self.base_url!r})"

    # ----------------------------------------------------------------- lifecycle

    def _ensure_client(self) -> httpx.AsyncClient:
        loop = asyncio.get_running_loop()
        if self._client is None or self._client.is_closed:
            self._client = open_pool(base_url=self.base_url, headers=self.headers, timeout_s=self.timeout_s,
                                     concurrency=self.concurrency, transport=self._transport)
            self._semaphore = asyncio.Semaphore(self.concurrency)
            self._loop = loop
        elif self._loop is not loop and self._loop is not None and self._loop.is_closed():
            self._client = None  # its loop is gone; so are its connections
            return self._ensure_client()
        elif self._loop is not loop:
            raise RuntimeError(
                f"HttpClient for {self.vendor} was created on another event loop; "
                "run every request through crmql.http.run_sync"
            )
        return self._client

    async def aclose(self) -> None:
        """Close the connection pool (a later request opens a new one).

        >>> from crmql.http.loop import run_sync
        >>> run_sync(HttpClient(vendor="demo", base_url="http://x").aclose())
        """
        client, self._client = self._client, None
        if client is not None:
            await client.aclose()

    async def __aenter__(self) -> HttpClient:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    # ----------------------------------------------------------------- requests

    async def request_json(self, method: str, url: str, **kwargs: Any) -> Any:
        """:meth:`request`, then decode the JSON body (``None`` for an empty body).

        A body that is not strict JSON raises :class:`~crmql.errors.VendorResponseError`.

        >>> import httpx
        >>> from crmql.http.loop import run_sync
        >>> t = httpx.MockTransport(lambda r: httpx.Response(200, json=[1, 2]))
        >>> run_sync(HttpClient(vendor="demo", base_url="http://x", transport=t).request_json("GET", "/n"))
        [1, 2]
        """
        response = await self.request(method, url, **kwargs)
        return self.decode_json(response, kwargs.get("table"))

    def decode_json(self, response: httpx.Response, table: str | None = None) -> Any:
        """The JSON body of a response read by :meth:`request` (``None`` for an empty body).

        Strict (no ``NaN``/``Infinity``, at most 1024 levels deep, exact big integers); anything
        else is a :class:`~crmql.errors.VendorResponseError` (see :mod:`crmql.http.decode`).

        >>> import httpx
        >>> HttpClient(vendor="demo", base_url="http://x").decode_json(httpx.Response(200, json=[1]))
        [1]
        """
        return decode_json(response, vendor=self.vendor, table=table)

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
        retry_timeouts: bool = True,
    ) -> httpx.Response:
        """Send a request with retries and authentication; return the (read) response.

        Returns 2xx responses and those whose status is in ``allow_status``; anything else
        raises a :class:`~crmql.errors.ConnectorError` subclass. ``idempotent`` defaults to
        True for GET/HEAD/PUT/DELETE/OPTIONS; a non-idempotent request is only retried when it
        certainly was not processed (connect errors, 429, 503). ``retry_timeouts=False``: a response
        that does not come in time is not retried (the caller has a better way: Voyzu's async job).
        ``table`` names the crmql table in error messages.

        >>> import httpx
        >>> from crmql.http.loop import run_sync
        >>> t = httpx.MockTransport(lambda r: httpx.Response(404, json={"message": "no such event"}))
        >>> client = HttpClient(vendor="demo", base_url="http://x", transport=t)
        >>> try:
        ...     run_sync(client.request("GET", "/events/7", table="demo.events"))
        ... except VendorHTTPError as e:
        ...     print(e)
        demo (demo.events): not found [HTTP 404]: no such event
        """
        method = method.upper()
        if idempotent is None:
            idempotent = method in IDEMPOTENT_METHODS
        allowed = frozenset(allow_status)
        client = self._ensure_client()
        policy = self.retry
        use_auth = authenticated and self.auth is not None
        extra = dict(headers or {})
        content = None
        if isinstance(data, (bytes, str)):
            data, content = None, data
        elif data is not None and not any(k.lower() == "content-type" for k in extra):
            extra["Content-Type"] = "application/x-www-form-urlencoded"

        tries = 0  # attempts counted against policy.max_attempts
        sent = 0  # every attempt, including the one after a 401
        auth_retried = False
        began = time.monotonic()
        waited = [0.0]  # seconds spent between attempts, bounded by policy.max_retry_wait_s
        while True:
            tries += 1
            sent += 1

            def build(auth_headers: dict[str, str], auth_params: Mapping[str, str]) -> httpx.Request:
                try:
                    built = client.build_request(method, url, params=_with(params, auth_params), json=json,
                                                 data=data, content=content, headers={**extra, **auth_headers})
                except (httpx.InvalidURL, httpx.UnsupportedProtocol) as exc:
                    raise self._error(ConfigError, f"invalid URL {url!r}: {exc}", table) from None
                if (auth_headers or self._secret_headers) and not same_origin(str(built.url), self.base_url):
                    raise self._error(ConnectorError, f"refused to send the connection's credentials to "
                                      f"{origin_of(str(built.url))}, which is not {origin_of(self.base_url)}", table)
                return built

            request, auth_headers, response, error = await self._attempt(client, build, use_auth, sent, table, url)
            if error is not None:
                shown = describe.safe_url(request.url)
                reason = describe.cause(error, self.timeout_s, request.url)
                retryable = (idempotent and (retry_timeouts or not isinstance(error, httpx.TimeoutException))
                             or isinstance(error, _UNSENT_ERRORS))
                if retryable and tries < policy.max_attempts:
                    await self._backoff(method, shown, reason, tries, None, waited, table, None)
                    continue
                if retryable:
                    message = f"{reason} (gave up after {tries} attempts in {time.monotonic() - began:.1f} s)"
                else:
                    message = f"{reason}; not retried " + (f"because the {method} request may have been processed"
                                                           if not idempotent else "(the caller handles a timeout)")
                raise self._error(NetworkError, message, table) from None

            assert response is not None
            status = response.status_code
            if status in allowed or 200 <= status < 300:
                return response
            shown = describe.safe_url(request.url)  # only now: redacting costs on every page
            if status == 401 and use_auth and self.auth is not None:
                if not auth_retried and self.auth.can_refresh:
                    auth_retried = True
                    tries -= 1  # the re-authenticated try does not use the retry budget
                    await self.auth.invalidate(auth_headers)
                    logger.warning(
                        "%s: %s %s was refused (HTTP 401); retrying with a new token", self.vendor, method, shown
                    )
                    current().add(retries=1)
                    continue
                raise self._error(
                    AuthenticationError, "authentication failed", table, response,
                    hint=getattr(self.auth, "refused_hint", None) or "check the credentials in the connection settings",
                )
            if status in policy.retry_statuses:
                retryable = idempotent or status in _UNPROCESSED_STATUSES
                if retryable and tries < policy.max_attempts:
                    await self._backoff(method, shown, f"HTTP {status}", tries, response.headers.get("Retry-After"),
                                        waited, table, response)
                    continue
                if status == 429:
                    message = f"rate limited: gave up after {tries} attempts"
                    raise self._error(RateLimitedError, message, table, response)
                what = describe.status_phrase(status)
                message = f"{what}: gave up after {tries} attempts" if retryable else what
                raise self._error(VendorHTTPError, message, table, response)
            if status == 401:
                raise self._error(AuthenticationError, "authentication failed", table, response)
            raise self._error(
                VendorHTTPError, describe.status_phrase(status), table, response, hint=describe.status_hint(response)
            )

    async def _auth_params(self, url: str) -> dict[str, str]:
        """Query parameters the auth flow adds to an authenticated request to ``url`` (none here).

        Asked for at every attempt, like the headers: the retry after a 401 and a new login carries
        the new credential (``QueryAuthClient`` overrides it: Voyzu's ``?voyzu-session-id=``).
        """
        return {}

    async def _attempt(
        self, client: httpx.AsyncClient, build: Any, use_auth: bool, number: int, table: str | None, url: str
    ) -> tuple[httpx.Request, dict[str, str], httpx.Response | None, httpx.TransportError | None]:
        """Send once under the concurrency cap and rate limit; return the request, the auth headers
        used, and the response or the error.

        The token (headers and query parameters) is taken inside the slot, so a request that waited
        for a slot never goes out with a token that expired meanwhile. The auth flow's own requests
        (``authenticated=False`` on a client with an auth flow: the token endpoint) take no slot, since
        a token fetch must never wait behind requests that hold slots while waiting for that token.
        """
        assert self._semaphore is not None
        token_request = not use_auth and self.auth is not None  # the auth flow's own request
        async with (contextlib.nullcontext() if token_request else self._semaphore):
            auth_headers = await self.auth.headers(self) if use_auth and self.auth else {}
            auth_params = await self._auth_params(url) if use_auth and self.auth else {}
            request = build(auth_headers, auth_params)
            if self.rate_limiter is not None:
                await self.rate_limiter.acquire()
            started = time.perf_counter()
            response, error = await send_once(self, client, request, table)
        if logger.isEnabledFor(logging.DEBUG):
            elapsed_ms = (time.perf_counter() - started) * 1000
            outcome = response.status_code if response is not None else type(error).__name__
            logger.debug("%s %s %s -> %s in %.0f ms (attempt %d)", self.vendor, request.method,
                         describe.safe_url(request.url), outcome, elapsed_ms, number)
        return request, {**auth_headers, **auth_params}, response, error  # the credentials it carried

    async def _backoff(
        self, method: str, shown: str, reason: str, tries: int, retry_after: str | None,
        waited: list[float], table: str | None, response: httpx.Response | None,
    ) -> None:
        """Sleep before the next attempt, within what is left of the request's ``max_retry_wait_s``.

        A ``Retry-After`` asking for more than is left fails at once (``RateLimitedError`` for a
        429), saying how long the vendor asked to wait; a backoff of crmql's own is cut to fit.
        """
        try:
            wait = self.retry.next_wait(tries - 1, retry_after, waited=waited[0])
        except RetryBudgetExceeded as exc:
            status = response.status_code if response is not None else None
            cls = RateLimitedError if status == 429 else VendorHTTPError
            what = "rate limited" if status == 429 else describe.status_phrase(status) if status else reason
            raise self._error(cls, f"{what}: {exc}; not retried", table, response,
                              hint="try again later, or raise max_retry_wait_s in the connection settings") from None
        waited[0] += wait
        logger.warning(
            "%s: %s %s failed: %s; retrying in %.2f s (attempt %d of %d)",
            self.vendor, method, shown, reason, wait, tries + 1, self.retry.max_attempts,
        )
        current().add(retries=1)
        if wait > 0:
            await asyncio.sleep(wait)

    def _error(self, cls: type[ConnectorError], message: str, table: str | None,
               response: httpx.Response | None = None, *, hint: str | None = None) -> ConnectorError:
        vendor_message = describe.vendor_message(response) if response is not None else None
        error = cls(redact(message), vendor=self.vendor, table=table,
                    status=response.status_code if response is not None else None,
                    vendor_message=redact(vendor_message) if vendor_message else None, hint=redact(hint) if hint else None)
        with contextlib.suppress(RuntimeError, AttributeError):  # the refused request (a Spark task names it)
            if response is not None and not getattr(error, "request", None):
                error.request = safe_url(f"{response.request.method} {response.request.url}")
        return error
