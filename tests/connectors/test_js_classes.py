"""The kit's reader of JavaScript class modules (Voyzu's ``GET /api/<resource>/class``): fields in
both styles, what is no field, literals and comments that hide braces, limits, and the fetch."""

from __future__ import annotations

import httpx
import pytest

from crmql.connectors.rest.js_classes import MAX_CLASSES, MAX_FIELDS, MAX_TEXT_BYTES, fetch_classes, parse_classes
from crmql.errors import ConnectorError, VendorHTTPError, VendorResponseError
from crmql.http import HttpClient, run_sync

CASES = [
    ("constructor", "export class ContactsSearchInput {\n constructor(data = {}) {\n"
     "  this.SearchText = data.SearchText ?? ''\n  this.Start = 0\n  this.Length = 10\n }\n}",
     {"ContactsSearchInput": ("SearchText", "Start", "Length")}),
    ("class fields", "class Auth { Email = ''; Password; SessionId = null }", {"Auth": ("Email", "Password", "SessionId")}),
    ("fields without semicolons", "class P {\n  Data = []\n  TotalCount = 0\n  Page = 1\n  PageSize\n}",
     {"P": ("Data", "TotalCount", "Page", "PageSize")}),
    ("both styles, in text order", "class M { A = 1; constructor() { this.B = 2; } C; method() { this.D = 4 } }",
     {"M": ("A", "B", "C", "D")}),
    ("export default and extends", "export default class Result extends mixin(Base, Other) { Rows = [] }",
     {"Result": ("Rows",)}),
    ("anonymous export default", "export default class { X = 1 }", {"default": ("X",)}),
    ("static, private, methods, accessors are no fields",
     "class S { static Version = 1; #secret = 2; static { this.Y = 1 } get Name() { return 1 } set Name(v) {}\n"
     " async *gen() { yield 1 } static make() { this.Z = 1 } Kept = 1; constructor() { this.#p = 1; this.Q = 2 } }",
     {"S": ("Kept", "Q")}),
    ("strings and templates with braces", "class T { A = '}'; B = \"{ class X {\"; C = `${ {k: '}'} } }`; "
     "constructor() { this.D = `a ${`b ${1}`} }` } }", {"T": ("A", "B", "C", "D")}),
    ("comments", "// class Fake { X = 1 }\n/* class Other { Y } */ class Real { /* } */ A = 1 // }\n B }",
     {"Real": ("A", "B")}),
    ("regex literal with a brace", "class R { constructor() { this.Ok = /}\\/[}]/.test('x'); this.Next = 1 } }",
     {"R": ("Ok", "Next")}),
    ("nested class is its own", "class Outer { constructor() { class Inner { constructor() { this.I = 1 } }\n"
     " this.O = new Inner() } }", {"Outer": ("O",), "Inner": ("I",)}),
    ("class as a property name or key", "const o = { class: 'x' }; o.class = 1; class K { A = o.class }",
     {"K": ("A",)}),
    ("compound assignment and comparison are no declaration",
     "class C { m() { this.A = 1; this.B += 1; if (this.C == 2) {} this.D === 3; this.E => 1 } }", {"C": ("A",)}),
    ("duplicates once", "class D { A; constructor() { this.A = 1; this.B = 2; this.A = 3 } }", {"D": ("A", "B")}),
    ("no class at all", "export const x = { a: 1 };", {}),
    ("unterminated literals do not hang", "class U { A = 'open\n B = `x ${ y", {"U": ("A", "B")}),
]


@pytest.mark.parametrize(("text", "expected"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_parse_classes(text: str, expected: dict[str, tuple[str, ...]]) -> None:
    assert parse_classes(text) == expected


@pytest.mark.parametrize(("text", "message"), [
    ("x" * (MAX_TEXT_BYTES + 1), "larger than 512 KiB"),
    ("é" * (MAX_TEXT_BYTES // 2 + 1), "larger than 512 KiB"),  # bytes, not characters
    ("class A {}\n" * (MAX_CLASSES + 1), f"more than {MAX_CLASSES} classes"),
    ("class Wide {" + "".join(f" F{i};" for i in range(MAX_FIELDS + 1)) + "}", f"more than {MAX_FIELDS} fields"),
])
def test_limits(text: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        parse_classes(text)


def test_token_limit(monkeypatch: pytest.MonkeyPatch) -> None:
    from crmql.connectors.rest import js_classes
    monkeypatch.setattr(js_classes, "MAX_TOKENS", 1000)
    assert parse_classes("class A { B }" + " x" * 900) == {"A": ("B",)}
    with pytest.raises(ValueError, match="more than 1000 tokens"):
        parse_classes("{" * 1001)


def test_deep_nesting_is_no_recursion() -> None:
    assert parse_classes("class A { B = " + "`${" * 20_000 + "} C }") == {"A": ("B",)}


def _client(handler) -> HttpClient:
    return HttpClient(vendor="Voyzu", base_url="http://voyzu.test", transport=httpx.MockTransport(handler))


def test_fetch_is_unauthenticated_and_parses() -> None:
    seen: list[httpx.Request] = []

    def vendor(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, text="export class AuthInput { Email; Password }",
                              headers={"Content-Type": "text/javascript; charset=utf-8"})

    from crmql.http.session_flow import SessionIdAuth
    client = HttpClient(vendor="Voyzu", base_url="http://voyzu.test", transport=httpx.MockTransport(vendor),
                        auth=SessionIdAuth("s-secret-session"))
    assert run_sync(fetch_classes(client, "/api/auth/class")) == {"AuthInput": ("Email", "Password")}
    assert seen[0].method == "GET" and seen[0].url.path == "/api/auth/class"
    assert "cookie" not in seen[0].headers and "s-secret-session" not in str(seen[0].url)


@pytest.mark.parametrize(("response", "error", "message"), [
    (httpx.Response(404, json={"message": "Not Found"}), VendorHTTPError, "404"),
    (httpx.Response(200, content=b"\x89PNG", headers={"Content-Type": "image/png"}), VendorResponseError, "image/png"),
    (httpx.Response(200, content=b"class A {\x00}", headers={"Content-Type": "text/plain"}), VendorResponseError,
     "not text"),
    (httpx.Response(200, text="class A {}\n" * (MAX_CLASSES + 1), headers={"Content-Type": "text/javascript"}),
     VendorResponseError, "cannot be read"),
])
def test_fetch_errors_are_connector_errors(response: httpx.Response, error: type, message: str) -> None:
    with pytest.raises(error, match=message) as caught:
        run_sync(fetch_classes(_client(lambda r: response), "/api/contacts/class"))
    assert isinstance(caught.value, ConnectorError)
