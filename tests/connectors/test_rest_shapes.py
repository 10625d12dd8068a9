"""The scan engines for the shapes no current vendor uses (page index + page count, a count with
no page parameter, a plain array, Voyzu's async submit + poll), over real HTTP: a small Starlette
app on loopback plays casavi Community and Voyzu, well-behaved or hostile on demand."""

from __future__ import annotations

import asyncio
import math
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from crmql.connectors.rest.async_poll import AsyncCalls, AsyncJob, JobStatus
from crmql.connectors.rest.page_index import counted_single_page, page_index_scan, plain_array
from crmql.connectors.rest.paging import ScanLimits
from crmql.errors import ConnectorError, RequestBudgetError, VendorHTTPError, VendorResponseError
from crmql.http import HttpClient, RetryPolicy, SessionIdAuth, run_sync
from crmql.stats import QueryStats, collecting

from live_server import serve

LIMITS = ScanLimits("casavi", "casavi.appointments", max_pages=100, request="GET /api/v1/appointments")
MISSING = object()


@dataclass
class Shapes:
    """What the fake vendor serves and how it misbehaves (defaults: well-behaved)."""

    rows: int = 230
    base: int = 0
    page_count: Any = None  # None: the true count; MISSING: left out; anything else: sent as is
    ignore_page: bool = False
    oversize: bool = False
    empty_from: int | None = None  # page index from which pages are empty
    cap: int | None = None  # the most rows the vendor serves per page, whatever was asked
    delay_s: float = 0.0
    notif_total: int = 30
    notif_count: Any = None  # None: the true total
    tickets: Any = None  # None: a list of 3 tickets
    status: str = "new"  # "new": the front-end doc's status path; "old": only the API doc's
    finish_after: int = 2  # polls before PROCESSED (-1: never)
    outcome: str = "PROCESSED"
    echo_id: str | None = None
    submit_body: Any = None
    seen: list[str] = field(default_factory=list)
    in_flight: int = 0
    max_in_flight: int = 0
    polls: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def app(self) -> Starlette:
        return Starlette(routes=[
            Route("/api/v1/appointments", self.appointments),
            Route("/api/v1/notifications", self.notifications),
            Route("/api/v1/tickets", self.tickets_list, methods=["GET", "POST"]),
            Route("/api/contacts/search", self.submit, methods=["POST"]),
            Route("/api/request-status/get/{rid}", self.new_status, methods=["POST"]),
            Route("/request/get/{rid}", self.old_status, methods=["POST"]),
        ])

    def _log(self, request: Request) -> None:
        with self.lock:
            self.seen.append(f"{request.method} {request.url.path}?{request.url.query}")

    async def appointments(self, request: Request) -> Response:
        self._log(request)
        with self.lock:
            self.in_flight += 1
            self.max_in_flight = max(self.max_in_flight, self.in_flight)
        try:
            if self.delay_s:
                await asyncio.sleep(self.delay_s)
            page, limit = int(request.query_params["page"]), int(request.query_params["limit"])
            limit = min(limit, self.cap or limit)
            index = 0 if self.ignore_page else page - self.base
            data = [{"id": f"a{n}", "n": n} for n in range(self.rows)]
            rows = data[index * limit:(index + 1) * limit + (1 if self.oversize else 0)]
            if self.empty_from is not None and page >= self.empty_from:
                rows = []
            body: dict[str, Any] = {"page": page, "pageSize": limit, "rows": rows}
            if self.page_count is not MISSING:
                body["pageCount"] = math.ceil(self.rows / limit) if self.page_count is None else self.page_count
            return JSONResponse(body)
        finally:
            with self.lock:
                self.in_flight -= 1

    async def notifications(self, request: Request) -> Response:
        self._log(request)
        rows = [{"id": f"n{n}"} for n in range(min(self.notif_total, 20))]
        count = self.notif_total if self.notif_count is None else self.notif_count
        return JSONResponse({"pageSize": 20, "count": count, "rowsOnPage": len(rows), "rows": rows})

    async def tickets_list(self, request: Request) -> Response:
        self._log(request)
        return JSONResponse([{"id": 1, "title": "Leak"}, {"id": 2}, {"id": 3}] if self.tickets is None else self.tickets)

    async def submit(self, request: Request) -> Response:
        self._log(request)
        if request.query_params.get("async") != "true":
            return JSONResponse({"ErrorMessage": "sync call"}, status_code=400)
        return JSONResponse({"RequestId": "XkbeRjJDoAMEVrw="} if self.submit_body is None else self.submit_body)

    async def new_status(self, request: Request) -> Response:
        self._log(request)
        if self.status in ("old", "none"):
            return JSONResponse({"ErrorMessage": "no such path"}, status_code=404)
        return self._status(request.path_params["rid"])

    async def old_status(self, request: Request) -> Response:
        self._log(request)
        if self.status == "none":
            return JSONResponse({"ErrorMessage": "unknown request"}, status_code=404)
        return self._status(request.path_params["rid"])

    def _status(self, rid: str) -> Response:
        with self.lock:
            self.polls += 1
            polls = self.polls
        done = 0 <= self.finish_after < polls
        body: dict[str, Any] = {
            "RequestId": self.echo_id or rid, "Commentary": "Workflow complete" if done else "Searching",
            "PercentComplete": 100 if done else min(99, polls * 30), "ProcessStatus": self.outcome if done else "RUNNING"}
        if done and self.outcome == "PROCESSED":
            body["Result"] = {"rows": [{"Id": "c1"}, {"Id": "c2"}]}
        return JSONResponse(body)


