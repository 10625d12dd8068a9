"""Voyzu's contact search as the sandbox serves it: the free-text ``SearchText`` under each
reading of what it matches, and the three readings of its paging. None of it is documented
(vendor-notes section 3 "Search", ambiguities 17 and 19); the defaults are the most plausible
reading, the others are variants (the issue #13 contract).

What SearchText matches (``voyzu.search_fields``): ``most`` (DEFAULT: the user docs' search box
"searches most fields", and an import id pasted into it finds that import's contacts: names,
DisplayName, Organization, JobTitle, email and phone values, Notes, Labels, ContactTypes, custom
field values, ImportId, the addresses' City) or ``names_emails`` (FirstName, LastName,
DisplayName, Organization, email values). How (``voyzu.search_match``): ``substring_ci`` (DEFAULT:
a case-insensitive substring of one field), ``word_prefix`` (the text split into words on anything
but a letter or digit; every word starts a word of the contact, case-insensitively) or
``case_sensitive`` (a substring, case and all). An empty or missing SearchText is every contact.

Paging (``voyzu.paging``), each with the input fields it accepts (any other field: 400, the input
is "an instance of the required javascript class"):

* ``datatable`` (DEFAULT; the contacts page's mdb-datatable): ``{SearchText, Start, Length}`` ->
  ``{Data, RecordsTotal, RecordsFiltered}``; Start a 0-based row offset (default 0), Length the
  page (default 10, the datatable's own; above the maximum: served as the maximum).
* ``page``: ``{SearchText, Page, PageSize}`` -> ``{Data, TotalCount, Page, PageSize}``; Page
  1-based (default 1), PageSize as Length (the answer says the size served).
* ``none``: ``{SearchText}`` -> ``{Data}``, every matching row.

Rows always come ``Id`` ascending (stable paging).

>>> rows = [{"Id": "c-1", "FirstName": "Anna", "LastName": "O'Brien", "DisplayName": "Anna O'Brien",
...          "EmailAddresses": [{"Value": "anna.obrien@kauri.co.nz"}], "Labels": ["#vip"]}]
>>> [len(matching(rows, t, "most", "substring_ci")) for t in ("o'bri", "#VIP", "kauri.co", "Zed")]
[1, 1, 1, 0]
>>> [len(matching(rows, t, "names_emails", m)) for t, m in (("#vip", "substring_ci"), ("an ob", "word_prefix"),
...                                                       ("ANNA", "case_sensitive"))]
[0, 1, 0]
>>> page_request({"Start": 20, "Length": 5000}, "datatable", 1000)
SearchPage(text='', offset=20, size=1000, page=None)
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

__all__ = ["INPUT_FIELDS", "SearchError", "SearchPage", "envelope", "haystack", "matching", "page_request"]

logger = logging.getLogger(__name__)

Record = dict[str, Any]
#: the input fields each paging reading accepts
INPUT_FIELDS: dict[str, tuple[str, ...]] = {"datatable": ("SearchText", "Start", "Length"),
                                            "page": ("SearchText", "Page", "PageSize"), "none": ("SearchText",)}
#: the datatable's own page size when none is sent (mdb-datatable's default "entries")
DEFAULT_LENGTH = 10
_WORD = re.compile(r"[^\W_]+")


class SearchError(ValueError):
    """A search input the simulator refuses with 400 (the message is the ErrorMessage)."""


@dataclass(frozen=True)
class SearchPage:
    """One search request: the text, and the rows asked for (``size`` None: every row)."""

    text: str
    offset: int = 0
    size: int | None = None
    page: int | None = None


def _text(value: Any) -> Iterable[str]:
    if value is None or value == "":
        return ()
    if isinstance(value, bool):
        return ("true" if value else "false",)
    return (str(value),)


def haystack(contact: Mapping[str, Any], fields: str) -> tuple[str, ...]:
    """The field values SearchText is matched against under ``voyzu.search_fields=fields``."""
    values: list[str] = []
    for key in ("FirstName", "LastName", "DisplayName", "Organization"):
        values += _text(contact.get(key))
    values += [str(e.get("Value")) for e in contact.get("EmailAddresses") or () if e.get("Value")]
    if fields == "names_emails":
        return tuple(values)
    for key in ("JobTitle", "Notes", "ImportId"):
        values += _text(contact.get(key))
    values += [str(p.get("Value")) for p in contact.get("PhoneNumbers") or () if p.get("Value")]
    values += [str(v) for v in (contact.get("Labels") or []) + (contact.get("ContactTypes") or [])]
    for field in contact.get("CustomFields") or ():
        values += _text(field.get("Value"))
    values += [str(a.get("City")) for a in contact.get("Addresses") or () if a.get("City")]
    return tuple(values)


def _words(text: str) -> list[str]:
    return _WORD.findall(text.casefold())


def matcher(text: str, match: str) -> Any:
    """A predicate over a contact's haystack for ``text`` under ``voyzu.search_match=match``."""
    if match == "case_sensitive":
        return lambda values: any(text in v for v in values)
    if match == "word_prefix":
        wanted = _words(text)
        if not wanted:  # nothing but separators: every contact
            return lambda values: True

        def prefixes(values: tuple[str, ...]) -> bool:
            words = [w for v in values for w in _words(v)]
            return all(any(w.startswith(q) for w in words) for q in wanted)
        return prefixes
    folded = text.casefold()
    return lambda values: any(folded in v.casefold() for v in values)


