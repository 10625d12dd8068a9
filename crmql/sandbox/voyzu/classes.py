"""The JavaScript class modules Voyzu serves at ``GET /api/<resource>/class`` (no session).

Documented: "Outputs a plain text javascript module" (api-documentation.md); the front-end doc
names ``ContactsSearch`` -> ``ContactsSearchResult`` and links ``/api/contacts/class``; the API
doc's table names ``ContactsSearchInput`` -> ``ContactsDatatable?`` (ambiguity 17). No copy of a
module exists, so these are the sandbox's: ES6 modules (the front end is "plain JS only ... modern
Javascript (ES6)"), one ``export class`` per class, a constructor assigning ``this.<Field> = ...``
from a plain object, JSDoc comments, a commented-out field, a static helper. crmql's connector
reads the search input class to pick its paging reading, so the contacts module follows
``voyzu.paging`` (the input and output fields of :data:`.search.INPUT_FIELDS`) and
``voyzu.class_names``; the request-status module follows ``voyzu.async_result`` and the
spreadsheets module ``voyzu.spreadsheets``.

>>> js = module("contacts", {"voyzu.paging": "page", "voyzu.class_names": "front_end"})
>>> "export class ContactsSearch {" in js and "this.PageSize = " in js and "this.Start" not in js
True
>>> module("nope", {}) is None
True
"""

from __future__ import annotations

import logging
from collections.abc import Mapping

from .search import INPUT_FIELDS

__all__ = ["RESOURCES", "module"]

logger = logging.getLogger(__name__)

_HEADER = """/**
 * Voyzu CRM API classes: {resource}
 * Generated from the voyzu-crm-api model. Do not edit by hand.
 * Instances of these classes are the bodies posted to, and returned from, /api/{resource}/...
 */
"""

_OUTPUT_FIELDS = {"datatable": ("Data", "RecordsTotal", "RecordsFiltered"),
                  "page": ("Data", "TotalCount", "Page", "PageSize"), "none": ("Data",)}
_DEFAULTS = {"SearchText": "''", "Start": "0", "Length": "10", "Page": "1", "PageSize": "10", "RecordsTotal": "0",
             "RecordsFiltered": "0", "TotalCount": "0"}
_NOTES = {"SearchText": "free text: searches most contact fields", "Start": "0-based index of the first row",
          "Length": "rows per page", "Page": "1-based page number", "PageSize": "rows per page",
          "RecordsTotal": "contacts in the customer domain", "RecordsFiltered": "contacts matching SearchText",
          "TotalCount": "contacts matching SearchText"}


def _class(name: str, fields: tuple[str, ...], doc: str, extra: str = "",
           values: Mapping[str, str] | None = None) -> str:
    lines = [f"/** {doc} */", f"export class {name} {{", "    /**", f"     * @param {{Object}} [data] a plain {name}",
             "     */", "    constructor(data = {}) {"]
    for field in fields:
        value = (values or {}).get(field, f"data.{field} ?? {_DEFAULTS.get(field, 'null')}")
        note = _NOTES.get(field)
        lines.append(f"        this.{field} = {value}" + (f"  // {note}" if note else ""))
    lines.append("    }")
    if extra:
        lines.append(extra)
    lines.append("}")
    return "\n".join(lines) + "\n"


