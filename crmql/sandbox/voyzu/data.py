"""The Voyzu sandbox's data as the API serves it: 8,000 contacts (WebContact, about 72% persons)
and 12 spreadsheets, seed-stable and independent of the clock (the core's ``WORLD_NOW``), and
:data:`GENERATORS` for the sandbox core (``crmql sandbox dump voyzu.contacts``).

Contact ids are ``c-`` and 8 digits, ascending with small gaps (``c-00001001``, ``c-00001003``,
...), so the first N contacts of a seed are the same whatever N is (the simulator's ``contacts``
setting serves a prefix: tests use a few hundred). Field names are PascalCase, as the docs' own
names are (``Id``, ``SessionId``, ``ErrorMessage``; vendor-notes section 3 "Contact fields"):
see the issue #13 contract for the record.

Edge cases on purpose: persons with no email or no phone, a primary email that is not the first,
a few contacts with no email flagged primary (a client then takes the first), organizations with
no first/last name (null), names with apostrophes, hyphens and accents, a company named
``Smith AND Sons``, ``+`` in an email, empty Notes and ImportId (null).

>>> c = contacts(42)
>>> len(c), c[0]["Id"], all(a["Id"] < b["Id"] for a, b in zip(c, c[1:]))
(8000, 'c-00001001', True)
>>> 0.68 < sum(r["RecordType"] == "PERSON" for r in c) / len(c) < 0.76
True
>>> all("#voyzu shared" in r["Labels"] for r in c)
True
>>> len(spreadsheets(42))
12
"""

from __future__ import annotations

import logging
import random
import threading
from datetime import datetime, timedelta
from typing import Any, Callable

from ..core.data_util import UTC, WORLD_NOW, created_updated, make_rng, pick, slug, utc_ms
from .words import (CITIES, COMPANIES, COMPANY_STEMS, COMPANY_SUFFIXES, CONTACT_TYPES, CUSTOM_FIELDS,
                    DEPARTMENTS, FIRST_NAMES, JOB_TITLES, LABELS, LAST_NAMES, NOTES, SHARED_LABEL, SHEETS,
                    STREETS)

__all__ = ["CONTACTS", "GENERATORS", "contacts", "spreadsheets"]

logger = logging.getLogger(__name__)

Record = dict[str, Any]
Lookup = Callable[[str], list[Record]]
#: contacts of the sandbox customer
CONTACTS = 8000
_START = datetime(2019, 3, 1, tzinfo=UTC)
_MAIL_HOSTS = ("gmail.com", "outlook.com", "xtra.co.nz", "icloud.com", "yahoo.com.au", "hotmail.co.uk")
_lock = threading.Lock()
_contacts: dict[int, "_Drawn"] = {}
_sheets: dict[int, list[Record]] = {}


def _organizations(rng: random.Random) -> list[str]:
    """The companies contacts work for (seed-stable, unique)."""
    names = list(COMPANIES)
    while len(names) < 420:
        name = f"{pick(rng, COMPANY_STEMS)} {pick(rng, COMPANY_SUFFIXES)}"
        if name not in names:
            names.append(name)
    return names


def _phone(rng: random.Random, country: str, kind: str) -> str:
    digits = "".join(str(rng.randrange(10)) for _ in range(7))
    if country == "New Zealand":
        return f"+64 {'21' if kind == 'mobile' else '9'} {digits[:3]} {digits[3:]}"
    if country == "Australia":
        return f"+61 {'4' if kind == 'mobile' else '2'}{digits[:2]} {digits[2:5]} {digits[5:]}"
    if country == "United Kingdom":
        return f"+44 {'7700' if kind == 'mobile' else '20'} {digits[:3]} {digits[3:]}"
    return f"+1 {rng.randrange(201, 990)}-{digits[:3]}-{digits[3:]}"


def _address(rng: random.Random, kind: str) -> Record:
    city, region, country, code = pick(rng, CITIES)
    postal = "".join(str(rng.randrange(10)) if ch == "#" else ch for ch in code)
    return {"Type": kind, "Street": f"{rng.randrange(1, 400)} {pick(rng, STREETS)}", "City": city,
            "Region": region, "PostalCode": postal, "Country": country}


def _custom_fields(rng: random.Random, created: datetime) -> list[Record]:
    fields: list[Record] = []
    for name, kind, options in CUSTOM_FIELDS:
        if rng.random() < 0.45:
            continue
        value: Any
        if kind == "LIST":
            value = pick(rng, options or ("",))
        elif kind == "NUMBER":
            value = rng.randrange(1, 500) if name == "#Employees" else round(rng.uniform(5e3, 5e6), 2)
        elif kind == "DATE":
            value = (created + timedelta(days=rng.randrange(30, 900))).date().isoformat()
        elif kind == "CHECKBOX":
            value = rng.random() < 0.6
        elif name == "#Account Number":
            value = f"AC-{rng.randrange(10000, 99999)}"
        else:
            value = f"{pick(rng, FIRST_NAMES)} {pick(rng, LAST_NAMES)}"
        fields.append({"Name": name, "Type": kind, "Value": value})
    return fields


