"""Fixtures of the Spark tests: ONE SparkSession for the whole run, crmql registered on a served sandbox.

* ``spark`` (session scope): ``local[2]``, UI off, ``spark.sql.python.filterPushdown.enabled``,
  two shuffle partitions; Python workers run this interpreter (``PYSPARK_PYTHON``, set before the
  JVM starts). Every Spark test is marked ``pytest.mark.xdist_group("spark")`` (``pytestmark``), so
  with ``--dist loadgroup`` one xdist worker owns the JVM.
* ``crmql_config`` (module scope): a config file whose connections point at the module's
  ``sandbox_server`` (tests/conftest.py): planner and executors read the same simulators.
* ``crmql_spark`` (module scope): ``spark`` with ``crmql.spark.register(spark, config=crmql_config)``,
  so ``spark.read.format("crmql").load("azavista.events")`` reads this module's sandbox.
* ``crmql_session`` (module scope): a :class:`crmql.Session` on the same config, for expected results.
* ``read(spark_or_reader_options)``: helper building ``spark.read.format("crmql")`` with options.

The sandbox is the module's: use the ``sandbox`` fixture in a test that changes its settings
(faults, latency) or reads its request log; it resets both around the test.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

pyspark = pytest.importorskip("pyspark", reason="the spark extra (pip install 'crmql[spark]')")

from cli_support import write_config_file  # noqa: E402

SPARK_CONF = {
    "spark.ui.enabled": "false",
    "spark.sql.python.filterPushdown.enabled": "true",
    "spark.sql.shuffle.partitions": "2",
    "spark.sql.session.timeZone": "UTC",
    "spark.python.worker.reuse": "true",
    "spark.driver.memory": "1g",
    "spark.ui.showConsoleProgress": "false",
}


@pytest.fixture(scope="session")
def spark(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """The run's one SparkSession (stopped at the end of the run)."""
    from pyspark.sql import SparkSession

    os.environ["PYSPARK_PYTHON"] = sys.executable
    os.environ["PYSPARK_DRIVER_PYTHON"] = sys.executable
    scratch = tmp_path_factory.mktemp("spark")
    builder = SparkSession.builder.master("local[2]").appName("crmql-tests")
    for key, value in {**SPARK_CONF, "spark.local.dir": str(scratch),
                       "spark.sql.warehouse.dir": str(scratch / "warehouse")}.items():
        builder = builder.config(key, value)
    session = builder.getOrCreate()
    session.sparkContext.setLogLevel("ERROR")
    yield session
    session.stop()


@pytest.fixture(scope="module")
def crmql_config(sandbox_server: Any, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A config file on the module's sandbox (fast retries, so a fault test fails quickly)."""
    path = write_config_file(tmp_path_factory.mktemp("crmql-spark") / "crmql.toml", sandbox_server.url,
                             retry_base_s=0.01, retry_cap_s=0.05)
    path.chmod(0o600)  # it holds the sandbox's literal secrets: crmql warns about a readable one
    return path


@pytest.fixture(scope="module")
def crmql_spark(spark: Any, crmql_config: Path) -> Any:
    """``spark`` with crmql registered on this module's sandbox."""
    import crmql.spark

    crmql.spark.register(spark, config=crmql_config)
    return spark


@pytest.fixture(scope="module")
def crmql_session(crmql_config: Path) -> Iterator[Any]:
    """A crmql session on the same config (what a Spark read must equal)."""
    import crmql

    with crmql.connect(crmql_config) as session:
        yield session


def read(spark: Any, table: str | None = None, **options: Any) -> Any:
    """``spark.read.format("crmql")`` with ``options``, loading ``table`` (or a ``query`` option)."""
    reader = spark.read.format("crmql")
    for key, value in options.items():
        reader = reader.option(key, value)
    return reader.load(table) if table else reader.load()
