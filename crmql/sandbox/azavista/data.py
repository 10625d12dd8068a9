"""Seeded generators of Azavista events, organizations and contacts.

Records are sparse like the real API: keys without a value are omitted,
never null, except the deprecated ``"external_id": null`` on organizations
and contacts.  Every table is sorted by ``(created_at, id)``.
"""

from __future__ import annotations

import logging
import random
from datetime import date, datetime, timedelta
from functools import lru_cache
from typing import Any, Callable
from zoneinfo import ZoneInfo

from .words import (
    CITIES, CURRENCY_BY_COUNTRY, EVENT_TYPES, FIRST_NAMES, FREE_MAIL, JOB_TITLES, LAST_NAMES,
    LEGAL_FORM, NAME_TEMPLATES, ORG_ROOTS, ORG_SECTORS, ORGANIZERS, PHONE_PREFIX, TLD_BY_COUNTRY,
    TOPICS, VENUE_TEMPLATES, WORKSHOP_LOWER_TEMPLATES, WORKSHOP_TEMPLATES,
)
from ..core.data_util import (
    UTC, WORLD_NOW, ObjectIdFactory, Weighted, created_updated, make_rng, pick, random_moment,
    slug, utc_ms,
)

logger = logging.getLogger(__name__)

Record = dict[str, Any]
Lookup = Callable[[str], list[Record]]

EVENT_COUNT = 2400
ORGANIZATION_COUNT = 500
CONTACT_COUNT = 10_000

_FIRST_DAY = date(2023, 1, 1)
_LAST_DAY = date(2026, 12, 31)
_CITY_CUM_WEIGHTS: list[float] = []
for _row in CITIES:
    _CITY_CUM_WEIGHTS.append((_CITY_CUM_WEIGHTS[-1] if _CITY_CUM_WEIGHTS else 0) + _row[4])
_EVENT_TYPE = Weighted(EVENT_TYPES)
_PAST_STATUS = Weighted({"completed": 85, "cancelled": 9, "published": 4, "draft": 2})
_FUTURE_STATUS = Weighted({"published": 62, "draft": 29, "cancelled": 8, "completed": 1})
_HOURS = {"webinar": (10, 11, 14, 15, 16, 17), "internal": (9, 10, 13, 17, 18),
          "sales": (8, 9, 12, 18, 19)}
_DEFAULT_HOURS = (8, 9, 9, 10, 13)
_CAPACITY = {"marketing": (50, 800), "sales": (15, 250), "internal": (20, 400),
             "webinar": (100, 1000), "conference": (200, 3000), "training": (8, 40),
             "partner": (30, 300)}
_PRICES = (25, 49, 95, 149.5, 199, 249, 349.99, 395, 495, 750, 1195)


@lru_cache(maxsize=None)
def _zone(name: str) -> ZoneInfo:
    return ZoneInfo(name)


def _city(rng: random.Random) -> tuple[str, str, str, str, float]:
    return rng.choices(CITIES, cum_weights=_CITY_CUM_WEIGHTS)[0]


def _sorted(rows: list[Record]) -> list[Record]:
    rows.sort(key=lambda r: (r["created_at"], r["id"]))
    return rows


def _event_name(rng: random.Random, event_type: str, city: str, start: datetime) -> str:
    roll = rng.random()
    if roll < 0.15:
        template = pick(rng, WORKSHOP_TEMPLATES)
    elif roll < 0.18:
        template = pick(rng, WORKSHOP_LOWER_TEMPLATES)
    else:
        template = pick(rng, NAME_TEMPLATES[event_type])
    return template.format(city=city, year=start.year, q=(start.month - 1) // 3 + 1,
                           topic=pick(rng, TOPICS), n=rng.randint(1, 3))


def _event_duration(rng: random.Random, event_type: str) -> timedelta:
    if event_type == "webinar":
        return timedelta(minutes=pick(rng, (45, 60, 60, 90)))
    if event_type == "conference":
        return timedelta(days=rng.randint(1, 3), hours=pick(rng, (0, 8)))
    if event_type in ("training", "partner") and rng.random() < 0.3:
        return timedelta(days=rng.randint(1, 2))
    return timedelta(hours=pick(rng, (1, 2, 3, 4, 6, 8)))


def _event_status(rng: random.Random, end: datetime) -> str:
    return (_PAST_STATUS if end < WORLD_NOW else _FUTURE_STATUS).pick(rng)


