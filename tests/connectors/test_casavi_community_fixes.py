"""Fixes after the issue #12 reviews, against the loopback Community of
``test_casavi_community_connector`` (real HTTP): ticket details for many ids read only the ids asked
for (review B #3), EXPLAIN counts those reads."""

from __future__ import annotations

import pytest

from test_casavi_community_connector import Community, api_calls, served, session  # noqa: F401 (fixture)


@pytest.fixture
def community(served: tuple[list[Community], str]) -> Community:  # noqa: F811
    holder, url = served
    holder[0] = Community(url=url)
    return holder[0]


def test_ticket_details_for_many_ids_read_only_the_listed_ids_asked_for(community: Community) -> None:
    ids = ", ".join(str(n) for n in [1001, 1003, *range(5000, 5600)])  # 602 ids: more than reads by id take (500)
    with session(community) as s:
        text = s.explain(f"SELECT id FROM cc.ticket_details WHERE id IN ({ids})")
        assert "1 list request + up to 602 GET request(s)" in text
        community.seen.clear()  # (EXPLAIN may send the list request early)
        frame = s.query(f"SELECT id, comment_count FROM cc.ticket_details WHERE id IN ({ids}) ORDER BY id")
        assert frame.to_dict("records") == [{"id": 1001, "comment_count": 2}, {"id": 1003, "comment_count": 2}]
        assert api_calls(community)[0] == "GET /api/v1/tickets"
        assert sorted(api_calls(community)[1:]) == ["GET /api/v1/tickets/1001", "GET /api/v1/tickets/1003"]
        community.seen.clear()
        comments = s.query(f"SELECT ticket_id, id FROM cc.ticket_comments WHERE ticket_id IN ({ids}) ORDER BY id")
        assert list(comments["ticket_id"]) == [1001, 1001, 1003, 1003]
        assert sorted(api_calls(community)) == ["GET /api/v1/tickets", "GET /api/v1/tickets/1001",
                                                "GET /api/v1/tickets/1003"]
