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
from typing import Any

import pandas as pd

from ..language import ast
from .. import stats
from ..plan.bind import bind, uses_aggregates
from ..plan.catalog import Table
from .config import SANDBOX_URL, Config, load_config, sandbox_settings
from .config_rules import located
from ..plan.connector import Connector
from ..connectors.registry import CONNECTORS, create_connector
from ..errors import ConfigError, CrmqlError, QueryError, did_you_mean
from ..vendors import REGISTER_HINT
from ..http import run_sync
from ..language.parser import parse, split_statements
from .listings import describe_frame, tables_frame
from .result import Result, finish
from .statements import STATEMENTS, Run

__all__ = ["Result", "Session", "connect"]


def _preload_connectors() -> dict[str, Any]:
    """Every connector class that loads, imported with the session so the first query's time is its
    own (the registry imports them lazily: listing the vendors, e.g. for the default config, stays
    cheap). One that cannot be loaded is left for :func:`create_connector` to report when used."""
    loaded = {}
    for vendor in CONNECTORS:
        try:
            loaded[vendor] = CONNECTORS[vendor]
        except CrmqlError as e:
            logging.getLogger(__name__).debug("connector of vendor %s not preloaded: %s", vendor, e)
    return loaded


_CONNECTOR_CLASSES = _preload_connectors()

log = logging.getLogger(__name__)

_sandbox_lock = threading.Lock()
_sandbox_server: Any = None


def sandbox_url(options: Mapping[str, Any] | None = None) -> str:
    """Root URL of the in-process sandbox, started on first use (once per process)."""
    global _sandbox_server
    with _sandbox_lock:
        if _sandbox_server is None:
            from ..sandbox import serve_in_thread

            _sandbox_server = serve_in_thread(sandbox_settings(options))
            log.info("sandbox serving on %s", _sandbox_server.url)
        return _sandbox_server.url


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
            hint = did_you_mean(name, self.config.connections) or \
                f"connections: {', '.join(self.config.connections) or 'none'} ({self.config.source})"
            if hint.startswith("connections:") and all(c.name == c.vendor for c in self.config.connections.values()):
                hint += f"; {REGISTER_HINT}"  # named after their vendors: the name may be one not registered
            raise QueryError(f"unknown connection '{name}'", hint=hint)
        settings = dict(conn.settings)
        if settings.get("base_url") == SANDBOX_URL:
            vendor = conn.vendor
            options = self.config.sandbox
            settings["base_url"] = lambda: f"{sandbox_url(options)}/{vendor}"
        try:
            connector = create_connector(conn.name, conn.vendor, settings)
        except ConfigError as e:  # a setting only the vendor checks (custom_fields): said like config_rules'
            raise located(e, connection=conn.name, where=self.config.file) from None
        self._connectors[name] = connector
        return connector

    def table(self, connection: str, name: str) -> Table:
        return self.connector(connection).table(name)

    def tables(self, connection: str | None = None) -> pd.DataFrame:
        """SHOW TABLES as a frame: connection, table, columns, description."""
        names = [connection] if connection else list(self.config.connections)
        return tables_frame(self.connector(n) for n in names)

    def describe(self, connection: str, name: str) -> pd.DataFrame:
        """DESCRIBE as a frame: column, type, pushed filters, options, description (every column,
        those a table finds in the vendor's data too: :meth:`Table.complete`). Whatever that
        started early for a statement is dropped (no later statement takes a page fetched now)."""
        connector = self.connector(connection)
        try:
            return describe_frame(connector.table(name).complete())
        finally:
            connector.discard_early()

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
        entry = STATEMENTS[type(stmt)]
        if entry.check is not None:  # e.g. a bad COPY option fails before any request
            entry.check(stmt)
        with stats.collecting(st):  # catalog loads and token requests count towards the statement
            try:
                self._warm(entry.warms(stmt))
                return self._run(entry.run, stmt, Run(self, sql, params, st, started))
            except QueryError as err:  # raised where the text is not at hand (e.g. a join's limit)
                if err.span is not None:
                    err.locate(sql, start=err.span.start, end=err.span.end)
                raise
            finally:
                for connector in list(self._connectors.values()):
                    connector.discard_early()

    def _warm(self, select: ast.Select | None) -> None:
        """Let each connector start the I/O this statement will need before binding asks for it
        (see :meth:`Connector.warm`): templates of joined tables load concurrently, and a
        whole-table read gets its first page together with its template."""
        if select is None:
            return
        whole = _reads_whole_table(select)
        for ref in (select.table, *(j.table for j in select.joins)):
            try:
                connector = self.connector(ref.connection)
            except CrmqlError:
                return  # binding reports it, with its suggestion
            connector.warm(ref.table, whole_table=whole)

    @staticmethod
    def _run(run_statement: Any, stmt: Any, run: Run) -> Result:
        """Run one entry of :data:`~crmql.api.statements.STATEMENTS`; a failed statement's time is kept."""
        try:
            return finish(run_statement(stmt, run), run.started)
        except KeyboardInterrupt:
            raise
        except CrmqlError:
            run.stats.elapsed_ms = int((time.perf_counter() - run.started) * 1000)
            raise

    def plan(self, query: ast.Select, params: Mapping[str, Any] | None = None, *, text: str | None = None,
             now: dt.datetime | None = None) -> Any:
        """Bind ``query`` (``text`` is its source, for messages) and plan it over the connections;
        ``now``: the clock NOW() reads (default: this moment; a partition passes its driver's)."""
        from ..plan.planner import plan_query

        bound = bind(query, self.table, params, now=now or dt.datetime.now(dt.timezone.utc), text=text)
        try:
            return plan_query(bound, {ref.connection: self.connector(ref.connection) for ref, _ in bound.tables})
        except QueryError as err:
            if err.span is not None:
                err.locate(text, start=err.span.start, end=err.span.end)
            raise

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
