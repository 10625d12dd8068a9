"""The HTTP layer against a hostile vendor on real loopback sockets (issue 9, points 6-9 and 4).

A small threaded raw-socket server (:class:`HostileServer`, 127.0.0.1 only, every handler bounded
in time and stopped with the fixture) answers by path: a gzip bomb, a body dripped 2 bytes a
second, ``429 Retry-After: N``, HTML, JSON nested 100k deep, ``NaN``/``Infinity``. Each test
checks that the statement ends within its limits with a :class:`~crmql.errors.CrmqlError` naming
the vendor, the table and the request (redacted), never a hang, a traceback or unbounded memory.
"""

from __future__ import annotations

import functools
import os
import socket
import socketserver
import threading
import time
import tracemalloc
import zlib
from collections.abc import Iterator

import pytest

from crmql.errors import AuthenticationError, CrmqlError, NetworkError, RateLimitedError, RequestBudgetError, VendorResponseError
from crmql.http import HttpClient, OAuthClientCredentials, RetryPolicy, run_sync
from crmql.stats import QueryStats, collecting

#: no handler runs longer than this, whatever the client does
HANDLER_LIMIT_S = 20.0
#: how far the gzip bomb inflates (1024 for the issue's 1 GB figure; the test needs far less)
BOMB_MB = int(os.environ.get("CRMQL_TEST_BOMB_MB", "200"))


@functools.lru_cache(maxsize=1)
def bomb() -> bytes:
    """BOMB_MB of zeros as gzip (~1 KB per MB on the wire), compressed a megabyte at a time."""
    z = zlib.compressobj(9, zlib.DEFLATED, zlib.MAX_WBITS | 16)
    block = b"0" * (1 << 20)
    return b"".join([*(z.compress(block) for _ in range(BOMB_MB)), z.flush()])


#: a well-behaved page of 50 records (~20 KB), for overhead measurements
_PAGE = ('{"items": [' + ",".join(f'{{"id": "{i:08d}", "name": "Contact {i}", "email": "c{i}@example.com", '
                                  f'"country": "NL", "score": {i * 1.5}}}' for i in range(50)) + '], "total": 50}').encode()


class _Handler(socketserver.BaseRequestHandler):
    server: HostileServer

    def handle(self) -> None:
        sock = self.request
        sock.settimeout(HANDLER_LIMIT_S)
        try:
            while True:  # keep-alive: one request after another on this connection
                head = b""
                while b"\r\n\r\n" not in head:
                    chunk = sock.recv(65536)
                    if not chunk:
                        return
                    head += chunk
                    if len(head) > 1 << 20:
                        return
                line = head.split(b"\r\n", 1)[0].decode("latin-1")
                path = line.split(" ")[1]
                with self.server.lock:
                    self.server.seen.append(path)
                if not self.answer(sock, path):
                    return
        except OSError:
            return

    def answer(self, sock: socket.socket, path: str) -> bool:
        """Answer one request; False closes the connection."""
        if path.startswith("/drip"):
            body = b'{"items": [' + b" " * 200 + b"]}"
            sock.sendall(self.head(200, len(body)))
            deadline = time.monotonic() + HANDLER_LIMIT_S
            for i in range(0, len(body), 2):  # 2 bytes a second, for at most HANDLER_LIMIT_S
                if time.monotonic() > deadline or self.server.stopping.is_set():
                    return False
                sock.sendall(body[i:i + 2])
                time.sleep(1.0)
            return True
        if path.startswith("/vendor/"):  # /vendor/<mode>/...: an Azavista-like vendor answering as /<mode> (~ for /)
            mode, rest = path.split("/")[2], "/" + "/".join(path.split("/")[3:])
            if rest.startswith("/3.0/oauth/token"):
                body = b'{"access_token": "tok-0123456789abcdef", "token_type": "bearer", "expires_in": 3600}'
                sock.sendall(self.head(200, len(body)) + body)
                return True
            return self.answer(sock, "/" + mode.replace("~", "/"))
        if path.startswith("/raw/"):  # a scripted response, byte for byte; then the connection closes
            with self.server.lock:
                queue = self.server.scripts.get(path[5:]) or [b""]
                script = queue.pop(0)
            sock.sendall(script)
            return False
        if path.startswith("/bomb"):
            sock.sendall(self.head(200, len(bomb()), extra="Content-Encoding: gzip\r\n") + bomb())
            return True
        if path.startswith("/retry-after/"):
            sock.sendall(self.head(429, 2, extra=f"Retry-After: {path.rsplit('/', 1)[1]}\r\n") + b"{}")
            return True
        bodies = {
            "/html": b"<!DOCTYPE html><html><body><h1>Maintenance</h1></body></html>",  # sent as text/html
            "/deep": b"[" * 100_000 + b"]" * 100_000,
            "/nan": b'{"items": [], "total": NaN}',
            "/infinity": b'{"items": [], "total": Infinity}',
            "/minus-infinity": b'{"items": [{"n": -Infinity}]}',
            "/ok": b'{"ok": true}',
            "/page": _PAGE,
        }
        name = path.split("?")[0]
        body = bodies.get(name, b"{}")
        sock.sendall(self.head(200, len(body), content_type="text/html" if name == "/html" else "application/json") + body)
        return True

    @staticmethod
    def head(status: int, length: int, *, extra: str = "", content_type: str = "application/json") -> bytes:
        return (f"HTTP/1.1 {status} X\r\nContent-Type: {content_type}\r\nContent-Length: {length}\r\n"
                f"{extra}\r\n").encode()


