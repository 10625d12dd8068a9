"""Fixes after the issue #12 reviews, against the loopback Community of
``test_casavi_community_connector`` (real HTTP): ticket details for many ids read only the ids asked
for (review B #3), EXPLAIN counts those reads; unread_counts stop at LIMIT and apply the 404 policy
(review A #9); EXPLAIN for posts names the vendor's page size; DESCRIBE says which fields are
crmql's reading, and a field such a column depends on missing from every record is one WARNING
(review B #4)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from starlette.responses import JSONResponse, Response

from crmql.errors import VendorHTTPError

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


def test_unread_counts_stop_after_limit_rows(community: Community) -> None:
    with session(community, concurrency=4) as s:
        frame = s.query("SELECT * FROM cc.unread_counts WHERE community_id IN (12, 15, 12) LIMIT 1")
        assert len(frame) == 1
        assert len(api_calls(community)) == 2  # one community's two counts, not every community's
        assert "stopping after 1 rows" in s.explain("SELECT * FROM cc.unread_counts WHERE community_id IN (12, 15) "
                                                     "LIMIT 1")


def test_unread_counts_apply_the_404_policy(community: Community) -> None:
    with session(community) as s:
        result = s.execute("SELECT * FROM cc.unread_counts WHERE community_id IN (12, 99)")
        assert list(result.frame["community_id"]) == [12]
        assert any("community 99 answered 404" in w for w in result.stats.warnings)
        with pytest.raises(VendorHTTPError, match=r"answered 404 for every community asked \(98, 99\)") as caught:
            s.query("SELECT * FROM cc.unread_counts WHERE community_id IN (98, 99)")
        assert "paths" in (caught.value.hint or "")


def test_explain_for_posts_names_the_vendors_page_size(community: Community) -> None:
    with session(community) as s:
        for sql in ("SELECT id FROM cc.posts WHERE community_id = 12",
                    "SELECT id FROM cc.posts WHERE community_id IN (12, 15) LIMIT 5"):
            text = s.explain(sql)
            assert "pages of the vendor's own size" in text and "500 per page" not in text


class Bare(Community):
    """A Community whose records lack the fields crmql reads without the docs naming them."""

    strip: tuple[str, ...] = ()

    def api(self, path: str, query: Any) -> Response:
        response = super().api(path, query)
        body = json.loads(bytes(response.body))
        rows = body if isinstance(body, list) else body.get("rows") if isinstance(body, dict) else None
        for row in rows or ():
            for key in self.strip:
                row.pop(key, None)
        return JSONResponse(body, status_code=response.status_code)


def test_a_field_missing_from_every_record_is_one_warning(served: tuple[list[Community], str]) -> None:  # noqa: F811
    holder, url = served
    bare = holder[0] = Bare(url=url)
    bare.strip = ("read", "Community")
    with session(bare) as s:
        result = s.execute("SELECT id, unread FROM cc.notifications WHERE community_id IN (12, 15)")
        assert len(result.frame) == 12 and result.frame["unread"].isna().all()
        assert result.stats.warnings == [
            "casavi Community (cc.notifications): no record has 'read' (crmql's reading of an undocumented field), "
            "so unread is NULL"]
        result = s.execute("SELECT id FROM cc.tickets")
        assert result.stats.warnings == [
            "casavi Community (cc.tickets): no record has 'Community' (crmql's reading of an undocumented field), "
            "so community_id is NULL (a community_id condition matches none of them)"]
        assert s.execute("SELECT id FROM cc.tickets WHERE community_id = 12").stats.warnings == []  # scoped: the key


def test_describe_says_which_fields_are_crmqls_reading(community: Community) -> None:
    with session(community) as s:
        described = {r["column"]: r for r in s.query("DESCRIBE cc.tickets").to_dict("records")}
        assert described["created_at"]["description"].endswith("(crmql's reading; not in the docs)")
        assert described["community_name"]["description"].endswith("(crmql's reading; not in the docs)")
        assert not described["title"]["description"].endswith("(crmql's reading; not in the docs)")
        assert not described["status"]["options"] and described["status"]["description"].startswith("e.g. OPEN")
        notes = {r["column"]: r for r in s.query("DESCRIBE cc.notifications").to_dict("records")}
        assert notes["unread"]["description"].endswith("(crmql's reading; not in the docs)")
        counts = {r["column"]: r for r in s.query("DESCRIBE cc.unread_counts").to_dict("records")}
        assert not counts["chat"]["description"].endswith("(crmql's reading; not in the docs)")


def test_explain_counts_both_requests_of_the_first_openid_token(make_session: Any) -> None:
    """OpenID Connect's first token takes two requests (the discovery document, then the grant);
    a connection with one token request says 1, and a configured access token none."""
    with make_session() as s:
        community = s.explain("SELECT id FROM casavi_community.tickets WHERE community_id = 1")
        manager = s.explain("SELECT id FROM casavi.units LIMIT 1")
    assert "plus 2 token requests when none is cached" in community
    assert "plus 1 token request when none is cached" in manager
    from crmql.connectors.registry import create_connector

    given = create_connector("cc", "casavi_community", {"base_url": "https://app.example", "access_token": "t"})
    assert given.token_requests == 0
