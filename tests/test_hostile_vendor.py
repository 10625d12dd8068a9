"""Issue 9, points 1-5 and the connector part of 9, against a fake hostile vendor on loopback
(:mod:`hostile.server`): real HTTP, a second listener that must never see the token, and a
request log to count what each statement cost.

Every test here failed on the code before the fix (a leaked token, a request to ``/3.0``, a scan
that never ended, thousands of requests, a wrong COUNT, or ``internal error``).
"""

from __future__ import annotations

import json
import logging
import subprocess
import sys
import time
import tracemalloc
from pathlib import Path

import pytest
from hostile.fixtures import hostile, hostile_server  # noqa: F401  (fixtures)
from hostile.server import HostileVendor, azavista_record
from starlette.responses import Response

import crmql
from crmql.connectors.rest.base import HttpConnectorMixin
from crmql.connectors.rest.support import same_origin, valid_total
from crmql.errors import CrmqlError, RequestBudgetError, VendorResponseError

REPO = Path(__file__).resolve().parent.parent


def _error(vendor: HostileVendor, sql: str, expected: type[CrmqlError] = VendorResponseError,
           **settings: object) -> CrmqlError:
    with vendor.session(**settings) as session, pytest.raises(expected) as caught:
        session.execute(sql)
    error = caught.value
    assert error.exit_code == 3
    assert vendor.token not in str(error)
    return error


# ---- 1. a next link sends the bearer token anywhere
@pytest.mark.parametrize("link", ["{catcher}/x?page=2", "//{catcher_hostport}/x", "http://u:p@{catcher_hostport}/x"],
                         ids=["other port", "scheme-relative", "userinfo"])
@pytest.mark.parametrize("sql", ["SELECT * FROM atlas.contacts", "SELECT id FROM atlas.contacts LIMIT 150"],
                         ids=["prefetching scan", "plain scan"])
def test_a_foreign_next_link_is_an_error_and_gets_no_token(hostile: HostileVendor, link: str, sql: str) -> None:
    hostile.mode.next_link = link
    error = _error(hostile, sql)
    catcher = hostile.catcher_url.split("//", 1)[1]
    assert f"http://{catcher}" in str(error) and "another origin" in str(error)
    assert "Atlas CRM (atlas.contacts)" in str(error)
    assert not [h for h in hostile.hits if h.listener == "catcher"]  # not even without the token


def test_a_next_link_to_the_vendors_own_origin_is_followed(hostile: HostileVendor) -> None:
    hostile.mode.rows = 250  # three pages of 100, each link absolute on the vendor's origin
    with hostile.session() as session:
        assert len(session.query("SELECT id FROM atlas.contacts")) == 250


def test_only_the_connections_scheme_host_and_port_are_its_origin() -> None:
    base = "https://crm.example.com/api/1.0/"
    assert same_origin("https://crm.example.com:443/api/1.0/entities?page=2", base)
    assert not same_origin("http://crm.example.com/api/1.0/entities?page=2", base)  # downgrade
    assert not same_origin("https://crm.example.com:8443/api/1.0/entities", base)
    assert not same_origin("https://crm.example.com.evil.test/api/1.0/entities", base)
    assert not same_origin("https://crm.example.com:99999/x", base)  # no valid port

    class Atlas(HttpConnectorMixin):
        display, http = "Atlas CRM", type("Http", (), {"base_url": base})()

    with pytest.raises(VendorResponseError, match=r"another origin \(http://crm\.example\.com\)"):
        Atlas().next_link("http://crm.example.com/api/1.0/entities?page=2", "atlas.contacts", "GET /entities")
    assert Atlas().next_link("entities?page=2", "atlas.contacts", "GET /entities") == \
        "https://crm.example.com/api/1.0/entities?page=2"


# ---- 2. GET by id path traversal
@pytest.mark.parametrize("sql", [
    "SELECT id FROM azavista.events WHERE id = '..'",
    "SELECT id FROM azavista.events WHERE id = '.'",
    "SELECT id FROM azavista.contacts WHERE id IN ('..', 'a/b', '')",
    "SELECT id FROM atlas.contacts WHERE id = '../template/sale'",
    "SELECT * FROM atlas.links WHERE entity_id IN ('..', '.')",
])
def test_an_id_no_path_segment_can_carry_matches_no_row_and_sends_no_request(hostile: HostileVendor,
                                                                             sql: str) -> None:
    with hostile.session() as session:
        result = session.execute(sql)
    assert len(result.frame) == 0
    assert [h for h in hostile.api_hits() if "/template/" not in h.path] == []  # (Atlas reads its catalog)


