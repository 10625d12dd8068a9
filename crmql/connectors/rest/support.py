"""What HTTP connectors share: building the client and auth flow from settings, GET-by-id fan-out,
and the rules every vendor answer is held to: which ids may become a URL path segment
(:func:`addressable`), which next links may be followed with the token (:func:`same_origin`),
and which totals are counts (:func:`valid_total`).

>>> class Demo(HttpConnectorMixin):
...     settings = {"concurrency": 4}
>>> Demo().concurrency
4
"""

from __future__ import annotations

import asyncio
import logging
import math
from collections.abc import Awaitable, Callable, Iterable, Sequence
from typing import Any
from urllib.parse import quote, urljoin

from ... import stats
from ...plan.catalog import Table
from ...errors import VendorResponseError
from ...http import HttpClient, OAuthClientCredentials, OAuthPassword
from ...http.auth import Auth
from ...http.origin import origin_of, same_origin
from ...http.retry import RetryPolicy
from .early import EarlyRequests

__all__ = ["DEFAULT_MAX_PAGES", "MAX_TOTAL", "HttpConnectorMixin", "addressable", "addressable_ids", "path_id",
           "check_records", "cut", "gather_all", "same_origin", "shown", "valid_total"]

log = logging.getLogger(__name__)

DEFAULT_CONCURRENCY = 8
#: pages one scan may read (``max_pages`` on the connection): 500,000 rows at 50 per page
DEFAULT_MAX_PAGES = 10_000
#: the largest total taken as a count: 2**53 (exact as a JSON number everywhere); a larger one is
#: no count, so the rows are counted instead (no OverflowError, no absurd EXPLAIN estimate)
MAX_TOTAL = 2**53
#: characters of a vendor value an error message or a log line shows (a URL: URL_CHARS)
SHOWN_CHARS = 80
URL_CHARS = 200


def cut(text: str, limit: int = URL_CHARS) -> str:
    """``text`` cut to about ``limit`` characters, saying how long it was (for a URL or path
    built from vendor values, shown in an error).

    >>> cut("/a/b"), cut("/" + "x" * 300, 12)
    ('/a/b', '/xxxxxxxxxx… (301 characters)')
    """
    return text if len(text) <= limit else f"{text[:limit - 1]}… ({len(text)} characters)"


def shown(value: object, limit: int = SHOWN_CHARS) -> str:
    """A vendor value as an error message or log line shows it: its ``repr``, cut to about
    ``limit`` characters (a vendor may send megabytes where a number belongs).

    >>> shown(7), shown("x" * 100, 10)
    ('7', "'xxxxxxxx… (102 characters)")
    """
    try:
        text = repr(value)
    except RecursionError:  # a value nested deeper than repr goes
        return f"a deeply nested {type(value).__name__}"
    return cut(text, limit)


async def gather_all(*aws: Awaitable[Any]) -> list[Any]:
    """Like :func:`asyncio.gather`, but the first failure cancels the others (and waits for them)
    before it is raised, so no sibling keeps sending authenticated requests after the statement
    failed. The exception raised is the first one itself (no ``ExceptionGroup``).

    >>> async def ok(n):
    ...     return n
    >>> asyncio.run(gather_all(ok(1), ok(2)))
    [1, 2]
    """
    tasks = [asyncio.ensure_future(a) for a in aws]
    try:
        return list(await asyncio.gather(*tasks))
    except BaseException:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        raise


def addressable(value: object) -> bool:
    """Whether an id can be one URL path segment of a read by id, for every vendor.

    Clients and servers remove ``.`` and ``..`` segments, and servers decode ``%2F`` (some also
    ``%5C``) before routing, so such an id would reach another path with the token. An id that
    cannot be a segment names no record a read by id could return: it matches no row.

    >>> [addressable(v) for v in ("5f1e", "", ".", "..", "a/b", "a" + chr(92) + "b", "..a", "a b")]
    [True, False, False, False, False, False, True, True]
    """
    text = str(value)
    return text not in ("", ".", "..") and "/" not in text and "\\" not in text


def addressable_ids(values: Iterable[object]) -> list[str]:
    """The distinct ids (as text, in order) that can be read by id; the others match no row.

    >>> addressable_ids(["a", "..", "b", "a", "x/y"])
    ['a', 'b']
    """
    return [v for v in dict.fromkeys(str(v) for v in values) if addressable(v)]


def path_id(value: object) -> str:
    """An id as one URL path segment: percent-encoded, so ``a?b`` or ``a#b`` stay a (missing) id.
    Check :func:`addressable` first: ``.`` and ``..`` survive encoding.

    >>> path_id("a?x=2#y")
    'a%3Fx%3D2%23y'
    """
    return quote(str(value), safe="")