@pytest.fixture(scope="module")
def served() -> Iterator[tuple[list[Shapes], str]]:
    holder = [Shapes()]

    async def app(scope: Any, receive: Any, send: Any) -> None:  # the current Shapes answers
        await holder[0].app()(scope, receive, send)

    with serve(app) as url:  # type: ignore[arg-type]
        yield holder, url


@pytest.fixture
def vendor(served: tuple[list[Shapes], str]) -> Iterator[tuple[Shapes, HttpClient]]:
    holder, url = served
    holder[0] = Shapes()
    client = HttpClient(vendor="casavi", base_url=url, retry=RetryPolicy(backoff_base_s=0.001, backoff_cap_s=0.005))
    yield holder[0], client
    run_sync(client.aclose())


def scan_pages(client: HttpClient, **kwargs: Any) -> tuple[list[dict[str, Any]], QueryStats]:
    got: list[dict[str, Any]] = []

    async def fetch(index: int, size: int) -> tuple[list[dict[str, Any]], Any]:
        body = await client.request_json("GET", "/api/v1/appointments", params={"page": index, "limit": size},
                                         table="casavi.appointments")
        return body["rows"], body.get("pageCount")

    stats = QueryStats()
    kwargs.setdefault("limits", LIMITS)
    with collecting(stats):
        run_sync(page_index_scan(fetch, page_size=kwargs.pop("page_size", 50),
                                 sink=kwargs.pop("sink", lambda rows: got.extend(rows) or True), **kwargs))
    return got, stats


def test_page_index_reads_every_page_once_the_rest_concurrently(vendor: tuple[Shapes, HttpClient]) -> None:
    shapes, client = vendor
    shapes.delay_s = 0.05  # pages overlap on the server only if they were sent together
    got, stats = scan_pages(client)
    assert [r["n"] for r in got] == list(range(230))
    assert sorted(shapes.seen) == sorted(f"GET /api/v1/appointments?page={p}&limit=50" for p in range(5))
    assert (stats.pages, stats.rows_fetched, stats.total_pages) == (5, 230, 5)
    assert shapes.max_in_flight > 1


def test_page_index_base_one_and_sequential_mode_one_request_at_a_time(vendor: tuple[Shapes, HttpClient]) -> None:
    shapes, client = vendor
    shapes.base, shapes.delay_s = 1, 0.01
    got, _ = scan_pages(client, base=1, sequential=True)
    assert [r["n"] for r in got] == list(range(230))
    assert shapes.seen[0].endswith("page=1&limit=50") and shapes.seen[-1].endswith("page=5&limit=50")
    assert len(shapes.seen) == 5 and shapes.max_in_flight == 1


