"""Page size, page number and ``_links`` of a casavi v2 list, under each paging reading.

The v2 envelope is ``{"list": [...], "_links": {"self": ..., "next": ...}}`` with no total
(vendor-notes section 4); the page-size parameter, its maximum and the page base are undocumented:

* ``casavi.page_size_param``: ``limit`` (CHOSEN: the sibling casavi Community API documents
  ``page`` + ``limit``) | ``pageSize`` | ``size``. A size under another name is ignored (an
  unknown parameter), so the page holds :data:`DEFAULT_SIZE` records.
* ``casavi.page_size_max``: ``100`` | ``50`` | ``500``; ``casavi.oversize``: ``clamp`` (a bigger
  size serves the maximum) | ``reject`` (400 ``"<param> must be between 1 and <max>"``). A size
  below 1 or not a whole number is a 400 under both.
* ``casavi.page_base``: ``0`` | ``1``: the number of the first page in ``page``. The first page
  is asked without ``page``; a page below the base or not a whole number is a 400; a page past
  the end is empty.
* ``casavi.next_link``: ``absolute`` (``http://host/casavi/v2/contacts?...&page=N``) | ``path``
  (root-relative, ``/casavi/v2/contacts?...``: the path of the request as the server saw it, so it
  resolves against the origin as RFC 3986 says; on the real API that is ``/v2/contacts?...``) |
  ``href`` (a HAL object ``{"href": <absolute URL>}``). ``self`` takes the same form.
* ``casavi.last_page``: ``absent`` (no ``next`` on the last page) | ``null`` (``"next": null``).

A next link keeps every parameter of the request in its order (filters, the size parameter)
but ``page``, then sets ``page``.

>>> req = page_request({"limit": "2"}, {})
>>> req.size, req.offset
(2, 0)
>>> page_links("http://h", "/v2/contacts", [("limit", "2")], req, 5, {})
{'self': 'http://h/v2/contacts?limit=2', 'next': 'http://h/v2/contacts?limit=2&page=1'}
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, urlencode

from .filter import ParamError

__all__ = ["DEFAULT_SIZE", "PageRequest", "page_links", "page_request"]

logger = logging.getLogger(__name__)

#: records per page when the request names no size the vendor reads
DEFAULT_SIZE = 25
_WHOLE = re.compile(r"^[0-9]{1,9}$")


@dataclass(frozen=True)
class PageRequest:
    """One page: ``size`` records from ``index * size`` (``index`` 0-based), numbered from ``base``."""

    size: int
    index: int
    base: int

    @property
    def offset(self) -> int:
        """The first record's position in the whole list."""
        return self.index * self.size


def page_request(params: Mapping[str, str], variants: Mapping[str, str]) -> PageRequest:
    """The page a request asks for (``params``: its query string). Raises :class:`ParamError`.

    >>> page_request({"page": "3", "pageSize": "10"}, {"casavi.page_size_param": "pageSize",
    ...                                                "casavi.page_base": "1"})
    PageRequest(size=10, index=2, base=1)
    >>> page_request({"limit": "101"}, {"casavi.oversize": "reject"})
    Traceback (most recent call last):
    crmql.sandbox.casavi.filter.ParamError: limit must be between 1 and 100
    """
    name = variants.get("casavi.page_size_param", "limit")
    largest = int(variants.get("casavi.page_size_max", "100"))
    base = int(variants.get("casavi.page_base", "0"))
    size = DEFAULT_SIZE
    if name in params:
        text = params[name]
        if not _WHOLE.match(text):
            raise ParamError(f"{name} must be a whole number between 1 and {largest}, got {text!r}")
        size = int(text)
        if size < 1 or (size > largest and variants.get("casavi.oversize", "clamp") == "reject"):
            raise ParamError(f"{name} must be between 1 and {largest}")
        size = min(size, largest)
    index = 0
    if "page" in params:
        text = params["page"]
        if not _WHOLE.match(text):
            raise ParamError(f"page must be a whole number, got {text!r}")
        if int(text) < base:
            raise ParamError(f"page must be at least {base}")
        index = int(text) - base
    return PageRequest(size, index, base)


def _url(origin: str, path: str, pairs: Sequence[tuple[str, str]], form: str) -> Any:
    query = urlencode(list(pairs), quote_via=quote)
    relative = f"{quote(path)}{'?' + query if query else ''}"
    if form == "path":
        return relative
    absolute = origin.rstrip("/") + relative
    return {"href": absolute} if form == "href" else absolute


def page_links(origin: str, path: str, pairs: Sequence[tuple[str, str]], req: PageRequest, total: int,
               variants: Mapping[str, str]) -> dict[str, Any]:
    """``_links`` of one page: ``origin`` (``scheme://host:port``), ``path`` (the request's whole
    path), ``pairs`` (its query string, in order), the page asked and how many records match."""
    form = variants.get("casavi.next_link", "absolute")
    links: dict[str, Any] = {"self": _url(origin, path, pairs, form)}
    if req.offset + req.size < total:
        kept = [(k, v) for k, v in pairs if k != "page"]
        links["next"] = _url(origin, path, kept + [("page", str(req.base + req.index + 1))], form)
    elif variants.get("casavi.last_page", "absent") == "null":
        links["next"] = None
    return links