def test_addressable_ids_are_still_read_by_id(hostile: HostileVendor) -> None:
    real = azavista_record("event", 7)["id"]
    with hostile.session() as session:
        frame = session.query(f"SELECT id FROM azavista.events WHERE id IN ('..', '{real}', '.')")
    assert list(frame["id"]) == [real]
    assert [h.path for h in hostile.api_hits()] == [f"/azavista/3.0/event/{real}"]


# ---- 3. a next link to itself loops forever
def test_a_next_link_to_a_page_already_read_ends_the_scan(hostile: HostileVendor) -> None:
    hostile.mode.next_link = "{self}"
    started = time.monotonic()
    error = _error(hostile, "SELECT id FROM atlas.contacts")
    assert "paging loop" in str(error) and "Atlas CRM (atlas.contacts)" in str(error)
    assert time.monotonic() - started < 30  # before: no end
    assert len(hostile.api_hits()) <= 4  # template, the first page, the page again at its own link


def test_a_scan_has_a_page_budget(hostile: HostileVendor) -> None:
    hostile.mode.next_link = "endless"  # a new link on every page, each page full
    error = _error(hostile, "SELECT * FROM atlas.contacts", RequestBudgetError, max_pages=5)
    assert "more than 5 pages" in str(error) and "max_pages" in str(error)
    pages = [h for h in hostile.api_hits() if h.path.endswith("/entities")]
    assert 5 <= len(pages) <= 5 + 2  # the pages allowed, plus at most the two requested ahead


@pytest.mark.parametrize("total", [None, "TRUE"], ids=["no total", "true total"])
def test_a_vendor_that_ignores_the_offset_is_an_error_not_duplicates(hostile: HostileVendor, total: object) -> None:
    hostile.mode.ignore_offset = True
    if total is None:
        hostile.mode.total = None  # (before: one page after another, never ending)
    error = _error(hostile, "SELECT id FROM azavista.events")  # (before, with a total: 120 rows, 50 distinct)
    assert "repeats the page before it" in str(error) and "Azavista (azavista.events)" in str(error)
    assert len(hostile.api_hits()) <= 3


# ---- 4. a lying total drives requests and memory
def test_an_empty_page_before_the_total_ends_the_scan_with_a_warning(hostile: HostileVendor,
                                                                      caplog: pytest.LogCaptureFixture) -> None:
    hostile.mode.rows, hostile.mode.total = 100, 20000
    with hostile.session() as session, caplog.at_level(logging.WARNING, logger="crmql"):
        result = session.execute("SELECT id FROM azavista.events")
    assert len(result.frame) == 100
    warning = "Azavista (azavista.events): vendor reported 20000 rows, served 100"
    assert [w for w in result.stats.warnings if w.startswith(warning)]
    assert warning in caplog.text
    assert len(hostile.api_hits()) <= 1 + 16  # the first page and one window of concurrent pages (was 400)


@pytest.mark.parametrize("total", [20000, 10**15, 1e15])
def test_a_huge_total_with_short_pages_costs_two_requests(hostile: HostileVendor, total: float) -> None:
    hostile.mode.rows, hostile.mode.total = 1, total  # one record, whatever the total says
    tracemalloc.start()
    try:
        with hostile.session() as session:
            result = session.execute("SELECT id FROM azavista.events")
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert len(result.frame) == 1
    assert len(hostile.api_hits()) == 2  # was 19,026 (and never ending) / a 2.6 GB deque
    assert peak < 50 * 2**20
    assert any(f"vendor reported {int(total)} rows, served 1" in w for w in result.stats.warnings)


def test_a_vendor_that_really_serves_one_row_per_page_hits_the_page_budget_at_once(hostile: HostileVendor) -> None:
    hostile.mode.rows, hostile.mode.page_cap = 20000, 1
    error = _error(hostile, "SELECT id FROM azavista.events", RequestBudgetError)
    assert "20000 rows at 1 per page" in str(error) and "max_pages" in str(error)
    assert len(hostile.api_hits()) == 2


def test_a_capped_page_size_is_still_paged_concurrently(hostile: HostileVendor) -> None:
    hostile.mode.rows, hostile.mode.page_cap = 120, 20  # asks 50, gets 20: the vendor's cap
    with hostile.session() as session:
        result = session.execute("SELECT id FROM azavista.events")
    assert len(result.frame) == 120 and len(set(result.frame["id"])) == 120
    assert len(hostile.api_hits()) == 6 and result.stats.warnings == []


