"""Azavista search, paging, get-by-id, filter semantics under every variant, and 400s."""

from __future__ import annotations

import re
from datetime import datetime, timezone

import httpx
import pytest

from crmql.sandbox import SandboxServer, records
from crmql.sandbox.azavista.simulator import FIELDS, OPERATORS, VARIANTS
from sandbox_helpers import search, search_all


def _ids(rows: list[dict]) -> list[str]:
    return [r["id"] for r in rows]


EVENTS = records("azavista", "events")
CONTACTS = records("azavista", "contacts")
ORGS = records("azavista", "organizations")


def test_variants_constant_lists_every_switch() -> None:
    assert VARIANTS == {
        "azavista.like_case": ("insensitive", "sensitive"),
        "azavista.like_mode": ("substring", "regex"),
        "azavista.eq_case": ("sensitive", "insensitive"),
        "azavista.range": ("exclusive", "inclusive"),
    }
    assert OPERATORS["datetime"] == ("after", "before")


@pytest.mark.parametrize("table,rows", [("events", EVENTS), ("organizations", ORGS), ("contacts", CONTACTS)])
def test_unfiltered_search_and_limit_capping(client: httpx.Client, auth: dict, table: str, rows: list) -> None:
    resp = search(client, auth, table, limit=500)
    body = resp.json()
    assert resp.status_code == 200
    assert body["object_count"] == len(rows) and body["limit"] == 50 and body["offset"] == 0
    assert _ids(body[table]) == _ids(rows[:50])
    default = search(client, auth, table, {}).json()
    assert default["limit"] == 50 and _ids(default[table]) == _ids(rows[:50])


def test_paging_by_body_and_query_string(client: httpx.Client, auth: dict) -> None:
    body = search(client, auth, "organizations", limit=20, offset=100).json()
    assert body["limit"] == 20 and body["offset"] == 100
    assert _ids(body["organizations"]) == _ids(ORGS[100:120])
    qs = client.post("/3.1/organization/search?limit=7&offset=490", headers=auth, json={}).json()
    assert qs["limit"] == 7 and _ids(qs["organizations"]) == _ids(ORGS[490:497])
    tail = search(client, auth, "organizations", limit=50, offset=480).json()
    assert len(tail["organizations"]) == 20
    beyond = search(client, auth, "organizations", offset=5000).json()
    assert beyond["organizations"] == [] and beyond["object_count"] == 500
    # the organization search example of the doc sends no Content-Type
    raw = client.post("/3.1/organization/search", headers=auth, content=b'{"limit": 3}')
    assert raw.status_code == 200 and len(raw.json()["organizations"]) == 3


def test_get_by_id_and_404(client: httpx.Client, auth: dict) -> None:
    for path, row in (("/3.0/event/", EVENTS[5]), ("/3.1/organization/", ORGS[5]), ("/3.1/contact/", CONTACTS[5])):
        resp = client.get(path + row["id"], headers=auth)
        assert resp.status_code == 200 and resp.json() == row
        missing = client.get(path + "ffffffffffffffffffffffff", headers=auth)
        assert missing.status_code == 404
        assert missing.json()["error"] == "not_found" and missing.json()["message"]
    assert client.get("/3.1/unknown", headers=auth).status_code == 404


def test_doc_example_and_or(client: httpx.Client, auth: dict) -> None:
    tree = {"and": [{"start": {"after": "2024-03-13T00:00:00+01:00"}},
                    {"start": {"before": "2025-02-04T00:00:00+01:00"}},
                    {"event_type": {"in": ["marketing", "sales"]}}],
            "or": [{"name": {"like": "workshop"}}, {"name": {"like": "meeting"}}]}
    lo, hi = datetime.fromisoformat("2024-03-13T00:00:00+01:00"), datetime.fromisoformat("2025-02-04T00:00:00+01:00")
    expected = [e for e in EVENTS if lo < datetime.fromisoformat(e["start"]) < hi
                and e["event_type"] in ("marketing", "sales")
                and ("workshop" in e["name"].lower() or "meeting" in e["name"].lower())]
    assert expected
    assert _ids(search_all(client, auth, "events", tree)) == _ids(expected)
    only_or = {"or": [{"event_type": "webinar"}, {"is_virtual": True}]}
    assert _ids(search_all(client, auth, "events", only_or)) == _ids(
        [e for e in EVENTS if e["event_type"] == "webinar" or e["is_virtual"]])
    empty_groups = search(client, auth, "events", {"and": [], "or": []}).json()
    assert empty_groups["object_count"] == len(EVENTS)


