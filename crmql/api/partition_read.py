"""Read one partition on an executor: re-plan its statement, check it is the driver's plan, read
the slice, and stream Arrow batches of exactly the query's schema.

The executor plans ``part.sql`` again (with the driver's clock, so NOW() means the same instant)
and compares the planned requests with the driver's (:func:`~crmql.api.partition_plan.fingerprint`):
a catalog or a setting that changed in between would make another plan, and a slice of another plan
could lose or repeat rows, so a mismatch is an error, never wrong rows. The slice is then applied to
the scan's :class:`~crmql.plan.connector.FetchPlan` (a range of its requests and keys, or ``rows``)
and the local SQL runs as for any query: page by page for a row-wise plan (bounded memory, pulled
through :class:`crmql.exec.pull.RowStream`: no page is requested before the consumer wants rows),
the whole statement otherwise.

Errors are crmql's own (naming vendor, table and request) with the partition's label added.

>>> with_label(QueryError("boom"), "azavista.events rows 0-50 of 100").message
'boom (partition azavista.events rows 0-50 of 100)'
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
import warnings
from collections.abc import Iterator
from typing import Any

import pyarrow as pa

from .. import stats
from ..errors import CrmqlError, QueryError, VendorHTTPError
from ..exec.executor import can_stream, execute_plan, stream_plan
from ..exec.pull import RowStream
from ..language import ast
from ..plan.plans import Plan
from .partition_plan import branch_filter, fingerprint, parse_select, plan_schema
from .partition_spec import ScanPartition

__all__ = ["read_partition", "with_label"]

log = logging.getLogger(__name__)

#: a consumer (a Spark or Dask task) may pause between batches longer than a cursor's user: the
#: scan keeps the event loop waiting that long before it gathers the rest in memory
IDLE_RELEASE_S = 10.0


def with_label(err: CrmqlError, label: str) -> CrmqlError:
    """``err`` with the vendor request that failed (where the HTTP layer knows it: ``err.request``,
    secrets masked) and the partition's label added to its message (the same error, same type).

    >>> e = QueryError("internal server error [HTTP 500]"); e.request = "POST https://h.test/x/search"
    >>> print(with_label(e, "az.events key 1 of 2"))
    internal server error [HTTP 500]; request: POST https://h.test/x/search (partition az.events key 1 of 2)
    """
    request = getattr(err, "request", None)
    if request and str(request) not in err.message:
        err.message = f"{err.message}; request: {request}"
    if label and label not in err.message:
        err.message = f"{err.message} (partition {label})"
    err.args = (err.message, *err.args[1:])
    return err


def _arrow(cursor: Any) -> pa.Table:
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="Arrow output on a DB-API result")
        return cursor.to_arrow_table()


def _cast(table: pa.Table, schema: pa.Schema) -> pa.Table:
    if table.schema.names != schema.names:
        table = table.rename_columns(schema.names) if table.num_columns == len(schema) else table
    if table.schema == schema:
        return table
    try:
        return table.cast(schema)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError) as e:  # a value the planned type cannot hold
        raise QueryError(f"the rows do not fit the query's schema: {e}", hint="report this as a crmql bug") from None


def sliced(plan: Plan, part: ScanPartition) -> Plan:
    """``plan`` restricted to ``part``'s slice (its scan's requests, keys or rows)."""
    if part.kind in ("whole", "window"):
        return plan
    scan = plan.scans[0]
    fetch = scan.fetch
    if part.kind == "rows":
        fetch = dataclasses.replace(fetch, rows=(part.start, part.stop))
    elif part.kind in ("requests", "keys"):
        stop = part.stop if part.stop is not None else len(fetch.requests)
        keys = fetch.keys[part.start:stop] if len(fetch.keys) == len(fetch.requests) else fetch.keys
        fetch = dataclasses.replace(fetch, requests=fetch.requests[part.start:stop], keys=keys)
    else:
        raise QueryError(f"unknown partition kind {part.kind!r}")
    scans = [dataclasses.replace(scan, fetch=fetch)]
    bound = plan.bound
    if part.kind == "requests":
        extra = branch_filter(scan, part.start, part.stop if part.stop is not None else len(scan.fetch.requests))
        if extra is None:
            raise QueryError("the split OR's branches cannot be told apart on this executor")
        where = bound.select.where
        select = ast.replace(bound.select, where=extra if where is None else ast.And((where, extra)))
        bound = dataclasses.replace(bound, select=select)
    return dataclasses.replace(plan, scans=scans, bound=bound)


def read_partition(session: Any, part: ScanPartition) -> Iterator[pa.RecordBatch]:
    """The rows of ``part`` as Arrow record batches with exactly the query's schema (an empty
    partition yields one empty batch), streamed where the plan is row-wise.

    >>> q = plan_partitions(session, "SELECT id, name FROM azavista.events")       # doctest: +SKIP
    >>> sum(b.num_rows for p in q.partitions for b in read_partition(session, p))  # doctest: +SKIP
    10000
    """
    try:
        plan, schema = _plan(session, part)
    except CrmqlError as e:
        raise with_label(e, part.label) from None
    st = stats.QueryStats()
    if not can_stream(plan):
        try:
            frame, _ = execute_plan(plan, st)
        except CrmqlError as e:
            raise with_label(e, part.label) from None
        finally:
            _discard(plan)
        try:
            table = pa.Table.from_pandas(frame, schema=schema, preserve_index=False, safe=False)
        except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError) as e:
            raise with_label(QueryError(f"the rows do not fit the query's schema: {e}",
                                        hint="report this as a crmql bug"), part.label) from None
        yield from (table.to_batches() or [pa.RecordBatch.from_pylist([], schema=schema)])
        return

    def run(emit: Any) -> None:
        try:
            stream_plan(plan, st, emit, convert=_arrow)
        finally:
            _discard(plan)

    stream = RowStream(run, idle_release_s=IDLE_RELEASE_S, name="crmql-partition")
    sent = False
    try:
        while True:
            try:
                table = stream.next_frame()
            except VendorHTTPError as e:
                if not _some_keys_missing(plan, part, e):
                    raise with_label(e, part.label) from None
                log.warning("%s (partition %s): no rows for these keys", e.message, part.label)
                break
            except CrmqlError as e:
                raise with_label(e, part.label) from None
            if table is None:
                break
            try:
                batches = _cast(table, schema).to_batches()
            except QueryError as e:
                raise with_label(e, part.label) from None
            for batch in batches:
                sent = True
                yield batch
        if not sent:
            yield pa.RecordBatch.from_pylist([], schema=schema)
    finally:
        stream.close(wait=False)


def _some_keys_missing(plan: Plan, part: ScanPartition, err: VendorHTTPError) -> bool:
    """Whether ``err`` is a fan-out's "every key asked answered 404" for a keys partition after the
    first. The whole query raises it only when every key of the statement is missing (a path that is
    not the vendor's): the first partition still raises it (so a wrong path still fails the job), a
    later one only had keys with no rows, which the whole query reports as a warning."""
    return (part.kind == "keys" and part.index > 0 and err.status == 404 and str(plan.scans[0].fetch.mode) == "links"
            and "answered 404 for every" in err.message)


def _discard(plan: Plan) -> None:
    for scan in plan.scans:
        scan.connector.discard_early()


def _plan(session: Any, part: ScanPartition) -> tuple[Plan, pa.Schema]:
    now = dt.datetime.fromisoformat(part.now) if part.now else None
    plan = session.plan(parse_select(part.sql), part.param_dict, text=part.sql, now=now)
    schema = plan_schema(plan)
    if part.fingerprint and fingerprint(plan) != part.fingerprint:
        _discard(plan)
        raise QueryError(f"the plan on this executor differs from the driver's (planned requests "
                         f"{fingerprint(plan)}, the driver's {part.fingerprint}): the catalog or the connection's "
                         "settings changed between planning and reading",
                         hint="run the query again; give every executor the same config file")
    return sliced(plan, part), schema
