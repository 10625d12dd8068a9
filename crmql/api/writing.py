"""Writing a statement's result to a file: a SELECT streamed page by page, the rows of a frame, a
plan's text. What :func:`crmql.api.copy.export_statement` (``--output``) and ``COPY`` do, through
each statement's entry in :data:`crmql.api.statements.STATEMENTS`.

A SELECT with no global step is streamed page by page (:func:`crmql.exec.executor.stream_plan`) into
the writer, so memory stays flat however many rows there are; any other SELECT is run to the end
first. With ``PARTITION_BY`` the rows go to a Hive-partitioned directory
(:mod:`crmql.export.partitioned`); its columns are checked against the result's before any request.

>>> copy_message(1, "out.csv", "csv")
'COPY 1 row to out.csv (csv)'
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping
from typing import Any

from .. import stats
from ..errors import ExportError, QueryError, did_you_mean
from ..export.files import atomic_file, open_export
from ..export.partitioned import open_partitioned
from ..export.options import ExportOptions
from ..language import ast
from .result import Result

__all__ = ["TEXT_FORMATS", "check_partition_columns", "check_text_format", "copy_message", "execute_copy",
           "export_select", "partitioned_message", "write_result"]

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
    if options.partitioned:
        check_partition_columns(plan, options, statement, sql)
    opener = open_partitioned if options.partitioned else open_export
    with opener(path, options, make_dirs=make_dirs) as writer:
        if can_stream(plan):
            log.debug("exporting %s page by page", path)
            stream_plan(plan, st, writer.write)
        else:
            frame, _ = execute_plan(plan, st)
            step = _FRAME_SLICE if options.partitioned else max(len(frame), 1)  # grouped a slice at a time
            for start in range(0, max(len(frame), 1), step):
                writer.write(frame.iloc[start: start + step])
        rows = writer.rows
    st.rows = rows
    text = partitioned_message(writer, path) if options.partitioned else copy_message(rows, path, options.format)
    return Result("copy", text=text, stats=st, statement=statement)


#: rows of a materialized result handed to the writer at once
_FRAME_SLICE = 100_000


def partitioned_message(writer: Any, path: str | os.PathLike[str]) -> str:
    """What a partitioned export says it wrote: ``COPY 3 rows to out/ (parquet, 2 partitions by city, 2 files)``."""
    n, parts, files = writer.rows, writer.partitions, writer.files
    return (f"{copy_message(n, path, 'parquet')[:-1]}, {parts} partition{'s' if parts != 1 else ''} by "
            f"{', '.join(writer.partition_by)}, {files} file{'s' if files != 1 else ''})")


def result_columns(plan: Any) -> list[str]:
    """The result's column names, from the local SQL over empty tables (no vendor request)."""
    from ..exec.executor import run_local
    from ..exec.formats import unique_names

    if plan.count_column is not None:
        return [plan.count_column]
    return unique_names(run_local(plan, [None] * len(plan.scans)).columns)


def check_partition_columns(plan: Any, options: ExportOptions, statement: Any, sql: str | None) -> None:
    """Every PARTITION_BY column must be one of the result's (a located error with a suggestion,
    before any request), and at least one column must be left for the files."""
    columns = result_columns(plan)
    spans: tuple[Any, ...] = ()
    for name, value in getattr(statement, "options", ()):
        if name == "partition_by":
            spans = tuple(getattr(value, "spans", ()))
    for i, name in enumerate(options.partition_by):
        if name in columns:
            continue
        err = QueryError(f"PARTITION_BY column {name} is not in the query's result",
                         hint=did_you_mean(name, columns) or f"the result's columns: {', '.join(columns)}")
        span = spans[i] if i < len(spans) else None
        raise err.locate(sql, start=span.start, end=span.end) if span is not None and sql else err
    if len(options.partition_by) >= len(columns):
        raise QueryError("PARTITION_BY names every column of the result: the files would hold no column",
                         hint="select at least one more column")


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