def _emails(rng: random.Random, first: str, last: str, org: str | None, person: bool) -> list[Record]:
    local = f"{slug(first)}.{slug(last)}" if person else pick(rng, ("info", "hello", "accounts", "office"))
    domain = f"{slug(org or last)}.co.nz" if org else pick(rng, _MAIL_HOSTS)
    count = rng.choices((0, 1, 2, 3), weights=(0.08, 0.55, 0.3, 0.07))[0] if person else rng.choice((1, 1, 2))
    emails: list[Record] = []
    for n in range(count):
        if n == 0:
            value, kind = f"{local}@{domain}", "work" if org else "home"
        elif n == 1:
            value, kind = f"{slug(first) or 'contact'}{rng.randrange(10, 99)}@{pick(rng, _MAIL_HOSTS)}", "home"
        else:
            value, kind = f"{slug(first) or 'contact'}+crm@{pick(rng, _MAIL_HOSTS)}", "other"
        emails.append({"Value": value, "Type": kind, "Primary": False})
    if emails:
        flagged = rng.random()
        if flagged < 0.8:
            emails[0]["Primary"] = True
        elif flagged < 0.95:
            emails[-1]["Primary"] = True  # a primary that is not the first
        # else: none flagged
    return emails


def _contact(rng: random.Random, number: int, organizations: list[str]) -> Record:
    person = rng.random() < 0.72
    created, updated = created_updated(rng, _START, WORLD_NOW - timedelta(days=2))
    if person:
        first, last = pick(rng, FIRST_NAMES), pick(rng, LAST_NAMES)
        if rng.random() < 0.03:
            first = ""  # "a person needs first and/or last name"
        org = pick(rng, organizations) if rng.random() < 0.75 else None
        display = f"{first} {last}".strip()
    else:
        first = last = ""
        org = pick(rng, organizations)
        display = org
    country_pick = rng.random()
    addresses = [_address(rng, "work" if org else "home")] if country_pick < 0.8 else []
    if addresses and rng.random() < 0.15:
        addresses.append(_address(rng, "home" if org else "other"))
    country = addresses[0]["Country"] if addresses else "New Zealand"
    phones = [{"Value": _phone(rng, country, kind), "Type": kind}
              for kind in rng.sample(("mobile", "work", "home", "main"), rng.choices((0, 1, 2), (0.1, 0.6, 0.3))[0])]
    types = [t for t, w in CONTACT_TYPES.items() if rng.random() < w] or ["CUSTOMER" if rng.random() < 0.5 else "LEAD"]
    labels = [SHARED_LABEL] + [label for label in LABELS[1:] if rng.random() < 0.12]
    return {
        "Id": f"c-{number:08d}", "RecordType": "PERSON" if person else "ORGANIZATION",
        "FirstName": (first or None) if person else None, "LastName": last if person else None,
        "DisplayName": display, "Organization": org,
        "JobTitle": pick(rng, JOB_TITLES) if person and rng.random() < 0.7 else None,
        "Department": pick(rng, DEPARTMENTS) if person and org and rng.random() < 0.4 else None,
        "EmailAddresses": _emails(rng, first, last, org, person), "PhoneNumbers": phones, "Addresses": addresses,
        "ContactTypes": types, "Labels": labels, "CustomFields": _custom_fields(rng, created),
        "Unsubscribed": rng.random() < 0.11, "Notes": pick(rng, NOTES) if rng.random() < 0.3 else None,
        "ImportId": f"imp-{rng.randrange(1, 40):04d}" if rng.random() < 0.4 else None,
        "CreatedDate": utc_ms(created), "UpdatedDate": utc_ms(updated),
    }


class _Drawn:
    """The contacts of one seed drawn so far, and the generator state to draw more."""

    def __init__(self, seed: int) -> None:
        self.rng = make_rng(seed, "voyzu", "contacts")
        self.organizations = _organizations(make_rng(seed, "voyzu", "organizations"))
        self.number = 1001
        self.rows: list[Record] = []

    def extend(self, count: int) -> list[Record]:
        while len(self.rows) < count:
            self.rows.append(_contact(self.rng, self.number, self.organizations))
            self.number += 1 if self.rng.random() < 0.8 else 2  # gaps: deleted contacts
        return self.rows


def contacts(seed: int, count: int = CONTACTS) -> list[Record]:
    """The first ``count`` contacts of ``seed`` (all 8,000 by default), ``Id`` ascending; drawn on
    first use, only as many as asked (the first N are the same whatever N), then cached. Do not
    mutate the records.

    >>> contacts(42, 3) == contacts(42)[:3]
    True
    """
    count = max(0, min(count, CONTACTS))
    with _lock:
        drawn = _contacts.get(seed)
        if drawn is None:
            drawn = _contacts[seed] = _Drawn(seed)
        rows = drawn.extend(count)
        return rows[:count]


def spreadsheets(seed: int) -> list[Record]:
    """The sandbox customer's 12 spreadsheets (``Id`` ascending; do not mutate)."""
    with _lock:
        cached = _sheets.get(seed)
        if cached is None:
            rng = make_rng(seed, "voyzu", "spreadsheets")
            cached = []
            for n, name in enumerate(SHEETS, start=1):
                created, updated = created_updated(rng, _START, WORLD_NOW)
                key = "".join(rng.choice("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")
                              for _ in range(44))
                cached.append({"Id": f"s-{n:04d}", "Name": name,
                               "Url": f"https://docs.google.com/spreadsheets/d/{key}/edit",
                               "CreatedDate": utc_ms(created), "UpdatedDate": utc_ms(updated),
                               "RowCount": None if n % 5 == 0 else rng.randrange(0, 8000)})
            _sheets[seed] = cached
        return cached


def _contacts_table(seed: int, lookup: Lookup) -> list[Record]:
    return contacts(seed)


def _spreadsheets_table(seed: int, lookup: Lookup) -> list[Record]:
    return spreadsheets(seed)


#: the sandbox core's generators, by (vendor, table)
GENERATORS: dict[tuple[str, str], Callable[[int, Lookup], list[Record]]] = {
    ("voyzu", "contacts"): _contacts_table, ("voyzu", "spreadsheets"): _spreadsheets_table}
