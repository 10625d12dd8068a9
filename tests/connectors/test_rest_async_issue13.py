"""Issue 13's parts of the kit's asynchronous calls (Voyzu): the three status paths, a result
handed over as a link (fetched with no credentials), progress into the statement's counters,
cancellation that stops polling at once, and the deadline (a fake clock: no wall-clock asserts)."""

from __future__ import annotations

import asyncio
import dataclasses
import json
import logging
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from crmql.connectors.rest import AsyncJob, Col, OffsetPaginator, Place, Resource, RestApi, RestConnector
from crmql.connectors.rest.async_poll import AsyncCalls, JobStatus
from crmql.connectors.rest.base import QueryAuthClient
from crmql.errors import ConnectorError, VendorHTTPError, VendorResponseError
from crmql.http import HttpClient, run_sync
from crmql.http.session_flow import SessionIdAuth
from crmql.plan.catalog import ColumnType
from crmql.redaction import redact
from crmql.plan.connector import NativeRequest
from crmql.stats import QueryStats, collecting

SESSION = "s-voyzu-session-77aa"
SIG = "9f8e7d6c5b4a39281706"
CREDENTIAL = "AKIAEXAMPLE7Q2/20261203/eu-west-1/s3/aws4_request"
FAST = AsyncJob(first_wait_s=0.001, max_wait_s=0.005, deadline_s=10)


class Vendor:
    """A fake Voyzu: submits answer a RequestStatus; statuses run ``finish_after`` polls, then PROCESSED
    with ``final`` (``Result`` or ``ResultUrl``); ``missing`` status paths answer 404."""

    def __init__(self, *, final: dict[str, Any] | None = None, missing: tuple[str, ...] = (),
                 finish_after: int = 2, submit_code: int = 200) -> None:
        self.final = final if final is not None else {"Result": {"Data": [{"Id": "c-1"}]}}
        self.missing, self.finish_after, self.submit_code = missing, finish_after, submit_code
        self.seen: list[httpx.Request] = []
        self.polls = 0

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.seen.append(request)
        path = request.url.path
        if path.startswith("/voyzu-results/"):
            return httpx.Response(200, json={"Data": [{"Id": "c-linked"}]})
        if request.url.params.get("async") == "true":
            return httpx.Response(self.submit_code, json={"RequestId": "r-1", "ProcessStatus": "QUEUED",
                                                          "PercentComplete": 0, "Commentary": "Queued"})
        if any(path.startswith(m) for m in self.missing):
            return httpx.Response(404, json={"message": "Not Found"})
        self.polls += 1
        if self.finish_after < 0 or self.polls <= self.finish_after:
            return httpx.Response(200, json={"RequestId": "r-1", "ProcessStatus": "PROCESSING",
                                             "PercentComplete": 40 * self.polls, "Commentary": "Searching contacts"})
        return httpx.Response(200, json={"RequestId": "r-1", "ProcessStatus": "PROCESSED", "PercentComplete": 100,
                                         "Commentary": "Workflow complete", **self.final})

    def paths(self) -> list[str]:
        return [r.url.path for r in self.seen]


def _client(vendor: Callable[[httpx.Request], httpx.Response], *, send_as: str = "cookie") -> HttpClient:
    cls = QueryAuthClient if send_as == "query" else HttpClient
    return cls(vendor="Voyzu", base_url="http://voyzu.test", transport=httpx.MockTransport(vendor),
               auth=SessionIdAuth(SESSION, send_as=send_as))  # type: ignore[arg-type]


def _call(client: HttpClient, job: AsyncJob = FAST, **kwargs: Any) -> Any:
    return run_sync(AsyncCalls(client, job).call("POST", "/api/contacts/search", json={"SearchText": ""}, **kwargs))


def test_the_three_status_paths_in_order_and_the_answering_one_remembered() -> None:
    vendor = Vendor(missing=("/api/request-status/", "/api/request/"), finish_after=0)
    client = _client(vendor)
    calls = AsyncCalls(client, FAST)
    assert AsyncJob().status_paths == ("/api/request-status/get/{id}", "/api/request/get/{id}", "/request/get/{id}")
    assert run_sync(calls.call("POST", "/api/contacts/search", json={})) == {"Data": [{"Id": "c-1"}]}
    assert vendor.paths()[1:] == ["/api/request-status/get/r-1", "/api/request/get/r-1", "/request/get/r-1"]
    vendor.seen.clear()
    vendor.polls = 0
    run_sync(calls.call("POST", "/api/contacts/search", json={}))
    assert vendor.paths() == ["/api/contacts/search", "/request/get/r-1"]


