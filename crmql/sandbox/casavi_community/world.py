"""The seeded casavi Community world: communities (one per Manager property), their people, and tickets.

SANDBOX MAPPING, not a documented fact: community ``n`` (1..300) is the n-th casavi Manager
sandbox property by ``internalId`` ascending, read as the Manager API serves it through the
sandbox core's data registry (``shared_records("casavi", ...)``: vendor packages never import each
other, ``tests/test_layers.py``; the Manager simulator must be registered),
``{"id": n, "name": <property name>, "referenceId": <property id>}``, so ``casavi.properties``
joins community tables on ``reference_id``. Its units are the property's Manager units (``id`` =
the unit's ``internalId``, ``referenceId`` = its Manager id); its residents are the contacts with
an active contract on a unit (``id`` = the contact's ``internalId``, ``referenceId`` = its
Manager id); its staff are the property's internal responsibilities, served as persons with ids
from :data:`STAFF_BASE` (9000001) up.

Dates: the data's "now" (:attr:`CommunityWorld.now`) follows the real date (:func:`current_now`:
the latest 08:00 UTC at or before the wall clock), and every time is a seeded offset from it, so
``created_at > NOW() - INTERVAL '7 days'`` finds rows on any day (a fixed date would find none a
week after it). The data are deterministic per seed AND "now" (cached per both); they move by whole
days at 08:00 UTC. The environment variable ``CRMQL_SANDBOX_CASAVI_COMMUNITY_NOW`` (an ISO date:
its 08:00 UTC; or a date-time) pins it, e.g. for a reproducible dump. Nothing is created after
"now". Tickets are created over the three years before it; the older a ticket, the likelier it is
CLOSED. Communities :data:`FOCUS` (12, 15, 18) always have OPEN tickets from the last few days.
(The casavi Manager sandbox keeps its fixed ``TODAY``, 2026-12-01; this world's times do not depend on it.)

Tickets (built once per seed for every community: the unscoped list needs them all): ``id`` is
global and follows ``createdAt`` (from 1001), ``identifier`` counts within the community. The
detail parts (description, custom fields, comments, attachments, rating) are drawn lazily per
ticket (:mod:`.data`) from the plan kept here (:class:`TicketPlan`); comment ids are reserved here.

>>> w = world(42, datetime(2026, 12, 1, 8, tzinfo=UTC))
>>> ms_text(w.now_ms), len(w.communities), w.community(12).ref["id"], 3500 < len(w.tickets) < 5000
('2026-12-01T08:00:00.000Z', 300, 12, True)
>>> all(any(t["status"] == "OPEN" for t in w.tickets_of(n)) for n in FOCUS)
True
"""

from __future__ import annotations

import bisect
import logging
import os
import random
import threading
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, timezone
from functools import lru_cache
from itertools import accumulate
from typing import Any

from ..core.data import shared_records
from ..core.data_util import make_rng, pick, utc_ms
from .words import STATUS_TEXT, TICKET_TYPES, TICKETS, TYPE_WEIGHTS

__all__ = ["ENV_NOW", "FOCUS", "STAFF_BASE", "TODAY", "Community", "CommunityWorld", "TicketPlan", "choose",
           "current_now", "moment", "ms_text", "world"]

logger = logging.getLogger(__name__)

Record = dict[str, Any]
UTC = timezone.utc
#: the casavi Manager sandbox's fixed "today" (``crmql.sandbox.casavi.world.TODAY``); NOT this world's "now"
TODAY = date(2026, 12, 1)
MANAGER = "casavi"
#: the environment variable that pins the data's "now" (an ISO date, meaning its 08:00 UTC, or a date-time)
ENV_NOW = "CRMQL_SANDBOX_CASAVI_COMMUNITY_NOW"
#: the hour of the day (UTC) the data's "now" falls on
ANCHOR_HOUR = 8
#: communities with OPEN tickets and unread notifications in the last 7 days, whatever the seed
FOCUS = (12, 15, 18)
STAFF_BASE = 9_000_001
FIRST_TICKET_ID = 1001
_DAY_MS = 86_400_000
_EPOCH_ORDINAL = date(1970, 1, 1).toordinal()
_STATUSES = ("OPEN", "IN_PROGRESS", "WAITING", "CLOSED")
_TYPE_IDS = tuple(TICKET_TYPES)
_TYPE_CUM = tuple(accumulate(TYPE_WEIGHTS))
_STATUS_CUM = {age: tuple(accumulate(w)) for age, w in ((14, (45, 30, 15, 10)), (90, (15, 30, 15, 40)), (0, (3, 5, 2, 90)))}


