"""Exporting statements: ``COPY (query) TO 'path'``, the CLI's ``--output`` and the REPL's ``\\o``.

A SELECT with no global step is streamed page by page (:func:`crmql.exec.executor.stream_plan`) into
the writer, so memory stays flat however many rows there are; any other SELECT is run to the end
first. :func:`export_statement` also writes the rows of SHOW TABLES and DESCRIBE, and the text of
EXPLAIN.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping
from typing import Any

from ..language import ast
from .. import stats
from ..errors import ExportError, QueryError
from ..export.files import atomic_file, is_stdout, open_export
from ..export.options import ExportOptions
from .result import Result

__all__ = ["execute_copy", "export_query", "export_statement", "summary_on_stderr"]

log = logging.getLogger(__name__)

# ---- queries -------------------------------------------------------------------------------------

def _copy_message(rows: int, path: str | os.PathLike[str], fmt: str) -> str:
    return f"COPY {rows} row{'s' if rows != 1 else ''} to {os.fspath(path)} ({fmt})"


def _export_select(session: Any, select: ast.Select, sql: str, path: str | os.PathLike[str], options: ExportOptions,
                   params: Mapping[str, Any] | None, st: stats.QueryStats, statement: Any, make_dirs: bool) -> Any:
    from ..exec.executor import can_stream, execute_plan, stream_plan

    plan = session.plan(select, params, text=sql)
    with open_export(path, options, make_dirs=make_dirs) as writer:
        if can_stream(plan):
            log.debug("exporting %s page by page", path)
            stream_plan(plan, st, writer.write)
        else:
            frame, _ = execute_plan(plan, st)
            writer.write(frame)
        rows = writer.rows
    st.rows = rows
    return Result("copy", text=_copy_message(rows, path, options.format), stats=st, statement=statement)


def summary_on_stderr(result: Any) -> bool:
    """Whether ``result`` is a COPY that wrote this process's standard output: its summary line
    ("COPY n rows to /dev/stdout (csv)") must then go to stderr, or it would follow the data into
    the pipe.

    >>> from crmql.api.result import Result
    >>> copy = ast.Copy(ast.Select(table=ast.TableRef("a", "b"), items=()), "/dev/stdout", ())
    >>> summary_on_stderr(Result("copy", text="COPY 1 row to /dev/stdout (csv)", statement=copy))
    True
    """
    stmt = getattr(result, "statement", None)
    return getattr(result, "kind", None) == "copy" and isinstance(stmt, ast.Copy) and is_stdout(stmt.path)


def execute_copy(session: Any, stmt: ast.Copy, sql: str, params: Mapping[str, Any] | None,
                 st: stats.QueryStats) -> Any:
    """Run ``COPY (query) TO 'path' [WITH (...)]`` (called by :meth:`crmql.Session.execute`)."""
    options = ExportOptions.from_copy(stmt.path, stmt.options)
    return _export_select(session, stmt.query, sql, stmt.path, options, params, st, stmt, make_dirs=False)


def export_query(session: Any, sql: str, path: str | os.PathLike[str], *, params: Mapping[str, Any] | None = None,
                 format: str | None = None, header: bool = True, delimiter: str | None = None, safe: bool = False,
                 statement_stats: stats.QueryStats | None = None, make_dirs: bool = False) -> Any:
    """Run one SELECT and write its rows to ``path`` (streamed when the query allows it).

    Returns a :class:`crmql.Result` of kind ``"copy"`` whose ``text`` says what was written.
    """
    from ..language.parser import parse

    stmt = parse(sql)
    if not isinstance(stmt, ast.Select):
        raise QueryError("only a SELECT can be exported this way", hint="use export_statement() for other statements")
    options = ExportOptions.for_path(path, format, header=header, delimiter=delimiter, safe=safe)
    st = statement_stats or stats.QueryStats()
    return _export_select(session, stmt, sql, path, options, params, st, stmt, make_dirs)


#: the formats a text result (EXPLAIN's plan) is written as, as it is: CSV (no extension, .csv) and .txt
TEXT_FORMATS = ("csv", "table")


def _check_text_format(path: str | os.PathLike[str], options: ExportOptions) -> None:
    """Refuse to write EXPLAIN's plain text under an extension that promises structured data
    (``plan.parquet``, ``plan.json``): a reader of that file would fail or misread it.

    >>> _check_text_format("plan.json", ExportOptions.for_path("plan.json"))  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    crmql.errors.ExportError: EXPLAIN writes text, not json: cannot write plan.json
    ...
    """
    if options.format not in TEXT_FORMATS:
        raise ExportError(f"EXPLAIN writes text, not {options.format}: cannot write {os.fspath(path)}",
                          hint="use a .txt file or one with no extension")


def export_statement(session: Any, sql: str, path: str | os.PathLike[str], *, format: str | None = None,
                     params: Mapping[str, Any] | None = None, statement_stats: stats.QueryStats | None = None,
                     make_dirs: bool = True) -> Any:
    """Run any statement and write its result to ``path`` (the CLI's ``--output``, the REPL's ``\\o``).

    A SELECT streams like COPY; SHOW TABLES and DESCRIBE write their rows; EXPLAIN writes its text.
    """
    from ..language.parser import parse

    stmt = parse(sql)
    st = statement_stats or stats.QueryStats()
    if isinstance(stmt, ast.Copy):
        raise QueryError("COPY writes its own file", hint="leave out the output file, or run the SELECT inside it")
    options = ExportOptions.for_path(path, format)
    if isinstance(stmt, ast.Select):
        return _export_select(session, stmt, sql, path, options, params, st, stmt, make_dirs)
    if isinstance(stmt, ast.Explain):
        _check_text_format(path, options)  # before the statement runs (EXPLAIN ANALYZE fetches)
    result = session.execute(sql, params, statement_stats=st)
    if result.frame is not None:
        with open_export(path, options, make_dirs=make_dirs) as writer:
            writer.write(result.frame)
        return Result("copy", text=_copy_message(len(result.frame), path, options.format), stats=result.stats,
                      statement=stmt)
    _check_text_format(path, options)
    with atomic_file(path, make_dirs=make_dirs) as out:
        out.write(((result.text or "") + "\n").encode("utf-8"))
    return Result("copy", text=f"wrote the plan to {os.fspath(path)}", stats=result.stats, statement=stmt)
