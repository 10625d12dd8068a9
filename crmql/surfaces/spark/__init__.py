"""crmql as a PySpark data source: ``spark.read.format("crmql")`` (Spark 4.1+, ``pip install 'crmql[spark]'``).

::

    import crmql.spark
    crmql.spark.register(spark)                                  # once per SparkSession
    events = spark.read.format("crmql").option("config", "/etc/crmql.toml").load("azavista.events")
    events.filter("event_type = 'sales' AND start >= '2025-03-01'").groupBy("event_type").count()
    per_day = (spark.read.format("crmql")
               .option("query", "SELECT community_id, COUNT(*) AS n FROM casavi_community.tickets "
                                "WHERE status = 'OPEN' GROUP BY community_id")
               .load())

Which to use when:

* ``.load("conn.table")``: one table, Spark does the rest (joins with lakehouse tables, windows,
  aggregates). Spark's filters on the table are translated and pushed (what crmql pushes exactly
  to the vendor Spark does not check again), and the scan is split into partitions that Spark's
  executors read in parallel (page ranges where the vendor reports a total, one partition per
  community, split OR branch or id chunk), never more at once than the connection's
  ``concurrency``.
* ``.option("query", "SELECT ...")``: a join of two vendor tables, a GROUP BY, a LIMIT: crmql plans
  the whole statement (a join narrowed with ``key IN (...)`` on the vendor, a COUNT(*) read from
  the vendor's total), so far fewer requests than Spark joining two full scans. A row-wise query
  (one table, no GROUP BY, ORDER BY, LIMIT) is partitioned like a table; anything else is one
  partition.
* ``partitionColumn``/``lowerBound``/``upperBound``/``numPartitions`` (as Spark's JDBC source): one
  partition per range of a column, for a vendor with only next links (Atlas) whose pages cannot be
  addressed; each range is its own statement, pushed where the vendor filters the column.

Requirements: Spark 4.1 or later (Python data sources came in 4.0, filter pushdown in 4.1), with
``spark.sql.python.filterPushdown.enabled=true`` set before :func:`register` for the pushdown
(without it every filter runs in Spark: still correct, more rows fetched). Spark's Python workers
run ``python3`` from the PATH unless ``PYSPARK_PYTHON`` names an interpreter: it must have crmql
installed (set ``PYSPARK_PYTHON`` before the SparkSession starts). Secrets stay in the config
file: only its path travels to the executors, which resolve its ``${ENV}`` references themselves.

>>> sorted(__all__)
['CrmqlDataSource', 'register']
"""

from __future__ import annotations

import logging
import os
from typing import Any

try:  # Python data sources came with Spark 4.0, their filter pushdown (the Filter classes) with 4.1
    from pyspark.sql.datasource import Filter as _Filter  # noqa: F401
except ImportError as missing:  # pragma: no cover - the spark extra is installed for the tests
    raise ImportError("crmql.spark needs PySpark 4.1 or later (Python data sources with filter pushdown): "
                      "pip install 'crmql[spark]'") from missing

from ...api.partitions import SessionSpec
from .source import CrmqlDataSource

__all__ = ["CrmqlDataSource", "register"]

log = logging.getLogger(__name__)

PUSHDOWN_SETTING = "spark.sql.python.filterPushdown.enabled"
_warned: list[bool] = []


def register(spark: Any, config: str | os.PathLike[str] | None = None) -> None:
    """Make ``spark.read.format("crmql")`` (and ``readStream``) work in ``spark``'s session.

    ``config`` is the default config file's path for reads that give no ``config`` option (None:
    the one :func:`crmql.connect` would use; when that is the built-in sandbox it starts here, in
    this process, and every executor reads it). Spark filter pushdown is offered when the session's
    ``spark.sql.python.filterPushdown.enabled`` is true at this call (else a warning, once).

    >>> register(None)
    Traceback (most recent call last):
    TypeError: register() needs a SparkSession, not NoneType
    """
    if spark is None or not hasattr(spark, "dataSource"):
        raise TypeError(f"register() needs a SparkSession, not {type(spark).__name__}")
    pushdown = str(spark.conf.get(PUSHDOWN_SETTING, "false")).strip().lower() == "true"
    if not pushdown and not _warned:
        _warned.append(True)
        log.warning("%s is not true: Spark's filters on crmql tables are not pushed to the vendors (still "
                    "correct, more rows fetched); set it before crmql.spark.register(spark)", PUSHDOWN_SETTING)
    spec = SessionSpec.for_config(config)
    # a class of its own, pickled by value with the session: its defaults reach Spark's workers
    source = type("CrmqlDataSource", (CrmqlDataSource,), {
        "__module__": CrmqlDataSource.__module__, "__qualname__": "CrmqlDataSource.registered",
        "__doc__": CrmqlDataSource.__doc__, "default_spec": spec, "pushdown": pushdown})
    spark.dataSource.register(source)
