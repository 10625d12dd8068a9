"""casavi properties and their units, as the Manager API serves them (before contracts).

A property is a WEG (owners' association), a rental block (``MFH``), a residential and commercial
building (``WGH``) or a large estate (``Anlage``); its units are apartments (``W01``...), commercial
units (``G01``...), parking spaces (``S01``...) and storage rooms (``K01``...), ids
``<propertyId>-<code>`` (e.g. ``P-00451-W03``). The unit fields beyond ``id``, ``internalId`` and
``propertyId`` are INFERRED (vendor-notes section 4: "Fields unknown beyond ids"): ``name``,
``number``, ``floor`` (0 = ground floor, negative = basement), ``area`` (m²), ``type``.

>>> from crmql.sandbox.core.data_util import make_rng
>>> props = build_properties(make_rng(1, "doc"), 3)
>>> [u["_kind"] for u in props[0]["_units"]][:1], props[0]["country"]
(['APARTMENT'], 'Deutschland')
"""

from __future__ import annotations

import logging
import random
from typing import Any

from ..core.data_util import pick
from .people import City, postal_code, put
from .words import CITIES, HEATING, LAST_NAMES, MSC_PROVIDERS, PARKS, PROPERTY_NAMES, PROPERTY_NOTES, QUARTERS, STREETS

__all__ = ["APP", "KINDS", "build_properties", "pick_city"]

logger = logging.getLogger(__name__)

Record = dict[str, Any]
APP = "https://app.mycasavi.com/manager"
#: property kind -> (weight, apartments low, high, commercial low, high)
KINDS: dict[str, tuple[float, int, int, int, int]] = {
    "WEG": (45, 3, 16, 0, 1), "MFH": (35, 4, 20, 0, 0), "WGH": (15, 3, 10, 1, 3), "Anlage": (5, 20, 50, 0, 2),
}
_CITY_CUM: list[float] = []
for _c in CITIES:
    _CITY_CUM.append((_CITY_CUM[-1] if _CITY_CUM else 0) + _c[3])
_KIND_NAMES = list(KINDS)
_KIND_CUM: list[float] = []
for _k in KINDS.values():
    _KIND_CUM.append((_KIND_CUM[-1] if _KIND_CUM else 0) + _k[0])
#: euros per m² cold rent by city (rough)
_RENT = {"München": 21.5, "Frankfurt am Main": 17.0, "Hamburg": 15.8, "Berlin": 15.2, "Stuttgart": 15.5,
         "Köln": 14.1, "Düsseldorf": 13.7, "Freiburg im Breisgau": 14.0}
_UNIT_NAMES = {"APARTMENT": "Wohnung", "COMMERCIAL": "Gewerbeeinheit", "PARKING": "Stellplatz", "STORAGE": "Kellerraum"}
_UNIT_CODES = {"APARTMENT": "W", "COMMERCIAL": "G", "PARKING": "S", "STORAGE": "K"}


def pick_city(rng: random.Random) -> City:
    """A city, weighted by size."""
    return rng.choices(CITIES, cum_weights=_CITY_CUM)[0]


def _name(rng: random.Random, street: str, no: str) -> str:
    template = pick(rng, PROPERTY_NAMES)
    return template.format(street=street, no=no, quarter=pick(rng, QUARTERS), park=pick(rng, PARKS),
                           last=pick(rng, LAST_NAMES))


