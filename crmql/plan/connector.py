"""The connector interface, and the plan objects connectors and the planner exchange.

A connector is mostly declarations: its tables (columns, types, per-column capabilities, filter
shape, page size) plus a short translation of the chosen native conditions into a request. The
planner hands it :class:`Candidate` s (one per WHERE conjunct, already translated by the column's
capabilities); the connector picks what one request can carry and returns a :class:`FetchPlan`.

>>> NativeRequest("POST", "/3.0/event/search", body={"event_filter": {}}).render()
'POST /3.0/event/search\\n{"event_filter": {}}'
"""

from __future__ import annotations

import enum
import json
import logging
from abc import ABC, abstractmethod
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar

from ..language import ast
from .catalog import FilterShape, Table
from ..errors import QueryError, did_you_mean
from .pushdown import NativeCond, Pushed

__all__ = [
    "Candidate", "Connector", "Extent", "FetchPlan", "FilterChoice", "FilterSet", "Mode", "NativeRequest", "Needs", "PageSink",
    "choose_filters",
]

log = logging.getLogger(__name__)

#: called with each page of raw records; returns False to stop fetching
PageSink = Callable[[list[dict[str, Any]]], bool]


class Mode(str, enum.Enum):
    """How a scan is fetched. A ``str`` enum: ``plan.mode == "search"`` and ``f"{plan.mode}"`` read
    as the plain word.

    >>> Mode.SEARCH == "search", str(Mode.FAN_OUT)
    (True, 'links')
    """

    #: list/search requests, paged (``FetchPlan.requests``: the first page of each scan)
    SEARCH = "search"
    #: one read by id per request, concurrently
    GET = "get"
    #: the vendor's total of one 1-row request (COUNT(*) with every condition pushed exactly)
    COUNT = "count"
    #: nothing to fetch (a contradiction, LIMIT 0, no id that can be read)
    NONE = "none"
    #: one paged scan per value of a required key column (a path segment), each row carrying its
    #: value; "links" after the first table read this way (``atlas.links``), as EXPLAIN shows it
    FAN_OUT = "links"

    def __str__(self) -> str:
        return self.value

    def __format__(self, spec: str) -> str:
        return format(self.value, spec)


@dataclass(frozen=True)
class NativeRequest:
    """One HTTP request as EXPLAIN shows it and the fetcher sends it (never with credentials:
    the auth flow adds those). ``headers`` are request-specific headers (a paginator's or a
    filter's), not rendered."""

    method: str
    path: str
    params: dict[str, Any] | list[tuple[str, Any]] | None = None
    body: Any = None
    headers: tuple[tuple[str, str], ...] = ()

    def render(self) -> str:
        line = f"{self.method} {self.path}"
        if self.params:
            from urllib.parse import urlencode
            line += "?" + urlencode(self.params, doseq=True)
        if self.body is not None:
            line += "\n" + json.dumps(self.body, ensure_ascii=False, default=str)
        return line


@dataclass(frozen=True)
class Candidate:
    """One WHERE conjunct and what the column capabilities could make of it.

    ``push``: native conditions for a simple predicate; ``any_of``: one single-condition push per
    branch of an OR; neither: ``reason`` says why it stays local.
    """

    expr: ast.Expr
    push: Pushed | None = None
    any_of: tuple[Pushed, ...] | None = None
    reason: str = ""

    @property
    def pushable(self) -> bool:
        return self.push is not None or self.any_of is not None

    @property
    def exact(self) -> bool:
        if self.push is not None:
            return self.push.exact
        if self.any_of is not None:
            return all(p.exact for p in self.any_of)
        return False


@dataclass(frozen=True)
class Needs:
    """What the query needs from a scan.

    ``limit_rows``: stop once this many rows passed the local re-check (None: every row).
    ``order``: the rows must be the first ``limit_rows`` in ascending order of this column; a
    connector may only stop early if the vendor returns rows in that order (``FetchPlan.sorted_by``).
    ``count_only``: only the number of matching rows (every conjunct is pushed exactly).
    """

    limit_rows: int | None = None
    count_only: bool = False
    order: tuple[Any, ...] = ()

    @property
    def unordered_limit(self) -> int | None:
        """``limit_rows`` for a connector that cannot sort: usable only when no order is asked."""
        return None if self.order else self.limit_rows


