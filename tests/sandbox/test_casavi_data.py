"""The casavi simulator's seeded data: determinism, sizes, foreign keys, the contract seen
from both sides, what is served (no internal key; ``crmql sandbox dump``), custom fields and
their types, sparse values, arbitrary ids, list order and realism."""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Iterator
from datetime import date, datetime, timezone

import pytest

from crmql.sandbox import records
from crmql.sandbox.casavi.data import served_table
from crmql.sandbox.casavi.world import (
    RARE_FIELD, SPECIAL_CONTACT_IDS, SPECIAL_PROPERTY_IDS, TODAY, _build, is_active, world,
)
from crmql.surfaces.cli import main
from casavi_support import OTHER_SEED, casavi_registered

UTC_MS = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$")
DAY = re.compile(r"^\d{4}-\d{2}-\d{2}T00:00:00\.000Z$")
CONTACT_FIELDS = ["id", "internalId", "title", "salutation", "firstName", "lastName", "companyName", "companyRole",
                  "email", "telephone", "mobile", "fax", "website", "street", "postalCode", "city", "country", "note",
                  "preferredWayOfContact", "isRegistered", "isInvited", "appLink", "customFields", "contracts"]
PROPERTY_FIELDS = ["id", "internalId", "name", "note", "country", "city", "postalCode", "number", "mscNumber",
                   "mscProviderName", "mscProviderIdentifier", "images", "addresses", "units", "responsibilities",
                   "customFields", "appLink"]
UNIT_FIELDS = ["id", "internalId", "propertyId", "name", "number", "floor", "area", "type", "appLink", "customFields",
               "contracts"]


@pytest.fixture(scope="module", autouse=True)
def _casavi() -> Iterator[None]:
    with casavi_registered():
        yield


def test_the_world_is_deterministic_for_a_seed() -> None:
    """Two builds of one seed are equal (one of them the cached world a server of that seed
    serves), another seed's world differs. (No CPU-time bound: a timing assert flakes under load
    or coverage; the suite's durations show the build's cost.)"""
    first, again = world(OTHER_SEED), _build(OTHER_SEED)
    assert first is not again
    assert (first.contacts, first.properties, first.units) == (again.contacts, again.properties, again.units)
    assert world(42).contacts != first.contacts
    for table in ("contacts", "properties", "units"):
        assert records("casavi", table, 42) == served_table(42, table)


def test_sizes_and_list_order() -> None:
    contacts, properties, units = (records("casavi", t) for t in ("contacts", "properties", "units"))
    assert len(properties) == 300 and 3500 < len(units) < 4600 and 5500 < len(contacts) < 6800
    for rows in (contacts, properties, units):
        internal = [r["internalId"] for r in rows]
        assert internal == sorted(internal) and len(set(internal)) == len(rows)  # list order: internalId ascending
        assert len({r["id"] for r in rows}) == len(rows) and not any("/" in r["id"] for r in rows)


def test_served_records_have_the_api_fields_only_and_dump_prints_them(capsys: pytest.CaptureFixture[str]) -> None:
    for table, fields in (("contacts", CONTACT_FIELDS), ("properties", PROPERTY_FIELDS), ("units", UNIT_FIELDS)):
        for row in records("casavi", table):
            assert [k for k in row if k not in fields] == [], row
            assert [k for k in fields if k in row] == [k for k in row]  # the API's field order
    assert main(["sandbox", "dump", "casavi.properties"]) == 0
    dumped = json.loads(capsys.readouterr().out)
    assert dumped == json.loads(json.dumps(records("casavi", "properties")))
    assert main(["sandbox", "dump", "casavi.units"]) == 0
    assert "_allContracts" not in capsys.readouterr().out


