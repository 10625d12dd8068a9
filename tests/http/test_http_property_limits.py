"""Property: whatever a vendor answers, a request ends within its limits with a value or a CrmqlError.

Hypothesis builds raw HTTP responses (any status, odd or lying headers, Retry-After in every
form, gzip/deflate/unknown encodings, chunked or not, JSON of any shape, truncated bodies, random
bytes); the hostile loopback server of :mod:`test_http_hostile` sends each byte for byte. The
client must return or raise a :class:`~crmql.errors.CrmqlError` (never anything else), within
``attempts x timeout_s + max_retry_wait_s`` plus slack.
"""

from __future__ import annotations

import gzip
import itertools
import json
import time
import zlib
from collections.abc import Iterator

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_http_hostile import HostileServer, hostile  # noqa: F401  (the fixture)

from crmql.errors import CrmqlError
from crmql.http import HttpClient, RetryPolicy, run_sync

TIMEOUT_S, ATTEMPTS, WAIT_S = 1.0, 2, 0.5
_keys = itertools.count()

json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**70), 2**70) | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=20),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4),
    max_leaves=30,
)


@st.composite
def bodies(draw: st.DrawFn) -> bytes:
    kind = draw(st.sampled_from(["json", "json", "truncated", "bytes", "deep", "constant", "html", "empty"]))
    if kind == "json":
        return json.dumps(draw(json_values)).encode()
    if kind == "truncated":
        raw = json.dumps(draw(json_values)).encode()
        return raw[: draw(st.integers(0, max(0, len(raw) - 1)))]
    if kind == "deep":
        depth = draw(st.sampled_from([1000, 1025, 5000, 100_000]))
        return b"[" * depth + b"]" * depth
    if kind == "constant":
        return b'{"total": ' + draw(st.sampled_from([b"NaN", b"Infinity", b"-Infinity", b"1e999"])) + b"}"
    if kind == "html":
        return b"<!DOCTYPE html><html><body>Service down</body></html>"
    if kind == "empty":
        return b""
    return draw(st.binary(max_size=200))


@st.composite
def responses(draw: st.DrawFn) -> bytes:
    status = draw(st.sampled_from([200, 200, 200, 201, 204, 301, 400, 401, 404, 429, 500, 502, 503, 599]))
    body = draw(bodies())
    headers = [f"Content-Type: {draw(st.sampled_from(['application/json', 'text/html', 'application/json; charset=latin-1', 'application/json; charset=nonsense']))}"]
    encoding = draw(st.sampled_from([None, None, "gzip", "deflate", "gzip, gzip", "br", "gzip-but-not"]))
    if encoding == "gzip":
        body = gzip.compress(body)
    elif encoding == "deflate":
        body = zlib.compress(body)
    elif encoding == "gzip, gzip":
        body = gzip.compress(gzip.compress(body))
    if encoding is not None:
        headers.append(f"Content-Encoding: {'gzip' if encoding == 'gzip-but-not' else encoding}")
    if draw(st.booleans()):
        headers.append("Retry-After: " + draw(st.sampled_from(
            ["0", "0.1", "1", "999999", "-5", "abc", "", "NaN", "1e400", "Wed, 21 Oct 2015 07:28:00 GMT",
             "Fri, 01 Jan 2100 00:00:00 GMT"])))
    framing = draw(st.sampled_from(["length", "length", "short", "long", "chunked", "broken-chunked", "close"]))
    if framing == "length":
        headers.append(f"Content-Length: {len(body)}")
    elif framing == "short":
        headers.append(f"Content-Length: {max(0, len(body) - 3)}")
    elif framing == "long":
        headers.append(f"Content-Length: {len(body) + 50}")
    elif framing in ("chunked", "broken-chunked"):
        headers.append("Transfer-Encoding: chunked")
        body = (b"%x\r\n" % len(body) + body + b"\r\n0\r\n\r\n") if framing == "chunked" else b"zz\r\n" + body
    head = f"HTTP/1.1 {status} X\r\n" + "".join(h + "\r\n" for h in headers) + "\r\n"
    return head.encode("latin-1") + body


@pytest.fixture(scope="module")
def http(hostile: HostileServer) -> Iterator[HttpClient]:  # noqa: F811
    yield HttpClient(vendor="acme", base_url=hostile.url, timeout_s=TIMEOUT_S, max_response_mb=0.01,
                     retry=RetryPolicy(max_attempts=ATTEMPTS, backoff_base_s=0.001, backoff_cap_s=0.01,
                                       max_retry_wait_s=WAIT_S))


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                  HealthCheck.too_slow, HealthCheck.data_too_large])
@given(first=responses(), second=responses())
def test_any_answer_ends_in_time_with_a_value_or_a_crmql_error(hostile: HostileServer, http: HttpClient,  # noqa: F811
                                                               first: bytes, second: bytes) -> None:
    key = str(next(_keys))
    hostile.scripts[key] = [first, second]  # a retry gets the second answer

    async def ask() -> object:
        try:
            return await http.request_json("GET", f"/raw/{key}", table="acme.events")
        except CrmqlError as exc:
            return exc

    started = time.monotonic()
    outcome = run_sync(ask())
    elapsed = time.monotonic() - started
    assert elapsed < ATTEMPTS * TIMEOUT_S + WAIT_S + 8.0, elapsed  # slack for a loaded 2-core machine
    if isinstance(outcome, CrmqlError):
        assert str(outcome) and "Traceback" not in str(outcome)
    hostile.scripts.pop(key, None)