class HostileServer(socketserver.ThreadingTCPServer):
    """A misbehaving vendor on 127.0.0.1 (an ephemeral port); ``seen`` lists the paths asked for."""

    daemon_threads = True
    allow_reuse_address = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.lock = threading.Lock()
        self.seen: list[str] = []
        #: raw responses by key, for ``GET /raw/<key>``: each request takes the next one (then b"")
        self.scripts: dict[str, list[bytes]] = {}
        self.stopping = threading.Event()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"


@pytest.fixture(scope="module")
def hostile() -> Iterator[HostileServer]:
    server = HostileServer()
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.stopping.set()
        server.shutdown()
        server.server_close()


def client(server: HostileServer, **kwargs: object) -> HttpClient:
    kwargs.setdefault("retry", RetryPolicy(max_attempts=1))
    return HttpClient(vendor="acme", base_url=server.url, **kwargs)  # type: ignore[arg-type]


# ----------------------------------------------------------------------------- 6: body size


def test_gzip_bomb_fails_at_the_cap_without_inflating_it(hostile: HostileServer) -> None:
    """200 MB of zeros in ~200 KB of gzip, cap 2 MB: a clear error, and memory stays near the cap."""
    http = client(hostile, max_response_mb=2)
    tracemalloc.start()
    try:
        with pytest.raises(VendorResponseError) as info:
            run_sync(http.request_json("GET", "/bomb?api_key=hunter2hunter2", table="acme.events"))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    text = str(info.value)
    assert "acme (acme.events)" in text and "2 MB" in text and "max_response_mb" in text
    assert "/bomb?api_key=***" in text and "hunter2" not in text
    assert info.value.exit_code == 3
    assert peak < 16 << 20, f"peak {peak / 2**20:.0f} MB"  # the property (before: 883 MB); time is the benchmark's


def test_body_under_the_cap_is_read_whole(hostile: HostileServer) -> None:
    assert run_sync(client(hostile, max_response_mb=1).request_json("GET", "/ok")) == {"ok": True}


# ----------------------------------------------------------------------------- 7: whole-response deadline