def valid_total(value: object) -> int | None:
    """A vendor's total when it is a count (a non-negative integer up to :data:`MAX_TOTAL`: an
    integral float such as ``1e3`` included, ``true`` not), else ``None``: unknown, so the rows are
    counted instead.

    >>> [valid_total(v) for v in (364, 0, 1e3, True, -5, "1234", 2.5, float("inf"), float("nan"), None)]
    [364, 0, 1000, None, None, None, None, None, None, None]
    >>> [valid_total(v) for v in (2**53, 2**53 + 1, 2**63, 10**30, 1e300)]
    [9007199254740992, None, None, None, None]
    """
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value if 0 <= value <= MAX_TOTAL else None
    if isinstance(value, float) and math.isfinite(value) and value.is_integer() and 0 <= value <= MAX_TOTAL:
        return int(value)
    return None


class HttpConnectorMixin:
    """Lazily builds ``self.http`` (an :class:`HttpClient`) from the connection settings."""

    settings: dict[str, Any]
    display: str = ""
    vendor: str = ""
    token_path: str = ""
    _http: HttpClient | None = None
    _early: EarlyRequests | None = None

    @property
    def early(self) -> EarlyRequests:
        """Requests started before the plan that uses them (see :mod:`crmql.connectors.rest.early`)."""
        if self._early is None:
            self._early = EarlyRequests()
        return self._early

    def discard_early(self) -> None:
        if self._early is not None:
            self._early.discard()

    @property
    def concurrency(self) -> int:
        return int(self.settings.get("concurrency") or DEFAULT_CONCURRENCY)

    @property
    def max_pages(self) -> int:
        """Pages one scan may read (``max_pages``; a positive integer).

        >>> class Demo(HttpConnectorMixin):
        ...     settings = {"max_pages": 3}
        >>> Demo().max_pages
        3
        """
        raw = self.settings.get("max_pages")  # type and range are checked with the config (config_rules)
        return DEFAULT_MAX_PAGES if raw is None else int(raw)

    def next_link(self, href: object, table: str, request: str) -> str | None:
        """The URL a page's next link points to (relative links resolved against the connection's
        base URL), or None when there is none. A link off the connection's own scheme, host and
        port is a :class:`VendorResponseError` naming that origin: the token never follows it.

        >>> class Demo(HttpConnectorMixin):
        ...     display, http = "Demo", type("H", (), {"base_url": "http://127.0.0.1:9/v/"})()
        >>> Demo().next_link("/v/items?page=2", "demo.items", "GET /v/items")
        'http://127.0.0.1:9/v/items?page=2'
        >>> Demo().next_link("//127.0.0.1:10/x", "demo.items", "GET /v/items")
        Traceback (most recent call last):
        ...
        crmql.errors.VendorResponseError: Demo (demo.items): malformed response to GET /v/items: its next link goes to another origin (http://127.0.0.1:10), where the connection's token must not go
        """
        if href is None or href == "":
            return None
        if not isinstance(href, str):
            raise VendorResponseError(f"its next link is a {type(href).__name__}, not a URL",
                                      vendor=self.display, table=table, request=request)
        base = self.http.base_url.rstrip("/") + "/"
        try:
            url = urljoin(base, href.strip())
        except ValueError:
            url = href
        if not same_origin(url, base):
            where = origin_of(url) if "://" in url else shown(href)  # e.g. a mailto: link has no origin
            raise VendorResponseError(f"its next link goes to another origin ({where}), where the connection's "
                                      "token must not go", vendor=self.display, table=table, request=request)
        return url

    def make_auth(self) -> Auth | None:
        """OAuth password flow when a username is configured, else client credentials."""
        s = self.settings
        if s.get("username"):
            return OAuthPassword(self.token_path, s["client_id"], s["client_secret"], s["username"], s["password"])
        return OAuthClientCredentials(self.token_path, s["client_id"], s["client_secret"],
                                      send_as=s.get("auth_style", "body"))

    def default_headers(self) -> dict[str, str]:
        return {"Content-Type": "application/json", "Accept": "application/json"}

    @property
    def http(self) -> HttpClient:
        if self._http is None:
            s = self.settings
            if callable(s.get("base_url")):  # a sandbox connection: the server starts on first use
                s["base_url"] = s["base_url"]()
            self._http = HttpClient(
                vendor=self.display or self.vendor,
                base_url=s["base_url"],
                auth=self.make_auth(),
                timeout_s=float(s.get("timeout_s") or 30.0),
                concurrency=self.concurrency,
                requests_per_second=s.get("requests_per_second"),
                retry=self.retry_policy(),
                headers=self.default_headers(),
                **{key: s[key] for key in ("max_response_mb", "max_requests") if s.get(key) is not None},
            )
        return self._http

    def retry_policy(self) -> RetryPolicy:
        """The retry policy; ``max_attempts``, ``retry_base_s``, ``retry_cap_s`` and ``max_retry_wait_s``
        override its defaults.

        >>> class Demo(HttpConnectorMixin):
        ...     settings = {"max_attempts": 3, "retry_base_s": 0.001}
        >>> Demo().retry_policy().max_attempts, Demo().retry_policy().backoff_base_s
        (3, 0.001)
        """
        s, default = self.settings, RetryPolicy()
        return RetryPolicy(
            max_attempts=int(s["max_attempts"]) if s.get("max_attempts") is not None else default.max_attempts,
            backoff_base_s=float(s["retry_base_s"]) if s.get("retry_base_s") is not None else default.backoff_base_s,
            backoff_cap_s=float(s["retry_cap_s"]) if s.get("retry_cap_s") is not None else default.backoff_cap_s,
            max_retry_wait_s=(float(s["max_retry_wait_s"]) if s.get("max_retry_wait_s") is not None
                              else default.max_retry_wait_s),
        )

    async def total_or_count(self, table: Table, plan: Any, total: int | None, raw: object, request: str,
                             scan: Callable[[Callable[[list[dict[str, Any]]], bool]], Awaitable[None]]) -> int:
        """``total`` when the vendor's total was a count (see :func:`valid_total`). Otherwise, for
        COUNT(*) (``plan.mode == "count"``), the rows ``scan(sink)`` delivers are counted, with a
        warning; for an estimate (EXPLAIN's probe) a scan is not worth it: a VendorResponseError."""
        if total is not None:
            return total
        if plan.mode != "count":
            raise VendorResponseError(f"no usable total ({shown(raw)})", vendor=self.display, table=table.qualified,
                                      request=request)
        log.warning("%s (%s): no usable total (%s); counting the rows instead", self.display, table.qualified,
                    shown(raw))
        counted = 0

        def tally(records: list[dict[str, Any]]) -> bool:
            nonlocal counted
            counted += len(records)
            return True

        await scan(tally)
        return counted

    async def fetch_by_ids(self, table: Table, paths: Sequence[Any], sink: Any) -> None:
        """Read each record concurrently: a path (GET) or a request with ``method``, ``path``,
        ``params`` and ``body`` (a :class:`~crmql.plan.connector.NativeRequest`: Voyzu reads by id
        with POST). A 404 is simply no row, a body that is not one record a
        :class:`VendorResponseError`. Build each path with :func:`path_id` from an
        :func:`addressable` id."""
        current = stats.current()
        current.set_total_pages(len(paths))

        async def one(target: Any) -> dict[str, Any] | None:
            method, path = ("GET", target) if isinstance(target, str) else (target.method, target.path)
            extra = {} if isinstance(target, str) else {
                k: v for k, v in (("params", target.params), ("json", target.body)) if v is not None}
            if extra.get("json") is not None:
                extra["idempotent"] = True  # a read
            response = await self.http.request(method, path, table=table.qualified, allow_status=(404,), **extra)
            current.add(pages=1)
            if response.status_code == 404:
                return None
            record = self.http.decode_json(response, table.qualified)
            if not isinstance(record, dict):
                raise VendorResponseError(f"a read by id answered with {_kind(record)}, not a record",
                                          vendor=self.display, table=table.qualified, request=f"{method} {cut(path)}",
                                          status=response.status_code)
            return record

        results = await gather_all(*(one(p) for p in paths if p))
        records = [r for r in results if r is not None]
        current.add(rows_fetched=len(records))
        sink(records)

    async def aclose(self) -> None:
        if self._early is not None:
            self._early.discard()
        if self._http is not None:
            await self._http.aclose()
            self._http = None


