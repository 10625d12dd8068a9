"""The Voyzu simulator over real HTTP: the declared variants and the sandbox config, the class
modules, sessions (cookie, query parameter, cookie only, login, expiry), contacts by id,
spreadsheets (both envelopes, 402), the 404 of unknown paths and wrong verbs, and the fault kinds
540, 541, 402 and 504 with Voyzu's bodies."""

from __future__ import annotations

import json
import re
import time

import httpx
import pytest

from crmql.sandbox import SandboxServer
from crmql.sandbox.voyzu.simulator import VoyzuSimulator
from crmql.surfaces.cli import main
from voyzu_support import (CONTRACT_VARIANTS, LOGIN, SESSION_COOKIE, SESSION_ID, UTC_MS, VENDOR, api,  # noqa: F401
                           SMALL, client_of, sim)

SEARCH = "/api/contacts/search"


def test_variants_and_config_are_the_contracts(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["sandbox", "variants", "--format", "json"]) == 0
    rows = [r for r in json.loads(capsys.readouterr().out) if r["vendor"] == VENDOR]
    assert {r["key"]: r["values"] for r in rows} == CONTRACT_VARIANTS
    assert all(r["default"] == r["values"][0] and r["meaning"] and r["source"] for r in rows)
    assert main(["sandbox", "config", "--port", "8765"]) == 0
    config = capsys.readouterr().out
    assert '[connections.voyzu]\nvendor = "voyzu"\nbase_url = "http://127.0.0.1:8765/voyzu"\n' \
           f'session_id = "{SESSION_ID}"' in config


@pytest.mark.parametrize("resource", ["auth", "contacts", "custom-fields", "spreadsheets", "users", "request-status"])
def test_every_class_module_is_javascript_and_needs_no_session(server: SandboxServer, sim: VoyzuSimulator,
                                                               resource: str) -> None:
    with client_of(server, session=None) as anonymous:
        answer = anonymous.get(f"/api/{resource}/class")
    assert answer.status_code == 200 and answer.headers["content-type"].startswith("text/javascript")
    assert re.search(r"^export class \w+ \{$", answer.text, re.M) and "this." in answer.text


def _class_fields(js: str, name: str) -> list[str]:
    body = js.split(f"export class {name} {{", 1)[1].split("\n}", 1)[0]
    return re.findall(r"^\s+this\.(\w+) = ", body, re.M)


@pytest.mark.parametrize(("paging", "names", "fields"), [
    ("datatable", "api_doc", ["SearchText", "Start", "Length"]),
    ("page", "api_doc", ["SearchText", "Page", "PageSize"]),
    ("none", "front_end", ["SearchText"]),
])
def test_the_contacts_module_declares_the_readings_search_classes(server: SandboxServer, api: httpx.Client,
                                                                  paging: str, names: str, fields: list[str]) -> None:
    server.settings.variants = {"voyzu.paging": paging, "voyzu.class_names": names}
    js = api.get("/api/contacts/class").text
    search, result = ("ContactsSearch", "ContactsSearchResult") if names == "front_end" else \
        ("ContactsSearchInput", "ContactsDatatable")
    assert _class_fields(js, search) == fields
    assert "Data" in _class_fields(js, result) and "EmailAddresses" in _class_fields(js, "WebContact")
    other = "ContactsSearchInput" if names == "front_end" else "ContactsSearch {"
    assert other not in js
    body = {name: (0 if name == "Start" else 1 if name in ("Page", "Length", "PageSize") else "") for name in fields}
    answer = api.post(SEARCH, json=body)  # what the class declares is what the search accepts
    assert answer.status_code == 200, answer.text


def test_the_request_status_and_spreadsheets_modules_follow_their_variants(server: SandboxServer,
                                                                           api: httpx.Client) -> None:
    assert _class_fields(api.get("/api/request-status/class").text, "RequestStatus")[-1] == "Result"
    assert "SpreadsheetList" not in api.get("/api/spreadsheets/class").text
    server.settings.variants = {"voyzu.async_result": "link", "voyzu.spreadsheets": "object"}
    assert _class_fields(api.get("/api/request-status/class").text, "RequestStatus")[-1] == "ResultUrl"
    assert _class_fields(api.get("/api/spreadsheets/class").text, "SpreadsheetList") == ["Spreadsheets"]
    assert api.get("/api/exports/class").status_code == 404


def test_the_session_goes_as_cookie_or_query_parameter_and_cookie_only_refuses_the_parameter(
        server: SandboxServer, sim: VoyzuSimulator) -> None:
    with client_of(server, session=None) as anonymous:
        assert anonymous.post(SEARCH, json={}).json() == {"ErrorMessage": "Unauthorised"}
        assert anonymous.post(SEARCH, json={}).status_code == 401
        assert anonymous.post(SEARCH, json={}, headers={"Cookie": f"{SESSION_COOKIE}=forged"}).status_code == 401
        by_query = anonymous.post(SEARCH, json={}, params={SESSION_COOKIE: SESSION_ID})
        assert by_query.status_code == 200 and by_query.json()["RecordsTotal"] == 400
        server.settings.variants = {"voyzu.session_in": "cookie_only"}
        assert anonymous.post(SEARCH, json={}, params={SESSION_COOKIE: SESSION_ID}).status_code == 401
        assert anonymous.post(SEARCH, json={}, headers={"Cookie": f"{SESSION_COOKIE}={SESSION_ID}"}).status_code == 200


