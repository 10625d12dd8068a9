"""crmql: one SQL-like language over CRM and property-management SaaS APIs.

>>> import crmql
>>> session = crmql.connect()          # the sandbox, when there is no config   # doctest: +SKIP
>>> session.query("SELECT name, start FROM azavista.events WHERE event_type = 'sales' LIMIT 5")  # doctest: +SKIP
"""

from .errors import (
    AuthenticationError,
    CancelledError,
    ConfigError,
    ConnectorError,
    CrmqlError,
    ExportError,
    NetworkError,
    QueryError,
    QuerySyntaxError,
    RateLimitedError,
    VendorHTTPError,
)

_LAZY = {"Result", "Session", "connect"}  # crmql.session imports pandas: load it on first use only

__all__ = [
    "AuthenticationError",
    "CancelledError",
    "ConfigError",
    "ConnectorError",
    "CrmqlError",
    "ExportError",
    "NetworkError",
    "QueryError",
    "QuerySyntaxError",
    "RateLimitedError",
    "Result",
    "Session",
    "VendorHTTPError",
    "connect",
    "explain",
    "query",
]

__version__ = "0.1.0"


def __getattr__(name: str):
    if name in _LAZY:
        from . import session

        return getattr(session, name)
    raise AttributeError(f"module 'crmql' has no attribute {name!r}")


def query(sql: str, params: dict | None = None, *, config=None):
    """Run one query on a throwaway session and return a DataFrame.

    >>> crmql.query("SELECT COUNT(*) AS n FROM azavista.organizations")  # doctest: +SKIP
    """
    from .session import connect

    with connect(config) as session:
        return session.query(sql, params)


def explain(sql: str, params: dict | None = None, *, config=None) -> str:
    """The EXPLAIN text of a query on a throwaway session."""
    from .session import connect

    with connect(config) as session:
        return session.explain(sql, params)