@pytest.mark.parametrize("count", [MISSING, "5", -1, 2.5, True, float(2**60), 0])
def test_a_page_count_that_is_no_count_reads_until_an_empty_page(vendor: tuple[Shapes, HttpClient],
                                                                 count: Any) -> None:
    shapes, client = vendor
    shapes.page_count = count
    got, stats = scan_pages(client)
    assert [r["n"] for r in got] == list(range(230))
    assert len(shapes.seen) == 6 and shapes.seen[-1].endswith("page=5&limit=50")  # the empty page ends it
    assert not stats.warnings


def test_max_rows_asks_only_the_pages_it_needs(vendor: tuple[Shapes, HttpClient]) -> None:
    shapes, client = vendor
    got, _ = scan_pages(client, max_rows=60)
    assert len(shapes.seen) == 2 and len(got) == 100  # two pages of 50: the page size stays fixed
    shapes.seen.clear()
    got, _ = scan_pages(client, max_rows=20)
    assert shapes.seen == ["GET /api/v1/appointments?page=0&limit=20"] and len(got) == 20


@pytest.mark.parametrize("max_rows, pages", [(None, 12), (60, 3), (230, 12)])
def test_a_vendor_capping_its_pages_lower_loses_no_row(vendor: tuple[Shapes, HttpClient], max_rows: int | None,
                                                       pages: int) -> None:
    shapes, client = vendor
    shapes.cap = 20  # and its pageCount counts pages of 20
    got, _ = scan_pages(client, max_rows=max_rows)
    assert [r["n"] for r in got] == list(range(max_rows or 230))[:len(got)] and len(got) >= (max_rows or 230)
    assert len(shapes.seen) == pages


def test_the_window_bounds_the_pages_in_flight(vendor: tuple[Shapes, HttpClient]) -> None:
    shapes, client = vendor
    shapes.delay_s = 0.02
    got, _ = scan_pages(client, page_size=10, window=2)
    assert len(got) == 230 and len(shapes.seen) == 23
    assert shapes.max_in_flight <= 2


def test_a_sink_that_stops_cancels_the_rest(vendor: tuple[Shapes, HttpClient]) -> None:
    shapes, client = vendor
    got: list[dict[str, Any]] = []
    scan_pages(client, sink=lambda rows: got.extend(rows) or len(got) < 100)
    assert len(got) == 100


@pytest.mark.parametrize("count", [None, MISSING])
def test_a_vendor_ignoring_the_page_parameter_is_an_error_not_duplicates(vendor: tuple[Shapes, HttpClient],
                                                                         count: Any) -> None:
    shapes, client = vendor
    shapes.ignore_page, shapes.page_count = True, count
    with pytest.raises(VendorResponseError, match=r"casavi \(casavi.appointments\).*page 1 repeats the page before"):
        scan_pages(client)


def test_an_oversized_page_is_an_error(vendor: tuple[Shapes, HttpClient]) -> None:
    shapes, client = vendor
    shapes.oversize = True
    with pytest.raises(VendorResponseError, match=r"the page has 51 records, more than the 50 asked for"):
        scan_pages(client)


def test_too_many_pages_fail_before_they_are_requested(vendor: tuple[Shapes, HttpClient]) -> None:
    shapes, client = vendor
    shapes.page_count = 10**6
    with pytest.raises(RequestBudgetError, match=r"more than 100 pages: the vendor reports 1000000 pages of 50"):
        scan_pages(client)
    assert len(shapes.seen) == 1


def test_a_page_missing_before_the_count_warns(vendor: tuple[Shapes, HttpClient]) -> None:
    shapes, client = vendor
    shapes.empty_from = 3
    got, stats = scan_pages(client)
    assert len(got) == 150
    assert stats.warnings == ["casavi (casavi.appointments): vendor reported 5 pages, but page 3 (counting from 0) "
                              "was empty; the result may be incomplete"]


