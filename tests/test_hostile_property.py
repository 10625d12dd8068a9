"""Property (issue 9, "Tests and done"): whatever a vendor answers (random JSON shapes, statuses,
headers, truncated bodies, next links anywhere), a statement ends within its deadlines with a
result or a :class:`crmql.CrmqlError`, and the token only ever goes to the connection's origin.

The fake vendor (:mod:`hostile.server`) answers each API request of the statement with the next
drawn response, then with a 404. Each statement runs with small limits (1 s per response, two
attempts, millisecond backoffs, 20 pages per scan), so the whole property takes seconds.
"""

from __future__ import annotations

import gzip
import json
import threading
import time
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hostile.fixtures import hostile_server  # noqa: F401  (fixture)
from hostile.server import HostileVendor
from starlette.responses import Response

from crmql.errors import CrmqlError

#: a statement must end well within this (its own limits allow about 2 x 1 s per request)
DEADLINE_S = 40.0

STATEMENTS = [
    "SELECT id, name FROM azavista.events",
    "SELECT COUNT(*) FROM azavista.events WHERE event_type = 'sales'",
    "SELECT id FROM azavista.contacts WHERE id IN ('000000000000000000000001', '..')",
    "SELECT id FROM azavista.organizations WHERE name LIKE '%a%' LIMIT 3",
    "SELECT * FROM atlas.contacts",
    "SELECT COUNT(*) FROM atlas.sales",
    "SELECT id FROM atlas.companies WHERE id = 'company-000001'",
    "SELECT * FROM atlas.links WHERE entity_id = 'contact-000001'",
]

json_scalars = st.one_of(st.none(), st.booleans(), st.integers(-10**20, 10**20),
                         st.floats(allow_nan=True, allow_infinity=True), st.text(max_size=12))
json_values = st.recursive(json_scalars, lambda inner: st.one_of(
    st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=8), inner, max_size=4)), max_leaves=12)


@st.composite
def links(draw: st.DrawFn) -> Any:
    return draw(st.one_of(
        json_values,
        st.sampled_from(["{catcher}/x", "//{catcher_host}/x", "{vendor}/atlas/api/1.0/workspace/CRM/entities?p=2",
                         "/atlas/api/1.0/workspace/CRM/entities?type=contact&p=3", "https://{vendor_host}/x",
                         "http://u:p@{vendor_host}/x", "{request}", "javascript:alert(1)", "http://[::1/x"]),
    ))


@st.composite
def envelopes(draw: st.DrawFn) -> Any:
    """Something shaped like a vendor page, with random parts."""
    record = st.fixed_dictionaries({"id": json_values}, optional={
        "name": json_values, "type": st.sampled_from(["contact", "sale", "company", 3]),
        "fields": st.one_of(st.dictionaries(st.sampled_from(["id", "type", "contact-name", "x"]), json_values,
                                            max_size=3), json_values),
        "entity": json_values})
    items = st.lists(st.one_of(record, json_values), max_size=4)
    total = st.one_of(st.integers(-5, 10**16), json_values, st.just(float("inf")))
    key = draw(st.sampled_from(["events", "contacts", "organizations", "items"]))
    page: dict[str, Any] = {key: draw(items)}
    for name, strategy in (("object_count", total), ("total", total), ("offset", st.integers(-1, 200)),
                           ("_links", st.fixed_dictionaries({"next": st.fixed_dictionaries({"href": links()})}))):
        if draw(st.booleans()):
            page[name] = draw(strategy)
    return page


