"""The Voyzu simulator's contact search over real HTTP: the three paging readings, the page size
maximum, the gateway's 504 (default and strict), and what SearchText finds under every reading of
its fields and matching, including the superset crmql's push-down relies on (a contact's own
first name, last name, display name, organization or email finds it under every reading)."""

from __future__ import annotations

import itertools
import re
from typing import Any

import httpx
import pytest

from crmql.sandbox import SandboxServer
from crmql.sandbox.voyzu.simulator import VoyzuSimulator
from voyzu_support import SMALL, UTC_MS, api, sim  # noqa: F401

SEARCH = "/api/contacts/search"


def _search(client: httpx.Client, body: dict[str, Any] | None = None, **params: str) -> httpx.Response:
    return client.post(SEARCH, json=body if body is not None else {}, params=params)


def _all(client: httpx.Client, text: str = "") -> list[dict[str, Any]]:
    answer = _search(client, {"SearchText": text, "Start": 0, "Length": 1000})
    assert answer.status_code == 200, answer.text
    return answer.json()["Data"]


def test_datatable_pages_cover_every_contact_once_in_id_order(api: httpx.Client) -> None:
    first = _search(api, {"Start": 0, "Length": 150}).json()
    assert set(first) == {"Data", "RecordsTotal", "RecordsFiltered"}
    assert first["RecordsTotal"] == first["RecordsFiltered"] == SMALL
    rows = list(first["Data"])
    for start in range(150, SMALL, 150):
        rows += _search(api, {"SearchText": "", "Start": start, "Length": 150}).json()["Data"]
    ids = [r["Id"] for r in rows]
    assert len(ids) == SMALL and ids == sorted(set(ids))
    assert _search(api, {"Start": SMALL, "Length": 10}).json()["Data"] == []
    assert len(_search(api).json()["Data"]) == 10  # the datatable's own default Length
    assert len(api.post(SEARCH).json()["Data"]) == 10  # no body at all: the same
    contact = rows[0]
    assert contact["Id"].startswith("c-") and UTC_MS.match(contact["CreatedDate"]) and "#voyzu shared" in contact["Labels"]


def test_the_page_and_none_readings(server: SandboxServer, api: httpx.Client) -> None:
    server.settings.variants = {"voyzu.paging": "page"}
    page2 = _search(api, {"Page": 2, "PageSize": 150}).json()
    assert {k: v for k, v in page2.items() if k != "Data"} == {"TotalCount": SMALL, "Page": 2, "PageSize": 150}
    every = [r["Id"] for p in (1, 2, 3) for r in _search(api, {"Page": p, "PageSize": 150}).json()["Data"]]
    assert every == sorted(set(every)) and len(every) == SMALL and page2["Data"][0]["Id"] == every[150]
    assert _search(api, {"Page": 0}).status_code == 400
    refused = _search(api, {"Start": 0, "Length": 10})  # another reading's fields: not this class
    assert refused.status_code == 400 and "unknown property 'Start'" in refused.json()["ErrorMessage"]
    server.settings.variants = {"voyzu.paging": "none"}
    assert [r["Id"] for r in _search(api, {"SearchText": ""}).json()["Data"]] == every
    assert set(_search(api).json()) == {"Data"} and _search(api, {"PageSize": 5}).status_code == 400


@pytest.mark.parametrize("body", [b"not json", b"[1]", b'{"Start": -1}', b'{"Length": 0}', b'{"Length": "10"}',
                                  b'{"SearchText": 5}', b'{"Start": true}'])
def test_a_malformed_search_is_400_with_an_error_message(api: httpx.Client, body: bytes) -> None:
    answer = api.post(SEARCH, content=body, headers={"content-type": "application/json"})
    assert answer.status_code == 400 and isinstance(answer.json()["ErrorMessage"], str)


def test_a_page_larger_than_the_maximum_is_served_as_the_maximum(server: SandboxServer, api: httpx.Client,
                                                                 sim: VoyzuSimulator) -> None:
    sim.contacts = 1200
    answer = _search(api, {"Length": 5000}).json()
    assert len(answer["Data"]) == 1000 and answer["RecordsFiltered"] == 1200
    server.settings.variants = {"voyzu.max_length": "100"}
    assert len(_search(api, {"Start": 50, "Length": 1000}).json()["Data"]) == 100
    server.settings.variants = {"voyzu.max_length": "100", "voyzu.paging": "page"}
    assert _search(api, {"PageSize": 1000}).json()["PageSize"] == 100


