"""The casavi Community simulator's data as the API serves it: ticket details (drawn lazily per
ticket), every table of every community, and :data:`GENERATORS` for the sandbox core
(``crmql sandbox dump casavi_community.<table>`` prints each record as the API serves it under the
default readings, with ``community_id`` added, community by community).

Tickets: the list item (``summary``, the default reading) carries id, identifier, referenceId,
title, status, statusText, createdAt, updatedAt (inferred: the doc shows none; CHOSEN so a
client can tell what changed), Community, TicketType, Unit, Contact, CreatedBy, AssignedTo. The
detail (``GET /api/v1/tickets/{ticket_id}``, the doc's response sample) adds descriptionRendered
(HTML), customFields ``[{id, label, value}]``, TicketComments ``[{id, text, createdAt, Author,
isPublic}]``, Attachments ``[{path, name, fileType, fileSize}]`` (the upload answer's fields),
TicketRating ``{rating, comment}`` or null (closed tickets only) and Sharings ``{}``; under
``casavi_community.ticket_list=full`` the list serves the detail.

>>> d = ticket_detail(42, 1001)
>>> sorted(set(d) - set(tickets(42)[0]))
['Attachments', 'Sharings', 'TicketComments', 'TicketRating', 'customFields', 'descriptionRendered']
>>> sorted(t for _, t in GENERATORS) == sorted(TABLES)
True
"""

from __future__ import annotations

import html
import logging
import threading
from typing import Any, Callable

from ..core.data_util import make_rng, pick
from .feed import FEED_TABLES, chat_unread, faq, feed
from .words import CUSTOM_FIELDS, RATING_COMMENTS, RESIDENT_COMMENTS, STAFF_COMMENTS, TICKETS
from .world import ms_text, world

__all__ = ["GENERATORS", "TABLES", "ticket_detail", "tickets", "units"]

logger = logging.getLogger(__name__)

Record = dict[str, Any]
Lookup = Callable[[str], list[Record]]
#: the dump's tables
TABLES = ("tickets", "ticket_details", "ticket_comments", "appointments", "posts", "important_contacts",
          "faq_articles", "notifications", "activities", "units", "unread_counts")
_FILES = (("foto_schaden.jpg", "image/jpeg"), ("IMG_2041.jpg", "image/jpeg"), ("rechnung.pdf", "application/pdf"),
          ("zaehlerstand.png", "image/png"), ("video_tropfen.mp4", "video/mp4"))


def tickets(seed: int, community: int | None = None) -> list[Record]:
    """Every ticket (summary form, id ascending), or community ``community``'s (do not mutate)."""
    w = world(seed)
    return w.tickets if community is None else w.tickets_of(community)


_lock = threading.Lock()
_details: dict[tuple[int, int, int], Record] = {}


def ticket_detail(seed: int, ticket_id: int) -> Record | None:
    """The detail of ticket ``ticket_id`` (drawn on first use, then cached), or None when there is none."""
    w = world(seed)
    key = (seed, w.now_ms, ticket_id)
    with _lock:
        found = _details.get(key)
    if found is not None:
        return found
    plan = w.plans.get(ticket_id)
    if plan is None:
        return None
    summary = w.tickets[ticket_id - w.tickets[0]["id"]]
    rng = make_rng(seed, "casavi_community", "ticket", str(ticket_id))
    c = w.community(plan.community)
    title, text, _ = TICKETS[plan.type_id][plan.text]
    custom = [{"id": plan.type_id * 10 + i + 1, "label": label, "value": pick(rng, values)}
              for i, (label, values) in enumerate(CUSTOM_FIELDS[plan.type_id]) if rng.random() < 0.85]
    staff = c.staff or [summary["CreatedBy"]]
    resident = summary["Contact"] or summary["CreatedBy"]
    comments = []
    span = max(1, plan.updated_ms - plan.created_ms)
    for k in range(plan.comments):
        by_staff = k % 2 == 0 or summary["Contact"] is None
        author = summary["AssignedTo"] or pick(rng, staff) if by_staff else resident
        at = plan.created_ms + (span * (k + 1)) // plan.comments if k == plan.comments - 1 else \
            plan.created_ms + int(span * (k + rng.random()) / plan.comments)
        comments.append({"id": plan.first_comment + k,
                         "text": pick(rng, STAFF_COMMENTS if by_staff else RESIDENT_COMMENTS),
                         "createdAt": ms_text(at),
                         "Author": {key2: author[key2] for key2 in ("id", "firstName", "lastName")},
                         "isPublic": not by_staff or rng.random() < 0.8})
    files = [pick(rng, _FILES) for _ in range(int(rng.random() ** 2 * 4))]
    attachments = [{"path": f"{rng.getrandbits(96):024x}.{name.rsplit('.', 1)[1]}", "name": name, "fileType": kind,
                    "fileSize": rng.randint(20_000, 4_000_000)} for name, kind in files]
    rating = None
    if summary["status"] == "CLOSED" and rng.random() < 0.35:
        rating = {"rating": rng.choices((1, 2, 3, 4, 5), (4, 5, 12, 35, 44))[0], "comment": pick(rng, RATING_COMMENTS)}
    detail = {**summary, "descriptionRendered": f"<p>{html.escape(text)}</p>", "customFields": custom,
              "TicketComments": comments, "Attachments": attachments, "TicketRating": rating, "Sharings": {}}
    with _lock:
        if len(_details) > 20_000:
            _details.clear()
        return _details.setdefault(key, detail)