def matching(rows: list[Record], text: str, fields: str, match: str) -> list[Record]:
    """The rows SearchText ``text`` finds (every row when it is empty), in their order."""
    if not text:
        return rows
    test = matcher(text, match)
    return [row for row in rows if test(haystack(row, fields))]


def _whole(body: Mapping[str, Any], name: str, default: int, least: int) -> int:
    value = body.get(name, default)
    if value is None:
        return default
    if isinstance(value, bool) or not isinstance(value, int) or value < least:
        raise SearchError(f"{name} must be a whole number >= {least}")
    return value


def page_request(body: Mapping[str, Any], paging: str, max_size: int) -> SearchPage:
    """The search a ContactsSearchInput body asks for under ``voyzu.paging=paging``; raises
    :class:`SearchError` for an unknown field or a bad value."""
    allowed = INPUT_FIELDS[paging]
    unknown = [name for name in body if name not in allowed]
    if unknown:
        raise SearchError(f"invalid ContactsSearchInput: unknown property '{unknown[0]}'")
    text = body.get("SearchText") or ""
    if not isinstance(text, str):
        raise SearchError("SearchText must be a string")
    text = text.strip()
    if paging == "datatable":
        size = min(_whole(body, "Length", DEFAULT_LENGTH, 1), max_size)
        return SearchPage(text, _whole(body, "Start", 0, 0), size)
    if paging == "page":
        page, size = _whole(body, "Page", 1, 1), min(_whole(body, "PageSize", DEFAULT_LENGTH, 1), max_size)
        return SearchPage(text, (page - 1) * size, size, page)
    return SearchPage(text)


def envelope(found: list[Record], total: int, request: SearchPage, paging: str) -> Record:
    """The ContactsDatatable of ``request`` over the rows ``found`` (``total``: every contact)."""
    rows = found if request.size is None else found[request.offset:request.offset + request.size]
    if paging == "datatable":
        return {"Data": rows, "RecordsTotal": total, "RecordsFiltered": len(found)}
    if paging == "page":
        return {"Data": rows, "TotalCount": len(found), "Page": request.page, "PageSize": request.size}
    return {"Data": rows}


def answer_rows(found: list[Record], request: SearchPage) -> int:
    """How many rows the answer to ``request`` carries (the gateway limit counts them)."""
    if request.size is None:
        return len(found)
    return max(0, min(request.size, len(found) - request.offset))
