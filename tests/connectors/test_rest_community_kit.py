"""The REST kit changes casavi Community needs (issue #12), over real HTTP against a loopback vendor
(:mod:`community_kit_loopback`): an optional fan-out key (per value, else one plain scan; reads by id
first), every pushable condition sent with each key's request, a carried key check, the key named in
a failure, dotted fields, single-object answers, and the connection's concurrency cap."""

from __future__ import annotations

import pytest

from crmql.errors import QueryError, RequestBudgetError, VendorHTTPError, VendorResponseError

import community_kit_loopback as loopback

served, kit = loopback.fixtures()

TICKETS = "GET /api/v1/tickets"


def requests(vendor: loopback.Vendor, prefix: str) -> list[str]:
    return sorted(s for s in vendor.seen if s.startswith(prefix))


def test_an_optional_key_fans_out_one_request_per_value(kit) -> None:
    vendor, session = kit
    frame = session.query("SELECT id, community_id, ticket_type, community_name FROM cc.tickets "
                          "WHERE community_id IN (2, 3) ORDER BY id")
    assert list(frame["id"]) == [200, 201, 202, 300, 301, 302]
    assert list(frame["community_id"]) == [2, 2, 2, 3, 3, 3]
    assert list(frame["community_name"]) == ["C2"] * 3 + ["C3"] * 3
    assert list(frame["ticket_type"].fillna("-")) == ["Reparatur", "Reparatur", "-"] * 2  # a null object: NULL
    assert requests(vendor, TICKETS) == [f"{TICKETS}?community_id=2", f"{TICKETS}?community_id=3"]


def test_the_fan_out_sends_the_other_conditions_it_can(kit) -> None:
    vendor, session = kit
    frame = session.query("SELECT id FROM cc.tickets WHERE community_id = 4 AND status = 'OPEN' ORDER BY id")
    assert list(frame["id"]) == [400, 402]
    assert requests(vendor, TICKETS) == [f"{TICKETS}?status=OPEN&community_id=4"]


def test_without_key_values_an_optional_key_is_one_plain_scan(kit) -> None:
    vendor, session = kit
    frame = session.query("SELECT id FROM cc.tickets WHERE status = 'CLOSED'")
    assert len(frame) == 25
    assert requests(vendor, TICKETS) == [f"{TICKETS}?status=CLOSED"]


def test_more_key_values_than_max_values_is_one_scan_filtered_locally(kit) -> None:
    vendor, session = kit
    values = ", ".join(str(n) for n in range(1, 61))  # 60 values, communities 1..25 exist
    sql = f"SELECT id FROM cc.tickets WHERE community_id IN ({values})"
    assert len(session.query(sql)) == 75
    assert requests(vendor, TICKETS) == [TICKETS]
    text = session.explain(sql)
    assert "community_id has 60 values, more than the 50 read one community at a time" in text


def test_reads_by_id_win_over_the_fan_out(kit) -> None:
    vendor, session = kit
    frame = session.query("SELECT id, title FROM cc.tickets WHERE id = 301 AND community_id = 3")
    assert list(frame["title"]) == ["T3-1"]
    assert requests(vendor, TICKETS) == [f"{TICKETS}/301"]


def test_a_vendor_ignoring_the_key_gives_no_duplicate_or_mislabelled_row(kit) -> None:
    vendor, session = kit
    vendor.ignore_key = True  # every request answers every community's tickets
    frame = session.query("SELECT id, community_id FROM cc.tickets WHERE community_id IN (5, 6) ORDER BY id")
    assert list(frame["id"]) == [500, 501, 502, 600, 601, 602]
    assert list(frame["community_id"]) == [5, 5, 5, 6, 6, 6]


def test_a_required_key_is_enforced_before_any_request(kit) -> None:
    vendor, session = kit
    with pytest.raises(QueryError) as e:
        session.query("SELECT * FROM cc.appointments")
    assert e.value.message == "cc.appointments needs a filter on community_id (= or IN)"
    assert e.value.hint == "e.g. SELECT ... WHERE community_id = 12"
    assert vendor.seen == []


def test_a_missing_community_is_no_rows(kit) -> None:
    _, session = kit
    assert list(session.query("SELECT id FROM cc.appointments WHERE community_id IN (2, 99)")["id"]) == list(
        range(20, 27))


def test_a_failing_key_is_named_and_nothing_partial_is_returned(kit) -> None:
    vendor, session = kit
    vendor.fail = {3}
    with pytest.raises(VendorHTTPError) as e:
        session.query("SELECT id FROM cc.appointments WHERE community_id IN (2, 3, 4)")
    assert type(e.value) is VendorHTTPError and e.value.status == 500
    assert str(e.value).startswith("casavi Community (cc.appointments): community 3: ")
    assert e.value.table == "cc.appointments"


def test_a_malformed_answer_of_one_key_is_named_too(kit) -> None:
    vendor, session = kit
    vendor.chat_list = True
    with pytest.raises(VendorResponseError, match=r"\(cc.chat_unread\): community 7: malformed response to GET "
                                                  r"/api/v1/communities/7/chat/unread: the answer is a list, not one"):
        session.query("SELECT * FROM cc.chat_unread WHERE community_id = 7")


def test_a_single_object_answer_is_one_row(kit) -> None:
    vendor, session = kit
    frame = session.query("SELECT community_id, count FROM cc.chat_unread WHERE community_id IN (7, 8) ORDER BY 1")
    assert frame.to_dict("records") == [{"community_id": 7, "count": 7}, {"community_id": 8, "count": 8}]
    frame = session.query("SELECT id, title FROM cc.ticket_details WHERE id IN (201, 999)")
    assert frame.to_dict("records") == [{"id": 201, "title": "T2-1"}]


def test_a_dotted_field_through_a_non_object_is_a_vendor_error(kit) -> None:
    vendor, session = kit
    vendor.bad_type = True
    with pytest.raises(VendorResponseError, match=r"casavi Community \(cc.tickets\): (community 2: )?malformed "
                                                  r"response: the "
                                                  r"record's TicketType is a string, so it has no field "
                                                  r"'TicketType.name'"):
        session.query("SELECT ticket_type FROM cc.tickets WHERE community_id = 2")


def test_fan_out_scans_stay_within_the_connections_concurrency(served) -> None:
    holder, url = served
    holder[0] = vendor = loopback.Vendor(delay_s=0.02)
    with loopback.session_on(url, "cc", "cckit", loopback.KitConnector, concurrency=4) as session:
        keys = ", ".join(str(n) for n in range(1, 21))
        frame = session.query(f"SELECT id FROM cc.appointments WHERE community_id IN ({keys})")
    assert len(frame) == 140
    assert len(requests(vendor, "GET /api/v1/communities/")) == 40  # 2 pages of 5 per community
    assert 1 <= vendor.peak <= 4


def test_a_keys_page_budget_is_named_with_the_key(served) -> None:
    holder, url = served
    holder[0] = loopback.Vendor()
    with loopback.session_on(url, "cc", "cckit", loopback.KitConnector, max_pages=1) as session:
        with pytest.raises(RequestBudgetError) as e:
            session.query("SELECT id FROM cc.appointments WHERE community_id = 2")  # 7 rows, 5 a page: 2 pages
    assert e.value.message.startswith("casavi Community (cc.appointments): community 2: the scan needs more than 1 "
                                      "pages")
