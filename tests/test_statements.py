"""Statements run through one dispatch table (crmql.api.statements.STATEMENTS): every statement of
the language has an entry, Session.execute names no statement type, and the entries run for real
against the sandbox (SHOW TABLES, DESCRIBE, SELECT, EXPLAIN, COPY)."""

from __future__ import annotations

import inspect
from pathlib import Path
from typing import Any, Callable, get_args

import pytest

from crmql.api import session as session_module
from crmql.api.result import Result
from crmql.api.statements import STATEMENTS, Run, Statement
from crmql.errors import ExportError, QueryError
from crmql.language import ast


def test_every_statement_has_one_entry() -> None:
    assert set(STATEMENTS) == set(get_args(ast.Statement))


def test_execute_names_no_statement_type() -> None:
    source = inspect.getsource(session_module.Session.execute) + inspect.getsource(session_module.Session._warm)
    for cls in ("ShowTables", "Describe", "Copy"):
        assert f"ast.{cls}" not in source


def test_each_entry_runs_against_the_sandbox(make_session: Callable[..., Any], sandbox: Any, tmp_path: Path) -> None:
    s = make_session()
    tables = s.execute("SHOW TABLES")
    assert tables.kind == "rows" and {"events", "contacts", "organizations"} <= set(tables.frame["table"])
    described = s.execute("DESCRIBE azavista.events")
    assert "event_type" in set(described.frame["column"]) and described.stats.rows == len(described.frame)
    rows = s.execute("SELECT name FROM azavista.events LIMIT 2")
    assert rows.kind == "rows" and len(rows.frame) == 2 and rows.stats.requests >= 1
    plan = s.execute("EXPLAIN SELECT name FROM azavista.events WHERE event_type = 'sales'")
    assert plan.kind == "explain" and "event_type" in (plan.text or "")
    target = tmp_path / "out.csv"
    copied = s.execute(f"COPY (SELECT name FROM azavista.events LIMIT 3) TO '{target}'")
    assert copied.kind == "copy" and target.read_text().count("\n") == 4


def test_a_bad_copy_option_fails_before_any_request(make_session: Callable[..., Any], sandbox: Any, tmp_path: Path) -> None:
    s = make_session()
    sandbox.reset_log()
    with pytest.raises((ExportError, QueryError)):
        s.execute(f"COPY (SELECT name FROM azavista.events) TO '{tmp_path / 'x.xlsx'}'")
    assert sandbox.request_log == []


def test_a_new_statement_is_one_entry(make_session: Callable[..., Any], sandbox: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """Replacing (or adding) an entry is all it takes for Session.execute to run it."""
    seen: list[Any] = []

    def show_twice(stmt: ast.ShowTables, run: Run) -> Result:
        seen.append(stmt)
        return Result("explain", text="two", stats=run.stats, statement=stmt)

    monkeypatch.setitem(STATEMENTS, ast.ShowTables, Statement(show_twice))
    result = make_session().execute("SHOW TABLES")
    assert (result.kind, result.text, len(seen)) == ("explain", "two", 1)
    assert result.stats.elapsed_ms >= 0