def test_a_sequential_scan_without_count_stops_at_max_pages(vendor: tuple[Shapes, HttpClient]) -> None:
    shapes, client = vendor
    shapes.rows, shapes.page_count = 10_000, MISSING
    with pytest.raises(RequestBudgetError, match="more than 5 pages"):
        scan_pages(client, page_size=10, limits=ScanLimits("casavi", "casavi.appointments", max_pages=5))
    assert len(shapes.seen) == 5


def counted(client: HttpClient, **kwargs: Any) -> tuple[list[dict[str, Any]], QueryStats]:
    got: list[dict[str, Any]] = []

    async def fetch() -> tuple[list[dict[str, Any]], Any]:
        body = await client.request_json("GET", "/api/v1/notifications", table="casavi.notifications")
        return body["rows"], body["count"]

    stats = QueryStats()
    with collecting(stats):
        run_sync(counted_single_page(fetch, sink=lambda rows: got.extend(rows) or True,
                                     limits=ScanLimits("casavi", "casavi.notifications",
                                                       request="GET /api/v1/notifications"), **kwargs))
    return got, stats


def test_counted_single_page_complete_and_short(vendor: tuple[Shapes, HttpClient]) -> None:
    shapes, client = vendor
    shapes.notif_total = 12
    got, stats = counted(client)
    assert len(got) == 12 and len(shapes.seen) == 1 and not stats.warnings
    shapes.notif_total = 30
    with pytest.raises(ConnectorError) as info:
        counted(client)
    assert str(info.value).startswith("casavi (casavi.notifications): incomplete answer to GET /api/v1/notifications: "
                                      "the vendor counts 30 rows but served 20, and documents no way to ask for the "
                                      "other 10")
    assert "narrow the query" in str(info.value)
    got, _ = counted(client, max_rows=5)  # a LIMIT the served rows cover: nothing is missing
    assert len(got) == 20
    got, stats = counted(client, on_short="warn")
    assert len(got) == 20 and stats.warnings and "the result is incomplete" in stats.warnings[0]


@pytest.mark.parametrize("count", ["30", -3, None])
def test_counted_single_page_with_no_count_takes_the_rows(vendor: tuple[Shapes, HttpClient], count: Any) -> None:
    shapes, client = vendor
    shapes.notif_total, shapes.notif_count = 30, count if count is not None else "n/a"
    got, stats = counted(client)
    assert len(got) == 20
    assert stats.warnings and stats.warnings[0].startswith("casavi (casavi.notifications): the count ")
    assert stats.warnings[0].endswith("is no count; the 20 rows served may not be all")


def tickets(client: HttpClient) -> list[dict[str, Any]]:
    got: list[dict[str, Any]] = []

    async def fetch() -> Any:
        return await client.request_json("GET", "/api/v1/tickets", table="casavi.tickets")

    run_sync(plain_array(fetch, sink=lambda rows: got.extend(rows) or True,
                         limits=ScanLimits("casavi", "casavi.tickets", request="GET /api/v1/tickets")))
    return got


def test_plain_array(vendor: tuple[Shapes, HttpClient]) -> None:
    shapes, client = vendor
    assert [t["id"] for t in tickets(client)] == [1, 2, 3]
    shapes.tickets = {"rows": []}
    with pytest.raises(VendorResponseError, match="the body is an object, not the list of records"):
        tickets(client)
    shapes.tickets = [{"id": 1}, "two"]
    with pytest.raises(VendorResponseError, match="item 2 of the page is a string, not a record"):
        tickets(client)


def run_async(client: HttpClient, job: AsyncJob = AsyncJob(first_wait_s=0.005, max_wait_s=0.02),
              calls: AsyncCalls | None = None, progress: list[JobStatus] | None = None) -> Any:
    calls = calls or AsyncCalls(client, job)
    return run_sync(calls.call("POST", "/api/contacts/search", json={"Search": ""}, table="voyzu.contacts",
                               on_progress=progress.append if progress is not None else None))


