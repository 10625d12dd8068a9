"""The issue's user queries end to end over real HTTP against the casavi Community simulator (a
session on the served sandbox, rows checked against the seeded raw records), and the ``crmql``
command (run once: ``--debug`` as a subprocess, the rest through its ``main`` in this process):
the issue's three commands, the required-filter error, ``--debug`` without a secret, and
``crmql sandbox dump casavi_community.tickets``.

* which tickets are open in community 12; open tickets of 12, 15 and 18 by community (a fan-out of
  ``?community_id=``); what residents of 12 were notified about in the last 7 days, unread;
* a table that needs ``community_id`` (``ticket_id``, ``id``) without it: one error naming the table,
  the column, ``= or IN`` and an example, before any request (not even discovery or a token);
* joins that supply the key: units to notifications on ``community_id``, and casavi Manager
  properties to community tickets on ``p.id = t.community_reference_id`` (the sandbox's mapping of a
  community to a property, not a documented fact);
* ``COUNT(*)`` of unread notifications reads the vendor's ``count``: one request per community even
  where the rows would take several.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

import crmql
from crmql.sandbox import SandboxServer, records

from cli_support import Run, Tokens, cli_environment, ok, parallel, reset_sandbox, run_crmql, run_crmql_in_process
from contract.kit import session_for

from vendors.casavi_community.spec import SPEC
from vendors.casavi_community.support import (API, V, api_gets, communities_asked, config_file, ids, no_secret, of,
                                              raw)

Q1 = f"SELECT id, title, status FROM {V}.tickets WHERE community_id = 12 AND status = 'OPEN'"
Q2 = (f"SELECT community_id, COUNT(*) AS open FROM {V}.tickets WHERE community_id IN (12, 15, 18) "
      "AND status = 'OPEN' GROUP BY community_id")
Q3 = (f"SELECT * FROM {V}.notifications WHERE community_id = 12 AND created_at > NOW() - INTERVAL '7 days' "
      "AND unread = TRUE")
#: a required table -> (its key column, a query without it)
REQUIRED = {t: ("community_id", f"SELECT * FROM {V}.{t}") for t in
            ("appointments", "posts", "important_contacts", "notifications", "activities", "unread_counts")}
REQUIRED["ticket_details"] = ("id", f"SELECT * FROM {V}.ticket_details WHERE title = 'x'")
REQUIRED["ticket_comments"] = ("ticket_id", f"SELECT * FROM {V}.ticket_comments")


def _utc(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text.replace("Z", "+00:00"))


def open_tickets(community: int) -> list[tuple[int, str, str]]:
    return sorted((r["id"], r["title"], r["status"]) for r in of("tickets", community) if r["status"] == "OPEN")


def recent_unread(community: int, now: dt.datetime) -> set[int]:
    since = now - dt.timedelta(days=7)
    return {r["id"] for r in of("notifications", community) if r["read"] is False and _utc(r["createdAt"]) > since}


@pytest.fixture(scope="module")
def session(sandbox_server: SandboxServer) -> Any:
    """One session for the module's read-only queries (default readings)."""
    reset_sandbox(sandbox_server)
    with session_for(SPEC, sandbox_server.url) as s:
        yield s


# ---- the issue's queries ---------------------------------------------------------------------------

def test_open_tickets_of_one_community(sandbox: SandboxServer, session: Any) -> None:
    want = open_tickets(12)
    assert want, "community 12 has OPEN tickets (the contract)"
    frame = session.query(Q1)
    assert list(frame.columns) == ["id", "title", "status"]
    assert sorted(zip(ids(frame), frame["title"], frame["status"])) == want
    assert [p for p, _ in api_gets(sandbox)] == [f"{API}/tickets"]  # one request, ?community_id=12


def test_open_tickets_by_community(sandbox: SandboxServer, session: Any) -> None:
    want = {c: len(open_tickets(c)) for c in (12, 15, 18)}
    assert all(want.values())
    frame = session.query(Q2)
    assert {int(c): int(n) for c, n in zip(frame["community_id"], frame["open"])} == want
    assert [p for p, _ in api_gets(sandbox)] == [f"{API}/tickets"] * 3  # one per community
    explain = session.explain(Q2)
    assert "community_id=12" in explain and "community_id=18" in explain, explain


