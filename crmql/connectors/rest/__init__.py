"""The declarative REST kit: a vendor is a :class:`RestApi` (auth, resources) and, for its real
quirks, a few hooks on a :class:`RestConnector` subclass.

Adding a vendor ``acme``:

1. ``crmql/connectors/acme/connector.py``: declare each table as a :class:`Resource` (endpoint,
   where the records are, paginator, filter encoder, request shape, columns with a capability
   ``kind``; optionally reads by id, a fan-out key, a sort, a child table, filter-only columns),
   say what each kind pushes (``kinds``: the vendor's operators, exact or superset under every
   reading of its docs), and subclass :class:`RestConnector` with ``api = RestApi(...)``. Keep the
   module docstring: how the vendor's docs were read, ambiguity by ambiguity.
2. Override a hook only for a real quirk (:mod:`.connector` lists them: stricter record checks,
   completing list items, typed reads by id, fan-out rows, reading a next link ahead); a live
   catalog overrides ``table_names``/``load_table`` (Atlas).
3. ``crmql/connectors/acme/vendor.py``: ``VENDOR = VendorSpec(...)`` naming the connector and the
   simulator as ``"module:attr"`` strings, registered under ``[project.entry-points."crmql.vendors"]``
   (:mod:`crmql.vendors`); ``crmql/connectors/acme/__init__.py`` exports both lazily.
4. The simulator (``crmql/sandbox/acme/``) and a test spec (``tests/vendors/acme/``) for the
   contract tests.

The kit plans (reads by id, COUNT from a total, LIMIT as the page size, OR split, vendor-side
sort, fan-out), pages (offset, next link, page index, count, single page, async jobs), validates
every answer and keeps the token on the connection's origin; the requests a plan holds are the
requests sent, and EXPLAIN shows them.

A **fan-out** (:class:`FanOut`, :mod:`.fan_out`) reads one scan per value of a key column, put
in the path (``/communities/{community_id}/posts``) or a query parameter (``?community_id=``);
each row carries its key (a dotted ``field`` too), and every pushed condition whose operators are
endpoint parameters (``filters``) goes with each request, each parameter once. A required key is
declared on the resource (``required=(RequiredFilter(..),)``); an optional one (``required=False``)
fans out for at most ``max_values`` values (or a join's chunk of them), else the table is one plain
scan with the key checked locally; reads by id come first. ``carried`` drops a row the vendor
served under another key. The keys' scans run within the connection's concurrency (:mod:`.fan_fetch`;
with a LIMIT a window of keys, delivered in key order); an error answered for a key names it
("community 15: ...") and returns nothing partial; a key answering 404 has no rows (a warning), and
EVERY key answering 404 is an error where ``missing_hint`` is declared (guessed paths). COUNT(*) is
one request per key when the paginator's total is a count, or asks pages of one row of a page-index
paginator (its page count). Columns with a dotted ``field`` (``"TicketType.name"``) are
filled by :meth:`RestConnector.row` (override it with ``super().row()`` first). Paging for a
casavi Community-like vendor: :class:`PageIndexPaginator` checks the page ``echo`` (learning a
vendor that counts from 1), :class:`CountedPaginator` with a :class:`Keyset` reads a counted list
completely by time (:mod:`.counted`), ``SinglePage(single=True)`` takes one object as one record.

A search can be read in **row ranges** (one per partition of a split scan, Spark or Dask):
``FetchPlan.rows = (start, stop)`` reads only those rows of the plan's single search request
(``stop`` None: to the vendor's end), offsets from ``start`` (:func:`.paging.offset_scan`) or the
pages holding them, cut to the range (:mod:`.page_range`: a page base confirmed once, a capped page
size found and read at); a next link, a count or a single page raise NotImplementedError.
:meth:`RestConnector.extent` tells the size to split: the vendor's total from one 1-row request
and the page size the scan asks (:class:`~crmql.plan.connector.Extent`).

A small vendor with a next-link list, ``fields[<field>][<op>]=value`` filters and GET by id:

>>> from crmql.plan.catalog import ColumnType, FilterShape
>>> from crmql.plan.pushdown import Equality
>>> TICKETS = Resource(
...     "tickets", "Support tickets", "/v2/tickets", records="list",
...     columns=(Col("id", ColumnType.STRING, "id", "ticket id"), Col("status", ColumnType.STRING, "eq", "status")),
...     paginator=NextLinkPaginator(next="_links.next", size=Place.query("pageSize"), max_page=100),
...     filters=FieldParams("fields[{field}][{op}]"), shape=FilterShape(),
...     by_id=ById("/v2/tickets/{id}", ops=("eq",)))
>>> class HelpdeskConnector(RestConnector):
...     api = RestApi("helpdesk", "Helpdesk", (TICKETS,), auth=OAuth("/oauth/token"),
...                   kinds=lambda kind, settings: {"id": (Equality("eq", None, case_sensitive=True),),
...                                                 "eq": (Equality("eq", None, case_sensitive=True),)}[kind])
>>> c = HelpdeskConnector("desk", {"base_url": "https://desk.example", "client_id": "i", "client_secret": "s"})
>>> c.table("tickets").column("status").filters[0].describe()
'=, IN'
>>> TICKETS.first_request(FilterSet([NativeCond("status", "eq", "open")]), 100).render()
'GET /v2/tickets?fields%5Bstatus%5D%5Beq%5D=open&pageSize=100'

Modules: :mod:`.spec` (the declarations), :mod:`.place` (where a value goes), :mod:`.paginators`
(bound to the engines in :mod:`.paging`, :mod:`.page_index` (a row range: :mod:`.page_range`) and :mod:`.counted`; next links in :mod:`.next_link`,
guessed ahead by :mod:`.extrapolate`; the shared :mod:`.pages`), :mod:`.filter_only` (a value that
is only a request parameter), :mod:`.encoders` (filters into
requests), :mod:`.auth` (flows as declarations), :mod:`.async_poll` (submit and poll), :mod:`.js_classes` (a
vendor's JavaScript class modules read as field lists),
:mod:`.planning`, :mod:`.connector` and :mod:`.scanning` (the generic plan and fetch), :mod:`.fan_out` and :mod:`.fan_fetch` (one scan per key), :mod:`.base` (the HTTP side
every connector shares), :mod:`.support` (the rules every answer is held to), :mod:`.early`
(requests started with the catalog).
"""

from ...plan.connector import FilterSet
from ...plan.pushdown import NativeCond
from .async_poll import AsyncJob
from .auth import FlowAuth, KeySecretToken, NoAuth, OAuth, OidcBearer, SessionId
from .connector import RestConnector
from .encoders import FieldParams, FilterEncoder, FilterList, JsonFilterTree, OpParams
from .js_classes import fetch_classes, parse_classes
from .paginators import (
    CountedPaginator, Keyset, NextLinkPaginator, OffsetPaginator, Page, PageIndexPaginator, Paginator, SinglePage,
)
from .place import In, Place
from .spec import ById, Col, Explode, FanOut, Resource, RestApi, Sort

__all__ = [
    "AsyncJob", "ById", "Col", "CountedPaginator", "Explode", "FanOut", "FieldParams", "FilterEncoder", "FilterList", "FlowAuth", "In",
    "JsonFilterTree", "KeySecretToken", "NextLinkPaginator", "NoAuth", "OAuth", "OffsetPaginator", "OidcBearer",
    "OpParams", "Page", "PageIndexPaginator", "Paginator", "Place", "Resource", "RestApi", "RestConnector",
    "SessionId", "SinglePage", "Sort", "fetch_classes", "parse_classes",
]