def test_timeout_is_a_deadline_for_the_whole_response(hostile: HostileServer) -> None:
    """Headers at once, then 2 bytes a second: timeout_s = 1 ends each attempt after ~1 s, and the
    retries stay bounded (2 attempts, no backoff: ~2 s in all) and are reported."""
    http = client(hostile, timeout_s=1, retry=RetryPolicy(max_attempts=2, backoff_base_s=0))
    started = time.perf_counter()
    with pytest.raises(NetworkError) as info:
        run_sync(http.request_json("GET", "/drip", table="acme.events"))
    elapsed = time.perf_counter() - started
    assert 1.9 < elapsed < 12, elapsed  # before: as long as the server kept dripping (20 s here)
    text = str(info.value)
    assert "acme (acme.events): timed out after 1 s" in text and "gave up after 2 attempts in" in text


# ----------------------------------------------------------------------------- 8: Retry-After budget


def test_retry_after_beyond_the_budget_fails_at_once(hostile: HostileServer) -> None:
    http = client(hostile, retry=RetryPolicy(max_attempts=5))
    started = time.perf_counter()
    with pytest.raises(RateLimitedError) as info:
        run_sync(http.request("GET", "/retry-after/999999", table="acme.events"))
    assert time.perf_counter() - started < 15  # before: 60 s a wait, 240 s in all
    assert "asked to wait 999999 s" in str(info.value) and "max_retry_wait_s" in str(info.value)
    assert info.value.exit_code == 3


def test_retry_after_waits_add_up_to_the_budget_at_most(hostile: HostileServer) -> None:
    """Retry-After: 1 with a 2.5 s budget: two waits of 1 s fit, the third would not: ~2 s, 3 requests."""
    http = client(hostile, retry=RetryPolicy(max_attempts=10, max_retry_wait_s=2.5))
    before = len(hostile.seen)
    started = time.perf_counter()
    with pytest.raises(RateLimitedError, match=r"more than the 0.5 s left of the 2.5 s retry budget"):
        run_sync(http.request("GET", "/retry-after/1", table="acme.events"))
    assert 1.9 < time.perf_counter() - started < 15
    assert len(hostile.seen) - before == 3


# ----------------------------------------------------------------------------- 9: malformed bodies


@pytest.mark.parametrize("path, what", [
    ("/html", "the body is not JSON (text/html), starting '<!DOCTYPE html>"),
    ("/deep", "nests deeper than 1024 levels"),
    ("/nan", "the body holds NaN, which is not JSON"),
    ("/infinity", "the body holds Infinity, which is not JSON"),
    ("/minus-infinity", "the body holds -Infinity, which is not JSON"),
])
def test_malformed_200_bodies_are_vendor_response_errors(hostile: HostileServer, path: str, what: str) -> None:
    with pytest.raises(VendorResponseError) as info:
        run_sync(client(hostile).request_json("GET", f"{path}?token=s3cr3t-t0ken", table="acme.events"))
    text = str(info.value)
    assert text.startswith(f"acme (acme.events): malformed response to GET {hostile.url}{path}?token=***: ")
    assert what in text and "s3cr3t" not in text
    assert info.value.exit_code == 3 and isinstance(info.value, CrmqlError)


def test_deep_json_with_long_integers_takes_the_exact_path_and_still_fails_cleanly() -> None:
    """A 19+ digit run sends the body to the standard library: its RecursionError is caught too."""
    import httpx

    from crmql.http.decode import decode_json

    body = b"[" * 100_000 + b"12345678901234567890123" + b"]" * 100_000
    with pytest.raises(VendorResponseError, match="nests deeper than 1024 levels"):
        decode_json(httpx.Response(200, content=body), vendor="acme", table="acme.events")
    shallow = b"[" * 1100 + b"12345678901234567890123" + b"]" * 1100  # below the recursion limit
    with pytest.raises(VendorResponseError, match="nests deeper than 1024 levels"):
        decode_json(httpx.Response(200, content=shallow), vendor="acme", table="acme.events")


# ----------------------------------------------------------------------------- 4: request budget


