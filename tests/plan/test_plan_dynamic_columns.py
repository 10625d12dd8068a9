"""Lazy dynamic columns (:attr:`crmql.plan.catalog.Table.extend`): a table declares its known
columns and completes itself (casavi's custom fields, found in a sample page) only when a statement
needs it. Over real HTTP: a next-link vendor on loopback whose records carry ``customFields``; the
connector's ``extend`` sends one sample request and counts its calls, so every test can say how
many requests a statement cost."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from crmql.connectors.rest import Col, NextLinkPaginator, Place, Resource, RestApi, RestConnector
from crmql.errors import QueryError
from crmql.http import run_sync
from crmql.plan.catalog import Column, ColumnType, Table

from live_server import vendor_fixtures

S = ColumnType.STRING
ROWS = [{"id": f"C-{n:03d}", "lastName": f"Huber {n}",
         "customFields": {"Newsletter": n % 2 == 0, **({"Kundennummer": f"K{n}"} if n % 3 else {})}}
        for n in range(25)]
HINT = "custom fields are found in the first page of contacts; declare one with custom_fields"

CONTACTS = Resource("contacts", "contacts", "/v2/contacts", records="list",
                    columns=(Col("id", S), Col("lastName", S)),
                    paginator=NextLinkPaginator(next="_links.next", size=Place.query("limit"), max_page=10,
                                                total=None))


class LazyConnector(RestConnector):
    """Declared columns, plus one column per custom field found in one sample page."""

    api = RestApi("lazy", "Lazy", (CONTACTS,))
    extended = 0

    def load_tables(self) -> dict[str, Table]:
        tables = super().load_tables()
        return {name: dataclasses.replace(t, extend=lambda t=t: self._complete(t), unknown_hint=HINT)
                for name, t in tables.items()}

    def _complete(self, table: Table) -> Table:
        type(self).extended += 1
        sample = run_sync(self.http.request_json("GET", "/v2/contacts", table=table.qualified,
                                                 params={"limit": "10"}))
        names = dict.fromkeys(k for r in sample["list"] for k in (r.get("customFields") or {}))
        found = tuple(Column(n, ColumnType.BOOLEAN if n == "Newsletter" else S, "custom field") for n in names)
        return dataclasses.replace(table, columns=table.columns + found)

    def row(self, table: Table, record: dict[str, Any]) -> dict[str, Any]:
        return {**(record.get("customFields") or {}), **record}


class Vendor:
    def __init__(self) -> None:
        self.seen: list[str] = []

    def app(self) -> Starlette:
        return Starlette(routes=[Route("/v2/contacts", self.contacts)])

    async def contacts(self, request: Request) -> Response:
        self.seen.append(str(request.url.query))
        page, size = int(request.query_params.get("page", 0)), int(request.query_params.get("limit", 10))
        body: dict[str, Any] = {"list": ROWS[page * size:(page + 1) * size]}
        if (page + 1) * size < len(ROWS):
            body["_links"] = {"next": f"/v2/contacts?limit={size}&page={page + 1}"}
        return JSONResponse(body)


served, lazy = vendor_fixtures(Vendor, LazyConnector, "lazy", fixture="lazy", setup=lambda: setattr(LazyConnector, "extended", 0))


def test_declared_columns_only_cost_no_sample_request(lazy: tuple[Vendor, Any]) -> None:
    vendor, session = lazy
    frame = session.query("SELECT id, lastName FROM lazy.contacts WHERE lastName LIKE '%1%' ORDER BY id")
    assert list(frame.columns) == ["id", "lastName"] and len(frame) == 12
    assert LazyConnector.extended == 0
    assert vendor.seen == ["limit=10", "limit=10&page=1", "limit=10&page=2"]  # the scan, nothing more
    session.explain("SELECT id FROM lazy.contacts WHERE id = 'C-001'")
    assert LazyConnector.extended == 0


def test_a_column_not_declared_completes_the_table_once(lazy: tuple[Vendor, Any]) -> None:
    vendor, session = lazy
    frame = session.query("SELECT id, Kundennummer FROM lazy.contacts WHERE Newsletter = TRUE AND Kundennummer "
                          "IS NOT NULL ORDER BY id")
    assert LazyConnector.extended == 1  # two dynamic columns, one completion
    assert list(frame["id"]) == [r["id"] for r in ROWS if r["customFields"]["Newsletter"]
                                 and "Kundennummer" in r["customFields"]]
    assert list(frame["Kundennummer"])[:2] == ["K2", "K4"]
    assert len(vendor.seen) == 1 + 3  # the sample, then the scan
    qualified = session.query("SELECT c.id FROM lazy.contacts c WHERE c.newsletter")  # qualified, any case
    assert len(qualified) == 13 and LazyConnector.extended == 2


def test_star_and_describe_show_every_column(lazy: tuple[Vendor, Any]) -> None:
    _, session = lazy
    frame = session.query("SELECT * FROM lazy.contacts LIMIT 3")
    assert list(frame.columns) == ["id", "lastName", "Newsletter", "Kundennummer"]
    assert LazyConnector.extended == 1
    described = session.query("DESCRIBE lazy.contacts")
    assert list(described["column"]) == ["id", "lastName", "Newsletter", "Kundennummer"]
    assert list(session.describe("lazy", "contacts")["type"])[2] == "boolean"
    assert LazyConnector.extended == 3
    assert list(session.query("SELECT c.* FROM lazy.contacts c LIMIT 1").columns)[2:] == ["Newsletter",
                                                                                          "Kundennummer"]


def test_still_unknown_after_completion_is_a_located_error_with_the_tables_hint(lazy: tuple[Vendor, Any]) -> None:
    _, session = lazy
    with pytest.raises(QueryError) as err:
        session.query("SELECT id, Sonderkuendigungsrecht FROM lazy.contacts")
    assert "unknown column 'Sonderkuendigungsrecht' in lazy.contacts" in str(err.value)
    assert err.value.hint == HINT
    assert LazyConnector.extended == 1
    with pytest.raises(QueryError) as err:
        session.query("SELECT id FROM lazy.contacts WHERE Kundenummer = 'K1'")
    assert err.value.hint == f"did you mean Kundennummer?; {HINT}"  # the dynamic columns are suggested too


def test_a_table_without_extend_keeps_its_usual_hint() -> None:
    from crmql.language.parser import parse
    from crmql.plan.bind import bind

    plain = Table("a", "b", (Column("name", S),))
    with pytest.raises(QueryError) as err:
        bind(parse("SELECT nmae FROM a.b"), lambda c, n: plain)
    assert err.value.hint == "did you mean name?"
    with pytest.raises(QueryError) as err:
        bind(parse("SELECT zzz FROM a.b"), lambda c, n: plain)
    assert err.value.hint == "DESCRIBE a.b lists its columns"
    calls: list[int] = []
    lazy = dataclasses.replace(plain, extend=lambda: calls.append(1) or dataclasses.replace(
        plain, columns=plain.columns + (Column("extra", S),)))
    assert dataclasses.replace(lazy, name="c").extend is lazy.extend  # copies keep it
    bound = bind(parse("SELECT x.extra, y.name FROM a.b x JOIN a.b y ON x.name = y.name"), lambda c, n: lazy)
    assert calls == [1]  # only the table whose column was not declared
    assert [len(t.columns) for _, t in bound.tables] == [2, 1]
