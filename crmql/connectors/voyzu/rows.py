"""Voyzu records as rows: a WebContact's nested arrays flattened into the columns of :mod:`.columns`,
and the child tables' rows exploded from them.

* ``primary_email``: the ``EmailAddresses`` item with ``Primary`` true, else the first;
  ``emails``: every ``Value``; ``primary_phone`` / ``phones`` likewise from ``PhoneNumbers``
  (no primary flag is documented for phones: the first); ``city``: the first address's ``City``;
  ``custom_fields``: ``{Name: Value}`` as JSON text (keys sorted).
* A nested array that is not a list of objects (or, for ``Labels`` / ``ContactTypes``, not a list
  of texts) is a :class:`~crmql.errors.VendorResponseError` naming the vendor, table and field:
  never a traceback, never a silently empty column. A missing or null array is empty.
* Child tables (``contact_emails`` ...) come from :class:`Children`: each item of the parent's
  array is a row carrying the parent's ``Id`` as ``contact_id``; ``Labels`` and ``ContactTypes``
  are texts, each one row (``label`` / ``contact_type``); a custom field's ``value`` is text
  (a CHECKBOX ``true``/``false``, a number as JSON writes it).

Times stay as Voyzu's ISO-8601 text (``...sssZ``): the executor converts them by column type.

>>> row = flatten("Voyzu CRM", "v.contacts", {"Id": "c-1", "EmailAddresses": [
...     {"Value": "a@x.example", "Primary": False}, {"Value": "b@x.example", "Primary": True}]})
>>> row["primary_email"], row["emails"]
('b@x.example', ['a@x.example', 'b@x.example'])
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from typing import Any

from ...errors import VendorResponseError
from ..rest import Explode

__all__ = ["ARRAYS", "Children", "flatten", "objects", "texts", "value_text"]

log = logging.getLogger(__name__)

#: child table -> (the parent's array, the scalar column of a list of texts, or None for objects)
ARRAYS: dict[str, tuple[str, str | None]] = {
    "contact_emails": ("EmailAddresses", None), "contact_phones": ("PhoneNumbers", None),
    "contact_addresses": ("Addresses", None), "contact_labels": ("Labels", "label"),
    "contact_types": ("ContactTypes", "contact_type"), "contact_custom_fields": ("CustomFields", None),
}


def _bad(vendor: str, table: str, what: str) -> VendorResponseError:
    return VendorResponseError(what, vendor=vendor, table=table)


def objects(vendor: str, table: str, record: dict[str, Any], field: str) -> list[dict[str, Any]]:
    """The record's array ``field`` of objects (missing or null: empty), or a VendorResponseError.

    >>> objects("v", "t", {"Addresses": [1]}, "Addresses")
    Traceback (most recent call last):
    crmql.errors.VendorResponseError: v (t): malformed response: a contact's Addresses is not a list of objects
    """
    items = record.get(field)
    if items is None:
        return []
    if not isinstance(items, list) or not all(isinstance(i, dict) for i in items):
        raise _bad(vendor, table, f"a contact's {field} is not a list of objects")
    return items


def texts(vendor: str, table: str, record: dict[str, Any], field: str) -> list[str]:
    """The record's array ``field`` of texts (missing or null: empty), or a VendorResponseError.

    >>> texts("v", "t", {"Labels": ["#a", "#b"]}, "Labels")
    ['#a', '#b']
    """
    items = record.get(field)
    if items is None:
        return []
    if not isinstance(items, list) or not all(isinstance(i, str) for i in items):
        raise _bad(vendor, table, f"a contact's {field} is not a list of texts")
    return items


def value_text(value: Any) -> str | None:
    """A custom field's value as text: None stays None, a text as is, anything else as JSON.

    >>> value_text(True), value_text(12.5), value_text("North"), value_text(None)
    ('true', '12.5', 'North', None)
    """
    if value is None or isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False, sort_keys=True)


def _values(items: list[dict[str, Any]]) -> list[str]:
    return [str(i["Value"]) for i in items if i.get("Value") is not None]


def flatten(vendor: str, table: str, record: dict[str, Any]) -> dict[str, Any]:
    """A WebContact with the computed columns added (see the module docstring).

    >>> flatten("v", "t", {"CustomFields": [{"Name": "#Tier", "Type": "NUMBER", "Value": 2}]})["custom_fields"]
    '{"#Tier": 2}'
    """
    out = dict(record)
    emails = objects(vendor, table, record, "EmailAddresses")
    primary = next((e for e in emails if e.get("Primary") is True and e.get("Value") is not None), None)
    listed = _values(emails)
    out["primary_email"] = str(primary["Value"]) if primary else (listed[0] if listed else None)
    out["emails"] = listed
    phones = _values(objects(vendor, table, record, "PhoneNumbers"))
    out["primary_phone"], out["phones"] = (phones[0] if phones else None), phones
    addresses = objects(vendor, table, record, "Addresses")
    out["city"] = addresses[0].get("City") if addresses else None
    fields = objects(vendor, table, record, "CustomFields")
    out["custom_fields"] = json.dumps({str(f.get("Name")): f.get("Value") for f in fields}, ensure_ascii=False,
                                      sort_keys=True) if record.get("CustomFields") is not None else None
    for field in ("Labels", "ContactTypes"):
        if record.get(field) is not None:
            out[field] = texts(vendor, table, record, field)
    return out


@dataclass(frozen=True)
class Children(Explode):
    """The kit's :class:`~crmql.connectors.rest.Explode` (a list of texts with ``scalar``: each text one
    row, ``Labels`` and ``ContactTypes``), a custom field's ``Value`` also as the text ``value``.

    >>> Children("Labels", {"contact_id": "Id"}, scalar="label").rows([{"Id": "c-1", "Labels": ["#a"]}])
    [{'label': '#a', 'contact_id': 'c-1'}]
    >>> Children("CustomFields", {"contact_id": "Id"}).rows([{"Id": "c-1", "CustomFields": [{"Value": True}]}])
    [{'Value': True, 'contact_id': 'c-1', 'value': 'true'}]
    """

    def rows(self, parents: list[dict[str, Any]]) -> list[dict[str, Any]]:
        rows = super().rows(parents)
        if self.array == "CustomFields":
            for r in rows:
                r["value"] = value_text(r.get("Value"))
        return rows