@dataclass
class FetchPlan:
    """How one scan will be fetched, built once by the connector's ``plan``.

    ``requests`` are exactly the requests the fetcher sends: for a search, the first page of each
    scan (the paginator derives the later pages from it); for GET by id and a fan-out, one request
    per id or key value (``keys``, in the same order). EXPLAIN shows them as they are.
    ``native`` is a read-only view for tests and notebooks (the native filter tree, the request
    parameters, the ids); nothing fetches from it.
    """

    mode: Mode | str  # a Mode; a plain word is turned into one
    requests: list[NativeRequest] = field(default_factory=list)
    used: tuple[int, ...] = ()
    notes: dict[int, str] = field(default_factory=dict)
    page_size: int = 0
    max_rows: int | None = None
    stop_early: bool = False
    paging: str = ""
    estimate: str = ""
    native: Any = None
    #: the vendor returns rows ascending by this column (nulls anywhere), so LIMIT may stop early
    #: once enough rows with a non-NULL key passed the re-check
    sorted_by: str | None = None
    #: the candidate whose OR was split into one request per branch
    split: int | None = None
    #: the ids read by id, or the key values of a fan-out, one per request
    keys: tuple[str, ...] = ()
    #: values every fetched record carries ({native field: value}): a filter-only column's value,
    #: which exists only as a request parameter
    fill: dict[str, Any] = field(default_factory=dict)
    #: read only the rows [start, stop) of the scan's single search request (stop None: to the
    #: vendor's end), for one partition of a split scan; a paginator that cannot raises
    #: NotImplementedError (see :meth:`Connector.extent`)
    rows: tuple[int, int | None] | None = None

    def __post_init__(self) -> None:
        self.mode = Mode(self.mode)

    def used_all(self, candidates: Sequence[Candidate]) -> bool:
        return set(self.used) == set(range(len(candidates)))


@dataclass(frozen=True)
class Extent:
    """How big a search scan is, from one 1-row request: the vendor's total ``rows`` and the
    ``page`` size the scan asks for (a partition's row range is best a multiple of it).

    >>> Extent(rows=10_000, page=50)
    Extent(rows=10000, page=50)
    """

    rows: int
    page: int


@dataclass
class FilterSet:
    """The native conditions of one request: an AND list and OR groups (each a list of conditions)."""

    conds: list[NativeCond] = field(default_factory=list)
    or_groups: list[list[NativeCond]] = field(default_factory=list)

    def keys(self) -> set[tuple[str, str]]:
        return {(c.field, c.op) for c in self.conds} | {(c.field, c.op) for g in self.or_groups for c in g}


@dataclass
class FilterChoice:
    """What :func:`choose_filters` decided: one filter set per request (several when an OR is
    split), the candidates used, and why the others stay local."""

    requests: list[FilterSet]
    used: list[int]
    notes: dict[int, str]
    split: int | None = None

    @property
    def first(self) -> FilterSet:
        return self.requests[0]


def choose_filters(shape: FilterShape, candidates: Sequence[Candidate]) -> FilterChoice:
    """Fit the candidates into the vendor's request shape.

    Every simple push goes to the AND list, OR candidates become OR groups while the shape allows
    (one field and operator per group where ``or_same_field_op``), a field+operator is used once per
    request where ``unique_field_op``, and, where ``split_or``, one remaining OR whose branches are
    each pushable is split into one request per branch (their union is a superset; the connector
    de-duplicates by key).
    """
    base = FilterSet()
    used: list[int] = []
    notes: dict[int, str] = {}
    taken: set[tuple[str, str]] = set()
    owner: dict[tuple[str, str], int] = {}  # field+operator -> the candidate that pushed it
    repeat_note = "the vendor reads a repeated field and operator as OR, so this one is checked locally"

    for i, cand in enumerate(candidates):
        if cand.push is None:
            continue
        keys = {(c.field, c.op) for c in cand.push.conds}
        if shape.unique_field_op and (keys & taken or len(keys) < len(cand.push.conds)):
            notes[i] = repeat_note
            continue
        base.conds.extend(cand.push.conds)
        taken |= keys
        owner.update(dict.fromkeys(keys, i))
        used.append(i)
    splittable: list[int] = []
    for i, cand in enumerate(candidates):
        if cand.any_of is None:
            continue
        keys = {(p.conds[0].field, p.conds[0].op) for p in cand.any_of if len(p.conds) == 1}
        if any(len(p.conds) != 1 for p in cand.any_of):
            notes[i] = "a branch of this OR needs more than one native condition"
        elif shape.or_same_field_op and len(keys) != 1:
            notes[i] = "the vendor's only OR is one field and operator repeated"
            splittable.append(i)
        elif shape.unique_field_op and keys & taken:
            notes[i] = repeat_note
        elif len(base.or_groups) >= shape.or_groups:
            notes[i] = ("the vendor takes no OR group" if shape.or_groups == 0
                        else f"the vendor takes {shape.or_groups} OR group per request; this one is checked locally")
            splittable.append(i)
        else:
            base.or_groups.append([p.conds[0] for p in cand.any_of])
            taken |= keys
            owner.update(dict.fromkeys(keys, i))
            used.append(i)
    choice = FilterChoice([base], sorted(used), notes)
    if shape.split_or:
        for i in splittable:
            branches = candidates[i].any_of or ()
            if len(branches) > shape.max_split:
                notes[i] += f"; too many branches ({len(branches)}) to split into requests"
                continue
            requests = []
            left_out: dict[int, str] = {}
            for branch in branches:
                branch_keys = {(c.field, c.op) for c in branch.conds}
                # a base condition on the same field and operator would turn into an OR: leave it out
                # of this request (still a superset; the local re-check applies it)
                conds = [c for c in base.conds if (c.field, c.op) not in branch_keys] + list(branch.conds)
                groups = [g for g in base.or_groups if not ({(c.field, c.op) for c in g} & branch_keys)]
                requests.append(FilterSet(conds, groups))
                for key in branch_keys & taken:  # that candidate no longer holds for every row fetched
                    left_out[owner[key]] = ("left out of a split request whose branch uses the same field and "
                                            "operator (the vendor would read it as OR); re-checked locally")
            kept = {k: v for k, v in notes.items() if k != i}
            choice = FilterChoice(requests, sorted(used + [i]), {**kept, **left_out}, split=i)
            break
    return choice


