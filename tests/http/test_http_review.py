"""Findings of the issue-9 review in the HTTP layer (points 10, 11, 16 and 17 of the review brief).

A well-behaved vendor on real loopback sockets (:class:`ReviewVendor`) that honours whatever
``Accept-Encoding`` it is offered, sets a hundred cookies per response and can ask for a
``Retry-After`` too large to represent; IDN hosts cannot be resolved on loopback, so the origin
rule's IDN case runs on a MockTransport (the rule is checked before anything is sent).
"""

from __future__ import annotations

import gzip
import http.server
import math
import threading
import time
from collections.abc import Iterator

import httpx
import pytest

from crmql.errors import ConnectorError, RateLimitedError
from crmql.http import HttpClient, RetryPolicy, run_sync
from crmql.http.auth import StaticHeaderAuth
from crmql.http.origin import same_origin
from crmql.http.retry import RetryBudgetExceeded, parse_retry_after
from crmql.stats import QueryStats, collecting

#: the body a brotli encoder makes of ``[]`` (a vendor that honours ``br`` sends this)
BROTLI_EMPTY_LIST = b"\x0b\x02\x80[]\x03"


class _Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: ReviewVendor

    def log_message(self, *args: object) -> None:  # quiet
        pass

    def do_GET(self) -> None:  # noqa: N802 - http.server's naming
        with self.server.lock:
            self.server.seen.append(dict(self.headers.items()))
        headers: list[tuple[str, str]] = [("Content-Type", "application/json")]
        status, body = 200, b"[1]"
        if self.path.startswith("/encoded"):
            offered = self.headers.get("Accept-Encoding", "")
            if "br" in offered:  # as a vendor honouring the offer would
                body, headers = BROTLI_EMPTY_LIST, [*headers, ("Content-Encoding", "br")]
            elif "gzip" in offered:
                body, headers = gzip.compress(b"[]"), [*headers, ("Content-Encoding", "gzip")]
            else:
                body = b"[]"
        elif self.path.startswith("/cookies"):
            page = len(self.server.seen)
            headers += [("Set-Cookie", f"c{page}_{k}={'x' * 60}; Path=/") for k in range(100)]
        elif self.path.startswith("/retry-after"):
            status, body = 429, b'{"message": "slow down"}'
            headers.append(("Retry-After", self.server.retry_after))
        self.send_response(status)
        for name, value in headers:
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


class ReviewVendor(http.server.ThreadingHTTPServer):
    """A loopback vendor recording the headers of every request it gets."""

    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.lock = threading.Lock()
        self.seen: list[dict[str, str]] = []
        self.retry_after = "1e400"

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"


@pytest.fixture
def vendor() -> Iterator[ReviewVendor]:
    server = ReviewVendor()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


def _headers(seen: dict[str, str], name: str) -> str | None:
    return next((v for k, v in seen.items() if k.lower() == name.lower()), None)


# ------------------------------------------------------------------ 10: Accept-Encoding


def test_only_encodings_crmql_reads_are_offered_even_with_brotli_installed(
        vendor: ReviewVendor, monkeypatch: pytest.MonkeyPatch) -> None:
    # httpx offers br (and zstd) whenever brotli (zstandard) is importable: as it would then
    monkeypatch.setattr(httpx._client, "ACCEPT_ENCODING", "gzip, deflate, br, zstd")
    client = HttpClient(vendor="demo", base_url=vendor.url)
    assert run_sync(client.request_json("GET", "/encoded", table="demo.t")) == []
    assert _headers(vendor.seen[-1], "Accept-Encoding") == "gzip, deflate"


def test_a_configured_accept_encoding_wins(vendor: ReviewVendor) -> None:
    client = HttpClient(vendor="demo", base_url=vendor.url, headers={"Accept-Encoding": "identity"})
    assert run_sync(client.request_json("GET", "/encoded", table="demo.t")) == []
    assert _headers(vendor.seen[-1], "Accept-Encoding") == "identity"


# ------------------------------------------------------------------ 16: cookies


def test_vendor_cookies_are_never_stored_nor_sent_back(vendor: ReviewVendor) -> None:
    client = HttpClient(vendor="demo", base_url=vendor.url, concurrency=1)

    async def pages() -> None:
        for _ in range(20):  # 100 cookies of ~66 bytes per response: 130 KB of Cookie header by the end
            assert await client.request_json("GET", "/cookies", table="demo.t") == [1]

    run_sync(pages())
    run_sync(client.request_json("GET", "/cookies", table="demo.t"))  # a later statement, same client
    assert len(vendor.seen) == 21
    assert [_headers(seen, "Cookie") for seen in vendor.seen] == [None] * 21
    assert client._client is not None and len(client._client.cookies) == 0


# ------------------------------------------------------------------ 17: Retry-After past representable


