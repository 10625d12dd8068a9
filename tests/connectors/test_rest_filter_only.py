"""A filter-only column (``Col(param=...)``, casavi's ``modifiedAfter``) says what it is: DESCRIBE
lists it as "= only (filter-only: sent as ..., exact by the vendor's definition, not re-checked)"
and EXPLAIN marks its pushed condition exact by the vendor's definition, named after the request
parameter; the request sent is the one EXPLAIN shows (real HTTP, a loopback vendor)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from crmql.connectors.rest import Col, NextLinkPaginator, Place, Resource, RestApi, RestConnector
from crmql.errors import QueryError
from crmql.plan.catalog import ColumnType

from live_server import vendor_fixtures

S, T = ColumnType.STRING, ColumnType.TIMESTAMP
START = dt.datetime(2026, 10, 1, tzinfo=dt.timezone.utc)
ROWS = [{"id": f"C-{n:03d}", "changed": START + dt.timedelta(days=n)} for n in range(40)]


def _zulu(value: dt.datetime) -> str:
    return value.astimezone(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.") + f"{value.microsecond // 1000:03d}Z"


CONTACTS = Resource(
    "contacts", "contacts", "/v2/contacts", records="list",
    columns=(Col("id", S), Col("modifiedAfter", T, description="changed after that time (filter-only)",
                               param=Place.query("modifiedAfter"), render=_zulu),
             Col("role", S, param=Place.query("role"))),
    paginator=NextLinkPaginator(next="_links.next", size=Place.query("limit"), max_page=50, total=None))


class OnlyConnector(RestConnector):
    api = RestApi("only", "Only", (CONTACTS,))


class Vendor:
    def __init__(self) -> None:
        self.seen: list[str] = []

    def app(self) -> Starlette:
        return Starlette(routes=[Route("/v2/contacts", self.contacts)])

    async def contacts(self, request: Request) -> Response:
        self.seen.append(str(request.url.query))
        after = request.query_params.get("modifiedAfter")
        bound = dt.datetime.fromisoformat(after.replace("Z", "+00:00")) if after else None
        rows = [{"id": r["id"]} for r in ROWS if bound is None or r["changed"] > bound]
        return JSONResponse({"list": rows})


served, only = vendor_fixtures(Vendor, OnlyConnector, "only", fixture="only")


def test_describe_says_a_filter_only_column_is_exact_by_the_vendors_definition(only: tuple[Vendor, Any]) -> None:
    vendor, session = only
    frame = session.query("DESCRIBE only.contacts").set_index("column")
    assert frame.loc["modifiedAfter", "pushed_filters"] == ("= only (filter-only: sent as modifiedAfter, exact by the "
                                                            "vendor's definition, not re-checked)")
    assert frame.loc["role", "pushed_filters"].startswith("= only (filter-only: sent as role,")
    assert frame.loc["id", "pushed_filters"] == "(local only)"
    assert vendor.seen == []  # DESCRIBE sends nothing


def test_explain_marks_it_exact_by_the_vendors_definition_and_sends_what_it_shows(only: tuple[Vendor, Any]) -> None:
    vendor, session = only
    sql = "SELECT id FROM only.contacts WHERE modifiedAfter = TIMESTAMP '2026-11-01' AND id <> 'C-039'"
    text = session.explain(sql)
    assert "GET /v2/contacts?limit=50&modifiedAfter=2026-11-01T00%3A00%3A00.000Z" in text
    assert ("""modifiedAfter = TIMESTAMP '2026-11-01 00:00:00Z'  ->  {"modifiedAfter": {"param": "2026-11-01T00:00:00"""
            """.000Z"}}  [exact by the vendor's definition (filter-only: sent as modifiedAfter; the records carry no """
            """value to re-check)]""") in text  # the value as sent (the column's render), not crmql's spelling
    assert "id != 'C-039'  (Only cannot filter id)" in text  # the rest stays local, as always
    vendor.seen.clear()
    frame = session.query(sql)
    assert list(frame["id"]) == [f"C-{n:03d}" for n in range(32, 39)]
    assert vendor.seen == ["limit=50&modifiedAfter=2026-11-01T00%3A00%3A00.000Z"]
    with pytest.raises(QueryError, match="modifiedAfter exists only as the request parameter modifiedAfter"):
        session.query("SELECT id FROM only.contacts WHERE modifiedAfter > TIMESTAMP '2026-11-01'")


def test_the_rows_carry_the_typed_value_while_the_request_and_explain_carry_the_sent_text(
        only: tuple[Vendor, Any]) -> None:
    vendor, session = only
    sql = ("SELECT id, modifiedAfter, role FROM only.contacts WHERE modifiedAfter = TIMESTAMP '2026-11-01 08:30:05.5' "
           "AND role = 'OWNER'")
    text = session.explain(sql)
    assert '{"modifiedAfter": {"param": "2026-11-01T08:30:05.500Z"}}' in text and '{"role": {"param": "OWNER"}}' in text
    vendor.seen.clear()
    frame = session.query(sql)
    assert vendor.seen == ["limit=50&modifiedAfter=2026-11-01T08%3A30%3A05.500Z&role=OWNER"]
    bound = dt.datetime(2026, 11, 1, 8, 30, 5, 500000, tzinfo=dt.timezone.utc)
    assert list(frame["id"]) == [r["id"] for r in ROWS if r["changed"] > bound]
    assert {str(v) for v in frame["modifiedAfter"]} == {"2026-11-01 08:30:05.500000+00:00"}  # a TIMESTAMP, typed
    assert set(frame["role"]) == {"OWNER"}
