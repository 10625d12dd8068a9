"""crmql as a PEP 249 (DB-API 2.0) driver: what pandas, SQLAlchemy (``crmql://``) and JupySQL call.

Users import it as :mod:`crmql.dbapi`. Parameters are named (``:name``, crmql's own placeholders);
the exceptions are crmql's (:mod:`crmql.errors`): every :class:`~crmql.errors.CrmqlError` is a
``DatabaseError``, a wrong statement a ``ProgrammingError``, a vendor or network failure an
``OperationalError``.

>>> apilevel, threadsafety, paramstyle
('2.0', 1, 'named')
>>> conn = connect()                                           # doctest: +SKIP
>>> cur = conn.cursor()                                        # doctest: +SKIP
>>> cur.execute("SELECT name FROM azavista.events WHERE event_type = :t LIMIT 2", {"t": "sales"})  # doctest: +SKIP
>>> cur.fetchall()                                             # doctest: +SKIP
[('Sales Kickoff 2024',), ('Partner Summit',)]
"""

from __future__ import annotations

import os
from typing import Any

from ...api.config import Config
from ...api.session import Session
from ...errors import (
    DatabaseError,
    DataError,
    Error,
    IntegrityError,
    InterfaceError,
    InternalError,
    NotSupportedError,
    OperationalError,
    ProgrammingError,
    Warning,
)
from .cursor import Connection, Cursor
from .types import (
    BINARY,
    BOOLEAN,
    DATETIME,
    NUMBER,
    ROWID,
    STRING,
    Binary,
    Date,
    DateFromTicks,
    Time,
    TimeFromTicks,
    Timestamp,
    TimestampFromTicks,
)

__all__ = [
    "BINARY", "BOOLEAN", "DATETIME", "NUMBER", "ROWID", "STRING", "Binary", "Connection", "Cursor", "DataError",
    "DatabaseError", "Date", "DateFromTicks", "Error", "IntegrityError", "InterfaceError", "InternalError",
    "NotSupportedError", "OperationalError", "ProgrammingError", "Time", "TimeFromTicks", "Timestamp",
    "TimestampFromTicks", "Warning", "apilevel", "connect", "paramstyle", "threadsafety",
]

apilevel = "2.0"
#: threads may share the module, not connections (a connection's session is not thread-safe)
threadsafety = 1
paramstyle = "named"


def connect(config: Config | str | os.PathLike[str] | None = None, *, session: Session | None = None,
            **kwargs: Any) -> Connection:
    """Open a connection on crmql's configured connections (the sandbox when ``config`` is None).

    ``config`` is a :class:`~crmql.api.config.Config` or the path of a config file, as for
    :func:`crmql.connect`; ``session`` wraps an open :class:`crmql.Session` instead (closing the
    connection then leaves the session open).

    >>> connect(config="/no/such/crmql.toml")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    crmql.errors.ConfigError: ...
    """
    if kwargs:
        raise InterfaceError(f"unknown connect() argument(s): {', '.join(sorted(kwargs))} (crmql takes config or session)")
    if session is not None:
        return Connection(session, owns_session=False)
    return Connection(Session(config))
