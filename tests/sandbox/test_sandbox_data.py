"""Seeded Azavista data: determinism, counts, referential integrity, realism."""

from __future__ import annotations

import re
import time
from collections import Counter
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from crmql.sandbox.core import data
from crmql.sandbox import records
from crmql.sandbox.azavista.simulator import FIELDS
from crmql.sandbox.azavista.data import GENERATORS

HEX24 = re.compile(r"^[0-9a-f]{24}$")
UTC_MS = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$")
OFFSET_DT = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}[+-]\d{2}:\d{2}$")


def _fresh(table: str, seed: int) -> list[dict]:
    """Generate without the cache."""
    def lookup(other: str) -> list[dict]:
        return GENERATORS[("azavista", other)](seed, lookup)
    return GENERATORS[("azavista", table)](seed, lookup)


def test_counts() -> None:
    assert len(records("azavista", "events")) >= 2000
    assert len(records("azavista", "organizations")) == 500
    assert len(records("azavista", "contacts")) == 10_000


@pytest.mark.parametrize("table", ["events", "organizations", "contacts"])
def test_deterministic_for_a_seed(table: str) -> None:
    assert _fresh(table, 7) == _fresh(table, 7)
    assert _fresh(table, 42) == records("azavista", table, 42)
    assert _fresh(table, 7) != _fresh(table, 8)


def test_generation_is_fast() -> None:
    start = time.process_time()  # CPU time: other processes on a loaded machine do not count
    for table in ("events", "organizations", "contacts"):
        _fresh(table, 1234)
    elapsed = time.process_time() - start
    # Typically 0.3-0.7 s of CPU.
    assert elapsed < 2.0, elapsed


def test_records_is_cached_and_returns_copies() -> None:
    first = records("azavista", "events")
    second = records("azavista", "events")
    assert first == second and first is not second
    assert first[0] is second[0]
    assert data.tables("azavista") == ["contacts", "events", "organizations"]
    with pytest.raises(KeyError):
        records("azavista", "nope")


@pytest.mark.parametrize("table", ["events", "organizations", "contacts"])
def test_ids_order_and_sparse_keys(table: str) -> None:
    rows = records("azavista", table)
    ids = [r["id"] for r in rows]
    assert all(HEX24.match(i) for i in ids)
    assert len(set(ids)) == len(ids)
    assert [(r["created_at"], r["id"]) for r in rows] == sorted((r["created_at"], r["id"]) for r in rows)
    for r in rows:
        assert set(r) <= set(FIELDS[table]), set(r) - set(FIELDS[table])
        for key, value in r.items():
            assert value is not None or key == "external_id"
        if table != "events":
            assert "external_id" in r and r["external_id"] is None
        assert UTC_MS.match(r["created_at"]) and UTC_MS.match(r["updated_at"])
        assert r["updated_at"] >= r["created_at"]


def test_events_are_realistic() -> None:
    events = records("azavista", "events")
    types = Counter(e["event_type"] for e in events)
    assert set(types) == {"marketing", "sales", "internal", "webinar", "conference", "training", "partner"}
    assert set(e["status"] for e in events) == {"draft", "published", "cancelled", "completed"}
    for e in events:
        assert OFFSET_DT.match(e["start"]) and OFFSET_DT.match(e["end"])
        start, end = datetime.fromisoformat(e["start"]), datetime.fromisoformat(e["end"])
        assert end > start
        assert "2023-01-01" <= e["start"][:10] <= "2026-12-31"
        assert start.utcoffset() == start.replace(tzinfo=ZoneInfo(e["timezone"])).utcoffset()
        assert datetime.fromisoformat(e["created_at"]) < start
        assert ("venue_name" in e) == ("city" in e) == ("country" in e) == (not e["is_virtual"])
        assert 0 <= e["registered_count"] <= e["capacity"]
        assert ("price" in e) == ("currency" in e)
        assert e.get("currency", "EUR") in {"EUR", "USD", "GBP"}
        assert e["language"] in {"en", "nl", "de", "fr"}
    workshop = sum("Workshop" in e["name"] for e in events) / len(events)
    assert 0.10 <= workshop <= 0.20
    assert any("workshop" in e["name"] for e in events)
    refs = sum("external_reference" in e for e in events) / len(events)
    assert 0.15 <= refs <= 0.25
    completed = [e for e in events if e["status"] == "completed"]
    past = sum(e["end"] < "2025-11-15" for e in completed) / len(completed)
    assert past > 0.95
    assert any(not e["name"].isascii() for e in events)


def test_organizations_are_realistic() -> None:
    orgs = records("azavista", "organizations")
    assert len({o["name"] for o in orgs}) == len(orgs)
    assert 0.2 <= sum("external_reference" in o for o in orgs) / len(orgs) <= 0.4
    assert any(not o["name"].isascii() for o in orgs)
    assert all(isinstance(o["employee_count"], int) and o["website"].startswith("https://") for o in orgs)


def test_contacts_reference_existing_organizations() -> None:
    org_ids = {o["id"] for o in records("azavista", "organizations")}
    contacts = records("azavista", "contacts")
    with_org = [c for c in contacts if "organization_id" in c]
    assert all(c["organization_id"] in org_ids for c in with_org)
    assert 0.02 <= 1 - len(with_org) / len(contacts) <= 0.08
    managers = sum(c["organization_manager"] for c in contacts) / len(contacts)
    assert 0.07 <= managers <= 0.13
    assert all(isinstance(c["organization_manager"], bool) for c in contacts)
    assert any(not (c["first_name"] + c["last_name"]).isascii() for c in contacts)
    assert any(c["email"] != c["email"].lower() for c in contacts)
    assert len({c["email"].lower() for c in contacts}) == len(contacts)
    for key in ("job_title", "phone", "external_reference"):
        share = sum(key in c for c in contacts) / len(contacts)
        assert 0.05 < share < 0.9, (key, share)
