"""The casavi Manager API v2 simulator over real HTTP: authentication (current and deprecated
login, refresh, the ``token`` header, expiry and revocation), lists under every paging reading
(every record once, in order), the filters under their readings (checked against the simulator's
own filter code on the seeded records), reads by percent-encoded id, and the errors."""

from __future__ import annotations

import itertools
import json
import re
import time
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from urllib.parse import quote

import httpx
import pytest

from crmql.sandbox import SandboxServer
from crmql.sandbox.casavi.data import internal_records, served_table
from crmql.sandbox.casavi.filter import parse_filter, roles_of, select
from crmql.sandbox.casavi.world import SPECIAL_CONTACT_IDS, SPECIAL_PROPERTY_IDS, is_active
from crmql.surfaces.cli import main
from casavi_support import KEY, OTHER_SEED, SECRET, casavi_server, login, scan

UTC_MS = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$")
#: the variants the lead's contract fixes (names, values, default first)
CONTRACT_VARIANTS = {
    "casavi.page_size_param": ["limit", "pageSize", "size"], "casavi.page_size_max": ["100", "50", "500"],
    "casavi.oversize": ["clamp", "reject"], "casavi.page_base": ["0", "1"],
    "casavi.next_link": ["absolute", "path", "href"], "casavi.last_page": ["absent", "null"],
    "casavi.bool_filters": ["honoured", "true_only", "ignored"], "casavi.modified_after": ["exclusive", "inclusive"],
    "casavi.modified_format": ["lenient", "strict"], "casavi.postal_code": ["string", "number"],
    "casavi.refresh": ["served", "absent"],
}


@pytest.fixture(scope="module")
def server() -> Iterator[SandboxServer]:
    """Overrides the sandbox conftest's server (its autouse fixture resets this one's settings)."""
    with casavi_server() as srv:
        yield srv


@pytest.fixture
def client(server: SandboxServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server.base_url("casavi"), timeout=30) as c:
        yield c


@pytest.fixture
def auth(client: httpx.Client) -> dict[str, str]:
    return login(client)


def ids(records: list[dict]) -> list[str]:
    return [r["id"] for r in records]


def test_sandbox_variants_lists_the_contracts_readings_with_their_sources(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["sandbox", "variants", "--format", "json"]) == 0
    rows = [r for r in json.loads(capsys.readouterr().out) if r["vendor"] == "casavi"]
    assert {r["key"]: r["values"] for r in rows} == CONTRACT_VARIANTS
    assert all(r["default"] == r["values"][0] and r["source"].startswith("vendor-notes") and r["meaning"] for r in rows)


# --------------------------------------------------------------------------------------------- auth
def test_authenticate_answers_a_token_and_its_expiry(server: SandboxServer, client: httpx.Client) -> None:
    server.settings.token_ttl_s = 30 * 86400  # a month, as integrators report
    answer = client.post("/v2/authenticate", json={"key": KEY, "secret": SECRET})
    assert answer.status_code == 200 and set(answer.json()) == {"token", "expiresAt"}
    expires = answer.json()["expiresAt"]
    assert UTC_MS.match(expires), expires
    moment = datetime.fromisoformat(expires.replace("Z", "+00:00"))
    assert timedelta(days=29) < moment - datetime.now(timezone.utc) <= timedelta(days=30)
    assert client.get("/v2/contacts", headers={"token": answer.json()["token"]}).status_code == 200


def test_the_deprecated_login_is_mapped(client: httpx.Client) -> None:
    answer = client.post("/v2/authenticate", json={"apiKey": KEY, "email": "ignored@example.org", "password": SECRET})
    assert answer.status_code == 200
    assert client.get("/v2/units", headers={"token": answer.json()["token"]}).status_code == 200
    no_email = client.post("/v2/authenticate", json={"apiKey": KEY, "password": SECRET})
    assert no_email.status_code == 200
    wrong = client.post("/v2/authenticate", json={"apiKey": KEY, "email": "x@y.de", "password": "nope"})
    assert (wrong.status_code, wrong.json()) == (401, {"message": "Invalid key or secret"})


@pytest.mark.parametrize("body, status", [
    ({"key": KEY, "secret": "wrong"}, 401), ({"key": "wrong", "secret": SECRET}, 401),
    ({"key": KEY}, 400), ({"secret": SECRET}, 400), ({"key": "", "secret": SECRET}, 400),
    ({"key": KEY, "secret": 5}, 400), ([KEY, SECRET], 400), ("not json", 400), (None, 400),
])
def test_authenticate_refusals_are_json_messages(client: httpx.Client, body: object, status: int) -> None:
    if body is None:
        answer = client.post("/v2/authenticate", content=b"")
    elif body == "not json":
        answer = client.post("/v2/authenticate", content=b"{key", headers={"Content-Type": "application/json"})
    else:
        answer = client.post("/v2/authenticate", json=body)
    assert answer.status_code == status
    assert set(answer.json()) == {"message"} and answer.json()["message"]
    assert "token" not in answer.json()


