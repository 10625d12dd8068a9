"""Voyzu connector fixes of the issue #13 reviews, over real HTTP against a small loopback Voyzu
whose behaviour each test sets (one server for the module):

* the search/base_url wording of a 400 or 404 only for the resource's own path: an async job's
  status poll or result link failing is no malformed search and no wrong base_url; a 504 on the
  async submit itself says so;
* a sync search that times out goes async at once (not retried at full timeout first), while a
  540 on it keeps its retries;
* the ``page`` reading on a server whose Page counts from 0: an error saying so, never a short
  (or empty) result;
* settings given as a dict (no config file rules): a ConfigError naming the key;
* ``!=`` and NOT say why they stay local.
"""

from __future__ import annotations

import asyncio
import json
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
from crmql.connectors.voyzu.errors import reword
from crmql.connectors.voyzu.search import SearchText
from crmql.errors import ConfigError, ConnectorError, VendorHTTPError
from crmql.language import ast
from crmql.plan.catalog import Column, ColumnType

from live_server import serve_fresh

SESSION = "sess-voyzu-fixes-1"
SEARCH = "/api/contacts/search"
ROWS = [{"Id": f"c-{n:04d}", "RecordType": "PERSON", "FirstName": "Ann", "LastName": f"Novak{n}",
         "DisplayName": f"Ann Novak{n}"} for n in range(25)]
CLASSES = {"datatable": ("SearchText", "Start", "Length"), "page": ("SearchText", "Page", "PageSize")}


@dataclass
class Voyzu:
    """A loopback Voyzu: ``reading``; ``zero_based`` pages; ``echo_shift`` added to the Page echoed;
    ``sync_delay_s`` before a sync search answers; ``sync_fail`` statuses the next sync searches
    answer; ``submit_status`` for ``?async=true``; ``link`` (a status path) for the finished job's
    ResultUrl instead of an inline Result."""

    url: str = ""
    reading: str = "datatable"
    total: int | None = None  # the rows served (None: all of ROWS)
    zero_based: bool = False
    echo_shift: int = 0
    sync_delay_s: float = 0.0
    sync_fail: list[int] = field(default_factory=list)
    submit_status: int = 200
    link: str | None = None
    seen: list[str] = field(default_factory=list)
    jobs: dict[str, Any] = field(default_factory=dict)  # request id -> the search body

    def app(self) -> Any:
        return Starlette(routes=[Route("/{path:path}", self.handle, methods=["GET", "POST"])])

    async def handle(self, request: Request) -> Response:
        path = "/" + request.path_params["path"]
        query = f"?{request.url.query}" if request.url.query else ""
        self.seen.append(f"{request.method} {path}{query}")
        if path == "/api/contacts/class":
            fields = "\n".join(f"  {f} = null;" for f in CLASSES[self.reading])
            return PlainTextResponse(f"export class ContactsSearchInput {{\n{fields}\n}}\n",
                                     media_type="text/javascript")
        if path.startswith("/gone/") or path.startswith("/bad/"):
            return JSONResponse({"message": "presigned link refused"}, status_code=404 if "gone" in path else 400)
        if request.cookies.get("voyzu-session-id") != SESSION:
            return JSONResponse({"ErrorMessage": "Unauthorised"}, status_code=401)
        raw = await request.body()
        body = json.loads(raw) if raw else {}
        if path.startswith("/api/request-status/get/"):
            rid = path.rsplit("/", 1)[1]
            status = {"RequestId": rid, "ProcessStatus": "PROCESSED", "PercentComplete": 100}
            if self.link:
                status["ResultUrl"] = f"{self.url}{self.link}?sig=0a1b2c"
            else:
                status["Result"] = self.answer(self.jobs[rid])
            return JSONResponse(status)
        if path != SEARCH or request.method != "POST":
            return JSONResponse({"message": "Not Found"}, status_code=404)
        if request.query_params.get("async") == "true":
            if self.submit_status != 200:
                return JSONResponse({"message": "Endpoint request timed out"}, status_code=self.submit_status)
            rid = f"r{len(self.jobs) + 1}"
            self.jobs[rid] = body
            return JSONResponse({"RequestId": rid, "ProcessStatus": "QUEUED", "PercentComplete": 0})
        if self.sync_fail:
            return JSONResponse({"ErrorMessage": "router busy"}, status_code=self.sync_fail.pop(0))
        if self.sync_delay_s:
            await asyncio.sleep(self.sync_delay_s)
        return JSONResponse(self.answer(body))

    def answer(self, body: dict[str, Any]) -> dict[str, Any]:
        if self.reading == "page":
            page, size = body["Page"], body["PageSize"]
            first = (page if self.zero_based else page - 1) * size
            rows = ROWS[:self.total]
            return {"Data": rows[first:first + size], "TotalCount": len(rows), "Page": page + self.echo_shift,
                    "PageSize": size}
        start, length = body["Start"], body["Length"]
        return {"Data": ROWS[start:start + length], "RecordsTotal": len(ROWS), "RecordsFiltered": len(ROWS)}


