"""A child table (``explode``) read through its parents' reads by id, over real HTTP against a
loopback vendor shaped like casavi (a next-link list of contacts, each with its nested contracts;
``GET /v2/contacts/{id}`` for one contact, 404 for none).

``contracts WHERE contactId = x`` (or IN, up to ``max_ids``) reads those contacts by id and explodes
them: the rows equal the list scan's, a missing contact is no rows, an id that is no path segment
falls back to the list scan, other conditions stay local, COUNT(*) and LIMIT count child rows, and
a join narrows the child table to reads by id. A declaration that could carry another value than
the id read is refused when it is made.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import unquote

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from crmql.connectors.rest import ById, Col, Explode, NextLinkPaginator, Place, Resource, RestApi, RestConnector
from crmql.errors import VendorResponseError
from crmql.plan.catalog import ColumnType, FilterShape
from crmql.plan.pushdown import Equality

from live_server import vendor_fixtures

S = ColumnType.STRING
SIZE = 4
ODD = "Müller Jörg #1"  # a path segment once percent-encoded
SLASH = "K/7"  # no path segment: only a list scan finds it
IDS = [f"C-{n:03d}" for n in range(10)] + [ODD, SLASH]
CONTACTS = [{"id": cid, "name": f"contact {i}",
             "contracts": [{"type": "RENTER" if (i + k) % 2 else "OWNER", "unitId": f"U-{i}-{k}"}
                           for k in range(i % 3)]}
            for i, cid in enumerate(IDS)]
PAGING = dict(records="list", paginator=NextLinkPaginator(next="_links.next", size=Place.query("limit"), max_page=SIZE,
                                                          total=None))
CONTRACTS = Resource(
    "contracts", "contracts of the contacts", "/v2/contacts",
    columns=(Col("contactId", S, "id"), Col("type", S), Col("unitId", S)),
    explode=Explode("contracts", {"contactId": "id"}), shape=FilterShape(split_or=False),
    by_id=ById("/v2/contacts/{id}", column="contactId", ops=("get",), max_ids=3, free_form=True, parent="contact",
               names="a contact", only="the contacts list has no id filter"), **PAGING)  # type: ignore[arg-type]
PARENTS = Resource("contacts", "contacts", "/v2/contacts", columns=(Col("id", S, "id"), Col("name", S)),
                   by_id=ById("/v2/contacts/{id}", ops=("get",), free_form=True,
                              only="the contacts list has no id filter"), **PAGING)  # type: ignore[arg-type]


class KidConnector(RestConnector):
    api = RestApi("kid", "Kid", (PARENTS, CONTRACTS),
                  kinds=lambda kind, settings: {"id": (Equality("get", "get", case_sensitive=True),)}.get(kind, ()))


class Vendor:
    """``seen``: every request as ``GET <path>[?query]``; ``renamed``: ids whose read answers the
    record under another id (lower case); ``broken``: ids whose contracts are no list."""

    def __init__(self) -> None:
        self.seen: list[str] = []
        self.renamed: set[str] = set()
        self.broken: set[str] = set()

    def app(self) -> Starlette:
        return Starlette(routes=[Route("/v2/contacts", self.listing), Route("/v2/contacts/{cid:path}", self.one)])

    async def listing(self, request: Request) -> Response:
        self.seen.append(f"GET /v2/contacts?{request.url.query}")
        page, size = int(request.query_params.get("page", "0")), int(request.query_params["limit"])
        body: dict[str, Any] = {"list": CONTACTS[page * size:(page + 1) * size], "_links": {}}
        if (page + 1) * size < len(CONTACTS):
            body["_links"]["next"] = f"/v2/contacts?limit={size}&page={page + 1}"
        return JSONResponse(body)

    async def one(self, request: Request) -> Response:
        raw = request.scope.get("raw_path", b"").decode().split("/v2/contacts/", 1)[1]
        self.seen.append(f"GET /v2/contacts/{raw}")
        cid = unquote(raw)
        record = next((c for c in CONTACTS if c["id"] == cid), None)
        if record is None:
            return JSONResponse({"message": "Not found"}, status_code=404)
        if cid in self.renamed:
            record = {**record, "id": cid.lower()}
        if cid in self.broken:
            record = {**record, "contracts": {"type": "OWNER"}}
        return JSONResponse(record)


served, kid = vendor_fixtures(Vendor, KidConnector, "kid", fixture="kid")


def listed(*ids: str, type_: str | None = None) -> list[tuple[Any, ...]]:
    """The contracts of ``ids`` as the list scan explodes them."""
    return sorted((c["id"], k["type"], k["unitId"]) for c in CONTACTS for k in c["contracts"]
                  if c["id"] in ids and (type_ is None or k["type"] == type_))


def rows(session: Any, sql: str) -> list[tuple[Any, ...]]:
    return sorted(tuple(r) for r in session.query(sql).itertuples(index=False))


def lists(vendor: Vendor) -> list[str]:
    return [s for s in vendor.seen if s.startswith("GET /v2/contacts?")]


def test_one_contact_is_one_read_by_id_with_the_list_scans_rows(kid: tuple[Vendor, Any]) -> None:
    vendor, session = kid
    got = rows(session, "SELECT contactId, type, unitId FROM kid.contracts WHERE contactId = 'C-005'")
    assert got == listed("C-005") and len(got) == 2
    assert vendor.seen == ["GET /v2/contacts/C-005"]
    vendor.seen.clear()  # the same answer from the list scan (a condition no read by id takes)
    assert rows(session, "SELECT contactId, type, unitId FROM kid.contracts WHERE contactId || '' = 'C-005'") == got
    assert len(lists(vendor)) == 3


def test_explain_names_the_parent_read_and_the_explode(kid: tuple[Vendor, Any]) -> None:
    vendor, session = kid
    text = session.explain("SELECT * FROM kid.contracts WHERE contactId = 'C-005'")
    assert "GET /v2/contacts/C-005" in text
    assert "one GET per id (1), concurrently: read by id of the parent contact, its contracts exploded" in text
    assert vendor.seen == []


def test_a_missing_parent_is_no_rows(kid: tuple[Vendor, Any]) -> None:
    vendor, session = kid
    assert rows(session, "SELECT * FROM kid.contracts WHERE contactId = 'C-999'") == []
    assert vendor.seen == ["GET /v2/contacts/C-999"]


def test_an_in_list_reads_each_parent_once(kid: tuple[Vendor, Any]) -> None:
    vendor, session = kid
    got = rows(session, "SELECT contactId, type, unitId FROM kid.contracts "
                        "WHERE contactId IN ('C-004', 'C-005', 'C-004', 'C-999')")
    assert got == listed("C-004", "C-005")
    assert sorted(vendor.seen) == ["GET /v2/contacts/C-004", "GET /v2/contacts/C-005", "GET /v2/contacts/C-999"]


def test_more_ids_than_max_ids_are_a_list_scan(kid: tuple[Vendor, Any]) -> None:
    vendor, session = kid
    got = rows(session, "SELECT contactId, type, unitId FROM kid.contracts "
                        "WHERE contactId IN ('C-001', 'C-002', 'C-004', 'C-005')")
    assert got == listed("C-001", "C-002", "C-004", "C-005")
    assert len(lists(vendor)) == 3 and len(vendor.seen) == 3


def test_an_odd_id_is_one_percent_encoded_segment(kid: tuple[Vendor, Any]) -> None:
    vendor, session = kid
    assert rows(session, f"SELECT contactId, type, unitId FROM kid.contracts WHERE contactId = '{ODD}'") == listed(ODD)
    assert vendor.seen == ["GET /v2/contacts/M%C3%BCller%20J%C3%B6rg%20%231"]


def test_an_id_that_is_no_path_segment_falls_back_to_the_list_scan(kid: tuple[Vendor, Any]) -> None:
    vendor, session = kid
    got = rows(session, f"SELECT contactId, type, unitId FROM kid.contracts WHERE contactId = '{SLASH}'")
    assert got == listed(SLASH) and got  # found: the scan filters locally
    assert len(lists(vendor)) == 3 and len(vendor.seen) == 3
    assert "the contacts list has no id filter" in session.explain(
        f"SELECT * FROM kid.contracts WHERE contactId IN ('C-001', '{SLASH}')")


def test_a_condition_on_a_child_column_is_checked_locally(kid: tuple[Vendor, Any]) -> None:
    vendor, session = kid
    got = rows(session, "SELECT contactId, type, unitId FROM kid.contracts WHERE contactId = 'C-005' AND type = 'OWNER'")
    assert got == listed("C-005", type_="OWNER") and len(got) == 1
    assert vendor.seen == ["GET /v2/contacts/C-005"]


def test_limit_and_count_count_child_rows(kid: tuple[Vendor, Any]) -> None:
    vendor, session = kid
    frame = session.query("SELECT unitId FROM kid.contracts WHERE contactId IN ('C-005', 'C-008') LIMIT 3")
    assert len(frame) == 3 and set(frame["unitId"]) <= {u for _c, _t, u in listed("C-005", "C-008")}
    count = session.query("SELECT COUNT(*) AS n FROM kid.contracts WHERE contactId IN ('C-005', 'C-008', 'C-009')")
    assert int(count["n"][0]) == len(listed("C-005", "C-008", "C-009")) == 4
    assert lists(vendor) == [] and len(vendor.seen) == 5


def test_a_join_narrows_the_child_to_reads_by_id(kid: tuple[Vendor, Any]) -> None:
    vendor, session = kid
    got = rows(session, "SELECT c.name, k.type, k.unitId FROM kid.contacts c JOIN kid.contracts k "
                        "ON k.contactId = c.id WHERE c.id = 'C-005'")
    assert got == sorted(("contact 5", t, u) for _c, t, u in listed("C-005"))
    assert vendor.seen == ["GET /v2/contacts/C-005", "GET /v2/contacts/C-005"]


def test_a_parent_answered_under_another_id_gives_no_rows(kid: tuple[Vendor, Any]) -> None:
    """The list scan would carry the other id, which the condition does not select."""
    vendor, session = kid
    vendor.renamed.add("C-005")
    assert rows(session, "SELECT * FROM kid.contracts WHERE contactId IN ('C-005', 'C-004')") == [
        r for r in listed("C-004")]


def test_a_parent_whose_array_is_no_list_is_a_clear_error(kid: tuple[Vendor, Any]) -> None:
    vendor, session = kid
    vendor.broken.add("C-005")
    with pytest.raises(VendorResponseError, match="'contracts' is a dict, not a list"):
        session.query("SELECT * FROM kid.contracts WHERE contactId = 'C-005'")


@pytest.mark.parametrize("by_id, carry, message", [
    (ById("/p/{id}", column="nope"), {"pid": "id"}, "by_id column 'nope' is not a column"),
    (ById("/p/{id}", column="n"), {"pid": "id"}, "by_id column 'n' is not carried from the parent"),
    (ById("/p/{id}", column="pid"), {"pid": "number"}, "carries the parent's 'number', not the parent's key 'id'"),
    (ById("/p/{id}", column="pid", parent_key="number"), {"pid": "id"}, "not the parent's key 'number'"),
])
def test_a_child_by_id_that_could_carry_another_value_is_refused(by_id: ById, carry: dict[str, str],
                                                                  message: str) -> None:
    with pytest.raises(ValueError, match=message):
        Resource("kids", "K", "/p", columns=(Col("pid", S), Col("n", S)), explode=Explode("kids", carry),
                 shape=FilterShape(split_or=False), by_id=by_id)
    Resource("kids", "K", "/p", columns=(Col("pid", S), Col("n", S)), explode=Explode("kids", {"pid": "id"}),
             shape=FilterShape(split_or=False), by_id=ById("/p/{id}", column="pid"))  # the right one is taken