# ---- 5. COUNT(*) from a bad total
@pytest.mark.parametrize("total", [None, "1234", -5, True, 2.5], ids=["missing", "text", "negative", "bool", "2.5"])
@pytest.mark.parametrize("table", ["azavista.events", "atlas.contacts"])
def test_count_with_a_total_that_is_no_count_counts_the_rows(hostile: HostileVendor, total: object,
                                                             table: str) -> None:
    hostile.mode.total = total
    with hostile.session() as session:
        frame = session.query(f"SELECT COUNT(*) AS n FROM {table}")
    assert frame["n"].tolist() == [120]


def test_count_with_a_valid_total_reads_it_from_one_request(hostile: HostileVendor) -> None:
    hostile.mode.total = 4321
    with hostile.session() as session:
        assert session.query("SELECT COUNT(*) AS n FROM azavista.events")["n"].tolist() == [4321]
    assert len(hostile.api_hits()) == 1


def test_valid_total() -> None:
    assert [valid_total(v) for v in (0, 7, 7.0, True, False, -1, "7", float("inf"), float("nan"), [], None)] == \
        [0, 7, 7, None, None, None, None, None, None, None, None]


# ---- 9. every malformed answer is a VendorResponseError naming vendor, table and request
@pytest.mark.parametrize("sql, where", [
    ("SELECT id FROM azavista.events", "Azavista (azavista.events): malformed response to POST /3.0/event/search"),
    ("SELECT id FROM atlas.contacts", "Atlas CRM (atlas.contacts): malformed response to GET"),
])
def test_list_items_that_are_strings(hostile: HostileVendor, sql: str, where: str) -> None:
    hostile.mode.items = "strings"
    error = _error(hostile, sql)
    assert str(error).startswith(where) and "item 1 of the page is a string, not a record" in str(error)


def test_a_template_field_named_id_never_shadows_the_entity_id(hostile: HostileVendor) -> None:
    hostile.mode.shadow_id, hostile.mode.rows = True, 3
    with hostile.session() as session:
        frame = session.query("SELECT * FROM atlas.contacts")
        by_id = session.query("SELECT id, legacy_id FROM atlas.contacts WHERE legacy_id = 'legacy-contact-000001'")
    assert list(frame["id"]) == ["contact-000000", "contact-000001", "contact-000002"]
    assert list(frame["legacy_id"]) == ["legacy-contact-000000", "legacy-contact-000001", "legacy-contact-000002"]
    assert list(frame.columns).count("id") == 1
    assert by_id.to_dict("list") == {"id": ["contact-000001"], "legacy_id": ["legacy-contact-000001"]}


def _answer(body: bytes | str, *, when: str = "", status: int = 200, media: str = "application/json"):
    def override(request, _body):
        if when in request.url.path:
            return Response(body, status_code=status, media_type=media)
        return None
    return override


@pytest.mark.parametrize("sql, when, body", [
    ("SELECT id FROM azavista.events WHERE id = '{real}'", "/event/", b"<html><body>Maintenance</body></html>"),
    ("SELECT id FROM azavista.events WHERE id = '{real}'", "/event/", b'["not", "a", "record"]'),
    ("SELECT id FROM atlas.contacts WHERE id = 'contact-000001'", "/entities/contact", b"<html>login</html>"),
    ("SELECT id FROM atlas.contacts WHERE id = 'contact-000001'", "/entities/contact", b'{"id": "x", "fields": [1]}'),
    ("SELECT * FROM atlas.links WHERE entity_id = 'contact-000001'", "/links", b"<!doctype html><p>oops</p>"),
    ("SELECT * FROM atlas.links WHERE entity_id = 'contact-000001'", "/links", b'{"items": [{"entity": "x"}]}'),
    ("SELECT COUNT(*) FROM azavista.events", "/search", b'{"events": [], "object_count": Infinity}'),
    ("SELECT COUNT(*) FROM atlas.contacts", "/entities", b'{"items": [], "total": NaN}'),
    ("SELECT id FROM atlas.contacts", "/template", b'{"sections": [{"name": "x", "fields": ["id"]}]}'),
    ("SELECT id FROM atlas.contacts", "/template", b'{"sections": {"fields": []}}'),
    ("SELECT id FROM atlas.contacts", "/entities", b'{"items": [], "_links": ["next"]}'),
    ("SELECT id FROM atlas.contacts", "/entities", b'{"items": [{"id": "a"}], "_links": {"next": {"href": 7}}}'),
    ("SELECT id FROM atlas.contacts", "/entities", b'{"items": [{"id": "../template/sale"}]}'),
    ("SELECT id FROM azavista.events", "/search", b'{"events": {"id": 1}, "object_count": 1}'),
], ids=["azavista get html", "azavista get list", "atlas get html", "atlas get fields list", "links html",
        "links entity text", "count Infinity", "count NaN", "template field text", "template sections object",
        "links list", "next href number", "listed id traversal", "events object"])
