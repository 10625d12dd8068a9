"""The shell's background warm-up: startup stays fast because nothing before the first prompt
imports pandas, DuckDB, pyarrow or Lark.

Once the prompt is drawn, a daemon thread creates the :class:`~crmql.api.session.Session` (pandas),
creates every connector, warms the parser, the planner and DuckDB, starts loading the schemas for
completion and builds the parser that tells the completer which keywords fit (and the sandbox, when
the config uses it). A statement submitted before that is done waits for it in
:meth:`WarmUpMixin.session`.
"""

from __future__ import annotations

import logging
import sys
import threading
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ...api.config import Config
    from ...api.session import Session
    from .completer import CrmqlCompleter
    from .schema import SchemaCache

__all__ = ["WarmUpMixin"]

log = logging.getLogger(__name__)


class WarmUpMixin:
    """The session of :class:`~crmql.surfaces.repl.app.Shell`, made off the UI thread, and the schemas its
    completer reads."""

    config: Config
    schema: SchemaCache
    completer: CrmqlCompleter
    prompt_session: Any
    _session: Session | None
    _session_error: BaseException | None
    _ready: threading.Event
    _warm_thread: threading.Thread | None

    def start_background(self) -> None:
        """Create the session and warm everything heavy, off the UI thread (once)."""
        if self._warm_thread is None:
            self._warm_thread = threading.Thread(target=self._warm, name="crmql-warm", daemon=True)
            self._warm_thread.start()

    def _warm(self) -> None:
        # the declared tables (a fraction of a second, no I/O) first: with the CPU to themselves
        # they complete sooner, and the session's imports (pandas, DuckDB) follow at once
        self.schema.wait_declared(1.0)
        try:
            from ...api.session import Session

            session = Session(self.config)
            for name in self.config.connections:  # create every connector now: no race on first use
                try:
                    session.connector(name)
                except Exception:  # reported when the connection is used
                    log.debug("connection %s", name, exc_info=True)
            # what the first statement needs: the parser, the planner, the executor (DuckDB, Arrow)
            from ...exec import executor
            from ...plan import planner
            from ...language.parser import _parser

            del executor, planner  # imported to be warm, not used here
            _parser()
            self._session = session
        except BaseException as e:  # noqa: BLE001 - shown when a statement needs the session
            self._session_error = e
        finally:
            self._ready.set()
        if self._session is None:
            return
        self.schema.load_all()
        try:
            from ...plan.bind import AGGREGATES, FUNCTIONS
            from ..completion import build_keyword_parser

            self.completer.aggregates = frozenset(AGGREGATES)
            self.completer.functions = sorted(FUNCTIONS)
            self.completer.parser = build_keyword_parser()
        except Exception:  # pragma: no cover - completion then offers every keyword
            log.debug("keyword parser", exc_info=True)
        if self.config.uses_sandbox:
            try:
                from ...api.session import sandbox_url

                sandbox_url(self.config.sandbox)
            except Exception:  # pragma: no cover - the first query reports it
                log.debug("sandbox start", exc_info=True)

    def session(self) -> Session:
        """The session, waiting for the warm-up if it is still running (Ctrl-C interrupts)."""
        self.start_background()
        while not self._ready.wait(0.1):
            pass
        if self._session is None:
            error = self._session_error
            if isinstance(error, KeyboardInterrupt):
                raise error
            from ...errors import CrmqlError

            if isinstance(error, CrmqlError):
                raise error
            raise RuntimeError(f"the session could not start: {error}") from error
        return self._session

    def _load_tables(self, connection: str) -> dict[str, Any]:
        return self.session().connector(connection).tables()

    def _declared_tables(self, connection: str) -> tuple[list[str], dict[str, Any]]:
        """What the connection's connector declares without I/O: its table names, and its tables
        when its catalog is built in code. Needs no session (so no pandas): a connector of its own
        is made, and used for nothing else.

        By the :class:`~crmql.plan.connector.Connector` contract, ``table_names()`` never does
        I/O, and a connector whose ``load_tables()`` costs I/O overrides it (Atlas); one that does
        not (Azavista) builds its tables in code, so they are read too."""
        from ...plan.connector import Connector
        from ...connectors.registry import create_connector

        conn = self.config.connections[connection]
        connector = create_connector(conn.name, conn.vendor, dict(conn.settings))
        if type(connector).table_names is Connector.table_names:
            tables = connector.tables()
            return list(tables), dict(tables)
        return list(connector.table_names()), {}

    def _schema_loaded(self, connection: str) -> None:
        """A schema arrived: refresh the completion menu if one is being typed."""
        ps = self.prompt_session
        app = getattr(ps, "app", None)
        if app is None or not app.is_running or getattr(app, "loop", None) is None:
            return

        def retrigger() -> None:  # only while a name is being typed (or right after "conn.")
            buffer = app.current_buffer
            before = buffer.document.text_before_cursor
            if before and (before[-1] == "." or before[-1].isalnum() or before[-1] in '_"') and buffer.complete_state is None:
                buffer.start_completion(select_first=False)
            app.invalidate()
        try:
            app.loop.call_soon_threadsafe(retrigger)
        except RuntimeError:  # the prompt's loop has closed meanwhile
            pass

    def refresh_schemas(self) -> None:
        session = self.session()
        for name in self.config.connections:
            try:
                session.connector(name).refresh()
            except Exception:  # a broken connection reports itself when used
                log.debug("refresh %s", name, exc_info=True)
        self.schema.refresh()
        self.schema.load_all()

    def sandbox_url(self) -> str | None:
        module = sys.modules.get("crmql.api.session")
        server = getattr(module, "_sandbox_server", None) if module else None
        return getattr(server, "url", None)
