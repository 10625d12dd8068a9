"""A SQLAlchemy Core select is pushed down like the same query written by hand.

For each query: the SQL the dialect sends (captured at the DB-API cursor) has the same EXPLAIN as the
hand-written crmql (the request, what is pushed exact or superset, what is re-checked, the paging
plan), and running it gives the same rows with the same requests at the served sandbox as a crmql
Session running the hand-written SQL.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.pool import NullPool

from crmql.api.session import Session
from crmql.sandbox import SandboxServer


@pytest.fixture(scope="module")
def tables(engine: sa.Engine) -> dict[str, sa.Table]:
    md = sa.MetaData()
    return {
        "events": sa.Table("events", md, autoload_with=engine, schema="azavista"),
        "sales": sa.Table("sales", md, autoload_with=engine, schema="atlas"),
        "tickets": sa.Table("tickets", md, autoload_with=engine, schema="casavi_community"),
    }


def _cases(t: dict[str, sa.Table]) -> list[tuple[sa.Select, str]]:
    ev, sales, tickets = t["events"].c, t["sales"].c, t["tickets"].c
    return [
        (sa.select(ev.name).where(ev.event_type == "sales").limit(5),
         "SELECT name FROM azavista.events WHERE event_type = 'sales' LIMIT 5"),
        (sa.select(ev.name, ev.start).where(ev.event_type.in_(["marketing", "sales"]), ev.name.like("%Workshop%"))
         .order_by(ev.start, ev.name).limit(20),
         "SELECT name, start FROM azavista.events WHERE event_type IN ('marketing', 'sales') "
         "AND name LIKE '%Workshop%' ORDER BY start, name LIMIT 20"),
        (sa.select(sa.func.count()).select_from(t["events"]).where(ev.event_type == "sales"),
         "SELECT COUNT(*) FROM azavista.events WHERE event_type = 'sales'"),
        (sa.select(sales["sale-name"], sales["sale-balance"]).where(sales["sale-status"].in_(["won", "lost"]),
                                                                     sales["sale-balance"] >= 500)
         .order_by(sales["sale-balance"], sales["sale-name"]),  # a tie-breaker: equal balances come in any order
         "SELECT \"sale-name\", \"sale-balance\" FROM atlas.sales WHERE \"sale-status\" IN ('won', 'lost') "
         "AND \"sale-balance\" >= 500 ORDER BY \"sale-balance\", \"sale-name\""),
        (sa.select(tickets.community_id, sa.func.count().label("open")).where(
            tickets.community_id.in_([12, 15, 18]), tickets.status == "OPEN").group_by(tickets.community_id)
         .order_by(tickets.community_id),
         "SELECT community_id, COUNT(*) AS open FROM casavi_community.tickets "
         "WHERE community_id IN (12, 15, 18) AND status = 'OPEN' GROUP BY community_id ORDER BY community_id"),
    ]


CASE_IDS = ["where+limit", "in+like+order", "count", "atlas quoted", "community group by"]


def _sent(engine: sa.Engine, stmt: sa.Select) -> tuple[str, dict[str, Any], list[tuple]]:
    """Run ``stmt`` on ``engine``: the SQL and parameters the dialect gave the DB-API cursor, and the rows."""
    seen: list[tuple[str, Any]] = []

    def capture(conn: Any, cursor: Any, statement: str, parameters: Any, context: Any, executemany: bool) -> None:
        seen.append((statement, parameters))

    sa.event.listen(engine, "before_cursor_execute", capture)
    try:
        with engine.connect() as conn:
            rows = [tuple(r) for r in conn.execute(stmt)]
    finally:
        sa.event.remove(engine, "before_cursor_execute", capture)
    (statement, parameters), = seen
    return statement, dict(parameters or {}), rows


def _requests(text: str) -> str:
    """EXPLAIN's account of what is sent (before the local DuckDB SQL, whose aliases differ)."""
    return text.split("Local (DuckDB")[0]


@pytest.mark.parametrize("index", range(5), ids=CASE_IDS)
def test_core_select_explains_like_hand_written(index: int, engine: sa.Engine, tables: dict[str, sa.Table]) -> None:
    stmt, hand = _cases(tables)[index]
    sql, params, _ = _sent(engine, stmt)
    raw = engine.raw_connection()
    try:
        cur = raw.cursor()
        cur.execute("EXPLAIN " + sql, params)
        core = "\n".join(row[0] for row in cur.fetchall())
        cur.execute("EXPLAIN " + hand)
        written = "\n".join(row[0] for row in cur.fetchall())
    finally:
        raw.close()
    assert "request" in core and _requests(core) == _requests(written)


@pytest.mark.parametrize("index", range(5), ids=CASE_IDS)
def test_core_select_same_rows_same_requests(index: int, config_file: Path, sandbox: SandboxServer,
                                            tables: dict[str, sa.Table]) -> None:
    stmt, hand = _cases(tables)[index]
    fresh = sa.create_engine(f"crmql://{config_file}", poolclass=NullPool)  # a new session: tokens fetched anew
    try:
        sandbox.reset_log()
        _, _, rows = _sent(fresh, stmt)
        core_log = sorted(sandbox.request_log)
    finally:
        fresh.dispose()
    sandbox.reset_log()
    with Session(config_file) as session:
        frame = session.query(hand)
    hand_log = sorted(sandbox.request_log)
    assert rows == [tuple(r) for r in frame.itertuples(index=False)]
    assert core_log == hand_log and core_log


def test_cached_statement_takes_each_executions_values(engine: sa.Engine, tables: dict[str, sa.Table]) -> None:
    """The compiled form is cached (supports_statement_cache): LIMIT and bound values still come from
    each execution, not from the first one compiled."""
    ev = tables["events"].c

    def run(kind: str, n: int) -> list[tuple]:
        with engine.connect() as conn:
            return [tuple(r) for r in conn.execute(sa.select(ev.event_type).where(ev.event_type == kind).limit(n))]

    assert run("sales", 2) == [("sales",)] * 2
    assert run("marketing", 3) == [("marketing",)] * 3
    assert run("webinar", 1) == [("webinar",)]
