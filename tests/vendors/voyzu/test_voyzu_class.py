"""The class-shape check over real HTTP: crmql reads ``GET /api/contacts/class`` once per connection
and picks the search reading whose input fields the class declares (``search_reading = "auto"``):

* the simulator's ``voyzu.paging`` readings (datatable, page, none) are each recognised from their
  class module, and the scan gives every contact (``none``: every row in one answer, async up front);
* ``COUNT(*)`` under each reading (one request of one row where the envelope has a total), and
  ``LIMIT 10`` in one page;
* the front-end doc's class names (``voyzu.class_names=front_end``) work too;
* ``voyzu.max_length=100``: a page shorter than asked is continued from what came, nothing lost;
* a class that fits no reading (a tiny loopback vendor serving the sandbox's module with other
  field names) is one clear error naming the class's fields and what crmql sends, before any search;
* a search the vendor refuses with 400: "refused the search as malformed", the ``search_reading``
  hint, not retried, the vendor's ``ErrorMessage`` not shown;
* ``login_values`` are checked against the ``AuthInput`` class: an unknown key is named, before the login.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

import crmql
from crmql.api.config import sandbox_config
from crmql.api.session import Session
from crmql.sandbox import SandboxServer

from live_server import serve
from vendors.voyzu.support import (AUTH, FAST, LOGIN, PREFIX, SEARCH, SMALL, V, calls, fast_async, ids, raw, reset,
                                   session, small_ids)

#: a pushed search (a few hundred contacts at most under every reading), checked locally
NAMED = f"SELECT id FROM {V}.contacts WHERE last_name LIKE 'Sch%'"


def sch() -> list[str]:
    return sorted(r["Id"] for r in raw()[:SMALL] if (r.get("LastName") or "").startswith("Sch"))


@pytest.fixture
def voyzu(sandbox_server: SandboxServer) -> Iterator[SandboxServer]:
    reset(sandbox_server)
    fast_async(sandbox_server, contacts=SMALL)
    yield sandbox_server
    reset(sandbox_server)


@pytest.mark.parametrize("paging", ["datatable", "page", "none"])
def test_auto_recognises_each_reading_from_its_class(voyzu: SandboxServer, paging: str) -> None:
    voyzu.settings.variants = {f"{V}.paging": paging}
    with session(voyzu) as s:
        assert sorted(ids(s.query(NAMED))) == sch()
        assert sorted(ids(s.query(f"SELECT id FROM {V}.contacts"))) == small_ids()
    assert [st for _, st in calls(voyzu, "/api/contacts/class", "GET")] == [200]  # once per connection
    assert set(st for _, st in calls(voyzu, SEARCH)) <= {200}


@pytest.mark.parametrize("paging, requests", [("datatable", 1), ("page", 1), ("none", None)])
def test_count_of_every_contact_under_each_reading(voyzu: SandboxServer, paging: str, requests: int | None) -> None:
    """datatable: ``Length=1`` and RecordsFiltered; page: ``PageSize=1`` and TotalCount; none: counted
    over the one answer."""
    voyzu.settings.variants = {f"{V}.paging": paging}
    with session(voyzu) as s:
        assert int(s.query(f"SELECT COUNT(*) AS n FROM {V}.contacts")["n"][0]) == SMALL
        assert len(ids(s.query(f"SELECT id FROM {V}.contacts LIMIT 10"))) == 10
    searches = calls(voyzu, SEARCH)
    if requests is not None:
        assert len(searches) == requests + 1, searches  # the count, then LIMIT 10 in one page
    assert set(st for _, st in searches) == {200}


def test_the_front_end_class_names_work(voyzu: SandboxServer) -> None:
    voyzu.settings.variants = {f"{V}.class_names": "front_end", f"{V}.paging": "page"}
    with session(voyzu) as s:
        assert sorted(ids(s.query(NAMED))) == sch()


def test_a_shorter_page_than_asked_is_continued(voyzu: SandboxServer) -> None:
    voyzu.settings.variants = {f"{V}.max_length": "100"}
    with session(voyzu) as s:
        got = ids(s.query(f"SELECT id FROM {V}.contacts WHERE id <= '{small_ids()[449]}'"))
    assert sorted(got) == small_ids()[:450] and len(got) == len(set(got))


def test_a_named_reading_that_the_class_refuses_is_the_same_clear_error(voyzu: SandboxServer) -> None:
    voyzu.settings.variants = {f"{V}.paging": "page"}
    with session(voyzu, search_reading="datatable") as s:
        with pytest.raises(crmql.ConnectorError) as info:
            s.query(NAMED)
    text = str(info.value) + " " + str(getattr(info.value, "hint", "") or "")
    assert "Start" in text and "PageSize" in text and "search_reading" in text, text
    assert calls(voyzu, SEARCH) == []


# ---- a vendor whose class fits no reading ------------------------------------------------------------

def _foreign_class(module: str) -> str:
    """The sandbox's contacts class module with the search input's fields renamed."""
    for old, new in (("SearchText", "Query"), ("Start", "Offset"), ("Length", "Limit")):
        module = module.replace(old, new)
    return module


@pytest.fixture(scope="module")
def foreign(sandbox_server: SandboxServer) -> Iterator[tuple[str, list[str]]]:
    """A loopback 'Voyzu' whose contacts class declares ``Query, Offset, Limit``; every other path 404."""
    module = httpx.get(sandbox_server.url + PREFIX + "/api/contacts/class").text
    assert "SearchText" in module, module[:500]
    seen: list[str] = []

    async def contacts_class(request: Request) -> Response:
        seen.append(request.url.path)
        return Response(_foreign_class(module), media_type="text/javascript")

    async def other(request: Request) -> Response:
        seen.append(request.url.path)
        return JSONResponse({"message": "Not Found"}, status_code=404)

    app = Starlette(routes=[Route("/api/contacts/class", contacts_class, methods=["GET"]),
                            Route("/{rest:path}", other, methods=["GET", "POST"])])
    with serve(app) as url:
        yield url, seen


def test_a_class_that_fits_no_reading_is_one_clear_error(foreign: tuple[str, list[str]]) -> None:
    url, seen = foreign
    seen.clear()
    config = sandbox_config("http://127.0.0.1:1")
    config.connections[V].settings.update({**dict(FAST), "base_url": url})
    with Session(config) as s:
        with pytest.raises(crmql.ConnectorError) as info:
            s.query(NAMED)
    error = info.value
    text = str(error) + " " + str(getattr(error, "hint", "") or "")
    for name in ("Query", "Offset", "Limit", "SearchText", "search_reading"):
        assert name in text, (name, text)
    assert "Traceback" not in text and error.exit_code == 3
    assert seen == ["/api/contacts/class"]  # no search was sent


def test_a_search_refused_with_400_says_malformed_and_hides_the_error_message(sandbox_server: SandboxServer) -> None:
    """A vendor whose class fits the datatable reading but refuses the search (400 + ErrorMessage)."""
    module = httpx.get(sandbox_server.url + PREFIX + "/api/contacts/class").text
    searches: list[str] = []

    async def contacts_class(request: Request) -> Response:
        return Response(module, media_type="text/javascript")

    async def search(request: Request) -> Response:
        searches.append(request.url.path)
        return JSONResponse({"ErrorMessage": "Input is not a ContactsSearchInput"}, status_code=400)

    app = Starlette(routes=[Route("/api/contacts/class", contacts_class, methods=["GET"]),
                            Route("/api/contacts/search", search, methods=["POST"])])
    with serve(app) as url:
        config = sandbox_config("http://127.0.0.1:1")
        config.connections[V].settings.update({**dict(FAST), "base_url": url})
        with Session(config) as s:
            with pytest.raises(crmql.ConnectorError) as info:
                s.query(NAMED)
    text = str(info.value) + " " + str(getattr(info.value, "hint", "") or "")
    assert "Voyzu refused the search as malformed" in text and "400" in text and "search_reading" in text, text
    assert "not a ContactsSearchInput" not in text, text
    assert len(searches) == 1  # a 400 is not retried


# ---- login_values against AuthInput ------------------------------------------------------------------

def _login_session(server: SandboxServer, values: dict[str, Any]) -> Session:
    config = sandbox_config(server.url)
    settings = config.connections[V].settings
    settings.pop("session_id", None)
    settings.update({**dict(FAST), "login_values": values})
    return Session(config)


def test_login_values_log_in_when_there_is_no_session_id(voyzu: SandboxServer) -> None:
    with _login_session(voyzu, dict(LOGIN)) as s:
        assert sorted(ids(s.query(NAMED))) == sch()
    assert [st for _, st in calls(voyzu, AUTH)] == [200]


def test_an_unknown_login_key_is_named_before_the_login(voyzu: SandboxServer) -> None:
    wrong = {"Email": LOGIN["Email"], "Pasword": LOGIN["Password"]}
    with _login_session(voyzu, wrong) as s:
        with pytest.raises(crmql.CrmqlError) as info:
            s.query(NAMED)
    text = str(info.value) + " " + str(getattr(info.value, "hint", "") or "")
    assert "Pasword" in text and "AuthInput" in text, text
    assert LOGIN["Password"] not in text
    assert calls(voyzu, AUTH) == []  # no login was posted
