"""Azavista events sized by ``CRMQL_SANDBOX_AZAVISTA_EVENTS`` and grown by the simulator's
``add_events`` hook (the Spark streaming and partitioning tests' data), over real HTTP."""

from __future__ import annotations

import logging
import threading
from datetime import datetime, timedelta, timezone

import httpx
import pytest

from crmql.sandbox import SandboxServer, SandboxSettings, serve_in_thread
from crmql.sandbox.azavista.data import EVENT_COUNT, generate_events
from crmql.sandbox.core.data import records
from sandbox_helpers import fetch_token, search, search_all


def _served(monkeypatch: pytest.MonkeyPatch, events: str | None) -> SandboxServer:
    if events is None:
        monkeypatch.delenv("CRMQL_SANDBOX_AZAVISTA_EVENTS", raising=False)
    else:
        monkeypatch.setenv("CRMQL_SANDBOX_AZAVISTA_EVENTS", events)
    return serve_in_thread(SandboxSettings())


def _total(srv: SandboxServer) -> int:
    with httpx.Client(base_url=srv.base_url("azavista"), timeout=10) as http:
        auth = {"Authorization": f"Bearer {fetch_token(http)}"}
        answer = search(http, auth, "events", limit=1)
        assert answer.status_code == 200
        return answer.json()["object_count"]


def test_the_event_count_comes_from_the_environment_when_the_server_starts(monkeypatch, caplog) -> None:
    with _served(monkeypatch, "3000") as srv:
        assert _total(srv) == 3000
        monkeypatch.setenv("CRMQL_SANDBOX_AZAVISTA_EVENTS", "10")  # read at the start only
        assert _total(srv) == 3000
    with _served(monkeypatch, None) as srv:
        assert _total(srv) == EVENT_COUNT
    with caplog.at_level(logging.WARNING, logger="crmql.sandbox"), _served(monkeypatch, "lots") as srv:
        assert _total(srv) == EVENT_COUNT
    assert "CRMQL_SANDBOX_AZAVISTA_EVENTS='lots' is not a whole number" in caplog.text


def test_sized_events_are_seed_stable_and_the_default_is_the_seeded_table() -> None:
    assert generate_events(42) == records("azavista", "events", 42)  # today's data, untouched
    sized = generate_events(42, None, 150)
    assert sized == generate_events(42, None, 150)
    assert sized != generate_events(7, None, 150)
    assert len({event["id"] for event in sized}) == 150
    assert [e["created_at"] for e in sized] == sorted(e["created_at"] for e in sized)


def test_added_events_are_stamped_now_and_seen_at_once(server: SandboxServer, client: httpx.Client) -> None:
    auth = {"Authorization": f"Bearer {fetch_token(client)}"}
    before = datetime.now(timezone.utc) - timedelta(milliseconds=1)
    added = server.state.vendor("azavista").add_events(3, event_type="sales")
    after = datetime.now(timezone.utc)
    assert len(added) == 3 and {e["event_type"] for e in added} == {"sales"}
    for event in added:
        stamp = datetime.fromisoformat(event["updated_at"])
        assert event["created_at"] == event["updated_at"] and before <= stamp <= after
    window = {"and": [{"updated_at": {"after": before.isoformat()}}, {"updated_at": {"before": after.isoformat()}}]}
    found = search_all(client, auth, "events", window)
    assert sorted(e["id"] for e in found) == sorted(e["id"] for e in added)
    page = search(client, auth, "events", offset=EVENT_COUNT, limit=50).json()
    assert page["object_count"] == EVENT_COUNT + 3
    assert [e["id"] for e in page["events"]] == [e["id"] for e in sorted(added, key=lambda e: (e["created_at"], e["id"]))]
    one = client.get(f"/3.0/event/{added[0]['id']}", headers=auth)
    assert one.status_code == 200 and one.json() == added[0]


def test_events_added_from_several_threads_are_all_kept(server: SandboxServer, client: httpx.Client) -> None:
    auth = {"Authorization": f"Bearer {fetch_token(client)}"}
    simulator = server.state.vendor("azavista")
    start = search(client, auth, "events", limit=1).json()["object_count"]
    made: list[dict] = []

    def add() -> None:
        made.extend(simulator.add_events(5))

    threads = [threading.Thread(target=add) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len({e["id"] for e in made}) == 20
    assert search(client, auth, "events", limit=1).json()["object_count"] == start + 20
