"""PEP 249 Connection and Cursor over a :class:`crmql.Session`.

A cursor runs any crmql statement: a SELECT's rows, EXPLAIN's plan (one column ``plan``, one row per
line), DESCRIBE and SHOW TABLES as their frames, COPY's message (one column ``message``). A SELECT
with no global step (ORDER BY, GROUP BY, DISTINCT, aggregates, joins, OFFSET) is streamed
(:class:`~crmql.surfaces.dbapi.stream.RowStream`): pages are fetched as rows are fetched. Rows are
tuples of plain Python values: ``None`` for a missing value, ``datetime.date``/``datetime.datetime``,
lists for multi-valued fields.

>>> conn = Connection.__new__(Connection); conn.closed = True
>>> conn.commit() is None          # crmql reads only: commit and rollback do nothing
True
"""

from __future__ import annotations

import logging
from collections import deque
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

import pandas as pd

from ... import errors
from ... import stats
from ...api.session import Session
from ...exec.executor import can_stream, stream_plan
from ...exec.formats import python_rows
from ...language import ast
from ...language.parser import parse
from .stream import RowStream, release_all
from .types import type_code

__all__ = ["Connection", "Cursor"]

log = logging.getLogger(__name__)

Description = tuple[str, str, None, None, None, None, bool]


class Connection:
    """A PEP 249 connection: a crmql :class:`~crmql.Session` (``.session``) and its cursors.

    Transactions do not exist (crmql reads): ``commit`` and ``rollback`` do nothing. The PEP 249
    exception classes are attributes too (``conn.ProgrammingError``).
    """

    Warning = errors.Warning
    Error = errors.Error
    InterfaceError = errors.InterfaceError
    DatabaseError = errors.DatabaseError
    DataError = errors.DataError
    OperationalError = errors.OperationalError
    IntegrityError = errors.IntegrityError
    InternalError = errors.InternalError
    ProgrammingError = errors.ProgrammingError
    NotSupportedError = errors.NotSupportedError

    def __init__(self, session: Session, *, owns_session: bool = True) -> None:
        self.session = session
        self.closed = False
        self._owns = owns_session
        self._cursors: list[Cursor] = []

    def cursor(self) -> Cursor:
        """A new cursor on this connection."""
        self._check()
        cursor = Cursor(self)
        self._cursors.append(cursor)
        return cursor

    def commit(self) -> None:
        """Nothing to commit: crmql never writes to a vendor."""

    def rollback(self) -> None:
        """Nothing to roll back: crmql never writes to a vendor."""

    def close(self) -> None:
        """Close every cursor and (when this connection opened it) the session's HTTP clients."""
        if self.closed:
            return
        self.closed = True
        for cursor in self._cursors:
            cursor.close()
        self._cursors.clear()
        if self._owns:
            self.session.close()

    def _check(self) -> None:
        if self.closed:
            raise errors.InterfaceError("the connection is closed")

    def __enter__(self) -> Connection:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()