def _event(rng: random.Random, ids: ObjectIdFactory, index: int, event_type: str | None = None,
           stamp: datetime | None = None) -> Record:
    """One event: seeded history (``stamp`` None), or one created and updated at ``stamp``, starting
    1 to 26 weeks after it (:func:`new_events`)."""
    if event_type is None:
        event_type = _EVENT_TYPE.pick(rng)
    city, country, tz_name, local_lang, _ = _city(rng)
    is_virtual = event_type == "webinar" or rng.random() < 0.12
    if stamp is None:
        day = _FIRST_DAY + timedelta(days=rng.randint(0, (_LAST_DAY - _FIRST_DAY).days))
    else:
        day = stamp.date() + timedelta(days=rng.randint(7, 182))
    hour = pick(rng, _HOURS.get(event_type, _DEFAULT_HOURS))
    zone = _zone(tz_name)
    start = datetime(day.year, day.month, day.day, hour, pick(rng, (0, 0, 0, 15, 30, 45)),
                     tzinfo=zone)
    end = (start.astimezone(UTC) + _event_duration(rng, event_type)).astimezone(zone)
    start_utc = start.astimezone(UTC)
    status = _event_status(rng, end)
    if stamp is None:
        lead = timedelta(days=rng.uniform(10, 240))
        created = start_utc - lead
        if created > WORLD_NOW:
            created = random_moment(rng, WORLD_NOW - timedelta(days=200), WORLD_NOW)
        created = created.replace(microsecond=created.microsecond // 1000 * 1000)
        updated = created
        if rng.random() < 0.7:
            updated = random_moment(rng, created, min(WORLD_NOW, end + timedelta(days=14)))
    else:
        created = updated = stamp
    low, high = _CAPACITY[event_type]
    capacity = rng.randrange(low, high + 1, 5 if high > 100 else 1)
    fill = {"draft": 0.0, "cancelled": rng.random() * 0.5, "completed": rng.uniform(0.4, 1.0)}
    registered = int(capacity * fill.get(status, rng.uniform(0.0, 0.9)))
    rec: Record = {
        "id": ids.new(created), "created_at": utc_ms(created), "updated_at": utc_ms(updated),
        "name": _event_name(rng, event_type, city, start), "event_type": event_type,
        "status": status, "start": start.isoformat(), "end": end.isoformat(),
        "timezone": tz_name, "is_virtual": is_virtual,
    }
    if not is_virtual:
        rec["venue_name"] = pick(rng, VENUE_TEMPLATES).format(city=city)
        rec["city"] = city
        rec["country"] = country
    rec["capacity"] = capacity
    rec["registered_count"] = registered
    priced = event_type != "internal" and rng.random() < (0.1 if event_type == "webinar" else 0.55)
    if priced:
        rec["price"] = pick(rng, _PRICES)
        rec["currency"] = CURRENCY_BY_COUNTRY.get(country, "EUR")
    rec["language"] = local_lang if rng.random() < 0.55 else "en"
    rec["organizer_email"] = pick(rng, ORGANIZERS)
    if rng.random() < 0.2:
        rec["external_reference"] = f"EV-{start.year}-{index + 1:04d}"
    return rec


def generate_events(seed: int, lookup: Lookup | None = None, count: int = EVENT_COUNT) -> list[Record]:
    """Generate the events table: ``count`` events (the sandbox's 2,400 unless
    ``CRMQL_SANDBOX_AZAVISTA_EVENTS`` says otherwise), the same for the same seed and count."""
    rng = make_rng(seed, "azavista", "events")
    ids = ObjectIdFactory(rng)
    return _sorted([_event(rng, ids, index) for index in range(count)])


@lru_cache(maxsize=4)
def sized_events(seed: int, count: int) -> list[Record]:
    """:func:`generate_events` of ``count`` events, kept (read-only: do not mutate)."""
    return generate_events(seed, None, count)


class NewEvents:
    """Events created now, for a growing table (``AzavistaSimulator.add_events``): seeded, ids unique
    among themselves and against the seeded table (theirs embed the current time).

    >>> from datetime import datetime, timezone
    >>> made = NewEvents(42).make(2, datetime(2026, 12, 3, 22, 0, tzinfo=timezone.utc), "sales")
    >>> [(e["event_type"], e["created_at"], e["updated_at"]) for e in made][0]
    ('sales', '2026-12-03T22:00:00.000Z', '2026-12-03T22:00:00.000Z')
    >>> made[0]["id"] != made[1]["id"]
    True
    """

    def __init__(self, seed: int) -> None:
        self._rng = make_rng(seed, "azavista", "events", "added")
        self._ids = ObjectIdFactory(self._rng)
        self._made = 0

    def make(self, n: int, stamp: datetime, event_type: str | None = None) -> list[Record]:
        """``n`` new events created and updated at ``stamp`` (milliseconds kept, as the API shows)."""
        stamp = stamp.astimezone(UTC).replace(microsecond=stamp.microsecond // 1000 * 1000)
        made = [_event(self._rng, self._ids, EVENT_COUNT + self._made + i, event_type, stamp) for i in range(n)]
        self._made += n
        return made


def _org_name(rng: random.Random, country: str) -> tuple[str, str, str]:
    """Return (display name, base name used for the website, industry)."""
    root = pick(rng, ORG_ROOTS)
    sector = pick(rng, list(ORG_SECTORS))
    industry = ORG_SECTORS[sector]
    roll = rng.random()
    if roll < 0.15:
        base = f"{root} & {pick(rng, ORG_ROOTS)}"
    elif roll < 0.22:
        base = f"{root} Group"
    else:
        base = f"{root} {sector}"
    name = f"{base} {LEGAL_FORM[country]}" if rng.random() < 0.35 else base
    return name, base, industry


def generate_organizations(seed: int, lookup: Lookup) -> list[Record]:
    """Generate the organizations table (unique names)."""
    rng = make_rng(seed, "azavista", "organizations")
    ids = ObjectIdFactory(rng)
    seen: set[str] = set()
    rows: list[Record] = []
    ref_counter = 0
    while len(rows) < ORGANIZATION_COUNT:
        city, country, _, _, _ = _city(rng)
        name, base, industry = _org_name(rng, country)
        key = slug(base)
        if key in seen:
            continue
        seen.add(key)
        created, updated = created_updated(rng, datetime(2018, 1, 1, tzinfo=UTC),
                                           datetime(2025, 9, 30, tzinfo=UTC))
        rec: Record = {"id": ids.new(created), "external_id": None,
                       "created_at": utc_ms(created), "updated_at": utc_ms(updated),
                       "name": name}
        if rng.random() < 0.3:
            ref_counter += 1
            rec["external_reference"] = f"A{ref_counter:04d}"
        rec["industry"] = industry
        rec["country"] = country
        rec["city"] = city
        rec["website"] = f"https://www.{slug(base, '-')}.{TLD_BY_COUNTRY.get(country, 'com')}"
        rec["employee_count"] = min(250_000, int(rng.lognormvariate(4.0, 1.7)) + 1)
        rows.append(rec)
    return _sorted(rows)


def _email(rng: random.Random, first: str, last: str, domain: str) -> str:
    f, l = slug(first), slug(last)
    roll = rng.random()
    if roll < 0.57:
        local = f"{f}.{l}"
    elif roll < 0.76:
        local = f"{f[0]}.{l}"
    elif roll < 0.86:
        local = f"{f}{l}"
    elif roll < 0.96:
        local = f"{f}_{l}"
    else:
        local = f
    if rng.random() < 0.08:  # mixed case, as typed by people
        local = ".".join(part.capitalize() for part in local.split("."))
        domain = domain.capitalize()
    return f"{local}@{domain}"


def generate_contacts(seed: int, lookup: Lookup) -> list[Record]:
    """Generate the contacts table (organization_id refers to existing organizations)."""
    rng = make_rng(seed, "azavista", "contacts")
    ids = ObjectIdFactory(rng)
    orgs = lookup("organizations")
    langs = {row[1]: row[3] for row in CITIES}
    org_created = {o["id"]: datetime.fromisoformat(o["created_at"]) for o in orgs}
    used_emails: set[str] = set()
    rows: list[Record] = []
    for index in range(CONTACT_COUNT):
        org = pick(rng, orgs) if rng.random() >= 0.05 else None
        if org is not None and rng.random() < 0.75:
            city, country = org["city"], org["country"]
        else:
            city, country, _, _, _ = _city(rng)
        lang = langs[country] if rng.random() < 0.75 else pick(rng, ("en", "nl", "de", "fr"))
        first, last = pick(rng, FIRST_NAMES[lang]), pick(rng, LAST_NAMES[lang])
        domain = org["website"].split("www.", 1)[1] if org else pick(rng, FREE_MAIL)
        email = _email(rng, first, last, domain)
        while email.lower() in used_emails:
            local, _, dom = email.partition("@")
            email = f"{local}{rng.randint(1, 99)}@{dom}"
        used_emails.add(email.lower())
        low = org_created[org["id"]] if org else datetime(2018, 1, 1, tzinfo=UTC)
        created, updated = created_updated(rng, low, datetime(2025, 11, 1, tzinfo=UTC))
        rec: Record = {"id": ids.new(created), "external_id": None,
                       "created_at": utc_ms(created), "updated_at": utc_ms(updated),
                       "first_name": first, "last_name": last, "email": email,
                       "organization_manager": org is not None and rng.random() < 0.105}
        if org is not None:
            rec["organization_id"] = org["id"]
        if rng.random() < 0.6:
            rec["job_title"] = pick(rng, JOB_TITLES)
        if rng.random() < 0.5:
            rec["phone"] = f"{PHONE_PREFIX[country]} {int(rng.random() * 90_000_000) + 10_000_000:,}".replace(",", " ")
        if rng.random() < 0.93:
            rec["country"] = country
            rec["city"] = city
        rec["language"] = lang
        if rng.random() < 0.15:
            rec["external_reference"] = f"C{index + 1:06d}"
        rows.append(rec)
    return _sorted(rows)


#: Generators of this vendor, merged into :data:`crmql.sandbox.core.data.GENERATORS`.
GENERATORS: dict[tuple[str, str], Callable[[int, Lookup], list[Record]]] = {
    ("azavista", "events"): generate_events,
    ("azavista", "organizations"): generate_organizations,
    ("azavista", "contacts"): generate_contacts,
}