@st.composite
def answers(draw: st.DrawFn) -> tuple[int, dict[str, str], bytes]:
    status = draw(st.sampled_from([200, 200, 200, 200, 201, 204, 302, 400, 401, 404, 429, 500, 503]))
    value = draw(st.one_of(envelopes(), json_values))
    body = json.dumps(value, allow_nan=True).encode()
    shape = draw(st.sampled_from(["json", "json", "json", "truncated", "html", "gzip-lie", "empty", "deep"]))
    headers: dict[str, str] = {"content-type": draw(st.sampled_from(["application/json", "text/html", "text/plain"]))}
    if shape == "truncated":
        body = body[: draw(st.integers(0, max(0, len(body) - 1)))]
        if draw(st.booleans()):
            headers["content-length"] = str(len(body) + draw(st.integers(1, 50)))
    elif shape == "html":
        body = b"<!doctype html><html><body>Sign in</body></html>"
    elif shape == "gzip-lie":
        headers["content-encoding"] = "gzip"
        body = body if draw(st.booleans()) else gzip.compress(body)[:-3]
    elif shape == "empty":
        body = b""
    elif shape == "deep":
        body = b"[" * 5000 + b"]" * 5000
    if status in (429, 503) and draw(st.booleans()):
        headers["retry-after"] = draw(st.sampled_from(["0", "0.01", "abc", "-1", "1e400"]))
    if status == 302:
        headers["location"] = draw(st.sampled_from(["{catcher}/x", "/x"]))
    return status, headers, body


def _override(vendor: HostileVendor, drawn: list[tuple[int, dict[str, str], bytes]]):
    queue = list(drawn)
    lock = threading.Lock()
    host = vendor.url.split("//", 1)[1]
    catcher_host = vendor.catcher_url.split("//", 1)[1]

    def fill(data: bytes, request: Any) -> bytes:
        text = data.decode("latin-1")
        for key, value in (("{catcher}", vendor.catcher_url), ("{catcher_host}", catcher_host),
                           ("{vendor}", vendor.url), ("{vendor_host}", host), ("{request}", str(request.url))):
            text = text.replace(key, value)
        return text.encode("latin-1")

    def override(request: Any, _body: bytes) -> Response:
        with lock:
            answer = queue.pop(0) if queue else None
        if answer is None:
            return Response(b'{"message": "nothing more"}', status_code=404, media_type="application/json")
        status, headers, body = answer
        headers = {k: fill(v.encode(), request).decode("latin-1") for k, v in headers.items()}
        body = fill(body, request) if not headers.get("content-encoding") else body
        response = Response(body, status_code=status, headers=headers)
        return response

    return override


@settings(max_examples=45, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                 HealthCheck.too_slow, HealthCheck.data_too_large])
@given(sql=st.sampled_from(STATEMENTS), drawn=st.lists(answers(), min_size=1, max_size=6))
def test_any_vendor_answer_ends_in_a_result_or_a_crmql_error(hostile_server: HostileVendor, sql: str,
                                                             drawn: list[tuple[int, dict[str, str], bytes]]) -> None:
    vendor = hostile_server
    vendor.reset()
    vendor.mode.override = _override(vendor, drawn)
    outcome: dict[str, Any] = {}

    def run() -> None:
        try:
            with vendor.session(timeout_s=1, max_attempts=2, max_pages=20) as session:
                outcome["result"] = session.execute(sql)
        except CrmqlError as error:
            outcome["error"] = error
        except BaseException as error:  # noqa: BLE001 - the property: nothing else escapes
            outcome["escaped"] = error

    started = time.monotonic()
    worker = threading.Thread(target=run, daemon=True)
    worker.start()
    worker.join(DEADLINE_S)
    assert not worker.is_alive(), f"{sql!r} still running after {DEADLINE_S} s"
    assert "escaped" not in outcome, f"{sql!r}: {outcome['escaped']!r} escaped (not a CrmqlError)"
    assert time.monotonic() - started < DEADLINE_S
    if "error" in outcome:
        assert vendor.token not in str(outcome["error"])
    assert not vendor.leaks(), f"the token left the vendor's origin: {vendor.leaks()}"
    assert all(h.authorization is None for h in vendor.hits if h.listener == "catcher")


@pytest.fixture(autouse=True)
def _reset_after(hostile_server: HostileVendor):
    yield
    hostile_server.reset()
