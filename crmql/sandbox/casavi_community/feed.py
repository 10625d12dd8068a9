"""One community's feed, drawn lazily per community and table: appointments, official posts,
important contacts, local FAQ articles, notifications, activities and the chat's unread count.

Each table of each community comes from its own RNG (seed, table, community), so a request for
community 12 builds community 12 only, and the result does not depend on what was built before.
Ids are unique across communities: each community has a block of ids per table
(:meth:`.world.CommunityWorld.base`), in ``createdAt`` order within it.

* appointments: ``startDate`` from two years ago to six months ahead (upcoming ones exist),
  created 1-60 days before they start (never after the world's ``now``); list order (CHOSEN, the
  doc shows none) ``startDate`` ascending, ties by id: a calendar.
* posts (Aushänge) by the community's staff; some pinned; order (CHOSEN) pinned first, then
  newest first: what the app's board shows.
* notifications about the community's tickets, posts, appointments, documents, the neighbourhood
  and the chat; 80% from the last 120 days; unread: about 40% (the newer, the likelier);
  ``readAt`` after ``createdAt``. Communities 12, 15, 18 have unread ones from the last 3 days.
* activities: the community's tickets created (and closed), posts published, appointments
  created, documents uploaded, users joined, newest first (CHOSEN: a feed).

>>> from crmql.sandbox.casavi_community.world import world
>>> w = world(42)
>>> rows = notifications(w, 12)
>>> 10 <= len(rows) <= 160 and all(r["createdAt"] <= ms_text(w.now_ms) for r in rows)
True
>>> notifications(w, 12) == rows  # deterministic
True
"""

from __future__ import annotations

import bisect
import logging
import random
import threading
from itertools import accumulate
from typing import Any, Callable

from ..core.data_util import make_rng, pick
from .words import (APPOINTMENTS, CHAT, DOCUMENTS, FAQ_GLOBAL, FAQ_GROUPS, FAQ_LOCAL, IMPORTANT_CONTACTS,
                    NEIGHBORHOOD, POSTS, STATUS_TEXT)
from .world import FOCUS, STAFF_BASE, CommunityWorld, choose, ms_text

__all__ = ["FEED_TABLES", "activities", "appointments", "chat_unread", "faq", "feed", "important_contacts",
           "notifications", "posts"]

logger = logging.getLogger(__name__)

Record = dict[str, Any]
DAY = 86_400_000
HOUR = 3_600_000


def _rng(w: CommunityWorld, table: str, n: int) -> random.Random:
    return make_rng(w.seed, "casavi_community", table, str(n))


def _number(rows: list[Record], base: int, key: str = "createdAt") -> list[Record]:
    """Ids ``base``, ``base + 1``, ... in ``key`` order (the insertion order of a database)."""
    for i, row in enumerate(sorted(rows, key=lambda r: r[key])):
        row["id"] = base + i
    return rows


def appointments(w: CommunityWorld, n: int) -> list[Record]:
    """Community ``n``'s appointments, ``startDate`` ascending."""
    rng, rows = _rng(w, "appointments", n), []
    for _ in range(w.community(n).sizes["appointments"]):
        title, text, all_day, where, hours = pick(rng, APPOINTMENTS)
        start = w.now_ms + int((rng.random() * 910 - 730) * DAY)
        start -= start % DAY - (0 if all_day else (8 + int(rng.random() * 10)) * HOUR)
        created = min(w.now_ms - int(rng.random() * DAY), start - int((1 + rng.random() * 59) * DAY))
        end = None if hours == 0 and not all_day else start + (DAY - 1 if all_day else hours * HOUR)
        rows.append({"id": 0, "title": title, "description": text, "startDate": ms_text(start),
                     "endDate": ms_text(end) if end is not None and rng.random() < 0.9 else None,
                     "allDay": all_day, "location": where or None, "createdAt": ms_text(created)})
    _number(rows, w.base("appointments", n))
    return sorted(rows, key=lambda r: (r["startDate"], r["id"]))


def posts(w: CommunityWorld, n: int) -> list[Record]:
    """Community ``n``'s official posts: pinned first, then newest first."""
    rng, c, rows = _rng(w, "posts", n), w.community(n), []
    staff = c.staff or [{"id": STAFF_BASE, "firstName": "", "lastName": "Hausverwaltung"}]
    for _ in range(c.sizes["posts"]):
        title, text = pick(rng, POSTS)
        created = w.now_ms - int(rng.random() * 3 * 365 * DAY)
        rows.append({"id": 0, "title": title, "text": text, "createdAt": ms_text(created),
                     "pinned": rng.random() < 0.1, "Author": dict(pick(rng, staff))})
    _number(rows, w.base("posts", n))
    return sorted(rows, key=lambda r: (r["pinned"], r["createdAt"], r["id"]), reverse=True)


