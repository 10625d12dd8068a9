"""The fields of one casavi contact (person, family or company) as the Manager API serves them.

A contact is drawn for a place (the city it lives in, its street) and a kind (``renter``,
``owner``, ``landlord``, ``provider``, ``staff``); ids, contracts and custom fields are added by
:mod:`.world`. Sparse like the real API: a field without a value is sometimes absent, sometimes
``null`` (:func:`put`).

>>> from crmql.sandbox.core.data_util import make_rng
>>> c = person(make_rng(1, "doc"), "renter", ("Dresden", "01067", "351", 1), "Lindenallee 4")
>>> c["postalCode"].startswith("01"), c["country"], c["salutation"] in ("Herr", "Frau", "Familie", "Firma")
(True, 'Deutschland', True)
"""

from __future__ import annotations

import logging
import random
from typing import Any

from ..core.data_util import pick, slug
from .words import (
    COMPANY_ROLES, CONTACT_NOTES, FEMALE, LAST_NAMES, MALE, MANAGER_COMPANY, OWNER_COMPANIES, PROVIDER_FORMS,
)

__all__ = ["City", "display_name", "mail_slug", "person", "postal_code", "provider", "put", "rand_int", "telephone"]

logger = logging.getLogger(__name__)

#: (city, first postal code, area code, weight), as :data:`.words.CITIES`
City = tuple[str, str, str, float]
Record = dict[str, Any]

_FREE_MAIL = ("web.de", "gmx.de", "t-online.de", "gmail.com", "posteo.de", "outlook.de")
_MOBILE = ("151", "152", "160", "162", "170", "171", "172", "176", "177", "179")


def rand_int(rng: random.Random, low: int, high: int) -> int:
    """``rng.randint(low, high)``, faster (the generator draws ~100,000 numbers).

    >>> 3 <= rand_int(random.Random(1), 3, 5) <= 5
    True
    """
    return low + int(rng.random() * (high - low + 1))


def put(record: Record, key: str, value: Any, rng: random.Random) -> None:
    """Set ``key``; a missing value (None) is ``null`` half the time and absent otherwise.

    >>> r = {}; put(r, "a", 1, random.Random(0)); r
    {'a': 1}
    """
    if value is not None or rng.random() < 0.5:
        record[key] = value


def postal_code(rng: random.Random, city: City) -> str:
    """A postal code of ``city`` (five digits, leading zeros kept: Dresden ``01067``)."""
    return f"{int(city[1]) + int(rng.random() * 40):05d}"


def telephone(rng: random.Random, city: City) -> str:
    """A landline number in ``city``, e.g. ``+49 89 4711023``."""
    return f"+49 {city[2]} {rand_int(rng, 200000, 99999999)}"


def _mobile(rng: random.Random) -> str:
    return f"+49 {pick(rng, _MOBILE)} {rand_int(rng, 1000000, 99999999)}"


#: how German addresses write umlauts and ß (``Günther`` -> ``guenther``, not ``gunther``)
_GERMAN = str.maketrans({"ä": "ae", "ö": "oe", "ü": "ue", "Ä": "Ae", "Ö": "Oe", "Ü": "Ue", "ß": "ss",
                         "ẞ": "SS", "ı": "i"})  # (Yılmaz: a dotless i, which no accent folding removes)


def mail_slug(text: str, sep: str = "") -> str:
    """:func:`slug` for an e-mail address or a domain, umlauts and ß written as German addresses
    write them.

    >>> mail_slug("Günther"), mail_slug("Müller & Söhne", "-"), mail_slug("Weiß"), mail_slug("Yılmaz")
    ('guenther', 'mueller-soehne', 'weiss', 'yilmaz')
    """
    return slug(text.translate(_GERMAN), sep)


def _mail_name(first: str, last: str) -> str:
    return f"{mail_slug(first)}.{mail_slug(last, '-')}" if first else mail_slug(last, "-")