class Cursor:
    """A PEP 249 cursor: ``execute`` then ``fetchone`` / ``fetchmany`` / ``fetchall`` or iterate."""

    def __init__(self, connection: Connection) -> None:
        self.connection = connection
        self.arraysize = 1
        self.description: list[Description] | None = None
        self.rowcount = -1
        self.closed = False
        self._stream: RowStream | None = None
        self._rows: deque[tuple[Any, ...]] = deque()
        self._seen = 0
        self._declared: dict[str, str] = {}  # the catalog's types by column name, for columns with no value

    # ---- running statements
    def execute(self, operation: str, parameters: Mapping[str, Any] | None = None) -> Cursor:
        """Run one crmql statement; ``parameters`` bind its ``:name`` placeholders.

        >>> cur.execute("SELECT name FROM azavista.events WHERE event_type = :t", {"t": "sales"})  # doctest: +SKIP
        """
        self._check()
        if parameters is not None and not isinstance(parameters, Mapping):
            raise errors.ProgrammingError(
                f"parameters must be a mapping of names (paramstyle 'named'), not {type(parameters).__name__}")
        self._reset()
        release_all()  # a paused stream elsewhere must not hold the event loop this statement needs
        session = self.connection.session
        params = dict(parameters) if parameters is not None else None
        stmt = parse(operation)
        self._declared = {}
        if isinstance(stmt, ast.Select):
            plan = session.plan(stmt, params, text=operation)
            self._declared = _declared_types(session, stmt)
            if can_stream(plan):
                self._start_stream(plan)
                return self
        result = session.execute(operation, params)
        if result.frame is not None:
            frame = result.frame
        else:
            column = "plan" if result.kind == "explain" else "message"
            frame = pd.DataFrame({column: (result.text or "").splitlines()})
        self._set_frame(frame)
        self.rowcount = len(frame)
        return self

    def executemany(self, operation: str, seq_of_parameters: Sequence[Mapping[str, Any]]) -> Cursor:
        """Run ``operation`` once per parameter set; crmql cannot write, so only one set is meaningful."""
        self._check()
        sets = list(seq_of_parameters)
        if len(sets) > 1:
            raise errors.NotSupportedError(
                "executemany with several parameter sets is not supported: crmql statements only read "
                "(run execute() once per parameter set)")
        if sets:
            return self.execute(operation, sets[0])
        self._reset()
        return self

    def _start_stream(self, plan: Any) -> None:
        st = stats.QueryStats()
        connector = plan.scans[0].connector

        def run(emit: Any) -> None:
            try:
                stream_plan(plan, st, emit)
            finally:
                connector.discard_early()

        self._stream = RowStream(run)
        first = self._next_frame()  # stream_plan always emits a first (maybe empty) frame: the columns
        if first is not None:
            self.description = _description(first, self._declared)
            self._add(first)

    # ---- fetching
    def fetchone(self) -> tuple[Any, ...] | None:
        """The next row, or ``None`` at the end."""
        rows = self.fetchmany(1)
        return rows[0] if rows else None

    def fetchmany(self, size: int | None = None) -> list[tuple[Any, ...]]:
        """Up to ``size`` (default ``arraysize``) next rows; fewer at the end."""
        self._check_result()
        size = self.arraysize if size is None else size
        while len(self._rows) < size and self._stream is not None:
            frame = self._next_frame()
            if frame is None:
                break
            self._add(frame)
        count = min(size, len(self._rows))
        return [self._rows.popleft() for _ in range(count)]

    def fetchall(self) -> list[tuple[Any, ...]]:
        """Every remaining row."""
        self._check_result()
        while self._stream is not None:
            frame = self._next_frame()
            if frame is None:
                break
            self._add(frame)
        rows = list(self._rows)
        self._rows.clear()
        return rows

    def __iter__(self) -> Iterator[tuple[Any, ...]]:
        while True:
            row = self.fetchone()
            if row is None:
                return
            yield row

    def setinputsizes(self, sizes: Any) -> None:
        """Does nothing (PEP 249 allows it)."""

    def setoutputsize(self, size: Any, column: Any = None) -> None:
        """Does nothing (PEP 249 allows it)."""

    def close(self) -> None:
        """Stop a streamed scan (no further page is requested) and forget the rows."""
        self._reset()
        self.closed = True

    # ---- internals
    def _next_frame(self) -> pd.DataFrame | None:
        assert self._stream is not None
        try:
            frame = self._stream.next_frame()
        except BaseException:  # the scan's error, or Ctrl-C while waiting: do not wait for the worker
            self._stream.close(wait=False)
            self._stream = None
            raise
        if frame is None:  # exhausted: the row count is known now
            self._stream.close()
            self._stream = None
            self.rowcount = self._seen
        return frame

    def _set_frame(self, frame: pd.DataFrame) -> None:
        self.description = _description(frame, self._declared)
        self._add(frame)

    def _add(self, frame: pd.DataFrame) -> None:
        self._seen += len(frame)
        self._rows.extend(tuple(row) for row in python_rows(frame))  # plain Python values, NULLs as None

    def _reset(self) -> None:
        if self._stream is not None:
            self._stream.close()
            self._stream = None
        self._rows.clear()
        self._seen = 0
        self.description = None
        self.rowcount = -1

    def _check(self) -> None:
        if self.closed:
            raise errors.InterfaceError("the cursor is closed")
        self.connection._check()

    def _check_result(self) -> None:
        self._check()
        if self.description is None:
            raise errors.InterfaceError("no result to fetch from: call execute() with a statement first")

    def __enter__(self) -> Cursor:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def __del__(self) -> None:
        stream = getattr(self, "_stream", None)
        if stream is not None:
            stream.close(wait=False)


def _description(frame: pd.DataFrame, declared: Mapping[str, str]) -> list[Description]:
    """PEP 249's 7-tuples: name, type code (crmql's type name), and None for the sizes, nullable."""
    return [(str(name), type_code(frame.iloc[:, i], declared.get(str(name).lower())), None, None, None, None, True)
            for i, name in enumerate(frame.columns)]


def _declared_types(session: Session, select: ast.Select) -> dict[str, str]:
    """The catalog's type of each column of the statement's tables, by lower-cased name (the first
    table that has the name wins): what an empty or all-NULL result column is typed as."""
    declared: dict[str, str] = {}
    for ref in (select.table, *(j.table for j in select.joins)):
        try:
            table = session.table(ref.connection, ref.table)
        except errors.CrmqlError:  # pragma: no cover - the plan was made: the tables exist
            continue
        for column in table.columns:
            declared.setdefault(column.name.lower(), str(column.type))
    return declared

