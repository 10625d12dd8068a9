"""The three readings of Voyzu's contact search (its input and output classes are undocumented:
vendor-notes section 3 "Search", ambiguities 17 and 19), as data, and choosing one from the
``/api/contacts/class`` module.

The API doc names the classes ``ContactsSearchInput`` and ``ContactsDatatable`` ("Datatable?",
with a question mark); the front-end doc names them ``ContactsSearch`` and
``ContactsSearchResult`` and builds the contacts page on mdb-datatable with its
datatable-search-bar. Neither lists a field. The readings:

* ``datatable`` (DEFAULT: the class is called a Datatable, and the page is an mdb datatable, whose
  server side speaks ``start``/``length`` and answers ``data``/``recordsTotal``/``recordsFiltered``,
  here in Voyzu's PascalCase): input ``SearchText, Start, Length``, output ``Data, RecordsTotal,
  RecordsFiltered``; ``Start`` a 0-based row offset, a ``Length`` above the vendor's maximum is
  served as that maximum (a short page: the kit's offset scan continues from what came);
  ``RecordsFiltered`` is the total of the search.
* ``page``: input ``SearchText, Page, PageSize``, output ``Data, TotalCount, Page, PageSize``;
  ``Page`` 1-based. The page count is ``TotalCount`` over the page size the vendor SERVED (its
  ``PageSize`` echo, else the first page's length when short): a vendor capping the page size
  pages by its own size. A server counting ``Page`` from 0 would serve our page 1 as its second
  and lose the first: an empty page while ``TotalCount`` says rows remain (or a ``Page`` echo of
  another number) is an error saying so, never a short result.
* ``none``: input ``SearchText`` only, output ``Data``: every match in one answer (a large one
  goes through the async path: 30 s API Gateway limit).

``search_reading = "auto"`` (the connection's default) reads the class module once per connection
and takes the first reading whose input fields are ALL fields of the input class (under either
name); none fits: a ConnectorError naming the class's fields and what crmql sends. The module
unreachable or unparsable: ``datatable``, logged at INFO (the class is a check, not a dependency).
A named reading is still checked against the class when it can be read.

>>> choose({"ContactsSearchInput": ("SearchText", "Page", "PageSize")}, "auto").name
'page'
>>> choose({"ContactsSearch": ("SearchText", "Start", "Length")}, "auto").name
'datatable'
"""

from __future__ import annotations

import logging
import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ...errors import ConfigError, ConnectorError
from ...plan.connector import NativeRequest  # noqa: F401 (the example)
from ..rest import OffsetPaginator, PageIndexPaginator, Paginator, Place, SinglePage
from ..rest.page_index import page_index_scan
from ..rest.paginators import ScanContext
from ..rest.place import dig
from ..rest.support import valid_total

__all__ = ["INPUT_CLASSES", "READINGS", "PageTotalPaginator", "Reading", "choose", "reading_named"]

log = logging.getLogger(__name__)

#: the input class's names: the API doc's, then the front-end doc's
INPUT_CLASSES = ("ContactsSearchInput", "ContactsSearch")
#: the page size crmql asks for (the datatable reading's maximum Length)
DEFAULT_PAGE = 1000


@dataclass(frozen=True)
class PageTotalPaginator(PageIndexPaginator):
    """1-based ``Page``/``PageSize`` in the body, ``TotalCount`` the number of matches; the page count
    is ``TotalCount`` over the page size the vendor served (its ``PageSize`` echo, else the first
    page's length when it is short of the total).

    >>> p = PageTotalPaginator()
    >>> p.first(NativeRequest("POST", "/s", body={}), 1000).body
    {'PageSize': 1000, 'Page': 1}
    """

    page: Place = Place.body("Page")
    size: Place | None = Place.body("PageSize")
    base: int = 1
    page_count: str = "TotalCount"
    total: str | None = "TotalCount"
    echo: str | None = "Page"
    max_page: int = DEFAULT_PAGE

    async def scan(self, ctx: ScanContext) -> bool | None:
        served: list[int] = []

        async def page(index: int, size: int) -> tuple[list[dict[str, Any]], int | None]:
            request = self.page.put(self.sized(ctx.request, size), index)
            got = await ctx.fetch(request, f"{ctx.label} (page {index})")
            echoed = dig(got.data, self.echo) if self.echo and isinstance(got.data, dict) else None
            if echoed is not None and echoed != index:
                raise _unreliable(ctx, f"asked for page {index}, it answered page {echoed!r}", zero=echoed == index - 1)
            total = valid_total(dig(got.data, self.total)) if self.total else None
            if not served:
                echo_size = valid_total(dig(got.data, "PageSize"))
                left = total - (index - self.base) * size if total is not None else 0  # (a range's first page)
                short = len(got.records) if total is not None and len(got.records) < min(size, left) else None
                served.append(min(x for x in (size, echo_size or size, short or size) if x) or size)
            if not got.records and total is not None and (index - self.base) * served[0] < total:
                # rows the TotalCount promises are missing: a server counting from 0 served page N+1 as N
                raise _unreliable(ctx, f"page {index} came back empty, but TotalCount {total} says rows remain "
                                       f"after the {(index - self.base) * served[0]} rows before it", zero=True)
            return got.records, (math.ceil(total / served[0]) if total is not None else None)

        size = int(self.size.get(ctx.request) or self.max_page) if self.size is not None else self.max_page
        await page_index_scan(page, page_size=size, sink=ctx.sink, base=self.base, max_rows=ctx.max_rows,
                              sequential=ctx.sequential, window=ctx.window, limits=ctx.limits, rows=ctx.rows)


