"""``spark.read.format("crmql")``: crmql as a PySpark Python data source (Spark 4.1+).

Where each part runs: Spark calls :meth:`CrmqlDataSource.schema` and the reader's ``pushFilters``
and ``partitions`` in Python *planner* workers (processes the JVM starts, not the user's Python),
then pickles the reader and every :class:`CrmqlPartition` to the executors, whose Python workers
call :meth:`CrmqlReader.read`. So everything that travels is plain data: the
:class:`~crmql.api.partitions.SessionSpec` (the config file's *path*, and the running sandbox's
URL when the connections are the built-in sandbox: never a resolved secret), the SQL with its
bound parameters, the :class:`~crmql.api.partitions.ScanPartition`. Each executor task opens its
own :class:`crmql.Session` (its own HTTP client, retries, budgets, redaction) with the partition's
share of the connection's concurrency, and closes it when the task ends.

Filters (the table path only): Spark's filters become crmql conjuncts (:mod:`.filters`); the
statement ``SELECT * FROM conn.table WHERE c0 AND c1 ...`` is planned once, and a conjunct crmql
pushes *exactly* to the vendor is consumed, anything pushed as a superset or checked locally is
returned to Spark (crmql re-checks it too: harmless). A conjunct crmql refuses (a type it cannot
compare) is returned and left out, so the answer is deterministic: same filters, same catalog,
same answer. With ``query`` every filter is returned: the statement is the user's.

>>> CrmqlDataSource.name()
'crmql'
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Sequence
from typing import Any, ClassVar

import pyarrow as pa
from pyspark.sql.datasource import DataSource, DataSourceReader, Filter, InputPartition
from pyspark.sql.types import StructType

from ...api.partitions import PartitionedQuery, ScanPartition, SessionSpec, plan_partitions, read_partition
from ...api.partitions import result_schema
from ...errors import QueryError
from ...exec.frames import to_arrow
from .filters import Conjunct, translate
from .options import STREAM_OPTIONS, ReadOptions, parse_options
from .types import arrow_target, check_user_schema, spark_schema, to_spark_batch

__all__ = ["CrmqlDataSource", "CrmqlPartition", "CrmqlPushdownReader", "CrmqlReader", "crmql_types"]

log = logging.getLogger(__name__)

#: Arrow type of a crmql table's column -> the crmql type name :func:`.filters.translate` takes
_CRMQL_TYPES = {pa.string(): "string", pa.int64(): "integer", pa.float64(): "float", pa.bool_(): "boolean",
                pa.timestamp("us", tz="UTC"): "timestamp", pa.date32(): "date"}


def crmql_types(schema: pa.Schema) -> dict[str, str]:
    """Column name -> crmql type name (``list`` for lists, ``other`` for anything else).

    >>> crmql_types(pa.schema([("n", pa.int64()), ("tags", pa.list_(pa.string()))]))
    {'n': 'integer', 'tags': 'list'}
    """
    return {f.name: _CRMQL_TYPES.get(f.type, "list" if pa.types.is_list(f.type) else "other") for f in schema}


class CrmqlDataSource(DataSource):
    """The data source Spark instantiates with the read's options (see :mod:`.options`).

    :func:`crmql.spark.register` registers a subclass carrying ``default_spec`` (the session spec
    for reads without a ``config`` option) and ``pushdown`` (whether the reader offers Spark filter
    pushdown: Spark refuses a reader with ``pushFilters`` when the setting is off).
    """

    default_spec: ClassVar[SessionSpec | None] = None
    pushdown: ClassVar[bool] = True

    @classmethod
    def name(cls) -> str:
        return "crmql"

    def _options(self) -> ReadOptions:
        return parse_options(self.options)

    def session_spec(self, opts: ReadOptions | None = None) -> SessionSpec:
        """How every process of this read opens its session: decided once (the first call, on
        Spark's planner) and pickled with the source, so planner and executors use the same."""
        spec = self.__dict__.get("_spec")
        if spec is None:
            opts = opts or self._options()
            if opts.config is None and self.default_spec is not None:
                spec = self.default_spec
            else:
                spec = SessionSpec.for_config(opts.config)
            self._spec = spec
        return spec

    def _arrow_schema(self, opts: ReadOptions) -> pa.Schema:
        schema = self.__dict__.get("_arrow")
        if schema is None:
            session = self.session_spec(opts).open()
            try:
                schema = result_schema(session, opts.sql)
            except QueryError:
                if opts.table is None:
                    raise
                # a table that needs a filter (casavi Community's community_id): its columns from the
                # catalog; Spark's filter brings the condition (pushFilters), else planning says what is missing
                schema = to_arrow(session.table(*opts.table), []).schema
            finally:
                session.close()
            self._arrow = schema
        return schema

    def schema(self) -> StructType:
        """The result's columns typed as crmql types them (no vendor request for rows)."""
        opts = self._options()
        return spark_schema(self._arrow_schema(opts))

    def reader(self, schema: StructType) -> CrmqlReader:
        opts = self._options()
        if opts.stream:
            raise QueryError(f"option{'s' if len(opts.stream) > 1 else ''} {', '.join(opts.stream)} "
                             "belong to spark.readStream (a streaming read)",
                             hint=f"leave {', '.join(STREAM_OPTIONS)} out of a batch read")
        arrow = self._arrow_schema(opts)
        check_user_schema(schema, spark_schema(arrow), _what(opts))
        # Spark refuses a reader with pushFilters while its pushdown setting is off (register() knows)
        cls = CrmqlPushdownReader if self.pushdown and opts.table is not None else CrmqlReader
        return cls(opts, self.session_spec(opts), schema, arrow)

    def streamReader(self, schema: StructType) -> Any:
        """The streaming reader (``spark.readStream.format("crmql")``): :mod:`.stream`."""
        from .stream import CrmqlStreamReader

        return CrmqlStreamReader(dict(self.options), schema, spec=self.session_spec())


_FILTER_HINT = ("in Spark, filter the DataFrame (pushed to crmql with spark.sql.python.filterPushdown.enabled) "
                'or read .option("query", "SELECT ... WHERE ...")')


def _what(opts: ReadOptions) -> str:
    return ".".join(opts.table) if opts.table else "the query's result"


class CrmqlPartition(InputPartition):
    """One Spark task: a :class:`~crmql.api.partitions.ScanPartition` (plain, picklable values)."""

    def __init__(self, part: ScanPartition) -> None:
        super().__init__(part.index)
        self.part = part

    def __repr__(self) -> str:
        return f"CrmqlPartition({self.part.label or self.part.index})"


class CrmqlReader(DataSourceReader):
    """Plans the partitions (Spark's planner) and reads one (an executor). No filter pushdown."""

    def __init__(self, opts: ReadOptions, spec: SessionSpec, schema: StructType, arrow: pa.Schema) -> None:
        self.opts = opts
        self.spec = spec
        self.schema = schema
        self.arrow = arrow
        self.where: list[Conjunct] = []
        self._session: Any = None
        self._planned: PartitionedQuery | None = None

    def __getstate__(self) -> dict[str, Any]:
        """What travels to the executors: no session, no planned query (only its partitions do)."""
        state = dict(self.__dict__)
        state["_session"] = None
        state["_planned"] = None
        return state

    # ---- planner side
    def statement(self, where: Sequence[Conjunct] | None = None) -> tuple[str, dict[str, Any]]:
        """The SQL this read plans: the query, or the table with ``where``'s conjuncts AND-ed."""
        where = self.where if where is None else where
        if not where:
            return self.opts.sql, {}
        params: dict[str, Any] = {}
        for c in where:
            params.update(c.params)
        return f"{self.opts.sql} WHERE {' AND '.join(c.sql for c in where)}", params

    def _open(self) -> Any:
        if self._session is None:
            self._session = self.spec.open()
        return self._session

    def _close(self) -> None:
        session, self._session = self._session, None
        if session is not None:
            session.close()

    def plan(self, where: Sequence[Conjunct] | None = None) -> PartitionedQuery:
        sql, params = self.statement(where)
        return plan_partitions(self._open(), sql, params, max_partitions=self.opts.max_partitions,
                               window=self.opts.window)

    def partitions(self) -> list[CrmqlPartition]:
        """The scan's partitions (see :func:`crmql.api.partitions.plan_partitions`)."""
        try:
            try:
                planned = self._planned or self.plan()
            except QueryError as e:  # e.g. a table that needs a filter Spark did not bring
                if self.opts.table is not None and not self.where:
                    e.hint = (f"{e.hint}; " if e.hint else "") + _FILTER_HINT
                raise
            log.info("crmql: %s in %d partition(s) (cap %d)", planned.sql, len(planned.partitions), planned.cap)
            return [CrmqlPartition(p) for p in planned.partitions]
        finally:
            self._planned = None
            self._close()

    # ---- executor side
    def read(self, partition: InputPartition) -> Iterator[pa.RecordBatch]:
        """The partition's rows as Arrow batches of the Spark schema, read by this task's own session."""
        part: ScanPartition = partition.part  # type: ignore[attr-defined]
        target = arrow_target(self.schema)
        session = self.spec.open(concurrency=part.concurrency)
        try:
            for batch in read_partition(session, part):
                yield to_spark_batch(batch, target)
        finally:  # a crmql error (vendor, table, request, partition) reaches the driver as raised
            session.close()


class CrmqlPushdownReader(CrmqlReader):
    """:class:`CrmqlReader` with Spark's filter pushdown (``spark.sql.python.filterPushdown.enabled``)."""

    def pushFilters(self, filters: list[Filter]) -> list[Filter]:
        """Consume what crmql pushes exactly; return (by reference) what Spark must still check."""
        try:
            return self._push(filters)
        except BaseException:
            self._close()
            raise

    def _push(self, filters: list[Filter]) -> list[Filter]:
        types = crmql_types(self.arrow)
        pairs: list[tuple[Filter, Conjunct]] = []
        returned: list[Filter] = []
        for i, f in enumerate(filters):
            c = translate(f, types, i)
            if c is None:
                returned.append(f)
            else:
                pairs.append((f, c))
        planned = None
        while pairs:
            try:
                planned = self.plan([c for _, c in pairs])
                break
            except QueryError as e:
                bad = self._culprit(e, [c for _, c in pairs])
                if bad is None:
                    raise
                log.info("crmql: Spark filter %s left to Spark: %s", pairs[bad][0], e.message)
                returned.append(pairs.pop(bad)[0])
        self.where = [c for _, c in pairs]
        if planned is None:
            return [f for f in filters if any(f is r for r in returned)]
        self._planned = planned
        statuses = planned.filters  # one per top-level conjunct: ours are never an AND
        aligned = len(statuses) == len(pairs)
        for k, (f, c) in enumerate(pairs):
            if not aligned or c.superset or statuses[k].status != "exact":
                returned.append(f)
        log.info("crmql: %d of %d Spark filter(s) pushed exactly", len(filters) - len(returned), len(filters))
        return [f for f in filters if any(f is r for r in returned)]  # Spark's order, by reference

    def _culprit(self, err: QueryError, where: list[Conjunct]) -> int | None:
        """The index of the conjunct a planning error points into (its span), or None."""
        span = getattr(err, "span", None)
        column = getattr(err, "column", None)
        offset = None
        if span is not None:
            offset = span.start
        elif column is not None and getattr(err, "line", None) == 1:
            offset = column - 1
        if offset is None:
            return None
        pos = len(self.opts.sql) + len(" WHERE ")
        for k, c in enumerate(where):
            if pos <= offset < pos + len(c.sql):
                return k
            pos += len(c.sql) + len(" AND ")
        return None
