"""The statements a :class:`~crmql.api.session.Session` runs, as a table: one entry per statement type.

:data:`STATEMENTS` maps each AST statement class to a :class:`Statement`: how to run it, what to
check before any request is sent, and which SELECT's tables the connectors may start loading
early (:meth:`Connector.warm`). Adding a statement is a grammar rule, an AST class and one entry
here; :meth:`Session.execute` never names a statement type.

>>> sorted(cls.__name__ for cls in STATEMENTS)
['Copy', 'Describe', 'Explain', 'Select', 'ShowTables']
>>> STATEMENTS[ast.Explain].warms(ast.Explain(ast.Select(table=ast.TableRef("a", "b"), items=()), analyze=False))
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from .. import stats
from ..errors import CrmqlError, QueryError
from ..http import run_sync
from ..language import ast
from .listings import describe_frame, tables_frame
from .result import Result

__all__ = ["STATEMENTS", "Run", "Statement"]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Run:
    """One statement being run: the session, its text and parameters, its statistics and start time."""

    session: Any  # crmql.api.session.Session (which imports this module)
    sql: str
    params: Mapping[str, Any] | None
    stats: stats.QueryStats
    started: float


def _no_select(stmt: Any) -> ast.Select | None:
    return None


@dataclass(frozen=True)
class Statement:
    """How one statement type runs.

    ``run`` returns the statement's :class:`Result`; ``check`` raises before any request is sent
    (a bad COPY option); ``warms`` names the SELECT whose tables may load early, or None.
    """

    run: Callable[[Any, Run], Result]
    check: Callable[[Any], None] | None = None
    warms: Callable[[Any], ast.Select | None] = _no_select


# ---- SELECT, EXPLAIN [ANALYZE] ------------------------------------------------------------------

def _select(stmt: ast.Select, run: Run) -> Result:
    from ..exec.executor import execute_plan

    plan = run.session.plan(stmt, run.params, text=run.sql)
    frame, _ = execute_plan(plan, run.stats)
    run.stats.rows = len(frame)
    return Result("rows", frame=frame, stats=run.stats, statement=stmt)


def _probe(plan: Any, st: stats.QueryStats) -> dict[int, int]:
    """For EXPLAIN: ask each searched scan's vendor for its total (one 1-row request each)."""
    probes: dict[int, int] = {}
    for i, scan in enumerate(plan.scans):
        if scan.fetch.mode != "search":
            continue
        try:
            with stats.collecting(st):
                probes[i] = run_sync(scan.connector.count(scan.table, scan.fetch))
        except (CrmqlError, NotImplementedError) as e:  # the estimate is a courtesy; EXPLAIN still works
            log.info("EXPLAIN probe of %s failed: %s", scan.table.qualified, e)
    return probes


def _explain(stmt: ast.Explain, run: Run) -> Result:
    from ..exec.explain import explain_text

    plan = run.session.plan(stmt.query, run.params, text=run.sql)
    if not stmt.analyze:
        text = explain_text(plan, _probe(plan, run.stats))
        return Result("explain", text=text, stats=run.stats, statement=stmt)
    from ..exec.executor import execute_plan

    frame, results = execute_plan(plan, run.stats)
    run.stats.rows = len(frame)
    run.stats.elapsed_ms = int((time.perf_counter() - run.started) * 1000)
    text = explain_text(plan, results=results, statement=run.stats) + f"\nRows returned: {len(frame)}"
    return Result("explain", text=text, stats=run.stats, statement=stmt)


# ---- SHOW TABLES, DESCRIBE ----------------------------------------------------------------------

def _show_tables(stmt: ast.ShowTables, run: Run) -> Result:
    return Result("rows", frame=run.session.tables(stmt.connection), stats=run.stats, statement=stmt)


def _describe(stmt: ast.Describe, run: Run) -> Result:
    try:
        frame = describe_frame(run.session.table(stmt.table.connection, stmt.table.table))
    except QueryError as err:  # unknown connection or table: point at the name
        span = stmt.table.span
        raise err.locate(run.sql, start=span.start, end=span.end) if span is not None else err
    return Result("rows", frame=frame, stats=run.stats, statement=stmt)


# ---- COPY ---------------------------------------------------------------------------------------

def _check_copy(stmt: ast.Copy) -> None:
    """A bad FORMAT, option or file extension fails before any request."""
    from ..export.options import ExportOptions

    ExportOptions.from_copy(stmt.path, stmt.options)


def _copy(stmt: ast.Copy, run: Run) -> Result:
    from .copy import execute_copy

    return execute_copy(run.session, stmt, run.sql, run.params, run.stats)


#: every statement the language has, and how it runs
STATEMENTS: dict[type, Statement] = {
    ast.Select: Statement(_select, warms=lambda stmt: stmt),
    ast.Explain: Statement(_explain, warms=lambda stmt: stmt.query if stmt.analyze else None),
    ast.ShowTables: Statement(_show_tables),
    ast.Describe: Statement(_describe),
    ast.Copy: Statement(_copy, check=_check_copy, warms=lambda stmt: stmt.query),
}
