"""Review fixes of issue 13's kit parts (Voyzu), each failing on the code before it:

* a session sent as a query parameter (``send_session_as = "query"``) and refused: after the re-login
  the retry carries the NEW session (it re-sent the refused one), over real HTTP against the sandbox;
* a login's new session is in no log record, even with the root logger at DEBUG (httpcore logs the
  response's ``Set-Cookie`` on its child loggers before crmql registers the session as a secret);
* errors reading a result link say so (not the vendor endpoint's wording), a redirect names its
  target safely, and every error of an asynchronous call carries the step it came from;
* concurrent page jobs: the statement's progress is the least percent of the running jobs, never
  cleared before the last one ends (it flickered 18, 100, None, 100, None);
* polls follow PercentComplete (a 3.5 s job is polled about twice, not five times; a fake clock), a
  slow poll does not overrun the deadline, and the deadline's words ("1 poll; last status: ...").
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest

from crmql.connectors.rest import AsyncJob
from crmql.connectors.rest.async_poll import AsyncCalls, async_stage
from crmql.errors import ConnectorError, NetworkError, VendorHTTPError
from crmql.http import HttpClient, run_sync
from crmql.http.retry import RetryPolicy
from crmql.plan.connector import NativeRequest
from crmql.redaction import redact
from crmql.sandbox import SandboxServer
from crmql.stats import QueryStats, collecting

from connectors.test_rest_async_issue13 import CONTACTS, SIG, Vendor, _client, _connector
from vendors.voyzu.support import AUTH, LOGIN, SHEETS, V, raw, reset, session, statuses

EXPIRED = "expired-session-0000001"


@pytest.fixture
def voyzu(sandbox_server: SandboxServer) -> Iterator[SandboxServer]:
    reset(sandbox_server)
    yield sandbox_server
    reset(sandbox_server)


# ---- 1. the retry after a re-login carries the new session in the query string

@pytest.mark.parametrize("send_as", ["query", "cookie"])
def test_a_refused_session_is_replaced_by_a_login_and_the_retry_carries_it(voyzu: SandboxServer,
                                                                           send_as: str) -> None:
    with session(voyzu, send_session_as=send_as, session_id=EXPIRED, login_values=dict(LOGIN)) as s:
        frame = s.query(f"SELECT id FROM {V}.spreadsheets")
    assert sorted(frame["id"]) == sorted(r["Id"] for r in raw("spreadsheets"))
    assert statuses(voyzu, SHEETS) == [401, 200] and statuses(voyzu, AUTH) == [200]


# ---- 3. a login's session in no log record, root logger at DEBUG

def test_a_login_leaves_no_session_in_any_log_record(voyzu: SandboxServer) -> None:
    records: list[logging.LogRecord] = []

    class Keep(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            records.append(record)

    root, handler = logging.getLogger(), Keep(logging.DEBUG)
    level = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    try:
        with session(voyzu, session_id=EXPIRED, login_values=dict(LOGIN)) as s:
            s.query(f"SELECT id FROM {V}.spreadsheets")
    finally:
        root.removeHandler(handler)
        root.setLevel(level)
    assert statuses(voyzu, AUTH) == [200]  # a login happened, and its answer set a cookie
    text = "\n".join(f"{r.name}: {r.getMessage()}" for r in records)
    assert "set-cookie" in text.lower()  # (httpcore's trace was on: the test saw the headers)
    assert EXPIRED not in text and LOGIN["Password"] not in text
    leaked = re.findall(r"voyzu-session-id=(?!\*\*\*)[^;&'\s]+", text)
    assert not leaked, leaked


@pytest.mark.parametrize("text, shown", [
    ("(b'set-cookie', b'voyzu-session-id=Hm4w2c7ZjO4T; Path=/; HttpOnly')",
     "(b'set-cookie', b'voyzu-session-id=***; Path=/; HttpOnly')"),
    ("Cookie: theme=dark; JSESSIONID=A1B2C3D4", "Cookie: theme=dark; JSESSIONID=***"),
    ("/x?a_sid=12345&csrf_token=t0k3n&side=left&inside=1", "/x?a_sid=***&csrf_token=***&side=left&inside=1"),
    ("X-Auth-Token: abc123, send_session_as = \"query\"", "X-Auth-Token: ***, send_session_as = \"query\""),
])
def test_session_like_values_are_masked_by_name(text: str, shown: str) -> None:
    assert redact(text) == shown


# ---- 2. result-link errors, redirects, and the step of every error

def _link_vendor(status: int, headers: dict[str, str] | None = None) -> Callable[[httpx.Request], httpx.Response]:
    """A fake Voyzu whose job finishes with a ResultUrl on storage.test, which answers ``status``."""
    vendor = Vendor(final={"ResultUrl": f"http://storage.test/voyzu-results/r-1?X-Amz-Signature={SIG}"},
                    finish_after=0)

    def answer(request: httpx.Request) -> httpx.Response:
        if request.url.host == "storage.test":
            return httpx.Response(status, headers=headers, json={"message": "presigned URLs take no credentials"})
        return vendor(request)

    return answer


def _run(vendor: Callable[[httpx.Request], httpx.Response]) -> Any:
    calls = AsyncCalls(_client(vendor), AsyncJob(first_wait_s=0.001, max_wait_s=0.005))
    return run_sync(calls.call("POST", "/api/contacts/search", json={}, table="voyzu.contacts"))


@pytest.mark.parametrize("status", [400, 403, 404])
def test_an_http_error_on_the_result_link_is_about_the_link(status: int) -> None:
    with pytest.raises(VendorHTTPError) as info:
        _run(_link_vendor(status))
    e = info.value
    assert str(e).startswith("Voyzu (voyzu.contacts): reading the result of asynchronous request r-1 from "
                             f"http://storage.test/voyzu-results/r-1 failed [HTTP {status}]"), str(e)
    assert e.hint == "the result link may have expired; run the statement again"
    assert async_stage(e) == "link" and e.status == status and SIG not in str(e)


def test_a_redirect_of_the_result_link_names_its_target_safely() -> None:
    with pytest.raises(VendorHTTPError) as info:
        _run(_link_vendor(302, {"Location": f"http://other.test/r-1?X-Amz-Signature={SIG}a&part=1"}))
    message = f"{info.value} {info.value.hint}"
    assert "it redirects to http://other.test/r-1?X-Amz-Signature=***&part=1" in message, message
    assert "base_url" not in message and SIG not in message and async_stage(info.value) == "link"


def test_a_transport_error_on_the_result_link_keeps_its_class_and_says_where() -> None:
    vendor = Vendor(final={"ResultUrl": "http://storage.test/voyzu-results/r-1"}, finish_after=0)

    def answer(request: httpx.Request) -> httpx.Response:
        if request.url.host == "storage.test":
            raise httpx.ConnectError("refused", request=request)
        return vendor(request)

    client = HttpClient(vendor="Voyzu", base_url="http://voyzu.test", transport=httpx.MockTransport(answer),
                        retry=RetryPolicy(max_attempts=1))
    with pytest.raises(NetworkError, match="reading the result of asynchronous request r-1 from "
                                           "http://storage.test/voyzu-results/r-1 failed: ") as info:
        run_sync(AsyncCalls(client, AsyncJob(first_wait_s=0.001)).call("POST", "/api/contacts/search", json={}))
    assert async_stage(info.value) == "link"


@pytest.mark.parametrize("where, stage", [("submit", "submit"), ("status", "status")])
def test_every_error_of_an_async_call_names_its_step(where: str, stage: str) -> None:
    def answer(request: httpx.Request) -> httpx.Response:
        submit = request.url.params.get("async") == "true"
        if submit == (where == "submit"):
            return httpx.Response(400, json={"ErrorMessage": "bad"})
        return httpx.Response(200, json={"RequestId": "r-1", "ProcessStatus": "QUEUED"})

    with pytest.raises(VendorHTTPError) as info:
        _run(answer)
    assert info.value.status == 400 and async_stage(info.value) == stage


def test_a_failed_job_is_an_error_of_the_status_step() -> None:
    def failed(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json={"RequestId": "r-1", "ProcessStatus": "FAILED", "Commentary": "no"})

    with pytest.raises(VendorHTTPError, match="failed") as info:
        _run(failed)
    assert async_stage(info.value) == "status"


# ---- 4. concurrent jobs: the least percent, cleared only when the last ends

def test_progress_of_concurrent_jobs_is_the_least_and_cleared_by_the_last() -> None:
    st = QueryStats()
    seen: list[tuple[float | None, str | None]] = []
    st.on_progress = lambda s: seen.append((s.job_percent, s.job_note))
    st.job(18, "Searching contacts", key="a")
    st.job(40, "Searching contacts", key="b")
    st.job(100, "Workflow complete", key="b")
    st.job_done("b")
    st.job(60, "Preparing results", key="a")
    st.job_done("a")
    assert seen == [(18.0, "Searching contacts"), (18.0, "Searching contacts · 2 jobs"),
                    (18.0, "Searching contacts · 2 jobs"), (18.0, "Searching contacts"),
                    (60.0, "Preparing results"), (None, None)]


def test_concurrent_page_jobs_of_a_connector_never_clear_the_progress_midway() -> None:
    """Two page jobs: "a" finishes after one poll, "b" after four; the statement's progress stays set
    until "b" ends (before: "a"'s end cleared it while "b" ran), and shows the least percent."""
    polls = {"a": 0, "b": 0}

    def answer(request: httpx.Request) -> httpx.Response:
        if request.url.params.get("async") == "true":
            job = request.url.params["page"]
            return httpx.Response(200, json={"RequestId": job, "ProcessStatus": "QUEUED", "PercentComplete": 0})
        job = request.url.path.rsplit("/", 1)[1]
        polls[job] += 1
        if polls[job] >= (1 if job == "a" else 4):
            return httpx.Response(200, json={"RequestId": job, "ProcessStatus": "PROCESSED", "Result": {"Data": []}})
        return httpx.Response(200, json={"RequestId": job, "ProcessStatus": "PROCESSING",
                                         "PercentComplete": 20 * polls[job]})

    connector = _connector(answer)
    st = QueryStats()
    seen: list[float | None] = []
    st.on_progress = lambda s: seen.append(s.job_percent)
    table = connector.table("contacts")

    async def both() -> None:
        with collecting(st):
            await asyncio.gather(*(connector.send(table, NativeRequest("POST", "/api/contacts/search",
                                                                       params=(("page", k),), body={}), res=CONTACTS)
                                   for k in ("a", "b")))

    run_sync(both())
    assert polls == {"a": 1, "b": 4}
    first = next(i for i, p in enumerate(seen) if p is not None)
    assert seen[-1] is None and None not in seen[first:-1], seen  # cleared once: when the last job ended
    assert st.job_percent is None and st.job_note is None


# ---- 5. polls follow PercentComplete; a slow poll does not overrun the deadline; the deadline's words

class Clocked:
    """A job of ``duration`` fake seconds whose PercentComplete grows with the fake clock."""

    def __init__(self, duration: float) -> None:
        self.now, self.duration, self.polls = [0.0], duration, 0

    async def sleep(self, seconds: float) -> None:
        self.now[0] += seconds

    def __call__(self, request: httpx.Request) -> httpx.Response:
        if request.url.params.get("async") == "true":
            return httpx.Response(200, json={"RequestId": "r-1", "ProcessStatus": "QUEUED", "PercentComplete": 0})
        self.polls += 1
        self.now[0] += 0.01  # a poll's round trip
        percent = min(100, int(100 * self.now[0] / self.duration))  # (floored, as the sandbox's)
        done = self.now[0] >= self.duration
        return httpx.Response(200, json={"RequestId": "r-1", "ProcessStatus": "PROCESSED" if done else "PROCESSING",
                                         "PercentComplete": percent, **({"Result": []} if done else {})})


@pytest.mark.parametrize("duration, most", [(3.5, 3), (20.0, 6)])
def test_polls_follow_the_percent_complete(duration: float, most: int) -> None:
    job = Clocked(duration)
    calls = AsyncCalls(_client(job), AsyncJob(), sleep=job.sleep, clock=lambda: job.now[0])
    assert run_sync(calls.call("POST", "/api/contacts/search", json={})) == []
    assert job.polls <= most, job.polls  # the backoff alone: 6 polls (0.25 .. 4 s) for 3.5 s, 9 for 20 s
    assert job.now[0] < duration + 5.0


def test_a_slow_poll_does_not_overrun_the_deadline() -> None:
    async def answer(request: httpx.Request) -> httpx.Response:
        if request.url.params.get("async") == "true":
            return httpx.Response(200, json={"RequestId": "r-1", "ProcessStatus": "QUEUED", "PercentComplete": 0})
        await asyncio.sleep(30)  # a status that never answers within the client's timeout
        raise AssertionError("unreachable")

    client = HttpClient(vendor="Voyzu", base_url="http://voyzu.test", transport=httpx.MockTransport(answer),
                        timeout_s=3, retry=RetryPolicy(max_attempts=1))
    calls = AsyncCalls(client, AsyncJob(first_wait_s=0.01, deadline_s=0.2))
    with pytest.raises(ConnectorError) as info:  # before: the poll's own NetworkError after timeout_s
        run_sync(calls.call("POST", "/api/contacts/search", json={}))
    assert type(info.value) is ConnectorError and async_stage(info.value) == "status"
    assert "did not finish within 0.2 s (0 polls; no status; the first poll did not answer in time)" in str(info.value)


def test_the_deadline_says_one_poll_and_the_last_status_once() -> None:
    now = [0.0]

    def answer(request: httpx.Request) -> httpx.Response:
        if request.url.params.get("async") == "true":
            now[0] += 5  # a slow submit: the deadline has passed at the first poll
            return httpx.Response(200, json={"RequestId": "Ai2V==", "ProcessStatus": "QUEUED"})
        return httpx.Response(200, json={"RequestId": "Ai2V==", "ProcessStatus": "QUEUED", "PercentComplete": 0,
                                         "Commentary": "Queued"})

    calls = AsyncCalls(_client(answer), AsyncJob(deadline_s=2), clock=lambda: now[0])
    with pytest.raises(ConnectorError) as info:
        run_sync(calls.call("POST", "/api/contacts/search", json={}))
    message = str(info.value)
    assert 'request Ai2V== did not finish within 2 s (1 poll; last status: QUEUED, 0%, "Queued")' in message, message
    assert message.count("Ai2V==") == 1 and async_stage(info.value) == "status"
