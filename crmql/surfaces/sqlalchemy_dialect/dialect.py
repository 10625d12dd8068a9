"""The ``crmql://`` SQLAlchemy 2.x dialect: crmql's connections as schemas, over :mod:`crmql.dbapi`.

URLs (the issue's forms; the path reading is the ``file:///path`` one, since the issue writes
``crmql:///path/to/config.toml`` for a file that is not in the working directory):

=====================================  ==================================================================
``crmql://``                           the built-in sandbox (crmql's default config: $CRMQL_CONFIG, the
                                       user config, else the in-process sandbox), as ``crmql.connect()``
``crmql:///abs/path/config.toml``      that config file (three slashes: the path is absolute)
``crmql:////abs/path/config.toml``     the same (the database part already starts with ``/``)
``crmql:///~/crmql.toml``              under the home directory
``crmql://?config=rel/config.toml``    a config file by any path (relative to the working directory)
=====================================  ==================================================================

A host, port, user or password has no meaning (crmql reaches each vendor with its own settings):
one is an ``ArgumentError`` saying so, as is any query option but ``config``.

crmql is read-only: ``commit``/``rollback`` are no-ops, the only isolation level is ``AUTOCOMMIT``,
and a pool ping asks nothing of the vendors (a connection is a session object, not a socket).

>>> from sqlalchemy.engine import make_url
>>> CrmqlDialect().create_connect_args(make_url("crmql:///etc/crmql/config.toml"))
([], {'config': '/etc/crmql/config.toml'})
>>> CrmqlDialect().create_connect_args(make_url("crmql://"))
([], {})
"""

from __future__ import annotations

import logging
import os
from pathlib import Path, PurePosixPath
from typing import Any

from sqlalchemy import exc
from sqlalchemy.engine import default, reflection as sa_reflection

from . import reflection
from .compiler import CrmqlCompiler, CrmqlIdentifierPreparer
from .types import COLSPECS, CrmqlTypeCompiler

__all__ = ["CrmqlDialect", "config_path"]

log = logging.getLogger(__name__)


def config_path(database: str | None, query: dict[str, Any]) -> str | None:
    """The config file a ``crmql://`` URL names (None: crmql's default config).

    >>> config_path("tmp/x/config.toml", {}), config_path(None, {"config": "a.toml"}), config_path(None, {})
    ('/tmp/x/config.toml', 'a.toml', None)
    """
    extra = sorted(k for k in query if k != "config")
    if extra:
        raise exc.ArgumentError(f"crmql:// URL option(s) {', '.join(extra)} not known: the only option is "
                                "?config=path/to/config.toml (connections are configured in that file)")
    given = query.get("config")
    if isinstance(given, (tuple, list)):
        if len(given) != 1:
            raise exc.ArgumentError("crmql:// URL: give ?config= once")
        given = given[0]
    if database and given:
        raise exc.ArgumentError("crmql:// URL: give the config file as the path or as ?config=, not both")
    if given:
        return os.fspath(Path(str(given)).expanduser())
    if not database:
        return None
    if database.startswith("~"):
        return os.fspath(Path(database).expanduser())
    if Path(database).is_absolute():  # crmql:////abs/path, or a Windows drive path
        return database
    return str(PurePosixPath("/") / database) if os.name != "nt" else database


