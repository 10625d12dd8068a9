"""The origin rule: a connection's token goes only to its own scheme, host and port.

Connectors check a vendor's next link with :func:`same_origin` before following it (and name the
foreign origin in the error); :class:`~crmql.http.client.HttpClient` checks every authenticated
request again before it attaches credentials, so no path through the code can send a token away.

Both sides are parsed the way httpx parses the URL it sends (:class:`httpx.URL`), so an IDN host
(``bücher.example``, sent as ``xn--bcher-kva.example``), an IPv6 literal or a spelled default
port compare as the host httpx connects to, never as two spellings of it.

>>> same_origin("https://api.example.com/v1/x?page=2", "https://API.example.com:443/v1/")
True
>>> same_origin("https://xn--bcher-kva.example/api/x", "https://Bücher.example/api")
True
>>> origin_of("//evil.example:8080/x")
'//evil.example:8080'
"""

from __future__ import annotations

import ipaddress
from urllib.parse import urlsplit

import httpx

__all__ = ["origin_of", "same_origin"]

_DEFAULT_PORTS = {"http": 80, "https": 443}


def _origin(url: str) -> tuple[str, str, int | None] | None:
    """``(scheme, host, port)`` as httpx would connect, or ``None`` for a URL never to trust."""
    try:
        parsed = httpx.URL(url)
        host = parsed.raw_host.decode("ascii").lower()  # IDNA-encoded, as sent
    except (httpx.InvalidURL, UnicodeError, TypeError, ValueError):
        return None
    if parsed.userinfo:
        return None  # credentials in a link: never ours
    port = parsed.port
    if port is not None and not 0 < port < 65536:
        return None
    try:
        host = ipaddress.ip_address(host).compressed  # one spelling per IP address
    except ValueError:
        pass  # a name, compared as spelled ("a.example." is not "a.example": a resolver may differ)
    scheme = parsed.scheme.lower()
    return scheme, host, port if port is not None else _DEFAULT_PORTS.get(scheme)


def same_origin(url: str, base_url: str) -> bool:
    """Whether ``url`` is on ``base_url``'s scheme, host and port (default ports spelled or not),
    the only place a request may carry the connection's token.

    >>> base = "https://crm.example.com/api/"
    >>> same_origin("https://CRM.example.com:443/api/x?page=2", base)
    True
    >>> [same_origin(u, base) for u in ("http://crm.example.com/api/x", "https://crm.example.com:8443/x",
    ...                                 "https://evil.example/x", "https://u:p@crm.example.com/x")]
    [False, False, False, False]
    """
    mine, theirs = _origin(base_url), _origin(url)
    return mine is not None and theirs is not None and bool(theirs[0]) and mine == theirs


def origin_of(url: str) -> str:
    """``scheme://host:port`` of ``url``, without path, query or credentials, for error messages.

    >>> origin_of("http://user:secret@other.example:9000/x?token=abc")
    'http://other.example:9000'
    """
    try:
        parts = urlsplit(url)
        host, port = parts.hostname or "", parts.port
    except ValueError:
        return "(an unparsable URL)"
    netloc = f"{host}:{port}" if port is not None else host
    return f"{parts.scheme}://{netloc}" if parts.scheme else f"//{netloc}"
