"""Fault and latency injection, fault spec parsing, request log, server lifecycle."""

from __future__ import annotations

import asyncio
import time

import httpx
import pytest

from crmql.sandbox import SandboxServer, SandboxSettings, build_app, connection_settings, serve_in_thread
from crmql.sandbox.core.faults import FaultRule, parse_fault_spec
from sandbox_helpers import AZ, fetch_token, search


def test_429_with_retry_after(server: SandboxServer, client: httpx.Client, auth: dict) -> None:
    server.reset_log()
    server.settings.retry_after = "7"
    server.settings.faults = "429@2"
    assert search(client, auth, "events").status_code == 200
    limited = search(client, auth, "events")
    assert limited.status_code == 429
    assert limited.headers["Retry-After"] == "7"
    assert limited.json() == {"error": "rate_limited", "message": "Too many requests"}
    assert search(client, auth, "events").status_code == 200


@pytest.mark.parametrize("status", [500, 502, 503])
def test_5xx(server: SandboxServer, client: httpx.Client, auth: dict, status: int) -> None:
    server.reset_log()
    server.settings.faults = f"{status}@1+3"
    statuses = [search(client, auth, "contacts").status_code for _ in range(4)]
    assert statuses == [status, 200, status, 200]
    first = search(client, auth, "contacts")
    assert first.status_code == 200
    server.reset_log()
    failed = search(client, auth, "contacts")
    assert failed.status_code == status and failed.json()["error"] and failed.json()["message"]


def test_drop_makes_httpx_fail_then_recovers(server: SandboxServer, client: httpx.Client, auth: dict) -> None:
    server.reset_log()
    server.settings.faults = "drop@1"
    with pytest.raises(httpx.TransportError):
        search(client, auth, "events")
    assert search(client, auth, "events").status_code == 200
    assert [entry[2] for entry in server.request_log] == [0, 200]


def test_expire_revokes_tokens(server: SandboxServer, client: httpx.Client) -> None:
    token = fetch_token(client)
    server.reset_log()
    server.settings.faults = "expire@2"
    headers = {"Authorization": f"Bearer {token}"}
    assert search(client, headers, "events").status_code == 200
    revoked = search(client, headers, "events")
    assert revoked.status_code == 401 and revoked.json()["error"] == "invalid_token"
    assert search(client, headers, "events").status_code == 401
    fresh = {"Authorization": f"Bearer {fetch_token(client)}"}
    assert search(client, fresh, "events").status_code == 200


def test_token_requests_are_not_counted(server: SandboxServer, client: httpx.Client) -> None:
    server.reset_log()
    server.settings.faults = "503@1,500@2"
    headers = {"Authorization": f"Bearer {fetch_token(client)}"}  # not request #1
    fetch_token(client)
    assert search(client, headers, "events").status_code == 503
    fetch_token(client)
    assert search(client, headers, "events").status_code == 500
    assert search(client, headers, "events").status_code == 200
    log = server.request_log
    assert [s for _, _, s in log] == [200, 200, 503, 200, 500, 200]
    assert log[0] == ("POST", "/azavista/3.0/oauth/token", 200)
    assert log[2] == ("POST", "/azavista/3.0/event/search", 503)


def test_probabilistic_faults_are_seeded(server: SandboxServer, client: httpx.Client, auth: dict) -> None:
    server.settings.faults = "503=1"
    assert search(client, auth, "events").status_code == 503
    server.settings.faults = "503=0"
    assert search(client, auth, "events").status_code == 200

    def run() -> list[int]:
        server.reset_log()
        return [search(client, auth, "events", limit=1).status_code for _ in range(30)]

    server.settings.faults = "500=0.3,429=0.2"
    first, second = run(), run()
    assert first == second
    assert {200, 500, 429} <= set(first)


