"""The casavi Community simulator's seeded data: communities from the Manager sandbox's properties,
records in the contract's shapes, sizes, realistic German content, the focus communities (12, 15,
18: OPEN tickets and unread notifications in the last 7 days), ticket contacts from the Manager
contracts, determinism per seed, the server's seed, and ``crmql sandbox dump``."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import timedelta

import httpx
import pytest

from crmql.sandbox import SandboxServer
from crmql.sandbox.casavi.data import internal_records
from crmql.sandbox.casavi.world import TODAY as MANAGER_TODAY
from crmql.sandbox.casavi_community.data import GENERATORS, ticket_detail, tickets, units
from crmql.sandbox.casavi_community.feed import FEED_TABLES, faq, feed
from crmql.sandbox.casavi_community.world import FOCUS, STAFF_BASE, TODAY, world
from crmql.sandbox.core.data import records
from crmql.surfaces.cli import main
from casavi_community_support import UTC_MS, VENDOR, bearer

PERSON = {"id", "firstName", "lastName"}
OTHER_SEED = 7  # the casavi tests' other seed: its Manager world is built once per run


def since(days: int) -> str:
    """The data's "now" (the real date's 08:00 UTC) less ``days``, as the API writes times."""
    return (world(42).now - timedelta(days=days)).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def test_community_n_is_the_nth_manager_property_by_internal_id() -> None:
    props = sorted(internal_records("properties"), key=lambda p: p["internalId"])
    w = world(42)
    assert len(w.communities) == len(props) == 300
    for n in (1, 12, 300):
        assert w.community(n).ref == {"id": n, "name": props[n - 1]["name"], "referenceId": props[n - 1]["id"]}
        manager_units = {u["id"]: u for u in internal_records("units")}
        assert [u["referenceId"] for u in units(42, n)] == props[n - 1]["units"]
        assert all(u["id"] == manager_units[u["referenceId"]]["internalId"] for u in units(42, n))


def test_the_focus_communities_have_open_tickets_and_unread_notifications_this_week() -> None:
    assert TODAY == MANAGER_TODAY and TODAY.isoformat() == "2026-12-01"  # the Manager's; not this world's "now"
    for seed in (42, OTHER_SEED):
        w = world(seed)
        for n in FOCUS:
            assert any(t["status"] == "OPEN" and t["createdAt"] >= since(7) for t in w.tickets_of(n)), (seed, n)
            assert any(not r["read"] and r["createdAt"] >= since(7) for r in feed(w, "notifications", n)), (seed, n)


def test_ticket_shapes_and_values() -> None:
    everything = tickets(42)
    assert 3500 < len(everything) < 4800 and len({t["id"] for t in everything}) == len(everything)
    for t in everything[::97]:
        assert list(t) == ["id", "identifier", "referenceId", "title", "status", "statusText", "createdAt", "updatedAt",
                           "Community", "TicketType", "Unit", "Contact", "CreatedBy", "AssignedTo"]
        assert t["referenceId"] == f"T-{t['id']}" and UTC_MS.match(t["createdAt"]) and t["createdAt"] <= t["updatedAt"]
        assert t["status"] in ("OPEN", "IN_PROGRESS", "WAITING", "CLOSED") and 1 <= t["TicketType"]["id"] <= 6
        assert set(t["CreatedBy"]) == PERSON and (t["AssignedTo"] is None or t["AssignedTo"]["id"] >= STAFF_BASE)
        assert t["Unit"] is None or set(t["Unit"]) == {"id", "name", "referenceId"}
        assert t["Contact"] is None or set(t["Contact"]) == PERSON | {"referenceId"}
        d = ticket_detail(42, t["id"])
        assert d is not None and d["descriptionRendered"].startswith("<p>") and d["Sharings"] == {}
        assert all(set(c) == {"id", "text", "createdAt", "Author", "isPublic"} and
                   t["createdAt"] <= c["createdAt"] <= t["updatedAt"] for c in d["TicketComments"])
        assert all(set(a) == {"path", "name", "fileType", "fileSize"} for a in d["Attachments"])
        assert all(set(f) == {"id", "label", "value"} for f in d["customFields"])
        assert d["TicketRating"] is None or (t["status"] == "CLOSED" and 1 <= d["TicketRating"]["rating"] <= 5)
    assert everything[0]["createdAt"] >= since(3 * 366) and everything[-1]["createdAt"] <= since(0)
    assert {t["statusText"] for t in everything} == {"Offen", "In Bearbeitung", "Wartet auf Rückmeldung", "Erledigt"}


def test_a_tickets_contact_lives_in_its_unit_under_an_active_manager_contract() -> None:
    contacts = {c["id"]: c for c in internal_records("contacts")}
    manager_units = {u["id"]: u for u in internal_records("units")}
    checked = 0
    for t in tickets(42)[::11]:
        if t["Unit"] is None or t["Contact"] is None:
            continue
        contract_ids = {k["contactId"] for k in manager_units[t["Unit"]["referenceId"]]["contracts"]}
        assert t["Contact"]["referenceId"] in contract_ids
        assert contacts[t["Contact"]["referenceId"]]["internalId"] == t["Contact"]["id"]
        checked += 1
    assert checked > 100


def test_feed_shapes_sizes_and_unread_share() -> None:
    w = world(42)
    keys = {"appointments": ["id", "title", "description", "startDate", "endDate", "allDay", "location", "createdAt"],
            "posts": ["id", "title", "text", "createdAt", "pinned", "Author"],
            "important_contacts": ["id", "name", "category", "company", "phone", "email", "note"],
            "notifications": ["id", "type", "title", "text", "createdAt", "read", "readAt", "link", "objectId"],
            "activities": ["id", "type", "text", "createdAt", "Actor", "objectId"]}
    sizes = {"appointments": (2, 30), "posts": (3, 60), "important_contacts": (3, 8), "notifications": (10, 160),
             "activities": (20, 240)}
    for table in FEED_TABLES:
        ids: set[int] = set()
        for c in w.communities[::7]:
            rows = feed(w, table, c.id)
            assert sizes[table][0] <= len(rows) <= sizes[table][1], (table, c.id)
            assert all(list(r) == keys[table] for r in rows)
            ids |= {r["id"] for r in rows}
            assert all(UTC_MS.match(r["createdAt"]) and r["createdAt"] <= since(0) for r in rows if "createdAt" in r)
        assert len(ids) == sum(len(feed(w, table, c.id)) for c in w.communities[::7])
    notes = [r for c in w.communities for r in feed(w, "notifications", c.id)]
    assert [r["id"] for r in notes] == sorted(r["id"] for r in notes)  # ids follow createdAt in a community
    assert all(a["createdAt"] <= b["createdAt"] for c in w.communities[::9]
               for a, b in zip(feed(w, "notifications", c.id), feed(w, "notifications", c.id)[1:]))
    assert 0.3 < sum(not r["read"] for r in notes) / len(notes) < 0.5
    assert sum(r["createdAt"] >= since(120) for r in notes) / len(notes) > 0.7
    assert all((r["readAt"] is None) == (not r["read"]) and (r["readAt"] is None or r["readAt"] >= r["createdAt"])
               for r in notes)
    assert {r["type"] for r in notes} == {"TICKET", "DOCUMENT", "POST", "APPOINTMENT", "NEIGHBORHOOD", "CHAT"}
    assert any(a["startDate"] > since(0) for c in w.communities for a in feed(w, "appointments", c.id))
    assert sum(len(faq(w, c.id)["items"]) - 12 for c in w.communities) == len(faq(w, None)["items"]) - 12


def test_the_content_is_german_and_about_the_community() -> None:
    w = world(42)
    titles = {t["title"] for t in tickets(42)}
    assert {"Wasserschaden im Badezimmer", "Aufzug defekt", "Schlüssel verloren", "Frage zur Nebenkostenabrechnung",
            "Lärm in der Nacht"} <= titles
    appointments = {a["title"] for c in w.communities for a in feed(w, "appointments", c.id)}
    assert {"Eigentümerversammlung", "Heizungswartung", "Treppenhausreinigung", "Ablesung der Wasserzähler"} <= appointments
    categories = [r["category"] for r in feed(w, "important_contacts", 12)]
    assert categories[:2] == ["Hausverwaltung", "Notdienst"]
    own = {t["id"] for t in w.tickets_of(12)}
    assert all(r["objectId"] in own for r in feed(w, "notifications", 12) if r["type"] == "TICKET")


def test_the_data_is_deterministic_per_seed_and_the_server_serves_its_seed(server: SandboxServer) -> None:
    assert world(42) is world(42)
    first = [feed(world(42), t, 12) for t in FEED_TABLES]
    other = world(OTHER_SEED)
    assert [t["title"] for t in other.tickets[:50]] != [t["title"] for t in tickets(42)[:50]]
    assert [feed(world(42), t, 12) for t in FEED_TABLES] == first
    server.settings.seed = OTHER_SEED
    with httpx.Client(base_url=server.base_url(VENDOR), timeout=60) as client:
        served = client.get("/api/v1/tickets", params={"community_id": 12}, headers=bearer(client)).json()
    assert served == other.tickets_of(12)


def test_dump_prints_every_communitys_records_with_their_community_id(capsys: pytest.CaptureFixture[str]) -> None:
    assert {t for _, t in GENERATORS} == {"tickets", "ticket_details", "ticket_comments", "appointments", "posts",
                                          "important_contacts", "faq_articles", "notifications", "activities", "units",
                                          "unread_counts"}  # every table of the catalog
    assert main(["sandbox", "dump", "casavi_community.tickets"]) == 0
    dumped = json.loads(capsys.readouterr().out)
    assert dumped == [{**t, "community_id": t["Community"]["id"]} for t in tickets(42)]
    posts = records(VENDOR, "posts")
    assert posts[0] == {"community_id": 1, **feed(world(42), "posts", 1)[0]}
    assert {r["community_id"] for r in posts} == set(range(1, 301))
    comments = records(VENDOR, "ticket_comments")
    some = tickets(42)[5]
    assert [c for c in comments if c["ticket_id"] == some["id"]] == [
        {**c, "ticket_id": some["id"], "community_id": some["Community"]["id"]}
        for c in ticket_detail(42, some["id"])["TicketComments"]]
    faq_rows = records(VENDOR, "faq_articles")
    assert sum(r["community_id"] is None for r in faq_rows) == 12


def test_dump_has_ticket_details_and_unread_counts(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["sandbox", "dump", "casavi_community.unread_counts"]) == 0
    counts = json.loads(capsys.readouterr().out)
    assert [r["community_id"] for r in counts] == list(range(1, 301))
    twelve = counts[11]
    assert twelve["notifications"] == sum(1 for r in feed(world(42), "notifications", 12) if not r["read"])
    details = records(VENDOR, "ticket_details")
    some = tickets(42)[7]
    assert details[7] == {**ticket_detail(42, some["id"]), "community_id": some["Community"]["id"]}
    assert len(details) == len(tickets(42))