class Connector(ABC):
    """Base class of every vendor connector.

    Subclasses set ``vendor`` and implement :meth:`load_tables`, :meth:`plan`, :meth:`fetch` and
    (where the vendor reports totals) :meth:`count`.
    """

    vendor: ClassVar[str]
    #: connection settings every connection of this vendor must have
    required_settings: ClassVar[tuple[str, ...]] = ()

    def __init__(self, name: str, settings: dict[str, Any]) -> None:
        self.name = name
        self.settings = settings
        self._tables: dict[str, Table] | None = None

    # ---- catalog
    @abstractmethod
    def load_tables(self) -> dict[str, Table]:
        """The connection's tables by name (may do I/O; cached by :meth:`tables`)."""

    def tables(self) -> dict[str, Table]:
        if self._tables is None:
            self._tables = self.load_tables()
        return self._tables

    def refresh(self) -> None:
        self._tables = None

    def table_names(self) -> list[str]:
        """The connection's table names, without loading every table (override when loading costs I/O)."""
        return list(self.tables())

    def load_table(self, name: str) -> Table:
        """One table by its exact name (override to load a single table lazily)."""
        return self.tables()[name]

    def table(self, name: str) -> Table:
        """A table by name (case-insensitive), or a QueryError with a suggestion."""
        names = self.table_names()
        if name in names:
            return self.load_table(name)
        folded = {k.lower(): k for k in names}
        if name.lower() in folded:
            return self.load_table(folded[name.lower()])
        tables = names
        hint = did_you_mean(name, list(tables))
        hint = f"{hint[:-1].replace('did you mean ', f'did you mean {self.name}.')}?" if hint else \
            f"{self.name} has: {', '.join(self.name + '.' + t for t in sorted(tables))}"
        raise QueryError(f"unknown table '{self.name}.{name}'", hint=hint)

    def warm(self, name: str, *, whole_table: bool = False) -> None:
        """Start, without waiting, the I/O a statement on table ``name`` is about to need, so it
        overlaps other waits: a live catalog (several tables' templates load concurrently) and,
        with ``whole_table`` (no WHERE, ORDER BY, LIMIT or aggregate), the first page too. A no-op
        by default; an unknown name is ignored (binding reports it)."""

    def discard_early(self) -> None:
        """Cancel what :meth:`warm` started and no scan used (called after every statement)."""

    @property
    def token_requests(self) -> int:
        """How many requests a statement may first make for a token (0: none; EXPLAIN says so)."""
        return 1

    # ---- planning and fetching
    @abstractmethod
    def plan(self, table: Table, candidates: Sequence[Candidate], needs: Needs) -> FetchPlan:
        """Choose what to push and how to page."""

    @abstractmethod
    async def fetch(self, table: Table, plan: FetchPlan, sink: PageSink) -> None:
        """Fetch pages of raw records into ``sink`` until done or ``sink`` returns False."""

    async def count(self, table: Table, plan: FetchPlan) -> int:
        """Number of rows the plan's filter matches, from the vendor's total."""
        raise NotImplementedError

    async def extent(self, table: Table, plan: FetchPlan) -> Extent | None:
        """The vendor's total rows and the page size of the plan's scan, when it is one search
        request whose rows can be read in ranges (``FetchPlan.rows``); None: unknown, or the scan
        cannot be split by rows (the default)."""
        return None

    def row(self, table: Table, record: dict[str, Any]) -> dict[str, Any]:
        """A raw record as ``{native field: value}`` (override to flatten nested shapes)."""
        return record

    def describe_connection(self) -> dict[str, Any]:
        """Settings for ``\\conninfo``; secrets are redacted by the caller."""
        return {"vendor": self.vendor, **self.settings}

    async def aclose(self) -> None:
        """Release HTTP clients."""


Fetcher = Callable[[int, int], Awaitable[tuple[list[dict[str, Any]], int | None]]]
