"""The engine's partitioned reads: plan a query into picklable slices on a driver, read one slice
on an executor. What the Spark data source, its streaming reader and the Dask reader are built on.

On the driver::

    spec = SessionSpec.for_config("crmql.toml")     # the file's path: no secret travels
    session = spec.open()
    q = plan_partitions(session, "SELECT * FROM azavista.events WHERE event_type = 'sales'")
    q.schema, q.filters, q.partitions               # Arrow schema, per-conjunct status, the slices

On each executor (another process, another machine)::

    session = spec.open(concurrency=part.concurrency)
    for batch in read_partition(session, part): ...  # pyarrow.RecordBatch of q.schema

See :mod:`crmql.api.partition_plan` (the partition kinds and the concurrency cap),
:mod:`crmql.api.partition_read` (re-planning and the fingerprint check) and
:mod:`crmql.api.partition_spec` (the plain data).

>>> sorted(__all__)[:3]
['FilterStatus', 'PartitionedQuery', 'ScanPartition']
"""

from __future__ import annotations

from .partition_plan import plan_partitions, result_schema
from .partition_read import read_partition
from .partition_spec import FilterStatus, PartitionedQuery, ScanPartition, SessionSpec, Window

__all__ = ["FilterStatus", "PartitionedQuery", "ScanPartition", "SessionSpec", "Window", "plan_partitions",
           "read_partition", "result_schema"]
