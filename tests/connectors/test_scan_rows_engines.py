"""The scan engines reading a row range (``rows=(start, stop)``), as properties over random vendors:
for any total, page size, vendor page cap, page base and cuts, the ranges ``[0, c1), [c1, c2), ..,
[ck, None)`` together deliver every row exactly once and in order, each range asks only for its
own offsets or pages (a page-index vendor serving smaller pages than asked: one request more),
and nothing is said to be missing. Also ``extent`` on a page-index vendor that ignores a page size
of 1 (its page count is then no row count: None). The same against the sandbox over HTTP:
``test_scan_rows.py``.
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from crmql import stats
from crmql.connectors.rest import Col, PageIndexPaginator, Place, Resource, RestApi, RestConnector
from crmql.connectors.rest.page_index import page_index_scan
from crmql.connectors.rest.paging import offset_scan
from crmql.errors import VendorResponseError
from crmql.http import run_sync
from crmql.plan.catalog import ColumnType
from crmql.plan.connector import FetchPlan, Mode, NativeRequest


def _ranges(total: int, cuts: list[int]) -> list[tuple[int, int | None]]:
    bounds = [0, *sorted(cuts)]
    return [(a, b) for a, b in zip(bounds, bounds[1:])] + [(bounds[-1], None)]


cases = st.integers(0, 260).flatmap(lambda total: st.tuples(
    st.just(total), st.integers(1, 40), st.one_of(st.none(), st.integers(1, 40)),
    st.lists(st.integers(0, total + 5), max_size=3)))


@settings(max_examples=60, deadline=None)
@given(cases, st.one_of(st.none(), st.integers(0, 90)))
def test_offset_ranges_deliver_every_row_once(case: tuple[int, int, int | None, list[int]],
                                              max_rows: int | None) -> None:
    total, page_size, cap, cuts = case
    data = [{"n": n} for n in range(total)]
    calls: list[tuple[int, int]] = []

    async def page(offset: int, limit: int) -> tuple[list[dict[str, Any]], int]:
        calls.append((offset, limit))
        return data[offset:offset + min(limit, cap or limit)], total

    said = stats.QueryStats()
    got: list[dict[str, Any]] = []
    for start, stop in _ranges(total, cuts):
        calls.clear()
        part: list[dict[str, Any]] = []
        with stats.collecting(said):
            asyncio.run(offset_scan(page, page_size=page_size, sink=lambda r: part.extend(r) or True,
                                    rows=(start, stop)))
        end = total if stop is None else min(stop, total)
        assert part == data[start:end]
        got += part
        if stop is not None and stop <= start:
            assert calls == []  # an empty range asks nothing
            continue
        assert calls[0][0] == start
        assert all(start <= o and (o < end or o == start) and (stop is None or o + n <= stop) for o, n in calls)
        assert len({o for o, _ in calls}) == len(calls)  # no offset twice
    assert got == data
    assert said.warnings == []
    if max_rows is not None and cuts:  # a LIMIT inside a range counts from its start
        start = sorted(cuts)[0]
        part = []
        asyncio.run(offset_scan(page, page_size=page_size, sink=lambda r: part.extend(r) or True,
                                rows=(start, None), max_rows=max_rows))
        assert part == data[start:start + max_rows]


@settings(max_examples=60, deadline=None)
@given(cases, st.sampled_from([0, 1]), st.booleans())
@example((5, 4, 3, [4]), 0, False)  # the range's first page is the capped vendor's last one
@example((250, 50, 30, [60, 130]), 1, False)
def test_page_index_ranges_deliver_every_row_once(case: tuple[int, int, int | None, list[int]], base: int,
                                                  sequential: bool) -> None:
    total, size, cap, cuts = case
    data = [{"n": n} for n in range(total)]
    calls: list[tuple[int, int]] = []

    async def page(index: int, asked: int) -> tuple[list[dict[str, Any]], int]:
        calls.append((index, asked))
        served = min(asked, cap or asked)
        at = (index - base) * served
        return data[at:at + served], -(-total // served)

    said = stats.QueryStats()
    got: list[dict[str, Any]] = []
    for start, stop in _ranges(total, cuts):
        calls.clear()
        part: list[dict[str, Any]] = []
        with stats.collecting(said):
            asyncio.run(page_index_scan(page, page_size=size, base=base, sequential=sequential,
                                        sink=lambda r: part.extend(r) or True, rows=(start, stop)))
        end = total if stop is None else min(stop, total)
        assert part == data[start:end]
        got += part
        if stop is not None and stop <= start:
            assert calls == []
            continue
        effective = min(size, cap or size)  # the rows a page holds
        if (start, stop) == (0, None):  # the whole scan: every page once, at the size asked
            assert calls == [(i, size) for i in range(base, base + max(1, -(-total // effective)))]
            continue
        final = calls[-1][1]  # the size the range was read in: the one asked, or the vendor's
        assert final in (size, effective)
        main = [i for i, n in calls if n == final]
        extra = [i for i, n in calls if n != final]  # the first page at the size asked, and the one before it
        assert set(extra) <= {base + start // size, base + start // size - 1} and len(extra) <= 2
        first = base + start // final
        if final == size and main[:2] == [first, first - 1]:  # its first page was the vendor's last: checked
            main = main[:1] + main[2:]
        covering = list(range(first, base + max(-(-end // final), start // final + 1)))
        assert main == covering or (sequential and stop is None and main == covering + [covering[-1] + 1])
    assert got == data
    assert said.warnings == []


def test_page_index_short_page_after_the_first_is_an_error() -> None:
    """A vendor whose pages shrink inside the range: the indexes no longer name the rows."""
    async def page(index: int, size: int) -> tuple[list[dict[str, Any]], int]:
        return [{"n": index * 10 + i} for i in range(10 if index < 3 else 4)], 9

    with pytest.raises(VendorResponseError, match="page 3 has 4 records, fewer than the 10"):
        asyncio.run(page_index_scan(page, page_size=10, sink=lambda r: True, rows=(10, None)))


class _Demo(RestConnector):
    api = RestApi("demo", "Demo", (Resource(
        "items", "Items", "/items", records="rows", columns=(Col("id", ColumnType.STRING),),
        paginator=PageIndexPaginator(page=Place.query("page"), size=Place.query("limit"), max_page=100,
                                     size_echo="pageSize")),))


@pytest.mark.parametrize("answer, expected", [
    ({"page": 0, "pageCount": 734, "pageSize": 1, "rows": [{"id": "a"}]}, (734, 100)),
    ({"page": 0, "pageCount": 0, "pageSize": 1, "rows": []}, (0, 100)),
    ({"page": 0, "pageCount": 8, "pageSize": 100, "rows": [{"id": "a"}, {"id": "b"}]}, None),  # size 1 ignored
    ({"page": 0, "pageCount": 8, "pageSize": 100, "rows": [{"id": "a"}]}, None),  # its echo says so
    ({"page": 0, "pageCount": "many", "rows": [{"id": "a"}]}, None),  # no count
])
def test_page_index_extent_only_from_a_page_of_one_row(answer: dict[str, Any], expected: Any,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    conn = _Demo("demo", {"base_url": "http://127.0.0.1:9"})
    table = conn.table("items")
    asked: list[NativeRequest] = []

    async def send(table: Any, request: NativeRequest, **kwargs: Any) -> Any:
        asked.append(request)
        return answer

    monkeypatch.setattr(conn, "send", send)
    plan = FetchPlan(Mode.SEARCH, requests=[NativeRequest("GET", "/items", {"limit": 100, "page": 0})])
    extent = run_sync(conn.extent(table, plan))
    assert (None if extent is None else (extent.rows, extent.page)) == expected
    assert [r.render() for r in asked] == ["GET /items?limit=1&page=0"]


def test_a_range_served_short_is_said_of_that_range() -> None:
    """A vendor reporting 200 rows and serving 120: the range from 100 says what it missed."""
    async def page(offset: int, limit: int) -> tuple[list[dict[str, Any]], int]:
        return [{"n": n} for n in range(offset, min(offset + limit, 120))], 200

    got: list[dict[str, Any]] = []
    with stats.collecting(stats.QueryStats()) as said:
        asyncio.run(offset_scan(page, page_size=10, sink=lambda r: got.extend(r) or True, rows=(100, None)))
    assert got == [{"n": n} for n in range(100, 120)]
    assert said.warnings == ["vendor: vendor reported 200 rows, served 20 of its rows 100-200; the result "
                                        "may be incomplete"]
