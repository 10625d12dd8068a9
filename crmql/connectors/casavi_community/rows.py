"""casavi Community records as rows: nested objects flattened into the columns of :mod:`.columns`.

* Every column with a dotted ``field`` (``TicketType.name``) gets the value at that path; a missing
  or null object on the way is NULL, anything else that is not an object is a
  :class:`~crmql.errors.VendorResponseError` naming the vendor, table and field (never a traceback,
  never a silently NULL column).
* Each person object (``Contact``, ``CreatedBy``, ``AssignedTo``, ``Author``, ``Actor``) also gives
  ``<x>_name``: "first last", stripped, NULL when both are missing or empty.
* ``community_id``: the key the row was read for (the fan-out puts it there), else the record's
  ``Community.id`` (tickets) or ``communityId`` (units, FAQ articles).
* Notifications: ``unread`` = NOT ``read`` (a ``read`` that is not a boolean is an error: the
  column is what ``unreadOnly`` filters on).
* Ticket details: ``custom_fields`` as JSON text, ``comment_count``, ``attachments`` (the file
  names) and ``attachment_count``.

Times stay as the vendor's ISO-8601 text here: the executor converts each value by its column's
type (:mod:`crmql.exec.frames`: a TIMESTAMP with ``Z`` or an offset as UTC, one without as UTC).

>>> flatten("casavi Community", "c.tickets", TICKET_COLUMNS, {"id": 1, "Community": {"id": 12},
...     "Contact": {"id": 7, "firstName": "Anna", "lastName": "Bauer "}, "TicketType": None})["contact_name"]
'Anna Bauer'
"""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from typing import Any

from ...errors import VendorResponseError
from ..rest import Col
from .columns import TICKET_COLUMNS  # noqa: F401 (the example)

__all__ = ["PERSONS", "faq_groups", "flatten", "person_name"]

log = logging.getLogger(__name__)

#: person column prefix -> the record's field
PERSONS = {"contact": "Contact", "created_by": "CreatedBy", "assigned_to": "AssignedTo", "author": "Author",
           "actor": "Actor"}


def _bad(vendor: str, table: str, what: str) -> VendorResponseError:
    return VendorResponseError(what, vendor=vendor, table=table)


def nested(vendor: str, table: str, record: dict[str, Any], path: str) -> Any:
    """The value at a dotted ``path``: None through a missing or null step; a step that is
    neither an object nor null is a VendorResponseError.

    >>> nested("v", "t", {"Unit": None}, "Unit.name") is None
    True
    >>> nested("v", "t", {"Unit": "W01"}, "Unit.name")
    Traceback (most recent call last):
    crmql.errors.VendorResponseError: v (t): malformed response: a record's Unit is a str, not an object
    """
    data: Any = record
    walked: list[str] = []
    for part in path.split("."):
        if data is None:
            return None
        if not isinstance(data, dict):
            raise _bad(vendor, table, f"a record's {'.'.join(walked)} is a {type(data).__name__}, not an object")
        data = data.get(part)
        walked.append(part)
    return data


def person_name(person: Any) -> str | None:
    """ "first last" of a person object, stripped; None when both are missing or empty.

    >>> person_name({"firstName": " Max", "lastName": "Mustermann"}), person_name({"firstName": ""}), person_name(None)
    ('Max Mustermann', None, None)
    """
    if not isinstance(person, dict):
        return None
    parts = [str(person.get(k)).strip() for k in ("firstName", "lastName") if person.get(k) not in (None, "")]
    name = " ".join(p for p in parts if p)
    return name or None


def _objects(vendor: str, table: str, items: Any, what: str) -> list[dict[str, Any]]:
    """A nested array of objects (null: none), or a VendorResponseError."""
    if items is None:
        return []
    if not isinstance(items, list) or not all(isinstance(i, dict) for i in items):
        raise _bad(vendor, table, f"a record's {what} is not a list of objects")
    return items


def flatten(vendor: str, table: str, columns: Sequence[Col], record: dict[str, Any]) -> dict[str, Any]:
    """``record`` with every column's value under the column's native name (its ``field`` or name).

    >>> from .columns import NOTIFICATION_COLUMNS
    >>> row = flatten("v", "t", NOTIFICATION_COLUMNS, {"id": 3, "read": False, "createdAt": "2026-11-30T10:00:00.000Z"})
    >>> row["unread"], row["createdAt"]
    (True, '2026-11-30T10:00:00.000Z')
    """
    out = dict(record)
    names = {c.name for c in columns}
    for column in columns:
        if column.field and "." in column.field:
            out[column.field] = nested(vendor, table, record, column.field)
    for prefix, field in PERSONS.items():
        if f"{prefix}_name" in names:
            person = nested(vendor, table, record, field)
            if person is not None and not isinstance(person, dict):
                raise _bad(vendor, table, f"a record's {field} is a {type(person).__name__}, not an object")
            out[f"{prefix}_name"] = person_name(person)
    if "community_id" in names and out.get("community_id") is None:
        carried = nested(vendor, table, record, "Community.id")
        out["community_id"] = carried if carried is not None else record.get("communityId")
    if "unread" in names:
        read = record.get("read")
        if read is not None and not isinstance(read, bool):
            raise _bad(vendor, table, f"a notification's read is {json.dumps(read)[:40]}, not true or false")
        out["unread"] = None if read is None else not read
    if "custom_fields" in names:
        fields = record.get("customFields")
        out["custom_fields"] = None if fields is None else json.dumps(
            _objects(vendor, table, fields, "customFields"), ensure_ascii=False, sort_keys=True)
    if "comment_count" in names:
        comments = record.get("TicketComments")
        out["comment_count"] = None if comments is None else len(_objects(vendor, table, comments, "TicketComments"))
    if "attachments" in names:
        files = record.get("Attachments")
        listed = None if files is None else _objects(vendor, table, files, "Attachments")
        out["attachments"] = None if listed is None else [f.get("name") for f in listed if f.get("name") is not None]
        out["attachment_count"] = None if listed is None else len(listed)
    return out


def faq_groups(vendor: str, table: str, data: Any, request: str) -> dict[Any, Any]:
    """The FAQ answer's groups by id, after checking the envelope: ``groups`` and ``items`` both
    lists of objects.

    >>> faq_groups("v", "t", {"groups": [{"id": 1, "name": "Heizung"}], "items": []}, "GET /api/v1/faq")
    {1: 'Heizung'}
    >>> faq_groups("v", "t", {"items": []}, "GET /api/v1/faq")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    crmql.errors.VendorResponseError: v (t): malformed response to GET /api/v1/faq: the FAQ answer's groups is ...
    """
    if not isinstance(data, dict):
        raise VendorResponseError("the FAQ answer is not an object with groups and items", vendor=vendor,
                                  table=table, request=request)
    for key in ("groups", "items"):
        value = data.get(key)
        if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
            raise VendorResponseError(f"the FAQ answer's {key} is not a list of objects", vendor=vendor,
                                      table=table, request=request)
    return {g.get("id"): g.get("name") for g in data["groups"]}
