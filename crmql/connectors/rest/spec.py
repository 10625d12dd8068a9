"""A REST source as frozen data: the vendor (:class:`RestApi`) and its tables (:class:`Resource`).

A resource declares its columns (name, type, capability kind, description, options), the list or
search endpoint (method, path template, static parameters or body), where the records live in the
answer, its paginator, how native conditions enter a request (a filter encoder), the boolean shape
a request can carry, and the optional access paths: reads by id (:class:`ById`), one scan per
value of a required key column (:class:`FanOut`), vendor-side sorting (:class:`Sort`). The
generic :class:`~crmql.connectors.rest.connector.RestConnector` plans and fetches every one of
them; a vendor's real quirks are hooks on a small subclass.

>>> events = Resource("events", "Events", "/3.0/event/search", method="POST", records="events",
...                   columns=(Col("id", ColumnType.STRING, "id", "event id"),),
...                   paginator=OffsetPaginator(), filters=JsonFilterTree("event_filter"))
>>> events.first_request(FilterSet(), 50).render()
'POST /3.0/event/search\\n{"event_filter": {}, "limit": 50, "offset": 0}'
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from ...errors import ConnectorError
from ...plan.catalog import Column, ColumnType, FilterShape, RequiredFilter, Table
from ...plan.connector import FilterSet, NativeRequest
from ...plan.pushdown import Capability
from .async_poll import AsyncJob
from .filter_only import FilterOnly, param_text
from .auth import AuthSpec, NoAuth
from .encoders import FieldParams, FilterEncoder, JsonFilterTree
from .paginators import OffsetPaginator, Paginator, SinglePage  # noqa: F401 (OffsetPaginator: the example)
from .place import Place, dig

__all__ = ["ById", "Col", "Explode", "FanOut", "Resource", "RestApi", "Sort"]

log = logging.getLogger(__name__)

#: the parts of a list request, in the order they are put into it (static parts always first)
PARTS = ("filter", "page", "sort")
#: what a filter-only column pushes: ``=`` (or a one-value IN), always exact, as the native
#: operator "param" (the kit puts the value at the column's ``param``)
PARAM = FilterOnly()


@dataclass(frozen=True)
class Col:
    """A column: ``kind`` picks its capabilities from :attr:`RestApi.kinds` (``"none"``: no push).
    ``field``: the vendor's field when it differs from ``name``. ``param``: a *filter-only* column,
    whose value exists only as this request parameter (casavi's ``modifiedAfter``): ``WHERE col =
    value`` sends the value there and every row carries it; any other condition on the column is
    a QueryError (it would silently match nothing), and reads by id are not used with it (they
    would ignore the parameter)."""

    name: str
    type: ColumnType
    kind: str = "none"
    description: str = ""
    options: tuple[str, ...] | None = None
    field: str | None = None
    param: Place | None = None
    #: how a filter-only value is written into ``param`` (None: ISO-8601 for times, else as text)
    render: Callable[[Any], str] | None = None

    @property
    def filter_only(self) -> bool:
        return self.param is not None


@dataclass(frozen=True)
class ById:
    """Reads by id: ``path`` with ``{id}`` (one percent-encoded segment), ``method`` (Voyzu reads
    by id with POST). Used when a condition on ``column`` pushes as one of ``ops`` with at most
    ``max_ids`` ids (``count``: "distinct" ids, or the values "listed", repeats counted: Azavista)
    and COUNT(*) is not asked. ``note``: why the other conditions stay local. ``only``: when ``ops``
    are no filter of the list endpoint, why such a condition stays local when it is not read by id
    (empty: they are a filter). An id that cannot be one URL path segment names no record, unless
    ``free_form`` (ids the customer chooses, casavi's reference ids): then a condition with such an
    id is answered by a list scan (filtered locally), never "no row".

    On a child table (``explode``) the reads are of the PARENTS: ``column`` is the carried parent
    key (the explode's ``carry`` maps it to ``parent_key``, the parent's field the path's id names),
    each parent read is exploded into its rows, and ``parent`` names it in EXPLAIN ("contact")."""

    path: str
    method: str = "GET"
    column: str = "id"
    ops: tuple[str, ...] = ("eq", "in")
    max_ids: int = 50
    note: str = "GET by id carries no other filter; checked locally"
    only: str = ""
    #: what an id names, in EXPLAIN ("a record", "an entity")
    names: str = "a record"
    count: str = "distinct"
    free_form: bool = False
    #: statuses of a read by id that mean "no such record" (no row)
    missing: tuple[int, ...] = (404,)
    #: a child table's reads by id: what a parent is called in EXPLAIN, and its field the id names
    parent: str = "parent"
    parent_key: str = "id"

    def __post_init__(self) -> None:
        if self.count not in ("distinct", "listed"):
            raise ValueError(f"ById count {self.count!r} is not 'distinct' or 'listed'")

    def request(self, key: str) -> NativeRequest:
        return Place.path("id").put(NativeRequest(self.method, self.path), key)


@dataclass(frozen=True)
class FanOut:
    """One scan per value of the key ``column`` (pushed as ``op``, or as the ``=``/``IN`` operators of
    the column's equality capability), the value put at ``place`` (a path segment, or a query
    parameter); each row carries its value. ``filters``: the native operators the endpoint also takes
    as query parameters ({op: parameter}; every pushed condition whose operators are all here is
    sent, each parameter once; a value outside the column's options is not sent: the vendor would
    refuse it); ``note``: why other conditions stay local.

    ``required=False`` (casavi Community's tickets: ``?community_id=`` is optional): with at most
    ``max_values`` key values one scan per value, else ONE scan without the key, the key condition
    checked locally. A required key is declared on the resource too (``required=(RequiredFilter(..),)``:
    the planner refuses a query without it). ``carried``: the record field holding the key the row
    belongs to (``"Community.id"``); a row whose carried value differs from the key it was read for
    is dropped (the vendor ignored the key: the row comes under its own key).

    >>> FanOut("community_id", place=Place.query("community_id"), required=False).max_values
    50
    """

    column: str
    op: str = "path"
    place: Place = Place.path("id")
    filters: Mapping[str, str] = field(default_factory=dict)
    note: str = "the endpoint filters only by its key; checked locally"
    #: what one key value names ("entity", "an entity"), in EXPLAIN and in errors ("community 15: ...")
    noun: str = "key"
    names: str = "a key"
    #: a 404 for a key value is no rows (the value names nothing)
    missing_is_empty: bool = True
    required: bool = True
    max_values: int = 50
    carried: str | None = None
    #: set where the paths are guesses: EVERY key answering 404 is then an error with this hint
    #: (e.g. naming the ``paths`` setting), not an empty result (see :func:`.fan_out.report_missing`)
    missing_hint: str | None = None

    def __post_init__(self) -> None:
        if self.max_values < 1:
            raise ValueError(f"FanOut {self.column}: max_values must be at least 1")


@dataclass(frozen=True)
class Explode:
    """A child table from a nested array: the endpoint lists parent records, and each item of the
    array at ``array`` in a parent becomes a row, carrying parent fields (``carry``: child column
    -> parent field). A condition on a carried column pushes as the parent's filter (declare the
    column with ``field=`` the parent's field); COUNT(*) is counted (a parent total is no count of
    children) and LIMIT never cuts the parents' pages short (a parent may have no child). With a
    ``by_id`` on the carried parent key, ``key = x`` / ``key IN (..)`` reads those parents by id
    and explodes them (see :class:`ById`).

    >>> Explode("sessions", {"event_id": "id"}).rows([{"id": "e1", "sessions": [{"n": 1}, {"n": 2}]}, {"id": "e2"}])
    [{'n': 1, 'event_id': 'e1'}, {'n': 2, 'event_id': 'e1'}]

    ``scalar`` names the one field a scalar item (text, number, boolean) becomes (Voyzu's ``Labels``):

    >>> Explode("Labels", {"contact_id": "Id"}, scalar="label").rows([{"Id": "c-1", "Labels": ["#vip", "#new"]}])
    [{'label': '#vip', 'contact_id': 'c-1'}, {'label': '#new', 'contact_id': 'c-1'}]
    """

    array: str
    carry: Mapping[str, str] = field(default_factory=dict)
    #: the field a scalar item becomes; None: every item is an object
    scalar: str | None = None

    def rows(self, parents: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """The children of ``parents`` (a missing or null array: none). An array that is not a list,
        or an item that is not an object, is a ValueError (the connector names the vendor): never
        fewer rows without a word.

        >>> Explode("sessions").rows([{"id": "e1", "sessions": ["x"]}])
        Traceback (most recent call last):
        ...
        ValueError: a 'sessions' item is a str, not an object
        >>> Explode("Labels", scalar="label").rows([{"Labels": [{"x": 1}]}])
        Traceback (most recent call last):
        ...
        ValueError: a 'Labels' item is a dict, not a text, number or boolean
        """
        out = []
        for parent in parents:
            items = dig(parent, self.array)
            if items is None:
                continue
            if not isinstance(items, list):
                raise ValueError(f"a parent's '{self.array}' is a {type(items).__name__}, not a list")
            for item in items:
                if self.scalar is not None:
                    if not isinstance(item, (str, int, float, bool)):
                        raise ValueError(f"a '{self.array}' item is a {type(item).__name__}, not a text, number or boolean")
                    item = {self.scalar: item}
                elif not isinstance(item, dict):
                    raise ValueError(f"a '{self.array}' item is a {type(item).__name__}, not an object")
                out.append({**item, **{col: dig(parent, f) for col, f in self.carry.items()}})
        return out


@dataclass(frozen=True)
class Sort:
    """Vendor-side ascending sort by one column, ``place`` naming the field: pushed only for
    ``ORDER BY <column of one of types> LIMIT n`` (an order the vendor cannot get wrong)."""

    place: Place
    types: tuple[ColumnType, ...] = (ColumnType.FLOAT, ColumnType.INTEGER, ColumnType.DATE)


@dataclass(frozen=True)
class Resource:
    """One table of a REST source (see the module docstring)."""

    name: str
    description: str
    path: str
    method: str = "GET"
    #: static query parameters and JSON body of every list request
    params: tuple[tuple[str, str], ...] = ()
    body: Mapping[str, Any] | None = None
    #: where the records are in the answer ("" = the answer is the list)
    records: str = "items"
    columns: tuple[Col, ...] = ()
    paginator: Paginator = field(default_factory=SinglePage)
    #: default by method: ``FieldParams()`` (query parameters) for GET, ``JsonFilterTree("filter")`` for POST
    filters: FilterEncoder = None  # type: ignore[assignment]
    shape: FilterShape = field(default_factory=FilterShape)
    by_id: ById | None = None
    fan_out: FanOut | None = None
    sort: Sort | None = None
    #: the order filter, paging values and sort go into a list request
    layout: tuple[str, ...] = PARTS
    required: tuple[RequiredFilter, ...] = ()
    key: str = "id"
    #: how EXPLAIN names the list requests ("search", "entities") and an answer ("search", "list")
    noun: str = "search"
    answer: str = "search"
    #: run every list request as an asynchronous job: submit, poll, take the result (Voyzu's
    #: ``?async=true``; :class:`~crmql.connectors.rest.async_poll.AsyncJob` says how)
    async_job: AsyncJob | None = None
    #: a child table: each parent record's nested array becomes rows
    explode: Explode | None = None

    def __post_init__(self) -> None:
        """A declaration that cannot work fails when it is made (a vendor module's import), not
        at the first query.

        >>> Resource("t", "T", "/t", by_id=ById("/t/get"))
        Traceback (most recent call last):
        ...
        ValueError: resource t: by_id path '/t/get' has no {id}
        """
        def bad(what: str) -> ValueError:
            return ValueError(f"resource {self.name}: {what}")

        if self.method not in ("GET", "POST"):
            raise bad(f"method {self.method!r} is not GET or POST")
        if self.filters is None:
            object.__setattr__(self, "filters", FieldParams() if self.method == "GET" else JsonFilterTree("filter"))
        if self.method == "GET" and (self.filters.in_body or self.body is not None):
            raise bad("a GET sends no JSON body: declare the filters as query parameters (FieldParams, OpParams)")
        if unknown := [p for p in self.layout if p not in PARTS]:
            raise bad(f"layout has {unknown}; the parts are {list(PARTS)}")
        if self.by_id is not None and "{id}" not in self.by_id.path:
            raise bad(f"by_id path {self.by_id.path!r} has no {{id}}")
        names = {c.name for c in self.columns}
        if self.fan_out is not None:
            slot = "{" + self.fan_out.place.name + "}"
            if self.fan_out.place.where.value == "path" and slot not in self.path:
                raise bad(f"fan_out puts its key at {slot}, which the path {self.path!r} does not have")
            if self.columns and self.fan_out.column not in names:
                raise bad(f"fan_out column {self.fan_out.column!r} is not a column")
        elif "{" in self.path:
            raise bad(f"path {self.path!r} has a slot only a fan_out fills")
        if self.explode is not None and self.fan_out is not None:
            raise bad("a child table (explode) is read through its parents' list or reads by id only")
        if self.explode is not None and self.by_id is not None:
            self._check_child_by_id(bad, names)
        if self.explode is not None and self.shape.split_or:
            raise bad("a child table (explode) has no key to de-duplicate an OR split by: declare split_or=False")
        if self.fan_out is not None and any(c.filter_only for c in self.columns):
            raise bad("a fan-out resource takes no filter-only column")
        self._check_paging_names(bad)

    def _check_child_by_id(self, bad: Callable[[str], ValueError], names: set[str]) -> None:
        """A child table's reads by id read its parents: the column must be carried from the
        parent's key, or a row would carry another value than the id it was read for.

        >>> Resource("s", "S", "/e", columns=(Col("n", ColumnType.INTEGER),), explode=Explode("s", {"e": "id"}),
        ...          shape=FilterShape(split_or=False), by_id=ById("/e/{id}", column="e"))
        Traceback (most recent call last):
        ...
        ValueError: resource s: by_id column 'e' is not a column
        """
        assert self.by_id is not None and self.explode is not None
        column = self.by_id.column
        if self.columns and column not in names:
            raise bad(f"by_id column {column!r} is not a column")
        if column not in self.explode.carry:
            raise bad(f"by_id column {column!r} is not carried from the parent (explode carry: "
                      f"{sorted(self.explode.carry)})")
        if self.explode.carry[column] != self.by_id.parent_key:
            raise bad(f"by_id column {column!r} carries the parent's {self.explode.carry[column]!r}, not the "
                      f"parent's key {self.by_id.parent_key!r} its path names")
        col = next((c for c in self.columns if c.name == column), None)
        if col is not None and col.field not in (None, column):
            raise bad(f"by_id column {column!r} reads the field {col.field!r}, but a child row carries it as "
                      f"{column!r}")

    def _paging_names(self) -> set[str]:
        return {p.name for p in self.paginator.places() if p.where.value == "query"}

    def _check_paging_names(self, bad: Callable[[str], ValueError]) -> None:
        """No parameter of the request may be named like a paging one: the paging value would
        replace it (a filter silently not sent)."""
        paging = self._paging_names()
        named = [(f"static parameter {k}", k) for k, _ in self.params]
        named += [(f"column {c.name}'s parameter", c.param.name) for c in self.columns
                  if c.param is not None and c.param.where.value == "query"]
        template = getattr(self.filters, "template", None)
        if isinstance(template, str) and "{op}" not in template:
            named += [(f"column {c.name}'s filter parameter", template.format(field=c.field or c.name))
                      for c in self.columns if c.kind != "none" and not c.filter_only]
        for what, name in named:
            if name in paging:
                raise bad(f"the {what} {name!r} is also a paging parameter of {type(self.paginator).__name__}")

    def first_request(self, filters: FilterSet, page: int, sort: str | None = None) -> NativeRequest:
        """The first page's request for one filter set, exactly as it is sent."""
        request = NativeRequest(self.method, self.path, params=list(self.params) if self.params else None,
                                body=dict(self.body) if self.body is not None else None)
        for part in self.layout:
            if part == "filter":
                before = len(request.params or ())
                request = self.filters.apply(request, filters)
                added = {k for k, _ in list(request.params or ())[before:]} if not isinstance(request.params, dict) else set()
                if clash := sorted(added & self._paging_names()):
                    raise ConnectorError(f"{self.name}: the filter parameter {clash[0]!r} is also a paging parameter, "
                                         "so the paging value would replace it", hint="declare another filter template")
            elif part == "page":
                request = self.paginator.first(request, page)
            elif part == "sort" and sort is not None and self.sort is not None:
                request = self.sort.place.put(request, sort)
        if self.async_job is not None:  # sent with every list request: shown as sent
            request = Place.query(self.async_job.async_param[0]).put(request, self.async_job.async_param[1])
        return request

    def table(self, connection: str, kinds: Callable[[str], tuple[Capability, ...]]) -> Table:
        """The catalog table of a declared resource (a live catalog builds its own)."""
        columns = tuple(Column(c.name, c.type, c.description, options=c.options, field=c.field,
                               filters=(FilterOnly(sent_as=c.param.name, render=c.render or param_text),)
                               if c.param is not None else kinds(c.kind)) for c in self.columns)
        return Table(connection, self.name, columns, self.description, key=self.key, required=self.required,
                     shape=self.shape)


@dataclass(frozen=True)
class RestApi:
    """A vendor's REST source: its name (the connection's ``vendor``), display name, auth flow,
    resources, and ``kinds``: ``kinds(kind, settings)`` -> the capabilities of a column of that
    kind under the connection's settings (case-sensitivity readings and the like);
    ``retry_statuses``: statuses beyond the usual ones (429, 5xx) that the vendor uses for a
    transient failure."""

    vendor: str
    display: str
    resources: tuple[Resource, ...]
    auth: AuthSpec = field(default_factory=NoAuth)
    kinds: Callable[[str, Mapping[str, Any]], tuple[Capability, ...]] = lambda kind, settings: ()
    required_settings: tuple[str, ...] = ("base_url",)
    headers: Mapping[str, str] = field(default_factory=lambda: {"Content-Type": "application/json",
                                                                 "Accept": "application/json"})
    #: the vendor's own transient statuses, retried as a 503 is (Voyzu: 540, 541)
    retry_statuses: tuple[int, ...] = ()

    def __post_init__(self) -> None:
        names = [r.name for r in self.resources]
        if twice := sorted({n for n in names if names.count(n) > 1}):
            raise ValueError(f"vendor {self.vendor}: resources declared twice: {', '.join(twice)}")

    def resource(self, name: str) -> Resource:
        """The resource behind table ``name``.

        >>> RestApi("demo", "Demo", (Resource("a", "A", "/a"),)).resource("b")
        Traceback (most recent call last):
        ...
        KeyError: "demo has no resource 'b'"
        """
        for r in self.resources:
            if r.name == name:
                return r
        raise KeyError(f"{self.vendor} has no resource {name!r}")
