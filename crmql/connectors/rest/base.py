"""The HTTP side every REST connector shares: the client and auth flow built from the connection
settings (lazily: a sandbox connection starts its server on first use), the retry policy and
budgets, requests started early (:mod:`.early`), next links held to the connection's origin,
reads by id (concurrently; a 404 is no row), and COUNT(*) from a total or counted.

>>> class Demo(HttpConnectorMixin):
...     settings = {"concurrency": 4}
>>> Demo().concurrency
4
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Sequence
from typing import Any
from urllib.parse import urljoin

from ... import stats
from ...errors import VendorResponseError
from ...http import HttpClient, OAuthClientCredentials, OAuthPassword
from ...http.auth import Auth
from ...http.origin import origin_of, same_origin
from ...http.retry import RetryPolicy
from ...plan.catalog import Table
from .early import EarlyRequests
from .support import DEFAULT_CONCURRENCY, DEFAULT_MAX_PAGES, _kind, cut, gather_all, shown

__all__ = ["HttpConnectorMixin", "QueryAuthClient"]

log = logging.getLogger(__name__)


class QueryAuthClient(HttpClient):
    """An :class:`HttpClient` whose auth flow sends its credential in the query string (Voyzu's
    session id with ``send_as="query"``): every authenticated request carries the flow's
    ``query_params`` (which refuses a URL off the connection's origin), replacing a parameter of
    the same name. They are asked for at each attempt, so the retry after a 401 and a new login
    carries the new session, not the refused one."""

    async def _auth_params(self, url: str) -> dict[str, str]:
        query = getattr(self.auth, "query_params", None)
        return dict(await query(self, url)) if query is not None else {}


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
            auth = self.make_auth()
            client = QueryAuthClient if getattr(auth, "send_as", None) == "query" else HttpClient
            self._http = client(
                vendor=self.display or self.vendor,
                base_url=s["base_url"],
                auth=auth,
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

    async def fetch_by_ids(self, table: Table, paths: Sequence[Any], sink: Any, *,
                           missing: tuple[int, ...] = (404,)) -> None:
        """Read each record concurrently: a path (GET) or a request with ``method``, ``path``,
        ``params`` and ``body`` (a :class:`~crmql.plan.connector.NativeRequest`: Voyzu reads by id
        with POST). A ``missing`` status (404 unless declared) is simply no row, a body that is not one record a
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
            response = await self.http.request(method, path, table=table.qualified, allow_status=missing, **extra)
            current.add(pages=1)
            if response.status_code in missing:
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