def test_a_sync_answer_over_the_gateway_limit_is_504_at_once_and_async_is_not_limited(
        server: SandboxServer, api: httpx.Client, sim: VoyzuSimulator) -> None:
    sim.contacts, sim.gateway_rows = 700, 300
    server.settings.variants = {"voyzu.paging": "none"}
    refused = _search(api)
    assert (refused.status_code, refused.json()) == (504, {"message": "Endpoint request timed out"})
    assert len(_search(api, {"SearchText": "#vip"}).json()["Data"]) <= 300  # a small answer passes
    assert _search(api, **{"async": "true"}).json()["ProcessStatus"] == "QUEUED"
    server.settings.variants = {}
    assert _search(api, {"Length": 300}).status_code == 200 and _search(api, {"Length": 301}).status_code == 504
    assert _search(api, {"Start": 500, "Length": 1000}).status_code == 200  # 200 rows left
    sim.gateway_rows = 2500
    server.settings.variants = {"voyzu.gateway": "strict"}
    assert _search(api, {"Length": 500}).status_code == 200 and _search(api, {"Length": 501}).status_code == 504
    sim.gateway_rows = 3
    assert api.post("/api/spreadsheets/list").status_code == 504  # 12 spreadsheets


_PUSHABLE = ("FirstName", "LastName", "DisplayName", "Organization")


def _own_values(contact: dict[str, Any]) -> list[str]:
    values = [contact[k] for k in _PUSHABLE if contact.get(k)]
    return values + [e["Value"] for e in contact["EmailAddresses"]]


def test_every_reading_finds_a_contact_by_its_own_names_organization_and_emails(server: SandboxServer,
                                                                                api: httpx.Client) -> None:
    sample = _all(api)[::67]
    for fields, match in itertools.product(("most", "names_emails"), ("substring_ci", "word_prefix", "case_sensitive")):
        server.settings.variants = {"voyzu.search_fields": fields, "voyzu.search_match": match}
        for contact in sample:
            for value in _own_values(contact)[:3]:
                found = _search(api, {"SearchText": value, "Length": 1000}).json()
                assert contact["Id"] in {r["Id"] for r in found["Data"]}, (fields, match, value)
                assert found["RecordsFiltered"] == len(found["Data"])


def test_what_the_readings_find_differs(server: SandboxServer, api: httpx.Client) -> None:
    vip = _all(api, "#vip")
    assert vip and all("#vip" in r["Labels"] for r in vip)  # most fields: labels too
    word = next(r["LastName"] for r in _all(api) if r["LastName"] and len(r["LastName"]) > 4 and r["LastName"].isalpha())
    inner, upper = word[1:], word.upper()
    assert _all(api, inner) and _all(api, upper)  # substring, case-insensitive
    server.settings.variants = {"voyzu.search_fields": "names_emails"}
    assert _all(api, "#vip") == [] and _all(api, upper)
    server.settings.variants = {"voyzu.search_match": "case_sensitive"}
    assert _all(api, upper) == [] and _all(api, word)
    server.settings.variants = {"voyzu.search_match": "word_prefix"}
    every = _all(api)
    for text in (word[:3].lower(), inner, f"{word[:2]} {word[-2:]}"):
        found = {r["Id"] for r in _all(api, text)}
        assert found == {r["Id"] for r in every if _word_start(r, text)}, text
    assert {r["Id"] for r in _all(api, inner)} < {r["Id"] for r in every if inner.lower() in r["DisplayName"].lower()}


def _word_start(row: dict[str, Any], text: str) -> bool:
    values = [row["DisplayName"], row["Organization"] or "", row["Notes"] or "", row["JobTitle"] or "",
              *(e["Value"] for e in row["EmailAddresses"]), *row["Labels"], *row["ContactTypes"],
              *(str(f["Value"]) for f in row["CustomFields"]), *(p["Value"] for p in row["PhoneNumbers"]),
              *(a["City"] for a in row["Addresses"]), row["ImportId"] or ""]
    words = [w for v in values for w in re.findall(r"[^\W_]+", v.casefold())]
    return all(any(w.startswith(q) for w in words) for q in re.findall(r"[^\W_]+", text.casefold()))
