"""Voyzu CRM's columns, table by table, and what each kind of column pushes.

Column names are snake_case; ``field`` is the vendor's JSON field (PascalCase, as the docs' own
names are: ``Id``, ``SessionId``, ``ErrorMessage``, ``RequestId``, ``CreatedDate``). A column
without a ``field`` of its own is computed by :mod:`.rows` (``primary_email``, ``emails``,
``custom_fields`` as JSON text, ``city``, a child row's columns).

Voyzu filters by nothing but one free-text ``SearchText`` (vendor-notes section 3 "Search"), so:

* ``search`` columns (first_name, last_name, display_name, organization, primary_email, and
  ``list_contains(emails, v)``) push ``=`` and ``LIKE 'text%'`` as that search text, never exact
  (:mod:`.search` says why it is a superset under every reading of the docs);
* ``id`` (contacts' ``id``, a child table's ``contact_id``): ``=`` / ``IN`` (up to 50) reads
  ``POST /api/contacts/get/{id}`` each; compared case-insensitively by no one knows, so re-checked;
* everything else is local (DESCRIBE: "(local only)").

>>> [c.name for c in CONTACT_COLUMNS][:5]
['id', 'record_type', 'first_name', 'last_name', 'display_name']
>>> [c.name for c in CHILD_COLUMNS["contact_labels"]]
['contact_id', 'label']
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import replace
from typing import Any

from ...plan.catalog import ColumnType
from ...plan.pushdown import Capability, Equality
from ..rest import Col
from .search import SearchText, pushdown_on

__all__ = ["CHILD_COLUMNS", "CONTACT_COLUMNS", "SEARCH_NOTE", "SPREADSHEET_COLUMNS", "kinds", "searchless"]

log = logging.getLogger(__name__)

S, I, B, T, L = ColumnType.STRING, ColumnType.INTEGER, ColumnType.BOOLEAN, ColumnType.TIMESTAMP, ColumnType.LIST
#: how a search column's description ends (the emails list's: EMAILS_NOTE); with search_pushdown = false: OFF_NOTE
SEARCH_NOTE = "; = and LIKE 'text%' are sent as Voyzu's search text, re-checked locally"
EMAILS_NOTE = " (list_contains(emails, 'a@b.example') is sent as the search text, re-checked locally)"
OFF_NOTE = "; local: search_pushdown = false on this connection"


def _cols(*spec: tuple[Any, ...]) -> tuple[Col, ...]:
    """``(name, type, kind, description[, field[, options]])`` each."""
    return tuple(Col(c[0], c[1], c[2], c[3], field=c[4] if len(c) > 4 else None,
                     options=c[5] if len(c) > 5 else None) for c in spec)


CONTACT_COLUMNS = _cols(
    ("id", S, "id", "contact id, e.g. c-00001234 (= or IN, up to 50, reads POST /api/contacts/get/{id} each)", "Id"),
    ("record_type", S, "none", "PERSON or ORGANIZATION", "RecordType", ("PERSON", "ORGANIZATION")),
    ("first_name", S, "search", "first name (persons; NULL for organizations)" + SEARCH_NOTE, "FirstName"),
    ("last_name", S, "search", "last name (persons; NULL for organizations)" + SEARCH_NOTE, "LastName"),
    ("display_name", S, "search", "\"first last\", or the organization's name" + SEARCH_NOTE, "DisplayName"),
    ("organization", S, "search", "a person's company, an organization's own name" + SEARCH_NOTE, "Organization"),
    ("job_title", S, "none", "job title", "JobTitle"),
    ("department", S, "none", "department", "Department"),
    ("primary_email", S, "search", "the Primary e-mail address, else the first" + SEARCH_NOTE),
    ("emails", L, "search", "every e-mail address" + EMAILS_NOTE),
    ("primary_phone", S, "none", "the first phone number"),
    ("phones", L, "none", "every phone number"),
    ("contact_types", L, "none", "CUSTOMER, LEAD, VENDOR and the customer's own types", "ContactTypes"),
    ("labels", L, "none", "labels, '#'-prefixed (\"#voyzu shared\" on every contact)", "Labels"),
    ("unsubscribed", B, "none", "unsubscribed from e-mail", "Unsubscribed"),
    ("notes", S, "none", "notes", "Notes"),
    ("import_id", S, "none", "the import that created it", "ImportId"),
    ("custom_fields", S, "none", "custom fields as JSON text: {\"#Region\": \"North\", ...} (see contact_custom_fields)"),
    ("city", S, "none", "the first address's city"),
    ("created_date", T, "none", "created (UTC)", "CreatedDate"),
    ("updated_date", T, "none", "last updated (UTC)", "UpdatedDate"),
)

_CONTACT_ID = ("contact_id", S, "id", "the contact (= or IN, up to 50, reads each contact by id; else every contact "
                                      "is searched and exploded)")
CHILD_COLUMNS: Mapping[str, tuple[Col, ...]] = {
    "contact_emails": _cols(_CONTACT_ID, ("email", S, "none", "e-mail address", "Value"),
                            ("type", S, "none", "work, home or other", "Type"),
                            ("is_primary", B, "none", "the contact's primary address", "Primary")),
    "contact_phones": _cols(_CONTACT_ID, ("phone", S, "none", "phone number", "Value"),
                            ("type", S, "none", "mobile, work, home or main", "Type")),
    "contact_addresses": _cols(_CONTACT_ID, ("type", S, "none", "address type", "Type"),
                               ("street", S, "none", "street", "Street"), ("city", S, "none", "city", "City"),
                               ("region", S, "none", "region", "Region"),
                               ("postal_code", S, "none", "postal code", "PostalCode"),
                               ("country", S, "none", "country", "Country")),
    "contact_labels": _cols(_CONTACT_ID, ("label", S, "none", "label, '#'-prefixed")),
    "contact_types": _cols(_CONTACT_ID, ("contact_type", S, "none", "CUSTOMER, LEAD, VENDOR, ...")),
    "contact_custom_fields": _cols(_CONTACT_ID, ("name", S, "none", "field name, '#'-prefixed", "Name"),
                                   ("type", S, "none", "TEXT, NUMBER, DATE, LIST or CHECKBOX", "Type"),
                                   ("value", S, "none", "the value as text (a CHECKBOX: true/false)")),
}

SPREADSHEET_COLUMNS = _cols(
    ("id", S, "none", "spreadsheet id", "Id"), ("name", S, "none", "name", "Name"),
    ("url", S, "none", "the Google Sheets link", "Url"),
    ("created_date", T, "none", "created (UTC)", "CreatedDate"),
    ("updated_date", T, "none", "last updated (UTC)", "UpdatedDate"),
    ("row_count", I, "none", "rows (NULL: not known)", "RowCount"),
)


def searchless(columns: tuple[Col, ...]) -> tuple[Col, ...]:
    """``columns`` as a connection with ``search_pushdown = false`` describes them: a search
    column's note says it is local.

    >>> searchless(CONTACT_COLUMNS)[3].description
    'last name (persons; NULL for organizations); local: search_pushdown = false on this connection'
    """
    return tuple(replace(c, description=c.description.removesuffix(SEARCH_NOTE).removesuffix(EMAILS_NOTE) + OFF_NOTE)
                 if c.kind == "search" else c for c in columns)


def kinds(kind: str, settings: Mapping[str, Any]) -> tuple[Capability, ...]:
    """What a column of ``kind`` pushes on a connection with ``settings``.

    >>> [c.describe() for c in kinds("search", {})]
    ["search text (superset: Voyzu's free-text search; re-checked locally)"]
    >>> [c.describe() for c in kinds("search", {"search_pushdown": False})]
    ['(local only: search_pushdown = false on this connection)']
    """
    if kind == "search":
        return (SearchText(off=not pushdown_on(settings)),)
    if kind == "id":  # the ids' case rules are undocumented: a read by id is re-checked locally
        return (Equality("eq", "in", case_sensitive=None),)
    return ()
