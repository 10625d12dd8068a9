"""Turn HTTP failures into short, readable, secret-free text for logs and error messages.

>>> import httpx
>>> safe_url(httpx.URL("http://api.test/v1/events?page=2&api_key=abc"))
'http://api.test/v1/events?page=2&api_key=***'
>>> vendor_message(httpx.Response(400, json={"error": {"message": "bad filter"}}))
'bad filter'
"""

from __future__ import annotations

import errno
import http
import json
import re
from typing import Any

import httpx

from crmql.redaction import MASK, SENSITIVE_PARAM, redact

__all__ = ["body_excerpt", "cause", "safe_url", "status_hint", "status_phrase", "vendor_message"]

#: how much of a vendor's error text ends up in an error message
MAX_MESSAGE = 300
_MESSAGE_KEYS = ("message", "error_description", "ErrorMessage", "error", "errors")
_TAGS = re.compile(r"<[^>]+>")
_SPACE = re.compile(r"\s+")


def safe_url(url: httpx.URL) -> str:
    """The URL for logs: credentials dropped, secret-looking query values masked, redacted.

    >>> import httpx
    >>> safe_url(httpx.URL("https://u:p@h.test/a?token=x&q=1"))
    'https://h.test/a?token=***&q=1'
    """
    base = url.copy_with(query=None, fragment=None, username=None, password=None)
    text = str(base)
    if url.query:
        parts = []
        for key, value in url.params.multi_items():
            shown = MASK if SENSITIVE_PARAM.search(key) else value
            parts.append(f"{key}={shown}")
        text += "?" + "&".join(parts)
    return redact(text)


def _origin(url: httpx.URL | None) -> str:
    if url is None:
        return ""
    port = f":{url.port}" if url.port else ""
    return f"{url.scheme}://{url.host}{port}"


def _chain(exc: BaseException) -> list[BaseException]:
    seen: list[BaseException] = []
    current: BaseException | None = exc
    while current is not None and current not in seen and len(seen) < 10:
        seen.append(current)
        current = current.__cause__ or current.__context__
    return seen


def _seconds(value: float) -> str:
    return f"{value:g}"


def cause(exc: Exception, timeout_s: float, url: httpx.URL | None = None) -> str:
    """A readable reason for a transport error: "connection refused", "timed out after 30 s"...

    >>> import httpx
    >>> cause(httpx.ReadTimeout("boom"), 30.0)
    'timed out after 30 s waiting for the response'
    >>> cause(httpx.RemoteProtocolError("Server disconnected"), 30.0)
    'connection dropped by the server'
    """
    where = _origin(url)
    at = f" ({where})" if where else ""
    chain = _chain(exc)
    text = " ".join(str(e) for e in chain).lower()
    if isinstance(exc, httpx.ConnectTimeout):
        return f"connection timed out after {_seconds(timeout_s)} s{at}"
    if isinstance(exc, httpx.PoolTimeout):
        return f"timed out after {_seconds(timeout_s)} s waiting for a free connection{at}"
    if isinstance(exc, httpx.TimeoutException):
        return f"timed out after {_seconds(timeout_s)} s waiting for the response{at}"
    if isinstance(exc, httpx.ConnectError):
        if any(isinstance(e, ConnectionRefusedError) for e in chain) or "refused" in text:
            return f"connection refused{at}"
        if "name or service not known" in text or "nodename nor servname" in text or "getaddrinfo" in text:
            return f"could not resolve the host name{at}"
        if any(isinstance(e, OSError) and e.errno == errno.ENETUNREACH for e in chain):
            return f"network unreachable{at}"
        return f"could not connect{at}: {redact(str(exc))[:200]}" if str(exc) else f"could not connect{at}"
    if isinstance(exc, httpx.RemoteProtocolError):
        return f"connection dropped by the server{at}"
    if isinstance(exc, httpx.ReadError):
        return f"connection lost while reading the response{at}"
    if isinstance(exc, httpx.WriteError):
        return f"connection lost while sending the request{at}"
    if isinstance(exc, httpx.ProxyError):
        return f"proxy error{at}: {redact(str(exc))[:200]}"
    detail = redact(str(exc))[:200]
    return f"{exc.__class__.__name__}{at}: {detail}" if detail else f"{exc.__class__.__name__}{at}"


