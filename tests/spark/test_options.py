"""The crmql data source's options, register() and its edge cases, without a JVM (the data source
called as Spark's planner and executor workers call it; real HTTP against the module's sandbox)."""

from __future__ import annotations

import datetime as dt
import logging
import pickle
from pathlib import Path
from typing import Any

import pytest
from pyspark import cloudpickle
from pyspark.sql.datasource import EqualTo, GreaterThan
from pyspark.sql.types import LongType, StringType, StructField, StructType

import crmql.spark
from crmql.errors import QueryError
from crmql.surfaces.spark import source as source_module
from crmql.surfaces.spark.source import CrmqlPushdownReader, CrmqlReader

from .test_pushdown import read_all, source


class FakeConf:
    def __init__(self, values: dict[str, str]) -> None:
        self.values = values

    def get(self, key: str, default: str | None = None) -> str | None:
        return self.values.get(key, default)


class FakeSpark:
    """What register() uses of a SparkSession: its conf and dataSource.register."""

    def __init__(self, pushdown: str | None) -> None:
        self.conf = FakeConf({} if pushdown is None else {"spark.sql.python.filterPushdown.enabled": pushdown})
        self.registered: list[type] = []
        self.dataSource = self

    def register(self, cls: type) -> None:
        self.registered.append(cls)


def test_register_without_pushdown_warns_once_and_offers_no_push_filters(crmql_config: Path,
                                                                       caplog: pytest.LogCaptureFixture) -> None:
    crmql.surfaces.spark._warned.clear()
    off, on = FakeSpark(None), FakeSpark("true")
    with caplog.at_level(logging.WARNING, logger="crmql"):
        crmql.spark.register(off, config=crmql_config)
        crmql.spark.register(FakeSpark("false"), config=crmql_config)
        crmql.spark.register(on, config=str(crmql_config))
    warnings = [r for r in caplog.records if "filterPushdown" in r.getMessage()]
    assert len(warnings) == 1 and "not pushed" in warnings[0].getMessage()
    for fake, pushdown in ((off, False), (on, True)):
        cls = pickle.loads(cloudpickle.dumps(fake.registered[0]))  # as Spark ships it: by value, defaults in it
        assert cls.name() == "crmql" and cls.pushdown is pushdown
        assert cls.default_spec.config_path == str(crmql_config.resolve())
        ds = cls({"path": "azavista.events"})  # no config option: register's default
        reader = ds.reader(ds.schema())
        assert type(reader) is (CrmqlPushdownReader if pushdown else CrmqlReader)
        # Spark refuses a reader whose pushFilters is its own while the setting is off
        assert (getattr(reader.pushFilters, "__func__", None) is not source_module.DataSourceReader.pushFilters) \
            is pushdown


@pytest.mark.parametrize("options,message", [
    ({"path": "azavista.events", "query": "SELECT 1 FROM azavista.events"}, "either the option query or a path"),
    ({}, "needs the option query or a path"),
    ({"path": "events"}, "a crmql table is connection.table"),
    ({"path": "azavista.events", "numpartition": "3"}, "did you mean numPartitions?"),
    ({"path": "azavista.events", "maxpartitions": "0"}, "maxPartitions must be a whole number of at least 1"),
    ({"path": "azavista.events", "partitioncolumn": "capacity", "lowerbound": "0"},
     "upperBound, numPartitions missing"),
    ({"path": "azavista.events", "partitioncolumn": "start", "lowerbound": "soon", "upperbound": "1",
      "numpartitions": "2"}, "lowerBound 'soon' is not a number, a date or a timestamp"),
])
def test_wrong_options_are_one_clear_error(crmql_config: Path, options: dict[str, str], message: str) -> None:
    with pytest.raises(QueryError) as caught:
        source(crmql_config, **options).schema()
    assert message in str(caught.value)


def test_stream_options_belong_to_read_stream(crmql_config: Path) -> None:
    ds = source(crmql_config, path="azavista.events", cursor="updated_at")
    with pytest.raises(QueryError, match="belong to spark.readStream"):
        ds.reader(ds.schema())


def test_a_given_schema_must_match(crmql_config: Path) -> None:
    ds = source(crmql_config, query="SELECT name, capacity FROM azavista.events")
    ok = StructType([StructField("name", StringType(), False), StructField("capacity", LongType(), True)])
    assert ds.reader(ok).schema == ok  # nullability is the user's
    wrong = StructType([StructField("name", StringType()), StructField("capacity", StringType())])
    with pytest.raises(QueryError, match="column 'capacity' is string there, bigint here"):
        source(crmql_config, query="SELECT name, capacity FROM azavista.events").reader(wrong)


def test_a_filter_crmql_refuses_goes_back_to_spark_and_the_others_still_plan(crmql_config: Path,
                                                                           crmql_session: Any) -> None:
    ds = source(crmql_config, path="casavi.contacts")
    reader = ds.reader(ds.schema())
    refused = GreaterThan(("modifiedAfter",), dt.datetime(2026, 1, 1, tzinfo=dt.timezone.utc))  # only = exists
    role = EqualTo(("role",), "OWNER")  # a filter-only column: exact by casavi's definition
    returned = list(reader.pushFilters([refused, role]))
    assert returned == [refused] and returned[0] is refused
    rows, _ = read_all(reader)
    assert sorted(r["id"] for r in rows) == sorted(crmql_session.query(
        "SELECT id FROM casavi.contacts WHERE role = 'OWNER'")["id"])


def test_window_options_partition_a_next_link_table(crmql_config: Path, crmql_session: Any) -> None:
    ds = source(crmql_config, path="atlas.sales", partitionColumn="sale-balance", lowerBound="0",
                upperBound="20000", numPartitions="3")
    reader = ds.reader(ds.schema())
    returned = list(reader.pushFilters([EqualTo(("sale-status",), "won")]))
    assert returned == []  # atlas filters sale-status exactly
    rows, parts = read_all(reader)
    assert parts == 3
    want = crmql_session.query("SELECT id FROM atlas.sales WHERE \"sale-status\" = 'won'")
    assert sorted(r["id"] for r in rows) == sorted(want["id"])  # each row in exactly one window


def test_a_table_that_needs_a_filter_takes_it_from_spark(crmql_config: Path, crmql_session: Any) -> None:
    ds = source(crmql_config, path="casavi_community.notifications")  # community_id is required
    schema = ds.schema()  # from the catalog: no filter needed to type the columns
    assert "community_id" in schema.fieldNames()
    reader = ds.reader(schema)
    assert list(reader.pushFilters([EqualTo(("community_id",), 12)])) == []
    rows, _ = read_all(reader)
    assert sorted(r["id"] for r in rows) == sorted(crmql_session.query(
        "SELECT id FROM casavi_community.notifications WHERE community_id = 12")["id"])
    unfiltered = source(crmql_config, path="casavi_community.notifications")
    with pytest.raises(QueryError, match="needs a filter on community_id") as caught:
        unfiltered.reader(unfiltered.schema()).partitions()
    assert "filter the DataFrame" in str(caught.value)