def test_request_budget_per_statement(hostile: HostileServer) -> None:
    http = client(hostile, max_requests=3)

    async def many(n: int) -> None:
        for _ in range(n):
            await http.request_json("GET", "/ok", table="acme.events")

    with collecting(QueryStats()):
        run_sync(many(3))  # exactly the budget
    statement = QueryStats()
    with collecting(statement), pytest.raises(RequestBudgetError) as info:
        run_sync(many(10))
    assert statement.requests == 3
    assert str(info.value).startswith("acme (acme.events): request budget of 3 requests for one statement exceeded")
    assert info.value.exit_code == 3
    with collecting(QueryStats()):  # a new statement starts afresh
        run_sync(many(2))


# ----------------------------------------------------------------------------- 9: the token endpoint


@pytest.mark.parametrize("body, error, words", [
    (b"[" * 100_000 + b"]" * 100_000, VendorResponseError, "nests deeper than 1024 levels"),
    (b"<html>login page</html>", VendorResponseError, "the body is not JSON"),
    (b'{"access_token": "abc", "expires_in": NaN}', VendorResponseError, "NaN, which is not JSON"),
    (b'{"access_token": {"a": 1}}', AuthenticationError, "access_token that cannot be sent in a header"),
    (b'{"access_token": "abc\\r\\nX-Evil: 1"}', AuthenticationError, "access_token that cannot be sent"),
    (b'{"token_type": "bearer"}', AuthenticationError, "without an access_token"),
])
def test_a_malformed_token_response_is_a_crmql_error(body: bytes, error: type, words: str) -> None:
    import httpx

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, content=body)

    http = HttpClient(vendor="acme", base_url="http://api.test", auth=OAuthClientCredentials("/oauth/token", "id", "sec-ret-1"),
                      transport=httpx.MockTransport(handler), retry=RetryPolicy(max_attempts=1))
    with pytest.raises(error, match=words) as info:
        run_sync(http.request("GET", "/x", table="acme.events"))
    assert info.value.exit_code == 3


@pytest.mark.parametrize("expires_in", ['"NaN"', "-5", '"1e999"', "true", '"soon"', "1e400"])
def test_an_odd_expires_in_falls_back_to_the_default(expires_in: str) -> None:
    """A token whose lifetime is not a finite, non-negative number lives the default time: one
    token request for many requests, not one per request."""
    import httpx

    seen: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request.url.path)
        if request.url.path == "/oauth/token":
            return httpx.Response(200, content=f'{{"access_token": "tok-12345", "expires_in": {expires_in}}}'.encode())
        return httpx.Response(200, json={"ok": True})

    http = HttpClient(vendor="acme", base_url="http://api.test", auth=OAuthClientCredentials("/oauth/token", "id", "sec-ret-1"),
                      transport=httpx.MockTransport(handler))

    async def three() -> None:
        for _ in range(3):
            await http.request("GET", "/x")

    run_sync(three())
    assert seen.count("/oauth/token") == 1


def test_an_error_status_with_a_deep_body_is_described_not_crashed() -> None:
    """describe.vendor_message reads error bodies with the standard library: RecursionError is caught."""
    import httpx

    from crmql.errors import VendorHTTPError

    body = b'{"message": ' + b"[" * 100_000 + b"]" * 100_000 + b"}"
    http = HttpClient(vendor="acme", base_url="http://api.test", retry=RetryPolicy(max_attempts=1),
                      transport=httpx.MockTransport(lambda r: httpx.Response(500, content=body)))
    with pytest.raises(VendorHTTPError, match=r"acme \(acme.events\): internal server error: gave up") as info:
        run_sync(http.request("GET", "/x", table="acme.events"))
    assert len(str(info.value)) < 500  # the body's start only


# ----------------------------------------------------------------------------- the CLI, end to end


