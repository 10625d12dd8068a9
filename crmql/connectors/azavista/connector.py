"""Azavista (events, contacts, organizations) through its documented search endpoints.

Source: the support article "APIs - Using Azavista's APIs" (``shared/vendor-docs/azavista.txt``)
and ``shared/vendor-notes.md`` section 1. What the article documents, we follow; where it is
silent, these are the readings we chose (each widened so a query never loses a row):

* **Endpoints.** ``POST /3.1/organization/search``, ``POST /3.1/contact/search`` (documented) and
  ``POST /3.0/event/search`` (EVENT3.0 ``post_event_search``; the path is inferred from the
  swagger operation id and the version pattern). ``GET /3.1/organization/{id}`` is documented;
  ``/3.1/contact/{id}`` and ``/3.0/event/{id}`` by analogy.
* **Filter tree.** ``{"<resource>_filter": {"and": [...], "or": [...]}}``, both must hold
  (documented). Nesting is not documented, so we never nest: one AND list and one OR group of
  single conditions; anything else is evaluated locally.
* **Operators.** eq, like, after, before, in are documented by name only ("the operators differ
  per field type"). We push eq/in on strings, ids and numbers, eq on booleans, like on
  free-text strings, after/before on timestamps.
* **eq case-sensitivity is unknown**: a pushed string equality is re-checked locally, except on
  columns with a closed vocabulary of canonical lower-case values (event_type, status), where a
  case-insensitive match could only find the same value. Configure ``eq_case_sensitive = true``
  on the connection if your tenant is known to compare exactly.
* **like** is a substring match (documented by example: "which have 'workshop' in their name").
  Its case-sensitivity is unknown and it may be a regular expression (Mongo-style), so we push only
  the longest literal run of a LIKE pattern that has no regex metacharacter, never push ILIKE
  (unless ``like_case_sensitive = false`` is configured), and re-check locally.
* **after/before inclusivity is unknown**: ``>``/``<`` are pushed as is (a superset under both
  readings), ``>=``/``<=`` are widened by one second, ``=`` becomes a two-second window; all
  re-checked. ``range_inclusive = true|false`` on the connection makes them exact.
* **Paging**: ``limit``/``offset`` in the JSON body next to the filter (the article's examples echo
  them in the response body; their placement in the request is not shown), limit at most 50
  (documented). ``object_count`` is the total number of matches: it drives concurrent paging and
  ``COUNT(*)``, but only when it is a count (a non-negative integer); otherwise pages are read one
  at a time until an empty page (a short page proves nothing: the vendor may cap its pages) and
  ``COUNT(*)`` counts the rows; a total above 2**53 is no count either. A page with more records
  than the ``limit`` asked for, or a 200 without the records list, is a VendorResponseError. An empty page before the total ends the scan with a
  warning ("vendor reported N rows, served M"); a total needing more than ``max_pages`` pages is
  checked with one more page (empty: a lie, the scan ends; full: the page budget is exceeded). If
  a response echoes an offset other than the one asked for, the scan fails loudly rather than
  returning duplicated rows.
* **GET by id**: an id that cannot be one URL path segment (``.``, ``..``, with ``/``) names no
  record: it matches no row and sends no request (:func:`crmql.connectors.rest.support.addressable`).
* **Sparse records**: a key missing from a record is NULL (the article's responses omit keys).
* **Scopes**: a client without "super admin" only sees its teams' records; crmql cannot detect it.

>>> c = AzavistaConnector("azavista", {"base_url": "https://3.0.app.azavista.com", "client_id": "x", "client_secret": "y"})
>>> sorted(c.tables())
['contacts', 'events', 'organizations']
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Mapping
from typing import Any

from ...language.values import to_utc
from ...plan.catalog import ColumnType, FilterShape
from ...plan.pushdown import Capability, Equality, Range, Substring
from ..rest import ById, Col, JsonFilterTree, OAuth, OffsetPaginator, Resource, RestApi, RestConnector

__all__ = ["API", "AzavistaConnector"]

log = logging.getLogger(__name__)

S, I, F, B, T = ColumnType.STRING, ColumnType.INTEGER, ColumnType.FLOAT, ColumnType.BOOLEAN, ColumnType.TIMESTAMP
EVENT_TYPES = ("marketing", "sales", "internal", "webinar", "conference", "training", "partner")
EVENT_STATUSES = ("draft", "published", "cancelled", "completed")

# (name, type, kind, description[, options]); kind picks the capabilities below
_COLUMNS: dict[str, list[tuple[Any, ...]]] = {
    "events": [
        ("id", S, "id", "24-hex event id"),
        ("name", S, "text", "event name"),
        ("event_type", S, "enum", "event type", EVENT_TYPES),
        ("status", S, "enum", "draft, published, cancelled or completed", EVENT_STATUSES),
        ("start", T, "time", "start, with the event's offset, shown in UTC"),
        ("end", T, "time", "end"),
        ("timezone", S, "eq", "IANA time zone of the event"),
        ("is_virtual", B, "bool", "online-only event"),
        ("venue_name", S, "text", "venue (NULL for virtual events)"),
        ("city", S, "text", "city (NULL for virtual events)"),
        ("country", S, "eq", "ISO country code"),
        ("capacity", I, "number", "maximum attendees"),
        ("registered_count", I, "number", "registrations so far"),
        ("price", F, "number", "ticket price (NULL when free)"),
        ("currency", S, "eq", "currency of the price"),
        ("language", S, "eq", "event language"),
        ("organizer_email", S, "text", "organizer's e-mail"),
        ("external_reference", S, "eq", "your own reference"),
        ("created_at", T, "time", "created"),
        ("updated_at", T, "time", "last updated"),
    ],
    "contacts": [
        ("id", S, "id", "24-hex contact id"),
        ("first_name", S, "text", "first name"),
        ("last_name", S, "text", "last name"),
        ("email", S, "text", "e-mail address"),
        ("organization_id", S, "id", "the contact's organization (organizations.id)"),
        ("organization_manager", B, "bool", "manages the organization"),
        ("job_title", S, "text", "job title"),
        ("phone", S, "eq", "phone number"),
        ("city", S, "text", "city"),
        ("country", S, "eq", "ISO country code"),
        ("language", S, "eq", "preferred language"),
        ("external_reference", S, "eq", "your own reference"),
        ("external_id", S, "none", "deprecated by Azavista, always NULL"),
        ("created_at", T, "time", "created"),
        ("updated_at", T, "time", "last updated"),
    ],
    "organizations": [
        ("id", S, "id", "24-hex organization id"),
        ("name", S, "text", "organization name"),
        ("industry", S, "text", "industry"),
        ("city", S, "text", "city"),
        ("country", S, "eq", "ISO country code"),
        ("website", S, "text", "website"),
        ("employee_count", I, "number", "employees"),
        ("external_reference", S, "eq", "your own reference"),
        ("external_id", S, "none", "deprecated by Azavista, always NULL"),
        ("created_at", T, "time", "created"),
        ("updated_at", T, "time", "last updated"),
    ],
}


def _render_time(value: dt.datetime | dt.date) -> str:
    return to_utc(value).isoformat()


def kinds(kind: str, settings: Mapping[str, Any]) -> tuple[Capability, ...]:
    """What a column of each kind pushes, under the connection's readings of the docs."""
    eq_cs, like_cs = settings.get("eq_case_sensitive"), settings.get("like_case_sensitive")
    return {
        "id": (Equality("eq", "in", case_sensitive=eq_cs, lowercase_ids=True),),
        "enum": (Equality("eq", "in", case_sensitive=eq_cs), Substring("like", like_cs)),
        "text": (Equality("eq", "in", case_sensitive=eq_cs), Substring("like", like_cs)),
        "eq": (Equality("eq", "in", case_sensitive=eq_cs),),
        "number": (Equality("eq", "in", case_sensitive=True),),
        "bool": (Equality("eq", None, case_sensitive=True),),
        "time": (Range("after", "before", inclusive=settings.get("range_inclusive"), widen=dt.timedelta(seconds=1),
                       render=_render_time),),
        "none": (),
    }[kind]


