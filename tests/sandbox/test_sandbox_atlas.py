"""Atlas simulator: auth, Content-Type quirk, templates, entity CRUD, links, test hooks, faults."""

from __future__ import annotations

import asyncio
import base64
import re
import time
from collections import Counter

import httpx
import pytest

from crmql.sandbox import CREDENTIALS, SandboxServer, connection_settings
from crmql.sandbox.atlas.simulator import AtlasSimulator
from crmql.sandbox.atlas.filter import FIELD_TYPES
from test_sandbox_atlas_support import (  # noqa: F401  (fixtures)
    ATLAS, CF, COMPANIES, CONTACTS, ENTITIES, JSON, LINKS, P, SALES, TOKEN, _atlas_http, _fresh_atlas, as_served,
    atlas, atlas_token, ids, list_all, listing, raw,
)

UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")
UNAUTHORIZED = {"message": "Unauthorized"}


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}", **JSON}


# -------------------------------------------------------------------- auth
def test_token_with_body_credentials(raw: httpx.Client) -> None:
    resp = raw.post(TOKEN, data={"grant_type": "client_credentials", **ATLAS})
    assert resp.status_code == 200
    body = resp.json()
    assert set(body) == {"access_token", "token_type", "expires_in"}
    assert body["token_type"] == "Bearer" and body["expires_in"] == 3599  # settings.token_ttl_s
    assert raw.get(f"{P}/template/sale", headers=_bearer(body["access_token"])).status_code == 200


def test_token_with_basic_auth(raw: httpx.Client) -> None:
    basic = base64.b64encode(f"{ATLAS['client_id']}:{ATLAS['client_secret']}".encode()).decode()
    resp = raw.post(TOKEN, data={"grant_type": "client_credentials"}, headers={"Authorization": f"Basic {basic}"})
    assert resp.status_code == 200
    assert raw.get(f"{P}/template/company", headers=_bearer(resp.json()["access_token"])).status_code == 200
    via_httpx_auth = raw.post(TOKEN, data={"grant_type": "client_credentials"},
                              auth=(ATLAS["client_id"], ATLAS["client_secret"]))
    assert via_httpx_auth.status_code == 200


def test_token_errors(raw: httpx.Client) -> None:
    wrong = raw.post(TOKEN, data={"grant_type": "client_credentials", "client_id": ATLAS["client_id"],
                                  "client_secret": "nope"})
    assert wrong.status_code == 401 and wrong.json() == {"message": "Invalid client credentials"}
    basic_wrong = raw.post(TOKEN, data={"grant_type": "client_credentials"}, auth=(ATLAS["client_id"], "x"))
    assert basic_wrong.status_code == 401
    azavista = CREDENTIALS["azavista"]
    other_vendor = raw.post(TOKEN, data={"grant_type": "client_credentials", "client_id": azavista["client_id"],
                                         "client_secret": azavista["client_secret"]})
    assert other_vendor.status_code == 401
    for grant in ("password", "refresh_token", ""):
        resp = raw.post(TOKEN, data={"grant_type": grant, **ATLAS})
        assert resp.status_code == 400 and "client_credentials" in resp.json()["message"]
    as_json = raw.post(TOKEN, json={"grant_type": "client_credentials", **ATLAS})  # must be form-encoded
    assert as_json.status_code == 401


def test_bearer_required(raw: httpx.Client, server: SandboxServer) -> None:
    for headers in (JSON, {"Authorization": "Bearer nope", **JSON}, {"Authorization": "Basic abc", **JSON}):
        resp = raw.get(ENTITIES, params={"type": "sale"}, headers=headers)
        assert resp.status_code == 401 and resp.json() == UNAUTHORIZED
    with httpx.Client(base_url=server.base_url("azavista")) as az:
        creds = CREDENTIALS["azavista"]
        token = az.post("/3.0/oauth/token", data={"grant_type": "client_credentials", "client_id": creds["client_id"],
                                                  "client_secret": creds["client_secret"]}).json()["access_token"]
    assert raw.get(f"{P}/template/sale", headers=_bearer(token)).status_code == 401  # scoped per vendor


