"""Filter encoders: how the native conditions one request carries (a :class:`FilterSet`: an AND
list and OR groups) become part of that request.

* :class:`JsonFilterTree`: ``{"<key>": {"and": [{field: {op: value}}, ...], "or": [...]}}`` in the
  JSON body (Azavista's search endpoints);
* :class:`FieldParams`: one query parameter per condition, named from a template
  (``fields.{field}[{op}]``; a repeated parameter is the vendor's OR: Atlas);
* :class:`FilterList`: ``{"filters": [{"field": ..., "operator": ..., "value": ...}]}`` in the body
  (an AND list, Voyzu's search DSL);
* :class:`OpParams`: a native operator that *is* a query parameter (``type=sale``), for endpoints
  with a few fixed filters.

Each also gives the read-only view ``FetchPlan.native`` shows (what the encoder put in the
requests), so tests can hand the exact filter to a simulator.

>>> fs = FilterSet([NativeCond("status", "eq", "won")])
>>> JsonFilterTree("sale_filter").apply(NativeRequest("POST", "/s"), fs).body
{'sale_filter': {'and': [{'status': {'eq': 'won'}}]}}
>>> FieldParams("fields.{field}[{op}]").apply(NativeRequest("GET", "/e", [("type", "sale")]), fs).params
[('type', 'sale'), ('fields.status[eq]', 'won')]
"""

from __future__ import annotations

import logging
from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from ...plan.connector import FilterSet, NativeRequest
from ...plan.pushdown import NativeCond
from .place import Place, dig

__all__ = ["FieldParams", "FilterEncoder", "FilterList", "JsonFilterTree", "OpParams"]

log = logging.getLogger(__name__)


class FilterEncoder(ABC):
    """Puts a request's native conditions into the request."""

    #: whether the conditions go into the JSON body (refused on a GET)
    in_body: bool = False

    @abstractmethod
    def apply(self, request: NativeRequest, filters: FilterSet) -> NativeRequest:
        """``request`` carrying ``filters``."""

    def view(self, requests: Sequence[NativeRequest]) -> Any:
        """What the encoder put into ``requests`` (``FetchPlan.native``): by default each request's
        query parameters."""
        return [list(r.params or ()) for r in requests]


def _cond(c: NativeCond) -> dict[str, Any]:
    return {c.field: {c.op: c.value}}


@dataclass(frozen=True)
class JsonFilterTree(FilterEncoder):
    """One AND list and OR groups under ``key`` (a dotted body path), each condition
    ``{field: {op: value}}``; an empty list is left out, so no condition is ``{}``. Only the first
    OR group is sent: declare ``FilterShape(or_groups=1)`` for such a vendor."""

    key: str
    in_body = True

    def apply(self, request: NativeRequest, filters: FilterSet) -> NativeRequest:
        tree: dict[str, Any] = {}
        if filters.conds:
            tree["and"] = [_cond(c) for c in filters.conds]
        if filters.or_groups:
            tree["or"] = [_cond(c) for c in filters.or_groups[0]]
        return Place.body(self.key).put(request, tree)

    def view(self, requests: Sequence[NativeRequest]) -> Any:
        """The tree of the (single) request.

        >>> JsonFilterTree("f").view([NativeRequest("POST", "/s", body={"f": {"and": []}})])
        {'and': []}
        """
        return dig(requests[0].body, self.key) if requests else None


@dataclass(frozen=True)
class FieldParams(FilterEncoder):
    """One query parameter per condition, ``template`` naming it from the field and operator;
    the value as text (``render``). An OR group is its conditions repeated (the vendor reads a
    repeated field and operator as OR: declare ``or_same_field_op``)."""

    template: str = "{field}[{op}]"
    render: Callable[[Any], str] = str

    def apply(self, request: NativeRequest, filters: FilterSet) -> NativeRequest:
        conds = list(filters.conds) + [c for group in filters.or_groups for c in group]
        pairs = [(self.template.format(field=c.field, op=c.op), self.render(c.value)) for c in conds]
        return replace(request, params=[*(request.params or ()), *pairs])


@dataclass(frozen=True)
class FilterList(FilterEncoder):
    """An AND list of ``{field, operator, value}`` objects under ``key`` in the JSON body (no OR:
    declare ``FilterShape(or_groups=0)``); ``operators`` maps a native operator to the vendor's word.

    >>> FilterList("filters").apply(NativeRequest("POST", "/q"), FilterSet([NativeCond("city", "eq", "Oslo")])).body
    {'filters': [{'field': 'city', 'operator': 'eq', 'value': 'Oslo'}]}
    """

    key: str = "filters"
    in_body = True
    names: tuple[str, str, str] = ("field", "operator", "value")
    operators: Mapping[str, str] = field(default_factory=dict)

    def apply(self, request: NativeRequest, filters: FilterSet) -> NativeRequest:
        f, o, v = self.names
        items = [{f: c.field, o: self.operators.get(c.op, c.op), v: c.value} for c in filters.conds]
        return Place.body(self.key).put(request, items)

    def view(self, requests: Sequence[NativeRequest]) -> Any:
        return [dig(r.body, self.key) for r in requests]


@dataclass(frozen=True)
class OpParams(FilterEncoder):
    """Native operators that are themselves query parameters (``{"type": "type"}``: the condition
    ``NativeCond(field, "type", "sale")`` is sent as ``type=sale``)."""

    params: Mapping[str, str]

    def apply(self, request: NativeRequest, filters: FilterSet) -> NativeRequest:
        for c in filters.conds:
            request = Place.query(self.params[c.op]).put(request, c.value)
        return request