def important_contacts(w: CommunityWorld, n: int) -> list[Record]:
    """Community ``n``'s important contacts: management and emergency first, then 1-6 trades."""
    rng, c = _rng(w, "important_contacts", n), w.community(n)
    count = c.sizes["important_contacts"]
    chosen = list(IMPORTANT_CONTACTS[:2]) + rng.sample(IMPORTANT_CONTACTS[2:], min(count - 2, len(IMPORTANT_CONTACTS) - 2))
    base, rows = w.base("important_contacts", n), []
    for i, (category, company, note) in enumerate(chosen):
        area = pick(rng, ("89", "30", "40", "221", "69", "711"))
        person = None if category in ("Notdienst", "Aufzug") else \
            (f"{c.staff[0]['firstName']} {c.staff[0]['lastName']}".strip() if category == "Hausverwaltung" and c.staff
             else pick(rng, ("Herr Yilmaz", "Frau Schneider", "Herr Huber", "Frau Wagner", "Herr Becker")))
        domain = "".join(ch for ch in company.lower().split(" ")[0] if ch.isalnum()) or "kontakt"
        rows.append({"id": base + i, "name": person or company, "category": category, "company": company,
                     "phone": f"+49 {area} {rng.randint(100000, 9999999)}",
                     "email": None if category in ("Notdienst", "Aufzug") else f"info@{domain}.de", "note": note})
    return rows


def faq(w: CommunityWorld, n: int | None) -> Record:
    """``{groups, items}``: the global articles (``communityId`` null) and, scoped, community ``n``'s;
    unscoped (``n`` None): every article once."""
    items = [{"id": i + 1, "groupId": g, "title": t, "content": text, "communityId": None}
             for i, (g, t, text) in enumerate(FAQ_GLOBAL)]
    for m in ([n] if n is not None else [c.id for c in w.communities]):
        rng = _rng(w, "faq", m)
        for i, (g, t, text) in enumerate(rng.sample(FAQ_LOCAL, w.community(m).sizes["faq"])):
            items.append({"id": w.base("faq", m) + i, "groupId": g, "title": t, "content": text, "communityId": m})
    return {"groups": [{"id": k, "name": v} for k, v in FAQ_GROUPS.items()], "items": items}


_KINDS = ("TICKET", "DOCUMENT", "POST", "APPOINTMENT", "NEIGHBORHOOD", "CHAT")
_KIND_CUM = tuple(accumulate((40, 12, 14, 12, 12, 10)))


class _Before:
    """The rows of a list created at or before a moment (sorted once, then bisected)."""

    def __init__(self, rows: list[Record]) -> None:
        self.rows = sorted(rows, key=lambda r: r["createdAt"])
        self.keys = [r["createdAt"] for r in self.rows]

    def __call__(self, created: str) -> list[Record]:
        return self.rows[:bisect.bisect_right(self.keys, created)]


def _notification(rng: random.Random, w: CommunityWorld, n: int, created: int, posts_: _Before,
                  appts: _Before) -> Record:
    kind = choose(rng, _KINDS, _KIND_CUM)
    tickets = w.tickets_before(n, created) if kind == "TICKET" else []
    at = ms_text(created)
    made = posts_(at) if kind == "POST" else [a for a in appts(at) if a["startDate"] > at] if kind == "APPOINTMENT" else []
    if kind == "TICKET" and tickets:
        t = pick(rng, tickets[-8:])
        status = t["status"] if t["status"] != "OPEN" else "IN_PROGRESS"
        title, text = pick(rng, ((f"Neuer Kommentar zu Ihrer Meldung #{t['identifier']}", t["title"]),
                                 (f"Status geändert: {STATUS_TEXT[status]}", f"Ihre Meldung „{t['title']}“")))
        return {"type": "TICKET", "title": title, "text": text, "link": f"/tickets/{t['id']}", "objectId": t["id"]}
    if kind == "POST" and made:
        p = pick(rng, made)
        return {"type": "POST", "title": "Neuer Aushang", "text": p["title"], "link": f"/posts/{p['id']}",
                "objectId": p["id"]}
    if kind == "APPOINTMENT" and made:
        a = pick(rng, made)
        return {"type": "APPOINTMENT", "title": "Neuer Termin", "text": f"{a['title']} am {a['startDate'][:10]}",
                "link": f"/appointments/{a['id']}", "objectId": a["id"]}
    if kind == "NEIGHBORHOOD":
        return {"type": kind, "title": "Nachbarschaft", "text": pick(rng, NEIGHBORHOOD), "link": "/neighborhood",
                "objectId": None}
    if kind == "CHAT":
        return {"type": kind, "title": pick(rng, CHAT), "text": "Tippen Sie hier, um die Nachricht zu lesen.",
                "link": "/chat", "objectId": None}
    doc = 70_000 + n * 100 + int(rng.random() * 100)
    return {"type": "DOCUMENT", "title": "Neues Dokument", "text": pick(rng, DOCUMENTS), "link": f"/documents/{doc}",
            "objectId": doc}


