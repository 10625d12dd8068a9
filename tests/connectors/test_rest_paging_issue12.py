"""The REST kit's paging and counting for casavi Community (issue #12), over real HTTP against the
loopback vendor of :mod:`community_kit_loopback`: a page base learned from the page echo, a counted
list read completely by a time keyset (newest or oldest first; a warning when it cannot advance),
time ranges and flags sent with each key's request, COUNT(*) per key, and joins supplying a
fan-out key (required or optional, beyond one chunk of 50 values)."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest

from crmql import stats
from crmql.errors import VendorResponseError

import community_kit_loopback as loopback

served, kit = loopback.fixtures()

APPTS, NOTES, sent = loopback.APPTS, loopback.NOTES, loopback.sent


def test_a_vendor_counting_pages_from_one_is_read_once_each(kit) -> None:
    vendor, session = kit
    vendor.page_base = 1  # page=0 is answered as page 1, and says so
    frame = session.query("SELECT id FROM cc.appointments WHERE community_id = 2 ORDER BY id")
    assert list(frame["id"]) == list(range(20, 27))
    assert sent(vendor, APPTS) == [f"{APPTS}?limit=5&page=0", f"{APPTS}?limit=5&page=2"]
    vendor.seen.clear()  # the connection remembers the base: EXPLAIN shows it, the scan asks it
    assert f"{APPTS}?limit=5&page=1".removeprefix("GET ") in session.explain(
        "SELECT id FROM cc.appointments WHERE community_id = 2")
    assert len(session.query("SELECT id FROM cc.appointments WHERE community_id = 2")) == 7
    assert sent(vendor, APPTS) == [f"{APPTS}?limit=5&page=1", f"{APPTS}?limit=5&page=2"]


def test_a_page_echo_that_is_not_the_page_asked_is_an_error(kit) -> None:
    vendor, session = kit
    vendor.echo = 7
    with pytest.raises(VendorResponseError, match="community 2: malformed response to .*asked for page 0, got page 7"):
        session.query("SELECT id FROM cc.appointments WHERE community_id = 2")


@pytest.mark.parametrize("order, bound", [("newest_first", "before"), ("oldest_first", "after")])
def test_a_counted_list_is_read_completely(kit, order: str, bound: str) -> None:
    vendor, session = kit
    vendor.order = order
    st = stats.QueryStats()
    result = session.execute("SELECT id FROM cc.notifications WHERE community_id = 2", statement_stats=st)
    assert sorted(result.frame["id"]) == list(range(2000, 2012))
    assert not result.stats.warnings
    requests = sent(vendor, NOTES)
    assert requests[0] == NOTES and len(requests) == 3
    assert all(f"?{bound}=" in r for r in requests[1:])


def test_a_counted_list_that_cannot_advance_says_so(kit) -> None:
    vendor, session = kit
    vendor.order = "unsorted"
    result = session.execute("SELECT id FROM cc.notifications WHERE community_id = 2")
    assert len(result.frame) == 5
    assert result.stats.warnings == [
        "casavi Community (cc.notifications): vendor counted 12 notifications for community 2, crmql got 5; the "
        "result is incomplete"]
    assert sent(vendor, NOTES) == [NOTES]


def test_a_time_range_and_a_flag_go_with_each_keys_request(kit) -> None:
    vendor, session = kit
    sql = ("SELECT id FROM cc.notifications WHERE community_id = 2 AND unread = TRUE "
           "AND created_at > TIMESTAMP '2026-11-03 00:00:02' AND created_at <= TIMESTAMP '2026-11-03 00:00:09'")
    frame = session.query(sql)
    assert sorted(frame["id"]) == [2003, 2005, 2007, 2009]
    [request] = sent(vendor, NOTES)
    assert parse_qs(urlsplit(request.removeprefix("GET ")).query) == {
        "after": ["2026-11-03T00:00:02.000Z"], "before": ["2026-11-03T00:00:09.001Z"], "unreadOnly": ["true"]}
    assert "unreadOnly=true" in session.explain(sql)


@pytest.mark.parametrize("first, second", [("02", "08"), ("08", "02")])
def test_two_bounds_on_one_parameter_send_the_tightest(kit, first: str, second: str) -> None:
    vendor, session = kit
    sql = (f"SELECT id FROM cc.notifications WHERE community_id = 2 AND created_at > TIMESTAMP '2026-11-03 00:00:{first}' "
           f"AND created_at > TIMESTAMP '2026-11-03 00:00:{second}'")
    assert sorted(session.query(sql)["id"]) == [2009, 2010, 2011]
    assert sent(vendor, NOTES) == [f"{NOTES}?after=2026-11-03T00%3A00%3A08.000Z"]  # the later lower bound: 3 rows
    assert "the endpoint takes after once per request" not in session.explain(sql)


def test_two_upper_bounds_send_the_earliest(kit) -> None:
    vendor, session = kit
    sql = ("SELECT id FROM cc.notifications WHERE community_id = 2 AND created_at < TIMESTAMP '2026-11-03 00:00:09' "
           "AND created_at < TIMESTAMP '2026-11-03 00:00:04'")
    assert sorted(session.query(sql)["id"]) == [2000, 2001, 2002, 2003]
    assert sent(vendor, NOTES) == [f"{NOTES}?before=2026-11-03T00%3A00%3A04.000Z"]


def test_count_over_a_fan_out_is_one_request_per_key(kit) -> None:
    vendor, session = kit
    frame = session.query("SELECT COUNT(*) AS n FROM cc.notifications WHERE community_id IN (2, 3, 99) "
                          "AND unread = TRUE")
    assert list(frame["n"]) == [12]
    assert sorted(vendor.seen) == [f"{NOTES}?unreadOnly=true", "GET /api/v1/communities/3/notifications?unreadOnly=true",
                                   "GET /api/v1/communities/99/notifications?unreadOnly=true"]


def test_count_with_a_condition_the_count_cannot_carry_is_counted_over_the_scan(kit) -> None:
    vendor, session = kit
    frame = session.query("SELECT COUNT(*) AS n FROM cc.notifications WHERE community_id = 2 "
                          "AND created_at > TIMESTAMP '2026-11-03 00:00:02'")  # a widened bound: no exact count
    assert list(frame["n"]) == [9]
    frame = session.query("SELECT COUNT(*) AS n FROM cc.appointments WHERE community_id IN (2, 3)")  # no total
    assert list(frame["n"]) == [14]


def test_a_join_supplies_a_required_key(kit) -> None:
    vendor, session = kit
    frame = session.query("SELECT a.id FROM cc.communities c JOIN cc.appointments a ON a.community_id = c.id "
                          "WHERE c.id IN (2, 3)")
    assert sorted(frame["id"]) == [*range(20, 27), *range(30, 37)]
    assert sorted({s.split("?")[0] for s in sent(vendor, "GET /api/v1/communities/")}) == [
        "GET /api/v1/communities/2/appointments", "GET /api/v1/communities/3/appointments"]


def test_a_join_supplies_an_optional_key_beyond_one_chunk(served) -> None:
    holder, url = served
    holder[0] = vendor = loopback.Vendor(communities=60)
    with loopback.session_on(url, "cc", "cckit", loopback.KitConnector) as session:
        frame = session.query("SELECT t.id, t.community_id FROM cc.communities c "
                              "JOIN cc.tickets t ON t.community_id = c.id WHERE c.big = TRUE")
        assert len(frame) == 90 and set(frame["community_id"]) == set(range(2, 61, 2))
        assert len(sent(vendor, "GET /api/v1/tickets")) == 30  # up to 50 values: one request per community
        vendor.seen.clear()
        # 60 communities, more than one chunk of 50: the optional key is left out, one unscoped request
        frame = session.query("SELECT t.id FROM cc.communities c JOIN cc.tickets t ON t.community_id = c.id")
        assert sorted(frame["id"]) == sorted(c * 100 + i for c in range(1, 61) for i in range(3))
        assert sent(vendor, "GET /api/v1/tickets") == ["GET /api/v1/tickets"]


def test_a_join_supplies_a_required_key_beyond_one_chunk(served) -> None:
    holder, url = served
    holder[0] = vendor = loopback.Vendor(communities=60)
    with loopback.session_on(url, "cc", "cckit", loopback.KitConnector) as session:
        frame = session.query("SELECT x.community_id, x.count FROM cc.communities c "
                              "JOIN cc.chat_unread x ON x.community_id = c.id")
    assert sorted(frame["count"]) == list(range(1, 61))  # two chunks (50 + 10): each community read once
    assert len(sent(vendor, "GET /api/v1/communities/")) == 60


def test_a_limit_on_a_fan_out_reads_only_what_it_needs(kit) -> None:
    vendor, session = kit
    frame = session.query("SELECT id FROM cc.appointments WHERE community_id IN (2, 3) LIMIT 3")
    assert list(frame["id"]) == [20, 21, 22]  # community 2's rows first: keys are delivered in order
    # nothing re-checked: LIMIT is the page size; the keys of the window are read concurrently
    assert sent(vendor, APPTS) == [f"{APPTS}?limit=3&page=0"]
    assert set(sent(vendor, "GET /api/v1/communities/")) <= {f"{APPTS}?limit=3&page=0",
                                                             "GET /api/v1/communities/3/appointments?limit=3&page=0"}
    vendor.seen.clear()
    frame = session.query("SELECT id FROM cc.appointments WHERE community_id IN (2, 3) AND title = 'A6' LIMIT 1")
    assert list(frame["id"]) == [26]  # re-checked: each key a page at a time until a row passes
    assert sent(vendor, APPTS) == [f"{APPTS}?limit=5&page=0", f"{APPTS}?limit=5&page=1"]