def test_every_api_request_needs_the_token_header(client: httpx.Client, auth: dict[str, str]) -> None:
    for headers in ({}, {"token": "not-a-token"}, {"Authorization": f"Bearer {auth['token']}"}, {"token": ""}):
        for path in ("/v2/contacts", "/v2/properties/P-00101", "/v2/units"):
            answer = client.get(path, headers=headers)
            assert (answer.status_code, answer.json()) == (401, {"message": "Unauthorized"}), (headers, path)


def test_refresh_gives_a_new_token_and_the_old_one_stays_valid(client: httpx.Client, auth: dict[str, str]) -> None:
    answer = client.post("/v2/authenticate/refresh", json={"apiKey": KEY, "token": auth["token"]})
    assert answer.status_code == 200 and UTC_MS.match(answer.json()["expiresAt"])
    new = answer.json()["token"]
    assert new != auth["token"]
    for token in (new, auth["token"]):
        assert client.get("/v2/properties", headers={"token": token}).status_code == 200
    refused = [client.post("/v2/authenticate/refresh", json=body) for body in
               ({"apiKey": "other", "token": new}, {"apiKey": KEY, "token": "unknown"})]
    assert [(r.status_code, set(r.json())) for r in refused] == [(401, {"message"})] * 2
    for body in ({"apiKey": KEY}, {"token": new}, {"key": KEY, "secret": SECRET}):
        assert client.post("/v2/authenticate/refresh", json=body).status_code == 400


def test_refresh_absent_is_a_404(server: SandboxServer, client: httpx.Client, auth: dict[str, str]) -> None:
    server.settings.variants = {"casavi.refresh": "absent"}
    answer = client.post("/v2/authenticate/refresh", json={"apiKey": KEY, "token": auth["token"]})
    assert (answer.status_code, answer.json()) == (404, {"message": "Not found"})
    assert client.post("/v2/authenticate", json={"key": KEY, "secret": SECRET}).status_code == 200


def test_tokens_expire_and_are_revoked_by_the_expire_fault(server: SandboxServer, client: httpx.Client) -> None:
    server.settings.token_ttl_s = 0.2
    short = login(client)
    time.sleep(0.4)  # past its lifetime (monotonic clock): no assert on time
    assert client.get("/v2/contacts", headers=short).status_code == 401
    assert client.post("/v2/authenticate/refresh", json={"apiKey": KEY, "token": short["token"]}).status_code == 401
    server.settings.token_ttl_s = 3599
    token = login(client)
    server.reset_log()  # fault numbering restarts: the token path is never counted
    server.settings.faults = "expire@2"
    assert client.get("/v2/contacts", headers=token).status_code == 200
    assert client.get("/v2/contacts", headers=token).status_code == 401  # revoked before the second request
    assert client.get("/v2/contacts", headers=login(client)).status_code == 200  # a new login works


# ------------------------------------------------------------------------------------------- paging
@pytest.mark.parametrize("param, base, form", list(itertools.product(("limit", "pageSize", "size"), ("0", "1"),
                                                                     ("absolute", "path", "href"))))
def test_paging_returns_every_record_once_in_order(server: SandboxServer, client: httpx.Client, auth: dict[str, str],
                                                    param: str, base: str, form: str) -> None:
    server.settings.variants = {"casavi.page_size_param": param, "casavi.page_base": base, "casavi.next_link": form}
    got, sizes, links = scan(client, auth, "properties", {param: 40, "modifiedAfter": "2024-01-01T00:00:00.000Z"})
    assert ids(got) == ids(served_table(42, "properties"))  # modifiedAfter 2024-01-01 keeps every property
    assert sizes == [40] * 7 + [20] and links[-1] is None
    first = links[0]
    href = first["href"] if form == "href" else first
    assert isinstance(first, dict) == (form == "href") and href.startswith("/casavi/v2/properties?") == (form == "path")
    assert f"page={int(base) + 1}" in href and f"{param}=40" in href and "modifiedAfter=2024-01-01T00" in href


@pytest.mark.parametrize("param", ["pageSize", "size"])
def test_a_size_under_a_name_the_vendor_does_not_read_gives_pages_of_25(server: SandboxServer, client: httpx.Client,
                                                                       auth: dict[str, str], param: str) -> None:
    server.settings.variants = {"casavi.page_size_param": param}
    got, sizes, _ = scan(client, auth, "properties", {"limit": 100})
    assert ids(got) == ids(served_table(42, "properties")) and sizes == [25] * 12


