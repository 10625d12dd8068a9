"""The REST kit's parts, one by one: placements, filter encoders, paginators as declarations,
spec validation, the generic planning (reads by id, fan-out, COUNT, LIMIT, sort, OR split), the
auth declarations and H6's flows behind them. Over real HTTP: ``test_rest_kit_http.py``."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from crmql.connectors.rest import (
    ById, Col, CountedPaginator, Explode, FanOut, FieldParams, FilterList, JsonFilterTree, KeySecretToken, NextLinkPaginator,
    OAuth, OffsetPaginator, OidcBearer, OpParams, Page, PageIndexPaginator, Place, Resource, SessionId, SinglePage,
    Sort,
)
from crmql.connectors.rest.paginators import PagingFacts, ScanContext
from crmql.connectors.rest.paging import ScanLimits
from crmql.connectors.rest.planning import plan_scan
from crmql.errors import ConfigError, VendorResponseError
from crmql.language import ast
from crmql.plan.catalog import Column, ColumnType, FilterShape, Table
from crmql.plan.connector import Candidate, FilterSet, Mode, NativeRequest, Needs
from crmql.plan.pushdown import NativeCond, Pushed
from crmql.stats import QueryStats, collecting

EQ = NativeCond("status", "eq", "won")


def cand(*conds: NativeCond, exact: bool = True) -> Candidate:
    return Candidate(ast.Column(conds[0].field), push=Pushed(tuple(conds), exact))


def any_of(*conds: NativeCond) -> Candidate:
    return Candidate(ast.Column(conds[0].field), any_of=tuple(Pushed((c,), True) for c in conds))


TABLE = Table("demo", "sales", (Column("id", ColumnType.STRING), Column("status", ColumnType.STRING),
                                Column("amount", ColumnType.FLOAT)))


# ---- placements -----------------------------------------------------------------------------------

def test_every_placement_puts_and_reads_back() -> None:
    req = NativeRequest("POST", "/c/{id}/x", params=[("a", "1")], body={"q": {}})
    for place, value in [(Place.query("limit"), "5"), (Place.body("options.page.size"), 5), (Place.header("X-N"), "5")]:
        assert place.get(place.put(req, value)) == value
    assert Place.path("id").put(req, "a b/c").path == "/c/a%20b%2Fc/x"
    assert req == NativeRequest("POST", "/c/{id}/x", params=[("a", "1")], body={"q": {}})  # never changed in place


def test_a_value_already_there_is_replaced_where_it_stands() -> None:
    req = NativeRequest("GET", "/t", params=[("type", "sale"), ("limit", "100"), ("fields.x[eq]", "1")])
    assert Place.query("limit").put(req, 1).params == [("type", "sale"), ("limit", "1"), ("fields.x[eq]", "1")]
    body = NativeRequest("POST", "/s", body={"f": {}, "limit": 50, "offset": 0})
    assert list(Place.body("offset").put(body, 100).body.items()) == [("f", {}), ("limit", 50), ("offset", 100)]


# ---- encoders -------------------------------------------------------------------------------------

def test_encoders_render_and_view_what_they_put() -> None:
    fs = FilterSet([EQ], [[NativeCond("city", "eq", "A"), NativeCond("city", "eq", "B")]])
    tree = JsonFilterTree("sale_filter")
    request = tree.apply(NativeRequest("POST", "/s"), fs)
    assert tree.view([request]) == {"and": [{"status": {"eq": "won"}}],
                                     "or": [{"city": {"eq": "A"}}, {"city": {"eq": "B"}}]}
    params = FieldParams("fields.{field}[{op}]").apply(NativeRequest("GET", "/e"), fs).params
    assert params == [("fields.status[eq]", "won"), ("fields.city[eq]", "A"), ("fields.city[eq]", "B")]
    listed = FilterList("filters", operators={"eq": "equals"}).apply(NativeRequest("POST", "/q"), FilterSet([EQ]))
    assert listed.body == {"filters": [{"field": "status", "operator": "equals", "value": "won"}]}
    assert OpParams({"type": "type"}).apply(NativeRequest("GET", "/l"), FilterSet([NativeCond("t", "type", "sale")])).params == [("type", "sale")]


# ---- paginators -----------------------------------------------------------------------------------

def test_paginators_put_their_first_page_values() -> None:
    base = NativeRequest("GET", "/t")
    assert OffsetPaginator(limit=Place.query("n"), offset=Place.query("from")).first(base, 20).params == [("n", "20"), ("from", "0")]
    assert PageIndexPaginator(base=1).first(base, 50).params == [("limit", "50"), ("page", "1")]
    assert NextLinkPaginator().first(base, 100).params == [("limit", "100")]
    assert SinglePage().first(base, 0) == base and CountedPaginator().first(base, 0) == base


def test_next_link_paths_and_their_malformed_shapes() -> None:
    hal = NextLinkPaginator()
    assert hal.next_link({"_links": {"next": {"href": "/p2"}}}) == "/p2"
    assert hal.next_link({"_links": []}) is None and hal.next_link({"_links": {"next": None}}) is None
    with pytest.raises(ValueError, match="its '_links' are not an object with a 'next' object"):
        hal.next_link({"_links": "x"})
    with pytest.raises(ValueError, match="its '_links' are not an object with a 'next' object"):
        hal.next_link({"_links": {"next": "x"}})
    assert NextLinkPaginator(next="next").next_link({"next": "/p3"}) == "/p3"


def _run(paginator: Any, pages: dict[Any, Any], request: NativeRequest) -> tuple[list[Any], list[str]]:
    """Run a paginator's scan over canned answers: ``pages`` maps a request's rendering (or a next
    link) to ``(records, total, next, data)``."""
    got: list[Any] = []
    asked: list[str] = []

    async def fetch(target: Any, label: str) -> Page:
        key = target if isinstance(target, str) else target.render()
        asked.append(key)
        records, total, nxt, data = pages[key]
        return Page(records, total, nxt, data)

    ctx = ScanContext(request, fetch, lambda rows: got.extend(rows) or True, ScanLimits("Demo", "demo.t"))
    with collecting(QueryStats()):
        asyncio.run(paginator.scan(ctx))
    return got, asked


def test_offset_pages_are_derived_from_the_first_request_and_the_echo_is_checked() -> None:
    p = OffsetPaginator(limit=Place.body("limit"), offset=Place.body("offset"), max_page=2, echo="offset")
    first = p.first(NativeRequest("POST", "/s", body={"f": {}}), 2)
    pages = {p.offset.put(p.limit.put(first, min(2, 5 - o)), o).render():
             ([{"n": o + i} for i in range(min(2, 5 - o))], 5, None, {"offset": o}) for o in (0, 2, 4)}
    got, asked = _run(p, pages, first)
    assert [r["n"] for r in got] == [0, 1, 2, 3, 4] and len(asked) == 3
    lying = {k: (v[0], v[1], None, {"offset": 0}) for k, v in pages.items()}
    with pytest.raises(VendorResponseError, match="asked for offset 2 but got offset 0"):
        _run(p, lying, first)


def test_page_index_and_counted_and_single_page_scans() -> None:
    p = PageIndexPaginator(max_page=2, page_count="pageCount")
    first = p.first(NativeRequest("GET", "/a"), 2)
    pages = {p.page.put(first, i).render(): ([{"n": 2 * i}, {"n": 2 * i + 1}], None, None, {"pageCount": 3})
             for i in range(3)}
    assert [r["n"] for r in _run(p, pages, first)[0]] == [0, 1, 2, 3, 4, 5]
    plain = NativeRequest("GET", "/n")
    assert _run(CountedPaginator(), {plain.render(): ([{"n": 1}], None, None, {"count": 1})}, plain)[0] == [{"n": 1}]
    assert _run(SinglePage(), {plain.render(): ([{"n": 1}, {"n": 2}], None, None, None)}, plain)[0] == [{"n": 1}, {"n": 2}]


def test_paging_descriptions() -> None:
    assert OffsetPaginator().describe(PagingFacts(50, concurrency=4))[1] == "ceil(object_count / 50) search requests"
    paging, estimate = NextLinkPaginator().describe(PagingFacts(100, splits=2, noun="entities"))
    assert paging == ("100 per page (limit), following _links.next; the OR is split into 2 requests, unioned and "
                      "de-duplicated by id")
    assert estimate == "ceil(total / 100) entities requests per split request"


# ---- spec validation ------------------------------------------------------------------------------

@pytest.mark.parametrize("kwargs, message", [
    ({"method": "PUT"}, "is not GET or POST"),
    ({"layout": ("page", "filters")}, "layout has"),
    ({"by_id": ById("/t/get")}, "has no {id}"),
    ({"path": "/c/{id}/t"}, "a slot only a fan_out fills"),
    ({"fan_out": FanOut("key")}, "does not have"),
    ({"columns": (Col("k", ColumnType.STRING), Col("since", ColumnType.TIMESTAMP, param=Place.query("since"))),
      "fan_out": FanOut("k"), "path": "/t/{id}"}, "takes no filter-only column"),
    ({"explode": Explode("items"), "by_id": ById("/t/{id}")}, "is not carried from the parent"),
])
def test_a_declaration_that_cannot_work_fails_when_made(kwargs: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        Resource(**{"name": "t", "description": "T", "path": "/t", **kwargs})


# ---- planning -------------------------------------------------------------------------------------

SALES = Resource("sales", "Sales", "/sales", params=(("type", "sale"),), paginator=NextLinkPaginator(),
                 filters=FieldParams("fields.{field}[{op}]"), layout=("page", "filter", "sort"),
                 shape=FilterShape(or_groups=10, or_same_field_op=True, unique_field_op=True, split_or=True),
                 by_id=ById("/sales/{id}", ops=("eq", "in"), max_ids=4), sort=Sort(Place.query("sort-by")),
                 noun="entities")


def test_reads_by_id_and_ids_no_path_segment_can_carry() -> None:
    plan = plan_scan(SALES, TABLE, [cand(EQ), cand(NativeCond("id", "in", ["a", "..", "b/c", "d"]))], Needs())
    assert plan.mode is Mode.GET and plan.keys == ("a", "d") and plan.used == (1,)
    assert [r.render() for r in plan.requests] == ["GET /sales/a", "GET /sales/d"]
    assert plan.notes == {0: "GET by id carries no other filter; checked locally"}
    none = plan_scan(SALES, TABLE, [cand(NativeCond("id", "eq", ".."))], Needs())
    assert none.mode is Mode.NONE and not none.requests
    many = plan_scan(SALES, TABLE, [cand(NativeCond("id", "in", ["a", "b", "c", "d", "e"]))], Needs())
    assert many.mode is Mode.SEARCH  # more ids than max_ids: a search


def test_count_limit_sort_and_split() -> None:
    count = plan_scan(SALES, TABLE, [cand(EQ)], Needs(count_only=True))
    assert count.mode is Mode.COUNT and count.requests[0].params == [("type", "sale"), ("limit", "1"),
                                                                     ("fields.status[eq]", "won")]
    limited = plan_scan(SALES, TABLE, [cand(EQ)], Needs(limit_rows=7))
    assert limited.max_rows == 7 and limited.page_size == 7 and not limited.stop_early
    amount = TABLE.column("amount")
    ordered = plan_scan(SALES, TABLE, [cand(EQ)], Needs(limit_rows=3, order=(amount,)))
    assert ordered.sorted_by == "amount" and ordered.stop_early and ("sort-by", "amount") in ordered.requests[0].params
    shaped = Table("demo", "sales", TABLE.columns, shape=SALES.shape)  # a declared table has its resource's shape
    split = plan_scan(SALES, shaped, [any_of(EQ, NativeCond("amount", "eq", "5"))], Needs())
    assert split.split == 0 and len(split.requests) == 2 and split.native == [list(r.params) for r in split.requests]
    assert plan_scan(SALES, TABLE, [cand(EQ)], Needs(limit_rows=0)).mode is Mode.NONE


def test_fan_out_one_request_per_key_with_its_fixed_filters() -> None:
    links = Resource("links", "Links", "/e/{id}/links", paginator=NextLinkPaginator(max_page=100),
                     layout=("page", "filter"), fan_out=FanOut("entity_id", filters={"type": "type"}, noun="entity"))
    table = Table("demo", "links", (Column("entity_id", ColumnType.STRING),
                                    Column("other_type", ColumnType.STRING, options=("sale", "company"))))
    keys = cand(NativeCond("entity_id", "path", ["e1", "e/2", "e3"]))
    plan = plan_scan(links, table, [keys, cand(NativeCond("other_type", "type", "sale"))], Needs())
    assert plan.mode is Mode.FAN_OUT and plan.keys == ("e1", "e3") and plan.used == (0, 1)
    assert [r.render() for r in plan.requests] == ["GET /e/e1/links?limit=100&type=sale", "GET /e/e3/links?limit=100&type=sale"]
    unknown = plan_scan(links, table, [keys, cand(NativeCond("other_type", "type", "robot"))], Needs())
    assert unknown.used == (0,)  # a value the vendor does not know is not sent (it would be a 400)


# ---- auth -----------------------------------------------------------------------------------------

def test_auth_declarations_build_their_flows() -> None:
    assert type(OAuth("/t", password_grant=True).build({"client_id": "a", "client_secret": "b", "username": "u",
                                                        "password": "p"})).__name__ == "OAuthPassword"
    assert type(KeySecretToken(path="/v2/authenticate").build({"key": "k", "secret": "s"})).__name__ == "KeySecretTokenAuth"
    assert type(OidcBearer().build({"access_token": "at", "refresh_token": "rt"})).__name__ == "OidcRefreshAuth"
    assert type(SessionId(send_as="query").build({"session_id": "sid"})).__name__ == "SessionIdAuth"
    with pytest.raises(ConfigError, match="not available"):
        type(KeySecretToken())("NoSuchFlow").build({})
