"""The casavi Community simulator's routes over real HTTP: every route and its envelope, tickets
(scoped, unscoped, by id, both list readings), FAQ and units with and without a community, the
404 community, the ``fail_communities`` hook of the fan-out tests, records added at run time, and
the sandbox core's latency and faults."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from crmql.sandbox import SandboxServer
from crmql.sandbox.casavi_community.data import ticket_detail, tickets
from crmql.sandbox.casavi_community.feed import feed
from crmql.sandbox.casavi_community.world import ms_text, world
from casavi_community_support import VENDOR, bearer

SCOPED = ("appointments", "activities", "posts", "important-contacts", "chat/unread", "notifications/unread",
          "notifications")
DETAIL_ONLY = {"descriptionRendered", "customFields", "TicketComments", "Attachments", "TicketRating", "Sharings"}


@pytest.fixture
def client(server: SandboxServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server.base_url(VENDOR), timeout=60) as c:
        yield c


@pytest.fixture
def auth(client: httpx.Client) -> dict[str, str]:
    return bearer(client)


def get(client: httpx.Client, auth: dict[str, str], path: str, **params: object) -> object:
    answer = client.get(path, params=params, headers=auth)
    assert answer.status_code == 200, (path, answer.text)
    return answer.json()


def test_every_route_answers_its_envelope(client: httpx.Client, auth: dict[str, str]) -> None:
    c = "/api/v1/communities/15"
    assert set(get(client, auth, f"{c}/appointments")) == {"page", "pageCount", "pageSize", "rows"}
    assert set(get(client, auth, f"{c}/activities")) == {"page", "pageCount", "pageSize", "rows"}
    assert set(get(client, auth, f"{c}/posts")) == {"page", "pageCount", "pageSize", "rows"}
    assert set(get(client, auth, f"{c}/notifications")) == {"pageSize", "count", "rowsOnPage", "rows"}
    for path in ("chat/unread", "notifications/unread"):
        count = get(client, auth, f"{c}/{path}")
        assert set(count) == {"count"} and isinstance(count["count"], int)
    for path in (f"{c}/important-contacts", "/api/v1/tickets", "/api/v1/units"):
        assert isinstance(get(client, auth, path), list)
    assert set(get(client, auth, "/api/v1/faq")) == {"groups", "items"}


@pytest.mark.parametrize("community", ["301", "0", "abc"])
def test_a_community_that_does_not_exist_is_404_on_every_scoped_route(client: httpx.Client, auth: dict[str, str],
                                                                      community: str) -> None:
    for path in SCOPED:
        answer = client.get(f"/api/v1/communities/{community}/{path}", headers=auth)
        assert answer.status_code == 404 and answer.json() == {"message": "Community not found"}, path


def test_the_query_community_id_is_404_when_unknown_and_400_when_not_a_number(client: httpx.Client,
                                                                              auth: dict[str, str]) -> None:
    for path in ("/api/v1/tickets", "/api/v1/units", "/api/v1/faq"):
        assert client.get(path, params={"community_id": 999}, headers=auth).json() == {"message": "Community not found"}
        answer = client.get(path, params={"community_id": "zwölf"}, headers=auth)
        assert answer.status_code == 400 and "community_id" in answer.json()["message"]


def test_unscoped_tickets_are_every_communitys_and_scoped_ones_carry_their_community(
        client: httpx.Client, auth: dict[str, str]) -> None:
    everything = get(client, auth, "/api/v1/tickets")
    assert everything == tickets(42) and [t["id"] for t in everything] == sorted({t["id"] for t in everything})
    for n in (12, 15, 18):
        scoped = get(client, auth, "/api/v1/tickets", community_id=n)
        assert scoped == [t for t in everything if t["Community"]["id"] == n]
        assert [t["identifier"] for t in scoped] == list(range(1, len(scoped) + 1))
    assert not DETAIL_ONLY & set(everything[0])


def test_a_ticket_by_id_is_its_detail_and_the_full_reading_lists_details(server: SandboxServer, client: httpx.Client,
                                                                         auth: dict[str, str]) -> None:
    scoped = get(client, auth, "/api/v1/tickets", community_id=12)
    detail = get(client, auth, f"/api/v1/tickets/{scoped[0]['id']}")
    assert DETAIL_ONLY <= set(detail) and {k: detail[k] for k in scoped[0]} == scoped[0]
    assert detail == ticket_detail(42, scoped[0]["id"])
    server.settings.variants = {"casavi_community.ticket_list": "full"}
    full = get(client, auth, "/api/v1/tickets", community_id=12)
    assert full == [ticket_detail(42, t["id"]) for t in scoped]
    for missing in ("999999", "abc"):
        answer = client.get(f"/api/v1/tickets/{missing}", headers=auth)
        assert answer.status_code == 404 and answer.json() == {"message": "Ticket not found"}


def test_faq_scoped_is_the_global_articles_plus_the_communitys(client: httpx.Client, auth: dict[str, str]) -> None:
    unscoped = get(client, auth, "/api/v1/faq")
    ids = [i["id"] for i in unscoped["items"]]
    assert len(ids) == len(set(ids)) and sum(i["communityId"] is None for i in unscoped["items"]) == 12
    for n in (1, 12, 200):
        scoped = get(client, auth, "/api/v1/faq", community_id=n)
        assert scoped["groups"] == unscoped["groups"]
        assert scoped["items"] == [i for i in unscoped["items"] if i["communityId"] in (None, n)]
    groups = {g["id"] for g in unscoped["groups"]}
    assert all(i["groupId"] in groups for i in unscoped["items"])


def test_units_scoped_and_unscoped(client: httpx.Client, auth: dict[str, str]) -> None:
    everything = get(client, auth, "/api/v1/units")
    scoped = get(client, auth, "/api/v1/units", community_id=12)
    assert scoped == [u for u in everything if u["communityId"] == 12] and scoped
    assert len({u["id"] for u in everything}) == len(everything) > 3500


def test_fail_communities_answers_that_status_for_every_request_of_that_community(
        server: SandboxServer, client: httpx.Client, auth: dict[str, str]) -> None:
    simulator = server.state.vendor(VENDOR)
    ticket15 = tickets(42, 15)[0]["id"]
    simulator.fail_communities[15] = 503
    try:
        for path in [f"/api/v1/communities/15/{p}" for p in SCOPED] + [f"/api/v1/tickets/{ticket15}"]:
            answer = client.get(path, headers=auth)
            assert answer.status_code == 503 and answer.json()["message"], path
        for path in ("/api/v1/tickets", "/api/v1/units", "/api/v1/faq"):
            assert client.get(path, params={"community_id": 15}, headers=auth).status_code == 503
        assert client.get("/api/v1/communities/15/notifications").status_code == 401  # the token is checked first
        get(client, auth, "/api/v1/communities/12/notifications")
        assert len(get(client, auth, "/api/v1/tickets")) == len(tickets(42))
    finally:
        simulator.fail_communities.clear()
    get(client, auth, "/api/v1/communities/15/notifications")


def test_records_added_at_run_time_are_served_and_counted(server: SandboxServer, client: httpx.Client,
                                                          auth: dict[str, str]) -> None:
    simulator = server.state.vendor(VENDOR)
    before = get(client, auth, "/api/v1/communities/33/notifications/unread")["count"]
    note = simulator.add_notification(33, title="Wasser abgestellt", type="POST")
    newest = get(client, auth, "/api/v1/communities/33/notifications")["rows"][0]
    assert newest == note and note["read"] is False and note["createdAt"] > ms_text(world(42).now_ms)
    assert get(client, auth, "/api/v1/communities/33/notifications/unread")["count"] == before + 1
    assert note["id"] not in {r["id"] for r in feed(world(42), "notifications", 33)}
    ticket = simulator.add_ticket(33, title="Heizung ausgefallen")
    listed = get(client, auth, "/api/v1/tickets", community_id=33)
    assert listed[-1]["id"] == ticket["id"] and listed[-1]["status"] == "OPEN" and not DETAIL_ONLY & set(listed[-1])
    assert get(client, auth, f"/api/v1/tickets/{ticket['id']}") == ticket
    assert ticket["id"] > tickets(42)[-1]["id"] and ticket["identifier"] == len(tickets(42, 33)) + 1
    simulator.reset()
    assert get(client, auth, "/api/v1/tickets", community_id=33) == tickets(42, 33)
    assert get(client, auth, "/api/v1/communities/33/notifications/unread")["count"] == before


def test_latency_and_faults_come_from_the_sandbox_core(server: SandboxServer, client: httpx.Client,
                                                       auth: dict[str, str]) -> None:
    server.settings.faults = "503@1,429@2"
    assert client.get("/api/v1/units", params={"community_id": 1}, headers=auth).status_code == 503
    assert client.get("/api/v1/units", params={"community_id": 1}, headers=auth).status_code == 429
    assert client.get("/api/v1/units", params={"community_id": 1}, headers=auth).status_code == 200
    assert [s for _, p, s in server.request_log if p.startswith(f"/{VENDOR}/api")] == [503, 429, 200]