def units(seed: int, community: int | None = None) -> list[Record]:
    """Every community's units (``communityId`` ascending, then as the property lists them), or one's."""
    w = world(seed)
    if community is not None:
        return w.community(community).units
    return [u for c in w.communities for u in c.units]


def _with_community(seed: int, table: str) -> list[Record]:
    w = world(seed)
    return [{"community_id": c.id, **r} for c in w.communities for r in feed(w, table, c.id)]


def _feed_table(table: str) -> Callable[[int, Lookup], list[Record]]:
    def generate(seed: int, lookup: Lookup) -> list[Record]:
        return _with_community(seed, table)
    generate.__doc__ = f"casavi Community {table} of every community, each with its community_id."
    return generate


def _tickets(seed: int, lookup: Lookup) -> list[Record]:
    """Every ticket as the list serves it (summary), with ``community_id``."""
    return [{**t, "community_id": t["Community"]["id"]} for t in tickets(seed)]


def _detail_rows(seed: int, lookup: Lookup) -> list[Record]:
    """Every ticket's detail (``GET /api/v1/tickets/{id}``), with ``community_id``."""
    out = []
    for t in tickets(seed):
        detail = ticket_detail(seed, t["id"])
        assert detail is not None
        out.append({**detail, "community_id": t["Community"]["id"]})
    return out


def _unread_counts(seed: int, lookup: Lookup) -> list[Record]:
    """Each community's two unread counts (``chat/unread``, ``notifications/unread``), one row each."""
    w = world(seed)
    return [{"community_id": c.id, "chat": chat_unread(w, c.id),
             "notifications": sum(1 for r in feed(w, "notifications", c.id) if not r["read"])} for c in w.communities]


def _comments(seed: int, lookup: Lookup) -> list[Record]:
    """Every ticket's comments, one row each with ``ticket_id`` and ``community_id``."""
    out = []
    for t in tickets(seed):
        detail = ticket_detail(seed, t["id"])
        assert detail is not None
        out += [{**k, "ticket_id": t["id"], "community_id": t["Community"]["id"]} for k in detail["TicketComments"]]
    return out


def _faq(seed: int, lookup: Lookup) -> list[Record]:
    """Every FAQ article once (the unscoped answer's items), ``community_id`` = its communityId."""
    return [{**item, "community_id": item["communityId"]} for item in faq(world(seed), None)["items"]]


def _units(seed: int, lookup: Lookup) -> list[Record]:
    """Every community's units, with ``community_id``."""
    return [{**u, "community_id": u["communityId"]} for u in units(seed)]


GENERATORS: dict[tuple[str, str], Callable[[int, Lookup], list[Record]]] = {
    ("casavi_community", "tickets"): _tickets,
    ("casavi_community", "ticket_details"): _detail_rows,
    ("casavi_community", "ticket_comments"): _comments,
    **{("casavi_community", t): _feed_table(t) for t in FEED_TABLES},
    ("casavi_community", "faq_articles"): _faq,
    ("casavi_community", "units"): _units,
    ("casavi_community", "unread_counts"): _unread_counts,
}
