"""The Voyzu simulator's asynchronous requests over real HTTP: the lifecycle QUEUED -> PROCESSING
-> PROCESSED with growing PercentComplete and Commentary, each poll path reading (the other paths
404), the result inline or behind a presigned-style link that refuses credentials, failure under
both status names, a stalled job, and a job nobody submitted."""

from __future__ import annotations

import time
from urllib.parse import urlsplit

import httpx
import pytest

from crmql.sandbox import SandboxServer
from crmql.sandbox.voyzu import jobs as voyzu_jobs
from crmql.sandbox.voyzu.simulator import POLL_PATHS, VoyzuSimulator
from voyzu_support import SESSION_COOKIE, SESSION_ID, SMALL, UTC_MS, api, poll_until, sim  # noqa: F401

SEARCH = "/api/contacts/search"


def _finished(status: dict) -> bool:
    return status["ProcessStatus"] not in ("QUEUED", "PROCESSING")


def _submit(client: httpx.Client, path: str = SEARCH, body: dict | None = None) -> dict:
    answer = client.post(path, params={"async": "true"}, json=body if body is not None else {})
    assert answer.status_code == 200, answer.text
    return answer.json()


def test_a_search_job_runs_queued_processing_processed_with_its_result_inline(api: httpx.Client,
                                                                              sim: VoyzuSimulator) -> None:
    sim.jobs.async_base_ms, sim.jobs.async_ms_per_1000 = 150, 500  # 350 ms for 400 contacts
    body = {"SearchText": "", "Start": 0, "Length": 1000}
    submitted = _submit(api, body=body)
    assert {k: submitted[k] for k in ("ProcessStatus", "PercentComplete", "Commentary")} == \
        {"ProcessStatus": "QUEUED", "PercentComplete": 0, "Commentary": "Queued"}
    assert UTC_MS.match(submitted["CreatedDate"]) and submitted["RequestId"]
    seen = poll_until(api, f"/api/request-status/get/{submitted['RequestId']}", _finished)
    states = [s["ProcessStatus"] for s in seen]
    assert "PROCESSING" in states and states[-1] == "PROCESSED"
    percents = [s["PercentComplete"] for s in seen]
    assert percents == sorted(percents) and percents[-1] == 100 and any(0 < p < 100 for p in percents)
    notes = {s["Commentary"] for s in seen}
    assert "Workflow complete" in notes and notes & {"Searching contacts", "Preparing results"}
    assert all("Result" not in s for s in seen[:-1])
    assert seen[-1]["Result"] == api.post(SEARCH, json=body).json()  # the sync answer
    assert seen[-1]["UpdatedDate"] >= seen[-1]["CreatedDate"] == submitted["CreatedDate"]


def test_get_and_list_run_async_too_and_a_bad_input_is_400_at_once(api: httpx.Client) -> None:
    contact = api.post(SEARCH, json={"Length": 1}).json()["Data"][0]
    job = _submit(api, f"/api/contacts/get/{contact['Id']}")
    assert poll_until(api, f"/api/request-status/get/{job['RequestId']}", _finished)[-1]["Result"] == contact
    job = _submit(api, "/api/spreadsheets/list")
    result = poll_until(api, f"/api/request-status/get/{job['RequestId']}", _finished)[-1]["Result"]
    assert len(result) == 12
    refused = api.post("/api/contacts/get/c-00000001", params={"async": "true"})
    assert refused.status_code == 400 and refused.json() == {"ErrorMessage": "contact not found"}
    refused = api.post(SEARCH, params={"async": "true"}, json={"Page": 1})
    assert refused.status_code == 400


@pytest.mark.parametrize("reading", ["request-status", "api-request", "request"])
def test_each_poll_path_reading_answers_on_its_path_only(server: SandboxServer, api: httpx.Client,
                                                         reading: str) -> None:
    server.settings.variants = {"voyzu.poll_path": reading}
    job = _submit(api)
    for name, path in POLL_PATHS.items():
        answer = api.post(path.format(request_id=job["RequestId"]))
        if name == reading:
            assert answer.status_code == 200 and answer.json()["RequestId"] == job["RequestId"]
        else:
            assert (answer.status_code, answer.json()) == (404, {"message": "Not Found"})
    assert api.post(POLL_PATHS[reading].format(request_id="nope")).json() == {"ErrorMessage": "request not found"}
    with httpx.Client(base_url=server.base_url("voyzu")) as anonymous:  # polling needs the session
        assert anonymous.post(POLL_PATHS[reading].format(request_id=job["RequestId"])).status_code == 401
        query = anonymous.post(POLL_PATHS[reading].format(request_id=job["RequestId"]),
                               params={SESSION_COOKIE: SESSION_ID})
        assert query.status_code == 200  # the dev server's query parameter, as the front end's poller sends it


