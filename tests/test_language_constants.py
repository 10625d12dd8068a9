"""Issue 9 A, C, D, 17: constant conditions, literals typed by the column they meet wherever it
stands, exact intervals, positional ORDER BY / GROUP BY; each checked against an oracle over the
simulator's own records (DuckDB over the whole table, written independently of crmql)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import duckdb
import pandas as pd
import pytest

from crmql.errors import QueryError
from crmql.language.parser import parse_expression
from crmql.plan.contradictions import contradiction
from crmql.plan.predicates import conjuncts, constant_conjuncts, normalize
from crmql.sandbox import SandboxServer
from crmql.api.session import Session
from crmql.language.values import parse_interval


@pytest.fixture
def session(sandbox: SandboxServer, make_session: Callable[..., Session]) -> Session:
    return make_session()


#: each table read once per module (the module's sandbox serves the same seeded data to every test)
_TABLES: dict[str, pd.DataFrame] = {}


def _oracle(session: Session, table: str, where: str) -> int:
    if table not in _TABLES:
        _TABLES[table] = session.query(f"SELECT * FROM azavista.{table}")
    frame = _TABLES[table]
    con = duckdb.connect(":memory:")
    con.execute("SET TimeZone = 'UTC'")
    con.register("t", frame)
    return con.execute(f"SELECT COUNT(*) FROM t WHERE {where}").fetchone()[0]


# ---- A: constants in a COUNT(*) answered from the vendor's total ---------------------------------

@pytest.mark.parametrize("sql, params, want", [
    ("SELECT COUNT(*) FROM azavista.events WHERE event_type = 'sales' AND 1 = 2", None, 0),
    ("SELECT COUNT(*) FROM azavista.events WHERE event_type = 'sales' AND :flag = 'yes'", {"flag": "no"}, 0),
    ("SELECT COUNT(*) FROM azavista.events WHERE 1 = 2", None, 0),
    ("SELECT COUNT(*) FROM azavista.events WHERE event_type = 'sales' AND 3 IN (1, 2)", None, 0),
    ("SELECT COUNT(*) FROM azavista.events WHERE event_type = 'sales' AND 'a' IS NULL", None, 0),
    ("SELECT COUNT(*) FROM atlas.sales WHERE \"sale-status\" = 'won' AND 'a' = 'b'", None, 0),
])
def test_a_false_constant_is_a_contradiction(session: Session, sql: str, params: dict | None, want: int) -> None:
    """Before: 364 (the vendor's total), 2400, 1055 with a request; now 0 and no entity request."""
    result = session.execute(sql, params)
    assert int(result.frame.iloc[0, 0]) == want
    assert "no request is made" in session.explain(sql, params)


def test_a_true_constant_is_dropped_and_the_total_still_used(session: Session) -> None:
    session.execute("SELECT COUNT(*) FROM azavista.events WHERE event_type = 'sales'")  # the token request
    plain = session.execute("SELECT COUNT(*) FROM azavista.events WHERE event_type = 'sales'")
    for extra in ("1 = 1", ":flag = 'yes'", "2 IN (1, 2)", "NOT (1 = 2)"):
        result = session.execute(f"SELECT COUNT(*) FROM azavista.events WHERE event_type = 'sales' AND {extra}",
                                 {"flag": "yes"})
        assert int(result.frame.iloc[0, 0]) == int(plain.frame.iloc[0, 0]) == 364
        assert result.stats.requests == plain.stats.requests  # still the vendor's total: same requests


@pytest.mark.parametrize("constant, holds", [("lower('A') = 'b'", False), ("lower('A') = 'a'", True),
                                             ("1 + 1 = 3", False)])
def test_a_unfoldable_constant_turns_the_shortcut_off(session: Session, constant: str, holds: bool) -> None:
    sql = f"SELECT COUNT(*) FROM azavista.events WHERE event_type = 'sales' AND {constant}"
    assert session.plan(__import__("crmql.language.parser").language.parser.parse(sql), text=sql).count_column is None
    assert int(session.execute(sql).frame.iloc[0, 0]) == (364 if holds else 0)


def test_a_folding_rules() -> None:
    def folded(text: str) -> list:
        return conjuncts(normalize(parse_expression(text)))

    assert contradiction(folded("a = 1 AND 1 = 2")) == "the condition is always false"
    assert folded("a = 1 AND 1 = 1") == folded("a = 1")
    assert folded("a = 1 OR 1 = 1") == []  # always true: no condition left
    assert contradiction(folded("a = 1 AND 1 IN (2, NULL)"))  # NULL: not true in a filter
    assert folded("a = 1 AND 1 NOT IN (2, 3)") == folded("a = 1")
    assert constant_conjuncts(folded("a = 1 AND 1 = '1'"))  # kinds differ: DuckDB decides
    assert constant_conjuncts(folded("a = 1 AND 9007199254740993 = 9007199254740992.0"))


# ---- C: a literal or parameter as BETWEEN's operand, columns as the bounds -------------------------

@pytest.mark.parametrize("where, params, duck", [
    (":t BETWEEN start AND \"end\"", {"t": "2025-03-05T10:00:00"},
     "TIMESTAMPTZ '2025-03-05 10:00:00+00' BETWEEN start AND \"end\""),
    (":t BETWEEN start AND \"end\"", {"t": dt.datetime(2025, 3, 5, 10, tzinfo=dt.timezone.utc)},
     "TIMESTAMPTZ '2025-03-05 10:00:00+00' BETWEEN start AND \"end\""),
    ("'2025-03-05' NOT BETWEEN start AND \"end\" AND event_type = 'sales'", None,
     "TIMESTAMPTZ '2025-03-05 00:00:00+00' NOT BETWEEN start AND \"end\" AND event_type = 'sales'"),
    ("'2025-03-05' BETWEEN start AND '2025-04-01'", None,
     "TIMESTAMPTZ '2025-03-05 00:00:00+00' BETWEEN start AND TIMESTAMPTZ '2025-04-01 00:00:00+00'"),
    ("DATE '2025-03-05' BETWEEN start AND :hi", {"hi": "2026-01-01"},
     "TIMESTAMPTZ '2025-03-05 00:00:00+00' BETWEEN start AND TIMESTAMPTZ '2026-01-01 00:00:00+00'"),
    ("'300' BETWEEN registered_count AND capacity", None, "300 BETWEEN registered_count AND capacity"),
    ("'2025-03-05' IN (start, \"end\")", None, "TIMESTAMPTZ '2025-03-05 00:00:00+00' IN (start, \"end\")"),
])
def test_c_literal_operand_between_columns(session: Session, where: str, params: dict | None, duck: str) -> None:
    """Before: `can only concatenate str ...` (the pushdown widened a string bound)."""
    got = int(session.execute(f"SELECT COUNT(*) FROM azavista.events WHERE {where}", params).frame.iloc[0, 0])
    assert got == _oracle(session, "events", duck)
    session.explain(f"SELECT id FROM azavista.events WHERE {where}", params)  # the pushdown too


def test_c_atlas_dates(session: Session) -> None:
    """Before: 'str' object has no attribute 'isoformat' (an Atlas date column met a string)."""
    frame = session.query("SELECT * FROM atlas.sales")
    cols = [c for c in frame.columns if "date" in c.lower()]
    assert cols
    col = cols[0]
    got = session.query(f"SELECT id FROM atlas.sales WHERE :d BETWEEN \"{col}\" AND \"{col}\"",
                        {"d": str(frame[col].dropna().iloc[0])[:10]})
    want = frame[frame[col].astype(str).str[:10] == str(frame[col].dropna().iloc[0])[:10]]
    assert set(got["id"]) == set(want["id"]) and len(got) > 0


# ---- D: exact intervals -------------------------------------------------------------------------------

def test_d_interval_is_exact() -> None:
    assert parse_interval("1.001 seconds").micros == 1_001_000
    assert parse_interval("0.000001 seconds").micros == 1
    assert parse_interval("2.3 days").micros == 198_720_000_000
    assert str(parse_interval("100 days 1 second")) == "100 days 1 seconds"  # was '8.64e+06 seconds'
    for text in ("1.001 seconds", "100 days 0.000001 seconds", "-1.5 days", "3 months 2 days"):
        assert parse_interval(str(parse_interval(text))) == parse_interval(text)


def test_d_interval_arithmetic_in_duckdb_is_exact(session: Session) -> None:
    """Before: 1.000999 s (int(total_seconds * 1e6) truncated); crmql/localsql.py renders Interval.micros."""
    frame = session.query("SELECT created_at, created_at + INTERVAL '1.001 seconds' AS later FROM azavista.events LIMIT 20")
    assert ((frame["later"] - frame["created_at"]) == pd.Timedelta(microseconds=1_001_000)).all()


# ---- 17: ORDER BY / GROUP BY positions -----------------------------------------------------------------

def test_17_positions(session: Session) -> None:
    by_name = session.query("SELECT event_type, COUNT(*) AS n FROM azavista.events GROUP BY event_type ORDER BY n DESC, event_type")
    by_position = session.query("SELECT event_type, COUNT(*) AS n FROM azavista.events GROUP BY 1 ORDER BY 2 DESC, 1")
    assert by_position.equals(by_name)
    star = session.query("SELECT * FROM azavista.events WHERE event_type = 'sales' ORDER BY 2, 1 LIMIT 5")
    assert list(star["name"]) == sorted(star["name"])


@pytest.mark.parametrize("sql, message, column", [
    ("SELECT name FROM azavista.events ORDER BY 3", "ORDER BY 3 is not a position in the select list (1 column)", 43),
    ("SELECT name FROM azavista.events ORDER BY 0", "ORDER BY 0 is not a position", 43),
    ("SELECT COUNT(*) FROM azavista.events GROUP BY 1", "GROUP BY 1 refers to an aggregate", 47),
])
def test_17_bad_positions_are_located(session: Session, sql: str, message: str, column: int) -> None:
    with pytest.raises(QueryError) as err:
        session.execute(sql)
    assert message in str(err.value) and err.value.column == column and err.value.line == 1


def test_17_constants_in_order_by_and_group_by(session: Session) -> None:
    """A constant sorts nothing (dropped); before: 'Parameter not supported in ORDER BY clause'."""
    plain = session.query("SELECT name FROM azavista.events WHERE event_type = 'sales' ORDER BY name LIMIT 5")
    for sql, params in (("SELECT 'x' AS k, name FROM azavista.events WHERE event_type = 'sales' ORDER BY 1, 2 LIMIT 5", None),
                        ("SELECT name FROM azavista.events WHERE event_type = 'sales' ORDER BY 'a', name LIMIT 5", None),
                        ("SELECT :p AS k, name FROM azavista.events WHERE event_type = 'sales' ORDER BY :p, 2 LIMIT 5",
                         {"p": 1})):
        assert list(session.query(sql, params)["name"]) == list(plain["name"])
    grouped = session.query("SELECT 'x' AS k, event_type, COUNT(*) AS n FROM azavista.events GROUP BY 1, 2 ORDER BY 2")
    assert len(grouped) == 7 and set(grouped["k"]) == {"x"}
    with pytest.raises(QueryError, match="GROUP BY only a constant") as err:
        session.execute("SELECT 'x', COUNT(*) FROM azavista.events GROUP BY 1")
    assert err.value.column == 52
