"""Exporting statements: ``COPY (query) TO 'path'``, the CLI's ``--output`` and the REPL's ``\\o``.

:func:`export_query` writes one SELECT's rows; :func:`export_statement` writes any statement's
result through its entry in :data:`crmql.api.statements.STATEMENTS` (a SELECT streams like COPY,
SHOW TABLES and DESCRIBE write their rows, EXPLAIN its text). The writing itself is
:mod:`crmql.api.writing`.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Mapping, Sequence
from typing import Any

from .. import stats
from ..errors import QueryError
from ..export.files import is_stdout
from ..export.options import ExportOptions
from ..language import ast
from .statements import STATEMENTS, Export, Run
from .writing import export_select

__all__ = ["export_query", "export_statement", "summary_on_stderr"]

log = logging.getLogger(__name__)


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


def export_query(session: Any, sql: str, path: str | os.PathLike[str], *, params: Mapping[str, Any] | None = None,
                 format: str | None = None, header: bool = True, delimiter: str | None = None, safe: bool = False,
                 statement_stats: stats.QueryStats | None = None, make_dirs: bool = False,
                 partition_by: Sequence[str] = (), overwrite: bool = False) -> Any:
    """Run one SELECT and write its rows to ``path`` (streamed when the query allows it).

    With ``partition_by`` (column names of the result), ``path`` becomes a Hive-partitioned
    Parquet directory, as ``COPY ... WITH (PARTITION_BY (...))`` writes it; ``overwrite`` lets it
    replace an existing non-empty directory.

    Returns a :class:`crmql.Result` of kind ``"copy"`` whose ``text`` says what was written.
    """
    from ..language.parser import parse

    stmt = parse(sql)
    if not isinstance(stmt, ast.Select):
        raise QueryError("only a SELECT can be exported this way", hint="use export_statement() for other statements")
    partition_by = (partition_by,) if isinstance(partition_by, str) else tuple(partition_by)
    options = ExportOptions.for_path(path, format or ("parquet" if partition_by else None), header=header,
                                     delimiter=delimiter, safe=safe, partition_by=partition_by, overwrite=overwrite)
    st = statement_stats or stats.QueryStats()
    return export_select(session, stmt, sql, path, options, params, st, stmt, make_dirs)


def export_statement(session: Any, sql: str, path: str | os.PathLike[str], *, format: str | None = None,
                     params: Mapping[str, Any] | None = None, statement_stats: stats.QueryStats | None = None,
                     make_dirs: bool = True, partition_by: Sequence[str] = ()) -> Any:
    """Run any statement and write its result to ``path`` (the CLI's ``--output``, the REPL's ``\\o``),
    by the ``export`` of its entry in :data:`~crmql.api.statements.STATEMENTS`.

    A SELECT streams like COPY; SHOW TABLES and DESCRIBE write their rows; EXPLAIN writes its text;
    a COPY is refused (it writes its own file). With ``partition_by`` (``--partition-by``), a
    SELECT's rows become a Hive-partitioned Parquet directory; another statement is refused.
    """
    from ..language.parser import parse

    stmt = parse(sql)
    run = Run(session, sql, params, statement_stats or stats.QueryStats(), time.perf_counter())
    return STATEMENTS[type(stmt)].export(stmt, run, Export(path, format, make_dirs, tuple(partition_by)))
