"""The time keyset that reads a counted list completely (issue #12, casavi Community's notifications),
unit by unit: the user's own bound kept when tighter, a stop by the sink or LIMIT, and the ways it
cannot advance (no new row, unsorted or unparsable times, no count) said, never silently short."""

from __future__ import annotations

import asyncio
import datetime as dt
from typing import Any

import pytest

from crmql import stats
from crmql.connectors.rest.counted import Keyset, keyset_scan
from crmql.connectors.rest.paging import ScanLimits
from crmql.errors import VendorResponseError
from crmql.plan.connector import NativeRequest

T0 = dt.datetime(2026, 12, 1, tzinfo=dt.timezone.utc)
LIMITS = ScanLimits("casavi Community", "cc.notifications", key="community 15")


def at(seconds: float) -> str:
    return (T0 + dt.timedelta(seconds=seconds)).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


class Feed:
    """Rows 0..n-1 at second n; newest first, ``size`` a page, ``before``/``after`` exclusive."""

    def __init__(self, n: int, size: int = 4, *, times: Any = at, count: Any = None) -> None:
        self.rows = [{"id": i, "createdAt": times(i)} for i in range(n)]
        self.size, self.count, self.asked = size, count, []

    async def __call__(self, request: NativeRequest) -> tuple[list[dict[str, Any]], Any]:
        self.asked.append(request.render())
        query = dict(request.params or ())
        rows = [r for r in self.rows if ("before" not in query or r["createdAt"] < query["before"])
                and ("after" not in query or r["createdAt"] > query["after"])]
        rows.sort(key=lambda r: r["createdAt"], reverse=True)
        return rows[:self.size], len(rows) if self.count is None else self.count


def run(feed: Feed, request: NativeRequest | None = None, **options: Any) -> tuple[list[int], list[str]]:
    got: list[int] = []
    st = stats.QueryStats()
    sink = options.pop("sink", lambda rows: got.extend(r["id"] for r in rows) or True)
    with stats.collecting(st):
        asyncio.run(keyset_scan(feed, request or NativeRequest("GET", "/n"), Keyset(), sink=sink, limits=LIMITS,
                                **options))
    return got, st.warnings


def test_every_row_is_read_and_each_once() -> None:
    feed = Feed(10)
    got, warnings = run(feed)
    assert sorted(got) == list(range(10)) and not warnings
    assert feed.asked == ["GET /n", "GET /n?before=2026-12-01T00%3A00%3A06.001Z",
                          "GET /n?before=2026-12-01T00%3A00%3A03.001Z"]


def test_the_users_own_bound_is_replaced_only_by_a_tighter_one() -> None:
    feed = Feed(10)
    got, _ = run(feed, NativeRequest("GET", "/n", [("before", at(8))]))
    assert sorted(got) == list(range(8))
    assert feed.asked[1] == "GET /n?before=2026-12-01T00%3A00%3A04.001Z"


def test_a_page_without_a_new_row_stops_with_a_warning_or_an_error() -> None:
    feed = Feed(10, times=lambda i: at(0))  # every row at one time: the keyset cannot move
    got, warnings = run(feed)
    assert len(got) == 4 and len(feed.asked) == 2
    assert warnings == ["casavi Community (cc.notifications): vendor counted 10 notifications for community 15, "
                        "crmql got 4; the result is incomplete"]
    with pytest.raises(VendorResponseError, match="vendor counted 10 notifications for community 15, crmql got 4"):
        run(Feed(10, times=lambda i: at(0)), on_short="error")


def test_unparsable_times_stop_with_the_warning() -> None:
    feed = Feed(10, times=lambda i: f"day {i:02d}")
    got, warnings = run(feed)
    assert len(got) == 4 and len(feed.asked) == 1 and "crmql got 4" in warnings[0]


def test_no_count_is_said() -> None:
    got, warnings = run(Feed(3, count="many"))
    assert len(got) == 3 and "the count 'many' is no count" in warnings[0]


def test_the_sink_and_max_rows_stop_the_scan() -> None:
    feed = Feed(10)
    got, _ = run(feed, max_rows=6)
    assert len(got) == 6 and len(feed.asked) == 2
    feed = Feed(10)
    run(feed, sink=lambda rows: False)
    assert len(feed.asked) == 1