def test_shorthand_eq_in_and_missing_fields(client: httpx.Client, auth: dict) -> None:
    org_id = next(c["organization_id"] for c in CONTACTS if "organization_id" in c)
    tree = {"and": [{"organization_id": org_id}]}
    assert _ids(search_all(client, auth, "contacts", tree)) == _ids(
        [c for c in CONTACTS if c.get("organization_id") == org_id])
    ids = [ORGS[3]["id"], ORGS[9]["id"], "ffffffffffffffffffffffff"]
    assert _ids(search_all(client, auth, "organizations", {"and": [{"id": {"in": ids}}]})) == ids[:2]
    priced = search(client, auth, "events", {"and": [{"price": {"in": [49, 149.5]}}]}).json()
    assert priced["object_count"] == sum(e.get("price") in (49, 149.5) for e in EVENTS) > 0
    managers = search(client, auth, "contacts", {"and": [{"organization_manager": {"eq": False}}]}).json()
    assert managers["object_count"] == sum(not c["organization_manager"] for c in CONTACTS)
    ref = next(o["external_reference"] for o in ORGS if "external_reference" in o)
    found = search(client, auth, "organizations", {"and": [{"external_reference": {"eq": ref}}]}).json()
    assert found["object_count"] == 1 and found["organizations"][0]["external_reference"] == ref
    # a record missing the field never matches (not even like "")
    like_all = search(client, auth, "contacts", {"and": [{"job_title": {"like": ""}}]}).json()
    assert like_all["object_count"] == sum("job_title" in c for c in CONTACTS)


@pytest.mark.parametrize("like_case", VARIANTS["azavista.like_case"])
@pytest.mark.parametrize("like_mode", VARIANTS["azavista.like_mode"])
def test_like_variants(server: SandboxServer, client: httpx.Client, auth: dict,
                       like_case: str, like_mode: str) -> None:
    server.settings.variants = {"azavista.like_case": like_case, "azavista.like_mode": like_mode}
    for needle in ("workshop", "Workshop", "^Webinar", "m[uü]nchen"):
        if like_mode == "regex":
            pattern = re.compile(needle, re.IGNORECASE if like_case == "insensitive" else 0)
            expected = [e for e in EVENTS if pattern.search(e["name"])]
        elif like_case == "insensitive":
            expected = [e for e in EVENTS if needle.casefold() in e["name"].casefold()]
        else:
            expected = [e for e in EVENTS if needle in e["name"]]
        body = search(client, auth, "events", {"and": [{"name": {"like": needle}}]}, limit=1).json()
        assert body["object_count"] == len(expected), (needle, like_case, like_mode)
        assert _ids(body["events"]) == _ids(expected[:1])
    insensitive = sum("workshop" in e["name"].lower() for e in EVENTS)
    lower_only = sum("workshop" in e["name"] for e in EVENTS)
    got = search(client, auth, "events", {"and": [{"name": {"like": "workshop"}}]}).json()["object_count"]
    assert got == (insensitive if like_case == "insensitive" else lower_only)
    if like_mode == "regex":
        bad = search(client, auth, "events", {"and": [{"name": {"like": "(unclosed"}}]})
        assert bad.status_code == 400 and "regular expression" in bad.json()["message"]


@pytest.mark.parametrize("eq_case", VARIANTS["azavista.eq_case"])
def test_eq_case_variants(server: SandboxServer, client: httpx.Client, auth: dict, eq_case: str) -> None:
    server.settings.variants = {"azavista.eq_case": eq_case}
    exact = sum(e.get("city") == "Amsterdam" for e in EVENTS)
    for tree in ({"and": [{"city": "AMSTERDAM"}]}, {"and": [{"city": {"eq": "amsterdam"}}]},
                 {"and": [{"city": {"in": ["AmStErDaM", "nowhere"]}}]}):
        count = search(client, auth, "events", tree).json()["object_count"]
        assert count == (exact if eq_case == "insensitive" else 0)
    assert search(client, auth, "events", {"and": [{"city": "Amsterdam"}]}).json()["object_count"] == exact


@pytest.mark.parametrize("mode", VARIANTS["azavista.range"])
def test_range_variants(server: SandboxServer, client: httpx.Client, auth: dict, mode: str) -> None:
    server.settings.variants = {"azavista.range": mode}
    pivot = EVENTS[1000]["start"]
    bound = datetime.fromisoformat(pivot)
    utc_bound = bound.astimezone(timezone.utc).isoformat()  # same instant, other offset
    starts = [datetime.fromisoformat(e["start"]) for e in EVENTS]
    for op, value in (("after", pivot), ("before", pivot), ("after", utc_bound)):
        if op == "after":
            expected = sum(s >= bound if mode == "inclusive" else s > bound for s in starts)
        else:
            expected = sum(s <= bound if mode == "inclusive" else s < bound for s in starts)
        body = search(client, auth, "events", {"and": [{"start": {op: value}}]}).json()
        assert body["object_count"] == expected, (op, mode)
    on_pivot = {"and": [{"start": {"after": pivot}}, {"start": {"before": pivot}}]}
    count = search(client, auth, "events", on_pivot).json()["object_count"]
    assert count == (sum(s == bound for s in starts) if mode == "inclusive" else 0)
    created = CONTACTS[5000]["created_at"]
    expected = sum(c["created_at"] >= created if mode == "inclusive" else c["created_at"] > created
                   for c in CONTACTS)
    after_z = search(client, auth, "contacts", {"and": [{"created_at": {"after": created}}]}).json()
    assert after_z["object_count"] == expected