@pytest.mark.parametrize("mode, settings, words, within", [
    ("html", "", "Azavista (azavista.events): malformed response to POST {url}/vendor/html/3.0/event/search: "
                 "the body is not JSON (text/html)", 30),
    ("nan", "", "the body holds NaN, which is not JSON", 30),
    ("bomb", "", "the body is larger than the 64 MB limit (max_response_mb)", 30),
    ("drip", "timeout_s = 1\nmax_attempts = 1\n", "Azavista (azavista.events): timed out after 1 s", 20),
    ("retry-after~999999", "", "the vendor asked to wait 999999 s", 30),
])
def test_the_cli_exits_3_naming_vendor_table_and_request(hostile: HostileServer, tmp_path: pytest.TempPathFactory,
                                                         mode: str, settings: str, words: str, within: float) -> None:
    import subprocess
    import sys
    from pathlib import Path

    from cli_support import run_crmql_in_process

    config = Path(str(tmp_path)) / "crmql.toml"
    config.write_text(f'[connections.azavista]\nbase_url = "{hostile.url}/vendor/{mode}"\nclient_id = "me"\n'
                      f'client_secret = "not-a-real-secret-1"\n{settings}', encoding="utf-8")
    config.chmod(0o600)
    argv, started = ["--config", str(config), "-e", "SELECT name FROM azavista.events WHERE event_type = 'sales'"], time.monotonic()
    done = (subprocess.run([sys.executable, "-m", "crmql", *argv], capture_output=True, text=True, timeout=60)
            if mode == "drip"  # a real process: a read that never ends must not keep it from exiting; the rest in this one
            else run_crmql_in_process(argv, env=dict(os.environ), cwd=Path(str(tmp_path))))
    elapsed = time.monotonic() - started
    assert done.returncode == 3, done.stderr
    assert words.format(url=hostile.url) in done.stderr, done.stderr
    assert "internal error" not in done.stderr and "Traceback" not in done.stderr
    assert "not-a-real-secret-1" not in done.stderr and "tok-0123456789abcdef" not in done.stderr
    assert elapsed < within, elapsed


def test_a_declared_length_past_the_cap_fails_before_reading() -> None:
    import httpx

    from crmql.http.body import BodyTooLarge, read_capped

    class Endless(httpx.AsyncByteStream):
        async def __aiter__(self):  # type: ignore[override]
            raise AssertionError("the body was read")
            yield b""

    response = httpx.Response(200, headers={"Content-Length": str(10 << 20)}, stream=Endless())
    with pytest.raises(BodyTooLarge):
        run_sync(read_capped(response, 1 << 20))


def test_the_client_never_attaches_credentials_off_its_origin() -> None:
    """Whatever URL a connector passes, the token stays on the connection's scheme, host and port."""
    import httpx

    from crmql.errors import ConnectorError
    from crmql.http.auth import StaticHeaderAuth

    seen: list[tuple[str, str | None]] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append((str(request.url), request.headers.get("Authorization")))
        return httpx.Response(200, json={"ok": True})

    client = HttpClient(vendor="acme", base_url="https://api.test/v1", transport=httpx.MockTransport(handler),
                        auth=StaticHeaderAuth({"Authorization": "Bearer sekrit-token"}))
    assert run_sync(client.request_json("GET", "items")) == {"ok": True}
    for url in ("https://evil.test/v1/items", "http://api.test/v1/items", "https://api.test:8443/v1/items"):
        with pytest.raises(ConnectorError, match="refused to send") as info:
            run_sync(client.request("GET", url, table="acme.items"))
        assert "sekrit" not in str(info.value)
    assert seen == [("https://api.test/v1/items", "Bearer sekrit-token")]
    # an API key configured as a header is a credential too
    keyed = HttpClient(vendor="acme", base_url="https://api.test/v1", transport=httpx.MockTransport(handler),
                       headers={"X-Api-Key": "sekrit-key"})
    with pytest.raises(ConnectorError, match="refused to send"):
        run_sync(keyed.request("GET", "https://evil.test/x", table="acme.items"))
    assert len(seen) == 1
