"""Work started before the step that needs it: templates and a whole-table read's first page
(Connector.warm / crmql.connectors.rest.early), and SELECT * without DuckDB (executor.is_identity).

Concurrency is proven, not timed: the template request is made to wait until the server has
logged the first entities page, which can only happen if that page went out alongside it.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Iterator
from typing import Any

import pandas as pd
import pytest

import crmql.exec.executor as executor
from crmql.api.config import sandbox_config
from crmql.connectors.atlas.connector import AtlasConnector
from crmql.connectors.rest.early import EarlyRequests
from crmql.errors import QueryError
from crmql.http.loop import run_sync
from crmql.language.parser import parse
from crmql.sandbox.core.server import SandboxServer
from crmql.api.session import Session

from vendors.atlas.support import request_kinds as _log


@pytest.fixture
def atlas_session(sandbox: SandboxServer) -> Iterator[Callable[[], Session]]:
    made: list[Session] = []

    def make() -> Session:
        made.append(Session(sandbox_config(sandbox.url)))
        return made[-1]

    yield make
    for s in made:
        s.close()


def _entities_logged(server: SandboxServer) -> int:
    return sum(1 for _m, path, _s in server.request_log if path.endswith("/entities"))


def test_a_whole_table_read_sends_its_first_page_with_the_template(
        sandbox: SandboxServer, atlas_session: Callable[[], Session], monkeypatch: pytest.MonkeyPatch) -> None:
    original = AtlasConnector._template

    async def template_after_first_page(self: AtlasConnector, name: str) -> Any:
        deadline = time.monotonic() + 20
        while not _entities_logged(sandbox):
            assert time.monotonic() < deadline, "the first page did not go out while the template loaded"
            await asyncio.sleep(0.01)
        return await original(self, name)

    monkeypatch.setattr(AtlasConnector, "_template", template_after_first_page)
    sandbox.reset_log()
    frame = atlas_session().query("SELECT * FROM atlas.companies")
    assert len(frame) == 1000 and frame["id"].is_unique
    assert _log(sandbox) == {"token": 1, "template": 1, "entities": 10, "entity": 0, "links": 0, "other": 0}


@pytest.mark.parametrize("sql, entities", [
    ('SELECT * FROM atlas.companies WHERE "company-name" = \'nobody\'', 1),
    ("SELECT COUNT(*) FROM atlas.companies", 1),
    ("SELECT * FROM atlas.companies LIMIT 5", 1),
    ('SELECT "company-name" FROM atlas.companies ORDER BY "company-employees" LIMIT 3', 1),
    ('SELECT "company-country", COUNT(*) FROM atlas.companies GROUP BY "company-country"', 10),
])
def test_no_early_page_when_the_first_request_depends_on_the_query(
        sandbox: SandboxServer, atlas_session: Callable[[], Session], sql: str, entities: int) -> None:
    sandbox.reset_log()
    atlas_session().query(sql)
    log = _log(sandbox)
    assert (log["token"], log["template"], log["entities"]) == (1, 1, entities), log


def test_templates_of_joined_tables_load_concurrently(
        atlas_session: Callable[[], Session], monkeypatch: pytest.MonkeyPatch) -> None:
    original = AtlasConnector._template
    active = {"now": 0, "max": 0}

    async def counted(self: AtlasConnector, name: str) -> Any:
        active["now"] += 1
        active["max"] = max(active["max"], active["now"])
        try:
            await asyncio.sleep(0.2)  # both are out before either finishes, unless they run one by one
            return await original(self, name)
        finally:
            active["now"] -= 1

    monkeypatch.setattr(AtlasConnector, "_template", counted)
    frame = atlas_session().query(
        'SELECT s."sale-name", c."company-name" FROM atlas.sales s JOIN atlas.companies c ON s."sale-name" = c."company-name" '
        "WHERE c.\"company-name\" = 'nobody'")
    assert frame.empty
    assert active["max"] == 2


def test_an_early_page_nobody_used_is_discarded(sandbox: SandboxServer, atlas_session: Callable[[], Session]) -> None:
    session = atlas_session()
    with pytest.raises(Exception, match="unknown column"):
        session.query("SELECT no_such_column FROM atlas.companies")  # whole-table read: warm() started page 1
    connector = session.connector("atlas")
    assert len(connector.early) == 0
    # the template that warm() loaded is used; the next statement needs no second template request
    sandbox.reset_log()
    assert len(session.query('SELECT "company-name" FROM atlas.companies LIMIT 2')) == 2
    assert _log(sandbox)["template"] == 0


def test_discard_cancels_what_was_not_taken() -> None:
    early = EarlyRequests()
    state = {"cancelled": False}

    async def slow() -> None:
        try:
            await asyncio.sleep(30)
        except asyncio.CancelledError:
            state["cancelled"] = True
            raise

    async def quick() -> int:
        return 7

    early.start("slow", slow())
    early.start("quick", quick())
    early.start("quick", quick())  # already out under this key: not started twice
    assert len(early) == 2
    assert early.take("quick").result() == 7
    early.discard()
    deadline = time.monotonic() + 5
    while not state["cancelled"] and time.monotonic() < deadline:
        time.sleep(0.01)
    assert state["cancelled"] and len(early) == 0


# ---- SELECT * skips DuckDB ----------------------------------------------------------------------

TABLES = ["azavista.events", "azavista.contacts", "azavista.organizations",
          "atlas.companies", "atlas.contacts", "atlas.sales", "atlas.links"]


@pytest.mark.parametrize("table", [t for t in TABLES if t != "atlas.links"])
def test_select_star_without_duckdb_gives_the_duckdb_frame(
        table: str, atlas_session: Callable[[], Session], monkeypatch: pytest.MonkeyPatch) -> None:
    session = atlas_session()
    plan = session.plan(parse(f"SELECT * FROM {table}"))
    assert executor.is_identity(plan)
    fast = session.query(f"SELECT * FROM {table}")
    monkeypatch.setattr(executor, "is_identity", lambda _plan: False)
    pd.testing.assert_frame_equal(fast, session.query(f"SELECT * FROM {table}"))


@pytest.mark.parametrize("table", TABLES)
def test_an_empty_table_has_the_same_typed_columns_either_way(
        table: str, atlas_session: Callable[[], Session], monkeypatch: pytest.MonkeyPatch) -> None:
    session = atlas_session()
    plan = session.plan(parse(f"SELECT * FROM {table}" + (" WHERE entity_id = 'x'" if table == "atlas.links" else "")))
    empty = [executor.to_arrow(plan.scans[0].table, [])]
    fast = executor.run_local(plan, empty) if executor.is_identity(plan) else None
    monkeypatch.setattr(executor, "is_identity", lambda _plan: False)
    slow = executor.run_local(plan, empty)
    assert list(slow.columns) == [c.name for c in plan.scans[0].table.columns]
    if fast is not None:
        pd.testing.assert_frame_equal(fast, slow)


@pytest.mark.parametrize("sql", [
    "SELECT *, 1 AS one FROM atlas.companies",
    "SELECT * FROM atlas.companies LIMIT 3",
    "SELECT * FROM atlas.companies ORDER BY id",
    "SELECT DISTINCT * FROM atlas.companies",
    'SELECT * FROM atlas.companies WHERE "company-name" IS NOT NULL',
    "SELECT c.* FROM atlas.companies c JOIN atlas.sales s ON s.id = c.id",
])
def test_anything_but_a_bare_select_star_goes_through_duckdb(sql: str, atlas_session: Callable[[], Session]) -> None:
    assert not executor.is_identity(atlas_session().plan(parse(sql)))


def test_run_sync_is_not_needed_to_take_an_early_request() -> None:
    early = EarlyRequests()

    async def page() -> list[int]:
        return [1]

    early.start("k", page())

    async def consume() -> list[int]:
        taken = early.take("k")
        assert taken is not None
        return await taken

    assert run_sync(consume()) == [1]


# ---- LinkAhead: the next page requested from the raw body ---------------------------------------

def _chain(bodies: dict[str, str], peeks: dict[str, str | None]) -> tuple[Any, list[str]]:
    """A LinkAhead over fake pages: ``bodies`` url -> decoded value, ``peeks`` url -> peeked link."""
    from crmql.connectors.rest.paging import LinkAhead

    sent: list[str] = []

    async def send(url: str) -> str:
        sent.append(url)
        if bodies[url] == "boom":
            raise RuntimeError(f"{url} failed")
        await asyncio.sleep(0.001)
        return url

    return LinkAhead(send, decode=lambda url: bodies[url], peek=lambda url: peeks.get(url)), sent


def test_link_ahead_requests_the_next_page_before_decoding_and_bounds_what_it_holds() -> None:
    bodies = {f"p{i}": f"page {i}" for i in range(1, 6)}
    peeks: dict[str, str | None] = {f"p{i}": f"p{i + 1}" for i in range(1, 5)}
    ahead, sent = _chain(bodies, peeks)

    async def run() -> list[str]:
        first = await ahead.get("p1")
        await asyncio.sleep(0.05)  # the chain runs ahead by itself, but holds at most AHEAD pages
        held = len(ahead._started)
        got = [first] + [await ahead.get(f"p{i}") for i in range(2, 6)]
        await ahead.aclose()
        return [*got, held]

    *pages, held = run_sync(run())
    assert pages == [f"page {i}" for i in range(1, 6)]
    assert held <= ahead.AHEAD
    assert sent == [f"p{i}" for i in range(1, 6)]  # every page exactly once


def test_link_ahead_never_hands_out_a_page_under_another_url() -> None:
    # p1's raw body seems to link to "wrong", but its decoded body says p2: "wrong" is never used
    ahead, sent = _chain({"p1": "one", "p2": "two", "wrong": "nope"}, {"p1": "wrong"})

    async def run() -> list[str]:
        got = [await ahead.get("p1"), await ahead.get("p2")]
        await ahead.aclose()
        return got

    assert run_sync(run()) == ["one", "two"]
    assert sent[0] == "p1" and "p2" in sent and set(sent) <= {"p1", "p2", "wrong"}


def test_link_ahead_failures_surface_when_taken_and_leftovers_are_cancelled() -> None:
    ahead, _ = _chain({"p1": "one", "p2": "boom"}, {"p1": "p2"})

    async def failing() -> None:
        await ahead.get("p1")
        await ahead.get("p2")

    with pytest.raises(RuntimeError, match="p2 failed"):
        run_sync(failing())
    run_sync(ahead.aclose())

    ahead, _ = _chain({"p1": "one", "p2": "two"}, {"p1": "p2"})

    async def stop_after_first() -> int:
        await ahead.get("p1")
        left = len(ahead._started)
        await ahead.aclose()
        return left

    assert run_sync(stop_after_first()) == 1
    assert not ahead._started


def test_a_failed_warm_template_is_not_replayed_by_the_next_statement(
        sandbox: SandboxServer, atlas_session: Callable[[], Session], monkeypatch: pytest.MonkeyPatch) -> None:
    original = AtlasConnector._template
    failing = {"on": True}

    async def fails_while_on(self: AtlasConnector, name: str) -> Any:
        # Fail every template request made while the first statement runs. Whether warm()'s
        # request ran (and failed) or was discarded before it started is a race; either way
        # the next statement must make its own request, not reuse the failed one.
        if failing["on"]:
            raise RuntimeError("template request failed")
        return await original(self, name)

    monkeypatch.setattr(AtlasConnector, "_template", fails_while_on)
    session = atlas_session()
    # warm() starts the template, then the statement fails before binding reads it (a COPY's bad
    # FORMAT used to be that failure; it is now checked before warm(), so planning fails instead)
    original_plan = Session.plan

    def plan_fails(self: Session, *args: Any, **kwargs: Any) -> Any:
        raise QueryError("planning failed before binding")

    monkeypatch.setattr(Session, "plan", plan_fails)
    with pytest.raises(QueryError, match="planning failed"):
        session.execute("SELECT * FROM atlas.companies")
    monkeypatch.setattr(Session, "plan", original_plan)
    failing["on"] = False
    assert len(session.query('SELECT "company-name" FROM atlas.companies LIMIT 2')) == 2


@pytest.mark.parametrize("tail, expected", [
    (b'],"total":5000,"_links":{"self":{"href":"/x"},"next":{"href":"/api/1.0/workspace/CRM/entities?cursor=abc"}}}',
     "/api/1.0/workspace/CRM/entities?cursor=abc"),
    (b'],"total":5000,"_links":{"self":{"href":"/x"}}}', None),  # the last page
    (b'],"_links":{"next":{"href":"\\/api\\/escaped"}}}', None),  # escapes: left to the decoder
    # a record's own object field named "next", not the page's link: not at the end of the body
    (b',{"id":"3","fields":{"x":{"next":{"href":"/api/1.0/steal"}}}}],"total":3,"_links":{"self":{"href":"/x"}}}', None),
    # another origin is never requested on a peek alone
    (b'],"_links":{"next":{"href":"https://elsewhere.example/api/1.0/x"}}}', None),
])
def test_atlas_peeks_only_a_plain_page_level_next_link(tail: bytes, expected: str | None) -> None:
    connector = AtlasConnector("atlas", {"base_url": "http://vendor.test/rest", "client_id": "x", "client_secret": "y"})

    class Raw:
        content = b'{"items":[' + b'{"id":"1","fields":{}},' * 200 + b'{"id":"2"}' + tail

    got = connector._peek_next(Raw())
    assert got == (None if expected is None else "http://vendor.test" + expected)  # as urljoin resolves it