def test_login_answers_a_session_in_the_body_and_a_cookie_that_open_the_api(server: SandboxServer,
                                                                             sim: VoyzuSimulator) -> None:
    with client_of(server, session=None) as anonymous:
        answer = anonymous.post("/api/auth", json=LOGIN)
        assert answer.status_code == 200, answer.text
        auth = answer.json()
        assert set(auth) == {"SessionId", "Email", "ExpiresDate"} and UTC_MS.match(auth["ExpiresDate"])
        assert answer.cookies[SESSION_COOKIE] == auth["SessionId"] != SESSION_ID
        assert anonymous.post(SEARCH, json={}).status_code == 200  # the jar sends the cookie
        for body, status, message in (({**LOGIN, "Password": "wrong"}, 401, "invalid credentials"),
                                      ({"Email": LOGIN["Email"]}, 400, "'Password' is required"),
                                      ({**LOGIN, "Remember": True}, 400, "unknown property 'Remember'")):
            anonymous.cookies.clear()
            refused = anonymous.post("/api/auth", json=body)
            assert refused.status_code == status and message in refused.json()["ErrorMessage"]
    assert sim.auth.logins == 1


def test_sessions_expire_by_time_by_the_expire_fault_and_by_the_hook(server: SandboxServer,
                                                                     sim: VoyzuSimulator) -> None:
    sim.auth.session_ttl_s = 0.05
    with client_of(server, session=None) as short, client_of(server) as configured:
        assert short.post("/api/auth", json=LOGIN).status_code == 200  # its cookie goes into the jar
        time.sleep(0.1)
        assert short.post(SEARCH, json={}).status_code == 401
        assert configured.post(SEARCH, json={}).status_code == 200  # the configured one lives on
        server.settings.faults = "expire@1"
        server.reset_log()
        assert configured.post(SEARCH, json={}).status_code == 401  # revoked with every access token
        server.settings.faults = ""
        assert configured.post(SEARCH, json={}).status_code == 401
        sim.reset()
        sim.contacts = SMALL
        assert configured.post(SEARCH, json={}).status_code == 200
        sim.auth.expire_sessions()
        assert configured.post(SEARCH, json={}).status_code == 401


def test_a_contact_by_id_and_no_such_contact(api: httpx.Client, sim: VoyzuSimulator) -> None:
    first = api.post(SEARCH, json={"Length": 1}).json()["Data"][0]
    answer = api.post(f"/api/contacts/get/{first['Id']}")
    assert answer.status_code == 200 and answer.json() == first
    beyond = sim.rows()[-1]["Id"].replace("c-0000", "c-0009")
    for missing in ("c-00000001", beyond, "nope"):
        refused = api.post(f"/api/contacts/get/{missing}")
        assert refused.status_code == 400 and refused.json() == {"ErrorMessage": "contact not found"}


def test_spreadsheets_as_an_array_an_object_and_402_on_a_free_plan(server: SandboxServer, api: httpx.Client) -> None:
    sheets = api.post("/api/spreadsheets/list").json()
    assert len(sheets) == 12 and api.post("/api/spreadsheets/list", json={}).json() == sheets
    assert {"Id", "Name", "Url", "CreatedDate", "UpdatedDate", "RowCount"} == set(sheets[0])
    assert all(s["Url"].startswith("https://docs.google.com/spreadsheets/d/") for s in sheets)
    assert any(s["RowCount"] is None for s in sheets) and any(isinstance(s["RowCount"], int) for s in sheets)
    server.settings.variants = {"voyzu.spreadsheets": "object"}
    assert api.post("/api/spreadsheets/list").json() == {"Spreadsheets": sheets}
    server.settings.variants = {"voyzu.subscription": "free"}
    refused = api.post("/api/spreadsheets/list")
    assert refused.status_code == 402 and "ErrorMessage" in refused.json()


def test_unknown_paths_and_wrong_verbs_are_404(api: httpx.Client) -> None:
    for method, path in (("GET", SEARCH), ("POST", "/api/contacts/class"), ("GET", "/api/spreadsheets/list"),
                         ("POST", "/api/contacts/delete-all"), ("POST", "/contacts/search"), ("PUT", "/api/auth"),
                         ("GET", "/api/request-status/get/abc")):
        answer = api.request(method, path)
        assert (answer.status_code, answer.json()) == (404, {"message": "Not Found"}), (method, path)


def test_fault_kinds_540_541_402_504_answer_voyzus_bodies(server: SandboxServer, api: httpx.Client) -> None:
    server.settings.faults = "540@1,541@2,402@3,504@4"
    server.reset_log()
    answers = [api.post(SEARCH, json={}) for _ in range(5)]
    assert [a.status_code for a in answers] == [540, 541, 402, 504, 200]
    assert all(isinstance(a.json().get("ErrorMessage"), str) for a in answers[:3])
    assert answers[3].json() == {"message": "Endpoint request timed out"}
    assert [entry[2] for entry in server.request_log] == [540, 541, 402, 504, 200]


def test_settings_come_from_the_environment_when_the_simulator_is_reset(api: httpx.Client, sim: VoyzuSimulator,
                                                                        monkeypatch: pytest.MonkeyPatch,
                                                                        caplog: pytest.LogCaptureFixture) -> None:
    for name, value in (("CONTACTS", "25"), ("GATEWAY_ROWS", "7"), ("ASYNC_BASE_MS", "5"),
                        ("ASYNC_MS_PER_1000", "0"), ("SESSION_TTL_S", "oops")):
        monkeypatch.setenv(f"CRMQL_SANDBOX_VOYZU_{name}", value)
    sim.reset()
    assert (sim.contacts, sim.gateway_rows, sim.jobs.async_base_ms, sim.jobs.async_ms_per_1000) == (25, 7, 5, 0)
    assert sim.auth.session_ttl_s == 3600 and "CRMQL_SANDBOX_VOYZU_SESSION_TTL_S='oops'" in caplog.text
    assert api.post(SEARCH, json={"Length": 7}).json()["RecordsTotal"] == 25
    assert api.post(SEARCH, json={"Length": 8}).status_code == 504