def test_async_call_polls_the_front_end_path_and_returns_the_result(vendor: tuple[Shapes, HttpClient]) -> None:
    shapes, client = vendor
    progress: list[JobStatus] = []
    assert run_async(client, progress=progress) == {"rows": [{"Id": "c1"}, {"Id": "c2"}]}
    assert shapes.seen[0] == "POST /api/contacts/search?async=true"
    assert set(shapes.seen[1:]) == {"POST /api/request-status/get/XkbeRjJDoAMEVrw=?"}
    assert [p.status for p in progress] == ["RUNNING", "RUNNING", "PROCESSED"]
    assert [p.percent for p in progress] == [30.0, 60.0, 100.0]


def test_async_falls_back_to_the_api_doc_path_on_404_and_remembers_it(vendor: tuple[Shapes, HttpClient]) -> None:
    shapes, client = vendor
    shapes.status = "old"
    calls = AsyncCalls(client, AsyncJob(first_wait_s=0.005))
    assert run_async(client, calls=calls)["rows"]
    assert shapes.seen[1:3] == ["POST /api/request-status/get/XkbeRjJDoAMEVrw=?", "POST /request/get/XkbeRjJDoAMEVrw=?"]
    shapes.seen.clear()
    shapes.polls = 0
    run_async(client, calls=calls)
    assert not any("request-status" in s for s in shapes.seen)


def test_async_result_from_a_declared_result_path_and_a_broken_progress_display(
        vendor: tuple[Shapes, HttpClient]) -> None:
    shapes, client = vendor

    def broken(status: JobStatus) -> None:
        raise RuntimeError("display gone")

    job = AsyncJob(first_wait_s=0.005, result_path="/api/v1/tickets?request={id}", status_method="POST")
    calls = AsyncCalls(client, job)
    result = run_sync(calls.call("POST", "/api/contacts/search", table="voyzu.contacts", on_progress=broken))
    assert result == [{"id": 1, "title": "Leak"}, {"id": 2}, {"id": 3}]


def test_async_calls_carry_a_query_session_on_every_request(vendor: tuple[Shapes, HttpClient]) -> None:
    shapes, client = vendor
    auth = SessionIdAuth("s-voyzu-1234", send_as="query")
    calls = AsyncCalls(client, AsyncJob(first_wait_s=0.005), query=lambda path: auth.query_params(client, path))
    assert run_async(client, calls=calls)["rows"]
    assert len(shapes.seen) == 4
    assert shapes.seen[0] == "POST /api/contacts/search?async=true&voyzu-session-id=s-voyzu-1234"
    assert all(s.endswith("?voyzu-session-id=s-voyzu-1234") for s in shapes.seen[1:])


def test_async_no_status_path_knows_the_request(vendor: tuple[Shapes, HttpClient]) -> None:
    shapes, client = vendor
    shapes.status = "none"
    with pytest.raises(VendorHTTPError, match=r"no status path knows the asynchronous request .*\[HTTP 404\]"):
        run_async(client)


def test_async_failed_job_is_a_clear_error(vendor: tuple[Shapes, HttpClient]) -> None:
    shapes, client = vendor
    shapes.outcome, shapes.finish_after = "FAILED", 0
    with pytest.raises(VendorHTTPError, match=r"voyzu.contacts\): the asynchronous request XkbeRjJDoAMEVrw= failed "
                                              r"\(ProcessStatus FAILED\): Workflow complete"):
        run_async(client)


def test_async_poll_that_never_finishes_ends_at_the_deadline(vendor: tuple[Shapes, HttpClient]) -> None:
    shapes, client = vendor
    shapes.finish_after = -1
    job = AsyncJob(first_wait_s=0.01, factor=2, max_wait_s=0.05, deadline_s=0.3)
    with pytest.raises(ConnectorError, match=r"XkbeRjJDoAMEVrw= did not finish within 0.3 s \(\d+ polls?; last "
                                             r"status: RUNNING, 99%, \"Searching\"[;)]") as info:
        run_async(client, job)
    assert "raise the connection's async_deadline_s" in str(info.value)
    assert 2 <= shapes.polls <= 40


