"""The sandbox's concurrency meter: per vendor, requests in flight now and the peak since the last
reset (``SandboxState.concurrency``, ``GET /_sandbox/concurrency``), over real HTTP.

The Spark and Dask tests use it to check that a partitioned read never has more requests at once at
the vendor than the connection's cap; these tests check the meter itself: overlapping requests
(made slow with latency) raise the peak, sequential ones do not, token requests count, the peak
resets with the log, and a failed or dropped request leaves nothing counted in flight.
"""

from __future__ import annotations

import asyncio

import httpx

from crmql.sandbox import SandboxServer
from sandbox_helpers import AZ, fetch_token

EVENTS = "/azavista/3.0/event/search"


def _concurrency(server: SandboxServer) -> dict[str, dict[str, int]]:
    return httpx.get(f"{server.url}/_sandbox/concurrency", timeout=10).json()


async def _searches(server: SandboxServer, token: str, n: int) -> list[int]:
    async with httpx.AsyncClient(base_url=server.url, timeout=30,
                                 limits=httpx.Limits(max_connections=n)) as client:
        answers = await asyncio.gather(*(client.post(EVENTS, json={"limit": 1, "offset": i},
                                                     headers={"Authorization": f"Bearer {token}"})
                                         for i in range(n)))
    return [answer.status_code for answer in answers]


def test_overlapping_requests_raise_the_peak_and_it_resets_with_the_log(server: SandboxServer,
                                                                       client: httpx.Client) -> None:
    token = fetch_token(client)
    server.reset_log()
    assert server.concurrency("azavista") == {"in_flight": 0, "peak": 0}
    server.settings.latency_ms = 300  # each request waits at the vendor: four sent at once overlap
    assert asyncio.run(_searches(server, token, 4)) == [200] * 4
    reading = server.concurrency("azavista")
    assert reading["in_flight"] == 0
    assert 2 <= reading["peak"] <= 4
    over_http = _concurrency(server)
    assert over_http["azavista"] == reading
    assert over_http["atlas"] == {"in_flight": 0, "peak": 0}  # every simulator is listed, per vendor
    assert httpx.delete(f"{server.url}/_sandbox/log", timeout=10).status_code == 204
    assert server.concurrency("azavista") == {"in_flight": 0, "peak": 0}


def test_sequential_requests_peak_at_one_and_token_requests_count(server: SandboxServer,
                                                                 client: httpx.Client) -> None:
    server.settings.latency_ms = 20
    token = fetch_token(client)  # the token request is a request the vendor sees
    assert server.concurrency("azavista") == {"in_flight": 0, "peak": 1}
    for offset in range(3):
        answer = client.post("/3.0/event/search", json={"limit": 1, "offset": offset},
                             headers={"Authorization": f"Bearer {token}"})
        assert answer.status_code == 200
    assert server.concurrency("azavista") == {"in_flight": 0, "peak": 1}
    assert [path.rsplit("/", 1)[-1] for _, path, _ in server.request_log] == ["token"] + ["search"] * 3


def test_failed_and_dropped_requests_are_not_left_in_flight(server: SandboxServer,
                                                           client: httpx.Client) -> None:
    token = fetch_token(client)
    server.settings.faults = "500@1,drop@2"
    auth = {"Authorization": f"Bearer {token}"}
    assert client.post("/3.0/event/search", json={}, headers=auth).status_code == 500
    try:
        client.post("/3.0/event/search", json={}, headers=auth)
    except httpx.HTTPError:
        pass  # the connection was cut mid-body, as asked
    assert client.post("/3.0/event/search", json={"limit": 1}, headers=auth).status_code == 200
    assert client.post("/3.0/oauth/token", data={"grant_type": "client_credentials", "client_id": AZ["client_id"],
                                                "client_secret": "wrong"}).status_code == 401
    reading = server.concurrency("azavista")
    assert reading == {"in_flight": 0, "peak": 1}