def test_foreign_keys_and_contracts_seen_from_both_sides() -> None:
    contacts = {c["id"]: c for c in records("casavi", "contacts")}
    properties = {p["id"]: p for p in records("casavi", "properties")}
    units = {u["id"]: u for u in records("casavi", "units")}
    assert sorted(u for p in properties.values() for u in p["units"]) == sorted(units)
    assert all(u["id"] in properties[u["propertyId"]]["units"] for u in units.values())
    for p in properties.values():
        for duty in p["responsibilities"]:
            assert contacts[duty["contactId"]]["internalId"] == duty["contactInternalId"]
            assert duty["roleType"] in ("internal", "external") and duty["contactName"] and duty["roleName"]
    from_contacts = Counter((c["id"], k["unitId"], k["propertyId"], k["type"], k["startDate"], k["endDate"])
                            for c in contacts.values() for k in c["contracts"])
    every = {u["id"]: u for u in served_table(42, "units", include_inactive=True)}
    from_units = Counter((k["contactId"], u["id"], u["propertyId"], k["type"], k["startDate"], k["endDate"])
                         for u in every.values() for k in u["contracts"])
    assert from_contacts == from_units and len(from_contacts) > 8000
    assert all(is_active(k["endDate"]) for u in units.values() for k in u["contracts"])
    assert sum(len(u["contracts"]) for u in units.values()) == sum(1 for k in from_units if is_active(k[5]))


def test_contracts_are_realistic() -> None:
    contracts = [k for c in records("casavi", "contacts") for k in c["contracts"]]
    assert {k["type"] for k in contracts} == {"OWNER", "RENTER"}
    assert all(DAY.match(k["startDate"]) and (k["endDate"] is None or DAY.match(k["endDate"])) for k in contracts)
    assert all(k["endDate"] is None or k["endDate"] > k["startDate"] for k in contracts)
    ends = Counter("open" if k["endDate"] is None else "active" if is_active(k["endDate"]) else "ended"
                   for k in contracts)
    assert ends["open"] > 3000 and ends["ended"] > 2000 and ends["active"] > 50
    ending_2026 = [k for k in contracts if k["type"] == "RENTER" and (k["endDate"] or "").startswith("2026")]
    assert len(ending_2026) > 50 and any(is_active(k["endDate"]) for k in ending_2026) \
        and any(not is_active(k["endDate"]) for k in ending_2026)
    assert TODAY == date(2026, 12, 1)


def test_custom_fields_their_types_and_the_rare_one() -> None:
    contacts = records("casavi", "contacts")
    types = {"contacts": {"Email2": str, "Anschrift": str, "Kundennummer": str, "Newsletter": bool,
                          "Geburtsdatum": str, RARE_FIELD: bool},
             "properties": {"Baujahr": int, "Wohnfläche": float, "Heizungsart": str, "Denkmalschutz": bool,
                            "Letzte Begehung": str},
             "units": {"Kaltmiete": float, "Balkon": bool}}
    for table, fields in types.items():
        seen: Counter[str] = Counter()
        for row in records("casavi", table):
            for name, value in row["customFields"].items():
                assert type(value) is fields[name], (table, name, value)
                seen[name] += 1
        assert set(seen) == set(fields), (table, seen)
        assert all(0 < n < len(records("casavi", table)) for n in seen.values())  # sparse: never on every record
    assert all(date.fromisoformat(c["customFields"]["Geburtsdatum"]) for c in contacts if "Geburtsdatum" in c["customFields"])
    assert all(UTC_MS.match(p["customFields"]["Letzte Begehung"]) for p in records("casavi", "properties")
               if "Letzte Begehung" in p["customFields"])
    rare = [i for i, c in enumerate(contacts) if RARE_FIELD in c["customFields"]]
    assert 0.002 * len(contacts) <= len(rare) <= 0.005 * len(contacts) and min(rare) >= 100


def test_sparse_values_are_sometimes_absent_sometimes_null() -> None:
    for table, field in (("contacts", "email"), ("contacts", "title"), ("contacts", "companyName"),
                         ("properties", "mscNumber"), ("units", "number")):
        rows = records("casavi", table)
        absent = sum(field not in r for r in rows)
        null = sum(field in r and r[field] is None for r in rows)
        valued = sum(r.get(field) is not None for r in rows)
        assert absent and null and valued, (table, field, absent, null, valued)


