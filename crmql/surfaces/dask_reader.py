"""``crmql.dask.read_crmql``: a crmql query as a :class:`dask.dataframe.DataFrame`, for pandas users
who outgrow one process but have no JVM.

The driver plans the query once with :func:`crmql.api.partitions.plan_partitions` (the same
partitions the Spark data source reads: page ranges where the vendor reports a total, request or key
ranges, or one partition for a query that needs its whole result, such as a join or GROUP BY), and
:func:`dask.dataframe.from_map` makes one Dask partition of each. A Dask task opens its own
:class:`~crmql.api.session.Session` from the picklable
:class:`~crmql.api.partitions.SessionSpec` (the config file's path, or the driver's sandbox URL:
secrets are resolved where the task runs and never travel with the task), reads its partition's Arrow
batches through crmql's HTTP layer (its own client, retries and budgets, at most the partition's
share of the connection's concurrency cap) and turns them into the DataFrame ``session.query`` would
give for those rows (:func:`crmql.exec.executor.arrow_to_pandas`: UTC timestamps, dates as dates,
nullable integers and booleans where a value is missing). Dask's ``dataframe.convert-string``
(on by default) is turned off for this frame, so text columns keep pandas' ``str`` dtype with NaN
for NULL, as ``session.query`` gives them, not Dask's ``string[pyarrow]`` with ``pd.NA``.

It works with Dask's default threaded scheduler and with ``scheduler="processes"`` (or a
``distributed`` cluster whose workers can reach the vendors and read the config file). With the
built-in sandbox, the driver's process serves it: keep that process running while Dask computes.

>>> import crmql.dask  # doctest: +SKIP
>>> df = crmql.dask.read_crmql("SELECT id, name, event_type FROM azavista.events")  # doctest: +SKIP
>>> df.groupby("event_type").size().compute()  # doctest: +SKIP
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import dask
    import dask.dataframe as dd
    import pandas as pd
    import pyarrow as pa

__all__ = ["read_crmql"]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class _ReadPartition:
    """What a Dask task calls with one :class:`~crmql.api.partitions.ScanPartition`: picklable (the
    session spec and the result's Arrow schema, no session, no secret)."""

    spec: Any  # crmql.api.partitions.SessionSpec
    schema: Any  # pyarrow.Schema

    def __call__(self, part: Any) -> pd.DataFrame:
        import pyarrow as pa

        from ..api.partitions import read_partition
        from ..exec.executor import arrow_to_pandas

        session = self.spec.open(concurrency=part.concurrency)
        try:
            batches = list(read_partition(session, part))
        finally:
            session.close()
        log.debug("read %s: %d rows", part.label or part.index, sum(b.num_rows for b in batches))
        return arrow_to_pandas(pa.Table.from_batches(batches, schema=self.schema))


def empty_frame(schema: pa.Schema) -> pd.DataFrame:
    """The zero-row DataFrame of a result with this Arrow schema, typed as crmql types results
    (Dask's ``meta``).

    >>> import pyarrow as pa
    >>> empty_frame(pa.schema([("id", pa.int64()), ("at", pa.timestamp("us", tz="UTC"))])).dtypes.to_dict()
    {'id': dtype('int64'), 'at': datetime64[us, UTC]}
    """
    from ..exec.executor import arrow_to_pandas

    return arrow_to_pandas(schema.empty_table())


def read_crmql(sql: str, config: str | os.PathLike[str] | None = None, *, params: Mapping[str, Any] | None = None,
               max_partitions: int | None = None) -> dd.DataFrame:
    """A crmql SELECT as a Dask DataFrame, one partition per planned partition of the query.

    ``config`` is the config file's path (its ``${ENV}`` references are resolved where each task
    runs); None is ``$CRMQL_CONFIG``, the user's config, or else the built-in sandbox, as for
    :func:`crmql.connect`. ``max_partitions`` caps the partitions (they never exceed the
    connection's concurrent-request cap, so the vendor never sees more requests at once than it
    allows, however many workers Dask runs). Nothing but the planning requests (the catalog, and
    one 1-row request for the vendor's total where the scan is split by pages) is sent before
    ``compute()``. A crmql error in a task names the vendor, the table and the request.

    >>> df = read_crmql("SELECT id, name FROM azavista.events WHERE event_type = 'sales'")  # doctest: +SKIP
    >>> len(df.compute()) == len(crmql.query("SELECT id FROM azavista.events WHERE event_type = 'sales'"))  # doctest: +SKIP
    True
    """
    import dask
    import dask.dataframe as dd

    from ..api.partitions import SessionSpec, plan_partitions

    spec = SessionSpec.for_config(config)
    session = spec.open()
    try:
        planned = plan_partitions(session, sql, dict(params or {}), max_partitions=max_partitions)
    finally:
        session.close()
    meta = empty_frame(planned.schema)
    log.info("read_crmql: %d partition(s) of %s", len(planned.partitions), planned.table or "the query")
    with dask.config.set({"dataframe.convert-string": False}):  # text stays pandas' str, as in session.query
        return dd.from_map(_ReadPartition(spec, planned.schema), planned.partitions, meta=meta,
                           label="read-crmql", enforce_metadata=False)
