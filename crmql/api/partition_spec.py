"""The plain data of a partitioned query: what a driver ships to the executors that read it.

Everything here pickles as plain values (no connector, no HTTP client, no resolved secret), so a
Spark task or a Dask worker in another process rebuilds what it needs from it:

* :class:`SessionSpec`: how an executor opens its own :class:`~crmql.api.session.Session`: the config
  file's *path* (its ``${ENV}`` references are resolved on the executor, so a secret never travels in
  a task) and, where the connections are the built-in sandbox, the driver's running sandbox URL, so
  every executor reads the SAME simulator state the driver planned against.
* :class:`ScanPartition`: one task's slice of a query (see :mod:`crmql.api.partition_plan`).
* :class:`Window`: Spark JDBC's ``partitionColumn``/``lowerBound``/``upperBound``/``numPartitions``.

>>> spec = SessionSpec(config_path=None, sandbox_url="http://127.0.0.1:8765")
>>> import pickle; pickle.loads(pickle.dumps(spec)) == spec
True
"""

from __future__ import annotations

import datetime as dt
import os
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ..errors import ConfigError

if TYPE_CHECKING:
    import pyarrow as pa

    from .session import Session

__all__ = ["FilterStatus", "PartitionedQuery", "ScanPartition", "SessionSpec", "Window"]

#: the partition kinds :func:`~crmql.api.partition_plan.plan_partitions` makes
KINDS = ("whole", "rows", "requests", "keys", "window")


@dataclass(frozen=True)
class SessionSpec:
    """How an executor opens its own session: picklable, and holding no secret.

    ``config_path``: the config file (None: the built-in sandbox); ``sandbox_url``: the root of the
    driver's running sandbox (``http://127.0.0.1:PORT``) when the connections use it.

    >>> SessionSpec.for_config(object())  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    crmql.errors.ConfigError: a partitioned query needs the config file's path, not a loaded config...
    ...
    """

    config_path: str | None
    sandbox_url: str | None = None

    @classmethod
    def for_config(cls, config: str | os.PathLike[str] | None = None) -> SessionSpec:
        """On the driver: the spec for ``config`` (a path; None: the config that applies, as
        :func:`crmql.connect` finds it). Starts the in-process sandbox when the connections use it.
        A loaded :class:`~crmql.api.config.Config` is refused: it holds resolved secrets."""
        from .config import config_path, load_config
        from .session import sandbox_url

        if config is not None and not isinstance(config, (str, os.PathLike)):
            raise ConfigError("a partitioned query needs the config file's path, not a loaded config (it holds "
                              "the resolved secrets, which must not travel to the executors)",
                              hint="pass the path of the TOML file; its ${ENV} references are resolved on each "
                                   "executor")
        found = config_path(config)
        loaded = load_config(found)
        url = sandbox_url(loaded.sandbox) if loaded.uses_sandbox else None
        # absolute: an executor's working directory may be another (the file must be there too)
        return cls(str(found.resolve()) if found is not None else None, url)

    def open(self, *, concurrency: int | None = None) -> Session:
        """On an executor: a new session on the same connections; with ``concurrency``, every
        connection's HTTP client keeps at most that many requests in flight (the config file is
        not changed: the setting is overridden in this session's copy).

        >>> session = SessionSpec(None, "http://127.0.0.1:9").open(concurrency=2)
        >>> settings = session.config.connections["azavista"].settings
        >>> settings["concurrency"], settings["base_url"]
        (2, 'http://127.0.0.1:9/azavista')
        """
        from .config import SANDBOX_URL, load_config, sandbox_config
        from .session import Session

        if self.config_path is None:
            config = sandbox_config(self.sandbox_url) if self.sandbox_url else load_config(None)
        else:
            config = load_config(self.config_path)
        for conn in config.connections.values():
            if self.sandbox_url and conn.settings.get("base_url") == SANDBOX_URL:
                conn.settings["base_url"] = f"{self.sandbox_url.rstrip('/')}/{conn.vendor}"
            if concurrency is not None:
                conn.settings["concurrency"] = max(1, int(concurrency))
        return Session(config)


@dataclass(frozen=True)
class Window:
    """Split a row-wise query into ``count`` ranges of ``column`` (Spark JDBC's partitionColumn,
    lowerBound, upperBound, numPartitions): the first range also takes ``column < lower`` and NULLs,
    the last ``column >= `` its lower bound; bounds are numbers, dates or timestamps. ``column``: a
    name (``sale-balance``, ``e.start``) or crmql text with double quotes (``"sale-balance"``).

    >>> Window("capacity", 0, 100, 4).count
    4
    """

    column: str
    lower: int | float | dt.date | dt.datetime
    upper: int | float | dt.date | dt.datetime
    count: int


@dataclass(frozen=True)
class ScanPartition:
    """One task's slice of a query: plain values only (see the module docstring).

    ``kind``: "whole" (the statement), "rows" (rows ``start``..``stop`` of the scan's one request;
    stop None: to the vendor's end), "requests" / "keys" (the scan's requests or keys
    ``start``..``stop``), "window" (``sql`` holds the range conjunct). ``concurrency``: requests in
    flight for this task's own client. ``now``: the driver's clock, so NOW() means the same on every
    executor. ``fingerprint``: the driver's planned requests (an executor refuses another plan).
    """

    index: int
    sql: str
    params: tuple[tuple[str, Any], ...]
    kind: str
    start: int = 0
    stop: int | None = None
    concurrency: int = 1
    now: str = ""
    fingerprint: str = ""
    label: str = ""

    @property
    def param_dict(self) -> dict[str, Any]:
        return dict(self.params)


@dataclass
class FilterStatus:
    """One top-level WHERE conjunct, as written: ``status`` "exact" (pushed exactly on every request),
    "superset" (pushed, re-checked locally) or "local"; ``reason``: why it is re-checked."""

    sql: str
    status: str
    reason: str = ""


@dataclass
class PartitionedQuery:
    """What :func:`~crmql.api.partition_plan.plan_partitions` returns."""

    sql: str
    params: dict[str, Any]
    schema: pa.Schema
    partitions: list[ScanPartition]
    filters: list[FilterStatus]
    connection: str | None
    table: str | None
    cap: int