@pytest.fixture(scope="module")
def served() -> Iterator[tuple[list[Voyzu], str]]:
    with serve_fresh(Voyzu) as pair:
        yield pair


@pytest.fixture
def vendor(served: tuple[list[Voyzu], str]) -> Voyzu:
    holder, url = served
    holder[0] = Voyzu(url=url)
    return holder[0]


def session(vendor: Voyzu, *, unchecked: dict[str, Any] | None = None, **settings: Any) -> Session:
    """A session on ``vendor``; ``unchecked`` settings are put in after the config's own checks (as a
    program may do)."""
    options = {"base_url": vendor.url, "session_id": SESSION, "max_attempts": 3, "retry_base_s": 0.001,
               "retry_cap_s": 0.01, **settings}
    config = Config({"vz": ConnectionConfig("vz", "voyzu", options)}, source="test")
    config.connections["vz"].settings.update(unchecked or {})
    return Session(config)


def failure(vendor: Voyzu, sql: str = "SELECT id FROM vz.contacts", **settings: Any) -> ConnectorError:
    with session(vendor, **settings) as s, pytest.raises(ConnectorError) as info:
        s.query(sql)
    return info.value


def searches(vendor: Voyzu) -> list[str]:
    return [s for s in vendor.seen if SEARCH in s]


# ---------------------------------------------------------------- finding 1: whose path failed


@pytest.mark.parametrize(("stage", "status"), [("link", 404), ("link", 400), ("status", 404), ("status", 400)])
def test_an_async_jobs_poll_or_link_error_is_not_worded_as_the_search_or_base_url(stage: str, status: int) -> None:
    e = VendorHTTPError(f"reading the result of asynchronous request r1 from http://x/gone/r1 failed [HTTP {status}]",
                        vendor="Voyzu CRM", table="vz.contacts", status=status, vendor_message="NoSuchKey")
    e.async_stage = stage  # type: ignore[attr-defined]
    out = reword(e, None, None, path=SEARCH)
    assert "malformed" not in str(out) and "base_url" not in str(out) and "Voyzu has no" not in str(out), str(out)
    assert "NoSuchKey" not in str(out) and getattr(out, "async_stage", None) == stage
    own = VendorHTTPError("bad request", vendor="Voyzu CRM", table="vz.contacts", status=status)
    assert ("malformed" if status == 400 else "check base_url") in str(reword(own, None, None, path=SEARCH))


def test_a_504_on_the_async_submit_says_so() -> None:
    e = VendorHTTPError("gateway timeout", vendor="Voyzu CRM", table="vz.contacts", status=504)
    e.async_stage = "submit"  # type: ignore[attr-defined]
    out = reword(e, None, None, path=SEARCH)
    assert f"the asynchronous submit of {SEARCH} met Voyzu's gateway limit too" in str(out), str(out)
    assert "narrow the query" in (out.hint or "") and "try again later" in (out.hint or "")


@pytest.mark.parametrize("link", ["/gone/r1", "/bad/r1"])
def test_a_failing_result_link_end_to_end(vendor: Voyzu, link: str) -> None:
    vendor.link = link
    e = failure(vendor, **{"async": "always"})
    message = str(e)
    assert "Voyzu has no POST" not in message and "base_url" not in message, message
    assert "malformed" not in message and "sig=0a1b2c" not in message, message
    assert f"reading the result of asynchronous request r1 from {vendor.url}{link} failed" in message, message
    assert "may have expired" in (e.hint or "") and "presigned link refused" not in message
    assert any(s.startswith(f"GET {link}") for s in vendor.seen), vendor.seen


def test_a_504_on_the_async_submit_end_to_end(vendor: Voyzu) -> None:
    vendor.submit_status = 504
    message = str(failure(vendor, **{"async": "always"}))
    assert f"the asynchronous submit of {SEARCH} met Voyzu's gateway limit too" in message, message


# ---------------------------------------------------------------- finding 2: a sync timeout goes async at once


def test_a_sync_search_that_times_out_goes_async_without_timeout_retries(vendor: Voyzu) -> None:
    vendor.sync_delay_s = 3.0
    with session(vendor, timeout_s=0.5) as s:
        assert len(s.query("SELECT id FROM vz.contacts")) == len(ROWS)
    assert searches(vendor) == [f"POST {SEARCH}", f"POST {SEARCH}?async=true"]  # one sync try of 0.5 s, not 3


def test_a_540_on_the_sync_search_keeps_its_retries(vendor: Voyzu) -> None:
    vendor.sync_fail = [540, 500]
    with session(vendor) as s:
        result = s.execute("SELECT id FROM vz.contacts")
    assert len(result.frame) == len(ROWS) and result.stats.retries >= 2
    assert searches(vendor) == [f"POST {SEARCH}"] * 3  # sync each time: no async job


# ---------------------------------------------------------------- finding 3: a Page counted from 0


