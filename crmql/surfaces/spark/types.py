"""crmql's Arrow result types as Spark types, and Arrow batches shaped for Spark.

crmql types its results in Arrow (:data:`crmql.exec.frames.ARROW_TYPES`): text ``string``, whole
numbers ``int64``, ``float64``, ``bool``, timestamps ``timestamp[us, tz=UTC]`` (instants), dates
``date32``, a vendor's multi-valued field ``list<string>``; DuckDB adds decimals (``SUM`` of
integers is ``decimal128(38, 0)``) and other widths in a query's results. Each maps to the Spark
type holding the same values:

=================================  ====================================================
Arrow (crmql)                      Spark
=================================  ====================================================
string, large_string               StringType (JSON text of a nested vendor value too)
int8 / int16 / int32 / int64       ByteType / ShortType / IntegerType / LongType
uint8 / uint16 / uint32 / uint64   ShortType / IntegerType / LongType / DecimalType(20, 0)
float32 / float64                  FloatType / DoubleType
bool                               BooleanType
timestamp with a time zone         TimestampType (an instant; Spark shows it in its session zone)
timestamp without a time zone      TimestampNTZType
date32 / date64                    DateType
decimal128(p, s), p <= 38          DecimalType(p, s)
list / large_list of x             ArrayType(x)
struct, map                        StructType, MapType
binary, large_binary               BinaryType
null (a column of NULLs only)      StringType (all NULL)
=================================  ====================================================

Anything else (intervals, times of day, decimals wider than 38 digits) is a :class:`QueryError`
naming the column, with a hint to cast it in the query.

>>> import pyarrow as pa
>>> spark_schema(pa.schema([("n", pa.int64()), ("at", pa.timestamp("us", tz="UTC"))])).simpleString()
'struct<n:bigint,at:timestamp>'
"""

from __future__ import annotations

from typing import Any

import pyarrow as pa
from pyspark.sql.pandas.types import to_arrow_schema
from pyspark.sql.types import (
    ArrayType,
    BinaryType,
    BooleanType,
    ByteType,
    DataType,
    DateType,
    DecimalType,
    DoubleType,
    FloatType,
    IntegerType,
    LongType,
    MapType,
    ShortType,
    StringType,
    StructField,
    StructType,
    TimestampNTZType,
    TimestampType,
)

from ...errors import QueryError

__all__ = ["arrow_target", "check_user_schema", "spark_schema", "spark_type", "to_spark_batch"]

_SIMPLE: dict[pa.DataType, DataType] = {
    pa.string(): StringType(), pa.large_string(): StringType(), pa.null(): StringType(),
    pa.int8(): ByteType(), pa.int16(): ShortType(), pa.int32(): IntegerType(), pa.int64(): LongType(),
    pa.uint8(): ShortType(), pa.uint16(): IntegerType(), pa.uint32(): LongType(), pa.uint64(): DecimalType(20, 0),
    pa.float32(): FloatType(), pa.float64(): DoubleType(), pa.bool_(): BooleanType(),
    pa.date32(): DateType(), pa.date64(): DateType(), pa.binary(): BinaryType(), pa.large_binary(): BinaryType(),
}


