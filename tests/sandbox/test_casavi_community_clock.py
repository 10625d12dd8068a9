"""The casavi Community simulator's clock follows the real date (review B #2: data frozen at
2026-12-01 08:00 made the issue's ``created_at > NOW() - INTERVAL '7 days'`` find nothing from
2026-12-08 on): "now" is the latest 08:00 UTC, every time an offset from it, deterministic per seed
and "now", and ``CRMQL_SANDBOX_CASAVI_COMMUNITY_NOW`` pins it."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta, timezone

import httpx
import pytest

from crmql.sandbox import SandboxServer
from crmql.sandbox.casavi_community.data import ticket_detail
from crmql.sandbox.casavi_community.feed import feed
from crmql.sandbox.casavi_community.world import ENV_NOW, FOCUS, current_now, ms_text, world
from casavi_community_support import VENDOR, bearer

UTC = timezone.utc


@pytest.fixture
def client(server: SandboxServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server.base_url(VENDOR), timeout=60) as c:
        yield c


def _recent(client: httpx.Client, community: int, days: int, now: datetime) -> list[dict]:
    after = ms_text(int((now - timedelta(days=days)).timestamp() * 1000))
    answer = client.get(f"/api/v1/communities/{community}/notifications", headers=bearer(client),
                        params={"after": after, "unreadOnly": "true"})
    assert answer.status_code == 200, answer.text
    return answer.json()["rows"]


def test_the_served_data_reach_up_to_the_real_date(client: httpx.Client) -> None:
    wall = datetime.now(UTC)
    rows = client.get("/api/v1/communities/12/notifications", headers=bearer(client)).json()["rows"]
    newest = max(r["createdAt"] for r in rows)
    assert ms_text(int((wall - timedelta(days=4)).timestamp() * 1000)) < newest <= ms_text(int(wall.timestamp() * 1000))
    assert all(_recent(client, n, 7, wall) for n in FOCUS)


def test_a_week_after_the_old_fixed_date_the_focus_communities_still_have_recent_rows(
        client: httpx.Client, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(ENV_NOW, "2027-01-15")
    now = datetime(2027, 1, 15, 8, tzinfo=UTC)
    assert world(42).now == now
    for n in FOCUS:
        rows = _recent(client, n, 7, now)
        assert rows and all(ms_text(int(now.timestamp() * 1000)) >= r["createdAt"] for r in rows)
        tickets = client.get("/api/v1/tickets", params={"community_id": n}, headers=bearer(client)).json()
        assert any(t["status"] == "OPEN" and t["createdAt"] > "2027-01-08" for t in tickets)
    upcoming = [a for a in feed(world(42), "appointments", 12) if a["startDate"] > "2027-01-15T08"]
    assert upcoming  # appointments are upcoming relative to "now" too


def test_the_data_are_the_same_offsets_from_any_now() -> None:
    one, other = world(42, datetime(2026, 12, 1, 8, tzinfo=UTC)), world(42, datetime(2027, 3, 2, 8, tzinfo=UTC))
    shift = int(timedelta(days=91).total_seconds() * 1000)
    assert [t["id"] for t in one.tickets] == [t["id"] for t in other.tickets]
    assert all(other.plans[i].created_ms - one.plans[i].created_ms == shift for i in (1001, 2000, 3000))
    assert [r["title"] for r in feed(one, "notifications", 12)] == [r["title"] for r in feed(other, "notifications", 12)]
    assert world(42, one.now) is one


def test_now_is_the_latest_8_utc_and_the_variable_pins_it(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(ENV_NOW, raising=False)
    assert current_now(datetime(2026, 12, 8, 7, 59, tzinfo=UTC)) == datetime(2026, 12, 7, 8, tzinfo=UTC)
    assert current_now(datetime(2026, 12, 8, 8, 0, tzinfo=UTC)) == datetime(2026, 12, 8, 8, tzinfo=UTC)
    monkeypatch.setenv(ENV_NOW, "2026-12-01T10:30:00Z")
    assert current_now() == datetime(2026, 12, 1, 10, 30, tzinfo=UTC)
    monkeypatch.setenv(ENV_NOW, "gestern")  # not a date: the real date, with a warning (never a failing request)
    assert current_now(datetime(2026, 12, 8, 9, 0, tzinfo=UTC)) == datetime(2026, 12, 8, 8, tzinfo=UTC)


def test_a_ticket_detail_follows_the_now_it_is_read_at(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(ENV_NOW, "2026-12-01")
    first = ticket_detail(42, 1001)
    monkeypatch.setenv(ENV_NOW, "2026-12-02")
    second = ticket_detail(42, 1001)
    assert first is not None and second is not None and first["createdAt"] < second["createdAt"]