def test_latency_does_not_serialize_requests(server: SandboxServer, auth: dict) -> None:
    server.settings.latency_ms = 500

    async def burst() -> list[int]:
        async with httpx.AsyncClient(base_url=f"{server.url}/azavista", timeout=10) as ac:
            responses = await asyncio.gather(*[
                ac.post("/3.0/event/search", headers=auth, json={"limit": 1}) for _ in range(8)])
            return [r.status_code for r in responses]

    start = time.perf_counter()
    assert asyncio.run(burst()) == [200] * 8
    elapsed = time.perf_counter() - start
    assert 0.5 <= elapsed < 0.6 * 8 * 0.5, elapsed  # well under the 4 s the 8 would take one by one
    with httpx.Client(base_url=f"{server.url}/azavista") as c:
        start = time.perf_counter()
        fetch_token(c)  # token requests get latency too
        assert time.perf_counter() - start >= 0.5


def test_request_log_and_reset(server: SandboxServer, client: httpx.Client, auth: dict) -> None:
    server.reset_log()
    search(client, auth, "organizations")
    client.get("/3.1/organization/nope", headers=auth)
    assert server.request_log == [("POST", "/azavista/3.1/organization/search", 200),
                                  ("GET", "/azavista/3.1/organization/nope", 404)]
    server.reset_log()
    assert server.request_log == []


@pytest.mark.parametrize("spec", ["boom@1", "500@", "500@0", "500@x", "500=2", "500=abc", "500", "@3"])
def test_invalid_fault_spec_raises(spec: str) -> None:
    with pytest.raises(ValueError):
        parse_fault_spec(spec)
    with pytest.raises(ValueError):
        SandboxSettings(faults=spec)
    settings = SandboxSettings()
    with pytest.raises(ValueError):
        settings.faults = spec
    assert settings.faults == ""


def test_fault_spec_parses() -> None:
    rules = parse_fault_spec("429@2, 500@4+5,drop@6,expire@8,503=0.25")
    assert rules == (FaultRule("429", frozenset({2})), FaultRule("500", frozenset({4, 5})),
                     FaultRule("drop", frozenset({6})), FaultRule("expire", frozenset({8})),
                     FaultRule("503", probability=0.25))
    assert parse_fault_spec("") == ()


def test_invalid_variants_raise() -> None:
    with pytest.raises(ValueError):
        SandboxSettings(variants={"azavista.like_case": "maybe"})
    with pytest.raises(ValueError):
        SandboxSettings(variants={"azavista.nope": "x"})


def test_misconfigured_variant_in_place_is_500(server: SandboxServer, client: httpx.Client, auth: dict) -> None:
    server.settings.variants["azavista.range"] = "sideways"
    resp = search(client, auth, "events", {"and": [{"name": "x"}]})
    assert resp.status_code == 500 and "sideways" in resp.json()["message"]


def test_second_server_and_helpers() -> None:
    settings = SandboxSettings(seed=3)
    with serve_in_thread(settings) as other:
        assert other.settings is settings
        assert other.url.startswith("http://127.0.0.1:") and not other.url.endswith(":0")
        conf = connection_settings(other.url)["azavista"]
        assert conf["base_url"] == f"{other.url}/azavista" and conf["client_id"] == AZ["client_id"]
        with httpx.Client(base_url=conf["base_url"]) as c:
            headers = {"Authorization": f"Bearer {fetch_token(c)}"}
            assert search(c, headers, "events", limit=1).status_code == 200
    with pytest.raises(httpx.TransportError):
        httpx.get(f"{other.url}/azavista/3.0/event/x", timeout=2)
    assert build_app(SandboxSettings()).state.sandbox.settings.seed == 42


def test_request_log_over_http(server: SandboxServer, client: httpx.Client, auth: dict) -> None:
    search(client, auth, "events")
    # every vendor request would now take 2 s and fail; the log endpoint has neither, nor a log entry
    server.settings.latency_ms = 2000
    server.settings.faults = "500=1.0"
    with httpx.Client(base_url=server.url, timeout=10) as raw:
        started = time.perf_counter()
        listed = raw.get("/_sandbox/log")
        assert time.perf_counter() - started < 1.0
        assert listed.status_code == 200
        assert listed.json() == [list(entry) for entry in server.request_log]
        assert ["POST", "/azavista/3.0/event/search", 200] in listed.json()
        assert raw.delete("/_sandbox/log").status_code == 204
        assert raw.get("/_sandbox/log").json() == [] == server.request_log