def spark_type(arrow: pa.DataType, column: str = "?") -> DataType:
    """The Spark type holding the values of an Arrow type (see the module's table).

    >>> spark_type(pa.list_(pa.string())).simpleString(), spark_type(pa.decimal128(38, 0)).simpleString()
    ('array<string>', 'decimal(38,0)')
    >>> spark_type(pa.month_day_nano_interval(), "age")
    Traceback (most recent call last):
    crmql.errors.QueryError: column 'age' has type month_day_nano_interval, which a Spark column cannot hold
      hint: select it as text or a number instead (e.g. date_part('day', ...) of an interval)
    """
    if arrow in _SIMPLE:
        return _SIMPLE[arrow]
    if pa.types.is_timestamp(arrow):
        return TimestampType() if arrow.tz is not None else TimestampNTZType()
    if pa.types.is_decimal128(arrow) and arrow.precision <= 38:
        return DecimalType(arrow.precision, arrow.scale)
    if pa.types.is_list(arrow) or pa.types.is_large_list(arrow):
        return ArrayType(spark_type(arrow.value_type, column), containsNull=True)
    if pa.types.is_struct(arrow):
        return StructType([StructField(f.name, spark_type(f.type, f"{column}.{f.name}"), True) for f in arrow])
    if pa.types.is_map(arrow):
        return MapType(spark_type(arrow.key_type, column), spark_type(arrow.item_type, column), True)
    raise QueryError(f"column '{column}' has type {arrow}, which a Spark column cannot hold",
                     hint="select it as text or a number instead (e.g. date_part('day', ...) of an interval)")


def spark_schema(schema: pa.Schema) -> StructType:
    """A crmql result's Arrow schema as Spark's (every column nullable: a vendor may omit any field).

    >>> spark_schema(pa.schema([("tags", pa.list_(pa.string()))])).simpleString()
    'struct<tags:array<string>>'
    """
    return StructType([StructField(f.name, spark_type(f.type, f.name), True) for f in schema])


def arrow_target(schema: StructType) -> pa.Schema:
    """The Arrow schema Spark's Python data source expects of every batch :meth:`read` yields (it
    compares with ``pa.Schema.equals``: names, types and nullability).

    >>> arrow_target(StructType([StructField("tags", ArrayType(StringType()))]))
    tags: list<element: string>
      child 0, element: string
    """
    return to_arrow_schema(schema, timezone="UTC")


def to_spark_batch(batch: pa.RecordBatch, target: pa.Schema) -> pa.RecordBatch:
    """``batch`` with exactly ``target``'s fields (by name, in order) and types.

    >>> b = pa.record_batch({"n": pa.array([1]), "tags": pa.array([["a"]], pa.list_(pa.string()))})
    >>> to_spark_batch(b, arrow_target(spark_schema(b.schema))).schema.field("tags").type
    ListType(list<element: string>)
    """
    if batch.schema.names != target.names:
        batch = batch.select(target.names)
    return batch.cast(target)


def check_user_schema(given: StructType, expected: StructType, what: str) -> None:
    """A schema given with ``.schema(...)`` must have the result's columns (same names, in order)
    and types; nullability is the user's to choose.

    >>> s = StructType([StructField("n", LongType())])
    >>> check_user_schema(s, s, "q")
    >>> check_user_schema(StructType([StructField("n", StringType())]), s, "azavista.events")
    Traceback (most recent call last):
    crmql.errors.QueryError: the schema given to spark.read.format("crmql") does not match azavista.events: column 'n' is string there, bigint here
      hint: leave .schema(...) out: crmql types the columns itself (schema: struct<n:bigint>)
    """
    hint = f"leave .schema(...) out: crmql types the columns itself (schema: {expected.simpleString()})"
    problem = _difference(given, expected)
    if problem:
        raise QueryError(f'the schema given to spark.read.format("crmql") does not match {what}: {problem}', hint=hint)


def _difference(given: StructType, expected: StructType) -> str | None:
    """What differs between a given and the result's schema, or None."""
    names = [f.name for f in given.fields]
    wanted = [f.name for f in expected.fields]
    if names != wanted:
        return f"its columns are {', '.join(names) or 'none'}, the result's are {', '.join(wanted) or 'none'}"
    for g, e in zip(given.fields, expected.fields):
        if _strip(g.dataType) != _strip(e.dataType):
            return f"column '{g.name}' is {g.dataType.simpleString()} there, {e.dataType.simpleString()} here"
    return None


def _strip(t: Any) -> str:
    """A type's shape without nullability (``containsNull`` and nested ``nullable`` are the user's)."""
    return t.simpleString()