def test_unread_notifications_of_the_last_week(sandbox: SandboxServer, session: Any) -> None:
    before = dt.datetime.now(dt.timezone.utc)
    result = session.execute(Q3)
    want = recent_unread(12, dt.datetime.now(dt.timezone.utc))  # NOW() fell between the two
    assert want, "community 12 has unread notifications in the last 7 days (the contract)"
    got = set(ids(result.frame))
    assert want <= got <= recent_unread(12, before) and len(result.frame) == len(got)
    columns = {"community_id", "id", "type", "title", "created_at", "unread", "read_at", "link"}
    assert columns <= set(result.frame.columns)
    assert set(result.frame["community_id"].astype(int)) == {12} and result.frame["unread"].all()
    assert set(communities_asked(sandbox, "notifications")) == {12}
    explain = session.explain(Q3)
    assert "unreadOnly=true" in explain and "after=" in explain, explain


# ---- the required filter ---------------------------------------------------------------------------

@pytest.mark.parametrize("table", sorted(REQUIRED))
def test_a_required_filter_fails_before_any_request(sandbox: SandboxServer, table: str) -> None:
    column, sql = REQUIRED[table]
    with session_for(SPEC, sandbox.url) as fresh:  # no token yet: not even discovery may be sent
        with pytest.raises(crmql.QueryError) as info:
            fresh.query(sql)
    error = info.value
    assert f"{V}.{table} needs a filter on {column} (= or IN)" in error.message, error.message
    assert error.hint and f"WHERE {column} = " in error.hint and f"{V}.{table}" in error.hint, error.hint
    assert error.exit_code == 1
    assert sandbox.request_log == []


# ---- joins that supply the key ----------------------------------------------------------------------

def test_units_joined_to_notifications_supply_the_community(sandbox: SandboxServer, session: Any) -> None:
    unit = of("units", 12)[0]
    sql = (f"SELECT u.id AS unit, n.id AS nid FROM {V}.units u JOIN {V}.notifications n "
           f"ON n.community_id = u.community_id WHERE u.reference_id = '{unit['referenceId']}'")
    frame = session.query(sql)
    assert sorted(int(i) for i in frame["nid"]) == sorted(r["id"] for r in of("notifications", 12))
    assert set(frame["unit"].astype(int)) == {unit["id"]}
    assert set(communities_asked(sandbox, "notifications")) == {12}  # only the unit's community was read


def test_manager_properties_joined_to_community_tickets(sandbox: SandboxServer, session: Any) -> None:
    ticket = of("tickets", 12)[0]
    ref = ticket["Community"]["referenceId"]
    prop = next(p for p in records("casavi", "properties", 42) if p["id"] == ref)
    sql = (f"SELECT p.id AS pid, p.name, t.id, t.title FROM casavi.properties p JOIN {V}.tickets t "
           f"ON p.id = t.community_reference_id WHERE p.id = '{ref}'")
    frame = session.query(sql)
    assert sorted(ids(frame)) == sorted(r["id"] for r in raw("tickets") if r["Community"]["referenceId"] == ref)
    assert set(frame["pid"]) == {ref} and set(frame["name"]) == {prop["name"]}
    assert prop["name"] == ticket["Community"]["name"]  # community n is the n-th Manager property


# ---- COUNT(*) from the vendor's counts ----------------------------------------------------------------

def test_count_of_unread_notifications_reads_the_counts(sandbox: SandboxServer, session: Any) -> None:
    unread: dict[int, int] = {}
    for r in raw("notifications"):
        unread[r["community_id"]] = unread.get(r["community_id"], 0) + (r["read"] is False)
    most = sorted(unread, key=lambda c: (-unread[c], c))[:3]
    assert unread[most[0]] > 50  # its rows would take more than one answer of 50
    sql = (f"SELECT COUNT(*) AS n FROM {V}.notifications WHERE community_id IN ({', '.join(map(str, most))}) "
           "AND unread = TRUE")
    sandbox.reset_log()
    result = session.execute(sql)
    assert int(result.frame["n"][0]) == sum(unread[c] for c in most)
    assert sorted(communities_asked(sandbox, "notifications")) == sorted(most)  # one request each
    assert "COUNT(*) is read from the vendor's total" in session.explain(sql)
    busiest = max(unread, key=lambda c: (len(of("notifications", c)), -c))
    for where, keep in (("", lambda r: True), (" AND unread = FALSE", lambda r: r["read"] is True)):
        sandbox.reset_log()
        n = session.query(f"SELECT COUNT(*) AS n FROM {V}.notifications WHERE community_id = {busiest}{where}")
        assert int(n["n"][0]) == sum(1 for r in of("notifications", busiest) if keep(r)), where
        asked = communities_asked(sandbox, "notifications")
        assert (len(asked) == 1) == (where == ""), asked  # unread = FALSE is counted over the rows


