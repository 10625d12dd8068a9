"""Fault contract, for every vendor whose spec has a ``faults`` part: faults injected by the served
sandbox into a multi-page scan (429 with Retry-After 0, 500, 502, 503, a dropped connection, every
token revoked) are retried and the result is complete and correct (the same ids as the seeded data,
no duplicates); retries that run out are one clear error naming the vendor and the table, exit
code 3, no secret in it, and the session still works afterwards.

Faults are numbered over the API requests after a warm-up run of the same query (token requests are
not counted), so the numbers land on the scan's page requests. Retries wait about a millisecond.
"""

from __future__ import annotations

from typing import Any

import pytest

import crmql
from crmql.api.config import sandbox_config
from crmql.api.session import Session
from crmql.sandbox import CREDENTIALS, SandboxServer, simulators

from contract.kit import VendorTestSpec, with_part

SPECS = with_part("faults")
FAST = {"retry_base_s": 0.001, "retry_cap_s": 0.01}
#: fault kind -> (fault spec over the scan's requests, the status the log must show; 0: dropped)
FAULTS = {
    "429": ("429@1+3", 429),
    "500": ("500@2", 500),
    "502": ("502@1+2", 502),
    "503": ("503@3", 503),
    "drop": ("drop@2", 0),
    "expire": ("expire@2", 401),
    "mixed": ("429@1,500@2,drop@3,expire@4", None),
}
RUNS = [pytest.param(spec, kind, id=f"{spec.name}-{kind}") for spec in SPECS for kind in FAULTS]


def _session(server: SandboxServer, spec: VendorTestSpec, **settings: Any) -> Session:
    config = sandbox_config(server.url)
    config.connections[spec.connection].settings.update({**FAST, **spec.faults.settings, **settings})
    return Session(config)


def _ids(result: crmql.Result) -> list[str]:
    return [str(i) for i in result.frame["id"]]


@pytest.fixture
def faulty(sandbox: SandboxServer) -> SandboxServer:
    """The served sandbox with a little latency, so concurrent pages really overlap; 429s say retry now."""
    sandbox.settings.latency_ms = 2
    sandbox.settings.retry_after = "0"
    return sandbox


@pytest.mark.parametrize("spec, kind", RUNS)
def test_a_scan_survives_faults(faulty: SandboxServer, spec: VendorTestSpec, kind: str) -> None:
    faults, status = FAULTS[kind]
    want = spec.faults.expected_ids()
    with _session(faulty, spec) as session:
        warm = session.execute(spec.faults.scan_query)
        assert sorted(_ids(warm)) == sorted(want) and warm.stats.pages >= 3  # several pages, no fault
        faulty.reset_log()
        faulty.settings.faults = faults
        result = session.execute(spec.faults.scan_query)
        faulty.settings.faults = ""
    got = _ids(result)
    assert len(got) == len(set(got)) and sorted(got) == sorted(want)  # complete, no duplicates
    assert result.stats.retries > 0
    statuses = [s for _, p, s in faulty.request_log if p.endswith(spec.faults.page_path)]
    if status is not None:
        assert status in statuses, statuses
    # every page was answered once in the end (plus the look-ahead past the last page the vendor allows)
    assert result.stats.pages <= statuses.count(200) <= result.stats.pages + spec.faults.wasted, statuses
    if kind == "expire":  # a new token was fetched and the refused request sent again
        token_paths = simulators()[spec.name].token_paths
        assert any(p.endswith(tuple(token_paths)) for _, p, _ in faulty.request_log)


@pytest.mark.parametrize("spec", [pytest.param(s, id=s.name) for s in SPECS])
def test_exhausted_retries_are_one_clear_error(faulty: SandboxServer, spec: VendorTestSpec) -> None:
    cases = {"503=1.0": crmql.VendorHTTPError, "500=1.0": crmql.VendorHTTPError,
             "429=1.0": crmql.RateLimitedError, "drop=1.0": crmql.NetworkError}
    secrets = [v for k, v in CREDENTIALS[spec.name].items() if k in ("client_secret", "password", "secret")]
    with _session(faulty, spec, max_attempts=3) as session:
        session.execute(spec.faults.scan_query)  # token (and catalog) first
        table = spec.faults.scan_query.split(" FROM ")[1].split()[0]
        for faults, error in cases.items():
            faulty.reset_log()
            faulty.settings.faults = faults
            with pytest.raises(error) as info:
                session.execute(spec.faults.scan_query)
            message = str(info.value)
            assert spec.faults.display in message and table in message, message
            assert "3 attempts" in message, message
            assert isinstance(info.value, crmql.ConnectorError) and info.value.exit_code == 3
            assert not any(s in message for s in secrets)
            pages = [e for e in faulty.request_log if e[1].endswith(spec.faults.page_path)]
            assert len(pages) == 3  # the first page failed three times; nothing else was sent
        faulty.settings.faults = ""
        assert sorted(_ids(session.execute(spec.faults.scan_query))) == sorted(spec.faults.expected_ids())
