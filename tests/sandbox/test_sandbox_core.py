"""The sandbox core as a new vendor would use it: a simulator declared by a SimulatorSpec and built
from the core's token endpoint, header-token guard, JSON body and variants, served over real HTTP
with the core's faults and request log (``demo_simulator.py``), registered for the module's tests
with :func:`crmql.vendors.registered`."""

from __future__ import annotations

import base64
from collections.abc import Iterator

import httpx
import pytest

from crmql.sandbox import SandboxServer, SandboxSettings, all_variants, simulators
from crmql.vendors import VendorSpec, registered


#: the demo vendor's registration (its connector is never used here)
DEMO = VendorSpec(name="demo", display_name="Demo", connector="collections:OrderedDict",
                  simulator="demo_simulator:SIMULATOR")


@pytest.fixture(scope="module")
def demo() -> Iterator[tuple[SandboxServer, httpx.Client]]:
    with registered(DEMO), SandboxServer(SandboxSettings()) as server, \
            httpx.Client(base_url=f"{server.url}/demo", timeout=10) as http:
        assert list(simulators())[:2] == ["azavista", "atlas"] and list(simulators())[-1] == "demo"  # casavi between
        yield server, http
    assert "demo" not in simulators()


@pytest.fixture
def server(demo: tuple[SandboxServer, httpx.Client]) -> Iterator[SandboxServer]:
    srv = demo[0]
    yield srv
    srv.settings.faults, srv.settings.variants = "", {}
    srv.reset_log()


def _token(http: httpx.Client, **kwargs: object) -> httpx.Response:
    return http.post("/token", **kwargs)  # type: ignore[arg-type]


def test_the_token_endpoint_takes_basic_or_body_credentials(demo) -> None:
    _, http = demo
    basic = base64.b64encode(b"demo-id:demo-secret").decode()
    by_header = _token(http, data={"grant_type": "client_credentials"}, headers={"Authorization": f"Basic {basic}"})
    by_body = _token(http, data={"grant_type": "client_credentials", "client_id": "demo-id", "client_secret": "demo-secret"})
    for answer in (by_header, by_body):
        assert answer.status_code == 200, answer.text
        assert answer.json()["token_type"] == "Bearer" and answer.json()["expires_in"] == 3599
    wrong = _token(http, data={"grant_type": "client_credentials", "client_id": "demo-id", "client_secret": "nope"})
    assert (wrong.status_code, wrong.json()) == (401, {"error_message": "Client authentication failed", "code": "invalid_client"})
    refused = _token(http, data={"grant_type": "password", "client_id": "demo-id", "client_secret": "demo-secret"})
    assert (refused.status_code, refused.json()["code"]) == (400, "unsupported_grant_type")
    assert refused.json()["error_message"] == "Unsupported grant_type 'password'"


def test_the_header_token_guard_body_and_variant(server: SandboxServer, demo) -> None:
    _, http = demo
    token = _token(http, data={"grant_type": "client_credentials", "client_id": "demo-id",
                               "client_secret": "demo-secret"}).json()["access_token"]
    missing = http.post("/things/search", json={})
    assert (missing.status_code, missing.json()) == (401, {"error_message": "The access token is missing"})
    as_bearer = http.post("/things/search", json={}, headers={"Authorization": f"Bearer {token}"})
    assert as_bearer.status_code == 401  # this vendor reads its own header only
    ok = http.post("/things/search", json={"q": 1}, headers={"token": token})
    assert (ok.status_code, ok.json()) == (200, {"mode": "a", "echo": {"q": 1}})
    bad = http.post("/things/search", content=b"{", headers={"token": token})
    assert (bad.status_code, bad.json()) == (400, {"error_message": "Request body is not valid JSON"})
    empty = http.post("/things/search", content=b"", headers={"token": token})
    assert (empty.status_code, empty.json()) == (400, {"error_message": "Request body must be a JSON object"})
    server.settings.variants = {"demo.mode": "b"}
    assert http.post("/things/search", json={}, headers={"token": token}).json()["mode"] == "b"
    assert all_variants()["demo.mode"].default == "a"


def test_faults_skip_the_token_path_and_the_log_records_the_api(server: SandboxServer, demo) -> None:
    _, http = demo
    server.settings.faults = "503@1,expire@2"
    token = _token(http, data={"grant_type": "client_credentials", "client_id": "demo-id",
                               "client_secret": "demo-secret"}).json()["access_token"]  # not counted
    first = http.post("/things/search", json={}, headers={"token": token})
    assert first.status_code == 503
    second = http.post("/things/search", json={}, headers={"token": token})
    assert (second.status_code, second.json()) == (401, {"error_message": "The access token is invalid or has been revoked"})
    assert server.request_log == [("POST", "/demo/token", 200), ("POST", "/demo/things/search", 503),
                                  ("POST", "/demo/things/search", 401)]