@pytest.mark.parametrize("value", ["1e400", "inf", "9" * 400])
def test_a_retry_after_too_large_to_represent_is_infinite(value: str) -> None:
    assert parse_retry_after(value) == math.inf
    with pytest.raises(RetryBudgetExceeded, match="a time too long to represent"):
        RetryPolicy().next_wait(0, value)


@pytest.mark.parametrize("value", ["nan", "-1e400"])
def test_a_retry_after_that_is_no_wait_is_not_infinite(value: str) -> None:
    assert parse_retry_after(value) in (None, 0.0)


def test_retry_after_1e400_fails_at_once(vendor: ReviewVendor) -> None:
    client = HttpClient(vendor="demo", base_url=vendor.url, retry=RetryPolicy(backoff_base_s=0.5, backoff_cap_s=1))
    stats = QueryStats()
    started = time.monotonic()
    with collecting(stats), pytest.raises(RateLimitedError) as info:
        run_sync(client.request("GET", "/retry-after", table="demo.t"))
    assert time.monotonic() - started < 5  # the old code retried with its own backoff, 5 attempts
    assert len(vendor.seen) == 1 and stats.retries == 0
    text = str(info.value)
    assert text.startswith("demo (demo.t): rate limited: the vendor asked to wait a time too long to represent")
    assert "not retried" in text


# ------------------------------------------------------------------ 11: IDN and other host spellings


@pytest.mark.parametrize("base_url", ["https://bücher.example/api", "https://BÜCHER.example/api",
                                      "https://xn--bcher-kva.example/api", "http://[::1]:8080/api",
                                      "https://[::FFFF:7f00:1]/v1", "https://api.example.com./v1"])
def test_a_well_behaved_vendor_on_any_host_spelling_gets_its_token(base_url: str) -> None:
    sent: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        sent.append(request)
        return httpx.Response(200, json={"ok": True})

    auth = StaticHeaderAuth({"Authorization": "Bearer t0ken-123456"})
    client = HttpClient(vendor="demo", base_url=base_url, auth=auth, transport=httpx.MockTransport(handler))
    assert run_sync(client.request_json("GET", "/ping", table="demo.t")) == {"ok": True}
    assert sent[0].headers["Authorization"] == "Bearer t0ken-123456"


def test_the_origin_rule_still_refuses_other_hosts_under_idn() -> None:
    client = HttpClient(vendor="demo", base_url="https://bücher.example/api",
                        auth=StaticHeaderAuth({"Authorization": "Bearer t0ken-123456"}),
                        transport=httpx.MockTransport(lambda r: httpx.Response(200, json=[])))
    for url in ("https://bucher.example/api/x", "https://xn--bcher-kva.example:8443/x",
                "http://bücher.example/api/x", "https://user:pw@bücher.example/api/x"):
        with pytest.raises(ConnectorError, match="refused to send the connection's credentials") as info:
            run_sync(client.request("GET", url, table="demo.t"))
        assert "t0ken-123456" not in str(info.value)


@pytest.mark.parametrize("url, base, same", [
    ("https://xn--bcher-kva.example/api/x?page=2", "https://bücher.example/api", True),
    ("https://Bücher.example:443/api/x", "https://xn--BCHER-kva.example/api", True),
    ("http://[0:0:0:0:0:0:0:1]:8080/x", "http://[::1]:8080/api", True),
    ("https://bucher.example/api/x", "https://bücher.example/api", False),
    ("https://api.example.com/v1/x", "https://api.example.com./v1", False),  # a resolver may differ
    ("https://crm.example.com:99999/x", "https://crm.example.com/", False),
    ("https://ＥＶＩＬ.com/x", "https://evil.com/", False),  # not valid IDNA: never trusted
])
def test_same_origin_compares_hosts_as_httpx_sends_them(url: str, base: str, same: bool) -> None:
    assert same_origin(url, base) is same


# ------------------------------------------------------------------ 18: errors is the bottom layer


def test_errors_import_nothing_of_the_http_layer() -> None:
    # crmql.errors used to import crmql.http.redact and crmql.http.describe (lazily, pointing up)
    import subprocess
    import sys

    code = ("import sys, crmql.errors as e; e.VendorResponseError('x', request='GET http://h/?token=abc');"
            "print(sorted(m for m in sys.modules if m.startswith('crmql')))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True)
    assert done.stdout.strip() == "['crmql', 'crmql.errors', 'crmql.redaction']"


def test_a_request_in_an_error_is_shown_without_credentials_or_secret_values() -> None:
    from crmql.errors import VendorResponseError
    from crmql.http.redact import redact as old_path_redact
    from crmql.redaction import redact

    request = httpx.Request("GET", "https://user:pw-123456@h.test/x?api_key=k-123456&page=2")
    error = VendorResponseError("bad", vendor="demo", table="demo.t", request=request)
    assert error.request == "GET https://h.test/x?api_key=***&page=2"
    assert old_path_redact is redact  # the old import path is the same function