def _units(rng: random.Random, kind: str, city: City) -> list[Record]:
    _, low, high, c_low, c_high = KINDS[kind]
    kinds = ["COMMERCIAL"] * rng.randint(c_low, c_high) + ["APARTMENT"] * rng.randint(low, high)
    if rng.random() < 0.5:
        kinds += ["PARKING"] * rng.randint(1, max(2, len(kinds) // 2))
    if rng.random() < 0.12:
        kinds += ["STORAGE"] * rng.randint(1, 4)
    per_floor = rng.randint(2, 4)
    counters: dict[str, int] = {}
    units: list[Record] = []
    lived = 0
    underground = rng.random() < 0.6
    rent = _RENT.get(city[0], 11.5)
    for unit_kind in kinds:
        n = counters[unit_kind] = counters.get(unit_kind, 0) + 1
        if unit_kind in ("APARTMENT", "COMMERCIAL"):
            floor = 0 if unit_kind == "COMMERCIAL" else lived // per_floor + (1 if c_high and "COMMERCIAL" in kinds else 0)
            lived += unit_kind == "APARTMENT"
            area = round(rng.uniform(28, 140) if unit_kind == "APARTMENT" else rng.uniform(60, 400), 2)
        elif unit_kind == "PARKING":
            floor, area = (-1 if underground else 0), 12.5
        else:
            floor, area = -1, round(rng.uniform(4, 15), 1)
        code = f"{_UNIT_CODES[unit_kind]}{n:02d}"
        unit: Record = {"_kind": unit_kind, "_code": code, "name": f"{_UNIT_NAMES[unit_kind]} {n}"}
        custom: Record = {}
        if unit_kind in ("APARTMENT", "COMMERCIAL") and rng.random() < 0.7:
            custom["Kaltmiete"] = round(area * rent * rng.uniform(0.8, 1.2), 2)
        if unit_kind == "APARTMENT" and rng.random() < 0.6:
            custom["Balkon"] = rng.random() < 0.65
        unit["_fields"] = {"number": code if rng.random() < 0.9 else None, "floor": floor,
                           "area": area if rng.random() < 0.96 else None, "type": unit_kind}
        unit["customFields"] = custom
        units.append(unit)
    return units


def build_properties(rng: random.Random, count: int) -> list[Record]:
    """``count`` properties (ids and links are set by the caller); each keeps its units under
    ``_units`` and its kind and city under ``_kind``/``_city`` (internal, never served)."""
    props: list[Record] = []
    for _ in range(count):
        city = pick_city(rng)
        kind = rng.choices(_KIND_NAMES, cum_weights=_KIND_CUM)[0]
        street, no = pick(rng, STREETS), str(rng.randint(1, 120)) + ("a" if rng.random() < 0.08 else "")
        plz = postal_code(rng, city)
        rec: Record = {"_kind": kind, "_city": city, "_street": f"{street} {no}"}
        rec["name"] = _name(rng, street, no)
        put(rec, "note", pick(rng, PROPERTY_NOTES) if rng.random() < 0.15 else None, rng)
        rec["country"] = "Deutschland"
        rec["city"] = city[0]
        rec["postalCode"] = plz
        msc = pick(rng, MSC_PROVIDERS) if rng.random() < 0.65 else None
        rec["_msc"] = msc
        addresses = [{"street": f"{street} {no}", "postalCode": plz, "city": city[0]}]
        if rng.random() < 0.12:  # a corner building
            addresses.append({"street": f"{pick(rng, STREETS)} {rng.randint(1, 60)}", "postalCode": plz,
                              "city": city[0]})
        rec["addresses"] = addresses
        rec["images"] = [f"https://files.mycasavi.com/images/{rng.getrandbits(64):016x}.jpg"
                         for _ in range(pick(rng, (0, 0, 1, 1, 2, 3)))]
        custom: Record = {}
        if rng.random() < 0.8:
            custom["Baujahr"] = rng.choice((rng.randint(1890, 1939), rng.randint(1950, 2024)))
        if rng.random() < 0.7:
            custom["Heizungsart"] = pick(rng, HEATING)
        if rng.random() < 0.4:
            custom["Denkmalschutz"] = custom.get("Baujahr", 2000) < 1930 and rng.random() < 0.5
        if rng.random() < 0.5:
            custom["Letzte Begehung"] = f"{rng.randint(2023, 2026)}-{rng.randint(1, 11):02d}-{rng.randint(1, 28):02d}" \
                                        f"T{rng.randint(7, 16):02d}:{pick(rng, ('00', '15', '30', '45'))}:00.000Z"
        rec["customFields"] = custom
        rec["_units"] = _units(rng, kind, city)
        if rng.random() < 0.6:
            area = sum(u["_fields"]["area"] or 0 for u in rec["_units"] if u["_kind"] == "APARTMENT")
            custom["Wohnfläche"] = round(area + 0.1, 1) if area else 85.1
        props.append(rec)
    return props