def test_seed_switch_on_running_server(server: SandboxServer, client: httpx.Client, auth: dict) -> None:
    server.settings.seed = 7
    body = search(client, auth, "events", limit=3).json()
    assert _ids(body["events"]) == _ids(records("azavista", "events", 7)[:3])


BAD_FILTERS = [
    ({"and": [{"foo": {"eq": 1}}]}, "Unknown field 'foo'"),
    ({"and": [{"capacity": {"gt": 10}}]}, "Unknown operator 'gt'"),
    ({"and": [{"capacity": {"like": "1"}}]}, "not supported"),
    ({"and": [{"name": {"after": "2024-01-01T00:00:00Z"}}]}, "not supported"),
    ({"and": [{"start": "2024-01-01T00:00:00Z"}]}, "not supported"),
    ({"and": [{"id": {"like": "abc"}}]}, "not supported"),
    ({"and": [{"is_virtual": {"in": [True]}}]}, "not supported"),
    ({"and": [{"or": [{"name": "x"}]}]}, "nested filter groups"),
    ({"or": [{"and": [{"name": "x"}]}]}, "nested filter groups"),
    ({"and": [{"name": {"and": [{"like": "x"}]}}]}, "nested filter groups"),
    ({"and": [{"start": {"after": "2024-03-13"}}]}, "ISO-8601"),
    ({"and": [{"start": {"after": "2024-03-13T00:00:00"}}]}, "ISO-8601"),
    ({"and": [{"start": {"before": "yesterday"}}]}, "ISO-8601"),
    ({"and": [{"start": {"before": "2024-13-13T00:00:00Z"}}]}, "ISO-8601"),
    ({"and": [{"event_type": {"in": []}}]}, "non-empty array"),
    ({"and": [{"event_type": {"in": "sales"}}]}, "non-empty array"),
    ({"and": [{"capacity": {"eq": "100"}}]}, "number"),
    ({"and": [{"capacity": {"in": [1, "2"]}}]}, "number"),
    ({"and": [{"is_virtual": "true"}]}, "boolean"),
    ({"and": [{"name": {"eq": 5}}]}, "string"),
    ({"and": [{"name": "a", "city": "b"}]}, "exactly one field"),
    ({"and": [{}]}, "exactly one field"),
    ({"and": [{"name": {"eq": "a", "like": "b"}}]}, "exactly one operator"),
    ({"and": [{"name": ["a"]}]}, "scalar"),
    ({"and": [{"name": None}]}, "scalar"),
    ({"and": {"name": "a"}}, "array"),
    ({"not": [{"name": "a"}]}, "Unknown key 'not'"),
    ({"name": "a"}, "Unknown key 'name'"),
    (["name"], "expected an object"),
]


@pytest.mark.parametrize("tree,message", BAD_FILTERS)
def test_invalid_filters_are_400(client: httpx.Client, auth: dict, tree: object, message: str) -> None:
    resp = search(client, auth, "events", tree)
    assert resp.status_code == 400, resp.text
    body = resp.json()
    assert body["error"] == "bad_request"
    assert message in body["message"], body["message"]
    assert "event_filter" in body["message"] or "Unknown key" in body["message"]


@pytest.mark.parametrize("body", [{"limit": 0}, {"limit": -5}, {"offset": -1}, {"limit": "abc"},
                                  {"limit": 1.5}, {"limit": True}, {"contact_filter": {}, "sort": "x"}])
def test_invalid_paging_and_body_are_400(client: httpx.Client, auth: dict, body: dict) -> None:
    resp = client.post("/3.1/contact/search", headers=auth, json=body)
    assert resp.status_code == 400 and resp.json()["error"] == "bad_request"


def test_malformed_body_and_query_are_400(client: httpx.Client, auth: dict) -> None:
    assert client.post("/3.1/contact/search", headers=auth, content=b"{nope").status_code == 400
    assert client.post("/3.1/contact/search", headers=auth, content=b"[1]").status_code == 400
    assert client.post("/3.1/contact/search?limit=x", headers=auth, json={}).status_code == 400


def test_every_field_accepts_its_operators(client: httpx.Client, auth: dict) -> None:
    samples = {"string": "x", "id": "ffffffffffffffffffffffff", "integer": 1, "number": 1.5,
               "boolean": True, "datetime": "2024-01-01T00:00:00Z"}
    for table, fields in FIELDS.items():
        for field, ftype in fields.items():
            for op in OPERATORS[ftype]:
                value = [samples[ftype]] if op == "in" else samples[ftype]
                resp = search(client, auth, table, {"and": [{field: {op: value}}]}, limit=1)
                assert resp.status_code == 200, (table, field, op, resp.text)
