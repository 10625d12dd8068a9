"""Writing a statement's result to a file: a SELECT streamed page by page, the rows of a frame, a
plan's text. What :func:`crmql.api.copy.export_statement` (``--output``) and ``COPY`` do, through
each statement's entry in :data:`crmql.api.statements.STATEMENTS`.

A SELECT with no global step is streamed page by page (:func:`crmql.exec.executor.stream_plan`) into
the writer, so memory stays flat however many rows there are; any other SELECT is run to the end
first.

>>> copy_message(1, "out.csv", "csv")
'COPY 1 row to out.csv (csv)'
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping
from typing import Any

from .. import stats
from ..errors import ExportError
from ..export.files import atomic_file, open_export
from ..export.options import ExportOptions
from ..language import ast
from .result import Result

__all__ = ["TEXT_FORMATS", "check_text_format", "copy_message", "execute_copy", "export_select", "write_result"]

log = logging.getLogger(__name__)

#: the formats a text result (EXPLAIN's plan) is written as, as it is: CSV (no extension, .csv) and .txt
TEXT_FORMATS = ("csv", "table")


def copy_message(rows: int, path: str | os.PathLike[str], fmt: str) -> str:
    """What an export says it wrote: ``COPY 2 rows to out.csv (csv)``."""
    return f"COPY {rows} row{'s' if rows != 1 else ''} to {os.fspath(path)} ({fmt})"


def export_select(session: Any, select: ast.Select, sql: str, path: str | os.PathLike[str], options: ExportOptions,
                  params: Mapping[str, Any] | None, st: stats.QueryStats, statement: Any, make_dirs: bool) -> Any:
    """Plan ``select`` and write its rows to ``path``, streamed when the plan allows it."""
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
    return Result("copy", text=copy_message(rows, path, options.format), stats=st, statement=statement)


def execute_copy(session: Any, stmt: ast.Copy, sql: str, params: Mapping[str, Any] | None,
                 st: stats.QueryStats) -> Any:
    """Run ``COPY (query) TO 'path' [WITH (...)]`` (called by :meth:`crmql.Session.execute`)."""
    options = ExportOptions.from_copy(stmt.path, stmt.options)
    return export_select(session, stmt.query, sql, stmt.path, options, params, st, stmt, make_dirs=False)


def check_text_format(path: str | os.PathLike[str], options: ExportOptions) -> None:
    """Refuse to write EXPLAIN's plain text under an extension that promises structured data
    (``plan.parquet``, ``plan.json``): a reader of that file would fail or misread it.

    >>> check_text_format("plan.json", ExportOptions.for_path("plan.json"))  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    crmql.errors.ExportError: EXPLAIN writes text, not json: cannot write plan.json
    ...
    """
    if options.format not in TEXT_FORMATS:
        raise ExportError(f"EXPLAIN writes text, not {options.format}: cannot write {os.fspath(path)}",
                          hint="use a .txt file or one with no extension")


def write_result(result: Result, statement: Any, path: str | os.PathLike[str], options: ExportOptions,
                 make_dirs: bool) -> Result:
    """Write a statement's rows (SHOW TABLES, DESCRIBE) in ``options``' format, or its text (EXPLAIN)
    as it is; the answer is a ``"copy"`` :class:`Result` saying what was written."""
    if result.frame is not None:
        with open_export(path, options, make_dirs=make_dirs) as writer:
            writer.write(result.frame)
        return Result("copy", text=copy_message(len(result.frame), path, options.format), stats=result.stats,
                      statement=statement)
    check_text_format(path, options)
    with atomic_file(path, make_dirs=make_dirs) as out:
        out.write(((result.text or "") + "\n").encode("utf-8"))
    return Result("copy", text=f"wrote the plan to {os.fspath(path)}", stats=result.stats, statement=statement)
