"""The httpx connection pool behind an :class:`~crmql.http.HttpClient`, and what it sends by itself.

crmql asks httpx for little and states it: one verifying TLS context shared by every pool, no
redirects followed (a token must not follow one to another origin), ``Accept-Encoding`` limited to
what :func:`crmql.http.body.read_capped` decodes, and a cookie jar that stores nothing, since
crmql's vendors authenticate with tokens and a jar would grow with every ``Set-Cookie`` a vendor
sends, going back on every later request of the connection.

>>> import httpx
>>> pool = open_pool(base_url="http://api.test/v1/", headers={"Accept": "application/json"},
...                  timeout_s=5, concurrency=2, transport=httpx.MockTransport(lambda r: httpx.Response(204)))
>>> pool.headers["Accept-Encoding"], pool.follow_redirects
('gzip, deflate', False)
"""

from __future__ import annotations

import functools
import http.cookiejar
import ssl
from collections.abc import Mapping

import httpx

__all__ = ["ACCEPT_ENCODING", "open_pool"]

#: the encodings :func:`crmql.http.body.read_capped` can decode; httpx would also offer ``br`` and
#: ``zstd`` whenever their packages happen to be installed, and a vendor honouring that is refused
ACCEPT_ENCODING = "gzip, deflate"


@functools.lru_cache(maxsize=1)
def _ssl_context() -> ssl.SSLContext:
    """One verifying SSL context for the process: building one costs ~40 ms, so clients share it."""
    return ssl.create_default_context()


class _NoCookies(http.cookiejar.DefaultCookiePolicy):
    """A cookie policy that stores nothing (a connector that needs a session id sends it itself)."""

    def set_ok(self, cookie: http.cookiejar.Cookie, request: object) -> bool:
        return False


def _no_cookie_jar() -> http.cookiejar.CookieJar:
    """An empty jar that refuses every cookie.

    Given to httpx as the jar itself: httpx keeps a ``CookieJar`` but copies an ``httpx.Cookies``
    into a new jar of the default policy.

    >>> jar = httpx.Cookies(_no_cookie_jar())
    >>> jar.extract_cookies(httpx.Response(200, headers={"Set-Cookie": "s=1"}, request=httpx.Request("GET", "http://x/")))
    >>> len(jar)
    0
    """
    return http.cookiejar.CookieJar(policy=_NoCookies())


def open_pool(
    *,
    base_url: str,
    headers: Mapping[str, str],
    timeout_s: float,
    concurrency: int,
    transport: httpx.AsyncBaseTransport | None = None,
) -> httpx.AsyncClient:
    """A new :class:`httpx.AsyncClient` for one connection: at most ``concurrency`` connections,
    ``headers`` on every request (they override crmql's ``User-Agent`` and ``Accept-Encoding``).

    >>> open_pool(base_url="http://x/", headers={"Accept-Encoding": "identity"}, timeout_s=1,
    ...           concurrency=1).headers["Accept-Encoding"]
    'identity'
    """
    return httpx.AsyncClient(
        base_url=base_url,
        headers={"User-Agent": "crmql", "Accept-Encoding": ACCEPT_ENCODING, **headers},
        cookies=_no_cookie_jar(),
        timeout=httpx.Timeout(timeout_s),
        limits=httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency),
        transport=transport,
        follow_redirects=False,
        verify=_ssl_context(),
    )