def test_arbitrary_reference_ids_and_german_data() -> None:
    contacts, properties = records("casavi", "contacts"), records("casavi", "properties")
    ids = {c["id"] for c in contacts} | {p["id"] for p in properties}
    assert set(SPECIAL_CONTACT_IDS) | set(SPECIAL_PROPERTY_IDS) <= ids
    assert {ch for i in SPECIAL_CONTACT_IDS + SPECIAL_PROPERTY_IDS for ch in i} >= set(" #?%+ü")
    assert re.fullmatch(r"C-\d{6}", contacts[0]["id"]) and re.fullmatch(r"P-\d{5}", properties[0]["id"])
    units = records("casavi", "units")
    assert all(u["id"].startswith(u["propertyId"] + "-") for u in units)
    assert {"München", "Berlin", "Hamburg", "Dresden", "Leipzig"} <= {p["city"] for p in properties}
    assert all(re.fullmatch(r"\d{5}", p["postalCode"]) for p in properties)
    assert any(p["postalCode"].startswith("0") for p in properties)
    assert {u["type"] for u in units} == {"APARTMENT", "COMMERCIAL", "PARKING", "STORAGE"}
    assert any(u["floor"] < 0 for u in units if "floor" in u) and all(isinstance(u.get("area", 0.0), (float, type(None))) for u in units)
    names = " ".join(str(c.get("lastName") or "") + str(c.get("companyName") or "") for c in contacts)
    assert all(ch in names for ch in "äöüß")
    firms = [c for c in contacts if c["salutation"] == "Firma"]
    assert len(firms) > 100 and any(c.get("companyRole") for c in firms)
    assert Counter(c["salutation"] for c in contacts).keys() == {"Herr", "Frau", "Familie", "Firma"}
    assert {c["preferredWayOfContact"] for c in contacts if c.get("preferredWayOfContact")} == {"LETTER", "ONLINE"}
    assert Counter((c["isRegistered"], c["isInvited"]) for c in contacts).keys() == {(True, True), (True, False),
                                                                                   (False, True), (False, False)}


def test_internal_modification_times_span_2024_to_today() -> None:
    seeded = world(42)  # the cached world the served tables come from (read only)
    moments = [r["_modifiedAt"] for r in seeded.contacts + seeded.properties + seeded.units]
    assert min(moments) >= datetime(2024, 1, 1, tzinfo=timezone.utc)
    assert max(moments) < datetime(2026, 12, 1, tzinfo=timezone.utc)
    recent = sum(m >= datetime(2026, 11, 1, tzinfo=timezone.utc) for m in (r["_modifiedAt"] for r in seeded.contacts))
    assert 50 < recent < 1000  # "changed since 2026-11-01" finds some contacts, not all


def test_e_mails_write_umlauts_and_eszett_as_german_addresses_do() -> None:
    """``Günther`` -> ``guenther``, ``Weiß`` -> ``weiss`` (never ``gunther``, never non-ASCII), in
    the e-mail field, the ``Email2`` custom field and the company domains."""
    contacts = records("casavi", "contacts")
    mails = [c["email"] for c in contacts if c.get("email")] + \
        [c["customFields"]["Email2"] for c in contacts if "Email2" in c["customFields"]]
    assert len(mails) > 5000 and all(re.fullmatch(r"[a-z0-9.-]+@[a-z0-9.-]+\.[a-z]+", m) for m in mails)
    umlauts = str.maketrans({"ä": "ae", "ö": "oe", "ü": "ue", "ß": "ss"})
    german = re.compile(r"[A-Za-zäöüß]*[äöüß][A-Za-zäöüß]*")  # one word with an umlaut or ß
    named = [(c["lastName"], c["email"]) for c in contacts if c.get("email") and not c["email"].startswith("info@")
             and german.fullmatch(c.get("lastName") or "")]
    assert len(named) > 100 and all(last.lower().translate(umlauts) in mail for last, mail in named), named[:5]
    companies = [c for c in contacts if c.get("email") and german.search(c.get("companyName") or "")]
    assert any(re.search(r"(ae|oe|ue|ss)[a-z-]*\.de$", c["email"]) for c in companies)
