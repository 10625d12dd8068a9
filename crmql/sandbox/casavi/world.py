"""The seeded casavi world: properties, units, contacts, their contracts and responsibilities.

One build per seed (:func:`world`, cached) makes the three API tables with consistent foreign
keys: every contract's ``propertyId``/``unitId`` exists, a unit's id is listed in its property's
``units``, every responsibility's ``contactId`` exists, and a contract is the same seen from the
contact (``contracts``: all, ended ones included) and from the unit (active ones, or all under
``includeInactiveContracts``). Active = no ``endDate`` or ``endDate`` >= :data:`TODAY`
(2026-12-01, fixed so the data never depends on the wall clock).

Records are in the INTERNAL form: the served fields plus ``_modifiedAt`` (a datetime, never
served: the API has no modification time, only the ``modifiedAfter`` filter), ``_roles`` on
contacts (``OWNER``/``RENTER`` from active contracts, ``SERVICE_PROVIDER`` when named in an
external responsibility) and ``_allContracts`` on units. :mod:`.data` strips every ``_`` key.

List order (CHOSEN: the docs show none): ``internalId`` ascending, the database's insertion order.
Contacts were imported in no particular order (shuffled), properties one by one, units with
their property. Ids are the customer's reference ids (``C-000312``, ``P-00451``, ``P-00451-W03``)
and a few arbitrary ones with spaces, umlauts, ``#``, ``?``, ``%`` and ``+`` (never ``/``).

>>> w = world(42)
>>> len(w.properties), len(w.units) > 3500, len(w.contacts) > 5000
(300, True, True)
"""

from __future__ import annotations

import logging
import random
import threading
from dataclasses import dataclass
from functools import lru_cache
from datetime import date, datetime, timedelta, timezone
from typing import Any

from ..core.data_util import make_rng, pick
from .people import display_name, mail_slug, person, postal_code, provider, put, rand_int
from .places import APP, build_properties, pick_city
from .words import CITIES, INTERNAL_ROLES, STREETS, TRADES

__all__ = ["TODAY", "World", "day_text", "is_active", "world"]

logger = logging.getLogger(__name__)

Record = dict[str, Any]
UTC = timezone.utc
#: the simulator's fixed "today": contracts ending before it are inactive
TODAY = date(2026, 12, 1)
PROPERTY_COUNT = 300
MODIFIED_FROM = datetime(2024, 1, 1, tzinfo=UTC)
MODIFIED_TO = datetime(2026, 12, 1, tzinfo=UTC) - timedelta(milliseconds=1)
SPECIAL_CONTACT_IDS = ("Müller Jörg", "K#1042", "Frage?12", "100% Eigentümer", "A+B Verwaltung", "Straße 5 #2?")
SPECIAL_PROPERTY_IDS = ("WEG Königsallee 12", "Haus #7", "Objekt 3?", "50% Anteil", "Höfe+Gärten")
RARE_FIELD = "Sonderkündigungsrecht"


@dataclass(frozen=True)
class World:
    """The three API tables of one seed, internal form, in list order."""

    seed: int
    contacts: list[Record]
    properties: list[Record]
    units: list[Record]

    def table(self, name: str) -> list[Record]:
        """``contacts``, ``properties`` or ``units`` (raises KeyError for another name)."""
        return {"contacts": self.contacts, "properties": self.properties, "units": self.units}[name]


@lru_cache(maxsize=8192)
def day_text(day: date | None) -> str | None:
    """A contract date as the API writes it: ``2026-03-31T00:00:00.000Z``."""
    return None if day is None else f"{day.isoformat()}T00:00:00.000Z"


def is_active(end: str | date | None, today: date = TODAY) -> bool:
    """Whether a contract ending at ``end`` (None: open-ended) is active on ``today``.

    >>> is_active(None), is_active("2026-12-01T00:00:00.000Z"), is_active("2026-11-30T00:00:00.000Z")
    (True, True, False)
    """
    if end is None:
        return True
    day = end if isinstance(end, date) else date.fromisoformat(str(end)[:10])
    return day >= today


def _month_end(day: date) -> date:
    nxt = date(day.year + (day.month == 12), day.month % 12 + 1, 1)
    return nxt - timedelta(days=1)


def _day(rng: random.Random, low: date, high: date) -> date:
    return low + timedelta(days=int(rng.random() * max(1, (high - low).days)))


