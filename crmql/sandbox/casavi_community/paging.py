"""The casavi Community simulator's two paged envelopes, under each paging reading.

Page index (appointments, activities: ``page`` + ``limit``; official posts: ``page`` only) ->
``{"page", "pageCount", "pageSize", "rows"}``, as the doc shows it (vendor-notes section 4,
ambiguity 25):

* ``page``: "Page index to show, starts at 0" (the doc). Absent: the first page. Not a whole
  number, or below 0: 400 ``{"message": ...}``. ``casavi_community.page_base=1`` reads pages from
  1: ``page=0`` (and no ``page``) is page 1, and the envelope says ``page: 1``.
* ``limit``: "Limit the number of results returned" (the doc), default :data:`DEFAULT_LIMIT`
  (20); above the maximum (``casavi_community.page_size_max``: 100 or 50) it is served as the
  maximum; below 1 or not a whole number: 400. Posts document no ``limit``: ignored, pages of
  :data:`POSTS_PAGE_SIZE` (20).
* ``pageSize`` = the size served, ``pageCount`` = ceil(total / pageSize) (0 when empty),
  ``page`` = the page served; a page past the end has no rows.

Notifications (no page parameter documented) -> ``{"pageSize", "count", "rowsOnPage", "rows"}``:
``after``/``before`` (any ISO-8601 date-time, ``Z`` or an offset; no offset: UTC; a date alone:
its midnight UTC; else 400) keep ``createdAt`` > after / < before (``notifications_range=
exclusive``, the default) or >= / <= (``inclusive``); ``unreadOnly=true`` keeps unread ones
(``false`` or absent: all; another value: 400). ``count`` = every matching notification.
``casavi_community.notifications_order``: ``newest_first`` (the newest :data:`NOTIFY_PAGE` = 50,
createdAt descending, ties by id descending), ``oldest_first`` (the oldest 50, ascending),
``unsorted`` (50 matching rows in no order: a fixed shuffle), ``all`` (every matching row,
``pageSize`` = count).

>>> page_request({"page": "2", "limit": "500"}, {"casavi_community.page_size_max": "50"}, limit_param=True)
PageRequest(index=2, size=50, shown=2)
>>> page_envelope(list(range(45)), PageRequest(index=2, size=20, shown=2))
{'page': 2, 'pageCount': 3, 'pageSize': 20, 'rows': [40, 41, 42, 43, 44]}
>>> parse_time("after", "2026-11-30T10:00:00+01:00").isoformat()
'2026-11-30T09:00:00+00:00'
"""

from __future__ import annotations

import logging
import random
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

__all__ = ["DEFAULT_LIMIT", "NOTIFY_PAGE", "POSTS_PAGE_SIZE", "NotificationQuery", "PageRequest", "ParamError",
           "notification_envelope", "page_envelope", "page_request", "parse_notification_query", "parse_time"]

logger = logging.getLogger(__name__)

Record = dict[str, Any]
DEFAULT_LIMIT = 20
POSTS_PAGE_SIZE = 20
NOTIFY_PAGE = 50
UTC = timezone.utc


class ParamError(ValueError):
    """A query parameter the simulator refuses (400; the message is client-facing)."""


def _whole(name: str, raw: str) -> int:
    try:
        return int(raw.strip())
    except ValueError:
        raise ParamError(f"{name} must be a whole number, got {raw!r}") from None


@dataclass(frozen=True)
class PageRequest:
    """The 0-based page index served, its size, and the page number the envelope shows."""

    index: int
    size: int
    shown: int


def page_request(params: Mapping[str, str], variants: Mapping[str, str], *, limit_param: bool) -> PageRequest:
    """The page a request asks for under the readings; raises :class:`ParamError`."""
    base = int(variants.get("casavi_community.page_base", "0"))
    page = _whole("page", params["page"]) if "page" in params else base
    if page < 0:
        raise ParamError(f"page must be 0 or more, got {page}")
    shown = max(page, base)
    size = POSTS_PAGE_SIZE
    if limit_param:
        size = _whole("limit", params["limit"]) if "limit" in params else DEFAULT_LIMIT
        if size < 1:
            raise ParamError(f"limit must be 1 or more, got {size}")
        size = min(size, int(variants.get("casavi_community.page_size_max", "100")))
    return PageRequest(index=shown - base, size=size, shown=shown)


def page_envelope(rows: list[Any], page: PageRequest) -> Record:
    """``{page, pageCount, pageSize, rows}`` of one page of ``rows``."""
    start = page.index * page.size
    return {"page": page.shown, "pageCount": -(-len(rows) // page.size), "pageSize": page.size,
            "rows": rows[start:start + page.size]}


def parse_time(name: str, raw: str) -> datetime:
    """An ``after``/``before`` value as an aware UTC datetime; raises :class:`ParamError`.

    >>> parse_time("before", "2026-12-01").isoformat()
    '2026-12-01T00:00:00+00:00'
    >>> parse_time("before", "gestern")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    crmql.sandbox.casavi_community.paging.ParamError: before must be an ISO-8601 date-time (e.g. ...), got 'gestern'
    """
    text = raw.strip()
    try:
        moment = datetime.fromisoformat(text[:-1] + "+00:00" if text[-1:] in ("Z", "z") else text)
    except ValueError:
        raise ParamError(f"{name} must be an ISO-8601 date-time (e.g. 2026-11-24T00:00:00.000Z), got {raw!r}") from None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


@dataclass(frozen=True)
class NotificationQuery:
    """The filters of one notifications request."""

    after: datetime | None = None
    before: datetime | None = None
    unread_only: bool = False


def parse_notification_query(params: Mapping[str, str]) -> NotificationQuery:
    """``after``, ``before`` and ``unreadOnly`` of a request; raises :class:`ParamError`."""
    unread = params.get("unreadOnly", "false").strip().lower()
    if unread not in ("true", "false"):
        raise ParamError(f"unreadOnly must be true or false, got {params['unreadOnly']!r}")
    after = parse_time("after", params["after"]) if "after" in params else None
    before = parse_time("before", params["before"]) if "before" in params else None
    return NotificationQuery(after, before, unread == "true")


def _created(row: Record) -> datetime:
    return datetime.fromisoformat(row["createdAt"].replace("Z", "+00:00"))


def notification_envelope(rows: list[Record], query: NotificationQuery, variants: Mapping[str, str]) -> Record:
    """``{pageSize, count, rowsOnPage, rows}`` of a community's notifications (``rows``, any order)."""
    inclusive = variants.get("casavi_community.notifications_range", "exclusive") == "inclusive"
    keep = []
    for row in rows:
        if query.unread_only and row["read"]:
            continue
        if query.after is not None or query.before is not None:
            created = _created(row)
            if query.after is not None and (created < query.after or created == query.after and not inclusive):
                continue
            if query.before is not None and (created > query.before or created == query.before and not inclusive):
                continue
        keep.append(row)
    order = variants.get("casavi_community.notifications_order", "newest_first")
    keep.sort(key=lambda r: (r["createdAt"], r["id"]), reverse=order != "oldest_first")
    if order == "unsorted":
        random.Random(len(keep)).shuffle(keep)
    size = len(keep) if order == "all" else NOTIFY_PAGE
    served = keep[:size]
    return {"pageSize": size, "count": len(keep), "rowsOnPage": len(served), "rows": served}