def _kind(value: object) -> str:
    """How a JSON value is named in an error message.

    >>> _kind(None), _kind("x"), _kind([1]), _kind(True)
    ('null', 'a string', 'a list', 'a boolean')
    """
    if value is None:
        return "null"
    names = {bool: "a boolean", str: "a string", list: "a list", dict: "an object", int: "a number", float: "a number"}
    return names.get(type(value), f"a {type(value).__name__}")


def check_records(items: list[Any], *, vendor: str, table: str, request: str) -> list[dict[str, Any]]:
    """``items`` when every one is a JSON object (a record), else a :class:`VendorResponseError`
    saying which is not.

    >>> check_records([{"id": "a"}], vendor="Demo", table="demo.t", request="GET /t")
    [{'id': 'a'}]
    >>> check_records([{"id": "a"}, "b"], vendor="Demo", table="demo.t", request="GET /t")
    Traceback (most recent call last):
    ...
    crmql.errors.VendorResponseError: Demo (demo.t): malformed response to GET /t: item 2 of the page is a string, not a record
    """
    for i, item in enumerate(items):
        if not isinstance(item, dict):
            raise VendorResponseError(f"item {i + 1} of the page is {_kind(item)}, not a record",
                                      vendor=vendor, table=table, request=request)
    return items