def test_a_submit_answered_202_is_fine_and_its_status_is_the_first_progress() -> None:
    vendor = Vendor(submit_code=202)
    progress: list[JobStatus] = []
    assert _call(_client(vendor), on_progress=progress.append) == {"Data": [{"Id": "c-1"}]}
    assert [(p.status, p.percent, p.commentary) for p in progress] == [
        ("QUEUED", 0.0, "Queued"), ("PROCESSING", 40.0, "Searching contacts"),
        ("PROCESSING", 80.0, "Searching contacts"), ("PROCESSED", 100.0, "Workflow complete")]


@pytest.mark.parametrize("send_as", ["cookie", "query"])
@pytest.mark.parametrize("origin", ["http://storage.test", "http://voyzu.test"])
def test_a_result_link_is_fetched_with_no_credentials(send_as: str, origin: str) -> None:
    link = f"{origin}/voyzu-results/r-1?X-Amz-Expires=900&sig={SIG}"
    vendor = Vendor(final={"ResultUrl": link})
    assert _call(_client(vendor, send_as=send_as)) == {"Data": [{"Id": "c-linked"}]}
    fetched = [r for r in vendor.seen if r.url.path.startswith("/voyzu-results/")]
    assert len(fetched) == 1 and fetched[0].method == "GET" and str(fetched[0].url) == link
    assert "cookie" not in fetched[0].headers and "authorization" not in fetched[0].headers
    assert SESSION not in str(fetched[0].url) and SESSION not in json.dumps(dict(fetched[0].headers))
    # the vendor's own requests did carry the session (so its absence above is the point)
    assert all(SESSION in (r.headers.get("cookie", "") + str(r.url)) for r in vendor.seen if r not in fetched)


def test_the_inline_result_wins_over_a_link() -> None:
    vendor = Vendor(final={"Result": {"Data": []}, "ResultUrl": "http://storage.test/voyzu-results/r-1"})
    assert _call(_client(vendor)) == {"Data": []}
    assert not any("voyzu-results" in p for p in vendor.paths())


def test_a_null_result_beside_a_link_takes_the_link() -> None:
    vendor = Vendor(final={"Result": None, "ResultUrl": "http://storage.test/voyzu-results/r-1?sig=" + SIG})
    assert _call(_client(vendor)) == {"Data": [{"Id": "c-linked"}]}


@pytest.mark.parametrize("link", ["ftp://storage.test/r-1", "/voyzu-results/r-1", "javascript:alert(1)", 42, "x" * 9000])
def test_a_result_link_that_is_not_an_http_url(link: Any) -> None:
    vendor = Vendor(final={"ResultUrl": link})
    with pytest.raises(VendorResponseError, match="ResultUrl that is not an http"):
        _call(_client(vendor))
    assert not any("voyzu-results" in p for p in vendor.paths())


def test_a_refused_result_link_names_no_signature(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)

    def vendor(request: httpx.Request) -> httpx.Response:
        if request.url.host == "storage.test":
            return httpx.Response(403, text="<Error><Code>SignatureDoesNotMatch</Code></Error>")
        return Vendor(final={"ResultUrl": f"http://storage.test/r?X-Amz-Credential={CREDENTIAL}&X-Amz-Expires=900"
                                          f"&X-Amz-Signature={SIG}"}, finish_after=0)(request)

    with pytest.raises(VendorHTTPError) as info:
        _call(_client(vendor), AsyncJob(first_wait_s=0.001, max_wait_s=0.005))
    shown = f"{info.value} {vars(info.value)} {info.value!r}"
    assert "403" in str(info.value) and SIG not in shown and "AKIAEXAMPLE" not in shown
    ours = "\n".join(r.getMessage() for r in caplog.records if r.name.startswith("crmql"))
    assert "storage.test" in ours and SIG not in ours and "AKIAEXAMPLE" not in ours
    # httpx logs the URL itself (the CLI shows only crmql's loggers); the signature is a registered secret anyway
    assert SIG not in redact(caplog.text) and "AKIAEXAMPLE" not in redact(caplog.text)


def test_no_result_field_and_no_link() -> None:
    with pytest.raises(VendorResponseError, match="carries no Result or ResultUrl"):
        _call(_client(Vendor(final={"Other": 1})))


def test_the_deadline_says_how_far_the_job_got() -> None:
    now, slept = [0.0], []

    async def sleep(seconds: float) -> None:
        slept.append(seconds)
        now[0] += seconds

    job = AsyncJob(first_wait_s=1, factor=2, max_wait_s=10, deadline_s=30)
    calls = AsyncCalls(_client(Vendor(finish_after=-1)), job, sleep=sleep, clock=lambda: now[0])
    with pytest.raises(ConnectorError, match=r"request r-1 did not finish within 30 s \(7 polls; last status: "
                                             r"PROCESSING, 100%, \"Searching contacts\"\)"):
        run_sync(calls.call("POST", "/api/contacts/search", json={}))
    # 40% at 0 s: the backoff's first wait; 80% at 1 s: 0.25 s left at that pace, at least first_wait_s;
    # then 100% and still running (no estimate): the backoff, up to the deadline
    assert slept == [1, 1, 4, 8, 10, 6]