def _contacts(variants: Mapping[str, str]) -> str:
    paging = variants.get("voyzu.paging", "datatable")
    front = variants.get("voyzu.class_names", "api_doc") == "front_end"
    search, result = ("ContactsSearch", "ContactsSearchResult") if front else ("ContactsSearchInput", "ContactsDatatable")
    search_js = _class(search, INPUT_FIELDS[paging], "The contacts search box and datatable paging",
                       extra="    // this.SortColumn = data.SortColumn  (sorting is not supported yet: rows come by Id)")
    result_js = _class(result, _OUTPUT_FIELDS[paging], "One page of the contacts datatable",
                       values={"Data": "(data.Data || []).map(c => new WebContact(c))"})
    contact = _class("WebContact", (
        "Id", "RecordType", "FirstName", "LastName", "DisplayName", "Organization", "JobTitle", "Department",
        "EmailAddresses", "PhoneNumbers", "Addresses", "ContactTypes", "Labels", "CustomFields", "Unsubscribed",
        "Notes", "ImportId", "CreatedDate", "UpdatedDate"), "A shared contact (Google Contacts aligned)",
        values={"RecordType": "data.RecordType ?? 'PERSON'  // PERSON | ORGANIZATION",
                "EmailAddresses": "(data.EmailAddresses || []).map(e => new EmailAddress(e))",
                "PhoneNumbers": "(data.PhoneNumbers || []).map(p => new PhoneNumber(p))",
                "Addresses": "(data.Addresses || []).map(a => new Address(a))",
                "ContactTypes": "data.ContactTypes || []", "Labels": "data.Labels || ['#voyzu shared']",
                "CustomFields": "(data.CustomFields || []).map(f => new CustomField(f))",
                "Unsubscribed": "Boolean(data.Unsubscribed)"},
        extra="\n    /** @returns {string} the name shown in the datatable */\n    get name() {\n"
              "        return this.RecordType === 'ORGANIZATION' ? this.Organization : `${this.FirstName} ${this.LastName}`\n"
              "    }")
    parts = [search_js, result_js, contact,
             _class("EmailAddress", ("Value", "Type", "Primary"), "work | home | other"),
             _class("PhoneNumber", ("Value", "Type"), "mobile | work | home | main"),
             _class("Address", ("Type", "Street", "City", "Region", "PostalCode", "Country"), "A postal address"),
             _class("CustomField", ("Name", "Type", "Value"), "TEXT | NUMBER | DATE | LIST | CHECKBOX; Name starts with #")]
    return "\n".join(parts)


def _request_status(variants: Mapping[str, str]) -> str:
    link = variants.get("voyzu.async_result", "inline") == "link"
    last = "ResultUrl" if link else "Result"
    note = ("a presigned link to the output class instance (PROCESSED only)" if link
            else "the output class instance (PROCESSED only)")
    return _class("RequestStatus", ("RequestId", "ProcessStatus", "PercentComplete", "Commentary", "CreatedDate",
                                    "UpdatedDate", last), "The status of an asynchronous request (?async=true)",
                  values={"ProcessStatus": "data.ProcessStatus ?? 'QUEUED'  // QUEUED | PROCESSING | PROCESSED | FAILED",
                          "PercentComplete": "data.PercentComplete ?? 0", last: f"data.{last} ?? null  // {note}"},
                  extra="\n    static isFinished(status) {\n        return ['PROCESSED', 'FAILED', 'ERROR'].includes(status.ProcessStatus)\n    }")


def _spreadsheets(variants: Mapping[str, str]) -> str:
    sheet = _class("Spreadsheet", ("Id", "Name", "Url", "CreatedDate", "UpdatedDate", "RowCount"),
                   "A Google Sheets export of contacts")
    if variants.get("voyzu.spreadsheets", "array") == "object":
        sheet += "\n" + _class("SpreadsheetList", ("Spreadsheets",), "The session user's spreadsheets",
                               values={"Spreadsheets": "(data.Spreadsheets || []).map(s => new Spreadsheet(s))"})
    return sheet


def _auth(variants: Mapping[str, str]) -> str:
    return (_class("AuthInput", ("Email", "Password"), "Credentials checked by /api/auth") + "\n" +
            _class("Auth", ("SessionId", "Email", "ExpiresDate"), "A session: send SessionId as the voyzu-session-id cookie"))


def _custom_fields(variants: Mapping[str, str]) -> str:
    return _class("CustomFieldInput", ("Name", "NewName", "Type", "Options"),
                  "Add, rename or delete a custom field (names: letters, numbers and spaces, at most 30 characters)")


def _users(variants: Mapping[str, str]) -> str:
    return (_class("UserNotificationInput", ("NotifyOnImport", "NotifyOnSync"), "A user's notification settings") + "\n" +
            _class("UserSharingInput", ("Email", "Sharing"), "Whether a user takes part in contact sharing"))


_MODULES = {"auth": _auth, "contacts": _contacts, "custom-fields": _custom_fields, "spreadsheets": _spreadsheets,
            "users": _users, "request-status": _request_status}
#: the resources with a class module
RESOURCES: tuple[str, ...] = tuple(_MODULES)


def module(resource: str, variants: Mapping[str, str]) -> str | None:
    """The JavaScript module of ``resource`` under ``variants``, or None when it has none."""
    build = _MODULES.get(resource)
    if build is None:
        return None
    return _HEADER.format(resource=resource) + "\n" + build(variants)