def test_malformed_answers_are_vendor_response_errors(hostile: HostileVendor, sql: str, when: str,
                                                      body: bytes) -> None:
    hostile.mode.override = _answer(body, when=when)
    error = _error(hostile, sql.format(real=azavista_record("event", 1)["id"]))
    assert isinstance(error, VendorResponseError) and "malformed response" in str(error)
    assert ("Azavista (azavista." in str(error)) or ("Atlas CRM (atlas." in str(error))
    assert [h for h in hostile.api_hits() if "../template" in h.path] == []


def test_the_command_line_exits_3_without_a_traceback_or_the_token(hostile: HostileVendor, tmp_path: Path) -> None:
    hostile.mode.next_link = "{catcher}/x"
    config = tmp_path / "crmql.toml"
    lines = []
    for name, conn in hostile.config().connections.items():
        lines.append(f"[connections.{name}]\nvendor = {json.dumps(conn.vendor)}")
        lines.extend(f"{k} = {json.dumps(v)}" for k, v in conn.settings.items())
    config.write_text("\n".join(lines) + "\n", encoding="utf-8")
    done = subprocess.run([sys.executable, "-m", "crmql", "--config", str(config), "-e", "SELECT id FROM atlas.contacts"],
                          capture_output=True, text=True, timeout=60, cwd=tmp_path,
                          env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(REPO), "HOME": str(tmp_path)})
    assert done.returncode == 3, done.stderr
    assert "Traceback" not in done.stderr and hostile.token not in done.stderr + done.stdout
    assert "another origin" in done.stderr and "atlas.contacts" in done.stderr


def test_crmql_errors_are_the_only_escape(hostile: HostileVendor) -> None:
    """A statement against the well-behaved fake vendor works: the failures above are the vendor's."""
    with hostile.session() as session:
        assert len(session.query("SELECT id FROM azavista.contacts")) == 120
        assert len(session.query("SELECT id FROM atlas.sales")) == 120
    assert isinstance(VendorResponseError("x"), crmql.CrmqlError)


def test_explain_never_scans_to_estimate_from_a_total_that_is_no_count(hostile: HostileVendor) -> None:
    hostile.mode.total, hostile.mode.rows = "lots", 500
    with hostile.session() as session:
        text = session.explain("SELECT id FROM azavista.events WHERE name LIKE '%a%'")
    assert "azavista.events" in text
    assert len(hostile.api_hits()) == 1  # the 1-row probe only, not a counting scan of 10 pages


def test_the_connection_limits_reach_the_http_client(hostile: HostileVendor) -> None:
    hostile.mode.rows = 500  # 10 pages
    error = _error(hostile, "SELECT id FROM azavista.events", RequestBudgetError, max_requests=3)
    assert "max_requests" in str(error)
    with hostile.session(max_response_mb=2, max_retry_wait_s=0.5) as session:
        http = session.connector("azavista").http
        assert (http.max_response_mb, http.retry.max_retry_wait_s) == (2.0, 0.5)


@pytest.mark.parametrize("sql", ["SELECT id FROM azavista.events", "SELECT id FROM atlas.contacts"])
def test_an_html_page_on_200_is_a_vendor_response_error(hostile: HostileVendor, sql: str) -> None:
    hostile.mode.body = "html"
    assert "malformed response" in str(_error(hostile, sql))


def test_a_page_far_larger_than_asked_is_capped(hostile: HostileVendor) -> None:
    hostile.mode.body, hostile.mode.huge_records = "huge", 50_000  # about 4 MB when 50 records were asked for
    error = _error(hostile, "SELECT id FROM azavista.events LIMIT 5", max_response_mb=1)
    assert "max_response_mb" in str(error) or "MB" in str(error)
