"""Helpers of the partition tests: read every partition as an executor would (its own session from a
:class:`~crmql.api.partitions.SessionSpec`), and compare results as multisets of rows."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import pandas as pd
import pyarrow as pa

from crmql.api.partitions import PartitionedQuery, ScanPartition, SessionSpec, read_partition


def read_one(spec: SessionSpec, part: ScanPartition, schema: pa.Schema) -> pa.Table:
    """One partition read on a fresh executor session with the partition's concurrency."""
    session = spec.open(concurrency=part.concurrency)
    try:
        batches = list(read_partition(session, part))
    finally:
        session.close()
    assert batches, "a partition yields at least one (maybe empty) batch"
    for batch in batches:
        assert batch.schema == schema, (batch.schema, schema)
    return pa.Table.from_batches(batches, schema=schema)


def read_all(spec: SessionSpec, query: PartitionedQuery) -> pa.Table:
    """The union of every partition's rows."""
    return pa.concat_tables([read_one(spec, p, query.schema) for p in query.partitions])


def rows(data: pa.Table | pd.DataFrame, schema: pa.Schema | None = None) -> list[str]:
    """The rows as sorted texts (a multiset: a row read twice shows twice; NaN equals NaN)."""
    if isinstance(data, pd.DataFrame):
        data = pa.Table.from_pandas(data, schema=schema, preserve_index=False, safe=False)
    return sorted(repr(sorted(r.items())) for r in data.to_pylist())


def keys(table: pa.Table, column: str = "id") -> list[Any]:
    return table.column(column).to_pylist()


def kinds(parts: Iterable[ScanPartition]) -> list[str]:
    return [p.kind for p in parts]
