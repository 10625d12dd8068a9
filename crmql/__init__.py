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
    RequestBudgetError,
    VendorHTTPError,
    VendorResponseError,
)

_LAZY = {"Result", "Session", "connect"}  # crmql.api.session imports pandas: load it on first use only
#: the partitioned reads (what the Spark and Dask readers use: crmql.api.partitions), loaded on first use too
_PARTITIONS = {"PartitionedQuery", "ScanPartition", "SessionSpec", "Window", "plan_partitions", "read_partition",
               "result_schema"}

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
    "RequestBudgetError",
    "Result",
    "Session",
    "VendorHTTPError",
    "VendorResponseError",
    "connect",
    "explain",
    "query",
]

__version__ = "0.1.0"


def __getattr__(name: str):
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module("crmql.api.session"), name)
    if name in _PARTITIONS:
        import importlib

        return getattr(importlib.import_module("crmql.api.partitions"), name)
    raise AttributeError(f"module 'crmql' has no attribute {name!r}")


def load_ipython_extension(ipython):  # noqa: ANN001 - IPython's hook; imports IPython only when used
    """``%load_ext crmql``: the ``%crmql`` / ``%%crmql`` magics (see :mod:`crmql.surfaces.magic`)."""
    from .surfaces.magic import load_ipython_extension as load

    load(ipython)


def unload_ipython_extension(ipython):  # noqa: ANN001
    """``%unload_ext crmql``."""
    from .surfaces.magic import unload_ipython_extension as unload

    unload(ipython)


def query(sql: str, params: dict | None = None, *, config=None):
    """Run one query on a throwaway session and return a DataFrame.

    >>> crmql.query("SELECT COUNT(*) AS n FROM azavista.organizations")  # doctest: +SKIP
    """
    from .api.session import connect

    with connect(config) as session:
        return session.query(sql, params)


def explain(sql: str, params: dict | None = None, *, config=None) -> str:
    """The EXPLAIN text of a query on a throwaway session."""
    from .api.session import connect

    with connect(config) as session:
        return session.explain(sql, params)