def test_token_expires(server: SandboxServer, raw: httpx.Client) -> None:
    server.settings.token_ttl_s = 0.3
    resp = raw.post(TOKEN, data={"grant_type": "client_credentials", **ATLAS})
    assert resp.json()["expires_in"] == 0
    headers = _bearer(resp.json()["access_token"])
    assert raw.get(f"{P}/template/sale", headers=headers).status_code == 200
    time.sleep(0.35)
    expired = raw.get(f"{P}/template/sale", headers=headers)
    assert expired.status_code == 401 and expired.json() == UNAUTHORIZED
    assert expired.headers["WWW-Authenticate"].startswith("Bearer")


# ------------------------------------------------------------ content-type
def test_content_type_required_on_every_request(raw: httpx.Client) -> None:
    auth = {"Authorization": f"Bearer {atlas_token(raw)}"}
    entity = SALES[0]["id"]
    cases = [("GET", ENTITIES + "?type=sale"), ("GET", f"{P}/template/sale"), ("GET", f"{ENTITIES}/{entity}"),
             ("GET", f"{ENTITIES}/{entity}/links"), ("DELETE", f"{ENTITIES}/{entity}")]
    for method, path in cases:
        for extra in ({}, {"Content-Type": "text/plain"}, {"Content-Type": "application/x-www-form-urlencoded"}):
            resp = raw.request(method, path, headers={**auth, **extra})
            assert resp.status_code == 400, (method, path, extra)
            assert resp.json() == {"message": "Content-Type must be application/json"}
    ok = raw.get(f"{P}/template/sale", headers={**auth, "Content-Type": "application/json; charset=utf-8"})
    assert ok.status_code == 200
    # auth is checked first
    assert raw.get(f"{P}/template/sale").json() == UNAUTHORIZED


# --------------------------------------------------------------- templates
def _template_fields(atlas: httpx.Client, entity_type: str) -> list[dict]:
    resp = atlas.get(f"{P}/template/{entity_type}")
    assert resp.status_code == 200
    sections = resp.json()["sections"]
    assert set(resp.json()) == {"sections"} and all(s["name"] and s["fields"] for s in sections)
    return [f for s in sections for f in s["fields"]]


BUILTIN = {
    "company": {"company-name": "string", "company-website": "string", "company-industry": "single-select",
                "company-country": "string", "company-employees": "decimal", "company-owner": "user",
                "company-description": "text", "company-created": "timestamp"},
    "contact": {"contact-name": "string", "contact-email": "string", "contact-phone": "string",
                "contact-job-title": "string", "contact-birthday": "date", "contact-owner": "user",
                "contact-notes": "text", "contact-created": "timestamp"},
    "sale": {"sale-name": "string", "sale-balance": "decimal", "sale-currency": "single-select",
             "sale-status": "single-select", "sale-close-date": "date", "sale-owner": "user",
             "sale-probability": "decimal", "sale-description": "text", "sale-created": "timestamp"},
}


@pytest.mark.parametrize("entity_type", ["company", "contact", "sale"])
def test_templates(atlas: httpx.Client, entity_type: str) -> None:
    fields = _template_fields(atlas, entity_type)
    by_id = {f["id"]: f for f in fields}
    for f in fields:
        assert set(f) == {"id", "label", "type", "default-value", "config", "required"}
        assert f["type"] in FIELD_TYPES
        if f["type"] in ("single-select", "multi-select"):
            labels = [o["label"] for o in f["config"]["options"]]
            assert labels and len(set(labels)) == len(labels)
        else:
            assert "options" not in f["config"]
    assert {i: by_id[i]["type"] for i in BUILTIN[entity_type]} == BUILTIN[entity_type]
    assert [f["id"] for f in fields if f["required"]] == [f"{entity_type}-name"]
    custom = [f for f in fields if f["id"] not in BUILTIN[entity_type]]
    assert all(UUID.match(f["id"]) for f in custom)
    assert {f["type"] for f in custom} == set(FIELD_TYPES)  # every type has a custom field
    assert {f["id"] for f in custom} == set(CF[entity_type].values())


