"""Reflection for the ``crmql`` dialect: connections are schemas, tables are tables.

Each function takes the crmql :class:`~crmql.api.session.Session` behind a DB-API connection
(:attr:`crmql.dbapi.Connection.session`) and answers from crmql's catalog, as SHOW TABLES and DESCRIBE
do, with as little I/O as the catalog allows:

- schema names are the configured connections (no request);
- table names are the connector's :meth:`~crmql.plan.connector.Connector.table_names` (no table is
  loaded: Atlas's templates stay unread until a table's columns are asked for);
- columns are DESCRIBE's rows (every column, those a table finds in the vendor's data too), each
  with its SQLAlchemy type (:func:`.types.sqlalchemy_type`) and, as its comment, what crmql pushes to
  the vendor for it (``pushed: =, IN``, or ``pushed: (local only)``), its options and description,
  so a tool that shows comments (Superset, JupySQL's ``%sqlcmd columns``) shows exactness;
- the primary key is the table's key (:attr:`~crmql.plan.catalog.Table.key`, ``id`` for most);
  there are no foreign keys, indexes, views or constraints.

A name is looked up as crmql does (exact first, then a unique case-insensitive match); an unknown
table raises SQLAlchemy's ``NoSuchTableError``, whose message carries crmql's hint.

>>> column_comment({"pushed_filters": "=, IN", "options": "", "description": "the event's type",
...                 "required": ""})
"pushed: =, IN. the event's type"
>>> column_comment({"pushed_filters": "(local only)", "options": "a, b", "description": "", "required": ""})
'pushed: (local only). options: a, b'
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from sqlalchemy import exc

from ...errors import QueryError
from .types import sqlalchemy_type

__all__ = ["column_comment", "columns", "default_schema", "has_table", "primary_key", "schema_names", "table_description",
           "table_names"]

log = logging.getLogger(__name__)


def schema_names(session: Any) -> list[str]:
    """The configured connections, in the config's order (no request).

    >>> from types import SimpleNamespace as NS
    >>> schema_names(NS(config=NS(connections={"azavista": 1, "atlas": 2})))
    ['azavista', 'atlas']
    """
    return list(session.config.connections)


def default_schema(session: Any) -> str | None:
    """The first connection: where a table given without a schema is looked up."""
    names = schema_names(session)
    return names[0] if names else None


def _connector(session: Any, schema: str | None) -> Any:
    name = schema or default_schema(session)
    if name is None:
        raise exc.NoSuchTableError("no connection is configured")
    try:
        return session.connector(name)
    except QueryError as e:
        raise exc.NoSuchTableError(str(e)) from None


def table_names(session: Any, schema: str | None) -> list[str]:
    """The tables of connection ``schema`` (the default one when None), without loading any.

    An unknown connection raises ``NoSuchTableError`` with crmql's "did you mean" hint.
    """
    return list(_connector(session, schema).table_names())


def _table(session: Any, name: str, schema: str | None) -> Any:
    connector = _connector(session, schema)
    try:
        return connector.table(name)
    except QueryError as e:
        raise exc.NoSuchTableError(str(e)) from None


def has_table(session: Any, name: str, schema: str | None) -> bool:
    """Whether ``schema.name`` exists (a name matched as crmql matches it; no table is loaded)."""
    try:
        names = table_names(session, schema)
    except exc.NoSuchTableError:
        return False
    return name in names or sum(n.lower() == name.lower() for n in names) == 1


def column_comment(row: Mapping[str, Any]) -> str:
    """A column's comment from its DESCRIBE row: what is pushed, whether it is required, its options
    and description."""
    parts = [f"pushed: {row.get('pushed_filters') or '(local only)'}"]
    if row.get("required"):
        parts.append(f"required: {row['required']}")
    if row.get("options"):
        parts.append(f"options: {row['options']}")
    if row.get("description"):
        parts.append(str(row["description"]))
    return ". ".join(parts)


def columns(session: Any, name: str, schema: str | None) -> list[dict[str, Any]]:
    """SQLAlchemy's column dicts of ``schema.name``, from DESCRIBE (every column; all nullable: a
    field missing from a vendor record is NULL)."""
    table = _table(session, name, schema)
    frame = session.describe(table.connection, table.name)
    out = []
    for row in frame.to_dict("records"):
        out.append({
            "name": row["column"],
            "type": sqlalchemy_type(row["type"]),
            "nullable": True,
            "default": None,
            "autoincrement": False,
            "comment": column_comment(row),
        })
    log.debug("reflected %d columns of %s", len(out), table.qualified)
    return out


def primary_key(session: Any, name: str, schema: str | None) -> dict[str, Any]:
    """``{"constrained_columns": [key], "name": None}``: the table's key (``id`` for most)."""
    table = _table(session, name, schema)
    return {"constrained_columns": [table.key] if table.key else [], "name": None}


def table_description(session: Any, name: str, schema: str | None) -> str:
    """The table's description, as SHOW TABLES gives it."""
    return _table(session, name, schema).description