@pytest.mark.parametrize("largest, oversize", list(itertools.product(("100", "50", "500"), ("clamp", "reject"))))
def test_the_page_size_maximum_is_clamped_or_refused(server: SandboxServer, client: httpx.Client, auth: dict[str, str],
                                                     largest: str, oversize: str) -> None:
    """A scan of properties (300) at the maximum size; one page of units (more than 500) at the
    maximum and one above it (clamped to the maximum or refused)."""
    server.settings.variants = {"casavi.page_size_max": largest, "casavi.oversize": oversize}
    at_max, sizes, _ = scan(client, auth, "properties", {"limit": largest})
    total = len(served_table(42, "properties"))
    assert ids(at_max) == ids(served_table(42, "properties")) and sizes[0] == min(int(largest), total)
    assert len(sizes) == -(-total // int(largest))
    assert len(served_table(42, "units")) > 500
    full = client.get("/v2/units", params={"limit": int(largest)}, headers=auth)
    assert ids(full.json()["list"]) == ids(served_table(42, "units")[:int(largest)])
    over = client.get("/v2/units", params={"limit": int(largest) + 1}, headers=auth)
    if oversize == "reject":
        assert (over.status_code, over.json()) == (400, {"message": f"limit must be between 1 and {largest}"})
    else:
        assert over.status_code == 200 and len(over.json()["list"]) == int(largest)


def test_the_last_page_has_no_next_or_a_null_one(server: SandboxServer, client: httpx.Client,
                                                 auth: dict[str, str]) -> None:
    last = client.get("/v2/properties", params={"limit": 100, "page": 2}, headers=auth).json()
    assert len(last["list"]) == 100 and "next" not in last["_links"] and last["_links"]["self"].endswith("page=2")
    server.settings.variants = {"casavi.last_page": "null"}
    last = client.get("/v2/properties", params={"limit": 100, "page": 2}, headers=auth).json()
    assert last["_links"]["next"] is None
    past = client.get("/v2/properties", params={"limit": 100, "page": 9}, headers=auth).json()
    assert past["list"] == [] and past["_links"]["next"] is None


@pytest.mark.parametrize("params, message", [
    ({"limit": "0"}, "limit must be between 1 and 100"), ({"limit": "ten"}, "limit must be a whole number"),
    ({"limit": "-5"}, "limit must be a whole number"), ({"page": "x"}, "page must be a whole number"),
    ({"page": "-1"}, "page must be a whole number"), ({"isRegistered": "yes"}, "isRegistered must be true or false"),
    ({"isInvited": "TRUE"}, "isInvited must be true or false"), ({"modifiedAfter": "gestern"}, "modifiedAfter must be"),
    ({"modifiedAfter": ""}, "modifiedAfter must be"),
])
def test_bad_parameters_are_400s(client: httpx.Client, auth: dict[str, str], params: dict, message: str) -> None:
    answer = client.get("/v2/contacts", params=params, headers=auth)
    assert answer.status_code == 400 and answer.json()["message"].startswith(message), answer.text


def test_page_below_the_base_is_refused(server: SandboxServer, client: httpx.Client, auth: dict[str, str]) -> None:
    server.settings.variants = {"casavi.page_base": "1"}
    assert client.get("/v2/units", params={"page": 0}, headers=auth).json() == {"message": "page must be at least 1"}
    first = client.get("/v2/units", params={"page": 1, "limit": 3}, headers=auth).json()["list"]
    assert ids(first) == ids(served_table(42, "units")[:3])


# ------------------------------------------------------------------------------------------ filters
@pytest.mark.parametrize("reading", ["honoured", "true_only", "ignored"])
@pytest.mark.parametrize("params", [{"isRegistered": "false"}, {"isInvited": "true"},
                                    {"isRegistered": "true", "isInvited": "false"}])
def test_boolean_filters_under_each_reading(server: SandboxServer, client: httpx.Client, auth: dict[str, str],
                                            reading: str, params: dict[str, str]) -> None:
    """Over the ~800 contacts modified last (a ``modifiedAfter`` bound keeps the scans short; both
    values of each flag are among them), under each reading of the boolean filters."""
    variants = {"casavi.bool_filters": reading}
    server.settings.variants = variants
    bound = sorted(internal_records("contacts"), key=lambda r: r["_modifiedAt"])[-800]
    recent = {r["id"] for r in internal_records("contacts") if r["_modifiedAt"] > bound["_modifiedAt"]}
    window = [c for c in served_table(42, "contacts") if c["id"] in recent]
    assert all({c[name] for c in window} == {True, False} for name in params)
    query = {**params, "modifiedAfter": _moment(bound), "limit": 100}
    got, _, _ = scan(client, auth, "contacts", query)
    assert ids(got) == ids(select(internal_records("contacts"), parse_filter("contacts", query, variants)))
    read = {name: value == "true" for name, value in params.items()
            if reading == "honoured" or (reading == "true_only" and value == "true")}
    want = [c for c in window if all(c[name] is value for name, value in read.items())]
    assert ids(got) == ids(want) and (len(want) < len(window)) == bool(read)
    bad = client.get("/v2/contacts", params={"isRegistered": "1"}, headers=auth)
    assert bad.status_code == (200 if reading == "ignored" else 400)


def _moment(record: dict) -> str:
    return record["_modifiedAt"].isoformat(timespec="milliseconds").replace("+00:00", "Z")


@pytest.mark.parametrize("table", ["contacts", "properties", "units"])
@pytest.mark.parametrize("reading", ["exclusive", "inclusive"])
def test_modified_after_includes_its_bound_or_not(server: SandboxServer, client: httpx.Client, auth: dict[str, str],
                                                  table: str, reading: str) -> None:
    server.settings.variants = {"casavi.modified_after": reading}
    rows = internal_records(table)
    pivot = sorted(rows, key=lambda r: r["_modifiedAt"])[-150]  # ~150 records at or after it
    got, _, _ = scan(client, auth, table, {"modifiedAfter": _moment(pivot), "limit": 100})
    want = [r for r in rows if r["_modifiedAt"] > pivot["_modifiedAt"]
            or (reading == "inclusive" and r["_modifiedAt"] == pivot["_modifiedAt"])]
    assert ids(got) == ids(want) and (pivot["id"] in ids(got)) == (reading == "inclusive")
    assert 100 < len(got) < len(rows) and all("_modifiedAt" not in r and "modifiedAt" not in r for r in got)


@pytest.mark.parametrize("value, lenient, strict", [
    ("2026-11-01T00:00:00.000Z", "2026-11-01T00:00:00+00:00", True), ("2026-11-01", "2026-11-01T00:00:00+00:00", False),
    ("2026-11-01T01:00:00+01:00", "2026-11-01T00:00:00+00:00", False), ("2026-11-01T00:00:00", "2026-11-01T00:00:00+00:00", False),
    ("2026-11-01T00:00:00.5Z", "2026-11-01T00:00:00.500000+00:00", False), ("2026-13-01T00:00:00.000Z", None, False),
])
def test_modified_after_formats(server: SandboxServer, client: httpx.Client, auth: dict[str, str],
                                value: str, lenient: str | None, strict: bool) -> None:
    for form in ("lenient", "strict"):
        server.settings.variants = {"casavi.modified_format": form}
        answer = client.get("/v2/properties", params={"modifiedAfter": value, "limit": 100}, headers=auth)
        readable = lenient is not None and (form == "lenient" or strict)
        assert answer.status_code == (200 if readable else 400), (form, value, answer.text)
        if readable:
            bound = datetime.fromisoformat(lenient)
            want = [r for r in internal_records("properties") if r["_modifiedAt"] > bound]
            assert ids(answer.json()["list"]) == ids(want)


@pytest.mark.parametrize("role", ["OWNER", "RENTER", "SERVICE_PROVIDER", "owner", "JANITOR", ""])
def test_role_keeps_contacts_with_an_active_contract_or_an_external_duty(client: httpx.Client, auth: dict[str, str],
                                                                       role: str) -> None:
    got, _, _ = scan(client, auth, "contacts", {"role": role, "limit": 100})
    if role == "SERVICE_PROVIDER":
        named = {d["contactId"] for p in served_table(42, "properties") for d in p["responsibilities"]
                 if d["roleType"] == "external"}
        assert set(ids(got)) == named
    elif role in ("OWNER", "RENTER"):
        want = [c for c in served_table(42, "contacts")
                if any(k["type"] == role and is_active(k["endDate"]) for k in c["contracts"])]
        assert ids(got) == ids(want) and len(want) > 1000
        assert {role} <= roles_of(internal_records("contacts")[[r["id"] for r in internal_records("contacts")].index(got[0]["id"])])
    else:
        assert got == []


def test_units_serve_inactive_contracts_only_when_asked(client: httpx.Client, auth: dict[str, str]) -> None:
    active, _, _ = scan(client, auth, "units", {"limit": 100})
    every, _, _ = scan(client, auth, "units", {"limit": 100, "includeInactiveContracts": "true"})
    assert ids(active) == ids(every) == ids(internal_records("units"))
    assert all(is_active(k["endDate"]) for u in active for k in u["contracts"])
    assert sum(len(u["contracts"]) for u in every) > sum(len(u["contracts"]) for u in active)
    assert [u["contracts"] for u in every] == [u["_allContracts"] for u in internal_records("units")]
    explicit = client.get("/v2/units", params={"includeInactiveContracts": "false", "limit": 5}, headers=auth)
    assert explicit.json()["list"] == active[:5]
    assert client.get("/v2/units", params={"includeInactiveContracts": "ja"}, headers=auth).status_code == 400


def test_unknown_parameters_are_ignored(client: httpx.Client, auth: dict[str, str]) -> None:
    plain = client.get("/v2/contacts", params={"limit": 7}, headers=auth).json()["list"]
    odd = client.get("/v2/contacts", params={"limit": 7, "city": "München", "role2": "x", "sort": "name"},
                     headers=auth).json()["list"]
    assert plain == odd and len(plain) == 7
    # filters of another list are unknown here: properties do not read isRegistered
    assert len(client.get("/v2/properties", params={"isRegistered": "yes"}, headers=auth).json()["list"]) == 25


# -------------------------------------------------------------------------------------------- by id
@pytest.mark.parametrize("table, record_id", [("contacts", i) for i in SPECIAL_CONTACT_IDS]
                         + [("properties", i) for i in SPECIAL_PROPERTY_IDS]
                         + [(t, served_table(42, t)[0]["id"]) for t in ("contacts", "properties", "units")]
                         + [("units", "Haus #7-W01")])
def test_get_by_percent_encoded_id(client: httpx.Client, auth: dict[str, str], table: str, record_id: str) -> None:
    answer = client.get(f"/v2/{table}/{quote(record_id, safe='')}", headers=auth)
    assert answer.status_code == 200, answer.text
    assert answer.json() == next(r for r in served_table(42, table) if r["id"] == record_id)


def test_get_by_id_misses_and_unit_contracts(client: httpx.Client, auth: dict[str, str]) -> None:
    for path in ("/v2/contacts/C-999999", "/v2/units/P-00101", "/v2/properties/haus%20%237", "/v2/contacts/%20"):
        answer = client.get(path, headers=auth)
        assert (answer.status_code, answer.json()) == (404, {"message": "Not found"}), path
    unit = next(u for u in internal_records("units") if len(u["_allContracts"]) > len(u["contracts"]))
    path = f"/v2/units/{quote(unit['id'], safe='')}"
    assert client.get(path, headers=auth).json()["contracts"] == unit["contracts"]
    every = client.get(path, params={"includeInactiveContracts": "true"}, headers=auth).json()
    assert every["contracts"] == unit["_allContracts"]


def test_postal_code_as_a_number(server: SandboxServer, client: httpx.Client, auth: dict[str, str]) -> None:
    dresden = next(p for p in served_table(42, "properties") if p["postalCode"].startswith("0"))
    path = f"/v2/properties/{quote(dresden['id'], safe='')}"
    assert client.get(path, headers=auth).json()["postalCode"] == dresden["postalCode"]
    server.settings.variants = {"casavi.postal_code": "number"}
    assert client.get(path, headers=auth).json()["postalCode"] == int(dresden["postalCode"]) < 10000
    listed = client.get("/v2/properties", params={"limit": 100}, headers=auth).json()["list"]
    assert all(isinstance(p["postalCode"], int) for p in listed)
    assert all(isinstance(c.get("postalCode", ""), (str, type(None)))
               for c in client.get("/v2/contacts", headers=auth).json()["list"])


def test_unknown_paths_and_methods(client: httpx.Client, auth: dict[str, str]) -> None:
    missing = client.get("/v2/tickets", headers=auth)
    assert missing.status_code == 404 and missing.json()["message"]
    wrong = client.post("/v2/contacts", json={}, headers=auth)
    assert wrong.status_code == 405 and wrong.json()["message"]
    assert client.get("/v2/authenticate").status_code == 405


def test_the_seed_changes_what_is_served(server: SandboxServer, client: httpx.Client, auth: dict[str, str]) -> None:
    first = client.get("/v2/contacts", params={"limit": 5}, headers=auth).json()["list"]
    server.settings.seed = OTHER_SEED  # (the determinism test's seed: its world is built once per run)
    other = client.get("/v2/contacts", params={"limit": 5}, headers=auth).json()["list"]
    assert other == served_table(OTHER_SEED, "contacts")[:5] and other != first