def test_template_details(atlas: httpx.Client) -> None:
    sale = {f["id"]: f for f in _template_fields(atlas, "sale")}
    assert sale["sale-balance"]["config"] == {"currency": "EUR"}
    assert [o["label"] for o in sale["sale-status"]["config"]["options"]] == ["open", "won", "lost"]
    assert [o["label"] for o in sale["sale-currency"]["config"]["options"]] == ["EUR", "USD", "GBP"]
    assert sale["sale-status"]["default-value"] == "open"
    assert [o["label"] for o in sale[CF["sale"]["deal_type"]]["config"]["options"]] == ["New", "Upsell", "Renewal"]
    company = {f["label"]: f for f in _template_fields(atlas, "company")}
    assert {"Region", "region ", "Größe", "Account Tier", "Segments", "ARR"} <= set(company)
    assert [o["label"] for o in company["Größe"]["config"]["options"]] == ["Klein", "Mittel", "Groß"]
    assert company["ARR"]["config"]["currency"] == "EUR"
    contact_labels = [f["label"] for f in _template_fields(atlas, "contact")]
    assert "Email" in contact_labels and "E-mail" in contact_labels
    unknown = atlas.get(f"{P}/template/deal")
    assert unknown.status_code == 400 and "Unknown entity type 'deal'" in unknown.json()["message"]


def test_template_ids_depend_on_the_seed(server: SandboxServer, atlas: httpx.Client) -> None:
    first = [f["id"] for f in _template_fields(atlas, "contact")]
    assert [f["id"] for f in _template_fields(atlas, "contact")] == first
    server.settings.seed = 7
    other = [f["id"] for f in _template_fields(atlas, "contact")]
    assert other[:8] == first[:8] and set(other[8:]).isdisjoint(first[8:])


# --------------------------------------------------------------------- CRUD
def test_get_entity_and_404(server: SandboxServer, atlas: httpx.Client) -> None:
    base = server.base_url("atlas")
    for row in (COMPANIES[3], CONTACTS[4000], SALES[2999]):
        resp = atlas.get(f"{ENTITIES}/{row['id']}")
        assert resp.status_code == 200 and resp.json() == as_served(row, base)
    missing = atlas.get(f"{ENTITIES}/00000000-0000-4000-8000-000000000000")
    assert missing.status_code == 404 and missing.json() == {"message": "Entity not found"}


def test_create_get_update_delete(server: SandboxServer, atlas: httpx.Client) -> None:
    topics = CF["contact"]["topics"]
    payload = {"type": "contact", "fields": {
        "contact-name": "Eric Ünal", "contact-email": "Eric@SomethingRandom.example",
        "contact-birthday": "1990-02-28", "contact-created": "2025-01-02T10:00:00+01:00",
        CF["contact"]["score"]: 12.5, CF["contact"]["lead_source"]: "Event",
        topics: ["Webinars", "Tips & Tricks", "Webinars"], CF["contact"]["buddy"]: "5b10a2844c20165700ede21g"}}
    created = atlas.post(ENTITIES, json=payload)
    assert created.status_code == 201, created.text
    entity = created.json()
    assert UUID.match(entity["id"]) and entity["type"] == "contact"
    assert entity["fields"]["contact-created"] == "2025-01-02T09:00:00.000Z"  # normalised to UTC
    assert entity["fields"][topics] == ["Webinars", "Tips & Tricks"]
    assert entity["_links"]["self"]["href"] == f"{server.base_url('atlas')}{ENTITIES}/{entity['id']}"
    assert atlas.get(f"{ENTITIES}/{entity['id']}").json() == entity
    found = listing(atlas, {"type": "contact", "fields.contact-email[contains]": "somethingrandom"}).json()
    assert ids(found["items"]) == [entity["id"]]
    # partial update; null removes a value
    updated = atlas.put(f"{ENTITIES}/{entity['id']}", json={"fields": {"contact-name": "Erica Ünal",
                                                                       "contact-email": None, topics: []}})
    assert updated.status_code == 200
    fields = updated.json()["fields"]
    assert fields["contact-name"] == "Erica Ünal" and "contact-email" not in fields and topics not in fields
    assert fields["contact-birthday"] == "1990-02-28"
    assert atlas.get(f"{ENTITIES}/{entity['id']}").json()["fields"] == fields
    deleted = atlas.delete(f"{ENTITIES}/{entity['id']}")
    assert deleted.status_code == 200 and deleted.json()["id"] == entity["id"]
    assert atlas.get(f"{ENTITIES}/{entity['id']}").status_code == 404
    assert atlas.delete(f"{ENTITIES}/{entity['id']}").status_code == 404
    assert atlas.put(f"{ENTITIES}/{entity['id']}", json={"fields": {}}).status_code == 404


