"""casavi Community's tables as REST kit resources, built per connection from its paths and page size.

The docs' text has every path stripped (ambiguity 24); :data:`PATHS` are the chosen ones (the
connector's module docstring says why) and the connection setting ``paths`` overrides any of them
(:func:`paths_of`): keys are the table names that have a path of their own plus ``ticket`` (a
ticket read by id), ``chat_unread`` and ``notifications_unread`` (the two counts of
``unread_counts``). A community-scoped path must keep its ``{community_id}`` slot, the ticket
path its ``{ticket_id}``; the three lists whose community is a query parameter (tickets, units,
FAQ) take no slot.

>>> paths = paths_of({"paths": {"appointments": "/api/v2/c/{community_id}/appointments"}})
>>> paths["appointments"], paths["ticket"]
('/api/v2/c/{community_id}/appointments', '/api/v1/tickets/{ticket_id}')
>>> try:
...     paths_of({"paths": {"appointment": "/x"}})
... except ConfigError as e:
...     print(e.message)
paths.appointment: not a casavi Community path (did you mean appointments?)
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Mapping
from typing import Any

from ...errors import ConfigError, did_you_mean
from ...plan.catalog import FilterShape, RequiredFilter
from ..rest import (
    ById, Col, CountedPaginator, Explode, FanOut, Keyset, PageIndexPaginator, Place, Resource, SinglePage,
)
from .columns import (
    ACTIVITY_COLUMNS, APPOINTMENT_COLUMNS, COMMENT_COLUMNS, CONTACT_COLUMNS, COUNT_COLUMNS, DETAIL_COLUMNS,
    FAQ_COLUMNS, NOTIFICATION_COLUMNS, POST_COLUMNS, TICKET_COLUMNS, UNIT_COLUMNS, render_time,
)

__all__ = ["PAGE_SIZE", "PATHS", "build", "page_size_of", "paths_of"]

log = logging.getLogger(__name__)

COMMUNITY = "/api/v1/communities/{community_id}"
#: the chosen paths (ambiguity 24), by ``paths`` key
PATHS: dict[str, str] = {
    "tickets": "/api/v1/tickets", "ticket": "/api/v1/tickets/{ticket_id}",
    "appointments": f"{COMMUNITY}/appointments", "posts": f"{COMMUNITY}/posts",
    "important_contacts": f"{COMMUNITY}/important-contacts", "faq_articles": "/api/v1/faq",
    "chat_unread": f"{COMMUNITY}/chat/unread", "notifications_unread": f"{COMMUNITY}/notifications/unread",
    "notifications": f"{COMMUNITY}/notifications", "activities": f"{COMMUNITY}/activities", "units": "/api/v1/units",
}
#: the slot each path must have (None: none; the community is a query parameter)
SLOTS = {key: ("{ticket_id}" if key == "ticket" else "{community_id}" if path.startswith(COMMUNITY) else None)
         for key, path in PATHS.items()}
#: the documented ``limit`` of appointments and activities: 100 unless ``page_size`` says otherwise
PAGE_SIZE = 100
_EXAMPLE = 'e.g. paths = {appointments = "/api/v2/c/{community_id}/appointments"}'


def paths_of(settings: Mapping[str, Any]) -> dict[str, str]:
    """:data:`PATHS` with the connection's ``paths`` setting applied; a bad key or path is a
    :class:`ConfigError` naming it (``paths.<key>: ...``)."""
    given = settings.get("paths")
    if given is None:
        return dict(PATHS)
    if not isinstance(given, Mapping):
        raise ConfigError(f"paths: must be a table of path names and paths, not {type(given).__name__}",
                          hint=_EXAMPLE)
    out = dict(PATHS)
    for key, path in given.items():
        if key not in PATHS:
            guess = did_you_mean(str(key), list(PATHS))
            where = {"ticket_details": "ticket", "ticket_comments": "ticket", "unread_counts": "chat_unread and "
                     "notifications_unread"}.get(str(key))
            raise ConfigError(f"paths.{key}: not a casavi Community path" + (f" ({guess})" if guess else "")
                              + (f"; {key} is read through {where}" if where else ""),
                              hint="the keys are " + ", ".join(PATHS))
        slot = SLOTS[key]
        if not isinstance(path, str) or not path.startswith("/") or "//" in path or "?" in path:
            raise ConfigError(f"paths.{key}: must be a path starting with / (no host, no query), not "
                              f"{path!r}"[:200], hint=_EXAMPLE)
        slots = {part for part in ("{community_id}", "{ticket_id}") if part in path}
        if slot is not None and slot not in path:
            raise ConfigError(f"paths.{key}: {path!r} has no {slot} slot", hint=f"e.g. {PATHS[key]}")
        if slots - {slot} or path.count("{") != len(slots) or path.count("}") != len(slots):
            raise ConfigError(f"paths.{key}: {path!r} " + (f"may have no slot but {slot}" if slot else
                              "takes no slot (the community is the query parameter community_id)"),
                              hint=f"e.g. {PATHS[key]}")
        if any(part in (".", "..") for part in path.split("/")):
            raise ConfigError(f"paths.{key}: {path!r} has a . or .. segment (a path may not step out of the API)",
                              hint=f"e.g. {PATHS[key]}")
        out[key] = path
    return out


def page_size_of(settings: Mapping[str, Any]) -> int:
    """The ``limit`` sent to appointments and activities: ``page_size``, 1 to 100 (the largest
    page the sandbox serves; the docs name no maximum: a vendor serving fewer is read correctly).

    >>> page_size_of({}), page_size_of({"page_size": 50})
    (100, 50)
    """
    size = settings.get("page_size")
    if size is None:
        return PAGE_SIZE
    if isinstance(size, bool) or not isinstance(size, int) or not 1 <= size <= 100:
        raise ConfigError(f"page_size: must be an integer from 1 to 100 for casavi Community, not {size!r}",
                          hint="e.g. page_size = 100")
    return size


def _required(table: str) -> tuple[RequiredFilter, ...]:
    example = f"SELECT * FROM casavi_community.{table} WHERE community_id = 12"
    return (RequiredFilter("community_id", ("=", "IN"), example),)


#: every community answering 404: the paths are crmql's guess (the docs do not show them), so say how to set them
MISSING_HINT = ("the API paths are crmql's reading (the docs do not show them): if the communities exist, set the "
                f"vendor's path in the connection's paths setting, {_EXAMPLE}")


def _fan(optional: bool, *, carried: str | None = None, filters: Mapping[str, str] | None = None) -> FanOut:
    """The community fan-out: in the path (required), or the ``community_id`` query parameter."""
    return FanOut(column="community_id", op="community",
                 place=Place.query("community_id") if optional else Place.path("community_id"),
                 filters=dict(filters or {}), noun="community", names="a community", required=not optional,
                 max_values=50, carried=carried, missing_hint=MISSING_HINT,
                 note=("the endpoint filters only by community" + (" and after/before/unreadOnly" if filters else "")
                       + "; checked locally"))


def _page_index(size: int | None) -> PageIndexPaginator:
    """``page`` from 0 with ``limit`` (None: the vendor's own page size, posts), checked by the echo."""
    return PageIndexPaginator(page=Place.query("page"), size=Place.query("limit") if size else None, base=0,
                 page_count="pageCount", max_page=size or 500, echo="page", size_echo="pageSize")


def _notifications_paginator() -> CountedPaginator:
    """One request per community; while fewer distinct rows than ``count`` came, again with
    ``before`` = the oldest served + 1 ms (``after`` = the newest - 1 ms when served oldest first)."""
    keyset = Keyset(field="createdAt", key="id", before=Place.query("before"), after=Place.query("after"),
                    step=dt.timedelta(milliseconds=1), render=render_time)
    return CountedPaginator(count="count", on_short="warn", keyset=keyset)


def build(paths: Mapping[str, str], page_size: int) -> tuple[Resource, ...]:
    """Every table's resource for these paths and page size.

    >>> [r.name for r in build(PATHS, 100)][:4]
    ['tickets', 'ticket_details', 'ticket_comments', 'appointments']
    """
    ticket = paths["ticket"].replace("{ticket_id}", "{id}")
    by_id = dict(names="a ticket", note="a read by id carries no other filter; checked locally")
    only = "the ticket list has no id filter (only reads by id, at most {} ids: more {})"
    listed, detailed = only.format(50, "are checked over the list"), only.format(500, "read the listed ones asked for")
    plain: dict[str, Any] = dict(records="", paginator=SinglePage(), noun="list", answer="list")
    rows: dict[str, Any] = dict(records="rows", noun="list", answer="list")

    def scoped(name: str, description: str, columns: tuple[Col, ...], **more: Any) -> Resource:
        options = {**(rows if "paginator" in more else plain), **more}
        return Resource(name, description, paths[name], columns=columns, required=_required(name),
                        fan_out=options.pop("fan_out", _fan(False)), **options)

    return (
        Resource("tickets", "Tickets (the list: summary fields; details in ticket_details)", paths["tickets"],
                 columns=TICKET_COLUMNS, by_id=ById(ticket, ops=("eq", "in"), only=listed, **by_id),
                 fan_out=_fan(True, carried="Community.id"), **plain),
        Resource("ticket_details", "One row per ticket with its description, custom fields, rating and "
                 "attachments (one GET per ticket: needs id = or IN, or a join)", paths["tickets"],
                 columns=DETAIL_COLUMNS, by_id=ById(ticket, ops=("eq", "in"), max_ids=500, only=detailed,
                                                         **by_id),
                 required=(RequiredFilter("id", ("=", "IN"), "SELECT * FROM casavi_community.ticket_details "
                                                             "WHERE id = 1042"),), **plain),
        Resource("ticket_comments", "The comments of a ticket (one GET per ticket: needs ticket_id = or IN, or "
                 "a join)", paths["tickets"], columns=COMMENT_COLUMNS, explode=Explode("TicketComments",
                                                                                      {"ticket_id": "id"}),
                 by_id=ById(ticket, column="ticket_id", parent="ticket", max_ids=500, only=detailed, **by_id),
                 shape=FilterShape(split_or=False),
                 required=(RequiredFilter("ticket_id", ("=", "IN"), "SELECT * FROM casavi_community.ticket_comments "
                                                                    "WHERE ticket_id = 1042"),), **plain),
        scoped("appointments", "Appointments of a community", APPOINTMENT_COLUMNS, paginator=_page_index(page_size)),
        scoped("posts", "Official posts (from the managers) of a community", POST_COLUMNS,
               paginator=_page_index(None)),
        scoped("important_contacts", "Important contacts of a community (management, emergency, caretaker, ...)",
               CONTACT_COLUMNS),
        Resource("faq_articles", "FAQ articles, with their group's name", paths["faq_articles"], columns=FAQ_COLUMNS,
                 fan_out=_fan(True, carried="communityId"), records="items", paginator=SinglePage(), noun="list",
                 answer="FAQ"),
        scoped("notifications", "Notifications of a community (read completely: the newest 50 per answer, then "
               "older ones by before=)", NOTIFICATION_COLUMNS, paginator=_notifications_paginator(),
               fan_out=_fan(False, filters={"after": "after", "before": "before", "unreadOnly": "unreadOnly"})),
        scoped("activities", "Activities in a community", ACTIVITY_COLUMNS, paginator=_page_index(page_size)),
        Resource("units", "Units of the user in each community", paths["units"], columns=UNIT_COLUMNS,
                 fan_out=_fan(True, carried="communityId"), **plain),
        Resource("unread_counts", "Unread chat messages and notifications per community (two GETs per community)",
                 paths["chat_unread"], columns=COUNT_COLUMNS, required=_required("unread_counts"),
                 fan_out=_fan(False), records="", paginator=SinglePage(single=True), noun="count",
                 answer="count"),
    )
