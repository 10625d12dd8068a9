"""Reading a counted list completely by a time keyset: casavi Community's notifications.

The answer is ``{pageSize, count, rowsOnPage, rows}`` with no page parameter: the newest
``pageSize`` rows matching, and ``count``, all rows matching. The endpoint does take a time range
(``after``/``before`` on ``createdAt``), so the rest can be asked for: while the distinct rows
served are fewer than ``count``, the next request narrows the range past the rows already served
(:class:`Keyset`). Rows served newest first (``createdAt`` non-increasing) continue with
``before`` = the oldest served + ``step``; oldest first, with ``after`` = the newest served -
``step``. The step (1 ms) keeps the boundary's rows in the next answer under either reading of
the bound (exclusive or inclusive), so a row sharing the boundary's time is never skipped; rows
served twice are de-duplicated by ``key``. A request's own bound is replaced only when the new one
is tighter (``before`` earlier, ``after`` later): the user's range always holds.

The scan stops when it has ``count`` distinct rows; when a page brings no new row or is in no
order by ``field`` (or a time does not parse as ISO-8601), it cannot advance: the rows the vendor
counted and did not serve are a WARNING naming vendor, table and key ("vendor counted 120
notifications for community 15, crmql got 100"), or with ``on_short="error"`` a
VendorResponseError; never silently short. Each page goes to the sink as it comes (new rows only);
``max_rows`` and a sink returning False stop early; ``limits.max_pages`` bounds the requests.

>>> import asyncio, datetime as dt
>>> rows = [{"id": n, "createdAt": f"2026-12-01T00:00:{n:02d}.000Z"} for n in range(7)]
>>> async def fetch(request):  # newest first, 3 a page, ``before`` exclusive
...     before = Place.query("before").get(request)
...     kept = [r for r in rows if before is None or r["createdAt"] < before]
...     return sorted(kept, key=lambda r: r["createdAt"], reverse=True)[:3], len(kept)
>>> got = []
>>> ks = Keyset(render=lambda t: t.strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z")
>>> asyncio.run(keyset_scan(fetch, NativeRequest("GET", "/n"), ks, sink=lambda r: got.extend(r) or True))
True
>>> sorted(r["id"] for r in got)
[0, 1, 2, 3, 4, 5, 6]
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Literal

from ... import stats
from ...errors import VendorResponseError
from ...plan.connector import NativeRequest
from .paging import ScanLimits
from .place import Place, dig
from .support import shown, valid_total

__all__ = ["Keyset", "keyset_scan"]

log = logging.getLogger(__name__)

Records = list[dict[str, Any]]


def _iso(value: dt.datetime) -> str:
    """ISO-8601 UTC with milliseconds and ``Z`` (the default rendering of a keyset bound).

    >>> _iso(dt.datetime(2026, 12, 1, 9, 30, 0, 123456, tzinfo=dt.timezone.utc))
    '2026-12-01T09:30:00.123Z'
    """
    return value.astimezone(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def parse_time(value: Any) -> dt.datetime | None:
    """An ISO-8601 date-time (``Z`` or an offset; none: UTC) as an aware datetime, else None.

    >>> parse_time("2026-12-01T09:30:00.123Z"), parse_time("yesterday")
    (datetime.datetime(2026, 12, 1, 9, 30, 0, 123000, tzinfo=datetime.timezone.utc), None)
    """
    if not isinstance(value, str):
        return None
    try:
        parsed = dt.datetime.fromisoformat(value.strip())
    except ValueError:
        return None
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=dt.timezone.utc)


@dataclass(frozen=True)
class Keyset:
    """How a counted list is continued past the rows served: the records' time ``field`` and
    unique ``key``, the request's ``before``/``after`` places, the ``step`` a bound is moved past the
    boundary, and ``render`` (a datetime as the parameter's text)."""

    field: str = "createdAt"
    key: str = "id"
    before: Place = Place.query("before")
    after: Place = Place.query("after")
    step: dt.timedelta = dt.timedelta(milliseconds=1)
    render: Callable[[dt.datetime], str] = _iso

    def describe(self, count: str) -> str:
        """EXPLAIN's words for the continuation."""
        ms = self.step / dt.timedelta(milliseconds=1)
        return (f"while fewer distinct rows than {count} were served, again with {self.before.describe()} = the "
                f"oldest {self.field} served + {ms:g} ms ({self.after.describe()} = the newest - {ms:g} ms when "
                f"served oldest first), de-duplicated by {self.key}")

    def next_request(self, request: NativeRequest, times: list[dt.datetime]) -> NativeRequest | None:
        """The request after a page whose times are ``times`` (in the order served), or None when
        the page is in no order or the bound would not be tighter than the request's own.

        >>> ks = Keyset()
        >>> t = [parse_time("2026-12-01T10:00:00.000Z"), parse_time("2026-12-01T09:00:00.000Z")]
        >>> ks.next_request(NativeRequest("GET", "/n"), t).render()
        'GET /n?before=2026-12-01T09%3A00%3A00.001Z'
        >>> ks.next_request(NativeRequest("GET", "/n"), t[::-1]).render()
        'GET /n?after=2026-12-01T09%3A59%3A59.999Z'
        """
        if all(a >= b for a, b in zip(times, times[1:])):  # newest first (or all one time)
            bound = min(times) + self.step
            own = parse_time(self.before.get(request))
            return self.before.put(request, self.render(bound)) if own is None or bound < own else None
        if all(a <= b for a, b in zip(times, times[1:])):  # oldest first
            bound = max(times) - self.step
            own = parse_time(self.after.get(request))
            return self.after.put(request, self.render(bound)) if own is None or bound > own else None
        return None


async def keyset_scan(
    fetch: Callable[[NativeRequest], Awaitable[tuple[Records, int | None]]],
    request: NativeRequest,
    keyset: Keyset,
    *,
    sink: Callable[[Records], bool],
    max_rows: int | None = None,
    on_short: Literal["error", "warn"] = "warn",
    limits: ScanLimits = ScanLimits(),
) -> bool:
    """Read a counted list completely (see the module docstring): ``fetch(request) -> (records,
    count)``; False when the sink or ``max_rows`` stopped it."""
    current = stats.current()
    seen: set[Any] = set()
    delivered = 0
    count: int | None = None
    pages = 0
    while True:
        records, raw = await fetch(request)
        pages += 1
        current.add(pages=1, rows_fetched=len(records))
        if pages == 1:
            count = valid_total(raw)
            current.set_total_pages(1)
        new: Records = []
        for record in records:
            key = dig(record, keyset.key)
            if key is None or isinstance(key, bool) or not isinstance(key, (str, int, float)):
                raise VendorResponseError(f"a record's {keyset.key} is {'missing' if key is None else shown(key)}, so "
                                          "the rows of several requests cannot be de-duplicated",
                                          vendor=limits.vendor or None, table=limits.table or None,
                                          request=limits.request or None)
            if key not in seen:
                seen.add(key)
                new.append(record)
        if max_rows is not None:
            new = new[:max(0, max_rows - delivered)]
        delivered += len(new)
        if new and not sink(new):
            return False
        if max_rows is not None and delivered >= max_rows:
            return False
        if count is None:
            if pages == 1:  # nothing tells whether rows are missing: the user is told so
                current.warn(f"{limits.where}: the count {'is missing' if raw is None else shown(raw) + ' is no count'}"
                             f"; the {len(records)} rows served may not be all")
            return True
        if len(seen) >= count:
            return True
        times = [parse_time(dig(r, keyset.field)) for r in records]
        following = (keyset.next_request(request, [t for t in times if t is not None])
                     if new and records and None not in times else None)
        if following is None or following == request:
            _short(limits, count, len(seen), on_short)
            return True
        if pages >= limits.max_pages:
            raise limits.over_budget(pages, f": the vendor counts {count} rows")
        request = following


def _short(limits: ScanLimits, count: int, got: int, on_short: str) -> None:
    """The vendor counted more rows than the keyset could reach: a warning, or an error."""
    noun = limits.table.rsplit(".", 1)[-1] or "rows"
    for_key = f" for {limits.key}" if limits.key else ""
    what = f"vendor counted {count} {noun}{for_key}, crmql got {got}"
    if on_short == "error":
        raise VendorResponseError(f"{what}: the rest cannot be reached (the rows are in no order by time, or "
                                  "share one)", vendor=limits.vendor or None, table=limits.table or None,
                                  request=limits.request or None)
    stats.current().warn(f"{limits.source}: {what}; the result is incomplete")  # (what names the key)