def status_phrase(status: int) -> str:
    """Lower-case reason phrase for an HTTP status.

    >>> status_phrase(503)
    'service unavailable'
    >>> status_phrase(599)
    'HTTP error'
    """
    try:
        return http.HTTPStatus(status).phrase.lower()
    except ValueError:
        return "HTTP error"


def status_hint(response: httpx.Response) -> str | None:
    """A hint for statuses whose cause is usually on the user's side.

    >>> import httpx
    >>> status_hint(httpx.Response(403))
    'the credentials lack permission for this resource'
    """
    status = response.status_code
    if status == 403:
        return "the credentials lack permission for this resource"
    if 300 <= status < 400:
        location = response.headers.get("Location")
        if location:
            return f"the server redirects to {location}; check base_url in the connection settings"
        return "the server answered with a redirect; check base_url in the connection settings"
    return None


def _find(body: Any, depth: int = 0) -> str | None:
    if depth > 4 or body is None:
        return None
    if isinstance(body, str):
        return body.strip() or None
    if isinstance(body, (int, float, bool)):
        return str(body)
    if isinstance(body, list):
        found = [m for m in (_find(item, depth + 1) for item in body[:5]) if m]
        return "; ".join(found) or None
    if isinstance(body, dict):
        for key in _MESSAGE_KEYS:
            if key in body and body[key] not in (None, "", [], {}):
                found = _find(body[key], depth + 1)
                if found:
                    return found
        if len(body) == 1:  # e.g. {"fault": {"message": ...}}
            return _find(next(iter(body.values())), depth + 1)
    return None


def body_excerpt(response: httpx.Response) -> str:
    """The body as short text: HTML tags stripped, whitespace collapsed, cut to 300 chars.

    >>> import httpx
    >>> body_excerpt(httpx.Response(502, text="<html><h1>Bad   Gateway</h1></html>"))
    'Bad Gateway'
    """
    try:  # only the start: a body may be megabytes long
        text = response.content[:16384].decode(response.encoding or "utf-8", "replace")
    except Exception:  # an unknown charset
        return ""
    if "html" in response.headers.get("Content-Type", "") or text.lstrip().startswith("<"):
        text = _TAGS.sub(" ", text)
    text = _SPACE.sub(" ", text).strip()
    return text if len(text) <= MAX_MESSAGE else text[: MAX_MESSAGE - 3] + "..."


def vendor_message(response: httpx.Response) -> str | None:
    """The vendor's own error message from a response body, or ``None``.

    JSON bodies are searched for ``message``, ``error_description``, ``ErrorMessage``,
    ``error`` and ``errors`` (nested values are followed); other bodies are cut to 300
    characters.

    >>> import httpx
    >>> vendor_message(httpx.Response(400, json={"errors": [{"message": "a"}, {"message": "b"}]}))
    'a; b'
    >>> vendor_message(httpx.Response(500, text="oops"))
    'oops'
    """
    if len(response.content) > 1 << 20:  # a megabyte of error text: its start is enough
        return body_excerpt(response) or None
    try:
        body = json.loads(response.content) if response.content else None
    except (ValueError, UnicodeDecodeError, RecursionError):  # RecursionError: JSON nested past the stack
        body = None
        text = body_excerpt(response)
        return text or None
    if body is None:
        return None
    found = _find(body)
    if not found:
        found = body_excerpt(response)
    found = _SPACE.sub(" ", found).strip()
    return found if len(found) <= MAX_MESSAGE else found[: MAX_MESSAGE - 3] + "..."