class CrmqlDialect(default.DefaultDialect):
    """SQLAlchemy's view of crmql: ``create_engine("crmql://")``.

    >>> CrmqlDialect.name, CrmqlDialect.driver, CrmqlDialect.default_paramstyle
    ('crmql', 'crmql', 'named')
    """

    name = "crmql"
    driver = "crmql"
    default_paramstyle = "named"
    supports_statement_cache = True

    statement_compiler = CrmqlCompiler
    preparer = CrmqlIdentifierPreparer
    type_compiler_cls = CrmqlTypeCompiler
    colspecs = COLSPECS

    # read-only, no DDL
    supports_alter = False
    supports_sequences = False
    supports_comments = True  # column comments carry the pushdown capabilities
    inline_comments = False
    supports_native_boolean = True
    supports_native_decimal = False
    supports_is_distinct_from = False
    supports_multivalues_insert = False
    supports_empty_insert = False
    supports_default_values = False
    supports_server_side_cursors = False
    use_insertmanyvalues = False
    postfetch_lastrowid = False
    supports_simple_order_by_label = True
    requires_name_normalize = False
    max_identifier_length = 10_000
    div_is_floordiv = False

    @classmethod
    def import_dbapi(cls) -> Any:
        """:mod:`crmql.dbapi`, the PEP 249 module."""
        from .. import dbapi

        return dbapi

    def create_connect_args(self, url: Any) -> tuple[list[Any], dict[str, Any]]:
        """``crmql.dbapi.connect``'s arguments for ``url`` (see the module docstring for the forms)."""
        for part in ("host", "port", "username", "password"):
            if getattr(url, part, None):
                raise exc.ArgumentError(
                    f"crmql:// URLs take no {part}: crmql reaches each vendor with the settings in its config file; "
                    "write crmql:// (the sandbox), crmql:///path/to/config.toml or crmql://?config=path")
        path = config_path(url.database, dict(url.query))
        log.debug("crmql:// config: %s", path or "default")
        return [], ({"config": path} if path else {})

    # ---- no transactions, no server
    def do_begin(self, dbapi_connection: Any) -> None:
        pass

    def do_commit(self, dbapi_connection: Any) -> None:
        pass

    def do_rollback(self, dbapi_connection: Any) -> None:
        pass

    def do_ping(self, dbapi_connection: Any) -> bool:
        return not getattr(dbapi_connection, "closed", False)

    def get_isolation_level(self, dbapi_connection: Any) -> str:
        return "AUTOCOMMIT"

    def get_default_isolation_level(self, dbapi_conn: Any) -> str:
        return "AUTOCOMMIT"

    def get_isolation_level_values(self, dbapi_conn: Any) -> list[str]:
        return ["AUTOCOMMIT"]

    def set_isolation_level(self, dbapi_connection: Any, level: str) -> None:
        if level != "AUTOCOMMIT":
            raise exc.ArgumentError(f"crmql is read-only: its only isolation level is AUTOCOMMIT, not {level}")

    def _get_server_version_info(self, connection: Any) -> tuple[int, ...]:
        from ... import __version__

        return tuple(int(p) for p in __version__.split(".") if p.isdigit())

    def _get_default_schema_name(self, connection: Any) -> str | None:
        return reflection.default_schema(_session(connection))

    # ---- reflection: connections are schemas
    @sa_reflection.cache
    def get_schema_names(self, connection: Any, **kw: Any) -> list[str]:
        return reflection.schema_names(_session(connection))

    @sa_reflection.cache
    def get_table_names(self, connection: Any, schema: str | None = None, **kw: Any) -> list[str]:
        return reflection.table_names(_session(connection), schema)

    def get_view_names(self, connection: Any, schema: str | None = None, **kw: Any) -> list[str]:
        return []

    def get_temp_table_names(self, connection: Any, schema: str | None = None, **kw: Any) -> list[str]:
        return []

    def get_sequence_names(self, connection: Any, schema: str | None = None, **kw: Any) -> list[str]:
        return []

    def has_table(self, connection: Any, table_name: str, schema: str | None = None, **kw: Any) -> bool:
        return reflection.has_table(_session(connection), table_name, schema)

    @sa_reflection.cache
    def get_columns(self, connection: Any, table_name: str, schema: str | None = None,
                    **kw: Any) -> list[dict[str, Any]]:
        return reflection.columns(_session(connection), table_name, schema)

    def get_multi_columns(self, connection: Any, *, schema: str | None = None, filter_names: Any = None,
                          **kw: Any) -> Any:
        """As SQLAlchemy's, but a table asked for by name that does not exist (``Table(..., autoload_with=)``)
        raises ``NoSuchTableError`` with crmql's message and hint ("did you mean ...?"), not its bare name."""
        for name in filter_names or ():
            if not reflection.has_table(_session(connection), name, schema):
                reflection.columns(_session(connection), name, schema)  # raises, with the hint
        return super().get_multi_columns(connection, schema=schema, filter_names=filter_names, **kw)

    @sa_reflection.cache
    def get_pk_constraint(self, connection: Any, table_name: str, schema: str | None = None,
                          **kw: Any) -> dict[str, Any]:
        return reflection.primary_key(_session(connection), table_name, schema)

    def get_foreign_keys(self, connection: Any, table_name: str, schema: str | None = None,
                         **kw: Any) -> list[dict[str, Any]]:
        return []

    def get_indexes(self, connection: Any, table_name: str, schema: str | None = None,
                    **kw: Any) -> list[dict[str, Any]]:
        return []

    def get_unique_constraints(self, connection: Any, table_name: str, schema: str | None = None,
                               **kw: Any) -> list[dict[str, Any]]:
        return []

    def get_check_constraints(self, connection: Any, table_name: str, schema: str | None = None,
                              **kw: Any) -> list[dict[str, Any]]:
        return []

    def get_table_comment(self, connection: Any, table_name: str, schema: str | None = None,
                          **kw: Any) -> dict[str, Any]:
        return {"text": reflection.table_description(_session(connection), table_name, schema) or None}


def _session(connection: Any) -> Any:
    """The crmql Session behind a SQLAlchemy ``Connection`` (its DB-API connection's ``session``)."""
    dbapi_connection = connection.connection.dbapi_connection
    session = getattr(dbapi_connection, "session", None)
    if session is None:
        raise exc.InterfaceError("not a crmql.dbapi connection", None, None)  # pragma: no cover
    return session