class _Builder:
    def __init__(self, seed: int) -> None:
        self.rng = make_rng(seed, "casavi", "world")
        self.contacts: list[Record] = []
        self.contracts: list[Record] = []  # {contact, unit, prop, type, start, end}
        self.providers: dict[tuple[str, str], Record] = {}

    def contact(self, kind: str, prop: Record | None = None) -> Record:
        """A new contact living in ``prop`` (its city, street and postal code), or somewhere else."""
        rng = self.rng
        if prop is None:
            city, postal = pick_city(rng), None
            street = f"{pick(rng, STREETS)} {rand_int(rng, 1, 90)}" if rng.random() < 0.9 else None
        else:
            city, street, postal = prop["_city"], prop["_street"], prop["postalCode"]
        rec = person(rng, kind, city, street, postal)
        rec["_responsible"] = False
        self.contacts.append(rec)
        return rec

    def contract(self, contact: Record, unit: Record, prop: Record, kind: str, start: date, end: date | None) -> None:
        self.contracts.append({"contact": contact, "unit": unit, "prop": prop, "type": kind, "start": start, "end": end})

    def owners(self, prop: Record) -> None:
        rng, units = self.rng, prop["_units"]
        if prop["_kind"] != "WEG":  # one landlord owns every unit
            landlord, since = self.contact("landlord"), _day(rng, date(1985, 1, 1), date(2024, 6, 30))
            previous = self.contact("landlord") if rng.random() < 0.1 else None
            for unit in units:
                self.contract(landlord, unit, prop, "OWNER", since, None)
                if previous is not None:
                    self.contract(previous, unit, prop, "OWNER", since - timedelta(days=3650), since - timedelta(days=1))
            prop["_since"] = since
            return
        last: Record | None = None
        flats = [u for u in units if u["_kind"] in ("APARTMENT", "COMMERCIAL")]
        for unit in units:
            if unit["_kind"] in ("PARKING", "STORAGE") and flats:
                owner, since = pick(rng, flats)["_owner"]
            elif last is not None and rng.random() < 0.2:
                owner, since = last, _day(rng, date(1995, 1, 1), date(2025, 12, 31))
            else:
                here = rng.random() < 0.6
                owner = self.contact("owner", prop if here else None)
                since = _day(rng, date(1995, 1, 1), date(2026, 10, 31))
            last, unit["_owner"] = owner, (owner, since)
            self.contract(owner, unit, prop, "OWNER", since, None)
            if rng.random() < 0.2:
                seller = self.contact("owner")
                self.contract(seller, unit, prop, "OWNER", _day(rng, date(1980, 1, 1), since - timedelta(days=400)),
                              since - timedelta(days=1))
        prop["_since"] = date(2014, 1, 1)

    def renters(self, prop: Record) -> None:
        rng = self.rng
        rented = prop["_kind"] != "WEG"
        current: list[Record] = []
        for unit in prop["_units"]:
            if unit["_kind"] == "PARKING" and current and rng.random() < 0.7:  # a tenant's parking space
                tenant = pick(rng, current)
                start = _day(rng, tenant["_start"], min(TODAY, tenant["_start"] + timedelta(days=400)))
                self.contract(tenant, unit, prop, "RENTER", start, None)
                continue
            if unit["_kind"] == "STORAGE" or not (rented or rng.random() < 0.2):
                continue
            moment = max(prop["_since"], date(2017, 1, 1)) + timedelta(days=int(rng.random() * 400))
            while moment < TODAY:
                start = moment.replace(day=1)
                end = _month_end(start + timedelta(days=int(rng.expovariate(1 / 3400))))
                tenant = self.contact("renter", prop)
                tenant["_start"] = start
                if end >= TODAY:  # still living there; a few have given notice or a fixed term
                    self.contract(tenant, unit, prop, "RENTER", start, end if end < date(2028, 1, 1) and rng.random() < 0.25 else None)
                    current.append(tenant)
                    break
                self.contract(tenant, unit, prop, "RENTER", start, end)
                self._move_away(tenant)
                if rng.random() < 0.06:  # vacant since
                    break
                moment = end + timedelta(days=1 + rand_int(rng, 0, 75))

    def _move_away(self, tenant: Record) -> None:
        """A former tenant's address is their new one (or unknown)."""
        rng = self.rng
        city = pick_city(rng)
        for key in ("street", "postalCode", "city"):
            tenant.pop(key, None)
        if rng.random() < 0.6:
            tenant["street"] = f"{pick(rng, STREETS)} {rand_int(rng, 1, 90)}"
            tenant["postalCode"], tenant["city"] = postal_code(rng, city), city[0]
        tenant["country"] = "Deutschland" if rng.random() < 0.95 else pick(rng, ("Österreich", "Schweiz", "Spanien"))

    def responsibilities(self, prop: Record, staff: list[Record]) -> list[tuple[Record, str, str]]:
        rng, city = self.rng, prop["_city"]
        out = [(pick(rng, staff), INTERNAL_ROLES[0], "internal")]
        if rng.random() < 0.5:
            out.append((pick(rng, staff), pick(rng, INTERNAL_ROLES[1:]), "internal"))
        for trade, names in rng.sample(TRADES, rand_int(rng, 1, 4)):
            key = (city[0], trade)
            if key not in self.providers:
                company = pick(rng, names)
                self.providers[key] = rec = provider(rng, company, city, f"{pick(rng, STREETS)} {rand_int(rng, 1, 90)}")
                rec["_responsible"] = True
                self.contacts.append(rec)
            out.append((self.providers[key], trade, "external"))
        return out