@pytest.mark.parametrize(("total", "echo_shift", "zero_based"), [
    (None, 0, True),  # 25 rows, pages of 10: Page 1 serves rows 10-19, Page 3 comes back empty
    (5, 0, True),  # one page's worth: Page 1 is already empty (was a silent empty result)
    (None, -1, False),  # the echo counts from 0
])
def test_a_server_counting_pages_from_0_is_an_error_not_a_short_result(vendor: Voyzu, total: int | None,
                                                                       echo_shift: int, zero_based: bool) -> None:
    vendor.reading, vendor.total, vendor.echo_shift, vendor.zero_based = "page", total, echo_shift, zero_based
    e = failure(vendor, page_size=10)
    assert "Voyzu's Page may count from 0 on this server" in str(e) and "search_reading" in (e.hint or ""), str(e)


def test_a_1_based_page_server_still_reads_every_row(vendor: Voyzu) -> None:
    vendor.reading = "page"
    with session(vendor, page_size=10) as s:
        assert sorted(s.query("SELECT id FROM vz.contacts")["id"]) == [r["Id"] for r in ROWS]


# ---------------------------------------------------------------- finding 4: a dict config is checked


@pytest.mark.parametrize(("key", "value"), [("async_deadline_s", -1), ("async_deadline_s", "soon"),
                                            ("async_deadline_s", float("inf")), ("async_deadline_s", 0),
                                            ("async_rows", "many"), ("async_rows", -5), ("page_size", 0),
                                            ("page_size", "lots")])
def test_settings_given_as_a_dict_are_checked(vendor: Voyzu, key: str, value: Any) -> None:
    with pytest.raises(ConfigError) as info:
        with session(vendor, unchecked={key: value, "async": "always"}) as s:
            s.query("SELECT id FROM vz.contacts")
    assert f"{key}: must be a" in str(info.value), str(info.value)
    assert vendor.seen == []  # nothing sent


def test_numbers_as_text_are_taken(vendor: Voyzu) -> None:
    with session(vendor, unchecked={"async_deadline_s": "30", "async_rows": "5", "page_size": "10"}) as s:
        assert len(s.query("SELECT id FROM vz.contacts")) == len(ROWS)
    # pages of 10 rows, more than async_rows = 5: each goes async at once
    assert searches(vendor) and all(s.endswith("?async=true") for s in searches(vendor)), searches(vendor)


# ---------------------------------------------------------------- finding 5: why a negation stays local


NAME = Column("last_name", ColumnType.STRING)
EMAILS = Column("emails", ColumnType.LIST)


def _eq(column: str = "last_name", value: str = "Novak") -> ast.Expr:
    return ast.Compare("=", ast.Column(column), ast.Literal(value, "string"))


@pytest.mark.parametrize(("pred", "column"), [
    (ast.Not(_eq()), NAME),
    (ast.Compare("!=", ast.Column("last_name"), ast.Literal("Novak", "string")), NAME),
    (ast.Like(ast.Column("last_name"), ast.Literal("Nov%", "string"), negated=True), NAME),
    (ast.InList(ast.Column("last_name"), (ast.Literal("Novak", "string"),), negated=True), NAME),
    (ast.Not(ast.Func("list_contains", (ast.Column("emails"), ast.Literal("a@b.example", "string")))), EMAILS),
])
def test_a_negation_says_a_search_text_only_finds(pred: ast.Expr, column: Column) -> None:
    why = SearchText().push(pred, column)
    assert why == "!= and NOT are not searched (a search text only finds)", why


# ---------------------------------------------------------------- B1: search_pushdown = false said everywhere


@pytest.mark.parametrize("pushdown", [True, False])
def test_search_pushdown_off_describes_and_completes_the_search_columns_as_local(vendor: Voyzu,
                                                                                pushdown: bool) -> None:
    from crmql.surfaces.completion.engine import column_meta

    with session(vendor, search_pushdown=pushdown) as s:
        columns = {c.name: c for c in s.table("vz", "contacts").columns}
    for name in ("last_name", "emails"):
        meta, description = column_meta(columns[name]), columns[name].description
        if pushdown:
            assert meta.endswith("pushed: search text (superset: Voyzu's free-text search; re-checked locally)")
            assert "search text" in description and "search_pushdown" not in description, description
        else:
            assert meta.endswith("local filter"), meta
            assert description.endswith("local: search_pushdown = false on this connection"), description
            assert "sent as" not in description, description
    assert vendor.seen == []  # the catalog needs no request


# ---------------------------------------------------------------- N3: Voyzu's own errors, retried out


@pytest.mark.parametrize(("status", "what"), [(540, "an internal error"), (541, "a router error")])
def test_voyzus_own_errors_retried_out_are_said_in_words(vendor: Voyzu, status: int, what: str) -> None:
    vendor.sync_fail = [status] * 3
    e = failure(vendor)
    assert f"Voyzu reported {what} on every one of 3 attempts [HTTP {status}]" in str(e), str(e)
    assert "router busy" not in str(e) and "--debug logs Voyzu's ErrorMessage" in (e.hint or "")
    assert searches(vendor) == [f"POST {SEARCH}"] * 3
