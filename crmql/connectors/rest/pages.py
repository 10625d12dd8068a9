"""The vocabulary every paginator shares: a checked :class:`Page`, the :class:`ScanContext` a
paginator gets for one scan, the :class:`PagingFacts` EXPLAIN describes, and the
:class:`Paginator` base class (the concrete ones: :mod:`.paginators`, :mod:`.next_link`).

>>> Page([{"id": 1}]).next is None
True
"""

from __future__ import annotations

import logging
from abc import ABC, abstractmethod
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, ClassVar

from ...plan.connector import NativeRequest
from .paging import ScanLimits
from .place import Place

__all__ = ["Page", "Paginator", "PagingFacts", "Records", "ScanContext"]

log = logging.getLogger(__name__)

Records = list[dict[str, Any]]


@dataclass
class Page:
    """One checked answer: its records, total (a count or None), next link (on the connection's
    origin, absolute) and the decoded body (for a quirk hook)."""

    records: Records
    total: int | None = None
    next: str | None = None
    data: Any = None
    #: the request that answered a scan's first page (None: not recorded; a next-link scan that
    #: left a refused page size out says so here)
    sent: NativeRequest | None = None


@dataclass
class ScanContext:
    """What a paginator gets for one scan."""

    request: NativeRequest
    #: ``fetch(request_or_next_link, label)`` -> the checked page (``label`` names it in errors)
    fetch: Callable[[NativeRequest | str, str], Awaitable[Page]]
    sink: Callable[[Records], bool]
    limits: ScanLimits
    max_rows: int | None = None
    #: one page at a time (a LIMIT whose rows are re-checked locally: no page wasted)
    sequential: bool = False
    #: pages fetched concurrently (offset and page-index engines)
    window: int = 16
    #: a next page may be requested while this one is handled (off when a LIMIT may stop the scan)
    prefetch: bool = True
    #: the connection's concurrency (pages a next-link scan may request ahead)
    concurrency: int = 8
    #: what paging learned about the vendor on this connection, kept between its scans (a
    #: next-link scan: the paths whose page size was refused); a fresh one per scan by default
    learned: dict[str, Any] = field(default_factory=dict)
    #: read only the rows [start, stop) of the scan (stop None: to the vendor's end); only a
    #: paginator whose ``ranged`` is True is given one (:attr:`FetchPlan.rows <crmql.plan.connector.FetchPlan.rows>`)
    rows: tuple[int, int | None] | None = None

    @property
    def label(self) -> str:
        return f"{self.request.method} {self.request.path}"


@dataclass(frozen=True)
class PagingFacts:
    """What EXPLAIN's paging line says about a search scan."""

    page: int
    max_rows: int | None = None
    stop_early: bool = False
    limit_rows: int | None = None
    splits: int = 1
    sorted_by: str | None = None
    concurrency: int = 8
    #: how the resource's requests are named ("search", "entities")
    noun: str = "search"
    #: the vendor refused the page size on this path earlier on the connection (sent without it)
    size_refused: bool = False


class Paginator(ABC):
    """How a resource pages. ``max_page``: the most rows the vendor serves per page;
    ``total``: where the answer keeps the number of matches (None: nowhere)."""

    max_page: int
    total: str | None = None
    #: where the page size goes (None: the vendor takes none)
    size: Place | None = None
    #: whether :meth:`scan` reads a row range (``ScanContext.rows``): offsets and page indexes can
    #: start anywhere; a next link, a count or a single page cannot
    ranged: ClassVar[bool] = False

    def places(self) -> tuple[Place, ...]:
        """The places the paginator puts its values (a filter parameter must not share one)."""
        return (self.size,) if self.size is not None else ()

    def first(self, request: NativeRequest, page_size: int) -> NativeRequest:
        """The first page's request: the page size (and start position) put in their places."""
        return self.size.put(request, page_size) if self.size is not None else request

    def known(self, request: NativeRequest, learned: dict[str, Any]) -> NativeRequest:
        """``request`` as sent given what the connection ``learned`` (by default: unchanged)."""
        return request

    def refused(self, request: NativeRequest, learned: dict[str, Any]) -> bool:
        """Whether the connection learned that the vendor refuses the page size on ``request``'s path."""
        return False

    def sized(self, request: NativeRequest, page_size: int) -> NativeRequest:
        """``request`` asking pages of ``page_size`` (1 for a count's probe)."""
        return self.size.put(request, page_size) if self.size is not None else request

    def next_link(self, data: Any) -> Any:
        """The raw next link of an answer (None: none); checked by the connector."""
        return None

    def count_label(self, label: str) -> str:
        """How a count's 1-row request is named in errors."""
        return label

    @abstractmethod
    async def scan(self, ctx: ScanContext) -> bool | None:
        """Read the pages into ``ctx.sink`` (False: the scan was stopped early)."""

    @abstractmethod
    def describe(self, facts: PagingFacts) -> tuple[str, str]:
        """EXPLAIN's ``paging`` and ``requests`` lines for a search."""

    def describe_count(self, noun: str) -> tuple[str, str]:
        return f"none: {self.total} of one 1-row request", f"1 {noun} request"

    def brief(self, page: int) -> str:
        """The paging of one scan of a fan-out, in a few words."""
        return f"{page} per page"
