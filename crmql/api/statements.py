"""The statements a :class:`~crmql.api.session.Session` runs, as a table: one entry per statement type.

:data:`STATEMENTS` maps each AST statement class to a :class:`Statement`: how to run it, what to
check before any request is sent, which SELECT's tables the connectors may start loading early
(:meth:`Connector.warm`), and how its result is written to a file (``--output``: :class:`Export`).
Adding a statement is a grammar rule, an AST class and one entry here; :meth:`Session.execute` and
:func:`crmql.api.copy.export_statement` never name a statement type.

>>> sorted(cls.__name__ for cls in STATEMENTS)
['Copy', 'Describe', 'Explain', 'Select', 'ShowTables']
>>> STATEMENTS[ast.Explain].warms(ast.Explain(ast.Select(table=ast.TableRef("a", "b"), items=()), analyze=False))
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from .. import stats
from ..errors import CrmqlError, QueryError
from ..http import run_sync
from ..language import ast
from .listings import describe_frame, tables_frame
from .result import Result

if TYPE_CHECKING:
    from ..export.options import ExportOptions

__all__ = ["STATEMENTS", "Export", "Run", "Statement"]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Run:
    """One statement being run: the session, its text and parameters, its statistics and start time."""

    session: Any  # crmql.api.session.Session (which imports this module)
    sql: str
    params: Mapping[str, Any] | None
    stats: stats.QueryStats
    started: float


@dataclass(frozen=True)
class Export:
    """Where a statement's result is written (``--output``): the file, its format (None: from the
    extension) and whether missing folders are made; with ``partition_by`` (``--partition-by``) a
    SELECT's rows become a Hive-partitioned Parquet directory.

    >>> Export("out.jsonl").options().format
    'jsonl'
    """

    path: str | os.PathLike[str]
    format: str | None = None
    make_dirs: bool = True
    partition_by: tuple[str, ...] = ()

    def options(self) -> ExportOptions:
        """The writer's options; a bad format or extension raises here, before any request."""
        from ..export.options import ExportOptions

        if self.partition_by:
            return ExportOptions.for_path(self.path, self.format or "parquet", partition_by=self.partition_by)
        return ExportOptions.for_path(self.path, self.format)


def _no_select(stmt: Any) -> ast.Select | None:
    return None


def _export_result(stmt: Any, run: Run, job: Export) -> Result:
    """Run the statement, then write its rows (SHOW TABLES, DESCRIBE) or its text."""
    from .writing import write_result

    if job.partition_by:
        raise QueryError("only a SELECT's rows can be partitioned", hint="leave out --partition-by")
    options = job.options()
    result = run.session.execute(run.sql, run.params, statement_stats=run.stats)
    return write_result(result, stmt, job.path, options, job.make_dirs)


@dataclass(frozen=True)
class Statement:
    """How one statement type runs.

    ``run`` returns the statement's :class:`Result`; ``check`` raises before any request is sent
    (a bad COPY option); ``warms`` names the SELECT whose tables may load early, or None;
    ``export`` writes the statement's result to a file (by default: run it, write its rows or text).
    """

    run: Callable[[Any, Run], Result]
    check: Callable[[Any], None] | None = None
    warms: Callable[[Any], ast.Select | None] = _no_select
    export: Callable[[Any, Run, Export], Result] = _export_result


# ---- SELECT, EXPLAIN [ANALYZE] ------------------------------------------------------------------

def _select(stmt: ast.Select, run: Run) -> Result:
    from ..exec.executor import execute_plan

    plan = run.session.plan(stmt, run.params, text=run.sql)
    frame, _ = execute_plan(plan, run.stats)
    run.stats.rows = len(frame)
    return Result("rows", frame=frame, stats=run.stats, statement=stmt)


def _export_select(stmt: ast.Select, run: Run, job: Export) -> Result:
    """A SELECT's rows go to the file as COPY writes them (streamed when the plan allows it)."""
    from .writing import export_select

    return export_select(run.session, stmt, run.sql, job.path, job.options(), run.params, run.stats, stmt,
                         job.make_dirs)


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


def _export_plan(stmt: ast.Explain, run: Run, job: Export) -> Result:
    """EXPLAIN's text goes to a text file: a structured extension fails before the statement runs
    (EXPLAIN ANALYZE fetches)."""
    from .writing import check_text_format

    if job.partition_by:
        raise QueryError("only a SELECT's rows can be partitioned", hint="leave out --partition-by")
    check_text_format(job.path, job.options())
    return _export_result(stmt, run, job)


# ---- SHOW TABLES, DESCRIBE ----------------------------------------------------------------------

def _show_tables(stmt: ast.ShowTables, run: Run) -> Result:
    return Result("rows", frame=run.session.tables(stmt.connection), stats=run.stats, statement=stmt)


def _describe(stmt: ast.Describe, run: Run) -> Result:
    try:
        table = run.session.table(stmt.table.connection, stmt.table.table)
        frame = describe_frame(table.complete())  # every column, those found in the vendor's data too
    except QueryError as err:  # unknown connection or table: point at the name
        span = stmt.table.span
        raise err.locate(run.sql, start=span.start, end=span.end) if span is not None else err
    return Result("rows", frame=frame, stats=run.stats, statement=stmt)


# ---- COPY ---------------------------------------------------------------------------------------

def _check_copy(stmt: ast.Copy) -> None:
    """A bad FORMAT, option or file extension, or a partitioned export's directory that is not empty
    (without OVERWRITE), fails before any request."""
    from ..export.options import ExportOptions
    from ..export.partitioned import check_target

    options = ExportOptions.from_copy(stmt.path, stmt.options)
    if options.partitioned:
        check_target(stmt.path, options)


def _copy_warms(stmt: ast.Copy) -> ast.Select | None:
    """A COPY's tables may load early, but not a partitioned one's: its PARTITION_BY columns are
    checked against the planned result before any row is requested (an early first page would be)."""
    return None if any(name == "partition_by" for name, _ in stmt.options) else stmt.query


def _copy(stmt: ast.Copy, run: Run) -> Result:
    from .writing import execute_copy

    return execute_copy(run.session, stmt, run.sql, run.params, run.stats)


def _export_copy(stmt: ast.Copy, run: Run, job: Export) -> Result:
    raise QueryError("COPY writes its own file", hint="leave out the output file, or run the SELECT inside it")


#: every statement the language has, and how it runs
STATEMENTS: dict[type, Statement] = {
    ast.Select: Statement(_select, warms=lambda stmt: stmt, export=_export_select),
    ast.Explain: Statement(_explain, warms=lambda stmt: stmt.query if stmt.analyze else None, export=_export_plan),
    ast.ShowTables: Statement(_show_tables),
    ast.Describe: Statement(_describe),
    ast.Copy: Statement(_copy, check=_check_copy, warms=_copy_warms, export=_export_copy),
}
