"""Seeded generators of Atlas CRM companies, contacts, sales and their links.

Entities are returned as the API returns them (``{"id", "type", "fields",
"_links"}``), sparse like the real API (a field without a value is absent
from ``fields``), keyed by template field id (built-in slugs, custom UUIDs;
see :mod:`crmql.sandbox.atlas.template`), in the API's default order (by the
name field, then id).  ``_links.self.href`` is relative to the vendor base
URL (``/api/1.0/workspace/CRM/entities/<id>``); the served API makes it
absolute.  ``links`` rows are ``{"entity_id", "other_entity_id",
"other_type", "roles"}``, one per direction, ordered by
``(entity_id, other_entity_id)``.

Every contact and sale is linked to exactly one company; about a third of
the sales are also linked to contacts of that company; a few companies are
linked to each other as partners.
"""

from __future__ import annotations

import gc
import logging
import random
from bisect import bisect_right
from datetime import date, datetime, timedelta
from functools import lru_cache
from operator import itemgetter
from typing import Any, Callable

from .template import custom_field_ids, new_uuid
from .words import (
    BIOS, CITIES, COMPANY_DESCRIPTIONS, COMPANY_NOTES, COMPANY_ROOTS, COMPANY_SUFFIX,
    CONTACT_NOTES, COUNTRIES, FIRST_NAMES, FREE_MAIL, JOB_TITLES, LAST_NAMES, LOSS_REASONS,
    OWNERS, PRODUCTS, REFERRAL_CODES, REGIONS, SALE_DESCRIPTIONS,
)
from ..core.data_util import UTC, WORLD_NOW, make_rng, pick, slug

logger = logging.getLogger(__name__)

Record = dict[str, Any]
Lookup = Callable[[str], list[Record]]

COMPANY_COUNT = 1000
CONTACT_COUNT = 5000
SALE_COUNT = 3000
PARTNER_LINK_COUNT = 60

#: Path of the entities collection, relative to the vendor base URL.
API_PREFIX = "/api/1.0/workspace/CRM"
ENTITIES_PATH = f"{API_PREFIX}/entities"
#: Where the Jira app shows an entity (``_links.app.href``).
APP_URL = "https://sandbox-atlas.atlassian.net/plugins/servlet/ac/com.avisi.atlascrm/entity"

OWNER_IDS = [account for account, _ in OWNERS]
_COUNTRY_CUM: list[float] = []
for _row in COUNTRIES:
    _COUNTRY_CUM.append((_COUNTRY_CUM[-1] if _COUNTRY_CUM else 0) + _row[4])
_SUFFIXES = list(COMPANY_SUFFIX)
_FIRST_DAY = date(2023, 1, 1)
_NOW_MS = int(WORLD_NOW.timestamp() * 1000)
_STATUS_CUM = [45.0, 80.0, 100.0]
_CURRENCY_CUM = [60.0, 85.0, 100.0]
_DEAL_CUM = [50.0, 80.0, 100.0]
_TIER_CUM = [15.0, 50.0, 100.0]


_EPOCH = datetime(1970, 1, 1)


def _ms(moment: datetime) -> int:
    """Epoch milliseconds of an aware datetime."""
    return int(moment.timestamp() * 1000)


def _moment(rng: random.Random, low_ms: int, high_ms: int) -> int:
    """Uniform random epoch-millisecond instant in [low_ms, high_ms]."""
    return low_ms + int(rng.random() * (max(0, high_ms - low_ms) + 1))


def _fmt(ms: int) -> str:
    """UTC ISO-8601 with milliseconds and Z (same format as :func:`utc_ms`)."""
    return (_EPOCH + timedelta(milliseconds=ms)).isoformat(timespec="milliseconds") + "Z"


def _weighted_index(rng: random.Random, cum: list[float]) -> int:
    return bisect_right(cum, rng.random() * cum[-1])


