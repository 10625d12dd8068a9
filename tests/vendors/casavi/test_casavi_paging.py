"""casavi paging under every reading of what its docs leave open (vendor-notes section 4: the v2
page-size parameter, its maximum and the page base are unknown; ``_links.next`` is absent or null
at the end): a full scan returns every record exactly once, and the number of page requests is what
the reading implies. crmql follows ``_links.next`` (never builds page URLs itself), sends
``limit=100`` (or a smaller LIMIT), and retries a refused first page once without the size.

The scans read ``casavi.properties`` (about 300 records: a few pages per reading), counted in the
simulator's request log; the rows are checked against the seeded data. Once two next links show a
page counter, crmql requests the following pages ahead (each used only when the page before links
to exactly it): the pages the reading implies are read, plus at most :data:`WASTED` requests beyond
the last page (the connector's documented bound), which bring no row. The look-ahead itself is
pinned on a full contacts scan: pages in flight together (counted in the sandbox's middleware, with
a small injected latency so that requests sent together are served together), up to ``AHEAD`` of
them, and a short scan that wastes nothing.
"""

from __future__ import annotations

import math
from typing import Any

import pytest

from crmql.connectors.casavi.connector import AHEAD
from crmql.sandbox import SandboxServer, records

from contract.kit import session_for
from live_server import InFlight

from vendors.casavi.spec import SPEC

PROPERTIES = sorted(r["id"] for r in records("casavi", "properties", 42))
PAGE_PATH = "/casavi/v2/properties"
#: the vendor's page size when it reads no size parameter of ours (the simulator's default)
VENDOR_DEFAULT = 25
#: requests beyond the last page a look-ahead may waste (the connector's docstring: "3 at most per scan")
WASTED = 3


def _pages(n: int, size: int) -> int:
    """Page requests for ``n`` records at ``size`` per page (the last page has no next link)."""
    return max(1, math.ceil(n / size))


#: reading -> (records per page served, refused first pages)
READINGS: dict[str, tuple[dict[str, str], int, int]] = {
    "defaults": ({}, 100, 0),
    "page_size_param=pageSize": ({"casavi.page_size_param": "pageSize"}, VENDOR_DEFAULT, 0),
    "page_size_param=size": ({"casavi.page_size_param": "size"}, VENDOR_DEFAULT, 0),
    "page_size_max=50": ({"casavi.page_size_max": "50"}, 50, 0),
    "page_size_max=500": ({"casavi.page_size_max": "500"}, 100, 0),
    "oversize=reject": ({"casavi.oversize": "reject"}, 100, 0),  # 100 is within the default maximum
    "oversize=reject,page_size_max=50": ({"casavi.oversize": "reject", "casavi.page_size_max": "50"},
                                         VENDOR_DEFAULT, 1),
    "page_base=1": ({"casavi.page_base": "1"}, 100, 0),
    "next_link=path": ({"casavi.next_link": "path"}, 100, 0),
    "next_link=href": ({"casavi.next_link": "href"}, 100, 0),
    "last_page=null": ({"casavi.last_page": "null"}, 100, 0),
    "page_base=1,next_link=href,last_page=null,page_size_max=50": (
        {"casavi.page_base": "1", "casavi.next_link": "href", "casavi.last_page": "null",
         "casavi.page_size_max": "50"}, 50, 0),
}


def _page_statuses(server: SandboxServer) -> list[int]:
    return [status for method, path, status in server.request_log if method == "GET" and path == PAGE_PATH]


def test_every_paging_variant_has_a_reading_here() -> None:
    """Every value of every paging variant of the simulator is read by a scan below."""
    from crmql.sandbox import ALL_VARIANTS

    paging = ("casavi.page_size_param", "casavi.page_size_max", "casavi.oversize", "casavi.page_base",
              "casavi.next_link", "casavi.last_page")
    covered = {(k, v) for variants, _, _ in READINGS.values() for k, v in variants.items()}
    for key in paging:
        assert key in ALL_VARIANTS, key
        assert {(key, v) for v in ALL_VARIANTS[key][1:]} <= covered, key


