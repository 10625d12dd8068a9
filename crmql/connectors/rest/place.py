"""Where a value goes in a request, and where a value is read from in an answer.

A :class:`Place` names one slot of a request: a query parameter, a path in the JSON body, a
header, or a ``{name}`` segment of the path template. Paginators, filter encoders and key columns
declare their values' places the same way (Airbyte's ``inject_into``), so a vendor that takes its
page size as a header, or its offset inside a nested ``options`` object, is one declaration.
Putting a value that is already there replaces it where it stands: the request keeps its shape
(parameter order, body key order), so the second page of a scan differs from the first only in
its paging values.

>>> req = NativeRequest("POST", "/3.0/event/search", body={"event_filter": {}, "limit": 50, "offset": 0})
>>> Place.body("offset").put(req, 100).body
{'event_filter': {}, 'limit': 50, 'offset': 100}
>>> Place.query("limit").put(NativeRequest("GET", "/entities", [("type", "sale")]), 100).params
[('type', 'sale'), ('limit', '100')]
>>> dig({"_links": {"next": {"href": "/p2"}}}, "_links.next.href")
'/p2'
"""

from __future__ import annotations

import enum
import logging
from dataclasses import dataclass, replace
from typing import Any
from urllib.parse import quote

from ...plan.connector import NativeRequest

__all__ = ["In", "Place", "dig"]

log = logging.getLogger(__name__)


class In(str, enum.Enum):
    """The part of a request a value is injected into."""

    QUERY = "query"
    BODY = "body"
    HEADER = "header"
    PATH = "path"


@dataclass(frozen=True)
class Place:
    """One slot of a request: ``Place(In.QUERY, "limit")``, ``Place(In.BODY, "options.offset")``
    (a dotted path into the JSON body), ``Place(In.HEADER, "X-Page")``, ``Place(In.PATH, "id")``
    (the ``{id}`` of the path template, percent-encoded as one segment)."""

    where: In
    name: str

    @classmethod
    def query(cls, name: str) -> Place:
        return cls(In.QUERY, name)

    @classmethod
    def body(cls, name: str) -> Place:
        return cls(In.BODY, name)

    @classmethod
    def header(cls, name: str) -> Place:
        return cls(In.HEADER, name)

    @classmethod
    def path(cls, name: str) -> Place:
        return cls(In.PATH, name)

    def put(self, request: NativeRequest, value: Any) -> NativeRequest:
        """``request`` with ``value`` in this place (a query parameter or header as text, a body
        value as it is), replacing a value already there in its position.

        >>> Place.path("id").put(NativeRequest("GET", "/entities/{id}/links"), "a/b").path
        '/entities/a%2Fb/links'
        >>> Place.header("X-Page").put(NativeRequest("GET", "/t"), 2).headers
        (('X-Page', '2'),)
        """
        if self.where is In.QUERY:
            return replace(request, params=_put_pair(request.params, self.name, str(value)))
        if self.where is In.HEADER:
            return replace(request, headers=tuple(_put_pair(list(request.headers), self.name, str(value))))
        if self.where is In.PATH:
            return replace(request, path=request.path.replace("{" + self.name + "}", quote(str(value), safe="")))
        body = dict(request.body) if isinstance(request.body, dict) else {}
        *parents, last = self.name.split(".")
        node = body
        for part in parents:  # copy each level on the way down: the request is never changed in place
            child = node.get(part)
            node[part] = dict(child) if isinstance(child, dict) else {}
            node = node[part]
        node[last] = value
        return replace(request, body=body)

    def get(self, request: NativeRequest) -> Any:
        """The value in this place of ``request`` (None when absent; a path segment cannot be read).

        >>> Place.query("limit").get(NativeRequest("GET", "/t", [("limit", "100")]))
        '100'
        """
        if self.where is In.QUERY:
            pairs = request.params.items() if isinstance(request.params, dict) else request.params or ()
            return next((v for k, v in pairs if k == self.name), None)
        if self.where is In.HEADER:
            return next((v for k, v in request.headers if k == self.name), None)
        if self.where is In.BODY:
            return dig(request.body, self.name)
        return None

    def remove(self, request: NativeRequest) -> NativeRequest:
        """``request`` without the value at this place (a query parameter, header or top-level body
        key; a ValueError for a place no value can be left out of).

        >>> request = NativeRequest("GET", "/v2/contacts", [("isRegistered", "true"), ("limit", "100")])
        >>> Place.query("limit").remove(request).render()
        'GET /v2/contacts?isRegistered=true'
        """
        if self.where is In.QUERY and isinstance(request.params, dict):
            return replace(request, params={k: v for k, v in request.params.items() if k != self.name} or None)
        if self.where is In.QUERY:
            return replace(request, params=[(k, v) for k, v in request.params or () if k != self.name] or None)
        if self.where is In.HEADER:
            return replace(request, headers=tuple((k, v) for k, v in request.headers if k != self.name))
        if self.where is In.BODY and isinstance(request.body, dict) and "." not in self.name:
            return replace(request, body={k: v for k, v in request.body.items() if k != self.name})
        raise ValueError(f"a value at {self.where.value} {self.name!r} cannot be left out")

    def describe(self) -> str:
        """How EXPLAIN names the slot.

        >>> Place.body("limit").describe(), Place.query("limit").describe()
        ('limit', 'limit')
        """
        return self.name


def _put_pair(pairs: Any, name: str, value: str) -> Any:
    if isinstance(pairs, dict):
        return {**pairs, name: value}
    out = list(pairs or [])
    for i, (key, _) in enumerate(out):
        if key == name:
            out[i] = (key, value)
            return out
    out.append((name, value))
    return out


def dig(data: Any, path: str) -> Any:
    """The value at a dotted ``path`` of a decoded JSON answer (``""``: the answer itself), or None
    when any step is missing or not an object.

    >>> dig([1, 2], ""), dig({"a": 1}, "a.b"), dig({"a": {"b": 2}}, "a.b")
    ([1, 2], None, 2)
    """
    if not path:
        return data
    for part in path.split("."):
        if not isinstance(data, dict):
            return None
        data = data.get(part)
    return data