def test_cancelling_stops_polling_at_once() -> None:
    vendor = Vendor(finish_after=-1)

    async def scenario() -> int:
        client = _client(vendor)
        calls = AsyncCalls(client, AsyncJob(first_wait_s=0.002, factor=1, max_wait_s=0.002))
        task = asyncio.ensure_future(calls.call("POST", "/api/contacts/search", json={}))
        while vendor.polls < 3:
            await asyncio.sleep(0.001)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        sent = len(vendor.seen)
        await asyncio.sleep(0.05)  # many poll intervals: nothing more may go out
        assert len(vendor.seen) == sent
        await client.aclose()
        return sent

    assert asyncio.run(scenario()) >= 4


# ---- the connector: per-request job, progress into the statement's counters

CONTACTS = Resource("contacts", "contacts", "/api/contacts/search", method="POST", records="Data",
                    columns=(Col("id", ColumnType.STRING, "Id"),),
                    paginator=OffsetPaginator(limit=Place.body("Length"), offset=Place.body("Start"), total=None),
                    async_job=FAST)


class Demo(RestConnector):
    api = RestApi("voyzu_demo", "Voyzu demo", (CONTACTS,))
    deadline_s = 10.0

    def async_job(self, table: Any, res: Resource, request: NativeRequest) -> AsyncJob | None:
        job = super().async_job(table, res, request)
        if request.body and request.body.get("sync"):
            return None
        return dataclasses.replace(job, deadline_s=self.deadline_s) if job else None


def _connector(vendor: Callable[[httpx.Request], httpx.Response]) -> Demo:
    connector = Demo("voyzu_demo", {"base_url": "http://voyzu.test"})
    connector._http = _client(vendor)
    return connector


def _send(connector: Demo, body: dict[str, Any], st: QueryStats) -> Any:
    with collecting(st):
        return run_sync(connector.send(connector.table("contacts"), NativeRequest("POST", "/api/contacts/search",
                                                                                 body=body), res=CONTACTS))


def test_send_feeds_every_status_into_the_statement_and_clears_it() -> None:
    parent = QueryStats()
    st = QueryStats(parent=parent)
    seen: list[tuple[float | None, str | None]] = []
    parent.on_progress = lambda s: seen.append((s.job_percent, s.job_note))
    assert _send(_connector(Vendor()), {"Start": 0}, st) == {"Data": [{"Id": "c-1"}]}
    jobs = [s for i, s in enumerate(seen) if s[0] is not None and (i == 0 or seen[i - 1] != s)]  # (each request
    # counted notifies too)
    assert jobs == [(0.0, "Queued"), (40.0, "Searching contacts"), (80.0, "Searching contacts"),
                    (100.0, "Workflow complete")]
    assert seen[-1] == (None, None) and parent.job_percent is None and st.job_percent is None


def test_a_failed_job_clears_the_progress_too() -> None:
    def vendor(request: httpx.Request) -> httpx.Response:
        if request.url.params.get("async") == "true":
            return httpx.Response(200, json={"RequestId": "r-1"})
        return httpx.Response(200, json={"RequestId": "r-1", "ProcessStatus": "ERROR", "Commentary": "boom"})

    st = QueryStats()
    with pytest.raises(VendorHTTPError, match="ProcessStatus ERROR"):
        _send(_connector(vendor), {}, st)
    assert st.job_percent is None and st.job_note is None


def test_the_hook_sends_sync_or_with_the_connections_deadline() -> None:
    vendor = Vendor(finish_after=-1)
    connector = _connector(vendor)
    assert _send(connector, {"sync": True}, QueryStats()) is not None  # (the fake answers a status)
    assert [r.url.params.get("async") for r in vendor.seen] == [None]
    connector.deadline_s = 0.02
    with pytest.raises(ConnectorError, match=r"did not finish within 0.02 s"):
        _send(connector, {}, QueryStats())


def test_job_notes_reach_a_terminal_without_control_characters() -> None:
    st = QueryStats()
    st.job(140, "Searching\x1b[2J contacts\n")
    assert (st.job_percent, st.job_note) == (100.0, "Searching [2J contacts")
    st.job(None)
    assert st.job_percent == 100.0  # an unknown percent keeps the last known one while the job runs