def entity_links(entity_id: str, base: str = "") -> dict[str, Any]:
    """The ``_links`` of an entity; ``base`` is the vendor base URL ("" = relative)."""
    return {"self": {"href": f"{base}{ENTITIES_PATH}/{entity_id}"},
            "app": {"href": f"{APP_URL}/{entity_id}"}}


def _day(rng: random.Random, first: date, span_days: int) -> str:
    return (first + timedelta(days=int(rng.random() * (span_days + 1)))).isoformat()


def _sample(rng: random.Random, options: tuple[str, ...] | list[str], low: int, high: int) -> list[str]:
    """1..n distinct labels, in template option order."""
    chosen = set(rng.sample(range(len(options)), rng.randint(low, high)))
    return [label for i, label in enumerate(options) if i in chosen]


def _entity(entity_id: str, entity_type: str, fields: Record) -> Record:
    return {"id": entity_id, "type": entity_type, "fields": fields, "_links": entity_links(entity_id)}


def _sort(rows: list[Record], name_field: str) -> list[Record]:
    rows.sort(key=lambda r: (r["fields"][name_field], r["id"]))
    return rows


def _companies(seed: int) -> tuple[list[Record], list[dict[str, Any]]]:
    rng = make_rng(seed, "atlas", "companies")
    cf = custom_field_ids(seed, "company")
    rows: list[Record] = []
    meta: list[dict[str, Any]] = []  # per company: domain, created, name (for contacts/sales)
    seen: set[str] = set()
    segments = ("Enterprise", "Mid-Market", "SMB", "Public Sector", "Non-Profit", "Start-up")
    start, end = _ms(datetime(2019, 1, 1, tzinfo=UTC)), _ms(datetime(2025, 9, 30, tzinfo=UTC))
    while len(rows) < COMPANY_COUNT:
        country, tld, _, legal, _ = COUNTRIES[_weighted_index(rng, _COUNTRY_CUM)]
        root, suffix = pick(rng, COMPANY_ROOTS), pick(rng, _SUFFIXES)
        base = f"{root} {suffix}"
        if base in seen:
            base = f"{root} {pick(rng, COMPANY_ROOTS)} {suffix}"
            if base in seen:
                continue
        seen.add(base)
        name = f"{base} {legal}" if rng.random() < 0.4 else base
        created = _moment(rng, start, end)
        domain = f"{slug(root, '-')}-{slug(suffix)}.{tld}"
        f: Record = {"company-name": name}
        if rng.random() < 0.85:
            f["company-website"] = f"https://www.{domain}"
        if rng.random() < 0.9:
            f["company-industry"] = COMPANY_SUFFIX[suffix]
        if rng.random() < 0.8:
            f["company-country"] = country
        employees = min(120_000, int(rng.lognormvariate(3.8, 1.6)) + 1)
        if rng.random() < 0.7:
            f["company-employees"] = employees
        if rng.random() < 0.95:
            f["company-owner"] = pick(rng, OWNER_IDS)
        if rng.random() < 0.4:
            f["company-description"] = pick(rng, COMPANY_DESCRIPTIONS).format(
                year=rng.randint(2012, 2025), employees=employees, country=country)
        f["company-created"] = _fmt(created)
        if rng.random() < 0.6:
            f[cf["tier"]] = ("Gold", "Silver", "Bronze")[_weighted_index(rng, _TIER_CUM)]
        if rng.random() < 0.5:
            f[cf["region"]] = pick(rng, REGIONS)
        if rng.random() < 0.1:
            f[cf["region2"]] = pick(rng, REGIONS)
        if rng.random() < 0.4:
            f[cf["renewal"]] = _day(rng, date(2024, 1, 1), 4 * 365)
        if rng.random() < 0.5:
            f[cf["segments"]] = _sample(rng, segments, 1, 3)
        if rng.random() < 0.45:
            f[cf["arr"]] = round(rng.uniform(5_000, 2_000_000), 2) if rng.random() < 0.8 else rng.randint(1, 400) * 5_000
        if rng.random() < 0.55:
            f[cf["last_contacted"]] = _fmt(_moment(rng, created, _NOW_MS))
        if rng.random() < 0.5:
            f[cf["account_manager"]] = pick(rng, OWNER_IDS)
        if rng.random() < 0.25:
            f[cf["notes"]] = pick(rng, COMPANY_NOTES)
        if rng.random() < 0.3:
            f[cf["size"]] = pick(rng, ("Klein", "Mittel", "Groß"))
        entity_id = new_uuid(rng)
        rows.append(_entity(entity_id, "company", f))
        meta.append({"id": entity_id, "domain": domain, "created": created, "root": root,
                     "weight": 1 + employees ** 0.35})
    return rows, meta


