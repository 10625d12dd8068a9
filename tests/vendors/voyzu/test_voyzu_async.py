"""Voyzu's asynchronous invocation end to end (``?async=true``, then polls of the RequestStatus) over
real HTTP against the simulator, its jobs made short (tens of milliseconds):

* the gateway limit (``voyzu.gateway=strict``: a sync answer of more than 500 rows is a 504): a full
  scan goes async after the first 504 and gives the same rows as the sync scan; the later pages go
  async at once (one 504 in all);
* progress: every status reaches the statement's QueryStats (``job_percent`` rising, ``job_note``);
* the three status paths (``voyzu.poll_path``): the next is tried only after a 404, and remembered;
* the result as a presigned-style link (``voyzu.async_result=link``): fetched with no session (the
  sandbox refuses one with a 400);
* a FAILED (or ERROR) job and a job that never ends (``async_deadline_s``): one clear error each.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

import crmql
from crmql.sandbox import SandboxServer
from crmql.stats import QueryStats

from vendors.voyzu.support import (SEARCH, SMALL, STATUS_PATHS, V, calls, fail_next, fast_async, ids, reset, session,
                                   simulator, small_ids, stall)

FULL = f"SELECT id FROM {V}.contacts"
#: contacts served where the job is the point (the gateway test serves SMALL: two pages over 500 rows)
FEW = 600


def few_ids() -> list[str]:
    return small_ids()[:FEW]


@pytest.fixture
def voyzu(sandbox_server: SandboxServer) -> Iterator[SandboxServer]:
    reset(sandbox_server)
    fast_async(sandbox_server, contacts=FEW)
    yield sandbox_server
    reset(sandbox_server)


def test_the_gateway_limit_sends_the_scan_async_with_the_same_rows(voyzu: SandboxServer) -> None:
    fast_async(voyzu, contacts=SMALL)
    with session(voyzu) as s:
        sync = ids(s.query(FULL))
    assert sorted(sync) == small_ids()
    voyzu.reset_log()
    voyzu.settings.variants = {f"{V}.gateway": "strict"}
    with session(voyzu) as s:
        result = s.execute(FULL)
    assert sorted(ids(result.frame)) == sorted(sync) and len(result.frame) == len(sync)
    searches = [status for _, status in calls(voyzu, SEARCH)]
    assert searches.count(504) == 1, searches  # later requests of the resource went async at once
    assert calls(voyzu, STATUS_PATHS["request-status"]), "the job was polled"


def test_never_async_says_the_gateway_limit(voyzu: SandboxServer) -> None:
    voyzu.settings.variants = {f"{V}.gateway": "strict"}
    with session(voyzu, **{"async": "never"}) as s:
        with pytest.raises(crmql.ConnectorError) as info:
            s.query(FULL)
    text = str(info.value) + " " + str(getattr(info.value, "hint", "") or "")
    assert "30 s gateway limit" in text and 'async = "auto"' in text, text
    assert calls(voyzu, STATUS_PATHS["request-status"]) == []


def test_progress_reaches_the_statement_stats(voyzu: SandboxServer) -> None:
    fast_async(voyzu, async_base_ms=1200, async_ms_per_1000=0)  # polls at about 0.25 s and 0.75 s see it run
    seen: list[tuple[float | None, str | None]] = []
    st = QueryStats()
    st.on_progress = lambda stats: seen.append((stats.job_percent, stats.job_note))
    with session(voyzu, **{"async": "always"}) as s:
        result = s.execute(FULL + " WHERE last_name LIKE 'Sch%'", statement_stats=st)
    assert len(result.frame) >= 0
    percents = [p for p, _ in seen if p is not None]
    assert len(set(percents)) >= 2 and percents == sorted(percents), seen  # it rose while the job ran
    assert any(note for _, note in seen), seen
    assert st.job_percent is None  # cleared when the job ended


@pytest.mark.parametrize("reading", sorted(STATUS_PATHS))
def test_every_status_path_is_found_and_remembered(voyzu: SandboxServer, reading: str) -> None:
    voyzu.settings.variants = {f"{V}.poll_path": reading}
    order = ["request-status", "api-request", "request"]
    want = few_ids()[:300]
    with session(voyzu, **{"async": "always"}) as s:
        for _ in range(2):  # the second job polls the remembered path at once
            assert sorted(ids(s.query(FULL + f" WHERE id <= '{want[-1]}'"))) == want
    for earlier in order[:order.index(reading)]:
        tried = [st for _, st in calls(voyzu, STATUS_PATHS[earlier])]
        assert tried == [404], (earlier, tried)  # tried once, then the working path is remembered
    assert set(st for _, st in calls(voyzu, STATUS_PATHS[reading])) == {200}


def test_a_result_link_is_fetched_without_the_session(voyzu: SandboxServer) -> None:
    voyzu.settings.variants = {f"{V}.async_result": "link"}
    with session(voyzu, **{"async": "always"}) as s:
        got = ids(s.query(FULL))
    assert sorted(got) == few_ids()
    fetches = simulator(voyzu).jobs.link_fetches
    assert fetches and not any(credentials for _, credentials in fetches), fetches  # (a session: 400)


@pytest.mark.parametrize("status", ["FAILED", "ERROR"])
def test_a_failed_job_is_one_clear_error(voyzu: SandboxServer, status: str) -> None:
    voyzu.settings.variants = {f"{V}.failure_status": status}
    with session(voyzu, **{"async": "always"}) as s:
        fail_next(voyzu, "the search index is rebuilding")
        with pytest.raises(crmql.ConnectorError) as info:
            s.query(FULL)
        message = str(info.value)
        assert "asynchronous request" in message and f"failed (ProcessStatus {status})" in message, message
        assert "the search index is rebuilding" in message, message  # the status's Commentary: words for users
        assert info.value.exit_code == 3 and "voyzu.contacts" in message
        assert sorted(ids(s.query(FULL))) == few_ids()  # the next job runs


def test_a_job_that_never_ends_meets_the_deadline(voyzu: SandboxServer) -> None:
    stall(voyzu)
    with session(voyzu, **{"async": "always", "async_deadline_s": 1}) as s:
        with pytest.raises(crmql.ConnectorError) as info:
            s.query(FULL)
    text = str(info.value) + " " + str(getattr(info.value, "hint", "") or "")
    assert "did not finish within 1 s" in text and "90%" in text and "async_deadline_s" in text, text
    assert len(calls(voyzu, STATUS_PATHS["request-status"])) <= 10  # polled with backoff, not in a tight loop
