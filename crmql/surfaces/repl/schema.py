"""The shell's schema cache: connections and their tables for completion, loaded lazily.

It never waits on the network. A connection's tables are loaded by a background thread on first
need and cached; until they arrive, lookups return None (the completer offers no columns yet).
What a connector declares statically (its table names, and every table of a connector whose
catalog is built in code, such as Azavista's) comes from ``declared(connection)``, which needs no
session and no I/O: it is read on a thread started with the cache, so ``azavista.eve<Tab>``
completes from the first keystroke; only discovered schemas (Atlas templates) wait for their load.
:meth:`SchemaCache.refresh` drops the loaded tables (``\\refresh``); a load that was running
meanwhile is discarded.

>>> cache = SchemaCache(["crm"], lambda connection: {})
>>> cache.tables("CRM") is None  # not loaded yet: loading starts in the background
True
>>> cache.wait(5), cache.tables("crm")
(True, {})
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterator, Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ...plan.catalog import Table

__all__ = ["SchemaCache"]

log = logging.getLogger(__name__)


#: how long a table-name lookup waits for the declared names (read without I/O) on first use
DECLARED_WAIT_S = 1.0

#: ``declared(connection) -> (table names, {name: Table} known without I/O)``
Declared = Callable[[str], "tuple[list[str], dict[str, Table]]"]


class SchemaCache:
    """Connections and their tables, loaded lazily off the UI thread and cached.

    ``loader(connection) -> {table name: Table}`` may do I/O; it runs on a daemon thread. Every
    lookup returns at once with what is known (None: not loaded yet, loading has been started).
    ``on_loaded(connection)`` is called from the loading thread when a connection's tables arrive.
    ``declared`` (optional, see :data:`Declared`) gives what each connector declares statically;
    it is read at once on a thread of its own (no I/O: it only imports the connector), and
    :meth:`table_names` waits for it, briefly, the first time.
    """

    def __init__(self, connections: Sequence[str], loader: Callable[[str], dict[str, Table]] | None,
                 on_loaded: Callable[[str], Any] | None = None, *, declared: Declared | None = None) -> None:
        self._connections = list(connections)
        self._loader = loader
        self.on_loaded = on_loaded
        self._lock = threading.Lock()
        self._tables: dict[str, dict[str, Table]] = {}
        self._loading: dict[str, threading.Thread] = {}
        self._errors: dict[str, str] = {}
        self._generation = 0
        self._declared_names: dict[str, list[str]] = {}
        self._declared_tables: dict[str, dict[str, Table]] = {}
        self._declared_done = threading.Event()
        if declared is None:
            self._declared_done.set()
        else:
            threading.Thread(target=self._read_declared, args=(declared,), name="crmql-schema-declared",
                             daemon=True).start()

    def _read_declared(self, declared: Declared) -> None:
        try:
            for conn in self._connections:
                try:
                    names, tables = declared(conn)
                except Exception:  # noqa: BLE001 - that connection completes once its load arrives
                    log.debug("declared tables of %s", conn, exc_info=True)
                    continue
                with self._lock:
                    self._declared_names[conn] = list(names)
                    self._declared_tables[conn] = dict(tables)
        finally:
            self._declared_done.set()
        if self.on_loaded is not None:
            for conn in self._connections:
                if conn in self._declared_names:
                    try:
                        self.on_loaded(conn)
                    except Exception:  # pragma: no cover - a display hook must not break loading
                        log.debug("on_loaded hook failed", exc_info=True)

    def wait_declared(self, timeout: float | None = None) -> bool:
        """Block until the declared tables have been read (True) or ``timeout`` passes."""
        return self._declared_done.wait(timeout)

    def table_names(self, connection: str) -> list[str] | None:
        """The connection's table names: those loaded, else those its connector declares (waiting
        up to :data:`DECLARED_WAIT_S` for them on first use: no I/O is involved); None when neither
        is known. Starts loading the tables when they are not loaded."""
        conn = self._canonical(connection)
        if conn is None:
            return None
        tables = self.tables(conn)
        if tables is not None:
            return sorted(tables)
        self.wait_declared(DECLARED_WAIT_S)
        with self._lock:
            names = self._declared_names.get(conn)
        return sorted(names) if names is not None else None

    @property
    def connections(self) -> list[str]:
        return list(self._connections)

    def tables(self, connection: str) -> dict[str, Table] | None:
        """The connection's tables if loaded; otherwise start loading them and return None."""
        conn = self._canonical(connection)
        if conn is None:
            return None
        with self._lock:
            if conn in self._tables:
                return self._tables[conn]
            if conn in self._loading or conn in self._errors or self._loader is None:
                return None
            thread = threading.Thread(target=self._load, args=(conn, self._generation),
                                      name=f"crmql-schema-{conn}", daemon=True)
            self._loading[conn] = thread
        thread.start()
        return None

    def _load(self, conn: str, generation: int) -> None:
        assert self._loader is not None
        try:
            tables = dict(self._loader(conn))
        except BaseException as e:  # noqa: BLE001 - reported by \dt; completion just stays empty
            log.debug("loading the tables of %s failed", conn, exc_info=True)
            with self._lock:
                self._done(conn)
                if generation == self._generation:
                    self._errors[conn] = str(e) or type(e).__name__
            return
        with self._lock:
            if generation != self._generation:  # a \refresh happened meanwhile; its load wins
                self._done(conn)
                return
            self._tables[conn] = tables
        try:
            if self.on_loaded is not None:
                self.on_loaded(conn)
        except Exception:  # pragma: no cover - a display hook must not break loading
            log.debug("on_loaded hook failed", exc_info=True)
        finally:  # only now, so wait() returns after the hook has run
            with self._lock:
                self._done(conn)

    def _done(self, conn: str) -> None:
        """Forget this thread's load of ``conn`` (not a newer one a refresh started); lock held."""
        if self._loading.get(conn) is threading.current_thread():
            del self._loading[conn]

    def load_all(self) -> None:
        """Start loading every connection's tables (in the background)."""
        for conn in self._connections:
            self.tables(conn)

    def wait(self, timeout: float | None = None) -> bool:
        """Block until no load is running (tests, ``\\dt``); True when idle.

        Called from an ``on_loaded`` hook, it waits for the other loads (not the hook's own)."""
        import time

        deadline = None if timeout is None else time.monotonic() + timeout
        me = threading.current_thread()
        while True:
            with self._lock:
                threads = [t for t in self._loading.values() if t is not me]
            if not threads:
                return True
            for t in threads:
                remaining = None if deadline is None else max(0.0, deadline - time.monotonic())
                t.join(remaining)
            if deadline is not None and time.monotonic() >= deadline:
                with self._lock:
                    return not any(t is not me for t in self._loading.values())

    def refresh(self) -> None:
        """Forget every cached schema (and failure); the next lookups load them again."""
        with self._lock:
            self._generation += 1
            self._tables.clear()
            self._errors.clear()
            self._loading.clear()

    def error(self, connection: str) -> str | None:
        return self._errors.get(connection)

    def _canonical(self, connection: str) -> str | None:
        if connection in self._connections:
            return connection
        folded = {c.lower(): c for c in self._connections}
        return folded.get(connection.lower())

    def table(self, connection: str, name: str) -> Table | None:
        """A table by name (case-insensitive): loaded, else declared statically; None if unknown yet."""
        tables = self.tables(connection)
        if not tables:
            conn = self._canonical(connection)
            with self._lock:
                tables = dict(self._declared_tables.get(conn, {})) if conn is not None else {}
        if not tables:
            return None
        if name in tables:
            return tables[name]
        folded = {k.lower(): v for k, v in tables.items()}
        return folded.get(name.lower())

    def loaded_tables(self) -> Iterator[Table]:
        with self._lock:
            snapshot = [t for tables in self._tables.values() for t in tables.values()]
        return iter(snapshot)
