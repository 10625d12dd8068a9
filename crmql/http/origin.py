"""The origin rule: a connection's token goes only to its own scheme, host and port.

Connectors check a vendor's next link with :func:`same_origin` before following it (and name the
foreign origin in the error); :class:`~crmql.http.client.HttpClient` checks every authenticated
request again before it attaches credentials, so no path through the code can send a token away.

>>> same_origin("https://api.example.com/v1/x?page=2", "https://API.example.com:443/v1/")
True
>>> origin_of("//evil.example:8080/x")
'//evil.example:8080'
"""

from __future__ import annotations

from urllib.parse import urlsplit

__all__ = ["origin_of", "same_origin"]

_DEFAULT_PORTS = {"http": 80, "https": 443}


def _origin(url: str) -> tuple[str, str, int | None] | None:
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:  # a port that is not a number, or out of range
        return None
    if parts.username is not None or parts.password is not None:
        return None  # credentials in a link: never ours
    scheme = parts.scheme.lower()
    return scheme, (parts.hostname or "").lower(), port if port is not None else _DEFAULT_PORTS.get(scheme)


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
