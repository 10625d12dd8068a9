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


def test_export_statement_dispatches_through_the_table() -> None:
    """--output writes any statement through its entry's ``export``: no isinstance chain."""
    from crmql.api import copy as copy_module

    assert all(callable(entry.export) for entry in STATEMENTS.values())
    source = inspect.getsource(copy_module.export_statement)
    assert "isinstance" not in source
    for cls in get_args(ast.Statement):
        assert f"ast.{cls.__name__}" not in source


def test_a_new_statement_exports_through_its_entry(make_session: Callable[..., Any], sandbox: Any,
                                                   monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    from crmql.api.copy import export_statement
    from crmql.api.statements import Export

    seen: list[Any] = []

    def export_twice(stmt: ast.ShowTables, run: Run, job: Export) -> Result:
        seen.append((stmt, Path(job.path).name, job.options().format))
        return Result("copy", text="two", stats=run.stats, statement=stmt)

    entry = STATEMENTS[ast.ShowTables]
    monkeypatch.setitem(STATEMENTS, ast.ShowTables, Statement(entry.run, export=export_twice))
    result = export_statement(make_session(), "SHOW TABLES", tmp_path / "t.jsonl")
    assert (result.text, len(seen), seen[0][1:]) == ("two", 1, ("t.jsonl", "jsonl"))


def test_each_entry_exports_against_the_sandbox(make_session: Callable[..., Any], sandbox: Any, tmp_path: Path) -> None:
    from crmql.api.copy import export_statement

    s = make_session()
    rows = export_statement(s, "SELECT name FROM azavista.events LIMIT 2", tmp_path / "n.csv")
    assert rows.text.startswith("COPY 2 rows to ") and (tmp_path / "n.csv").read_text().count("\n") == 3
    tables = export_statement(s, "SHOW TABLES", tmp_path / "t.jsonl")
    assert tables.kind == "copy" and '"events"' in (tmp_path / "t.jsonl").read_text()
    described = export_statement(s, "DESCRIBE azavista.events", tmp_path / "d" / "cols.csv")
    assert "event_type" in (tmp_path / "d" / "cols.csv").read_text() and described.text.endswith("(csv)")
    plan = export_statement(s, "EXPLAIN SELECT name FROM azavista.events", tmp_path / "plan.txt")
    assert plan.text == f"wrote the plan to {tmp_path / 'plan.txt'}" and "azavista" in (tmp_path / "plan.txt").read_text()
    sandbox.reset_log()
    with pytest.raises(QueryError, match="COPY writes its own file"):
        export_statement(s, f"COPY (SELECT name FROM azavista.events) TO '{tmp_path / 'c.csv'}'", tmp_path / "o.csv")
    with pytest.raises(ExportError, match="EXPLAIN writes text, not json"):
        export_statement(s, "EXPLAIN ANALYZE SELECT name FROM azavista.events", tmp_path / "plan.json")
    assert sandbox.request_log == [] and not (tmp_path / "o.csv").exists() and not (tmp_path / "plan.json").exists()
