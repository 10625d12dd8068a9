"""Azavista-only fault checks beside the fault contract (``tests/contract/test_contract_faults.py``,
which has the exhausted-retries error for every vendor): faults injected by the served sandbox
during multi-page scans (a 200-page scan, a filtered query, LIMIT and GET by id): every kind is
retried and the result is complete and correct (the same ids, in the same order, as without faults); tokens that
expire mid-scan are renewed; exhausted retries are one clear error naming the vendor and the table
(and exit code 3 on the command line, without a traceback or a secret).

Retries here wait about a millisecond (``retry_base_s`` on the connection), and 429s carry a
``Retry-After`` of 0 or a fraction of a second, so the whole module runs in seconds.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

import crmql
from crmql.sandbox import CREDENTIALS, SandboxServer, records
from crmql.api.session import Session

from cli_support import run_crmql_in_process

FAST = {"retry_base_s": 0.001, "retry_cap_s": 0.01}
CONTACT_IDS = [c["id"] for c in records("azavista", "contacts", 42)]
EVENTS = records("azavista", "events", 42)
WORKSHOP_SQL = "SELECT id, name FROM azavista.events WHERE name LIKE '%Workshop%'"
WORKSHOP_IDS = [e["id"] for e in EVENTS if "Workshop" in e["name"]]
SCAN_SQL = "SELECT id FROM azavista.contacts"


@pytest.fixture
def faulty(sandbox: SandboxServer) -> SandboxServer:
    """The served sandbox with a little latency, so concurrent pages really overlap."""
    sandbox.settings.latency_ms = 2
    sandbox.settings.retry_after = "0"
    return sandbox


def _scan(session: Session, server: SandboxServer, faults: str) -> crmql.Result:
    session.query("SELECT id FROM azavista.organizations WHERE id = '000000000000000000000000'")  # a token first
    server.reset_log()  # fault numbering restarts at 1: the scan's own requests
    server.settings.faults = faults
    try:
        return session.execute(SCAN_SQL)
    finally:
        server.settings.faults = ""


FAULTS = {
    "429": "429@1+2+37+120+200",
    "429-fraction": "429@3+90+150",
    "500": "500@1+45+46+199",
    "502": "502@2+80+81+82",
    "503": "503@5+100+180",
    "drop": "drop@1+60+130+170",
    "expire": "expire@100",
    "mixed": "429@10,500@20,502@30,503@40,drop@50,expire@60,503=0.03",
}


@pytest.mark.parametrize("kind", list(FAULTS))
def test_full_scan_survives_faults(faulty: SandboxServer, make_session: Callable[..., Session], kind: str) -> None:
    if kind == "429-fraction":
        faulty.settings.retry_after = "0.02"
    session = make_session(**FAST)
    result = _scan(session, faulty, FAULTS[kind])
    assert list(result.frame["id"]) == CONTACT_IDS  # complete, no duplicates, in the vendor's order
    assert result.stats.retries > 0 and result.stats.pages == 200
    statuses = [s for _, p, s in faulty.request_log if p.endswith("/contact/search")]
    expected = {"429": 429, "429-fraction": 429, "500": 500, "502": 502, "503": 503, "drop": 0, "expire": 401}.get(kind)
    if expected is not None:
        assert expected in statuses
    assert statuses.count(200) == 200  # every page was answered once in the end
    if kind == "expire":  # a new token was fetched and the refused requests were sent again
        tokens = [p for _, p, s in faulty.request_log if p.endswith("/oauth/token")]
        assert tokens and result.stats.retries >= statuses.count(401)


@pytest.mark.parametrize("faults", ["429@1+3", "500@2+5", "502@1", "503@4+6", "drop@2+7", "expire@3"])
def test_multi_page_events_query_survives_faults(faulty: SandboxServer, make_session: Callable[..., Session],
                                                 faults: str) -> None:
    session = make_session(**FAST)
    session.query("SELECT COUNT(*) AS n FROM azavista.organizations")
    faulty.reset_log()
    faulty.settings.faults = faults
    result = session.execute(WORKSHOP_SQL)
    assert sorted(result.frame["id"]) == sorted(WORKSHOP_IDS) and len(WORKSHOP_IDS) > 100
    assert result.stats.retries > 0 and result.stats.pages == -(-len([e for e in EVENTS if "workshop" in e["name"].lower()]) // 50)


def test_limit_and_get_by_id_survive_faults(faulty: SandboxServer, make_session: Callable[..., Session]) -> None:
    session = make_session(**FAST)
    session.query("SELECT COUNT(*) AS n FROM azavista.organizations")
    faulty.reset_log()
    faulty.settings.faults = "503@1,drop@2,500@3"
    ids = [e["id"] for e in EVENTS[:5]]
    result = session.execute("SELECT id FROM azavista.events WHERE id IN :ids ORDER BY id", {"ids": ids})
    assert list(result.frame["id"]) == sorted(ids) and result.stats.retries == 3
    faulty.reset_log()
    faulty.settings.faults = "429@1+2"
    result = session.execute("SELECT id FROM azavista.contacts WHERE first_name != 'Sanne' LIMIT 3")
    assert len(result.frame) == 3 and result.stats.retries == 2 and result.stats.pages == 1


def test_token_expiry_by_ttl_mid_scan(faulty: SandboxServer, make_session: Callable[..., Session]) -> None:
    """Tokens live one second and the scan takes longer: each is renewed before or when it expires.

    (A TTL below one second is reported by the sandbox as ``expires_in: 0``, which the client reads
    as "unknown" (an hour), so renewals then only follow 401s, and a request whose retry carries a
    token that expires on the way fails: crmql renews once per request. See the report's repro.)"""
    faulty.settings.token_ttl_s = 1.0
    faulty.settings.latency_ms = 50  # 48 pages, two at a time: over a second
    session = make_session(concurrency=2, **FAST)
    result = session.execute("SELECT id FROM azavista.events")
    assert list(result.frame["id"]) == [e["id"] for e in EVENTS]
    tokens = [p for _, p, _ in faulty.request_log if p.endswith("/oauth/token")]
    assert len(tokens) >= 2, "the scan should outlive its first token"


def test_tokens_shorter_lived_than_a_request_wait(faulty: SandboxServer, make_session: Callable[..., Session]) -> None:
    # With concurrency 1 the queued pages wait up to ~10 x 150 ms for a slot, far longer than a
    # token lives; the token is taken inside the slot, right before sending, and is refreshed while
    # it still has twice a round trip to live, so each request goes out with one that outlives it
    # (a 0.06 s margin, a tenth of the lifetime, once lost that race to the 150 ms latency).
    faulty.settings.token_ttl_s = 0.6
    faulty.settings.latency_ms = 150
    session = make_session(concurrency=1, **FAST)
    assert len(session.query("SELECT id FROM azavista.organizations")) == 500


def test_exhausted_retries_on_the_command_line(faulty: SandboxServer, tmp_path: Path, cli_env: dict[str, str],
                                               write_config: Callable[..., Path]) -> None:
    config = write_config(tmp_path / "crmql.toml", faulty.url, max_attempts=2, **FAST)
    faulty.settings.faults = "503=1.0"
    issued: list[str] = []
    store = faulty.state.tokens
    original = store.issue_access
    store.issue_access = lambda *a, **k: issued.append(original(*a, **k)) or issued[-1]  # type: ignore[method-assign]
    argv = ["--config", str(config), "-e", "SELECT name FROM azavista.events WHERE event_type = 'sales'"]
    try:
        runs = [run_crmql_in_process(argv, env=cli_env, cwd=tmp_path),  # the command's code, in this process
                subprocess.run([sys.executable, "-m", "crmql", "--debug", "--stats", *argv],  # --debug: a real process
                               capture_output=True, text=True, env=cli_env, timeout=60)]
    finally:
        del store.issue_access
    assert issued
    for run in runs:
        assert run.returncode == 3, run.stderr
        assert "Azavista" in run.stderr and "azavista.events" in run.stderr and "503" in run.stderr
        assert "Traceback" not in run.stderr and run.stdout == ""
        for secret in [CREDENTIALS["azavista"]["client_secret"], *issued]:
            assert secret not in run.stderr