# ---- the crmql command ----------------------------------------------------------------------------

@pytest.fixture(scope="module")
def runs(sandbox_server: SandboxServer, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Run]:
    """The issue's three commands in one run, the required-filter error, a ``--debug`` run and
    ``crmql sandbox dump casavi_community.tickets``, started together once."""
    reset_sandbox(sandbox_server)
    tokens = Tokens(sandbox_server)
    where = tmp_path_factory.mktemp("casavi-community-cli")
    env = cli_environment(where)
    config = config_file(where / "crmql.toml", sandbox_server.url)

    def crmql_(*args: str | Path, process: bool = False) -> Callable[[], Run]:
        if not process:  # the command's own code in this process, without a Python start-up
            return lambda: run_crmql_in_process([*map(str, args)], env=env, cwd=where)
        return lambda: run_crmql([*map(str, args)], env=env, cwd=where, timeout=180)

    debug, issue, error, dump = parallel(  # --debug in a real process, started first
        crmql_("--config", config, "--debug", "--stats", "-e", Q3, process=True),
        crmql_("--config", config, "-e", Q1, "-e", Q2, "-e", Q3, "--format", "csv"),
        crmql_("--config", config, "-e", f"SELECT * FROM {V}.appointments WHERE title = 'x'"),
        crmql_("sandbox", "dump", f"{V}.tickets"),
    )
    for run in (issue, error, debug, dump):
        assert "Traceback" not in run.stderr, str(run)
        no_secret([run.stdout, run.stderr], tokens.issued)
    assert tokens.issued  # the runs did authenticate
    return {"issue": issue, "error": error, "debug": debug, "dump": dump,
            "now": dt.datetime.now(dt.timezone.utc).isoformat()}  # type: ignore[dict-item]


def _csv_results(run: Run) -> list[list[dict[str, str]]]:
    """The CSV results of a run of several statements, split where a header line starts one."""
    parts: list[list[str]] = []
    for line in ok(run).stdout.splitlines():
        if line in ("id,title,status", "community_id,open") or line.startswith("community_id,id,"):
            parts.append([])
        if line.strip():
            parts[-1].append(line)
    return [list(csv.DictReader(io.StringIO("\n".join(p)))) for p in parts]


def test_cli_the_issue_commands(runs: dict[str, Any]) -> None:
    first, by_community, recent = _csv_results(runs["issue"])
    assert sorted((int(r["id"]), r["title"], r["status"]) for r in first) == open_tickets(12)
    assert {int(r["community_id"]): int(r["open"]) for r in by_community} == {c: len(open_tickets(c))
                                                                            for c in (12, 15, 18)}
    now = dt.datetime.fromisoformat(runs["now"])
    got = {int(r["id"]) for r in recent}
    assert got and got <= recent_unread(12, now) | recent_unread(12, now - dt.timedelta(minutes=5))
    assert recent_unread(12, now) <= got


def test_cli_the_required_filter_error(runs: dict[str, Any]) -> None:
    run = runs["error"]
    assert run.returncode == 1 and run.stdout == "", str(run)
    assert f"{V}.appointments needs a filter on community_id (= or IN)" in run.stderr, str(run)
    assert "WHERE community_id = 12" in run.stderr, str(run)


def test_cli_debug_prints_no_secret(runs: dict[str, Any]) -> None:
    run = ok(runs["debug"])
    assert "stats: requests=" in run.stderr and "Bearer " not in run.stderr + run.stdout, str(run)


def test_cli_sandbox_dump_prints_every_community(runs: dict[str, Any]) -> None:
    dumped = json.loads(ok(runs["dump"]).stdout)
    assert len(dumped) == len(raw("tickets"))
    assert all(isinstance(r["community_id"], int) and r["community_id"] == r["Community"]["id"] for r in dumped)
    assert {r["community_id"] for r in dumped} == set(range(1, 301))  # every community has tickets
