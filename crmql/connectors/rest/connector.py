"""The generic REST connector: plan, fetch, count and row written once for every declared source.

A vendor subclasses :class:`RestConnector` with ``api = RestApi(...)`` and overrides only the hooks
its real quirks need:

* :meth:`~RestConnector.check_records`: hold each listed record to more than "is an object";
* :meth:`~RestConnector.complete`: finish records a list served incompletely (Atlas GETs a list
  item without fields);
* :meth:`~RestConnector.by_id_records`: what a read by id may return (Atlas: only the table's type);
* :meth:`~RestConnector.key_rows`: the rows of one fan-out page (by default each record with the
  key value it was read for);
* :meth:`~RestConnector.peek_next`: the next link read from a raw body, so the next request goes
  out before the page is decoded (with ``NextLinkPaginator(peek=True)``);
* :meth:`~RestConnector.row`: a raw record as ``{field: value}`` (the kit fills dotted fields;
  an override calls ``super().row()`` first and flattens what else it needs).

Everything else is here (the fetching in :mod:`.scanning`): reads by id (concurrently; 404 is no row; a child table's read its
parents, exploded: :meth:`~RestConnector.child_rows`), COUNT(*) from the total of a
1-row request (else counted over a scan, with a warning), LIMIT as the page size, early stop,
concurrent pages, next-link prefetch, an OR split into requests unioned and de-duplicated by key,
one scan per key value of a fan-out (:mod:`.fan_out`, :mod:`.fan_fetch`), envelope and origin checks, the page budget, and the first
page of a whole-table read taken from :attr:`early` when it was started with the catalog.

>>> from crmql.connectors.rest.spec import Col, Resource, RestApi
>>> from crmql.plan.catalog import ColumnType
>>> class Demo(RestConnector):
...     api = RestApi("demo", "Demo", (Resource("items", "Items", "/items", columns=(Col("id", ColumnType.STRING),)),))
>>> Demo.vendor, sorted(Demo("demo", {"base_url": "http://127.0.0.1:9"}).tables())
('demo', ['items'])
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Sequence
from typing import Any, ClassVar

from ... import stats
from ...errors import VendorResponseError
from ...http.auth import Auth
from ...http.retry import RetryPolicy
from ...plan.catalog import Table
from ...plan.connector import Candidate, Connector, Extent, FetchPlan, NativeRequest, Needs, PageSink
from . import scanning
from .async_poll import AsyncCalls, AsyncJob
from .paginators import Page
from .paging import ScanLimits
from .place import dig
from .planning import plan_scan
from .spec import Resource, RestApi
from .base import HttpConnectorMixin
from .support import _kind, check_records, request_options as _options, valid_total

__all__ = ["RestConnector"]

log = logging.getLogger(__name__)

Records = list[dict[str, Any]]


class RestConnector(HttpConnectorMixin, Connector):
    """A connector whose tables are the resources of :attr:`api`."""

    api: ClassVar[RestApi]

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        api = cls.__dict__.get("api")
        if api is not None:  # the registry reads these class attributes
            cls.vendor, cls.display, cls.required_settings = api.vendor, api.display, api.required_settings

    # ---- set-up and catalog
    def make_auth(self) -> Auth | None:
        return self.api.auth.build(self.settings)

    def default_headers(self) -> dict[str, str]:
        return dict(self.api.headers)

    def retry_policy(self) -> RetryPolicy:
        """The connection's retry policy, retrying the vendor's own transient statuses too
        (:attr:`RestApi.retry_statuses`: Voyzu's 540 and 541)."""
        policy = super().retry_policy()
        if not self.api.retry_statuses:
            return policy
        return dataclasses.replace(policy, retry_statuses=policy.retry_statuses | frozenset(self.api.retry_statuses))

    @property
    def token_requests(self) -> int:
        return self.api.auth.token_count(self.settings)

    def kinds(self, kind: str) -> tuple[Any, ...]:
        """The capabilities of a column of ``kind`` under this connection's settings."""
        return self.api.kinds(kind, self.settings)

    #: the connection's own resources by table name, when its settings shape them (paths, page
    #: sizes, a search reading); None: the vendor's declared ``api.resources``
    _resources: dict[str, Resource] | None = None

    def load_tables(self) -> dict[str, Table]:
        resources = self._resources.values() if self._resources is not None else self.api.resources
        return {r.name: r.table(self.name, self.kinds) for r in resources}

    def resource(self, table: Table) -> Resource:
        return self._resources[table.name] if self._resources is not None else self.api.resource(table.name)

    # ---- planning
    def plan(self, table: Table, candidates: Sequence[Candidate], needs: Needs) -> FetchPlan:
        return plan_scan(self.resource(table), table, candidates, needs, concurrency=self.concurrency,
                         learned=self.paging_learned)

    @property
    def paging_learned(self) -> dict[str, Any]:
        """What paging learned about the vendor on this connection, kept between scans (a refused page size)."""
        return self.__dict__.setdefault("_paging_learned", {})

    # ---- hooks (see the module docstring)
    def check_records(self, res: Resource, table: Table, records: Records, request: str) -> None:
        """Raise a VendorResponseError for a listed record crmql must not use (default: none)."""

    async def complete(self, res: Resource, table: Table, records: Records, request: str) -> Records:
        """The page's records, completed where the list served them partially (default: as they are)."""
        return records

    def by_id_records(self, table: Table, records: Records) -> Records:
        """The records reads by id returned that are rows of ``table`` (default: all)."""
        return records

    def child_rows(self, table: Table, res: Resource, keys: Sequence[str], parents: Records) -> Records:
        """A child table's rows from the parents read by id: each parent exploded, and only the rows
        carrying a key that was read (a parent answered under another id is a row the list scan
        would not match either: never a row the WHERE does not select).

        >>> from crmql.connectors.rest.spec import ById, Col, Explode, Resource, RestApi
        >>> from crmql.plan.catalog import ColumnType, FilterShape
        >>> notes = Resource("notes", "N", "/a", columns=(Col("a", ColumnType.STRING),), explode=Explode(
        ...     "notes", {"a": "id"}), by_id=ById("/a/{id}", column="a"), shape=FilterShape(split_or=False))
        >>> class Demo(RestConnector):
        ...     api = RestApi("demo", "Demo", (notes,))
        >>> c = Demo("demo", {"base_url": "http://127.0.0.1:9"})
        >>> c.child_rows(c.table("notes"), notes, ["A1"], [{"id": "A1", "notes": [{"n": 1}]}, {"id": "a1", "notes": [{"n": 2}]}])
        [{'n': 1, 'a': 'A1'}]
        """
        assert res.explode is not None and res.by_id is not None
        try:
            rows = res.explode.rows(parents)
        except ValueError as e:
            raise VendorResponseError(str(e), vendor=self.display, table=table.qualified,
                                      request=f"{res.by_id.method} {res.by_id.path}") from None
        wanted, column = set(keys), res.by_id.column
        kept = [r for r in rows if _key_text(r.get(column)) in wanted]
        if len(kept) < len(rows):
            log.debug("%s (%s): %d row(s) of a parent read by id carry a %s that was not read: left out (the list "
                      "scan would carry it too, and it does not match)", self.display, table.qualified,
                      len(rows) - len(kept), column)
        return kept

    def key_rows(self, res: Resource, table: Table, key: str, records: Records, request: str) -> Records:
        """The rows of one fan-out page read for ``key`` (default: each record with the key column's
        field set to the key)."""
        column = table.column(res.fan_out.column) if res.fan_out is not None else None
        name = column.native if column is not None else res.fan_out.column if res.fan_out is not None else "key"
        return [{**r, name: key} for r in records]

    def row(self, table: Table, record: dict[str, Any]) -> dict[str, Any]:
        """A record as ``{native field: value}``: a column whose field is a dotted path
        (``"TicketType.name"``) gets the value there (None on the way: None); a connector that
        overrides ``row`` calls this first. A non-object on the way is a VendorResponseError.

        >>> from crmql.connectors.rest.spec import Col, Resource, RestApi
        >>> from crmql.plan.catalog import ColumnType
        >>> class Demo(RestConnector):
        ...     api = RestApi("demo", "Demo", (Resource("t", "T", "/t", columns=(
        ...         Col("type", ColumnType.STRING, field="TicketType.name"),)),))
        >>> c = Demo("demo", {"base_url": "http://127.0.0.1:9"})
        >>> c.row(c.table("t"), {"TicketType": {"name": "Reparatur"}})["TicketType.name"]
        'Reparatur'
        >>> c.row(c.table("t"), {"TicketType": None})["TicketType.name"] is None
        True
        >>> c.row(c.table("t"), {"TicketType": "Reparatur"})
        Traceback (most recent call last):
        ...
        crmql.errors.VendorResponseError: Demo (demo.t): malformed response: the record's TicketType is a string, so it has no field 'TicketType.name'
        """
        dotted = self.__dict__.setdefault("_dotted", {})
        if table.qualified not in dotted:
            dotted[table.qualified] = tuple(dict.fromkeys(c.field for c in table.columns if c.field and "." in c.field))
        if not dotted[table.qualified]:
            return record
        out = dict(record)
        for path in dotted[table.qualified]:
            if path in record:  # set by the kit (a fan-out's key): kept
                continue
            value: Any = record
            for depth, part in enumerate(path.split(".")):
                if value is None:
                    break
                if not isinstance(value, dict):
                    on = ".".join(path.split(".")[:depth])
                    raise VendorResponseError(f"the record's {on} is {_kind(value)}, so it has no field {path!r}",
                                              vendor=self.display, table=table.qualified)
                value = value.get(part)
            out[path] = value
        return out

    def peek_next(self, response: Any) -> str | None:
        """The next link read from a raw response before it is decoded (default: not read)."""
        return None

    def early_key(self, request: NativeRequest) -> str:
        """The key a scan's first request is started under by ``warm`` (see :mod:`.early`)."""
        return request.render()

    # ---- answers
    def read_page(self, res: Resource, table: Table, data: Any, request: str, *, links: bool = True) -> Page:
        """The checked records, total (None unless a count) and next link (on the origin) of a list
        answer; anything malformed is a VendorResponseError naming the table and request."""
        def bad(what: str) -> VendorResponseError:
            return VendorResponseError(what, vendor=self.display, table=table.qualified, request=request)

        items = dig(data, res.records) if res.records else data
        if getattr(res.paginator, "single", False):  # the answer is one object: one record
            if not isinstance(items, dict) or (res.records and not isinstance(data, dict)):
                raise bad(f"the answer{f' at {res.records!r}' if res.records else ''} is {_kind(items)}, not one "
                          "record")
            items = [items]
        if not isinstance(items, list) or (res.records and not isinstance(data, dict)):
            raise bad(f"the {res.answer} response has no '{res.records}' list" if res.records
                      else "the answer is not the list of records")
        records = check_records(items, vendor=self.display, table=table.qualified, request=request)
        self.check_records(res, table, records, request)
        paginator = res.paginator
        total = valid_total(dig(data, paginator.total)) if paginator.total else None
        nxt = None
        if links:
            try:
                raw = paginator.next_link(data)
            except ValueError as e:
                raise bad(str(e)) from None
            nxt = self.next_link(raw, table.qualified, request)
        return Page(records, total, nxt, data)

    async def send(self, table: Table, request: NativeRequest, *, first: bool = False,
                   res: Resource | None = None) -> Any:
        """Send one planned request and decode its JSON (a scan's first page may have been started
        early, with the catalog; a resource with an ``async_job`` is submitted and polled)."""
        if first:
            early = self.early.take(self.early_key(request))
            if early is not None:
                return await early
        job = self.async_job(table, res, request) if res is not None else None
        if job is not None:
            return await self.send_async(table, request, job)
        return await self.http.request_json(request.method, request.path, table=table.qualified, idempotent=True,
                                            **_options(request))

    def async_job(self, table: Table, res: Resource, request: NativeRequest) -> AsyncJob | None:
        """How to run ``request`` asynchronously (None: as it is); an override chooses per request or
        connection (its deadline: ``dataclasses.replace(job, deadline_s=...)``)."""
        return res.async_job

    async def send_async(self, table: Table, request: NativeRequest, job: AsyncJob) -> Any:
        """Submit ``request`` as ``job`` says, poll it and return its result; every status goes into
        the statement's ``job_percent``/``job_note`` (progress displays), cleared however it ends
        (:meth:`AsyncCalls.run`: concurrent pages' jobs show their least percent)."""
        return await self._async(job).run(request, table.qualified, stats.current())

    def _async(self, job: AsyncJob) -> AsyncCalls:
        """One :class:`AsyncCalls` per job declaration (it remembers which status path answers)."""
        calls = self.__dict__.setdefault("_async_calls", {})
        if job not in calls:
            calls[job] = AsyncCalls(self.http, job)
        return calls[job]

    # ---- fetching (:mod:`.scanning`)
    async def scan(self, table: Table, res: Resource, request: NativeRequest, sink: PageSink, *,
                   max_rows: int | None = None, sequential: bool = False, prefetch: bool = True,
                   rows: tuple[int, int | None] | None = None) -> bool:
        """One paged scan from its first request; False when the sink (or ``max_rows``) stopped it;
        ``rows``: only rows [start, stop) (see :attr:`FetchPlan.rows <crmql.plan.connector.FetchPlan.rows>`)."""
        return await scanning.scan(self, table, res, request, sink, max_rows=max_rows, sequential=sequential,
                                   prefetch=prefetch, rows=rows)

    def _limits(self, table: Table, request: NativeRequest) -> ScanLimits:
        return scanning.limits(self, table, request)

    async def fetch(self, table: Table, plan: FetchPlan, sink: PageSink) -> None:
        await scanning.fetch(self, table, plan, sink)

    async def count(self, table: Table, plan: FetchPlan) -> int:
        """The vendor's total for the plan's filter (one 1-row request per request of the plan,
        summed: a split OR's estimate); when it is no count, the matching rows are counted over
        a scan for COUNT(*) (with a warning), and EXPLAIN's probe fails."""
        return await scanning.count(self, table, plan)

    async def extent(self, table: Table, plan: FetchPlan) -> Extent | None:
        """The vendor's total rows and the scan's page size from one 1-row request, when the plan
        is one search whose rows can be read in ranges (:func:`.scanning.extent`); else None."""
        return await scanning.extent(self, table, plan)


def _key_text(value: Any) -> str | None:
    """A carried key as the text an id is compared with (a number as its digits; no key: None)."""
    if value is None or isinstance(value, bool) or not isinstance(value, (str, int, float)):
        return None
    return value if isinstance(value, str) else str(value)

