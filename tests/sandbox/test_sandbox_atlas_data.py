"""Seeded Atlas data: counts, determinism, speed, template conformance, referential integrity, realism."""

from __future__ import annotations

import re
import time
from collections import Counter, defaultdict

import pytest

from crmql.sandbox.core import data
from crmql.sandbox import records
from crmql.sandbox.atlas.filter import parse_date, parse_timestamp
from crmql.sandbox.atlas.template import build_templates
from crmql.sandbox.atlas.data import build_world
from test_sandbox_atlas_support import CF, COMPANIES, CONTACTS, LINKS, ROWS, SALES

UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")
UTC_MS = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$")
ACCOUNT = re.compile(r"^([0-9a-z]{24}|557058:[0-9a-f-]{36})$")
TEMPLATES = build_templates(42)


def test_counts_and_tables() -> None:
    assert (len(COMPANIES), len(CONTACTS), len(SALES)) == (1000, 5000, 3000)
    assert data.tables("atlas") == ["companies", "contacts", "links", "sales"]
    assert "atlas" in data.vendors()


def test_deterministic_for_a_seed() -> None:
    fresh = build_world(42)  # records() was generated earlier, separately
    for table in ("companies", "contacts", "sales", "links"):
        assert fresh[table] == records("atlas", table)
    other = build_world(7)
    assert other["companies"] != fresh["companies"] and other["links"] != fresh["links"]


def test_generation_is_fast() -> None:
    start = time.process_time()  # CPU time: other processes on a loaded machine do not count
    build_world(1234)
    elapsed = time.process_time() - start
    # Typically 0.3-0.7 s of CPU.
    assert elapsed < 2.0, elapsed


@pytest.mark.parametrize("entity_type", ["company", "contact", "sale"])
def test_records_conform_to_the_template(entity_type: str) -> None:
    template = TEMPLATES[entity_type]
    types = template.field_types()
    rows = ROWS[entity_type]
    name = f"{entity_type}-name"
    assert [(r["fields"][name], r["id"]) for r in rows] == sorted((r["fields"][name], r["id"]) for r in rows)
    assert len({r["id"] for r in rows}) == len(rows)
    seen: Counter[str] = Counter()
    for r in rows:
        assert set(r) == {"id", "type", "fields", "_links"} and r["type"] == entity_type
        assert UUID.match(r["id"])
        assert r["_links"]["self"]["href"] == f"/api/1.0/workspace/CRM/entities/{r['id']}"
        assert r["_links"]["app"]["href"].startswith("https://")
        for field_id, value in r["fields"].items():
            seen[field_id] += 1
            ftype = types[field_id]
            assert value is not None
            if ftype in ("string", "text"):
                assert isinstance(value, str) and value
            elif ftype == "date":
                assert parse_date(value) is not None
            elif ftype == "timestamp":
                assert UTC_MS.match(value) and parse_timestamp(value) is not None
            elif ftype == "decimal":
                assert isinstance(value, (int, float)) and not isinstance(value, bool)
            elif ftype == "user":
                assert ACCOUNT.match(value), value
            elif ftype == "single-select":
                assert value in template.options(field_id)
            else:
                assert isinstance(value, list) and value and len(set(value)) == len(value)
                assert set(value) <= set(template.options(field_id))
    # every field of the template has values, and the optional ones are sparse
    for field_id in types:
        share = seen[field_id] / len(rows)
        assert share > 0.05, (field_id, share)
        if field_id in (name, f"{entity_type}-created", "sale-status"):
            assert share == 1
    assert any(share < 0.5 for share in (seen[f] / len(rows) for f in types))


def test_links_are_symmetric_and_consistent() -> None:
    types = {r["id"]: r["type"] for rows in ROWS.values() for r in rows}
    pairs = {(r["entity_id"], r["other_entity_id"]): r for r in LINKS}
    assert len(pairs) == len(LINKS)
    for row in LINKS:
        assert set(row) == {"entity_id", "other_entity_id", "other_type", "roles"}
        assert row["entity_id"] in types and row["other_entity_id"] in types
        assert row["other_type"] == types[row["other_entity_id"]]
        mirror = pairs[(row["other_entity_id"], row["entity_id"])]
        assert mirror["roles"] == row["roles"] and mirror["other_type"] == types[row["entity_id"]]
        assert row["roles"] and all(isinstance(role, str) for role in row["roles"])
    assert [(r["entity_id"], r["other_entity_id"]) for r in LINKS] == sorted(pairs)


def test_every_contact_and_sale_has_one_company() -> None:
    companies: dict[str, list[str]] = defaultdict(list)
    contacts_of_sale: dict[str, list[str]] = defaultdict(list)
    company_ids = {c["id"] for c in COMPANIES}
    sale_ids = {s["id"] for s in SALES}
    for row in LINKS:
        if row["other_type"] == "company" and row["entity_id"] not in company_ids:
            companies[row["entity_id"]].append(row["other_entity_id"])
        if row["entity_id"] in sale_ids and row["other_type"] == "contact":
            contacts_of_sale[row["entity_id"]].append(row["other_entity_id"])
    assert set(companies) == {r["id"] for r in CONTACTS + SALES}
    for r in CONTACTS + SALES:
        assert len(companies[r["id"]]) == 1, r["id"]
    roles = Counter(role for row in LINKS for role in row["roles"])
    assert {"employee", "decision-maker", "customer", "champion", "partner"} <= set(roles)
    assert 0.2 < len(contacts_of_sale) / len(SALES) < 0.5
    for sale_id, contact_ids in contacts_of_sale.items():  # the contacts work for the sale's company
        assert all(companies[c] == companies[sale_id] for c in contact_ids)
    partners = [r for r in LINKS if r["entity_id"] in company_ids and r["other_type"] == "company"]
    assert partners and all(r["roles"] == ["partner"] for r in partners)


def test_values_are_realistic() -> None:
    sale_fields = [r["fields"] for r in SALES]
    assert {f["sale-status"] for f in sale_fields} == {"open", "won", "lost"}
    balances = [f["sale-balance"] for f in sale_fields if "sale-balance" in f]
    assert min(balances) == 0 and max(balances) <= 250_000
    assert any(isinstance(b, float) and b != int(b) for b in balances)
    assert {f.get("sale-currency") for f in sale_fields} == {"EUR", "USD", "GBP", None}
    dates = [f["sale-close-date"] for f in sale_fields if "sale-close-date" in f]
    assert min(dates) >= "2023-01-01" and max(dates) <= "2026-12-31"
    assert {d[:4] for d in dates} == {"2023", "2024", "2025", "2026"}
    assert all(0 <= f.get("sale-probability", 0) <= 100 for f in sale_fields)
    assert all(f.get("sale-probability") in (None, 100) for f in sale_fields if f["sale-status"] == "won")
    owners = {f[k] for rows in ROWS.values() for f in (r["fields"] for r in rows)
              for k in f if k.endswith("-owner")}
    assert len(owners) == 8 and all(ACCOUNT.match(o) for o in owners)
    assert any(not r["fields"]["contact-name"].isascii() for r in CONTACTS)
    assert any(not r["fields"]["company-name"].isascii() for r in COMPANIES)
    emails = [r["fields"]["contact-email"] for r in CONTACTS if "contact-email" in r["fields"]]
    assert any(e != e.lower() for e in emails)
    assert len({e.lower() for e in emails}) == len(emails)
    loss = CF["sale"]["loss_reason"]
    assert all(f["sale-status"] == "lost" for f in sale_fields if loss in f)
    assert len({r["fields"]["company-name"] for r in COMPANIES}) == len(COMPANIES)