_FROM_MS = int(MODIFIED_FROM.timestamp() * 1000)
_SPAN_MS = int((MODIFIED_TO - MODIFIED_FROM).total_seconds() * 1000)
_DAY_MS = 86_400_000
_EPOCH_DAY = date(1970, 1, 1).toordinal()
_FIRST_DAY, _LAST_DAY = MODIFIED_FROM.date().toordinal(), TODAY.toordinal()


def _modified(rng: random.Random, *events: date | None) -> datetime:
    """A modification time in 2024-01-01..2026-12-01 (ms precision), not before the record's last event."""
    moment = _FROM_MS + int(rng.random() * (_SPAN_MS + 1))
    days = [e.toordinal() for e in events if e is not None]
    latest = max((d for d in days if _FIRST_DAY <= d < _LAST_DAY), default=None)
    if latest is not None:
        floor = (latest - _EPOCH_DAY) * _DAY_MS
        moment = max(moment, min(_FROM_MS + _SPAN_MS, floor + int(rng.random() * 3 * _DAY_MS)))
    return MODIFIED_FROM + timedelta(milliseconds=moment - _FROM_MS)


def _contact_custom(rng: random.Random, rec: Record) -> Record:
    custom: Record = {}
    if rec["_contracts"] and rng.random() < 0.7:
        custom["Kundennummer"] = f"KD-{rec['internalId']}"
    if rng.random() < 0.05:
        custom["Email2"] = f"{mail_slug(rec.get('lastName') or 'kontakt')}.privat@web.de"
    if rec.get("salutation") == "Familie" and rng.random() < 0.5:
        last = rec.get("lastName") or "Mustermann"
        custom["Anschrift"] = f"{pick(rng, ('Max', 'Jörg', 'Ali', 'Peter'))} {last} und " \
                              f"{pick(rng, ('Maria', 'Anna', 'Jülide', 'Käthe'))} {last}"
    if rng.random() < 0.3:
        custom["Newsletter"] = rng.random() < 0.45
    if rec.get("salutation") in ("Herr", "Frau") and rng.random() < 0.25:
        custom["Geburtsdatum"] = _day(rng, date(1938, 1, 1), date(2005, 12, 31)).isoformat()
    return custom


def _build(seed: int) -> World:
    b = _Builder(seed)
    rng = b.rng
    props = build_properties(rng, PROPERTY_COUNT)
    office = {"_city": next(c for c in CITIES if c[0] == "München"), "_street": "Prinzregentenstraße 54",
              "postalCode": "80538"}
    staff = [b.contact("staff", office) for _ in range(8)]
    for prop in props:
        b.owners(prop)
        b.renters(prop)
    for _ in range(140):  # prospects, former board members: no contract
        b.contact(pick(rng, ("owner", "renter")))
    duties = [b.responsibilities(prop, staff) for prop in props]
    for c in b.contracts:
        c["contact"].setdefault("_contracts", []).append(c)
        c["unit"].setdefault("_contracts", []).append(c)
    # ids: contacts in import order (shuffled), properties and units in generation order
    rng.shuffle(b.contacts)
    special = {int(i * len(b.contacts) / len(SPECIAL_CONTACT_IDS)) + 7: s for i, s in enumerate(SPECIAL_CONTACT_IDS)}
    number, internal = 0, 1_000_000 + rand_int(rng, 0, 5000)
    for index, c in enumerate(b.contacts):
        number += 1 + (rng.random() < 0.1)
        internal += rand_int(rng, 1, 4)
        c["id"], c["internalId"] = special.get(index, f"C-{number:06d}"), internal
        c.setdefault("_contracts", [])
    rare = set(rng.sample(range(100, len(b.contacts)), max(1, round(len(b.contacts) * 0.003))))
    contacts = []
    for index, c in enumerate(b.contacts):
        custom = _contact_custom(rng, c)
        if index in rare:
            custom[RARE_FIELD] = rng.random() < 0.5
        contacts.append(c | {"customFields": custom})
    number, internal, unit_internal = 100, 200_000, 5_000_000
    special_props = {int(i * PROPERTY_COUNT / len(SPECIAL_PROPERTY_IDS)) + 11: s for i, s in enumerate(SPECIAL_PROPERTY_IDS)}
    for index, prop in enumerate(props):
        number += rand_int(rng, 1, 4)
        internal += rand_int(rng, 1, 9)
        prop["id"], prop["internalId"], prop["_number"] = special_props.get(index, f"P-{number:05d}"), internal, number
        for unit in prop["_units"]:
            unit_internal += rand_int(rng, 1, 3)
            unit["id"], unit["internalId"] = f"{prop['id']}-{unit['_code']}", unit_internal
    return World(seed, [_served_contact(rng, c) for c in contacts],
                 [_served_property(rng, p, d) for p, d in zip(props, duties)],
                 [_served_unit(rng, u, p) for p in props for u in p["_units"]])


