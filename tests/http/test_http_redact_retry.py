"""Secret redaction (strings, errors, logs), RetryPolicy delays and the RateLimiter."""

from __future__ import annotations

import asyncio
import email.utils
import logging
import time
from collections.abc import Callable

import httpx
import pytest

from crmql.errors import AuthenticationError, VendorHTTPError
from crmql.http import HttpClient, OAuthClientCredentials, RateLimiter, RetryPolicy, redact, register_secret, run_sync
from crmql.http.redact import RedactingFilter, install_log_redaction

MakeClient = Callable[..., HttpClient]


# ----------------------------------------------------------------------------- redact


def test_registered_secrets_are_replaced_longest_first() -> None:
    register_secret("abcd-secret")
    register_secret("abcd-secret-longer")
    assert redact("x abcd-secret-longer y abcd-secret z") == "x *** y *** z"


@pytest.mark.parametrize("value", [None, "", "abc"])
def test_short_and_empty_values_are_ignored(value: str | None) -> None:
    register_secret(value)
    assert redact("abc def") == "abc def"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Authorization: Bearer eyJ0eXAi.eyJzdWIi.c2lnbmF0", "Authorization: Bearer ***"),
        ('{"access_token": "at-1", "token_type": "Bearer"}', '{"access_token": "***", "token_type": "Bearer"}'),
        ('{"refresh_token":"rt-1"}', '{"refresh_token":"***"}'),
        ("grant_type=client_credentials&client_secret=s3&x=1", "grant_type=client_credentials&client_secret=***&x=1"),
        ("username=bob&password=pw!", "username=bob&password=***"),
        ("X-Auth-Token: 0123abcd", "X-Auth-Token: ***"),
        ("token: zzz-111", "token: ***"),
        ('{"password": "hunter2"}', '{"password": "***"}'),
        ("{'secret': 'shh'}", "{'secret': '***'}"),
        ("Bearer token expired", "Bearer token expired"),
        ("nothing to hide here", "nothing to hide here"),
    ],
)
def test_patterns_are_scrubbed_without_registration(text: str, expected: str) -> None:
    assert redact(text) == expected


def test_vendor_error_messages_are_redacted(make_client: MakeClient) -> None:
    register_secret("sk-live-7f7f7f7f")

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(400, json={"message": "key sk-live-7f7f7f7f is not allowed; password=letmein"})

    with pytest.raises(VendorHTTPError) as info:
        run_sync(make_client(handler).request("GET", "/x"))
    text = str(info.value)
    assert "sk-live-7f7f7f7f" not in text and "letmein" not in text
    assert "key *** is not allowed" in text


def test_log_records_are_redacted(make_client: MakeClient, caplog: pytest.LogCaptureFixture) -> None:
    calls = {"n": 0}

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/token"):
            return httpx.Response(200, json={"access_token": "tok-logged-secret", "expires_in": 3600})
        calls["n"] += 1
        return httpx.Response(503 if calls["n"] == 1 else 200, json={})

    auth = OAuthClientCredentials("/token", "id", "client-secret-in-logs")
    client = make_client(handler, auth=auth)
    caplog.set_level(logging.DEBUG, logger="crmql")
    run_sync(client.request("GET", "/x", params={"api_key": "qs-secret-999", "page": 2}))
    logging.getLogger("crmql.http.client").warning("leak? %s %s", "tok-logged-secret", "client-secret-in-logs")
    logging.getLogger("crmql").error("Authorization: Bearer %s", "abc.def-123456")
    text = "\n".join(r.getMessage() for r in caplog.records)
    assert "GET http://api.test/acme/x?api_key=***&page=2 -> 503" in text
    assert "retrying" in text
    for secret in ("tok-logged-secret", "client-secret-in-logs", "qs-secret-999", "abc.def-123456"):
        assert secret not in text
    assert "leak? *** ***" in text