def _email(rng: random.Random, first: str, last: str, domain: str) -> str:
    f, l = slug(first), slug(last)
    roll = rng.random()
    local = f"{f}.{l}" if roll < 0.6 else f"{f[0]}{l}" if roll < 0.8 else f"{f}_{l}" if roll < 0.9 else f
    if rng.random() < 0.12:  # typed by people: mixed case
        local = ".".join(part.capitalize() for part in local.split("."))
        if rng.random() < 0.5:
            domain = domain.upper()
    return f"{local}@{domain}"


def _contacts(seed: int, companies: list[dict[str, Any]]) -> tuple[list[Record], list[tuple[str, str, list[str]]]]:
    rng = make_rng(seed, "atlas", "contacts")
    cf = custom_field_ids(seed, "contact")
    cum: list[float] = []
    for c in companies:
        cum.append((cum[-1] if cum else 0) + c["weight"])
    topics = ("Product Updates", "Webinars", "Case Studies", "Tips & Tricks", "Events", "Release Notes")
    lead_sources = ("Website", "Referral", "Event", "Cold Call", "Partner", "LinkedIn Ads")
    phone_prefixes = [row[2] for row in COUNTRIES]
    end = _ms(datetime(2025, 11, 1, tzinfo=UTC))
    rows: list[Record] = []
    links: list[tuple[str, str, list[str]]] = []
    used_emails: set[str] = set()
    for _ in range(CONTACT_COUNT):
        company = companies[_weighted_index(rng, cum)]
        first, last = pick(rng, FIRST_NAMES), pick(rng, LAST_NAMES)
        created = _moment(rng, company["created"], end)
        f: Record = {"contact-name": f"{first} {last}"}
        if rng.random() < 0.9:
            domain = company["domain"] if rng.random() < 0.8 else pick(rng, FREE_MAIL)
            email = _email(rng, first, last, domain)
            while email.lower() in used_emails:
                local, _, dom = email.partition("@")
                email = f"{local}{rng.randint(2, 99)}@{dom}"
            used_emails.add(email.lower())
            f["contact-email"] = email
        if rng.random() < 0.6:
            f["contact-phone"] = f"{pick(rng, phone_prefixes)} {rng.randint(1_000_000, 99_999_999)}"
        if rng.random() < 0.7:
            f["contact-job-title"] = pick(rng, JOB_TITLES)
        if rng.random() < 0.3:
            f["contact-birthday"] = _day(rng, date(1955, 1, 1), 48 * 365)
        if rng.random() < 0.9:
            f["contact-owner"] = pick(rng, OWNER_IDS)
        if rng.random() < 0.2:
            f["contact-notes"] = pick(rng, CONTACT_NOTES)
        f["contact-created"] = _fmt(created)
        if rng.random() < 0.6:
            f[cf["lead_source"]] = pick(rng, lead_sources)
        if rng.random() < 0.4:
            f[cf["topics"]] = _sample(rng, topics, 1, 3)
        if rng.random() < 0.35:
            f[cf["linkedin"]] = f"https://www.linkedin.com/in/{slug(first)}-{slug(last, '-')}-{rng.randint(10, 9999)}"
        if rng.random() < 0.5:
            f[cf["score"]] = round(rng.uniform(0, 100), 1) if rng.random() < 0.7 else rng.randint(0, 10) * 10
        if rng.random() < 0.4:
            f[cf["first_met"]] = (_EPOCH + timedelta(milliseconds=created, days=rng.randint(-400, 30))).date().isoformat()
        if rng.random() < 0.45:
            f[cf["last_login"]] = _fmt(_moment(rng, created, _NOW_MS))
        if rng.random() < 0.25:
            f[cf["buddy"]] = pick(rng, OWNER_IDS)
        if rng.random() < 0.2:
            f[cf["bio"]] = pick(rng, BIOS).format(city=pick(rng, CITIES), year=rng.randint(2005, 2025))
        if rng.random() < 0.15:
            f[cf["email2"]] = f"{slug(first)}.{slug(last)}{rng.randint(1, 99)}@{pick(rng, FREE_MAIL)}"
        entity_id = new_uuid(rng)
        rows.append(_entity(entity_id, "contact", f))
        roles = ["employee", "decision-maker"] if rng.random() < 0.15 else ["employee"]
        links.append((entity_id, company["id"], roles))
    return rows, links


