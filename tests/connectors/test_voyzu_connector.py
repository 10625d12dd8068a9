"""Voyzu CRM's connector over real HTTP against a small loopback Voyzu (no simulator): its
declarations, the search push rule (table-driven: what is pushed, what is not and why), the
requests it sends (and EXPLAIN shows), the rows it makes, the search reading chosen from the class
module, async jobs (up front and after a 504), the session and login, and the error wording
(Voyzu's ErrorMessage logged, never shown)."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from crmql.api.config import Config, ConnectionConfig
from crmql.api.session import Session
from crmql.connectors.voyzu import VoyzuConnector
from crmql.connectors.voyzu.search import SearchText
from crmql.errors import ConfigError, ConnectorError
from crmql.language import ast
from crmql.plan.catalog import Column, ColumnType

from live_server import serve

PREFIX = "/vz"
SESSION = "sess-voyzu-test-1"
FIELDS = {"datatable": ("SearchText", "Start", "Length"), "page": ("SearchText", "Page", "PageSize"),
          "none": ("SearchText",)}


def contact(n: int) -> dict[str, Any]:
    org = n % 5 == 0
    first, last = (None, None) if org else (["Ann", "Bob", "Cleo"][n % 3], ["Novak", "Smith"][n % 2])
    name = f"Acme {n}" if org else f"{first} {last}"
    return {"Id": f"c-{n:08d}", "RecordType": "ORGANIZATION" if org else "PERSON", "FirstName": first,
            "LastName": last, "DisplayName": name, "Organization": f"Acme {n}" if org else "Acme Ltd",
            "EmailAddresses": [{"Value": f"x{n}@other.example", "Type": "home", "Primary": False},
                               {"Value": f"p{n}@acme.example", "Type": "work", "Primary": True}],
            "PhoneNumbers": [{"Value": f"+64 9 {n:04d}", "Type": "work"}],
            "Addresses": [{"Type": "work", "City": "Auckland", "Country": "NZ"}],
            "ContactTypes": ["CUSTOMER"] + (["LEAD"] if n % 2 else []), "Labels": ["#voyzu shared", f"#l{n % 3}"],
            "CustomFields": [{"Name": "#Tier", "Type": "NUMBER", "Value": n % 4},
                             {"Name": "#Vip", "Type": "CHECKBOX", "Value": n % 2 == 0}],
            "Unsubscribed": n % 7 == 0, "Notes": None, "ImportId": None,
            "CreatedDate": "2026-01-02T03:04:05.000Z", "UpdatedDate": "2026-02-03T04:05:06.000Z"}


def module(reading: str, names: tuple[str, str] = ("ContactsSearchInput", "ContactsDatatable")) -> str:
    inputs = "\n".join(f"    {f} = null;" for f in FIELDS[reading])
    return f"export class {names[0]} {{\n{inputs}\n}}\nexport class {names[1]} {{\n    Data = [];\n}}\n"


@dataclass
class Voyzu:
    """A loopback Voyzu at ``<url>/vz``: 25 contacts, one search reading, a gateway row limit."""

    url: str = ""
    reading: str = "datatable"
    classes: str | None = None  # None: the reading's module; "" answers 500
    gateway_rows: int = 1000
    fail: dict[str, tuple[int, Any]] = field(default_factory=dict)
    seen: list[str] = field(default_factory=list)
    bodies: list[Any] = field(default_factory=list)
    jobs: dict[str, Any] = field(default_factory=dict)
    sessions: set[str] = field(default_factory=lambda: {SESSION})

    def app(self) -> Any:
        return Starlette(routes=[Route("/{path:path}", self.handle, methods=["GET", "POST"])])

    async def handle(self, request: Request) -> Response:
        path = request.url.path.removeprefix(PREFIX)
        query = f"?{request.url.query}" if request.url.query else ""
        self.seen.append(f"{request.method} {path}{query}")
        raw = await request.body()
        body = json.loads(raw) if raw else None
        self.bodies.append(body)
        if path in self.fail:
            status, answer = self.fail[path]
            return JSONResponse(answer, status_code=status)
        if request.method == "GET" and path.endswith("/class"):
            if path == "/api/auth/class":
                return PlainTextResponse("export class AuthInput {\n  Email = '';\n  Password = '';\n}\n",
                                         media_type="text/javascript")
            text = module(self.reading) if self.classes is None else self.classes
            return PlainTextResponse(text, status_code=200 if text else 500, media_type="text/javascript")
        if request.method != "POST":
            return JSONResponse({"message": "Not Found"}, status_code=404)
        if path == "/api/auth":
            if body == {"Email": "me@x.example", "Password": "pw-secret-1"}:
                self.sessions.add("sess-from-login")
                return JSONResponse({"SessionId": "sess-from-login", "Email": "me@x.example"})
            return JSONResponse({"ErrorMessage": "invalid credentials"}, status_code=401)
        cookie = request.cookies.get("voyzu-session-id") or request.query_params.get("voyzu-session-id")
        if cookie not in self.sessions:
            return JSONResponse({"ErrorMessage": "Unauthorised"}, status_code=401)
        if path.startswith("/api/request-status/get/"):
            return JSONResponse(self.jobs[path.rsplit("/", 1)[1]])
        answer = self.api(path, body or {})
        if isinstance(answer, Response):
            return answer
        if request.query_params.get("async") == "true":
            rid = f"r-{len(self.jobs) + 1}"
            self.jobs[rid] = {"RequestId": rid, "ProcessStatus": "PROCESSED", "PercentComplete": 100,
                              "Commentary": "Workflow complete", "Result": answer}
            return JSONResponse({"RequestId": rid, "ProcessStatus": "QUEUED", "PercentComplete": 0})
        rows = answer.get("Data", answer) if isinstance(answer, dict) else answer
        if isinstance(rows, list) and len(rows) > self.gateway_rows:
            return JSONResponse({"message": "Endpoint request timed out"}, status_code=504)
        return JSONResponse(answer)

    def api(self, path: str, body: dict[str, Any]) -> Any:
        everyone = [contact(n) for n in range(1, 26)]
        if path.startswith("/api/contacts/get/"):
            found = [c for c in everyone if c["Id"] == path.rsplit("/", 1)[1]]
            return found[0] if found else JSONResponse({"ErrorMessage": "contact not found"}, status_code=400)
        if path == "/api/spreadsheets/list":
            return [{"Id": "s-1", "Name": "Leads", "Url": "https://docs.google.com/x", "RowCount": 3,
                     "CreatedDate": "2026-01-01T00:00:00.000Z", "UpdatedDate": "2026-01-01T00:00:00.000Z"}]
        if path != "/api/contacts/search":
            return JSONResponse({"message": "Not Found"}, status_code=404)
        if not set(body) <= set(FIELDS[self.reading]):
            return JSONResponse({"ErrorMessage": "ValidationError: unknown field"}, status_code=400)
        text = (body.get("SearchText") or "").lower()
        rows = [c for c in everyone if not text or text in json.dumps(c).lower()]
        if self.reading == "datatable":
            start, length = body["Start"], min(body["Length"], 10)
            return {"Data": rows[start:start + length], "RecordsTotal": 25, "RecordsFiltered": len(rows)}
        if self.reading == "page":
            page, size = body["Page"], min(body["PageSize"], 10)
            return {"Data": rows[(page - 1) * size:page * size], "TotalCount": len(rows), "Page": page,
                    "PageSize": size}
        return {"Data": rows}


@pytest.fixture(scope="module")
def served() -> Iterator[tuple[list[Voyzu], str]]:
    holder = [Voyzu()]

    async def app(scope: Any, receive: Any, send: Any) -> None:
        await holder[0].app()(scope, receive, send)

    with serve(app) as url:
        yield holder, url


@pytest.fixture
def vendor(served: tuple[list[Voyzu], str]) -> Voyzu:
    holder, url = served
    holder[0] = Voyzu(url=url)
    return holder[0]


def session(vendor: Voyzu, **settings: Any) -> Session:
    options = {"base_url": vendor.url + PREFIX, "session_id": SESSION, "max_attempts": 1, **settings}
    return Session(Config({"vz": ConnectionConfig("vz", "voyzu", options)}, source="test"))


def searches(vendor: Voyzu) -> list[str]:
    return [s for s in vendor.seen if "/contacts/search" in s]


# ---------------------------------------------------------------- declarations and the push rule


def test_declarations_search_columns_push_the_rest_is_local() -> None:
    c = VoyzuConnector("vz", {"base_url": "https://crm.example", "session_id": SESSION})
    assert sorted(c.tables()) == ["contact_addresses", "contact_custom_fields", "contact_emails", "contact_labels",
                                  "contact_phones", "contact_types", "contacts", "spreadsheets"]
    contacts = c.table("contacts")
    pushed = {col.name for col in contacts.columns if col.pushable}
    assert pushed == {"id", "first_name", "last_name", "display_name", "organization", "primary_email", "emails"}
    assert contacts.column("last_name").filters[0].describe() == (
        "search text (superset: Voyzu's free-text search; re-checked locally)")
    assert "paging" in contacts.description and "one free-text search" in contacts.description
    off = VoyzuConnector("vz", {"base_url": "https://crm.example", "session_id": SESSION, "search_pushdown": False})
    last = off.table("contacts").column("last_name")
    probe = ast.Compare("=", ast.Column("last_name"), ast.Literal("Novak", "string"))
    assert [f.push(probe, last) for f in last.filters] == ["search_pushdown = false on this connection: checked locally"]
    assert "search_pushdown = false" in last.filters[0].describe()
    with pytest.raises(ConfigError, match="session_id or login_values"):
        VoyzuConnector("vz", {"base_url": "https://crm.example"})
    with pytest.raises(ConfigError, match="search_reading"):
        VoyzuConnector("vz", {"base_url": "https://crm.example", "session_id": SESSION, "search_reading": "pages"})


S = ColumnType.STRING
PUSH_CASES = [  # (predicate, column type, the text sent or None, why not)
    (ast.Compare("=", ast.Column("c"), ast.Literal("Novak", "string")), S, "Novak", ""),
    (ast.Like(ast.Column("c"), ast.Literal("Nov%", "string")), S, "Nov", ""),
    (ast.Like(ast.Column("c"), ast.Literal("O'Br%", "string")), S, "O'Br", ""),
    (ast.Like(ast.Column("c"), ast.Literal("%ovak%", "string")), S, None, "starts with a wildcard"),
    (ast.Like(ast.Column("c"), ast.Literal("No_ak%", "string")), S, "No", ""),  # the literal start
    (ast.Like(ast.Column("c"), ast.Literal("N_vak%", "string")), S, None, "2 to 100"),  # 'N': too short
    (ast.Like(ast.Column("c"), ast.Literal("Novak", "string")), S, "Novak", ""),  # no wildcard: it is =
    (ast.Like(ast.Column("c"), ast.Literal("Nov%", "string"), case_insensitive=True), S, None, "ILIKE"),
    (ast.Like(ast.Column("c"), ast.Literal("Nov%", "string"), negated=True), S, None, "only finds"),
    (ast.Compare("=", ast.Column("c"), ast.Literal("N", "string")), S, None, "2 to 100"),
    (ast.Compare("=", ast.Column("c"), ast.Literal("x" * 101, "string")), S, None, "2 to 100"),
    (ast.Compare("=", ast.Column("c"), ast.Literal("-Novak", "string")), S, None, "negation"),
    (ast.Compare("=", ast.Column("c"), ast.Literal("Smith and Co", "string")), S, None, "operator"),
    (ast.Compare("=", ast.Column("c"), ast.Literal("Müller", "string")), S, None, "ASCII"),
    (ast.Compare("=", ast.Column("c"), ast.Literal('a"b', "string")), S, None, "ASCII"),
    (ast.Compare("!=", ast.Column("c"), ast.Literal("Novak", "string")), S, None, "only finds"),
    (ast.InList(ast.Column("c"), (ast.Literal("Ann", "string"), ast.Literal("Bob", "string"))), S, None, "IN"),
    (ast.Func("list_contains", (ast.Column("emails"), ast.Literal("a@b.example", "string"))), ColumnType.LIST,
     "a@b.example", ""),
    (ast.Func("list_contains", (ast.Column("emails"), ast.Literal("a b@c", "string"))), ColumnType.LIST,
     "a b@c", ""),
]


@pytest.mark.parametrize(("pred", "type_", "sent", "why"), PUSH_CASES)
def test_the_push_rule(pred: ast.Expr, type_: ColumnType, sent: str | None, why: str) -> None:
    got = SearchText().push(pred, Column("c", type_))
    if sent is None:
        assert isinstance(got, str) and why in got
    else:
        assert not isinstance(got, str), got
        assert got.exact is False and [(c.field, c.op, c.value) for c in got.conds] == [("SearchText", "search", sent)]


def test_one_search_text_the_longest_and_or_stays_local(vendor: Voyzu) -> None:
    with session(vendor) as s:
        text = s.explain("SELECT * FROM vz.contacts WHERE first_name = 'Ann' AND last_name LIKE 'Nova%' "
                         "AND (first_name = 'Bob' OR last_name = 'Smith')")
        assert '{"SearchText": "Nova", "Length": 1000, "Start": 0}' in text
        assert "Voyzu takes one search text: 'Nova' (the longest) is sent" in text
        assert "plus 1 class request" in text
        frame = s.query("SELECT id, first_name, last_name FROM vz.contacts WHERE first_name = 'Ann' AND "
                        "last_name LIKE 'Nova%'")
    # EXPLAIN's 1-row probe and the query: the same one search text
    assert [(b["SearchText"], b["Length"]) for b in vendor.bodies if b and "SearchText" in b] == [("Nova", 1),
                                                                                                 ("Nova", 1000)]
    assert set(frame["first_name"]) == {"Ann"} and set(frame["last_name"]) == {"Novak"} and len(frame) == 4


# ---------------------------------------------------------------- rows, paging, readings


def test_rows_paging_children_and_reads_by_id(vendor: Voyzu) -> None:
    with session(vendor) as s:
        frame = s.query("SELECT * FROM vz.contacts ORDER BY id")
        # the vendor serves 10 a page whatever is asked: the scan continues from what came
        assert len(frame) == 25 and searches(vendor)[0] == "POST /api/contacts/search"
        first = frame.iloc[0]
        assert first["primary_email"] == "p1@acme.example" and list(first["emails"]) == ["x1@other.example",
                                                                                          "p1@acme.example"]
        assert first["city"] == "Auckland" and json.loads(first["custom_fields"]) == {"#Tier": 1, "#Vip": False}
        labels = s.query("SELECT label, COUNT(*) AS n FROM vz.contact_labels GROUP BY label ORDER BY label")
        assert dict(zip(labels["label"], labels["n"])) == {"#l0": 8, "#l1": 9, "#l2": 8, "#voyzu shared": 25}
        fields = s.query("SELECT contact_id, name, value FROM vz.contact_custom_fields WHERE contact_id = 'c-00000002'")
        assert sorted(zip(fields["name"], fields["value"])) == [("#Tier", "2"), ("#Vip", "true")]
        vendor.seen.clear()
        one = s.query("SELECT id FROM vz.contacts WHERE id IN ('c-00000003', 'c-09999999')")
        assert list(one["id"]) == ["c-00000003"]  # the unknown id answered 400: no row
        assert sorted(vendor.seen) == ["POST /api/contacts/get/c-00000003", "POST /api/contacts/get/c-09999999"]
        assert s.query("SELECT COUNT(*) AS n FROM vz.contacts")["n"][0] == 25
        sheets = s.query("SELECT id, row_count FROM vz.spreadsheets")
        assert list(sheets["id"]) == ["s-1"] and list(sheets["row_count"]) == [3]


def test_the_page_reading_is_chosen_from_the_class_module(vendor: Voyzu) -> None:
    vendor.reading = "page"
    with session(vendor) as s:
        assert len(s.query("SELECT id FROM vz.contacts")) == 25
        pages = sorted(b["Page"] for b in vendor.bodies if b and "Page" in b)
        assert pages == [1, 2, 3]  # 10 served a page (the PageSize echo), not the 1000 asked
        assert s.query("SELECT COUNT(*) AS n FROM vz.contacts WHERE last_name = 'Smith'")["n"][0] == 10


def test_the_none_reading_goes_async_up_front_and_front_end_class_names(vendor: Voyzu) -> None:
    vendor.reading = "none"
    vendor.classes = module("none", ("ContactsSearch", "ContactsSearchResult"))
    with session(vendor) as s:
        assert len(s.query("SELECT id FROM vz.contacts")) == 25
        assert "POST /api/contacts/search?async=true" in vendor.seen
        assert any(p.startswith("POST /api/request-status/get/r-") for p in vendor.seen)
        text = s.explain("SELECT id FROM vz.contacts")  # the reading is known now: async planned up front
        assert "POST /api/contacts/search?async=true\n    {\"SearchText\": \"\"}" in text and "async job" in text
        assert "class request" not in text
    vendor.seen.clear()
    with session(vendor) as s:  # COUNT(*) planned before the class check (as datatable): one read still
        assert s.query("SELECT COUNT(*) AS n FROM vz.contacts")["n"][0] == 25
        assert searches(vendor) == ["POST /api/contacts/search?async=true"]  # its rows are the count
        vendor.seen.clear()
        assert len(s.query("SELECT id FROM vz.contacts WHERE last_name = 'Smith'")) == 10
        assert searches(vendor) == ["POST /api/contacts/search"]  # a search: sync


def test_a_class_that_fits_no_reading_is_a_clear_error_and_an_unreadable_one_is_skipped(vendor: Voyzu) -> None:
    vendor.classes = "export class ContactsSearchInput {\n  Query = '';\n  Skip = 0;\n}\n"
    with session(vendor) as s, pytest.raises(ConnectorError) as e:
        s.query("SELECT id FROM vz.contacts")
    assert "ContactsSearchInput has the fields Query, Skip" in str(e.value) and "search_reading" in str(e.value)
    vendor.classes = ""  # answers 500: the datatable reading, no error
    with session(vendor) as s:
        assert len(s.query("SELECT id FROM vz.contacts")) == 25


# ---------------------------------------------------------------- async after a 504


def test_a_504_is_sent_again_async_and_the_table_stays_async(vendor: Voyzu) -> None:
    vendor.reading, vendor.gateway_rows = "none", 5
    with session(vendor, search_reading="none") as s:
        assert len(s.query("SELECT id FROM vz.contacts WHERE organization LIKE 'Acme%'")) == 25
        assert searches(vendor) == ["POST /api/contacts/search", "POST /api/contacts/search?async=true"]
        vendor.seen.clear()
        s.query("SELECT id FROM vz.contacts WHERE last_name = 'Smith'")
        assert searches(vendor) == ["POST /api/contacts/search?async=true"]
    with session(vendor, search_reading="none", **{"async": "never"}) as s, pytest.raises(ConnectorError) as e:
        s.query("SELECT id FROM vz.contacts WHERE organization LIKE 'Acme%'")
    assert "passed Voyzu's 30 s gateway limit" in str(e.value) and 'async = "auto"' in str(e.value)


# ---------------------------------------------------------------- session, login, errors


def test_login_values_are_posted_and_checked_against_auth_input(vendor: Voyzu) -> None:
    with session(vendor, session_id=None, login_values={"Email": "me@x.example", "Password": "pw-secret-1"}) as s:
        assert len(s.query("SELECT id FROM vz.spreadsheets")) == 1
    assert {"Email": "me@x.example", "Password": "pw-secret-1"} in vendor.bodies
    with session(vendor, session_id=None, login_values={"User": "me", "Password": "p"}) as s, \
            pytest.raises(ConfigError) as e:
        s.query("SELECT id FROM vz.spreadsheets")
    assert "connections.vz: login_values: 'User' is not a field of Voyzu's AuthInput (its fields: Email, Password)" \
        in str(e.value)


def test_a_refused_session_and_query_placement(vendor: Voyzu) -> None:
    with session(vendor, session_id="sess-expired") as s, pytest.raises(ConnectorError) as e:
        s.query("SELECT id FROM vz.spreadsheets")
    assert "the session was refused: it has expired or was signed out" in str(e.value)
    assert "Unauthorised" not in str(e.value)
    with session(vendor, send_session_as="query") as s:
        s.query("SELECT id FROM vz.spreadsheets")
    assert f"POST /api/spreadsheets/list?voyzu-session-id={SESSION}" in vendor.seen


@pytest.mark.parametrize(("path", "status", "sql", "words"), [
    ("/api/contacts/search", 400, "SELECT id FROM vz.contacts", "Voyzu refused the search as malformed [HTTP 400]"),
    ("/api/spreadsheets/list", 402, "SELECT id FROM vz.spreadsheets",
     "this operation needs a paid Voyzu subscription [HTTP 402]"),
    ("/api/spreadsheets/list", 404, "SELECT id FROM vz.spreadsheets",
     "Voyzu has no POST /api/spreadsheets/list (Voyzu also answers 404 to a wrong HTTP verb)"),
    ("/api/spreadsheets/list", 540, "SELECT id FROM vz.spreadsheets", "[HTTP 540]"),
])
def test_errors_are_worded_and_the_error_message_is_only_logged(vendor: Voyzu, caplog: pytest.LogCaptureFixture,
                                                                path: str, status: int, sql: str, words: str) -> None:
    vendor.fail[path] = (status, {"ErrorMessage": "internal detail XYZZY"})
    with caplog.at_level(logging.INFO, logger="crmql.connectors.voyzu"), session(vendor) as s, \
            pytest.raises(ConnectorError) as e:
        s.query(sql)
    assert words in str(e.value) and "XYZZY" not in str(e.value)
    assert any("XYZZY" in r.getMessage() for r in caplog.records if r.name == "crmql.connectors.voyzu")
    if status == 404:
        assert "check base_url (it ends before /api)" in str(e.value)


def test_540_is_retried(vendor: Voyzu) -> None:
    calls = []

    def flaky(path: str, body: dict[str, Any], _api: Any = vendor.api) -> Any:
        calls.append(path)
        if len(calls) == 1:
            return JSONResponse({"ErrorMessage": "router"}, status_code=540)
        return _api(path, body)

    vendor.api = flaky  # type: ignore[method-assign]
    with session(vendor, max_attempts=3, retry_base_s=0.001) as s:
        assert len(s.query("SELECT id FROM vz.spreadsheets")) == 1
    assert calls == ["/api/spreadsheets/list"] * 2
