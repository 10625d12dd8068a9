"""crmql's HTTP layer: one background event loop, retries, rate limits, auth and redaction.

Connectors build an :class:`HttpClient` per connection and ``await`` its methods; synchronous
surfaces drive coroutines with :func:`run_sync`. Every failure is a
:class:`crmql.errors.ConnectorError` subclass; secrets never reach messages or logs.

>>> import httpx
>>> from crmql.http import HttpClient, run_sync
>>> transport = httpx.MockTransport(lambda request: httpx.Response(200, json={"id": 1}))
>>> client = HttpClient(vendor="demo", base_url="http://api.test", transport=transport)
>>> run_sync(client.request_json("GET", "/things/1"))
{'id': 1}
"""

from __future__ import annotations

import importlib
import logging
from typing import TYPE_CHECKING, Any

from crmql.http.loop import get_loop, run_sync
# through the submodule: importing crmql.http.redact later would otherwise rebind the name
# ``crmql.http.redact`` from the function to the module
from crmql.http.redact import install_log_redaction, redact, register_secret

if TYPE_CHECKING:
    from crmql.http.auth import Auth, OAuthClientCredentials, OAuthPassword, StaticHeaderAuth
    from crmql.http.client import HttpClient
    from crmql.http.flows import KeySecretTokenAuth, OidcRefreshAuth
    from crmql.http.session_flow import SessionIdAuth
    from crmql.http.ratelimit import RateLimiter
    from crmql.http.retry import RetryPolicy

# httpx and the client load on first use: the shell's first prompt must not wait for them
_LAZY = {"Auth": "auth", "OAuthClientCredentials": "auth", "OAuthPassword": "auth", "StaticHeaderAuth": "auth",
         "HttpClient": "client", "RateLimiter": "ratelimit", "RetryPolicy": "retry",
         **dict.fromkeys(("KeySecretTokenAuth", "OidcRefreshAuth"), "flows"), "SessionIdAuth": "session_flow"}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(importlib.import_module(f"{__name__}.{_LAZY[name]}"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")

__all__ = [
    "Auth",
    "HttpClient",
    "OAuthClientCredentials",
    "OAuthPassword",
    "RateLimiter",
    "RetryPolicy",
    "StaticHeaderAuth",
    "get_loop",
    "install_log_redaction",
    "redact",
    "register_secret",
    "run_sync",
]

# A logger's filters only see records logged on that very logger, not those propagated from
# its children, so the filter goes on the package logger and on each of our module loggers; and on
# httpx's and httpcore's own loggers, whose INFO line names the full URL (a session id sent as a
# query parameter, Voyzu's dev-server placement, would otherwise reach a user's INFO log). httpcore
# logs on child loggers (its DEBUG trace shows every request's and response's headers: a login's
# Set-Cookie session before crmql has registered it; redact() masks session-like cookie values).
for _name in ("crmql", __name__, *(f"{__name__}.{m}" for m in ("auth", "client", "loop", "ratelimit", "retry")),
              "httpx", "httpcore", *(f"httpcore.{m}" for m in ("connection", "http11", "http2", "proxy", "socks"))):
    install_log_redaction(logging.getLogger(_name))
del _name