def _unreliable(ctx: ScanContext, what: str, *, zero: bool) -> ConnectorError:
    """The ``page`` reading's paging found unreliable (never a short result: rows would be lost)."""
    head = "Voyzu's Page may count from 0 on this server: " if zero else ""
    return ConnectorError(f"{head}{what}; paging is unreliable, so no rows are returned",
                          vendor=ctx.limits.vendor or None, table=ctx.limits.table or None,
                          hint="crmql's page reading counts Page from 1: set search_reading to the reading your "
                               "server's GET /api/contacts/class declares (datatable: Start/Length; none: no paging), "
                               "or tell the crmql maintainers how this server counts its pages")


@dataclass(frozen=True)
class Reading:
    """One reading of the search classes: the input fields crmql sends, the output's fields, and
    the paginator that pages it."""

    name: str
    inputs: tuple[str, ...]
    outputs: tuple[str, ...]
    why: str

    def paginator(self, page_size: int) -> Paginator:
        """The reading's paginator asking ``page_size`` rows a page."""
        if self.name == "datatable":
            return OffsetPaginator(limit=Place.body("Length"), offset=Place.body("Start"), max_page=page_size,
                                   total="RecordsFiltered")
        if self.name == "page":
            return PageTotalPaginator(max_page=page_size)
        return SinglePage()


READINGS: dict[str, Reading] = {r.name: r for r in (
    Reading("datatable", ("SearchText", "Start", "Length"), ("Data", "RecordsTotal", "RecordsFiltered"),
            "the API doc's ContactsDatatable and the front end's mdb-datatable: Start/Length, RecordsFiltered"),
    Reading("page", ("SearchText", "Page", "PageSize"), ("Data", "TotalCount", "Page", "PageSize"),
            "1-based Page/PageSize, TotalCount"),
    Reading("none", ("SearchText",), ("Data",), "no paging: every match in one answer"),
)}


def reading_named(name: Any) -> Reading | None:
    """The reading ``search_reading`` names (None: "auto"); an unknown name is a ConfigError.

    >>> reading_named("auto") is None, reading_named("page").inputs
    (True, ('SearchText', 'Page', 'PageSize'))
    """
    if name in (None, "auto"):
        return None
    if name not in READINGS:
        raise ConfigError(f"search_reading: {name!r} is not a reading of Voyzu's search",
                          hint="one of auto, " + ", ".join(READINGS))
    return READINGS[name]


def choose(classes: Mapping[str, tuple[str, ...]], setting: Any) -> Reading:
    """The reading to use given the class module's ``classes`` (see the module docstring).

    >>> choose({"ContactsSearchInput": ("Query",)}, "auto")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    crmql.errors.ConnectorError: Voyzu CRM: the contacts class module's ContactsSearchInput has the fields Query; ...
    """
    named = reading_named(setting)
    found = next(((n, classes[n]) for n in INPUT_CLASSES if n in classes), None)
    if found is None:
        log.info("Voyzu CRM: the contacts class module declares no %s; using the %s reading",
                 " or ".join(INPUT_CLASSES), (named or READINGS["datatable"]).name)
        return named or READINGS["datatable"]
    cls, fields = found
    fits = [r for r in READINGS.values() if set(r.inputs) <= set(fields)]
    if named is not None and named in fits:
        return named
    if named is None and fits:
        return fits[0]
    sent = named.inputs if named is not None else tuple(dict.fromkeys(f for r in READINGS.values() for f in r.inputs))
    raise ConnectorError(f"the contacts class module's {cls} has the fields {', '.join(fields) or 'none'}; crmql "
                         f"sends {', '.join(sent)}" + (f" (search_reading = {named.name!r})" if named else ""),
                         vendor="Voyzu CRM",
                         hint="set search_reading to one of " + ", ".join(READINGS) + " (or auto) to match it, "
                              "or tell the crmql maintainers this class")
