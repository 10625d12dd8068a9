"""Notifications (``{pageSize, count, rowsOnPage, rows}``, no page parameter: vendor-notes section 4,
ambiguities 25 and 26) under every reading of the simulator:

* order: the newest 50 (default), the oldest 50, all in one answer: crmql reads every row (as many
  distinct rows as ``count``) by continuing with ``before`` / ``after`` one millisecond past the last
  row served; 50 in no order: crmql cannot advance, so it stops with a WARNING naming the community
  and both numbers, and the ``crmql`` command shows it with the stats line; never a row too many;
* ``created_at`` ranges at exact boundaries (a record's own time as the bound) under the exclusive
  and the inclusive reading of ``after``/``before`` and each complete order (the continuation keeps
  the query's own bound): ``>``, ``>=``, ``<``, ``<=`` and BETWEEN give
  exactly the records the WHERE keeps (crmql widens and re-checks);
* ``unread = TRUE`` is ``unreadOnly=true`` (exact), ``unread = FALSE`` is checked locally.
"""

from __future__ import annotations

import datetime as dt
import logging
from pathlib import Path

import pytest

from crmql.sandbox import SandboxServer

from cli_support import cli_environment, run_crmql_in_process
from contract.kit import session_for

from vendors.casavi_community.spec import SPEC
from vendors.casavi_community.support import (V, biggest, communities_asked, config_file, ids, no_secret, of, raw,
                                              simulator)

COMMUNITY, COUNT = biggest("notifications")
ALL = sorted(r["id"] for r in of("notifications", COMMUNITY))
SCAN = f"SELECT id FROM {V}.notifications WHERE community_id = {COMMUNITY}"


def _utc(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text.replace("Z", "+00:00"))


@pytest.mark.parametrize("order, requests", [("newest_first", None), ("oldest_first", None), ("all", 1)])
def test_every_notification_is_read(sandbox: SandboxServer, order: str, requests: int | None) -> None:
    assert COUNT > 100  # more than two answers of 50
    sandbox.settings.variants = {f"{V}.notifications_order": order}
    with session_for(SPEC, sandbox.url) as session:
        result = session.execute(SCAN)
    got = ids(result.frame)
    assert sorted(got) == ALL and len(got) == len(set(got))
    asked = communities_asked(sandbox, "notifications")
    assert len(asked) == (requests or len(asked)) and len(asked) >= (requests or 3), asked


def test_unsorted_answers_are_short_with_a_warning(sandbox: SandboxServer, caplog: pytest.LogCaptureFixture) -> None:
    sandbox.settings.variants = {f"{V}.notifications_order": "unsorted"}
    with caplog.at_level(logging.WARNING), session_for(SPEC, sandbox.url) as session:
        result = session.execute(SCAN)
    got = ids(result.frame)
    assert set(got) <= set(ALL) and len(got) == len(set(got)) and len(got) < len(ALL)
    warnings = [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]
    assert any(f"vendor counted {COUNT} notifications for community {COMMUNITY}, crmql got {len(got)}" in w
               for w in warnings), warnings


def test_the_command_shows_the_warning_and_the_stats_line(sandbox: SandboxServer, tmp_path: Path) -> None:
    sandbox.settings.variants = {f"{V}.notifications_order": "unsorted"}
    config = config_file(tmp_path / "crmql.toml", sandbox.url)
    run = run_crmql_in_process(["--config", str(config), "--stats", "--format", "csv", "-e", SCAN],
                               env=cli_environment(tmp_path), cwd=tmp_path)  # the command's code, in this process
    assert run.returncode == 0, str(run)
    rows = run.stdout.split()[1:]
    assert 0 < len(rows) < COUNT
    warning = f"vendor counted {COUNT} notifications for community {COMMUNITY}, crmql got {len(rows)}"
    assert warning in run.stderr, str(run)
    assert "stats: requests=" in run.stderr and "Traceback" not in run.stderr, str(run)
    no_secret([run.stdout, run.stderr])


def _boundary() -> tuple[dt.datetime, dt.datetime]:
    """Two record times of the community, a few rows apart (each a record's own ``createdAt``)."""
    times = sorted({_utc(r["createdAt"]) for r in of("notifications", COMMUNITY)})
    return times[len(times) // 3], times[2 * len(times) // 3]


def _want(keep) -> list[int]:  # noqa: ANN001
    return sorted(r["id"] for r in of("notifications", COMMUNITY) if keep(_utc(r["createdAt"]), r))


@pytest.mark.parametrize("reading, order", [(r, o) for r in ("exclusive", "inclusive")
                                            for o in ("newest_first", "oldest_first", "all")])
def test_ranges_at_exact_boundaries(sandbox: SandboxServer, reading: str, order: str) -> None:
    lo, hi = _boundary()
    ts = {"lo": f"TIMESTAMP '{lo.isoformat()}'", "hi": f"TIMESTAMP '{hi.isoformat()}'"}
    cases = {
        f"created_at > {ts['lo']}": lambda t, r: t > lo,
        f"created_at >= {ts['lo']}": lambda t, r: t >= lo,
        f"created_at < {ts['hi']}": lambda t, r: t < hi,
        f"created_at <= {ts['hi']}": lambda t, r: t <= hi,
        f"created_at BETWEEN {ts['lo']} AND {ts['hi']}": lambda t, r: lo <= t <= hi,
        f"created_at >= {ts['lo']} AND created_at < {ts['hi']} AND unread = TRUE":
            lambda t, r: lo <= t < hi and r["read"] is False,
        f"created_at > {ts['lo']} AND unread = FALSE": lambda t, r: t > lo and r["read"] is True,
    }
    sandbox.settings.variants = {f"{V}.notifications_range": reading, f"{V}.notifications_order": order}
    with session_for(SPEC, sandbox.url) as session:
        for where, keep in cases.items():
            want = _want(keep)
            assert want, where
            got = ids(session.query(f"SELECT id FROM {V}.notifications WHERE community_id = {COMMUNITY} AND {where}"))
            assert sorted(got) == want, (reading, order, where, len(got), len(want))
    on_bound = [r for r in of("notifications", COMMUNITY) if _utc(r["createdAt"]) in (lo, hi)]
    assert on_bound  # records sit on the bounds, so a wrong inclusivity would show


def test_sixty_notifications_at_one_moment_are_never_silently_short(sandbox: SandboxServer,
                                                                     caplog: pytest.LogCaptureFixture) -> None:
    """60 notifications with the same ``createdAt`` (added at run time): a time keyset cannot step
    past a tie wider than an answer, so crmql either reads every row or says how many it missed."""
    community = min({r["community_id"] for r in raw("notifications")},
                    key=lambda c: (len(of("notifications", c)), c))
    sim = simulator(sandbox)
    try:
        added = {sim.add_notification(community, createdAt="2026-11-30T12:00:00.000Z")["id"] for _ in range(60)}
        want = {r["id"] for r in of("notifications", community)} | added
        with caplog.at_level(logging.WARNING), session_for(SPEC, sandbox.url) as session:
            got = ids(session.query(f"SELECT id FROM {V}.notifications WHERE community_id = {community}"))
    finally:
        sim.reset()
    assert len(got) == len(set(got)) and set(got) <= want and len(got) >= 50
    if len(got) < len(want):
        warning = f"vendor counted {len(want)} notifications for community {community}, crmql got {len(got)}"
        assert any(warning in r.getMessage() for r in caplog.records), [r.getMessage() for r in caplog.records]