def current_now(clock: datetime | None = None) -> datetime:
    """The data's "now": :data:`ENV_NOW` when set, else the latest 08:00 UTC at or before ``clock``
    (default: the wall clock), so no record is ever in the future.

    >>> current_now(datetime(2026, 12, 9, 7, 59, tzinfo=UTC)).isoformat()
    '2026-12-08T08:00:00+00:00'
    >>> current_now(datetime(2026, 12, 9, 8, 0, 1, tzinfo=UTC)).isoformat()
    '2026-12-09T08:00:00+00:00'
    """
    pinned = os.environ.get(ENV_NOW, "").strip()
    if pinned:
        try:
            at = datetime.fromisoformat(pinned.replace("Z", "+00:00")) if "T" in pinned else \
                datetime.combine(date.fromisoformat(pinned), time(ANCHOR_HOUR))
        except ValueError:  # a test knob: never a failing request; the wall clock instead, said once
            _warn_bad(pinned)
        else:
            at = at if at.tzinfo else at.replace(tzinfo=UTC)
            return at.astimezone(UTC).replace(microsecond=at.microsecond // 1000 * 1000)
    clock = (clock or datetime.now(UTC)).astimezone(UTC)
    anchor = datetime.combine(clock.date(), time(ANCHOR_HOUR), UTC)
    return anchor if anchor <= clock else anchor - timedelta(days=1)


@lru_cache(maxsize=16)
def _warn_bad(pinned: str) -> None:
    logger.warning("%s=%r is not an ISO date or date-time (e.g. 2026-12-01): ignored, the data follow the real "
                   "date", ENV_NOW, pinned[:60])


def moment(ms: int) -> datetime:
    """A time from epoch milliseconds (UTC).

    >>> utc_ms(moment(0))
    '1970-01-01T00:00:00.000Z'
    """
    return datetime(1970, 1, 1, tzinfo=UTC) + timedelta(milliseconds=ms)


def ms_text(ms: int) -> str:
    """Epoch milliseconds as the API writes a time (fast: the generators format tens of thousands).

    >>> ms_text(1_764_576_000_123)
    '2025-12-01T08:00:00.123Z'
    """
    day, rest = divmod(ms, _DAY_MS)
    seconds, milli = divmod(rest, 1000)
    hours, seconds = divmod(seconds, 3600)
    return f"{_day_text(day)}T{hours:02d}:{seconds // 60:02d}:{seconds % 60:02d}.{milli:03d}Z"


@lru_cache(maxsize=8192)
def _day_text(day: int) -> str:
    return date.fromordinal(_EPOCH_ORDINAL + day).isoformat()


def choose(rng: random.Random, keys: tuple[Any, ...], cumulative: tuple[float, ...]) -> Any:
    """A weighted pick by cumulative weights (a faster ``rng.choices`` for one draw).

    >>> choose(random.Random(1), ("a", "b"), (0.0, 1.0))
    'b'
    """
    return keys[bisect.bisect_right(cumulative, rng.random() * cumulative[-1])]


def _person(contact: Record, pid: int | None = None) -> Record:
    return {"id": contact["internalId"] if pid is None else pid, "firstName": contact.get("firstName") or "",
            "lastName": contact.get("lastName") or contact.get("companyName") or ""}


@dataclass
class Community:
    """One community: its object, units (served form), residents per unit, staff and sizes."""

    id: int
    ref: Record
    units: list[Record]
    residents: dict[int, list[Record]]
    staff: list[Record]
    sizes: dict[str, int] = field(default_factory=dict)

    def people(self) -> list[Record]:
        """Every resident once (Contact objects), in unit order."""
        seen: dict[int, Record] = {}
        for persons in self.residents.values():
            for p in persons:
                seen.setdefault(p["id"], p)
        return list(seen.values())


@dataclass(frozen=True)
class TicketPlan:
    """What the lazy detail of one ticket is drawn from."""

    ticket_id: int
    community: int
    type_id: int
    text: int
    comments: int
    first_comment: int
    created_ms: int
    updated_ms: int


_SIZES = {"appointments": (2, 30), "posts": (3, 60), "important_contacts": (3, 8), "faq": (0, 3),
          "notifications": (10, 160), "activities": (20, 240), "chat": (0, 12)}


def _communities(seed: int) -> list[Community]:
    props = shared_records(MANAGER, "properties", seed)
    units = {u["id"]: u for u in shared_records(MANAGER, "units", seed)}
    contacts = {c["id"]: c for c in shared_records(MANAGER, "contacts", seed)}
    staff_ids = sorted({r["contactInternalId"] for p in props for r in p["responsibilities"] if r["roleType"] == "internal"})
    by_internal = {c["internalId"]: c for c in contacts.values() if c["internalId"] in set(staff_ids)}
    staff = {iid: _person(by_internal[iid], STAFF_BASE + i) for i, iid in enumerate(staff_ids)}
    rng = make_rng(seed, "casavi_community", "sizes")
    out = []
    for n, prop in enumerate(sorted(props, key=lambda p: p["internalId"]), start=1):
        served, residents = [], {}
        for uid in prop["units"]:
            u = units[uid]
            served.append({"id": u["internalId"], "referenceId": u["id"], "name": u["name"], "communityId": n,
                           "type": u.get("type"), "floor": u.get("floor")})
            people = []
            for k in sorted(u["contracts"], key=lambda k: k["type"] != "RENTER"):  # renters first
                c = contacts[k["contactId"]]
                people.append({**_person(c), "referenceId": c["id"]})
            residents[u["internalId"]] = people
        team = [staff[r["contactInternalId"]] for r in prop["responsibilities"] if r["roleType"] == "internal"]
        size = len(served)
        sizes = {k: rng.randint(lo, hi) for k, (lo, hi) in _SIZES.items()}
        sizes["tickets"] = max(3, min(25, int(2 + size * 0.6 + rng.random() * 6)))
        out.append(Community(n, {"id": n, "name": prop["name"], "referenceId": prop["id"]}, served, residents,
                             team, sizes))
    return out


def _status(rng: random.Random, age_days: float) -> str:
    return choose(rng, _STATUSES, _STATUS_CUM[14 if age_days < 14 else 90 if age_days < 90 else 0])


class CommunityWorld:
    """The communities and tickets of one seed and "now" (the rest of the data: :mod:`.feed`, per community)."""

    def __init__(self, seed: int, now: datetime) -> None:
        self.seed = seed
        #: the data's "now" (nothing is created after it) and the same in epoch milliseconds
        self.now = now
        self.now_ms = int(now.timestamp() * 1000)
        self.communities = _communities(seed)
        self.tickets: list[Record] = []
        self.plans: dict[int, TicketPlan] = {}
        self._by_community: dict[int, list[Record]] = {}
        self._bases: dict[str, list[int]] = {}
        self._created: dict[int, list[int]] = {}
        self._build_tickets()

    def community(self, n: int) -> Community:
        """Community ``n`` (1-based); raises KeyError when there is none."""
        if not 1 <= n <= len(self.communities):
            raise KeyError(n)
        return self.communities[n - 1]

    def tickets_of(self, n: int) -> list[Record]:
        """Community ``n``'s tickets (summary form), id ascending (do not mutate)."""
        return self._by_community.get(n, [])

    def base(self, kind: str, n: int) -> int:
        """The first id of community ``n``'s block of ``kind`` records (ids unique across communities).

        >>> world(42).base("posts", 2) - world(42).base("posts", 1) == world(42).community(1).sizes["posts"]
        True
        """
        bases = self._bases.get(kind)
        if bases is None:
            start = {"faq": 101, "important_contacts": 501}.get(kind, 1)
            bases, total = [], start
            for c in self.communities:
                bases.append(total)
                total += c.sizes[kind]
            self._bases[kind] = bases
        return bases[n - 1]

    def _build_tickets(self) -> None:
        drafts: list[tuple[int, int, Record, tuple[int, int, int, int]]] = []
        now_ms = self.now_ms
        span = 3 * 365 * _DAY_MS
        for c in self.communities:
            rng = make_rng(self.seed, "casavi_community", "tickets", str(c.id))
            people = c.people()
            for k in range(c.sizes["tickets"]):
                created = now_ms - int(rng.random() ** 1.3 * span)
                if c.id in FOCUS and k < 2:  # recent OPEN tickets, whatever the seed
                    created = now_ms - int((0.3 + rng.random() * 3) * _DAY_MS)
                drafts.append((created, c.id, *self._draft(rng, c, people, created, force_open=c.id in FOCUS and k < 2)))
        drafts.sort(key=lambda d: (d[0], d[1]))
        counters: dict[int, int] = {}
        comment_id = 1
        for index, (created, n, rec, (type_id, text, comments, updated)) in enumerate(drafts):
            tid = FIRST_TICKET_ID + index
            counters[n] = counters.get(n, 0) + 1
            rec["id"], rec["identifier"], rec["referenceId"] = tid, counters[n], f"T-{tid}"
            self.plans[tid] = TicketPlan(tid, n, type_id, text, comments, comment_id, created, updated)
            comment_id += comments
            self.tickets.append(rec)
            self._by_community.setdefault(n, []).append(rec)

    def _draft(self, rng: random.Random, c: Community, people: list[Record], created: int,
               force_open: bool) -> tuple[Record, tuple[int, int, int, int]]:
        type_id = choose(rng, _TYPE_IDS, _TYPE_CUM)
        text = int(rng.random() * len(TICKETS[type_id]))
        title, _, about_unit = TICKETS[type_id][text]
        age = (self.now_ms - created) / _DAY_MS
        status = "OPEN" if force_open else _status(rng, age)
        unit = pick(rng, c.units) if about_unit and c.units else None
        residents = c.residents.get(unit["id"], []) if unit else people
        contact = (next((p for p in residents if p["firstName"]), residents[0]) if unit and residents
                   else pick(rng, residents) if residents else None)
        staff = c.staff or [{"id": STAFF_BASE, "firstName": "", "lastName": "Hausverwaltung"}]
        by_staff = contact is None or rng.random() < 0.15
        creator = pick(rng, staff) if by_staff else {k: contact[k] for k in ("id", "firstName", "lastName")}
        assigned = None if status == "OPEN" and rng.random() < 0.6 else pick(rng, staff)
        comments = 0 if status == "OPEN" and rng.random() < 0.5 else int(rng.random() * 7)
        updated = created if comments == 0 and status == "OPEN" else \
            min(self.now_ms - 1, created + int(rng.random() ** 2 * min(age, 60) * _DAY_MS) + 60_000)
        rec: Record = {"id": 0, "identifier": 0, "referenceId": "", "title": title, "status": status,
                       "statusText": STATUS_TEXT[status], "createdAt": ms_text(created),
                       "updatedAt": ms_text(updated), "Community": c.ref,
                       "TicketType": {"id": type_id, "name": TICKET_TYPES[type_id]},
                       "Unit": {"id": unit["id"], "name": unit["name"], "referenceId": unit["referenceId"]} if unit else None,
                       "Contact": contact, "CreatedBy": creator, "AssignedTo": assigned}
        return rec, (type_id, text, comments, updated)

    def tickets_before(self, n: int, ms: int) -> list[Record]:
        """Community ``n``'s tickets created at or before ``ms`` (epoch milliseconds)."""
        rows = self.tickets_of(n)
        keys = self._created.get(n)
        if keys is None:
            keys = self._created[n] = [self.plans[t["id"]].created_ms for t in rows]
        return rows[:bisect.bisect_right(keys, ms)]


_lock = threading.Lock()
_worlds: dict[tuple[int, datetime], CommunityWorld] = {}


def world(seed: int, now: datetime | None = None) -> CommunityWorld:
    """The community world of ``seed`` at ``now`` (default :func:`current_now`; built once, then
    cached; the last few are kept)."""
    now = current_now() if now is None else now
    key = (seed, now)
    with _lock:
        found = _worlds.get(key)
    if found is not None:
        return found
    # built outside the lock: it reads the Manager records under the sandbox core's data lock, and a
    # dump holds that lock while it asks for this world (one lock order, no deadlock)
    built = CommunityWorld(seed, now)
    with _lock:
        found = _worlds.get(key)
        if found is None:
            if len(_worlds) >= 4:
                _worlds.pop(next(iter(_worlds)))
            found = _worlds[key] = built
            logger.debug("casavi_community world of seed %d at %s: %d communities, %d tickets", seed, now,
                         len(found.communities), len(found.tickets))
        return found