_CONTACT_FIELDS = ("title", "salutation", "firstName", "lastName", "companyName", "companyRole", "email", "telephone",
                   "mobile", "fax", "website", "street", "postalCode", "city", "country", "note",
                   "preferredWayOfContact", "isRegistered", "isInvited")


def _served_contact(rng: random.Random, c: Record) -> Record:
    own = sorted(c["_contracts"], key=lambda k: (k["start"], k["unit"]["internalId"]))
    roles = {k["type"] for k in own if is_active(k["end"])}
    if c["_responsible"]:
        roles.add("SERVICE_PROVIDER")
    rec: Record = {"id": c["id"], "internalId": c["internalId"]}
    for key in _CONTACT_FIELDS:
        if key in c:
            rec[key] = c[key]
    rec["appLink"] = f"{APP}/contacts/{c['internalId']}"
    rec["customFields"] = c["customFields"]
    rec["contracts"] = [{"type": k["type"], "propertyId": k["prop"]["id"], "unitId": k["unit"]["id"],
                         "startDate": day_text(k["start"]), "endDate": day_text(k["end"])} for k in own]
    events = [e for k in own for e in (k["start"], k["end"])]
    rec["_modifiedAt"] = _modified(rng, *events)
    rec["_roles"] = frozenset(roles)
    return rec


def _served_property(rng: random.Random, p: Record, duties: list[tuple[Record, str, str]]) -> Record:
    rec: Record = {"id": p["id"], "internalId": p["internalId"], "name": p["name"]}
    if "note" in p:
        rec["note"] = p["note"]
    rec.update(country=p["country"], city=p["city"], postalCode=p["postalCode"])
    put(rec, "number", f"{p['_number']:04d}" if rng.random() < 0.9 else None, rng)
    msc = p["_msc"]
    put(rec, "mscNumber", f"{rand_int(rng, 1000, 9999)}-{rand_int(rng, 1000, 9999)}-{rand_int(rng, 10, 99)}" if msc else None, rng)
    put(rec, "mscProviderName", msc[0] if msc else None, rng)
    put(rec, "mscProviderIdentifier", msc[1] if msc else None, rng)
    rec.update(images=p["images"], addresses=p["addresses"], units=[u["id"] for u in p["_units"]])
    responsibilities = []
    for contact, role, role_type in duties:
        item: Record = {"contactId": contact["id"], "contactInternalId": contact["internalId"],
                        "contactName": display_name(contact), "roleName": role, "roleType": role_type}
        put(item, "email", contact.get("email"), rng)
        put(item, "telephone", contact.get("telephone"), rng)
        responsibilities.append(item)
    rec["responsibilities"] = responsibilities
    rec["customFields"] = p["customFields"]
    rec["appLink"] = f"{APP}/properties/{p['internalId']}"
    rec["_modifiedAt"] = _modified(rng)
    return rec


def _served_unit(rng: random.Random, u: Record, p: Record) -> Record:
    rec: Record = {"id": u["id"], "internalId": u["internalId"], "propertyId": p["id"], "name": u["name"]}
    for key, value in u["_fields"].items():
        put(rec, key, value, rng)
    rec["appLink"] = f"{APP}/units/{u['internalId']}"
    rec["customFields"] = u["customFields"]
    own = sorted(u.get("_contracts", []), key=lambda k: (k["start"], k["contact"]["internalId"]))
    every = [{"contactId": k["contact"]["id"], "type": k["type"], "startDate": day_text(k["start"]),
              "endDate": day_text(k["end"])} for k in own]
    rec["contracts"] = [k for k in every if is_active(k["endDate"])]
    rec["_allContracts"] = every
    rec["_modifiedAt"] = _modified(rng, *(e for k in own for e in (k["start"], k["end"])))
    return rec


_lock = threading.Lock()
_worlds: dict[int, World] = {}


def world(seed: int) -> World:
    """The world of ``seed`` (built once, then cached; the last few seeds are kept)."""
    with _lock:
        found = _worlds.get(seed)
        if found is None:
            found = _build(seed)
            if len(_worlds) >= 4:
                _worlds.pop(next(iter(_worlds)))
            _worlds[seed] = found
            logger.debug("casavi world of seed %d: %d contacts, %d properties, %d units", seed,
                         len(found.contacts), len(found.properties), len(found.units))
        return found