def _resource(name: str, version: str, singular: str, description: str) -> Resource:
    """A search endpoint: ``POST /<version>/<singular>/search`` with ``<singular>_filter``, limit and
    offset in the body (offset echoed back), the records under ``name``, GET by id beside it."""
    return Resource(
        name, description, f"/{version}/{singular}/search", method="POST", records=name,
        columns=tuple(Col(c[0], c[1], c[2], c[3], c[4] if len(c) > 4 else None) for c in _COLUMNS[name]),
        filters=JsonFilterTree(f"{singular}_filter"), shape=FilterShape(or_groups=1),
        paginator=OffsetPaginator(max_page=50, total="object_count", echo="offset"),
        by_id=ById(f"/{version}/{singular}/{{id}}", count="listed"))  # at most 50 ids listed (repeats count)


API = RestApi(
    vendor="azavista", display="Azavista",
    required_settings=("base_url", "client_id", "client_secret"),
    auth=OAuth("/3.0/oauth/token", send_as="body", password_grant=True),
    kinds=kinds,
    resources=(
        _resource("events", "3.0", "event", "Events (EVENT3.0)"),
        _resource("contacts", "3.1", "contact", "Contacts (CRM3.1)"),
        _resource("organizations", "3.1", "organization", "Organizations (CRM3.1)"),
    ),
)


class AzavistaConnector(RestConnector):
    """Azavista events, contacts and organizations: the declarations above, no hook needed."""

    api = API