@pytest.mark.parametrize("submit, match", [
    ({"Id": "x"}, "answered an object without a RequestId"),
    ([1], r"answered \[1\], not an object with a RequestId"),
    ({"RequestId": ".."}, "cannot be a URL path segment"),
    ({"RequestId": "a b"}, "cannot be a URL path segment"),
])
def test_async_submit_answers_that_are_not_a_request_id(vendor: tuple[Shapes, HttpClient], submit: Any,
                                                        match: str) -> None:
    shapes, client = vendor
    shapes.submit_body = submit
    with pytest.raises(VendorResponseError, match=match):
        run_async(client)
    assert len(shapes.seen) == 1


def test_async_status_about_another_request_is_an_error(vendor: tuple[Shapes, HttpClient]) -> None:
    shapes, client = vendor
    shapes.echo_id = "someone-else"
    with pytest.raises(VendorResponseError, match="the status is about request 'someone-else', not XkbeRjJDoAMEVrw="):
        run_async(client)


# ---------------------------------------------------------------- the page index engine, every combination

@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(rows=st.integers(0, 140), page_size=st.integers(1, 30), cap=st.one_of(st.none(), st.integers(1, 30)),
       base=st.sampled_from([0, 1]), max_rows=st.one_of(st.none(), st.integers(1, 160)),
       sequential=st.booleans(), window=st.integers(1, 5), counted=st.booleans(), stop_after=st.integers(1, 200))
def test_page_index_delivers_each_row_once_in_order(rows: int, page_size: int, cap: int | None, base: int,
                                                    max_rows: int | None, sequential: bool, window: int,
                                                    counted: bool, stop_after: int) -> None:
    """Whatever the vendor's page cap, LIMIT, mode and window: the rows delivered are the first
    ones, in order, each once; every row the scan was asked for arrives unless the sink stopped."""
    data = [{"n": n} for n in range(rows)]
    asked: list[int] = []

    async def fetch(index: int, size: int) -> tuple[list[dict[str, Any]], int | None]:
        asked.append(index)
        per_page = min(size, cap or size)
        i = index - base
        return data[i * per_page:(i + 1) * per_page], (math.ceil(rows / per_page) if counted else None)

    got: list[dict[str, Any]] = []

    def sink(page: list[dict[str, Any]]) -> bool:
        got.extend(page)
        return len(got) < stop_after

    with collecting(QueryStats()) as stats:
        asyncio.run(page_index_scan(fetch, page_size=page_size, sink=sink, base=base, max_rows=max_rows,
                                    sequential=sequential, window=window,
                                    limits=ScanLimits("demo", "demo.t", max_pages=10_000)))
    assert got == data[:len(got)]
    wanted = min(x for x in (rows, max_rows, stop_after) if x is not None)
    assert len(got) >= wanted
    assert len(set(asked)) == len(asked) and min(asked) == base
    assert not stats.warnings


# ---------------------------------------------------------------- the kit's auth declarations build these flows

def test_declared_auth_builds_the_flows() -> None:
    from crmql.connectors.rest.auth import KeySecretToken, OidcBearer, SessionId
    from crmql.http import KeySecretTokenAuth, OidcRefreshAuth, SessionIdAuth

    manager = KeySecretToken(refresh_path="/v2/refresh").build({"key": "k-12345", "secret": "s-67890"})
    assert isinstance(manager, KeySecretTokenAuth) and manager.refresh_path == "/v2/refresh"
    community = OidcBearer(issuer="https://id.example").build({"refresh_token": "rt-12345"})
    assert isinstance(community, OidcRefreshAuth) and community.can_refresh
    voyzu = SessionId(send_as="query").build({"session_id": "s-12345"})
    assert isinstance(voyzu, SessionIdAuth) and voyzu.send_as == "query" and not voyzu.can_refresh
