"""REST kit fixes from the issue #12 reviews, over real HTTP against the loopback vendor of
:mod:`community_kit_loopback`: a key's warnings name the key, connection-wide errors are not
blamed on a key, COUNT(*) of a page-index table asks pages of one row (and counts over the scan
when the vendor serves another page size), LIMIT reads a window of keys concurrently, in key order,
and the 404 policy of a fan-out without a ``missing_hint`` (the loopback's: a warning only)."""

from __future__ import annotations

import pytest

from crmql.errors import (AuthenticationError, CancelledError, ConfigError, NetworkError, RateLimitedError,
                          RequestBudgetError, VendorHTTPError, VendorResponseError)
from crmql.connectors.rest.fan_out import named
from crmql.connectors.rest import FanOut

import community_kit_loopback as loopback

served, kit = loopback.fixtures()

APPTS, NOTES, sent = loopback.APPTS, loopback.NOTES, loopback.sent


def test_a_warning_of_a_keys_scan_names_the_key(kit) -> None:
    vendor, session = kit
    vendor.no_count = True
    result = session.execute("SELECT id FROM cc.notifications WHERE community_id = 2")
    assert len(result.frame) == 5
    assert any(w.startswith("casavi Community (cc.notifications), community 2: the count is missing")
               for w in result.stats.warnings), result.stats.warnings


@pytest.mark.parametrize("error, blamed", [
    (VendorHTTPError("boom", vendor="V", table="v.t", status=500), True),
    (VendorResponseError("bad", vendor="V", table="v.t", request="GET /x"), True),
    (RateLimitedError("slow down", vendor="V", table="v.t", status=429), True),
    (AuthenticationError("authentication failed", vendor="V", table="v.t", status=401), False),
    (ConfigError("no base_url", vendor="V"), False),
    (NetworkError("could not resolve the host name", vendor="V", table="v.t"), False),
    (RequestBudgetError("the statement needs more than 1000 requests", vendor="V"), False),
])
def test_only_an_answer_to_the_keys_request_is_named_after_the_key(error, blamed: bool) -> None:
    before = error.message
    out = named(error, FanOut("community_id", noun="community"), 15)
    assert out is error and type(out) is type(error)
    assert ("community 15: " in out.message) is blamed
    if not blamed:
        assert out.message == before


def test_named_leaves_a_cancel_alone() -> None:  # (not a ConnectorError: never given to named by the kit)
    assert not issubclass(CancelledError, VendorHTTPError)


def test_count_of_a_page_index_table_asks_pages_of_one_row(kit) -> None:
    vendor, session = kit
    frame = session.query("SELECT COUNT(*) AS n FROM cc.appointments WHERE community_id IN (2, 3)")
    assert list(frame["n"]) == [14]
    assert sorted(vendor.seen) == [f"{APPTS}?limit=1&page=0", "GET /api/v1/communities/3/appointments?limit=1&page=0"]
    assert "limit=1" in session.explain("SELECT COUNT(*) FROM cc.appointments WHERE community_id = 2")


def test_count_where_the_vendor_serves_another_page_size_is_counted_over_the_scan(kit) -> None:
    vendor, session = kit
    vendor.serve_size = 3  # limit=1 is answered with 3 rows a page: the page count is no row count
    frame = session.query("SELECT COUNT(*) AS n FROM cc.appointments WHERE community_id = 2")
    assert list(frame["n"]) == [7]
    assert sent(vendor, APPTS)[0] == f"{APPTS}?limit=1&page=0" and len(sent(vendor, APPTS)) > 1


def test_a_limit_reads_a_window_of_keys_at_once_in_key_order(served) -> None:
    holder, url = served
    holder[0] = vendor = loopback.Vendor(delay_s=0.05)
    ins = ", ".join(str(c) for c in range(1, 21))
    with loopback.session_on(url, "cc", "cckit", loopback.KitConnector, concurrency=4) as session:
        frame = session.query(f"SELECT community_id, id FROM cc.appointments WHERE community_id IN ({ins}) LIMIT 100")
        got = sorted(frame["id"])  # (no ORDER BY: the local SQL may reorder; the rows are the first keys')
        assert got[:98] == [c * 10 + n for c in range(1, 15) for n in range(7)] and len(got) == 100
        assert {i // 10 for i in got[98:]} == {15}
        assert 1 < vendor.peak <= 4  # concurrently, within the connection's concurrency
        vendor.seen.clear()
        frame = session.query(f"SELECT id FROM cc.appointments WHERE community_id IN ({ins}) LIMIT 8")
        assert sorted(frame["id"])[:7] == [10, 11, 12, 13, 14, 15, 16] and sorted(frame["id"])[7] // 10 == 2
        # stopped once the LIMIT was reached: no key beyond the window was started
        assert {int(s.split("/")[4]) for s in sent(vendor, "GET /api/v1/communities/")} <= {1, 2, 3, 4, 5}


def test_a_limit_with_a_re_check_stops_in_key_order(served) -> None:
    holder, url = served
    holder[0] = vendor = loopback.Vendor(delay_s=0.02)
    ins = ", ".join(str(c) for c in range(1, 21))
    with loopback.session_on(url, "cc", "cckit", loopback.KitConnector, concurrency=4) as session:
        frame = session.query(f"SELECT id FROM cc.appointments WHERE community_id IN ({ins}) AND title = 'A6' LIMIT 3")
    assert sorted(frame["id"]) == [16, 26, 36]  # the first keys' rows that pass, not any three
    assert 1 < vendor.peak <= 4


def test_a_failure_past_the_limit_is_not_raised(served) -> None:
    holder, url = served
    holder[0] = vendor = loopback.Vendor(fail={3})
    with loopback.session_on(url, "cc", "cckit", loopback.KitConnector, concurrency=4) as session:
        frame = session.query("SELECT id FROM cc.appointments WHERE community_id IN (1, 2, 3) LIMIT 5")
        assert sorted(frame["id"]) == [10, 11, 12, 13, 14]
        with pytest.raises(VendorHTTPError, match="community 3: "):
            session.query("SELECT id FROM cc.appointments WHERE community_id IN (1, 2, 3) LIMIT 20")


def test_a_missing_key_without_a_missing_hint_is_a_warning(kit) -> None:
    vendor, session = kit
    result = session.execute("SELECT id FROM cc.appointments WHERE community_id IN (2, 99)")
    assert len(result.frame) == 7
    assert any("community 99 answered 404 (no such community?): no rows for it" in w for w in result.stats.warnings)
    result = session.execute("SELECT id FROM cc.appointments WHERE community_id = 99")  # no missing_hint: no error
    assert result.frame.empty
