"""The local SQL's parameters (issue 9, point 13): an equal value reuses its number, found through
a dict, so long IN lists render in linear time, and values of different types are never merged."""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable

import pytest

from crmql import Session
from crmql.language import ast
from crmql.exec.localsql import expr_sql, select_sql


def _in(values: list[object], kind: str = "string") -> ast.InList:
    return ast.InList(ast.Column("name", "e"), tuple(ast.Literal(v, kind) for v in values))


def test_a_20k_value_in_list_renders_in_linear_time(monkeypatch: pytest.MonkeyPatch) -> None:
    """Point 13: 10,000 values took 13 s and 20,000 took 43 s (a linear search per value).
    One parameter per value (a list of mixed types, or with the list form turned off):"""
    from crmql.exec import localsql

    monkeypatch.setattr(localsql, "LIST_PARAM_MIN", 10**9)
    values = [f"v{i}" for i in range(20_000)]
    params: list[object] = []
    started = time.process_time()
    sql = expr_sql(_in(values + values[:100]), params)
    assert time.process_time() - started < 2
    assert params == values  # the 100 repeats reuse their numbers
    assert sql.endswith("$20000, $1, $2, $3" + "".join(f", ${i}" for i in range(4, 101)) + "))")


def test_a_20k_value_in_list_of_one_type_is_one_list_parameter() -> None:
    """Issue 9 (FIX-C 2): DuckDB binds 20,000 parameters in ~0.4 s per run, one list in ~1 ms."""
    values = [f"v{i}" for i in range(20_000)]
    params: list[object] = []
    started = time.process_time()
    sql = expr_sql(_in(values + values[:100]), params)
    assert time.process_time() - started < 2
    assert params == [values] and sql.endswith("IN (SELECT unnest($1)))")  # the repeats are dropped


def test_equal_values_of_different_types_stay_apart() -> None:
    params: list[object] = []
    items = (ast.Literal(1, "integer"), ast.Literal(1.0, "float"), ast.Literal(True, "boolean"),
             ast.Literal("1", "string"), ast.Literal(1, "integer"), ast.Literal(-0.0, "float"),
             ast.Literal(0.0, "float"), ast.Literal(dt.date(2025, 1, 1), "date"),
             ast.Literal(dt.datetime(2025, 1, 1, tzinfo=dt.timezone.utc), "timestamp"))
    sql = expr_sql(ast.InList(ast.Column("n", None), items), params)
    assert params == [1, 1.0, True, "1", -0.0, 0.0, dt.date(2025, 1, 1),
                      dt.datetime(2025, 1, 1, tzinfo=dt.timezone.utc)]
    assert [type(p) for p in params[:4]] == [int, float, bool, str]
    assert str(params[4]) == "-0.0"
    assert sql.startswith('("n" IN ($1, $2, $3, $4, $1, $5, $6, CAST($7 AS DATE), CAST($8 AS TIMESTAMPTZ)')


def test_numbers_already_in_the_list_are_reused() -> None:
    params: list[object] = ["a", 2]
    assert expr_sql(ast.Literal(2, "integer"), params) == "$2"
    assert expr_sql(ast.Literal("b", "string"), params) == "$3"
    assert params == ["a", 2, "b"]


def test_select_and_group_by_render_equal_text(make_session: Callable[..., Session]) -> None:
    """One index over the whole statement: the same expression in SELECT and GROUP BY is the same
    text, so DuckDB accepts it (``date_trunc('month', start)``)."""
    session = make_session()
    frame = session.query("SELECT date_trunc('month', start) AS m, COUNT(*) AS n FROM azavista.events "
                          "GROUP BY date_trunc('month', start) ORDER BY m LIMIT 3")
    assert len(frame) == 3
    plan = session.plan(session_parse("SELECT date_trunc('month', start), COUNT(*) FROM azavista.events "
                                      "GROUP BY date_trunc('month', start)"))
    params: list[object] = []
    sql = select_sql(plan.select, {"events": "t0"}, params)
    assert params == ["month"]
    assert sql.count("date_trunc($1, ") == 2


@pytest.mark.parametrize("n", [10_000])
def test_a_long_in_list_end_to_end(make_session: Callable[..., Session], n: int) -> None:
    session = make_session()
    names = [f"no such event {i}" for i in range(n)]
    text = ", ".join(f"'{v}'" for v in names)
    started = time.process_time()
    frame = session.query(f"SELECT COUNT(*) AS n FROM azavista.events WHERE name NOT IN ({text})")
    assert int(frame["n"][0]) == 2400
    assert time.process_time() - started < 10


def session_parse(sql: str) -> ast.Select:
    from crmql.language.parser import parse

    stmt = parse(sql)
    assert isinstance(stmt, ast.Select)
    return stmt


def test_an_interval_is_exact_microseconds(make_session: Callable[..., Session]) -> None:
    """Point D (the local SQL's part): ``int(total_seconds * 1e6)`` made '1.001 seconds' 1,000,999 us."""
    from crmql.language.values import parse_interval

    params: list[object] = []
    expr_sql(ast.Literal(parse_interval("1.001 seconds"), "interval"), params)
    assert params == [0, 1_001_000]
    frame = make_session().query("SELECT start, start + INTERVAL '1.001 seconds' AS later FROM azavista.events LIMIT 3")
    assert ((frame["later"] - frame["start"]) == dt.timedelta(seconds=1, milliseconds=1)).all()
