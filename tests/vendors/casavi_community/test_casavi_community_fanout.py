"""A fan-out over many communities (``community_id IN (1, ..., 20)``) against the simulator:

* every community's scan runs, at most the connection's ``concurrency`` at once (counted at the
  sandbox, with a small latency so that requests sent together are served together), and every row
  carries the community it was read for;
* one community failing (the simulator's ``fail_communities = {15: 503}``, retries run out) is one
  error naming community 15, the vendor and the table (exit code 3 from the ``crmql`` command),
  never a partial result, and the session works afterwards;
* a community that does not exist (404 ``Community not found``) beside others has no rows; when
  every community asked answers 404, crmql says its paths may be wrong (one error, the ``paths``
  setting named);
* a join giving more than 50 communities reads tickets once; a required key with 60 values reads each.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

import crmql
from crmql.sandbox import SandboxServer

from cli_support import cli_environment, run_crmql_in_process
from contract.kit import session_for

from vendors.casavi_community.spec import SPEC
from vendors.casavi_community.support import (FAST, InFlight, V, api_gets, communities_asked, config_file, ids,
                                              no_secret, of, raw, simulator)

TWENTY = tuple(range(1, 21))
IN_20 = f"community_id IN ({', '.join(map(str, TWENTY))})"


@pytest.fixture
def failing(sandbox: SandboxServer) -> Iterator[SandboxServer]:
    """The sandbox with community 15 answering 503 to every request, restored afterwards."""
    sim = simulator(sandbox)
    sim.fail_communities = {15: 503}
    try:
        yield sandbox
    finally:
        sim.fail_communities = {}


def test_twenty_communities_within_the_cap(sandbox: SandboxServer, monkeypatch: pytest.MonkeyPatch) -> None:
    flight = InFlight(r"/api/v1/communities/\d+/appointments$")
    flight.install(monkeypatch)
    sandbox.settings.latency_ms = 20
    with session_for(SPEC, sandbox.url, (("concurrency", 4),)) as session:
        frame = session.query(f"SELECT community_id, id, title FROM {V}.appointments WHERE {IN_20}")
    want = sorted((c, r["id"]) for c in TWENTY for r in of("appointments", c))
    got = sorted(zip(frame["community_id"].astype(int), ids(frame)))
    assert got == want and len(set(got)) == len(got)
    assert sorted(set(communities_asked(sandbox, "appointments"))) == list(TWENTY)
    assert 2 <= flight.most <= 4 and flight.now == 0, flight.most  # concurrent, within the cap


def test_an_optional_key_fans_out_too(sandbox: SandboxServer) -> None:
    with session_for(SPEC, sandbox.url) as session:
        frame = session.query(f"SELECT community_id, id FROM {V}.tickets WHERE {IN_20}")
    want = sorted((c, r["id"]) for c in TWENTY for r in of("tickets", c))
    assert sorted(zip(frame["community_id"].astype(int), ids(frame))) == want
    assert len(api_gets(sandbox, "/api/v1/tickets")) == 20  # one ?community_id= request each


def test_one_failing_community_is_one_error_naming_it(failing: SandboxServer) -> None:
    with session_for(SPEC, failing.url, (*FAST, ("max_attempts", 2))) as session:
        with pytest.raises(crmql.ConnectorError) as info:
            session.query(f"SELECT community_id, id FROM {V}.appointments WHERE {IN_20}")
        error = info.value
        message = str(error)
        assert isinstance(error, crmql.VendorHTTPError) and error.exit_code == 3, repr(error)
        assert "community 15" in message and "casavi Community" in message and f"{V}.appointments" in message, message
        assert 15 in communities_asked(failing, "appointments")
        simulator(failing).fail_communities = {}
        frame = session.query(f"SELECT id FROM {V}.appointments WHERE community_id = 15")  # the session still works
        assert sorted(ids(frame)) == sorted(r["id"] for r in of("appointments", 15))


def test_the_command_exits_3_naming_the_community(failing: SandboxServer, tmp_path: Path) -> None:
    config = config_file(tmp_path / "crmql.toml", failing.url, max_attempts=2, retry_base_s=0.001, retry_cap_s=0.01)
    run = run_crmql_in_process(["--config", str(config), "-e", f"SELECT id FROM {V}.notifications WHERE {IN_20}"],
                               env=cli_environment(tmp_path), cwd=tmp_path)  # the command's code, in this process
    assert run.returncode == 3 and run.stdout == "", str(run)  # no partial result printed
    assert all(part in run.stderr for part in ("community 15", "casavi Community", f"{V}.notifications")), str(run)
    assert "Traceback" not in run.stderr
    no_secret([run.stderr])


def test_a_missing_community_has_no_rows(sandbox: SandboxServer) -> None:
    """404 ``Community not found`` beside communities that answer: no rows for it. When EVERY
    community asked answers 404 the likelier cause is a wrong path (crmql's reading: the docs show
    none), so that is one error saying how to set the path."""
    with session_for(SPEC, sandbox.url) as session:
        frame = session.query(f"SELECT community_id, id FROM {V}.posts WHERE community_id IN (12, 9999)")
        assert sorted(ids(frame)) == sorted(r["id"] for r in of("posts", 12))
        assert set(frame["community_id"].astype(int)) == {12}
        assert ("/casavi_community/api/v1/communities/9999/posts", 404) in api_gets(sandbox)
        with pytest.raises(crmql.VendorHTTPError) as info:
            session.query(f"SELECT id FROM {V}.activities WHERE community_id = 9999")
    text = f"{info.value}\n{info.value.hint or ''}"
    assert "9999" in text and "paths" in text and info.value.exit_code == 3, text


def test_a_join_with_more_than_50_communities_reads_tickets_once(sandbox: SandboxServer) -> None:
    """Units on floor 3 lie in far more than 50 communities: the join's key values are too many for
    a fan-out of tickets (one request each), so tickets are read by the one unscoped request and
    joined locally; the rows are the raw data's."""
    units = [u for u in raw("units") if u.get("floor") == 3]
    assert len({u["community_id"] for u in units}) > 50
    sql = (f"SELECT u.id AS uid, t.id AS tid FROM {V}.units u JOIN {V}.tickets t ON t.community_id = u.community_id "
           "WHERE u.floor = 3")
    with session_for(SPEC, sandbox.url) as session:
        frame = session.query(sql)
    want = sorted((u["id"], t["id"]) for u in units for t in of("tickets", u["community_id"]))
    assert sorted(zip(frame["uid"].astype(int), frame["tid"].astype(int))) == want
    assert len(api_gets(sandbox, "/api/v1/tickets")) == 1, len(api_gets(sandbox, "/api/v1/tickets"))


def test_a_required_key_with_more_than_50_values_reads_each(sandbox: SandboxServer) -> None:
    """A required key has no unscoped request to fall back on: 60 communities are 60 scans."""
    sixty = range(1, 61)
    with session_for(SPEC, sandbox.url) as session:
        frame = session.query(f"SELECT community_id, id FROM {V}.appointments "
                              f"WHERE community_id IN ({', '.join(map(str, sixty))})")
    want = sorted((c, r["id"]) for c in sixty for r in of("appointments", c))
    assert sorted(zip(frame["community_id"].astype(int), ids(frame))) == want
    assert sorted(set(communities_asked(sandbox, "appointments"))) == list(sixty)