def test_a_link_result_is_fetched_without_credentials_and_refuses_them(server: SandboxServer, api: httpx.Client,
                                                                       sim: VoyzuSimulator) -> None:
    server.settings.variants = {"voyzu.async_result": "link"}
    job = _submit(api, body={"SearchText": "#vip", "Length": 1000})
    last = poll_until(api, f"/api/request-status/get/{job['RequestId']}", _finished)[-1]
    assert last["ProcessStatus"] == "PROCESSED" and "Result" not in last
    url = urlsplit(last["ResultUrl"])
    assert f"{url.scheme}://{url.netloc}" == server.url and url.path == f"/voyzu-results/{job['RequestId']}"
    assert url.query.startswith("sig=")
    with httpx.Client() as bare:
        fetched = bare.get(last["ResultUrl"])
        assert fetched.status_code == 200
        assert fetched.json() == api.post(SEARCH, json={"SearchText": "#vip", "Length": 1000}).json()
        for extra in ({"headers": {"Cookie": f"{SESSION_COOKIE}={SESSION_ID}"}},
                      {"params": {"sig": url.query[4:], SESSION_COOKIE: SESSION_ID}},
                      {"headers": {"Authorization": "Bearer x"}}):
            target = last["ResultUrl"] if "params" not in extra else last["ResultUrl"].split("?")[0]
            refused = bare.get(target, **extra)
            assert (refused.status_code, refused.json()) == (400, {"message": "presigned URLs take no credentials"})
        assert bare.get(last["ResultUrl"].replace("sig=", "sig=0")).status_code == 403
        assert bare.get(f"{server.url}/voyzu-results/nope?sig=00").status_code == 404
    assert [had for _, had in sim.jobs.link_fetches] == [False, True, True, True, False, False]
    assert all(entry[1].startswith("/voyzu/") for entry in server.request_log)  # links are not Voyzu API calls


@pytest.mark.parametrize("status", ["FAILED", "ERROR"])
def test_a_failed_job_stops_with_its_reason_under_either_status_name(server: SandboxServer, api: httpx.Client,
                                                                     sim: VoyzuSimulator, status: str) -> None:
    server.settings.variants = {"voyzu.failure_status": status}
    sim.jobs.fail_next("Search index unavailable")
    failing, fine = _submit(api), _submit(api)
    last = poll_until(api, f"/api/request-status/get/{failing['RequestId']}", _finished)[-1]
    assert (last["ProcessStatus"], last["Commentary"]) == (status, "Search index unavailable")
    assert 0 < last["PercentComplete"] < 100 and "Result" not in last
    assert poll_until(api, f"/api/request-status/get/{fine['RequestId']}", _finished)[-1]["ProcessStatus"] == "PROCESSED"


def test_a_stalled_job_stays_at_90_percent_until_the_stall_ends(api: httpx.Client, sim: VoyzuSimulator) -> None:
    sim.jobs.stalled = True
    job = _submit(api)
    path = f"/api/request-status/get/{job['RequestId']}"
    seen = poll_until(api, path, lambda s: s["PercentComplete"] == 90)
    time.sleep(0.2)  # well past the job's 100 ms
    again = api.post(path).json()
    assert (again["ProcessStatus"], again["PercentComplete"]) == ("PROCESSING", 90) and "Result" not in again
    assert seen[-1]["ProcessStatus"] == "PROCESSING"
    sim.jobs.stalled = False
    assert api.post(path).json()["ProcessStatus"] == "PROCESSED"


def test_jobs_take_longer_the_more_contacts_they_search(api: httpx.Client, sim: VoyzuSimulator) -> None:
    sim.jobs.async_base_ms, sim.jobs.async_ms_per_1000 = 10, 100_000  # 40 s for 400 contacts
    job = _submit(api)
    status = api.post(f"/api/request-status/get/{job['RequestId']}").json()
    assert status["ProcessStatus"] in ("QUEUED", "PROCESSING") and status["PercentComplete"] < 10
    assert sim.jobs.get(job["RequestId"]).duration_ms == pytest.approx(10 + 100_000 * SMALL / 1000)


def test_a_job_is_forgotten_after_its_time_to_live(api: httpx.Client, monkeypatch: pytest.MonkeyPatch) -> None:
    job = _submit(api)
    path = f"/api/request-status/get/{job['RequestId']}"
    assert api.post(path).status_code == 200
    monkeypatch.setattr(voyzu_jobs, "JOB_TTL_S", 0.0)
    answer = api.post(path)
    assert (answer.status_code, answer.json()) == (400, {"ErrorMessage": "request not found"})