def person(rng: random.Random, kind: str, city: City, street: str | None, postal: str | None = None) -> Record:
    """One contact's fields (no id, contracts or custom fields yet).

    ``kind``: ``renter``, ``owner`` (a private owner, sometimes a family), ``landlord`` (often a
    company), ``provider`` (a service company), ``staff`` (the property manager's own people);
    ``postal``: the postal code of ``street`` when it is known (a property's), else one is drawn.
    """
    rec: Record = {}
    company: str | None = None
    roll = rng.random()
    if kind == "provider" or (kind == "landlord" and roll < 0.6) or (kind == "owner" and roll < 0.03):
        salutation = "Firma"
        if kind == "provider":
            company = None  # named by the caller (its trade)
        else:
            root, form = pick(rng, OWNER_COMPANIES)
            company = f"{root} {form}"
    elif kind in ("renter", "owner", "landlord") and roll < 0.12:
        salutation = "Familie"
    else:
        salutation = "Frau" if rng.random() < 0.5 else "Herr"
    first: str | None = None
    if salutation == "Frau":
        first = pick(rng, FEMALE)
    elif salutation == "Herr":
        first = pick(rng, MALE)
    elif salutation == "Firma" and rng.random() < 0.6:  # a named person to ask for
        first = pick(rng, FEMALE if rng.random() < 0.5 else MALE)
    last = pick(rng, LAST_NAMES) if salutation != "Firma" or first else None
    if kind == "staff":
        company = MANAGER_COMPANY
    title = None
    if salutation in ("Herr", "Frau") and rng.random() < 0.09:
        title = "Prof." if rng.random() < 0.12 else "Dr."
    put(rec, "title", title, rng)
    rec["salutation"] = salutation
    put(rec, "firstName", first, rng)
    put(rec, "lastName", last, rng)
    put(rec, "companyName", company, rng)
    role = None
    if company and first:
        role = "Objektbetreuung" if kind == "staff" else pick(rng, COMPANY_ROLES)
    put(rec, "companyRole", role, rng)
    domain = None
    if company:
        domain = mail_slug(company.split(" GmbH")[0].split(" AG")[0], "-")[:30] + ".de"
    email = None
    if rng.random() < (0.97 if kind in ("staff", "provider") else 0.78):
        if domain:
            email = f"{_mail_name(first, last) if first and last else 'info'}@{domain}"
        else:
            email = f"{_mail_name(first or '', last or 'kontakt')}{rand_int(rng, 1, 99) if rng.random() < 0.4 else ''}" \
                    f"@{pick(rng, _FREE_MAIL)}"
    put(rec, "email", email, rng)
    put(rec, "telephone", telephone(rng, city) if rng.random() < 0.55 or company else None, rng)
    put(rec, "mobile", _mobile(rng) if not company and rng.random() < 0.6 else None, rng)
    put(rec, "fax", telephone(rng, city) if company and rng.random() < 0.35 else None, rng)
    put(rec, "website", f"https://www.{domain}" if domain and rng.random() < 0.8 else None, rng)
    has_address = street is not None and rng.random() < 0.93
    put(rec, "street", street if has_address else None, rng)
    put(rec, "postalCode", (postal or postal_code(rng, city)) if has_address else None, rng)
    put(rec, "city", city[0] if has_address else None, rng)
    rec["country"] = "Deutschland"
    put(rec, "note", pick(rng, CONTACT_NOTES) if rng.random() < 0.07 else None, rng)
    way = "ONLINE" if rng.random() < (0.62 if kind != "landlord" else 0.4) else "LETTER"
    put(rec, "preferredWayOfContact", way if rng.random() < 0.95 else None, rng)
    invited = kind in ("renter", "owner", "landlord") and rng.random() < 0.7
    registered = (invited and rng.random() < 0.6) or (not invited and rng.random() < 0.04)
    rec["isRegistered"] = registered
    rec["isInvited"] = invited
    return rec


def provider(rng: random.Random, trade_company: str, city: City, street: str) -> Record:
    """A service company's contact (external responsibility)."""
    rec = person(rng, "provider", city, street)
    rec["companyName"] = f"{trade_company} {pick(rng, PROVIDER_FORMS)}"
    dom = mail_slug(trade_company, "-") + ".de"
    if rec.get("email"):
        rec["email"] = f"{'info' if not rec.get('firstName') else _mail_name(rec['firstName'], rec.get('lastName') or '')}@{dom}"
    # no draw from ``rng`` here (the rest of the world stays as it was): the name decides
    rec["website"] = f"https://www.{dom}" if sum(map(ord, trade_company)) % 10 < 7 else None
    if rec.get("firstName") and not rec.get("companyRole"):
        rec["companyRole"] = "Inhaber" if sum(map(ord, trade_company)) % 2 else "Disposition"
    return rec


def display_name(rec: Record) -> str:
    """How casavi names a contact: ``Dr. Jörg Müller``, ``Familie Weber``, or the company's name."""
    if rec.get("salutation") == "Firma" and rec.get("companyName"):
        return str(rec["companyName"])
    if rec.get("salutation") == "Familie":
        return f"Familie {rec.get('lastName') or ''}".strip()
    parts = [rec.get("title"), rec.get("firstName"), rec.get("lastName")]
    return " ".join(p for p in parts if p)
