"""Voyzu's tables as REST kit resources, built per connection from its search reading and page size.

* ``contacts``: ``POST /api/contacts/search`` with the reading's body (:mod:`.readings`), the
  search text from :mod:`.search`, records at ``Data``; ``id = / IN`` (up to 50) reads
  ``POST /api/contacts/get/{id}`` each (a 400 or 404 is no such contact: no row).
* the child tables (``contact_emails`` ...): the same search, each contact's array exploded
  (:class:`.rows.Children`); ``contact_id = / IN`` reads those contacts by id.
* ``spreadsheets``: ``POST /api/spreadsheets/list`` (body ``{}``), one answer: a plain array, or
  ``{"Spreadsheets": [...]}`` (both accepted: :meth:`.connector.VoyzuConnector.read_page`).

Every path starts with ``/api`` (ambiguity 18: the table's paths omit it, the headings and prose
have it, and ``/api/contacts/class`` is the front-end doc's own URL), relative to ``base_url``.

>>> from .readings import READINGS
>>> [r.name for r in build(READINGS["datatable"], 1000)][:3]
['contacts', 'contact_emails', 'contact_phones']
>>> build(READINGS["page"], 500)[0].paginator.max_page
500
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from ...errors import ConfigError
from ...plan.catalog import FilterShape
from ...plan.connector import FilterSet, NativeRequest
from ..rest import ById, FilterEncoder, Resource, SinglePage
from .columns import CHILD_COLUMNS, CONTACT_COLUMNS, SPREADSHEET_COLUMNS, searchless
from .readings import DEFAULT_PAGE, Reading
from .rows import ARRAYS, Children
from .search import SearchEncoder
from .settings import number

__all__ = ["CHILDREN", "SEARCH_PATH", "SPREADSHEETS_PATH", "build", "page_size_of"]

log = logging.getLogger(__name__)

SEARCH_PATH = "/api/contacts/search"
GET_PATH = "/api/contacts/get/{id}"
SPREADSHEETS_PATH = "/api/spreadsheets/list"
#: the child tables, in listing order
CHILDREN = tuple(CHILD_COLUMNS)
#: one search text, no OR (one SearchText is one AND), no split
SHAPE = FilterShape(or_groups=0, split_or=False, unique_field_op=True)
_LIMITS = "Voyzu filters contacts by one free-text search only: every other condition is checked locally; " \
          "the lever is paging (1,000 a page, concurrently) and, for large answers, its async jobs"


class NoFilter(FilterEncoder):
    """The spreadsheets' list takes no filter: the body stays ``{}`` (every condition is local)."""

    in_body = True

    def apply(self, request: NativeRequest, filters: FilterSet) -> NativeRequest:
        return request


def page_size_of(settings: Mapping[str, Any]) -> int:
    """The rows a search page asks for: ``page_size`` (1..1000: the datatable reading's largest
    Length), default 1000; numbers as text are taken, as the config rules take them.

    >>> page_size_of({}), page_size_of({"page_size": 250})
    (1000, 250)
    """
    raw = settings.get("page_size")
    try:  # (numbers as text taken, as the config rules take them)
        size = int(number(settings, "page_size", DEFAULT_PAGE, whole=True, example="1000"))
    except ConfigError:
        size = 0
    if not 1 <= size <= DEFAULT_PAGE:
        raise ConfigError(f"page_size: must be an integer from 1 to {DEFAULT_PAGE} for Voyzu CRM, not {raw!r}",
                          hint=f"e.g. page_size = {DEFAULT_PAGE} (the rows a search page asks for; Voyzu's most)")
    return size


def _by_id(column: str, parent: bool) -> ById:
    return ById(GET_PATH, method="POST", column=column, missing=(400, 404), names="a contact",
                note="a contact read by id carries no other filter; checked locally",
                only="the search has no id filter; checked locally over the search",
                parent="contact" if parent else "parent", parent_key="Id" if parent else "id")


def build(reading: Reading, page_size: int, *, pushdown: bool = True) -> tuple[Resource, ...]:
    """The connection's resources under ``reading`` asking ``page_size`` rows a page (``pushdown``
    False: ``search_pushdown = false``, the contacts' column descriptions say their search is local)."""
    paginator = reading.paginator(page_size)
    search = dict(method="POST", records="Data", paginator=paginator, filters=SearchEncoder(), shape=SHAPE,
                  body={}, noun="search", answer="search")
    contacts = Resource("contacts", f"Voyzu contacts, persons and organizations ({_LIMITS})", SEARCH_PATH,
                        columns=CONTACT_COLUMNS if pushdown else searchless(CONTACT_COLUMNS), by_id=_by_id("id", False), key="id", **search)  # type: ignore[arg-type]
    children = []
    for name in CHILDREN:
        array, scalar = ARRAYS[name]
        children.append(Resource(
            name, f"each contact's {array}, one row each ({_LIMITS})", SEARCH_PATH, columns=CHILD_COLUMNS[name],
            explode=Children(array, {"contact_id": "Id"}, scalar=scalar), by_id=_by_id("contact_id", True),
            key="contact_id", **search))  # type: ignore[arg-type]
    sheets = Resource("spreadsheets", "the session user's Google spreadsheets (one request; filtered locally)",
                      SPREADSHEETS_PATH, method="POST", body={}, records="", columns=SPREADSHEET_COLUMNS,
                      paginator=SinglePage(), filters=NoFilter(), noun="list", answer="list")
    return (contacts, *children, sheets)