@pytest.mark.parametrize("reading", list(READINGS))
def test_a_full_scan_reads_every_record_once(sandbox: SandboxServer, reading: str) -> None:
    variants, per_page, refused = READINGS[reading]
    sandbox.settings.variants = dict(variants)
    with session_for(SPEC, sandbox.url) as session:
        result = session.execute("SELECT id FROM casavi.properties")
    ids = [str(i) for i in result.frame["id"]]
    assert len(ids) == len(set(ids)), "a record came twice"
    assert sorted(ids) == PROPERTIES
    statuses = _page_statuses(sandbox)
    pages = _pages(len(PROPERTIES), per_page)
    assert result.stats.pages == pages and result.stats.rows_fetched == len(PROPERTIES)
    assert pages <= statuses.count(200) <= pages + WASTED, statuses
    assert statuses.count(400) == refused, statuses  # (a look-ahead past the end may also be cancelled: 499)


@pytest.mark.parametrize("reading", ["defaults", "page_size_param=size", "oversize=reject,page_size_max=50"])
def test_a_limit_is_the_page_size_and_stops(sandbox: SandboxServer, reading: str) -> None:
    """``LIMIT 7``: ``limit=7`` on the first page and no second page, whatever size the vendor serves."""
    variants, _, _ = READINGS[reading]
    sandbox.settings.variants = dict(variants)
    with session_for(SPEC, sandbox.url) as session:
        explain = session.explain("SELECT id, name FROM casavi.properties LIMIT 7")
        sandbox.reset_log()  # (EXPLAIN may probe the first page)
        frame = session.query("SELECT id, name FROM casavi.properties LIMIT 7")
    assert "limit=7" in explain, explain
    assert len(frame) == 7 and set(frame["id"]) <= set(PROPERTIES)
    assert _page_statuses(sandbox) == [200]


def test_next_links_keep_the_filters(sandbox: SandboxServer) -> None:
    """A filtered multi-page scan under the other page base, path links and a null end: every page
    holds only matching records (the link kept ``isRegistered``), every record comes once."""
    sandbox.settings.variants = {"casavi.page_base": "1", "casavi.next_link": "path", "casavi.last_page": "null"}
    contacts = records("casavi", "contacts", 42)
    want = sorted(c["id"] for c in contacts if c.get("isRegistered") is True)
    assert len(want) > 200  # several pages
    with session_for(SPEC, sandbox.url) as session:
        result = session.execute("SELECT id FROM casavi.contacts WHERE isRegistered = TRUE")
    got = [str(i) for i in result.frame["id"]]
    assert sorted(got) == want and len(got) == len(set(got))
    assert result.stats.rows_fetched == len(want)  # the vendor honoured the filter on every page
    statuses = [s for m, p, s in sandbox.request_log if m == "GET" and p == "/casavi/v2/contacts"]
    assert result.stats.pages == _pages(len(want), 100)
    assert result.stats.pages <= statuses.count(200) <= result.stats.pages + WASTED, statuses


def test_a_long_scan_requests_pages_ahead_and_a_short_one_wastes_nothing(
        sandbox: SandboxServer, monkeypatch: pytest.MonkeyPatch) -> None:
    """A full contacts scan (about 60 pages) has pages in flight together, ``AHEAD`` at most (the
    ramp 1, 2, 4 reaches it; how many overlap at one moment depends on the machine's load), and
    wastes at most ``AHEAD - 1``
    requests past the last page; a 3-page properties scan wastes none (the ramp starts at the real
    next link). Following links one by one (no look-ahead, or ``AHEAD = 1``) has one in flight."""
    contacts = sorted(r["id"] for r in records("casavi", "contacts", 42))
    flight = InFlight("^/casavi/v2/contacts$")
    flight.install(monkeypatch)
    sandbox.settings.latency_ms = 20  # requests sent together are served together, not one by one
    with session_for(SPEC, sandbox.url) as session:
        result = session.execute("SELECT id FROM casavi.contacts")
        ids = [str(i) for i in result.frame["id"]]
        assert sorted(ids) == contacts and len(ids) == len(set(ids))
        pages = _pages(len(contacts), 100)
        assert pages > 50 and result.stats.pages == pages
        statuses = [s for m, p, s in sandbox.request_log if m == "GET" and p == "/casavi/v2/contacts"]
        assert 2 <= flight.most <= AHEAD, flight.most  # following links alone: one at a time
        assert flight.now == 0 and pages <= len(statuses) <= pages + AHEAD - 1, statuses
        assert statuses.count(200) >= pages and set(statuses) <= {200, 404, 499}, statuses
        sandbox.reset_log()
        result = session.execute("SELECT id FROM casavi.properties")
    assert sorted(str(i) for i in result.frame["id"]) == PROPERTIES and result.stats.pages == 3
    assert _page_statuses(sandbox) == [200, 200, 200]  # nothing past the last page
