"""A search read in row ranges (``FetchPlan.rows``) and its size from one request
(``Connector.extent``), against the real sandbox over HTTP: the rows of the ranges
``[0, a), [a, b), [b, None)`` are the full scan's rows (same ids, same order, none twice), each
range sends only the requests of its own pages, ``extent`` is one 1-row request returning the
vendor's total, and a paginator that cannot start in the middle (a next link) refuses a range.

Azavista (offset + total), Voyzu under both paged readings (``Start``/``Length`` and 1-based
``Page``/``PageSize``, also with a server capping the page size), and casavi Community's page
index (every page-index table fans out per community, so one community's scan is read in ranges
directly through ``RestConnector.scan``; also under ``page_base=1`` and a capped page size). The
engines' properties are in ``test_scan_rows_engines.py``.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from crmql.api.config import sandbox_config
from crmql.api.session import Session
from crmql.http import run_sync
from crmql.http.client import HttpClient
from crmql.language.parser import parse
from crmql.plan.connector import Extent
from crmql.plan.plans import ScanPlan
from crmql.sandbox import SandboxServer, records

Sent = list[tuple[str, str, Any, Any]]


@pytest.fixture
def sent(monkeypatch: pytest.MonkeyPatch) -> Iterator[Sent]:
    """Every request the connectors send: (method, url, params, json body)."""
    log: Sent = []
    original = HttpClient.request

    async def recording(self: HttpClient, method: str, url: str, **kwargs: Any) -> Any:
        log.append((method.upper(), url, kwargs.get("params"), kwargs.get("json")))
        return await original(self, method, url, **kwargs)

    monkeypatch.setattr(HttpClient, "request", recording)
    yield log


@pytest.fixture
def session_of(sandbox: SandboxServer) -> Iterator[Callable[..., Session]]:
    """``session_of(conn=..., **settings)``: a session on the module's sandbox, with extra settings
    on one connection (closed after the test)."""
    made: list[Session] = []

    def make(conn: str = "azavista", **settings: Any) -> Session:
        config = sandbox_config(sandbox.url)
        config.connections[conn].settings.update(settings)
        made.append(Session(config))
        return made[-1]

    yield make
    for session in made:
        session.close()


def _scan(session: Session, sql: str) -> ScanPlan:
    plan = session.plan(parse(sql), text=sql)
    (scan,) = plan.scans
    return scan


def _read(scan: ScanPlan, rows: tuple[int, int | None] | None) -> list[dict[str, Any]]:
    got: list[dict[str, Any]] = []
    plan = dataclasses.replace(scan.fetch, rows=rows)
    run_sync(scan.connector.fetch(scan.table, plan, lambda records: got.extend(records) or True))
    return got


def _ranges(*cuts: int) -> list[tuple[int, int | None]]:
    bounds = [0, *cuts]
    return [(a, b) for a, b in zip(bounds, bounds[1:])] + [(bounds[-1], None)]


def _searches(sent: Sent, path: str) -> list[Any]:
    return [body for method, url, _, body in sent if url.split("?")[0].endswith(path)]


# ---- Azavista: offset + total ---------------------------------------------------------------------

def test_azavista_ranges_are_the_full_scan_each_sending_only_its_pages(
        session_of: Callable[..., Session], sent: Sent) -> None:
    scan = _scan(session_of(), "SELECT * FROM azavista.events WHERE event_type = 'webinar'")
    full = [r["id"] for r in _read(scan, None)]
    assert len(full) > 300 and len(set(full)) == len(full)
    parts: list[Any] = []
    for start, stop in _ranges(100, 275):  # 275: inside a page of 50
        sent.clear()
        got = [r["id"] for r in _read(scan, (start, stop))]
        assert got == full[start:stop]
        parts += got
        bodies = _searches(sent, "/3.0/event/search")
        end = stop if stop is not None else len(full)
        assert [b["offset"] for b in bodies] == list(range(start, end, 50))
        assert all(b["offset"] + b["limit"] <= end for b in bodies)
    assert parts == full


def test_azavista_extent_is_one_request_of_one_row(sandbox: SandboxServer, session_of: Callable[..., Session],
                                                   sent: Sent) -> None:
    session = session_of()
    scan = _scan(session, "SELECT * FROM azavista.events WHERE event_type = 'sales'")
    rows = len(_read(scan, None))
    sent.clear()
    extent = run_sync(scan.connector.extent(scan.table, scan.fetch))
    assert extent == Extent(rows=rows, page=50)
    (body,) = _searches(sent, "/3.0/event/search")
    assert body["limit"] == 1 and body["offset"] == 0 and body["event_filter"] == scan.fetch.requests[0].body[
        "event_filter"]


@pytest.mark.parametrize("sql", [
    "SELECT * FROM azavista.events LIMIT 10",  # a LIMIT: no range
    "SELECT * FROM azavista.events WHERE id = '5a4a43a717f22dd2899cf711'",  # read by id
])
def test_no_extent_for_a_scan_that_is_not_one_whole_search(sql: str, session_of: Callable[..., Session],
                                                           sent: Sent) -> None:
    scan = _scan(session_of(), sql)
    sent.clear()
    assert run_sync(scan.connector.extent(scan.table, scan.fetch)) is None
    assert _searches(sent, "/search") == []


def test_a_read_by_id_refuses_a_row_range(session_of: Callable[..., Session], sent: Sent) -> None:
    scan = _scan(session_of(), "SELECT * FROM azavista.events WHERE id = '5a4a43a717f22dd2899cf711'")
    sent.clear()
    with pytest.raises(NotImplementedError, match="azavista.events"):
        _read(scan, (0, 10))
    assert sent == []


# ---- Atlas: next links cannot start in the middle ------------------------------------------------

def test_a_next_link_table_refuses_a_row_range(sandbox: SandboxServer, session_of: Callable[..., Session],
                                               sent: Sent) -> None:
    scan = _scan(session_of("atlas"), "SELECT * FROM atlas.contacts")
    sent.clear()
    with pytest.raises(NotImplementedError, match="atlas.contacts.*NextLinkPaginator"):
        _read(scan, (100, 200))
    assert run_sync(scan.connector.extent(scan.table, scan.fetch)) is None
    assert sent == []  # nothing was asked for


# ---- Voyzu: both paged readings ----------------------------------------------------------------

@pytest.mark.parametrize("variants, field, first", [
    ({"voyzu.paging": "datatable"}, "Start", [150, 300]),
    ({"voyzu.paging": "page"}, "Page", [2, 3]),
    ({"voyzu.paging": "page", "voyzu.max_length": "100"}, "Page", None),  # the server caps pages at 100
])
def test_voyzu_ranges_are_the_full_scan(variants: dict[str, str], field: str, first: list[int] | None,
                                        sandbox: SandboxServer, session_of: Callable[..., Session],
                                        sent: Sent) -> None:
    sandbox.settings.variants = variants
    # (SearchText "Jo": some 400 contacts, in pages of 150)
    scan = _scan(session_of("voyzu", page_size=150), "SELECT * FROM voyzu.contacts WHERE display_name LIKE 'Jo%'")
    sent.clear()
    extent = run_sync(scan.connector.extent(scan.table, scan.fetch))
    (probe,) = _searches(sent, "/api/contacts/search")
    assert probe.get("Length", probe.get("PageSize")) == 1
    full = [r["Id"] for r in _read(scan, None)]
    assert extent == Extent(rows=len(full), page=150) and len(full) > 400 and len(set(full)) == len(full)
    parts: list[Any] = []
    for start, stop in _ranges(150, 375):
        sent.clear()
        got = [r["Id"] for r in _read(scan, (start, stop))]
        assert got == full[start:stop]
        parts += got
        if first is not None and stop == 375:  # rows 150-374: its two pages only
            assert [b[field] for b in _searches(sent, "/api/contacts/search")] == first
    assert parts == full


# ---- casavi Community: a page index (per community) ---------------------------------------------

def _biggest(table: str) -> tuple[int, int]:
    counts: dict[int, int] = {}
    for r in records("casavi_community", table, 42):
        counts[r["community_id"]] = counts.get(r["community_id"], 0) + 1
    return max(counts.items(), key=lambda cn: (cn[1], -cn[0]))


@pytest.mark.parametrize("variants, page_size", [
    ({}, 20),
    ({"casavi_community.page_base": "1"}, 20),  # a vendor counting pages from 1: the base is confirmed first
    ({"casavi_community.page_size_max": "50"}, 100),  # asked 100, served 50
])
def test_casavi_community_page_ranges_are_the_full_scan(variants: dict[str, str], page_size: int,
                                                        sandbox: SandboxServer,
                                                        session_of: Callable[..., Session], sent: Sent) -> None:
    sandbox.settings.variants = variants
    community, n = _biggest("activities")
    assert n > 100
    scan = _scan(session_of("casavi_community", page_size=page_size),
                 f"SELECT * FROM casavi_community.activities WHERE community_id = {community}")
    conn, table = scan.connector, scan.table
    res = conn.resource(table)
    (request,) = scan.fetch.requests

    def read(rows: tuple[int, int | None] | None) -> list[Any]:
        got: list[dict[str, Any]] = []
        run_sync(conn.scan(table, res, request, lambda r: got.extend(r) or True, rows=rows))
        return [r["id"] for r in got]

    parts: dict[tuple[int, int | None], list[Any]] = {}
    probes = 0
    for start, stop in reversed(_ranges(3 * page_size, 5 * page_size + 3)):  # a range past page 0 first
        sent.clear()
        parts[start, stop] = read((start, stop))
        asked = [dict(p) for _, url, p, _ in sent if url.endswith("/activities")]
        probes += sum(int(a["limit"]) == 1 for a in asked)  # the page base confirmed, once per connection
        pages = [int(a["page"]) for a in asked if int(a["limit"]) != 1]
        if not variants and stop is not None:  # exactly the pages holding its rows
            assert pages == list(range(start // page_size, -(-stop // page_size)))
    assert probes == 1
    full = read(None)
    assert len(full) == n and len(set(full)) == n
    assert [i for rows in sorted(parts.items()) for i in rows[1]] == full
    for (start, stop), got in parts.items():
        assert got == full[start:stop]