def _sales(seed: int, companies: list[dict[str, Any]], contacts_of: dict[str, list[str]],
           names: dict[str, str]) -> tuple[list[Record], list[tuple[str, str, list[str]]]]:
    rng = make_rng(seed, "atlas", "sales")
    cf = custom_field_ids(seed, "sale")
    competitors = ("Salesforce", "HubSpot", "Pipedrive", "Zoho CRM", "Dynamics 365", "Other")
    contact_roles = (["decision-maker"], ["champion"], ["influencer"], ["decision-maker", "champion"])
    low, high = _ms(datetime(2022, 6, 1, tzinfo=UTC)), _ms(datetime(2025, 11, 10, tzinfo=UTC))
    rows: list[Record] = []
    links: list[tuple[str, str, list[str]]] = []
    for _ in range(SALE_COUNT):
        company = pick(rng, companies)
        status = ("open", "won", "lost")[_weighted_index(rng, _STATUS_CUM)]
        created = _moment(rng, max(company["created"], low), high)
        product = pick(rng, PRODUCTS)
        year = int(_fmt(created)[:4]) + (1 if rng.random() < 0.3 else 0)
        f: Record = {"sale-name": f"{names[company['id']]} – {product} {year}"}
        if rng.random() < 0.95:
            roll = rng.random()
            f["sale-balance"] = 0 if roll < 0.03 else rng.randint(1, 250) * 1000 if roll < 0.25 \
                else round(rng.uniform(0, 250_000), 2)
        if rng.random() < 0.95:
            f["sale-currency"] = ("EUR", "USD", "GBP")[_weighted_index(rng, _CURRENCY_CUM)]
        f["sale-status"] = status
        if rng.random() < 0.85:
            if status == "open":
                f["sale-close-date"] = _day(rng, WORLD_NOW.date() - timedelta(days=60), 400)
            else:
                f["sale-close-date"] = _day(rng, _FIRST_DAY, (WORLD_NOW.date() - _FIRST_DAY).days)
        if rng.random() < 0.95:
            f["sale-owner"] = pick(rng, OWNER_IDS)
        if rng.random() < 0.7:
            f["sale-probability"] = {"won": 100, "lost": 0}.get(status, rng.randint(1, 18) * 5)
        if rng.random() < 0.3:
            f["sale-description"] = pick(rng, SALE_DESCRIPTIONS).format(
                product=product, company=names[company["id"]], q=rng.randint(1, 4), year=year - 1)
        f["sale-created"] = _fmt(created)
        if rng.random() < 0.7:
            f[cf["deal_type"]] = ("New", "Upsell", "Renewal")[_weighted_index(rng, _DEAL_CUM)]
        if rng.random() < 0.35:
            f[cf["competitors"]] = _sample(rng, competitors, 1, 2)
        if rng.random() < 0.2:
            f[cf["referral"]] = pick(rng, REFERRAL_CODES)
        if rng.random() < 0.4:
            f[cf["discount"]] = round(rng.uniform(0, 30), 1) if rng.random() < 0.6 else rng.randint(0, 6) * 5
        if status == "won" and rng.random() < 0.8:
            f[cf["contract_start"]] = _day(rng, date(2023, 1, 1), 3 * 365)
        if rng.random() < 0.6:
            f[cf["last_activity"]] = _fmt(_moment(rng, created, _NOW_MS))
        if rng.random() < 0.35:
            f[cf["engineer"]] = pick(rng, OWNER_IDS)
        if status == "lost" and rng.random() < 0.6:
            f[cf["loss_reason"]] = pick(rng, LOSS_REASONS)
        entity_id = new_uuid(rng)
        rows.append(_entity(entity_id, "sale", f))
        links.append((entity_id, company["id"], ["customer"]))
        people = contacts_of.get(company["id"], [])
        if people and rng.random() < 0.35:
            for person in rng.sample(people, min(len(people), rng.randint(1, 2))):
                links.append((entity_id, person, list(pick(rng, contact_roles))))
    return rows, links


