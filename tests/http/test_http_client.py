"""HttpClient: URL handling, retries, error mapping, concurrency, rate limiting and stats."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from crmql.errors import (
    ConfigError,
    ConnectorError,
    NetworkError,
    RateLimitedError,
    VendorHTTPError,
    VendorResponseError,
)
from crmql.http import HttpClient, RetryPolicy, run_sync
from crmql.stats import QueryStats, collecting

MakeClient = Callable[..., HttpClient]


def scripted(*steps: Any) -> tuple[Callable[[httpx.Request], httpx.Response], list[httpx.Request]]:
    """A handler answering with ``steps`` in order (exceptions are raised); the last one repeats."""
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        step = steps[min(len(seen) - 1, len(steps) - 1)]
        if isinstance(step, type) and issubclass(step, Exception):
            raise step("simulated", request=request)
        if isinstance(step, Exception):
            raise step
        if isinstance(step, int):
            return httpx.Response(step, json={"status": step})
        return step

    return handler, seen


def test_relative_url_resolves_under_the_base_path_prefix(make_client: MakeClient) -> None:
    handler, seen = scripted(httpx.Response(200, json={"ok": 1}))
    client = make_client(handler, base_url="http://127.0.0.1:5000/azavista")
    assert run_sync(client.request_json("POST", "/3.0/event/search", json={"q": 1})) == {"ok": 1}
    run_sync(client.request("GET", "3.0/event/7", params={"page": 2}))
    run_sync(client.request("GET", "http://other.test/abs"))
    urls = [str(r.url) for r in seen]
    assert urls == [
        "http://127.0.0.1:5000/azavista/3.0/event/search",
        "http://127.0.0.1:5000/azavista/3.0/event/7?page=2",
        "http://other.test/abs",
    ]


def test_default_headers_and_form_content_type(make_client: MakeClient) -> None:
    handler, seen = scripted(200)
    client = make_client(handler, headers={"Content-Type": "application/json"})
    run_sync(client.request("POST", "/x", json={"a": 1}))
    run_sync(client.request("POST", "/form", data={"a": "b"}))
    assert seen[0].headers["content-type"] == "application/json"
    assert seen[1].headers["content-type"] == "application/x-www-form-urlencoded"
    assert seen[1].content == b"a=b"


def test_429_with_retry_after_then_success(make_client: MakeClient) -> None:
    handler, seen = scripted(httpx.Response(429, headers={"Retry-After": "0"}), 200)
    stats = QueryStats()
    with collecting(stats):
        response = run_sync(make_client(handler).request("GET", "/things"))
    assert response.status_code == 200
    assert len(seen) == 2
    assert (stats.requests, stats.retries) == (2, 1)


@pytest.mark.parametrize("status", [500, 502, 503, 504])
def test_5xx_then_success(make_client: MakeClient, status: int) -> None:
    handler, seen = scripted(status, status, 200)
    assert run_sync(make_client(handler).request_json("GET", "/things")) == {"status": 200}
    assert len(seen) == 3


@pytest.mark.parametrize("error", [httpx.ConnectError, httpx.RemoteProtocolError, httpx.ReadTimeout, httpx.ReadError])
def test_transport_errors_then_success(make_client: MakeClient, error: type[Exception]) -> None:
    handler, seen = scripted(error, 200)
    stats = QueryStats()
    with collecting(stats):
        run_sync(make_client(handler).request("GET", "/things"))
    assert len(seen) == 2
    assert (stats.requests, stats.retries) == (2, 1)


@pytest.mark.parametrize(
    ("step", "cls", "words"),
    [
        (429, RateLimitedError, "rate limited: gave up after 5 attempts"),
        (503, VendorHTTPError, "service unavailable: gave up after 5 attempts"),
        (httpx.ConnectError("[Errno 111] Connection refused"), NetworkError, "connection refused"),
        (httpx.RemoteProtocolError("Server disconnected"), NetworkError, "connection dropped by the server"),
        (httpx.ReadTimeout("timed out"), NetworkError, "timed out after 30 s"),
    ],
)
def test_exhausted_retries_raise_the_right_error(make_client: MakeClient, step: Any, cls: type, words: str) -> None:
    handler, seen = scripted(step)
    stats = QueryStats()
    with collecting(stats), pytest.raises(cls) as info:
        run_sync(make_client(handler).request("GET", "/events", table="acme.events"))
    error = info.value
    assert len(seen) == 5
    assert (stats.requests, stats.retries) == (5, 4)
    assert error.vendor == "acme" and error.table == "acme.events"
    message = str(error)
    assert message.startswith("acme (acme.events): ")
    assert words in message
    assert not isinstance(error, httpx.HTTPError)


def test_status_and_vendor_message_on_exhausted_5xx(make_client: MakeClient) -> None:
    handler, _ = scripted(httpx.Response(500, json={"error": {"message": "db down"}}))
    with pytest.raises(VendorHTTPError) as info:
        run_sync(make_client(handler, retry=RetryPolicy(max_attempts=2, backoff_base_s=0)).request("GET", "/x"))
    assert info.value.status == 500
    assert str(info.value) == "acme: internal server error: gave up after 2 attempts [HTTP 500]: db down"


def test_post_not_retried_on_read_error_but_retried_on_connect_error(make_client: MakeClient) -> None:
    handler, seen = scripted(httpx.ReadError)
    with pytest.raises(NetworkError, match="may have been processed"):
        run_sync(make_client(handler).request("POST", "/create", json={}))
    assert len(seen) == 1

    handler, seen = scripted(httpx.ConnectError, 500)
    with pytest.raises(VendorHTTPError) as info:  # retried the connect error, not the 500
        run_sync(make_client(handler).request("POST", "/create", json={}))
    assert len(seen) == 2 and info.value.status == 500

    handler, seen = scripted(503, 429, 201)
    assert run_sync(make_client(handler).request("POST", "/create", json={})).status_code == 201
    assert len(seen) == 3

    handler, seen = scripted(httpx.ReadError, 200)  # a search POST declared idempotent is retried
    run_sync(make_client(handler).request("POST", "/search", json={}, idempotent=True))
    assert len(seen) == 2


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ({"message": "unknown field 'nmae'"}, "unknown field 'nmae'"),
        ({"error": "invalid_request", "error_description": "bad date"}, "bad date"),
        ({"ErrorMessage": "Filter invalid"}, "Filter invalid"),
        ({"errors": [{"message": "a"}, {"message": "b"}]}, "a; b"),
        ({"error": {"code": 7, "message": "nested"}}, "nested"),
    ],
)
def test_400_vendor_message_extraction(make_client: MakeClient, body: Any, expected: str) -> None:
    handler, seen = scripted(httpx.Response(400, json=body))
    with pytest.raises(VendorHTTPError) as info:
        run_sync(make_client(handler).request("GET", "/events", table="acme.events"))
    assert len(seen) == 1  # a 400 is never retried
    assert info.value.status == 400
    assert info.value.vendor_message == expected
    assert str(info.value) == f"acme (acme.events): bad request [HTTP 400]: {expected}"


def test_400_plain_text_body_is_cut(make_client: MakeClient) -> None:
    handler, _ = scripted(httpx.Response(400, text="x" * 1000))
    with pytest.raises(VendorHTTPError) as info:
        run_sync(make_client(handler).request("GET", "/events"))
    assert info.value.vendor_message is not None and len(info.value.vendor_message) <= 300


def test_allow_status_returns_the_response(make_client: MakeClient) -> None:
    handler, _ = scripted(404)
    response = run_sync(make_client(handler).request("GET", "/maybe", allow_status=(404,)))
    assert response.status_code == 404


def test_redirect_is_an_error_with_a_hint(make_client: MakeClient) -> None:
    handler, _ = scripted(httpx.Response(301, headers={"Location": "https://api.test/acme/x"}))
    with pytest.raises(VendorHTTPError) as info:
        run_sync(make_client(handler).request("GET", "/x"))
    assert "base_url" in str(info.value)


def test_request_json_rejects_non_json(make_client: MakeClient) -> None:
    handler, _ = scripted(httpx.Response(200, text="<html>maintenance</html>"))
    with pytest.raises(VendorHTTPError, match="not JSON"):
        run_sync(make_client(handler).request_json("GET", "/x", table="acme.events"))
    handler, _ = scripted(httpx.Response(204))
    assert run_sync(make_client(handler).request_json("DELETE", "/x")) is None


@pytest.mark.parametrize("body, headers, expected", [
    (b'{"items": [{"id": "a", "n": 1.5}], "total": 1}', {}, {"items": [{"id": "a", "n": 1.5}], "total": 1}),
    # beyond 64 bits: exact integers (the fast decoder would make them floats)
    (b'{"id": 123456789012345678901234567890}', {}, {"id": 123456789012345678901234567890}),
    (b'[-9223372036854775809, 18446744073709551616]', {}, [-9223372036854775809, 18446744073709551616]),
    (b'{"phone": "00491234567890123456789"}', {}, {"phone": "00491234567890123456789"}),
    ('{"name": "Müller"}'.encode("latin-1"), {"content-type": "application/json; charset=latin-1"}, {"name": "Müller"}),
    ('{"name": "Zoë"}'.encode(), {}, {"name": "Zoë"}),
    (b'\xef\xbb\xbf{"name": "Zo\xc3\xab"}', {}, {"name": "Zoë"}),  # a UTF-8 byte-order mark
    ('{"name": "Zoë"}'.encode("utf-16"), {}, {"name": "Zoë"}),  # UTF-16 without a declared charset
])
def test_request_json_decodes_like_the_standard_library(make_client: MakeClient, body: bytes,
                                                        headers: dict[str, str], expected: Any) -> None:
    handler, _ = scripted(httpx.Response(200, content=body, headers=headers))
    got = run_sync(make_client(handler).request_json("GET", "/x"))
    assert got == expected
    assert all(type(a) is type(b) for a, b in zip(_leaves(got), _leaves(expected)))


@pytest.mark.parametrize("body", [b'{"score": NaN}', b'{"n": Infinity}', b'[-Infinity]',
                                  b'{"n": 12345678901234567890123, "x": NaN}'])
def test_request_json_rejects_nan_and_infinity(make_client: MakeClient, body: bytes) -> None:
    """They are not JSON (the standard library reads them; crmql must not)."""
    handler, _ = scripted(httpx.Response(200, content=body))
    with pytest.raises(VendorResponseError, match="which is not JSON") as info:
        run_sync(make_client(handler).request_json("GET", "/x", table="acme.events"))
    assert "acme (acme.events): malformed response to GET http://api.test/acme/x" in str(info.value)


def _leaves(value: Any) -> list[Any]:
    if isinstance(value, dict):
        return [x for v in value.values() for x in _leaves(v)]
    if isinstance(value, list):
        return [x for v in value for x in _leaves(v)]
    return [value]


@pytest.mark.parametrize("url", ["ftp://api.test/x", "http://[::1/x"])
def test_invalid_url_is_a_config_error(url: str) -> None:
    client = HttpClient(vendor="acme", base_url="http://127.0.0.1:9")  # real transport
    with pytest.raises(ConfigError) as info:
        run_sync(client.request("GET", url, table="acme.events"))
    assert isinstance(info.value, ConnectorError) and info.value.table == "acme.events"


def test_real_connection_refused_is_a_network_error() -> None:
    client = HttpClient(vendor="acme", base_url="http://127.0.0.1:9", retry=RetryPolicy(max_attempts=2, backoff_base_s=0))
    with pytest.raises(NetworkError, match="connection refused"):
        run_sync(client.request("GET", "/x", table="acme.events"))


def test_concurrency_cap(make_client: MakeClient) -> None:
    state = {"now": 0, "max": 0}

    async def handler(request: httpx.Request) -> httpx.Response:
        state["now"] += 1
        state["max"] = max(state["max"], state["now"])
        await asyncio.sleep(0.02)
        state["now"] -= 1
        return httpx.Response(200, json={})

    client = make_client(handler, concurrency=3)

    async def many() -> None:
        await asyncio.gather(*(client.request("GET", f"/x/{i}") for i in range(12)))

    run_sync(many())
    assert state["max"] == 3


def test_semaphore_not_held_during_backoff(make_client: MakeClient) -> None:
    calls: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(request.url.path)
        if request.url.path.endswith("/slow") and calls.count(request.url.path) == 1:
            return httpx.Response(503, headers={"Retry-After": "0.3"})
        return httpx.Response(200, json={})

    client = make_client(handler, concurrency=1)

    async def both() -> float:
        slow = asyncio.create_task(client.request("GET", "/slow"))
        await asyncio.sleep(0.05)
        started = time.monotonic()
        await client.request("GET", "/fast")  # must not wait for the slow one's backoff
        elapsed = time.monotonic() - started
        await slow
        return elapsed

    assert run_sync(both()) < 0.2


def test_requests_per_second_limit(make_client: MakeClient) -> None:
    handler, seen = scripted(200)
    client = make_client(handler, requests_per_second=40)

    async def many() -> float:
        started = time.monotonic()
        await asyncio.gather(*(client.request("GET", "/x") for _ in range(9)))
        return time.monotonic() - started

    elapsed = run_sync(many())
    assert len(seen) == 9
    assert 0.17 <= elapsed < 1.0  # 8 waits of 25 ms after the first token


def test_stats_are_counted_per_attempt(make_client: MakeClient) -> None:
    handler, _ = scripted(500, httpx.ConnectError, 200)
    stats = QueryStats()
    with collecting(stats):
        run_sync(make_client(handler).request("GET", "/x"))
        run_sync(make_client(scripted(200)[0]).request("GET", "/y"))
    assert stats.requests == 4
    assert stats.retries == 2


def test_aclose_and_reuse(make_client: MakeClient) -> None:
    handler, seen = scripted(200)
    client = make_client(handler)
    run_sync(client.request("GET", "/a"))
    run_sync(client.aclose())
    run_sync(client.request("GET", "/b"))
    run_sync(client.aclose())
    assert len(seen) == 2