def test_create_applies_defaults(atlas: httpx.Client) -> None:
    resp = atlas.post(ENTITIES, json={"type": "sale", "fields": {"sale-name": "Tiny deal"}})
    assert resp.status_code == 201
    fields = resp.json()["fields"]
    assert fields["sale-status"] == "open" and fields["sale-currency"] == "EUR"
    assert re.match(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$", fields["sale-created"])
    total = listing(atlas, {"type": "sale"}).json()["total"]
    assert total == len(SALES) + 1


BAD_WRITES = [
    ({"type": "deal", "fields": {}}, "Unknown entity type 'deal'"),
    ({"fields": {"sale-name": "x"}}, "Missing 'type'"),
    ({"type": "sale", "fields": []}, "'fields' must be an object"),
    ({"type": "sale", "fields": {}}, "Field 'sale-name' is required"),
    ({"type": "sale", "fields": {"sale-name": ""}}, "Field 'sale-name' is required"),
    ({"type": "sale", "fields": {"sale-name": "x", "sale-nope": 1}}, "Unknown field 'sale-nope'"),
    ({"type": "sale", "fields": {"sale-name": "x", "sale-close-date": "31-12-2024"}},
     "Invalid value for field 'sale-close-date' (date)"),
    ({"type": "sale", "fields": {"sale-name": "x", "sale-balance": "100"}}, "expected a number"),
    ({"type": "sale", "fields": {"sale-name": "x", "sale-balance": True}}, "expected a number"),
    ({"type": "sale", "fields": {"sale-name": "x", "sale-created": "now"}}, "ISO-8601"),
    ({"type": "sale", "fields": {"sale-name": "x", "sale-status": "pending"}}, "Invalid option \"pending\""),
    ({"type": "sale", "fields": {"sale-name": 5}}, "expected a string"),
    ({"type": "sale", "fields": {"sale-name": "x", CF["sale"]["competitors"]: "HubSpot"}}, "array of option labels"),
    ({"type": "sale", "fields": {"sale-name": "x", CF["sale"]["competitors"]: ["Oracle"]}}, "Invalid option \"Oracle\""),
]


@pytest.mark.parametrize("payload,message", BAD_WRITES)
def test_invalid_creates_are_400(atlas: httpx.Client, payload: dict, message: str) -> None:
    resp = atlas.post(ENTITIES, json=payload)
    assert resp.status_code == 400 and message in resp.json()["message"], resp.text


def test_invalid_updates_and_bodies(atlas: httpx.Client) -> None:
    target = f"{ENTITIES}/{SALES[0]['id']}"
    assert "required" in atlas.put(target, json={"fields": {"sale-name": None}}).json()["message"]
    assert atlas.put(target, json={"fields": {"sale-close-date": "2024-1-1"}}).status_code == 400
    assert atlas.put(target, json={"name": "x"}).status_code == 400
    assert atlas.put(target, content=b"{nope").json() == {"message": "Request body is not valid JSON"}
    assert atlas.post(ENTITIES, content=b"[1]").status_code == 400
    assert atlas.get(f"{ENTITIES}/{SALES[0]['id']}").json()["fields"] == SALES[0]["fields"]


# -------------------------------------------------------------------- links
_COMPANY_IDS = {c["id"] for c in COMPANIES}  # built once, not once per link (2.5 s at collection, in every worker)
COMPANY_OF = {r["entity_id"]: r["other_entity_id"] for r in LINKS if r["other_type"] == "company"
              and r["entity_id"] not in _COMPANY_IDS}


def test_links_both_directions(server: SandboxServer, atlas: httpx.Client) -> None:
    base = server.base_url("atlas")
    contact = CONTACTS[10]
    company_id = COMPANY_OF[contact["id"]]
    resp = atlas.get(f"{ENTITIES}/{contact['id']}/links")
    assert resp.status_code == 200
    body = resp.json()
    expected = [r for r in LINKS if r["entity_id"] == contact["id"]]
    assert body["total"] == len(expected)
    item = next(i for i in body["items"] if i["entity"]["id"] == company_id)
    assert "employee" in item["roles"] and item["entity"]["type"] == "company"
    assert set(item["entity"]) == {"id", "type", "_links"}
    assert item["entity"]["_links"]["self"]["href"] == f"{base}{ENTITIES}/{company_id}"
    assert item["_links"]["self"]["href"] == f"{base}{ENTITIES}/{contact['id']}/links/{company_id}"
    back = atlas.get(f"{ENTITIES}/{company_id}/links/{contact['id']}")
    assert back.status_code == 200 and back.json()["roles"] == item["roles"]
    assert back.json()["entity"]["type"] == "contact"
    single = atlas.get(item["_links"]["self"]["href"]).json()
    assert single == item


def test_links_pagination_and_type_filter(atlas: httpx.Client) -> None:
    per_company = Counter(r["entity_id"] for r in LINKS)
    company_id = max((c["id"] for c in COMPANIES), key=lambda i: per_company[i])
    expected = [r for r in LINKS if r["entity_id"] == company_id]
    assert len(expected) > 25
    items, responses = list_all(atlas, {"limit": 4}, path=f"{ENTITIES}/{company_id}/links")
    assert len(items) == len(expected) == responses[0].json()["total"]
    assert {i["entity"]["id"] for i in items} == {r["other_entity_id"] for r in expected}
    assert {tuple(i["roles"]) for i in items} == {tuple(r["roles"]) for r in expected}
    assert len(responses) == -(-len(expected) // 4)
    for other_type in ("contact", "sale", "company"):
        typed, _ = list_all(atlas, {"type": other_type, "limit": 100}, path=f"{ENTITIES}/{company_id}/links")
        assert sorted(i["entity"]["id"] for i in typed) == sorted(
            r["other_entity_id"] for r in expected if r["other_type"] == other_type)
    won = list_all(atlas, {"type": "sale", "fields.sale-status": "won", "sort-by": "sale-balance"},
                   path=f"{ENTITIES}/{company_id}/links")[0]
    sales = {s["id"]: s for s in SALES}
    assert all(sales[i["entity"]["id"]]["fields"]["sale-status"] == "won" for i in won)
    bad = atlas.get(f"{ENTITIES}/{company_id}/links", params={"fields.sale-status": "won"})
    assert bad.status_code == 400 and "'type'" in bad.json()["message"]
    assert atlas.get(f"{ENTITIES}/{company_id}/links", params={"type": "deal"}).status_code == 400


def test_link_write_operations(atlas: httpx.Client) -> None:
    contact, sale = CONTACTS[0]["id"], SALES[0]["id"]
    existing = {r["other_entity_id"] for r in LINKS if r["entity_id"] == sale}
    if contact in existing:
        contact = next(c["id"] for c in CONTACTS if c["id"] not in existing)
    assert atlas.get(f"{ENTITIES}/{sale}/links/{contact}").json() == {"message": "Link not found"}
    created = atlas.post(f"{ENTITIES}/{sale}/links", json={"entity-id": contact, "roles": ["champion"]})
    assert created.status_code == 201 and created.json()["roles"] == ["champion"]
    assert created.json()["entity"]["id"] == contact
    assert atlas.get(f"{ENTITIES}/{contact}/links/{sale}").json()["roles"] == ["champion"]
    again = atlas.post(f"{ENTITIES}/{contact}/links", json={"entity-id": sale})
    assert again.status_code == 409
    updated = atlas.put(f"{ENTITIES}/{contact}/links/{sale}", json={"roles": ["decision-maker", "champion"]})
    assert updated.status_code == 200 and updated.json()["entity"]["id"] == sale
    assert atlas.get(f"{ENTITIES}/{sale}/links/{contact}").json()["roles"] == ["decision-maker", "champion"]
    types = {i["entity"]["id"] for i in list_all(atlas, {"type": "contact"}, path=f"{ENTITIES}/{sale}/links")[0]}
    assert contact in types
    deleted = atlas.delete(f"{ENTITIES}/{sale}/links/{contact}")
    assert deleted.status_code == 200 and deleted.json()["roles"] == ["decision-maker", "champion"]
    assert atlas.get(f"{ENTITIES}/{contact}/links/{sale}").status_code == 404
    assert atlas.delete(f"{ENTITIES}/{sale}/links/{contact}").status_code == 404
    # errors
    unknown = "00000000-0000-4000-8000-000000000000"
    assert atlas.get(f"{ENTITIES}/{unknown}/links").json() == {"message": "Entity not found"}
    assert atlas.post(f"{ENTITIES}/{sale}/links", json={"entity-id": unknown}).status_code == 404
    assert atlas.post(f"{ENTITIES}/{sale}/links", json={"entity-id": sale}).status_code == 400
    assert atlas.post(f"{ENTITIES}/{sale}/links", json={"entity-id": contact, "roles": "x"}).status_code == 400
    assert atlas.post(f"{ENTITIES}/{sale}/links", json={"roles": []}).status_code == 400


def test_deleting_an_entity_removes_its_links(atlas: httpx.Client) -> None:
    contact = CONTACTS[5]["id"]
    company = COMPANY_OF[contact]
    before = atlas.get(f"{ENTITIES}/{company}/links").json()["total"]
    assert atlas.delete(f"{ENTITIES}/{contact}").status_code == 200
    assert atlas.get(f"{ENTITIES}/{company}/links").json()["total"] == before - 1
    assert atlas.get(f"{ENTITIES}/{company}/links/{contact}").status_code == 404


# -------------------------------------------------------------------- hooks
def test_state_hook_is_reachable(server: SandboxServer) -> None:
    simulator = server.state.vendor("atlas")
    assert isinstance(simulator, AtlasSimulator)
    assert server.app.state.sandbox.vendor("atlas") is simulator
    with pytest.raises(KeyError):
        server.state.vendor("nope")
    assert connection_settings(server.url)["atlas"] == {
        "vendor": "atlas", "base_url": server.base_url("atlas"), **ATLAS}


def test_add_and_rename_custom_fields(server: SandboxServer, atlas: httpx.Client) -> None:
    simulator = server.state.vendor("atlas")
    before = _template_fields(atlas, "sale")
    field_id = simulator.add_custom_field("sale", "Payment Terms", "single-select", ["Net 30", "Net 60"])
    assert UUID.match(field_id) and simulator.modified
    after = _template_fields(atlas, "sale")
    assert after[:-1] == before
    assert after[-1] == {"id": field_id, "label": "Payment Terms", "type": "single-select",
                         "default-value": None, "config": {"options": [{"label": "Net 30"}, {"label": "Net 60"}]},
                         "required": False}
    assert listing(atlas, {"type": "sale", f"fields.{field_id}": "Net 30"}).json()["total"] == 0
    target = SALES[7]["id"]
    assert atlas.put(f"{ENTITIES}/{target}", json={"fields": {field_id: "Net 30"}}).status_code == 200
    assert ids(listing(atlas, {"type": "sale", f"fields.{field_id}": "Net 30"}).json()["items"]) == [target]
    assert atlas.put(f"{ENTITIES}/{target}", json={"fields": {field_id: "Net 90"}}).status_code == 400
    simulator.rename_field("sale", field_id, "Zahlungsziel")
    simulator.rename_field("sale", "sale-balance", "Amount")
    labels = {f["id"]: f["label"] for f in _template_fields(atlas, "sale")}
    assert labels[field_id] == "Zahlungsziel" and labels["sale-balance"] == "Amount"
    assert simulator.template("sale")["sections"][-1]["fields"][-1]["label"] == "Zahlungsziel"
    with pytest.raises(KeyError):
        simulator.rename_field("sale", "nope", "x")
    with pytest.raises(ValueError):
        simulator.add_custom_field("sale", "Broken", "select-one")
    with pytest.raises(ValueError):
        simulator.add_custom_field("sale", "No options", "multi-select")
    text_id = simulator.add_custom_field("contact", "Hobby", "text")
    assert listing(atlas, {"type": "contact", f"fields.{text_id}": "x"}).json()["total"] == 0
    simulator.remove_field("sale", field_id)
    assert field_id not in {f["id"] for f in _template_fields(atlas, "sale")}
    assert field_id not in atlas.get(f"{ENTITIES}/{target}").json()["fields"]
    assert listing(atlas, {"type": "sale", f"fields.{field_id}": "Net 30"}).status_code == 400
    region = CF["company"]["region"]
    simulator.remove_field("company", region)
    assert all(region not in e["fields"] for e in simulator.entities("company"))
    assert any(region in r["fields"] for r in COMPANIES)  # the generated records are untouched
    simulator.reset()
    assert not simulator.modified
    assert _template_fields(atlas, "sale") == before


# ------------------------------------------------------------------- faults
def test_faults_and_request_log_apply_to_atlas(server: SandboxServer, atlas: httpx.Client) -> None:
    server.reset_log()
    server.settings.faults = "503@2"
    assert atlas.get(f"{P}/template/sale").status_code == 200
    failed = atlas.get(f"{P}/template/sale")
    assert failed.status_code == 503 and failed.json()["message"]
    assert atlas_token(atlas)  # token requests are not counted and never faulted
    assert atlas.get(f"{P}/template/sale").status_code == 200
    assert server.request_log == [("GET", "/atlas/api/1.0/workspace/CRM/template/sale", 200),
                                  ("GET", "/atlas/api/1.0/workspace/CRM/template/sale", 503),
                                  ("POST", "/atlas/api/1.0/oauth/token", 200),
                                  ("GET", "/atlas/api/1.0/workspace/CRM/template/sale", 200)]


def test_expire_fault_revokes_atlas_tokens(server: SandboxServer, atlas: httpx.Client) -> None:
    server.reset_log()
    server.settings.faults = "expire@1"
    assert atlas.get(f"{P}/template/sale").json() == UNAUTHORIZED
    atlas.headers["Authorization"] = f"Bearer {atlas_token(atlas)}"
    assert atlas.get(f"{P}/template/sale").status_code == 200


def test_latency_applies_to_atlas(server: SandboxServer, atlas: httpx.Client) -> None:
    server.settings.latency_ms = 500
    headers = dict(atlas.headers)

    async def burst() -> list[int]:
        async with httpx.AsyncClient(base_url=server.base_url("atlas"), headers=headers, timeout=10) as ac:
            responses = await asyncio.gather(*[ac.get(ENTITIES, params={"type": "sale", "limit": 1})
                                               for _ in range(6)])
            return [r.status_code for r in responses]

    start = time.perf_counter()
    assert asyncio.run(burst()) == [200] * 6
    assert 0.5 <= time.perf_counter() - start < 0.6 * 6 * 0.5  # well under the 3 s of six in a row
    start = time.perf_counter()
    atlas_token(atlas)
    assert time.perf_counter() - start >= 0.5