def build_world(seed: int) -> dict[str, list[Record]]:
    """Generate every Atlas table for ``seed`` (uncached)."""
    was_enabled = gc.isenabled()
    gc.disable()  # ~30k small containers: collector passes would cost a fifth of the time
    try:
        return _build_world(seed)
    finally:
        if was_enabled:
            gc.enable()


def _build_world(seed: int) -> dict[str, list[Record]]:
    companies, meta = _companies(seed)
    names = {row["id"]: row["fields"]["company-name"] for row in companies}
    contacts, contact_links = _contacts(seed, meta)
    contacts_of: dict[str, list[str]] = {}
    for contact_id, company_id, _ in contact_links:
        contacts_of.setdefault(company_id, []).append(contact_id)
    sales, sale_links = _sales(seed, meta, contacts_of, names)
    rng = make_rng(seed, "atlas", "partners")
    pairs: list[tuple[str, str, list[str]]] = []
    seen: set[frozenset[str]] = set()
    while len(pairs) < PARTNER_LINK_COUNT:
        a, b = pick(rng, meta)["id"], pick(rng, meta)["id"]
        if a == b or frozenset((a, b)) in seen:
            continue
        seen.add(frozenset((a, b)))
        pairs.append((a, b, ["partner"]))
    types = {row["id"]: row["type"] for table in (companies, contacts, sales) for row in table}
    links: list[Record] = []
    for a, b, roles in contact_links + sale_links + pairs:
        links.append({"entity_id": a, "other_entity_id": b, "other_type": types[b], "roles": roles})
        links.append({"entity_id": b, "other_entity_id": a, "other_type": types[a], "roles": list(roles)})
    links.sort(key=itemgetter("entity_id", "other_entity_id"))
    return {"companies": _sort(companies, "company-name"), "contacts": _sort(contacts, "contact-name"),
            "sales": _sort(sales, "sale-name"), "links": links}


@lru_cache(maxsize=2)
def _world(seed: int) -> dict[str, list[Record]]:
    return build_world(seed)


def _table(name: str) -> Callable[[int, Lookup], list[Record]]:
    def generate(seed: int, lookup: Lookup) -> list[Record]:
        return _world(seed)[name]
    generate.__name__ = f"generate_{name}"
    generate.__doc__ = f"Generate the Atlas {name} table."
    return generate


#: Generators of this vendor, merged into :data:`crmql.sandbox.core.data.GENERATORS`.
GENERATORS: dict[tuple[str, str], Callable[[int, Lookup], list[Record]]] = {
    ("atlas", name): _table(name) for name in ("companies", "contacts", "sales", "links")
}
