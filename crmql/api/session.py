"""The Python API: a :class:`Session` runs statements over the configured connections.

>>> import crmql
>>> with crmql.connect() as s:                                  # doctest: +SKIP
...     df = s.query("SELECT name, start FROM azavista.events WHERE event_type = :t LIMIT 5", {"t": "sales"})
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from ..language import ast
from .. import stats
from ..plan.bind import bind, uses_aggregates
from ..plan.catalog import Table
from .config import SANDBOX_URL, Config, load_config
from ..plan.connector import Connector
from ..connectors.registry import CONNECTORS, create_connector
from ..errors import CrmqlError, QueryError, did_you_mean
from ..http import run_sync
from ..language.parser import parse, split_statements

__all__ = ["Result", "Session", "connect"]

#: every connector class, loaded with the session so the first query's time is its own (the
#: registry imports them lazily: listing the vendors, e.g. for the default config, stays cheap)
_CONNECTOR_CLASSES = dict(CONNECTORS)

log = logging.getLogger(__name__)

_sandbox_lock = threading.Lock()
_sandbox_server: Any = None


def sandbox_url(options: Mapping[str, Any] | None = None) -> str:
    """Root URL of the in-process sandbox, started on first use (once per process)."""
    global _sandbox_server
    with _sandbox_lock:
        if _sandbox_server is None:
            from ..sandbox import SandboxSettings, serve_in_thread

            opts = dict(options or {})
            settings = SandboxSettings(
                seed=int(opts.get("seed", os.environ.get("CRMQL_SANDBOX_SEED", 42))),
                latency_ms=float(opts.get("latency_ms", os.environ.get("CRMQL_SANDBOX_LATENCY_MS", 0))),
                faults=str(opts.get("faults", os.environ.get("CRMQL_SANDBOX_FAULTS", ""))),
            )
            _sandbox_server = serve_in_thread(settings)
            log.info("sandbox serving on %s", _sandbox_server.url)
        return _sandbox_server.url


@dataclass
class Result:
    """The outcome of one statement: rows (``frame``) or text (EXPLAIN), and what it cost."""

    kind: str  # "rows" | "explain" | "copy" (COPY and exports: ``text`` says what was written)
    frame: pd.DataFrame | None = None
    text: str | None = None
    stats: stats.QueryStats = field(default_factory=stats.QueryStats)
    statement: Any = None


class Session:
    """Connections, their catalogs and the pipeline parse -> bind -> plan -> fetch -> DuckDB."""

    def __init__(self, config: Config | str | os.PathLike[str] | None = None) -> None:
        self.config = config if isinstance(config, Config) else load_config(config)
        self._connectors: dict[str, Connector] = {}

    # ---- connections and catalog
    def connector(self, name: str) -> Connector:
        if name in self._connectors:
            return self._connectors[name]
        conn = self.config.connections.get(name)
        if conn is None:
            lowered = {k.lower(): k for k in self.config.connections}
            if name.lower() in lowered:
                return self.connector(lowered[name.lower()])
            hint = did_you_mean(name, self.config.connections)
            raise QueryError(f"unknown connection '{name}'",
                             hint=hint or f"connections: {', '.join(self.config.connections) or 'none'} ({self.config.source})")
        settings = dict(conn.settings)
        if settings.get("base_url") == SANDBOX_URL:
            vendor = conn.vendor
            options = self.config.sandbox
            settings["base_url"] = lambda: f"{sandbox_url(options)}/{vendor}"
        connector = create_connector(conn.name, conn.vendor, settings)
        self._connectors[name] = connector
        return connector

    def table(self, connection: str, name: str) -> Table:
        return self.connector(connection).table(name)

    def tables(self, connection: str | None = None) -> pd.DataFrame:
        """SHOW TABLES as a frame: connection, table, columns, description."""
        names = [connection] if connection else list(self.config.connections)
        rows = []
        for n in names:
            c = self.connector(n)
            for t in c.tables().values():
                rows.append({"connection": c.name, "table": t.name, "vendor": c.vendor,
                             "columns": len(t.columns), "description": t.description})
        return pd.DataFrame(rows, columns=["connection", "table", "vendor", "columns", "description"])

    def describe(self, connection: str, name: str) -> pd.DataFrame:
        """DESCRIBE as a frame: column, type, pushed filters, options, description."""
        table = self.table(connection, name)
        rows = []
        for col in table.columns:
            ops = ", ".join(dict.fromkeys(op for cap in col.filters for op in cap.describe().split(", ") if op))
            required = next((r for r in table.required if r.column == col.name), None)
            rows.append({
                "column": col.name, "field_id": col.native if col.native != col.name else "", "type": str(col.type),
                "pushed_filters": ops or "(local only)",
                "required": f"yes ({' or '.join(required.operators)})" if required else "",
                "options": ", ".join(col.options) if col.options else "",
                "description": col.description,
            })
        return pd.DataFrame(rows, columns=["column", "field_id", "type", "pushed_filters", "required", "options", "description"])

    # ---- statements
    def execute(self, sql: str, params: Mapping[str, Any] | None = None, *,
                statement_stats: stats.QueryStats | None = None, explain: str | None = None) -> Result:
        """Run one statement and return its :class:`Result`.

        ``explain="plan"`` or ``"analyze"`` runs a SELECT as ``EXPLAIN`` / ``EXPLAIN ANALYZE``
        (what ``--explain`` and ``.explain()`` do); errors still point into ``sql`` as written.
        """
        st = statement_stats or stats.QueryStats()
        started = time.perf_counter()
        stmt = parse(sql)
        if explain is not None and not isinstance(stmt, ast.Explain):
            if not isinstance(stmt, ast.Select):
                raise QueryError("only a SELECT can be explained", hint="write EXPLAIN SELECT ...")
            stmt = ast.Explain(stmt, analyze=explain == "analyze", span=stmt.span)
        if isinstance(stmt, ast.Copy):  # a bad FORMAT, option or file extension fails before any request
            from ..export import ExportOptions

            ExportOptions.from_copy(stmt.path, stmt.options)
        with stats.collecting(st):  # catalog loads and token requests count towards the statement
            try:
                self._warm(stmt)
                return self._execute(stmt, sql, params, st, started)
            except QueryError as err:  # raised where the text is not at hand (e.g. a join's limit)
                if err.span is not None:
                    err.locate(sql, start=err.span.start, end=err.span.end)
                raise
            finally:
                for connector in list(self._connectors.values()):
                    connector.discard_early()

    def _warm(self, stmt: Any) -> None:
        """Let each connector start the I/O this statement will need before binding asks for it
        (see :meth:`Connector.warm`): templates of joined tables load concurrently, and a
        whole-table read gets its first page together with its template."""
        if isinstance(stmt, ast.Copy) or (isinstance(stmt, ast.Explain) and stmt.analyze):
            stmt = stmt.query
        if not isinstance(stmt, ast.Select):
            return
        whole = _reads_whole_table(stmt)
        for ref in (stmt.table, *(j.table for j in stmt.joins)):
            try:
                connector = self.connector(ref.connection)
            except CrmqlError:
                return  # binding reports it, with its suggestion
            connector.warm(ref.table, whole_table=whole)

    def _execute(self, stmt: Any, sql: str, params: Mapping[str, Any] | None, st: stats.QueryStats,
                 started: float) -> Result:
        from ..plan.explain import explain_text

        try:
            if isinstance(stmt, ast.ShowTables):
                frame = self.tables(stmt.connection)
                return self._done(Result("rows", frame=frame, stats=st, statement=stmt), started)
            if isinstance(stmt, ast.Describe):
                try:
                    frame = self.describe(stmt.table.connection, stmt.table.table)
                except QueryError as err:  # unknown connection or table: point at the name
                    span = stmt.table.span
                    raise err.locate(sql, start=span.start, end=span.end) if span is not None else err
                return self._done(Result("rows", frame=frame, stats=st, statement=stmt), started)
            if isinstance(stmt, ast.Copy):
                from ..export import execute_copy

                return self._done(execute_copy(self, stmt, sql, params, st), started)
            query = stmt.query if isinstance(stmt, ast.Explain) else stmt
            plan = self.plan(query, params, text=sql)
            if isinstance(stmt, ast.Explain) and not stmt.analyze:
                probes = self._probe(plan, st)
                return self._done(Result("explain", text=explain_text(plan, probes), stats=st, statement=stmt), started)
            from ..exec.executor import execute_plan

            frame, results = execute_plan(plan, st)
            st.rows = len(frame)
            if isinstance(stmt, ast.Explain):
                st.elapsed_ms = int((time.perf_counter() - started) * 1000)
                text = explain_text(plan, results=results, statement=st)
                text += f"\nRows returned: {len(frame)}"
                return self._done(Result("explain", text=text, stats=st, statement=stmt), started)
            return self._done(Result("rows", frame=frame, stats=st, statement=stmt), started)
        except KeyboardInterrupt:
            raise
        except CrmqlError:
            st.elapsed_ms = int((time.perf_counter() - started) * 1000)
            raise

    def plan(self, query: ast.Select, params: Mapping[str, Any] | None = None, *, text: str | None = None) -> Any:
        """Bind ``query`` (``text`` is its source, for messages) and plan it over the connections."""
        from ..plan.planner import plan_query

        bound = bind(query, self.table, params, now=dt.datetime.now(dt.timezone.utc), text=text)
        try:
            return plan_query(bound, {ref.connection: self.connector(ref.connection) for ref, _ in bound.tables})
        except QueryError as err:
            if err.span is not None:
                err.locate(text, start=err.span.start, end=err.span.end)
            raise

    def _probe(self, plan: Any, st: stats.QueryStats) -> dict[int, int]:
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

    @staticmethod
    def _done(result: Result, started: float) -> Result:
        result.stats.elapsed_ms = int((time.perf_counter() - started) * 1000)
        if result.frame is not None:
            result.stats.rows = len(result.frame)
        return result

    def execute_script(self, text: str, params: Mapping[str, Any] | None = None) -> list[Result]:
        """Run every statement of a script in order."""
        return [self.execute(s, params) for s in split_statements(text)]

    def query(self, sql: str, params: Mapping[str, Any] | None = None) -> pd.DataFrame:
        """Run a query and return its rows.

        >>> crmql.connect().query("SELECT COUNT(*) AS n FROM azavista.organizations")  # doctest: +SKIP
             n
        0  500
        """
        result = self.execute(sql, params)
        if result.frame is None:
            return pd.DataFrame({"plan": (result.text or "").splitlines()})
        return result.frame

    def explain(self, sql: str, params: Mapping[str, Any] | None = None) -> str:
        """The EXPLAIN text of a query (``EXPLAIN`` may be omitted)."""
        return self.execute(sql, params, explain="plan").text or ""

    def close(self) -> None:
        """Close every connection's HTTP client."""
        connectors, self._connectors = list(self._connectors.values()), {}
        for c in connectors:
            try:
                run_sync(c.aclose())
            except Exception:  # pragma: no cover - closing must not raise
                log.debug("closing %s failed", c.name, exc_info=True)

    def __enter__(self) -> Session:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()


def connect(config: Config | str | os.PathLike[str] | None = None) -> Session:
    """Open a session on the configured connections (the sandbox when there is no config).

    >>> s = connect()            # doctest: +SKIP
    >>> s.query("SELECT name FROM azavista.events LIMIT 3")  # doctest: +SKIP
    """
    return Session(config)


def _reads_whole_table(select: ast.Select) -> bool:
    """One table, every row: no WHERE, JOIN, GROUP BY, HAVING, ORDER BY, LIMIT, OFFSET, DISTINCT or
    aggregate, so the first request is the vendor's plain first page whatever the catalog says."""
    return select.bare and not uses_aggregates(select)