def notifications(w: CommunityWorld, n: int) -> list[Record]:
    """Community ``n``'s notifications, id (= createdAt) ascending."""
    rng, rows = _rng(w, "notifications", n), []
    posts_, appts = _Before(feed(w, "posts", n)), _Before(feed(w, "appointments", n))
    count = w.community(n).sizes["notifications"]
    recent = 3 if n in FOCUS else 0
    for k in range(count):
        if k < recent:
            created = w.now_ms - int((0.1 + rng.random() * 2.9) * DAY)
        elif rng.random() < 0.8:
            created = w.now_ms - int(rng.random() ** 1.5 * 120 * DAY)
        else:
            created = w.now_ms - int((120 + rng.random() * 600) * DAY)
        age = (w.now_ms - created) / DAY
        unread = k < recent or rng.random() < (0.7 if age < 14 else 0.42 if age < 120 else 0.2)
        read_at = None if unread else ms_text(min(w.now_ms, created + int(rng.random() ** 3 * 20 * DAY) + 60_000))
        about = _notification(rng, w, n, created, posts_, appts)
        rows.append({"id": 0, "type": about["type"], "title": about["title"], "text": about["text"],
                     "createdAt": ms_text(created), "read": not unread, "readAt": read_at, "link": about["link"],
                     "objectId": about["objectId"]})
    _number(rows, w.base("notifications", n))
    return sorted(rows, key=lambda r: r["id"])


def activities(w: CommunityWorld, n: int) -> list[Record]:
    """Community ``n``'s activities, newest first."""
    rng, c = _rng(w, "activities", n), w.community(n)
    events: list[Record] = []
    for t in w.tickets_of(n):
        plan = w.plans[t["id"]]
        events.append({"type": "TICKET_CREATED", "text": f"Neue Meldung: {t['title']}", "createdAt": t["createdAt"],
                       "Actor": t["CreatedBy"], "objectId": t["id"]})
        if t["status"] == "CLOSED":
            events.append({"type": "TICKET_CLOSED", "text": f"Meldung erledigt: {t['title']}",
                           "createdAt": ms_text(plan.updated_ms), "Actor": t["AssignedTo"] or t["CreatedBy"],
                           "objectId": t["id"]})
    for p in feed(w, "posts", n):
        events.append({"type": "POST_PUBLISHED", "text": f"Neuer Aushang: {p['title']}", "createdAt": p["createdAt"],
                       "Actor": p["Author"], "objectId": p["id"]})
    staff = c.staff or [{"id": STAFF_BASE, "firstName": "", "lastName": "Hausverwaltung"}]
    for a in feed(w, "appointments", n):
        events.append({"type": "APPOINTMENT_CREATED", "text": f"Neuer Termin: {a['title']}",
                       "createdAt": a["createdAt"], "Actor": dict(pick(rng, staff)), "objectId": a["id"]})
    target = c.sizes["activities"]
    people = [{k: p[k] for k in ("id", "firstName", "lastName")} for p in c.people()] or staff
    while len(events) < target:
        created = ms_text(w.now_ms - int(rng.random() * 3 * 365 * DAY))
        if rng.random() < 0.5:
            doc = pick(rng, DOCUMENTS)
            events.append({"type": "DOCUMENT_UPLOADED", "text": f"Neues Dokument: {doc}", "createdAt": created,
                           "Actor": dict(pick(rng, staff)), "objectId": 70_000 + n * 100 + int(rng.random() * 100)})
        else:
            who = pick(rng, people)
            events.append({"type": "USER_JOINED", "text": f"{who['firstName']} {who['lastName']}".strip()
                           + " ist der Community beigetreten", "createdAt": created, "Actor": who, "objectId": None})
    if len(events) > target:  # the community's id block holds ``target`` ids
        events = rng.sample(events, target)
    rows = [{"id": 0, **e} for e in events]
    _number(rows, w.base("activities", n))
    return sorted(rows, key=lambda r: (r["createdAt"], r["id"]), reverse=True)


def chat_unread(w: CommunityWorld, n: int) -> int:
    """The chat's unread count of community ``n``."""
    return w.community(n).sizes["chat"]


Builder = Callable[[CommunityWorld, int], list[Record]]
#: the feed tables a community has, by name
FEED_TABLES: dict[str, Builder] = {"appointments": appointments, "posts": posts, "important_contacts": important_contacts,
                                   "notifications": notifications, "activities": activities}

_lock = threading.RLock()
_cache: dict[tuple[int, int, str, int], list[Record]] = {}


def feed(w: CommunityWorld, table: str, n: int) -> list[Record]:
    """Community ``n``'s ``table`` (cached per seed and "now"; do not mutate); raises KeyError for no such community."""
    w.community(n)
    key = (w.seed, w.now_ms, table, n)
    with _lock:
        rows = _cache.get(key)
        if rows is None:
            rows = _cache[key] = FEED_TABLES[table](w, n)
            if len(_cache) > 20_000:
                _cache.pop(next(iter(_cache)))
        return rows