def test_install_log_redaction_on_a_handler_is_idempotent() -> None:
    register_secret("handler-secret-42")
    records: list[str] = []

    class Collect(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            records.append(self.format(record))

    handler = Collect()
    install_log_redaction(handler)
    install_log_redaction(handler)
    assert sum(isinstance(f, RedactingFilter) for f in handler.filters) == 1
    log = logging.getLogger("elsewhere.module")
    log.addHandler(handler)
    try:
        log.warning("value=%s", "handler-secret-42")
        try:
            raise RuntimeError("boom handler-secret-42")
        except RuntimeError:
            log.exception("failed")
    finally:
        log.removeHandler(handler)
    assert records[0] == "value=***"
    assert "handler-secret-42" not in records[1] and "boom ***" in records[1]


def test_authentication_error_from_token_endpoint_hides_secret(make_client: MakeClient) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        body = request.content.decode()
        return httpx.Response(400, json={"error": "invalid_client", "error_description": f"rejected: {body}"})

    client = make_client(handler, auth=OAuthClientCredentials("/token", "id", "Very$ecret/Value"))
    with pytest.raises(AuthenticationError) as info:
        run_sync(client.request("GET", "/x"))
    assert "Very$ecret" not in str(info.value) and "Very%24ecret" not in str(info.value)


# ----------------------------------------------------------------------------- retry policy


def test_retry_after_forms() -> None:
    policy = RetryPolicy(max_retry_after_s=60)
    assert policy.delay(0, "0") == 0.0
    assert policy.delay(0, "2.5") == 2.5
    assert policy.delay(0, "600") == 60.0
    future = email.utils.formatdate(time.time() + 10, usegmt=True)
    assert 8.0 <= policy.delay(0, future) <= 10.0
    past = email.utils.formatdate(time.time() - 100, usegmt=True)
    assert policy.delay(0, past) == 0.0


def test_exponential_backoff_with_full_jitter() -> None:
    policy = RetryPolicy(backoff_base_s=0.5, backoff_cap_s=3.0)
    for attempt, ceiling in [(0, 0.5), (1, 1.0), (2, 2.0), (3, 3.0), (10, 3.0)]:
        delays = [policy.delay(attempt, None) for _ in range(200)]
        assert all(0.0 <= d <= ceiling for d in delays)
        assert max(delays) > ceiling / 2  # jitter spans the range
    assert 0.0 <= policy.delay(1, "garbage") <= 1.0


def test_retry_policy_validation() -> None:
    with pytest.raises(ValueError):
        RetryPolicy(max_attempts=0)
    assert RetryPolicy(retry_statuses={429}).retry_statuses == frozenset({429})  # type: ignore[arg-type]


# ----------------------------------------------------------------------------- rate limiter


def test_rate_limiter_spaces_requests_and_allows_burst() -> None:
    limiter = RateLimiter(requests_per_second=20, burst=3)

    async def take(n: int) -> list[float]:
        stamps = []
        for _ in range(n):
            await limiter.acquire()
            stamps.append(time.monotonic())
        return stamps

    stamps = run_sync(take(8))
    assert stamps[2] - stamps[0] < 0.05  # the burst goes at once (not 2 x 50 ms)
    assert 0.2 <= stamps[-1] - stamps[0] < 0.8  # then 5 more at 50 ms each


def test_rate_limiter_rejects_bad_arguments() -> None:
    with pytest.raises(ValueError):
        RateLimiter(0)
    with pytest.raises(ValueError):
        RateLimiter(1, burst=0)


def test_rate_limiter_with_concurrent_waiters() -> None:
    limiter = RateLimiter(requests_per_second=100)

    async def many() -> float:
        started = time.monotonic()
        await asyncio.gather(*(limiter.acquire() for _ in range(11)))
        return time.monotonic() - started

    assert 0.09 <= run_sync(many()) < 0.5


def test_url_encoded_forms_of_a_secret_are_redacted() -> None:
    register_secret("a b/c&d=secret")
    assert redact("q=a%20b%2Fc%26d%3Dsecret and a+b%2Fc%26d%3Dsecret") == "q=*** and ***"


def test_registering_many_secrets_stays_cheap_and_all_are_redacted() -> None:
    # a long-running process (a REPL, a notebook) registers a token per session: registering the
    # 300th must not recompile anything big (it once cost 130 ms on the first request's path)
    import time

    from crmql.http.redact import redact, register_secret

    tokens = [f"tok-{i:04d}-{'x' * 24}" for i in range(300)]
    started = time.perf_counter()
    for token in tokens:
        register_secret(token)
    assert (time.perf_counter() - started) / len(tokens) < 0.01
    text = " ".join(tokens[::37]) + " and tok-0001-" + "x" * 24 + "-suffix"
    assert redact(text) == " ".join(["***"] * len(tokens[::37])) + " and ***-suffix"
