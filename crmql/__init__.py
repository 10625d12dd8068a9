"""crmql: one SQL-like language over CRM and property-management SaaS APIs.

>>> import crmql
>>> session = crmql.connect()          # the sandbox, when there is no config   # doctest: +SKIP
>>> session.query("SELECT name, start FROM azavista.events WHERE event_type = 'sales' LIMIT 5")  # doctest: +SKIP
"""

import sys as _sys
import types as _types

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

        return getattr(importlib.import_module("crmql.session"), name)
    raise AttributeError(f"module 'crmql' has no attribute {name!r}")


def load_ipython_extension(ipython):  # noqa: ANN001 - IPython's hook; imports IPython only when used
    """``%load_ext crmql``: the ``%crmql`` / ``%%crmql`` magics (see :mod:`crmql.magic`)."""
    from .magic import load_ipython_extension as load

    load(ipython)


def unload_ipython_extension(ipython):  # noqa: ANN001
    """``%unload_ext crmql``."""
    from .magic import unload_ipython_extension as unload

    unload(ipython)


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


class _Package(_types.ModuleType):
    """The ``crmql`` module itself. Loading the submodule ``crmql/explain.py`` (as any EXPLAIN does)
    makes the import system set ``crmql.explain`` to that module, which would hide the public
    function ``explain``; the function keeps its name."""

    def __setattr__(self, name: str, value: object) -> None:
        if name == "explain" and isinstance(value, _types.ModuleType) and callable(self.__dict__.get(name)):
            return
        super().__setattr__(name, value)


_sys.modules[__name__].__class__ = _Package
