"""casavi Community's connector over real HTTP against a small loopback Community (no simulator):
its declarations, the requests it sends (and EXPLAIN shows), the rows it makes of nested records,
the ``paths`` setting, OpenID Connect discovery under the base URL, and the errors for answers it
must not use."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from crmql.api.config import Config, ConnectionConfig
from crmql.api.session import Session
from crmql.connectors.casavi_community import CommunityConnector
from crmql.errors import ConfigError, QueryError, VendorHTTPError, VendorResponseError

from live_server import serve

PREFIX = "/cc"
RT = "rt-community-test-1"


def person(n: int, first: str | None = "Anna", last: str | None = "Bauer") -> dict[str, Any]:
    return {"id": n, "firstName": first, "lastName": last}


def ticket(n: int, community: int, status: str = "OPEN") -> dict[str, Any]:
    return {"id": n, "identifier": n % 100, "referenceId": f"T-{n}", "title": f"Heizung {n}", "status": status,
            "statusText": "Offen", "createdAt": "2026-11-20T08:00:00.000Z", "updatedAt": "2026-11-21T08:00:00.000Z",
            "Community": {"id": community, "name": f"Haus {community}", "referenceId": f"P-{community:05d}"},
            "TicketType": {"id": 2, "name": "Reparatur"}, "Unit": None,
            "Contact": {**person(7, "Max ", "Mustermann"), "referenceId": "C-000007"},
            "CreatedBy": person(9000001, "Petra", None), "AssignedTo": None}


def detail(n: int, community: int) -> dict[str, Any]:
    return {**ticket(n, community), "descriptionRendered": "<p>kalt</p>",
            "customFields": [{"id": 1, "label": "Raum", "value": "Küche"}],
            "TicketComments": [{"id": 10 * n + k, "text": f"c{k}", "createdAt": "2026-11-22T08:00:00.000Z",
                                "Author": person(5), "isPublic": k == 0} for k in range(2)],
            "Attachments": [{"path": "x.jpg", "name": "heizung.jpg", "fileType": "image/jpeg", "fileSize": 10}],
            "TicketRating": {"rating": 4, "comment": "gut"}, "Sharings": {}}


def notification(n: int, minutes: int, read: bool) -> dict[str, Any]:
    created = dt.datetime(2026, 11, 30, 12, tzinfo=dt.timezone.utc) - dt.timedelta(minutes=minutes)
    return {"id": n, "type": "TICKET", "title": f"n{n}", "text": "t", "read": read, "readAt": None, "link": "/x",
            "objectId": None, "createdAt": created.strftime("%Y-%m-%dT%H:%M:%S.000Z")}


@dataclass
class Community:
    """A loopback casavi Community at ``<url>/cc`` (communities 12 and 15), its identity provider there too."""

    url: str = ""
    seen: list[str] = field(default_factory=list)
    tokens: int = 0
    chat: Any = 3
    faq: Any = None
    notes: int = 6

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        await Starlette(routes=[Route("/{path:path}", self.handle, methods=["GET", "POST"])])(scope, receive, send)

    async def handle(self, request: Request) -> Response:
        path, query = request.url.path.removeprefix(PREFIX), request.query_params
        self.seen.append(f"{request.method} {path}" + (f"?{request.url.query}" if request.url.query else ""))
        if not request.url.path.startswith(PREFIX + "/"):
            return JSONResponse({"message": "no such path"}, status_code=404)
        if path == "/.well-known/openid-configuration":
            return JSONResponse({"issuer": self.url + PREFIX, "token_endpoint": f"{self.url}{PREFIX}/oidc/token"})
        if path == "/oidc/token":
            form = parse_qs((await request.body()).decode())
            if form.get("refresh_token") != [RT] or form.get("grant_type") != ["refresh_token"]:
                return JSONResponse({"error": "invalid_grant"}, status_code=400)
            self.tokens += 1
            return JSONResponse({"access_token": f"at-{self.tokens}", "expires_in": 300, "token_type": "Bearer"})
        if request.headers.get("authorization") != f"Bearer at-{self.tokens}":
            return JSONResponse({"message": "Unauthorized"}, status_code=401)
        return self.api(path, query)

    def api(self, path: str, query: Any) -> Response:
        tickets = [ticket(1001, 12), ticket(1002, 12, "CLOSED"), ticket(1003, 15), ticket(1004, 18)]
        if path == "/api/v1/tickets":
            wanted = query.get("community_id")
            return JSONResponse([t for t in tickets if wanted is None or str(t["Community"]["id"]) == wanted])
        if path.startswith("/api/v1/tickets/"):
            n = int(path.rsplit("/", 1)[1])
            found = [t for t in tickets if t["id"] == n]
            return JSONResponse(detail(n, found[0]["Community"]["id"]) if found else {"message": "Not found"},
                                status_code=200 if found else 404)
        if path == "/api/v1/units":
            return JSONResponse([{"id": 5, "referenceId": "P-00012-W01", "name": "W01", "communityId": 12,
                                  "type": "APARTMENT", "floor": 1}])
        if path == "/api/v1/faq":
            if self.faq is not None:
                return JSONResponse(self.faq)
            return JSONResponse({"groups": [{"id": 1, "name": "Heizung"}],
                                 "items": [{"id": 1, "groupId": 1, "title": "q1", "content": "a1", "communityId": None},
                                           {"id": 2, "groupId": 9, "title": "q2", "content": "a2", "communityId": 12}]})
        parts = path.split("/")  # /api/v1/communities/{id}/...
        if len(parts) < 6 or parts[3] != "communities":
            return JSONResponse({"message": "no such path"}, status_code=404)
        community, rest = int(parts[4]), "/".join(parts[5:])
        if community not in (12, 15):
            return JSONResponse({"message": "Community not found"}, status_code=404)
        if rest == "chat/unread":
            return JSONResponse({"count": self.chat})
        if rest == "notifications/unread":
            return JSONResponse({"count": community // 3})
        if rest == "notifications":
            rows = [notification(community * 1000 + k, 60 * k, k % 2 == 0) for k in range(self.notes)]
            if query.get("unreadOnly") == "true":
                rows = [r for r in rows if not r["read"]]
            if "after" in query:
                rows = [r for r in rows if r["createdAt"] > query["after"]]
            if "before" in query:
                rows = [r for r in rows if r["createdAt"] < query["before"]]
            served = rows[:50]  # the newest 50 (rows are newest first)
            return JSONResponse({"pageSize": 50, "count": len(rows), "rowsOnPage": len(served), "rows": served})
        if rest == "appointments":
            page, limit = int(query["page"]), int(query["limit"])
            rows = [{"id": k, "title": f"a{k}", "startDate": "2026-12-03T10:00:00.000Z", "allDay": False}
                    for k in range(7)]
            return JSONResponse({"page": page, "pageCount": -(-len(rows) // limit), "pageSize": limit,
                                 "rows": rows[page * limit:(page + 1) * limit]})
        return JSONResponse({"message": "no such path"}, status_code=404)


@pytest.fixture(scope="module")
def served() -> Iterator[tuple[list[Community], str]]:
    holder = [Community()]

    async def app(scope: Any, receive: Any, send: Any) -> None:
        await holder[0](scope, receive, send)

    with serve(app) as url:
        yield holder, url


@pytest.fixture
def community(served: tuple[list[Community], str]) -> Community:
    holder, url = served
    holder[0] = Community(url=url)
    return holder[0]


def session(vendor: Community, **settings: Any) -> Session:
    options = {"base_url": vendor.url + PREFIX, "client_id": "crmql-test", "refresh_token": RT, "max_attempts": 1,
               **settings}
    return Session(Config({"cc": ConnectionConfig("cc", "casavi_community", options)}, source="test"))


def api_calls(vendor: Community) -> list[str]:
    return [s for s in vendor.seen if "/api/" in s]


# ---------------------------------------------------------------- declarations


def test_declarations_community_key_required_or_optional_and_every_other_column_local() -> None:
    c = CommunityConnector("cc", {"base_url": "https://app.example", "client_id": "a", "refresh_token": "r"})
    assert sorted(c.tables()) == ["activities", "appointments", "faq_articles", "important_contacts",
                                  "notifications", "posts", "ticket_comments", "ticket_details", "tickets",
                                  "units", "unread_counts"]
    required = {name: [r.column for r in c.table(name).required] for name in c.tables()}
    assert required["notifications"] == required["appointments"] == required["unread_counts"] == ["community_id"]
    assert required["tickets"] == required["units"] == required["faq_articles"] == []
    assert required["ticket_details"] == ["id"] and required["ticket_comments"] == ["ticket_id"]
    tickets = c.table("tickets")
    assert tickets.column("ticket_type").field == "TicketType.name"
    assert not tickets.column("status").pushable and not tickets.column("title").pushable
    assert tickets.column("id").pushable and tickets.column("community_id").pushable
    notes = c.table("notifications")
    assert notes.column("created_at").pushable and notes.column("unread").pushable
    assert not notes.column("type").pushable


# ---------------------------------------------------------------- requests


def test_notifications_send_after_and_unread_only_to_each_community(community: Community) -> None:
    with session(community) as s:
        sql = ("SELECT * FROM cc.notifications WHERE community_id IN (12, 15) AND created_at > "
               "TIMESTAMP '2026-11-30 08:30:00' AND unread = TRUE")
        text = s.explain(sql)
        frame = s.query(sql)
    for n in (12, 15):
        sent = (f"GET /api/v1/communities/{n}/notifications?after=2026-11-30T08%3A30%3A00.000Z&unreadOnly=true")
        assert sent in api_calls(community)
        assert f"/api/v1/communities/{n}/notifications?after=2026-11-30T08:30:00.000Z&unreadOnly=true" in text.replace(
            "%3A", ":")
    assert sorted(frame["id"]) == [12001, 12003, 15001, 15003]  # unread (odd k) and within 3.5 hours
    assert set(frame["unread"]) == {True}


def test_tickets_per_community_by_query_parameter_and_by_id(community: Community) -> None:
    with session(community) as s:
        frame = s.query("SELECT id, community_id, contact_name, created_by_name, ticket_type FROM cc.tickets "
                        "WHERE community_id IN (12, 15) AND status = 'OPEN' ORDER BY id")
        assert sorted(api_calls(community)) == ["GET /api/v1/tickets?community_id=12",
                                                "GET /api/v1/tickets?community_id=15"]
        assert list(frame["id"]) == [1001, 1003] and list(frame["community_id"]) == [12, 15]
        assert list(frame["contact_name"]) == ["Max Mustermann"] * 2 and list(frame["created_by_name"]) == ["Petra"] * 2
        assert list(frame["ticket_type"]) == ["Reparatur"] * 2
        community.seen.clear()
        assert list(s.query("SELECT id FROM cc.tickets WHERE id = 1003")["id"]) == [1003]
        assert api_calls(community) == ["GET /api/v1/tickets/1003"]
        community.seen.clear()
        everything = s.query("SELECT id, community_id FROM cc.tickets ORDER BY id")
        assert api_calls(community) == ["GET /api/v1/tickets"]
        assert list(everything["community_id"]) == [12, 12, 15, 18]


def test_appointments_page_with_limit_100_or_the_page_size_setting(community: Community) -> None:
    with session(community) as s:
        assert len(s.query("SELECT id FROM cc.appointments WHERE community_id = 12")) == 7
        assert api_calls(community) == ["GET /api/v1/communities/12/appointments?limit=100&page=0"]
    community.seen.clear()
    with session(community, page_size=3) as s:
        frame = s.query("SELECT community_id, id FROM cc.appointments WHERE community_id = 15 ORDER BY id")
        assert list(frame["id"]) == list(range(7)) and set(frame["community_id"]) == {15}
        assert sorted(api_calls(community)) == [f"GET /api/v1/communities/15/appointments?limit=3&page={p}"
                                                for p in range(3)]


def test_unread_counts_are_two_requests_and_one_row_per_community(community: Community) -> None:
    with session(community) as s:
        frame = s.query("SELECT * FROM cc.unread_counts WHERE community_id IN (12, 15, 99) ORDER BY community_id")
        assert sorted(api_calls(community)) == sorted(
            f"GET /api/v1/communities/{n}/{what}/unread" for n in (12, 15, 99) for what in ("chat", "notifications"))
        assert frame.to_dict("records") == [{"community_id": 12, "chat": 3, "notifications": 4},
                                            {"community_id": 15, "chat": 3, "notifications": 5}]
        community.chat = -1
        with pytest.raises(VendorResponseError, match=r"\(cc.unread_counts\): community 12: malformed response to GET "
                                                      r".*: the count is -1, not a non-negative integer"):
            s.query("SELECT * FROM cc.unread_counts WHERE community_id = 12")


# ---------------------------------------------------------------- rows


def test_ticket_details_and_comments_from_the_ticket_read_by_id(community: Community) -> None:
    with session(community) as s:
        d = s.query("SELECT id, description, custom_fields, rating, rating_comment, comment_count, attachments, "
                    "attachment_count, community_name FROM cc.ticket_details WHERE id IN (1001, 1003) ORDER BY id")
        assert sorted(api_calls(community)) == ["GET /api/v1/tickets/1001", "GET /api/v1/tickets/1003"]
        first = d.to_dict("records")[0]
        assert first["description"] == "<p>kalt</p>" and first["rating"] == 4 and first["rating_comment"] == "gut"
        assert first["custom_fields"] == '[{"id": 1, "label": "Raum", "value": "Küche"}]'
        assert list(first["attachments"]) == ["heizung.jpg"] and first["attachment_count"] == 1
        assert first["comment_count"] == 2 and first["community_name"] == "Haus 12"
        comments = s.query("SELECT ticket_id, id, author_name, is_public FROM cc.ticket_comments "
                           "WHERE ticket_id = 1002 ORDER BY id")
        assert comments.to_dict("records") == [{"ticket_id": 1002, "id": 10020, "author_name": "Anna Bauer",
                                                "is_public": True},
                                               {"ticket_id": 1002, "id": 10021, "author_name": "Anna Bauer",
                                                "is_public": False}]


def test_faq_group_names_and_each_article_keeps_its_own_community(community: Community) -> None:
    with session(community) as s:
        seen = s.query("SELECT community_id, id, group_name FROM cc.faq_articles WHERE community_id = 12 "
                       "OR community_id IS NULL ORDER BY id")
        assert seen.astype(object).where(seen.notna(), None).to_dict("records") == [
            {"community_id": None, "id": 1, "group_name": "Heizung"}, {"community_id": 12, "id": 2, "group_name": None}]
        scoped = s.query("SELECT id FROM cc.faq_articles WHERE community_id = 12")
        assert scoped["id"].tolist() == [2]  # the article for every community is served, and re-checked away
        assert api_calls(community) == ["GET /api/v1/faq", "GET /api/v1/faq?community_id=12"]
        unscoped = s.query("SELECT community_id, id FROM cc.faq_articles ORDER BY id")
        assert unscoped["community_id"].isna().tolist() == [True, False] and unscoped["community_id"][1] == 12
        community.faq = {"groups": {"id": 1}, "items": []}
        with pytest.raises(VendorResponseError, match="the FAQ answer's groups is not a list of objects"):
            s.query("SELECT * FROM cc.faq_articles")


def test_a_nested_object_that_is_no_object_is_a_vendor_error(community: Community,
                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(__name__ + ".ticket", lambda n, c, status="OPEN": {"id": n, "TicketType": "Reparatur",
                                                                          "Community": {"id": c}})
    with session(community) as s, pytest.raises(VendorResponseError, match="TicketType is a (str|string)"):
        s.query("SELECT id, ticket_type FROM cc.tickets")


# ---------------------------------------------------------------- settings, auth, errors


def test_the_paths_setting_moves_a_route_and_a_bad_one_is_a_config_error(community: Community) -> None:
    with session(community, paths={"appointments": "/api/v1/communities/{community_id}/termine"}) as s:
        with pytest.raises(VendorHTTPError, match="answered 404 for every community"):  # (no such route: 404)
            s.query("SELECT id FROM cc.appointments WHERE community_id = 12")
        assert api_calls(community) == ["GET /api/v1/communities/12/termine?limit=100&page=0"]
    for paths, message in (({"appointment": "/x/{community_id}"}, r"paths\.appointment: not a casavi Community path "
                                                                   r"\(did you mean appointments\?\)"),
                           ({"notifications": "/api/v1/notifications"}, r"paths\.notifications: .* has no "
                                                                        r"\{community_id\} slot"),
                           ({"ticket": "/api/v1/tickets"}, r"paths\.ticket: .* has no \{ticket_id\} slot"),
                           ({"units": "/api/v1/{community_id}/units"}, r"paths\.units: .* takes no slot \(the community is "
                                                                    r"the query parameter community_id\)"),
                           ({"units": "/api/v1/../admin/units"}, r"paths\.units: .* has a \. or \.\. segment"),
                           ({"ticket": "/api/v1/./tickets/{ticket_id}"}, r"paths\.ticket: .* has a \. or \.\. segment")):
        with session(community, paths=paths) as s, pytest.raises(ConfigError, match=r"connections\.cc: " + message):
            s.query("SELECT id FROM cc.units")


def test_discovery_is_read_under_the_base_url_and_the_token_refreshed_there(community: Community) -> None:
    with session(community) as s:
        s.query("SELECT id FROM cc.units WHERE community_id = 12")
    assert community.seen[:2] == ["GET /.well-known/openid-configuration", "POST /oidc/token"]


def test_a_required_community_id_fails_before_any_request(community: Community) -> None:
    with session(community) as s, pytest.raises(QueryError, match="community_id"):
        s.query("SELECT * FROM cc.notifications WHERE unread = TRUE")
    assert community.seen == []


def test_notifications_are_read_completely_past_the_newest_50(community: Community) -> None:
    community.notes = 120
    with session(community) as s:
        frame = s.query("SELECT id FROM cc.notifications WHERE community_id = 12")
        assert sorted(frame["id"]) == [12000 + k for k in range(120)]
        calls = api_calls(community)
        assert len(calls) == 3 and calls[0] == "GET /api/v1/communities/12/notifications"
        assert all("before=" in c for c in calls[1:])
        community.seen.clear()
        assert s.query("SELECT COUNT(*) AS n FROM cc.notifications WHERE community_id = 12")["n"][0] == 120
        assert api_calls(community) == ["GET /api/v1/communities/12/notifications"]  # the count, one request


def test_more_community_ids_than_a_fan_out_takes_is_one_unscoped_request(community: Community) -> None:
    with session(community) as s:
        ids = ", ".join(str(n) for n in range(1, 61))
        frame = s.query(f"SELECT id FROM cc.tickets WHERE community_id IN ({ids}) ORDER BY id")
        assert list(frame["id"]) == [1001, 1002, 1003, 1004]
        assert api_calls(community) == ["GET /api/v1/tickets"]


def test_ticket_details_for_more_ids_than_reads_by_id_take_come_from_the_list_read_by_id(community: Community) -> None:
    ids = ", ".join(str(n) for n in range(1001, 1601))  # 600 ids: more than ById.max_ids (500)
    with session(community) as s:
        frame = s.query(f"SELECT id, comment_count FROM cc.ticket_details WHERE id IN ({ids}) ORDER BY id")
        assert frame.to_dict("records") == [{"id": n, "comment_count": 2} for n in (1001, 1002, 1003, 1004)]
        assert api_calls(community)[0] == "GET /api/v1/tickets"
        assert sorted(api_calls(community)[1:]) == [f"GET /api/v1/tickets/{n}" for n in (1001, 1002, 1003, 1004)]
        comments = s.query(f"SELECT ticket_id, id FROM cc.ticket_comments WHERE ticket_id IN ({ids})")
        assert len(comments) == 8


def test_page_size_and_issuer_settings(community: Community) -> None:
    with session(community, page_size=101) as s, pytest.raises(ConfigError, match=r"page_size: must be an integer "
                                                                                    r"from 1 to 100"):
        s.query("SELECT id FROM cc.units")
    elsewhere = community.url + "/elsewhere"
    with session(community, issuer=elsewhere) as s, pytest.raises(ConfigError, match="no OpenID Connect discovery"):
        s.query("SELECT id FROM cc.units")
    assert community.seen == ["GET /elsewhere/.well-known/openid-configuration"]
