"""casavi Community's columns, table by table, and what each kind of column pushes.

Column names are snake_case; ``field`` is the vendor's JSON path (dotted into a nested object:
``TicketType.name``), which DESCRIBE shows. A column without a ``field`` is computed by
:mod:`.rows` (``contact_name`` = "first last", ``unread`` = NOT ``read``, ``custom_fields`` as JSON
text, counts). The API filters by almost nothing (the docs list only ``community_id``, ``page``,
``limit`` and notifications' ``after``/``before``/``unreadOnly``), so apart from the kinds below
every column is local (DESCRIBE: "local").

Documented fields: the docs show record fields only for a ticket read by id, and only its
top-level keys (``id``, ``identifier``, ``referenceId``, ``title``, ``status`` with the sample
``OPEN``, ``statusText``, ``descriptionRendered``, ``customFields``, ``TicketComments``,
``Attachments``, ``TicketRating``, ``TicketType``, ``Unit``, ``Community``, ``Contact``,
``CreatedBy``, ``AssignedTo``, ``Sharings``), the envelopes, and ``{count}``. Every other field
name is crmql's reading (:data:`DOCUMENTED` lists the columns that are not), and DESCRIBE says
so: such a column's description ends with :data:`READING`.

Kinds (:func:`kinds`):

* ``community``: the fan-out key ``community_id`` (``=`` / ``IN``), its value put into the path or
  the ``community_id`` query parameter (:mod:`.connector`);
* ``id``: a ticket's integer id (``=`` / ``IN``), read by id (``GET /api/v1/tickets/{id}``);
* ``created``: notifications' ``created_at`` as ``after``/``before`` (inclusivity undocumented,
  ambiguity 26: a superset, widened by 1 ms where SQL includes the bound, re-checked locally);
* ``unread``: notifications' ``unread = TRUE`` as ``unreadOnly=true`` (exact); anything else on it
  is local (``unreadOnly=false`` is documented as no filter at all).

>>> [c.describe() for c in kinds("unread", {})]
['= TRUE (unreadOnly=true); other conditions local']
>>> [c.name for c in NOTIFICATION_COLUMNS][:4]
['community_id', 'id', 'type', 'title']
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
from collections.abc import Mapping
from typing import Any

from ...language import ast
from ...language.values import to_utc
from ...plan.catalog import Column, ColumnType
from ...plan.pushdown import Capability, Equality, NativeCond, Pushed, Range
from ..rest import Col

__all__ = [
    "ACTIVITY_COLUMNS", "APPOINTMENT_COLUMNS", "COMMENT_COLUMNS", "CONTACT_COLUMNS", "COUNT_COLUMNS", "CREATED",
    "DETAIL_COLUMNS", "FAQ_COLUMNS", "NOTIFICATION_COLUMNS", "POST_COLUMNS", "TICKET_COLUMNS", "UNIT_COLUMNS",
    "DOCUMENTED", "READING", "Unread", "UpperCeil", "kinds", "render_time",
]

log = logging.getLogger(__name__)

S, I, B, T, L = ColumnType.STRING, ColumnType.INTEGER, ColumnType.BOOLEAN, ColumnType.TIMESTAMP, ColumnType.LIST
#: appended to the description of a column whose field the docs do not show
READING = " (crmql's reading; not in the docs)"
#: per table kind, the columns whose field (or parameter) the docs show; every other column is a reading
DOCUMENTED = {
    "tickets": frozenset({"id", "reference_id", "title", "status", "status_text", "community_id"}),
    "details": frozenset({"id", "reference_id", "title", "status", "status_text", "community_id", "description",
                          "custom_fields", "comment_count", "attachment_count"}),
    "comments": frozenset({"ticket_id"}),
    "counts": frozenset({"community_id", "chat", "notifications"}),
    "scoped": frozenset({"community_id"}),
    "faq": frozenset(),
}
NOTIFICATION_TYPES = ("TICKET", "DOCUMENT", "POST", "APPOINTMENT", "NEIGHBORHOOD", "CHAT")
ACTIVITY_TYPES = ("TICKET_CREATED", "TICKET_CLOSED", "POST_PUBLISHED", "APPOINTMENT_CREATED", "DOCUMENT_UPLOADED",
                  "USER_JOINED")


def render_time(value: dt.datetime | dt.date) -> str:
    """A time as casavi writes them: ``YYYY-MM-DDThh:mm:ss.sssZ``, UTC, finer digits cut off (the
    Manager docs' format; a copy of the casavi Manager connector's: vendor packages import no other vendor).

    >>> render_time(dt.datetime(2026, 11, 24, 10, 30, 5, 123999, tzinfo=dt.timezone.utc))
    '2026-11-24T10:30:05.123Z'
    >>> render_time(dt.date(2026, 11, 24))
    '2026-11-24T00:00:00.000Z'
    """
    moment = to_utc(value)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


@dataclasses.dataclass(frozen=True)
class UpperCeil(Range):
    """A :class:`Range` over casavi's millisecond times: an upper bound (``<``, ``<=``) with finer
    digits is raised to the next millisecond before it is rendered (the rendering cuts finer digits
    off, which would make ``before`` tighter than the query and could lose a row); a lower bound is
    cut down, which only widens. Either way the condition is a superset, re-checked locally.

    >>> cap = CREATED
    >>> col = Column("created_at", T, field="createdAt")
    >>> moment = dt.datetime(2026, 11, 24, 10, 0, 0, 123400, tzinfo=dt.timezone.utc)
    >>> cap.push(ast.Compare("<", ast.Column("created_at"), ast.Literal(moment, "timestamp")), col).conds
    (NativeCond(field='createdAt', op='before', value='2026-11-24T10:00:00.124Z'),)
    >>> cap.push(ast.Compare(">", ast.Column("created_at"), ast.Literal(moment, "timestamp")), col).conds
    (NativeCond(field='createdAt', op='after', value='2026-11-24T10:00:00.123Z'),)
    """

    def push(self, pred: ast.Expr, column: Column) -> Pushed | str:
        if isinstance(pred, ast.Compare) and pred.op in ("<", "<=") and isinstance(pred.right, ast.Literal):
            value = pred.right.value
            if isinstance(value, dt.datetime) and value.microsecond % 1000:
                up = value + dt.timedelta(microseconds=1000 - value.microsecond % 1000)
                pred = ast.replace(pred, right=ast.Literal(up, pred.right.kind))
        return super().push(pred, column)


#: notifications' created_at: after/before, inclusivity undocumented (ambiguity 26), 1 ms steps
CREATED = UpperCeil(lower="after", upper="before", inclusive=None, widen=dt.timedelta(milliseconds=1),
                    render=render_time)


@dataclasses.dataclass(frozen=True)
class Unread(Capability):
    """``unread = TRUE`` (or ``IN (TRUE)``) as ``unreadOnly=true``, exact: the docs define it as
    "only unread notifications are returned". ``unread = FALSE`` is not pushed: the docs describe only
    ``true``; ``unreadOnly=false`` most plausibly means no filter (all notifications), so sending it
    would gain nothing, and under any other reading it could lose rows. It stays local.

    >>> col = Column("unread", B)
    >>> Unread().push(ast.Compare("=", ast.Column("unread"), ast.Literal(True, "boolean")), col)
    Pushed(conds=(NativeCond(field='read', op='unreadOnly', value='true'),), exact=True, note='')
    >>> reason = Unread().push(ast.Compare("=", ast.Column("unread"), ast.Literal(False, "boolean")), col)
    >>> reason[:70]
    'unread = FALSE: unreadOnly=false means all notifications, so only unre'
    """

    sql_ops: tuple[str, ...] = ("= TRUE",)

    def describe(self) -> str:
        return "= TRUE (unreadOnly=true); other conditions local"

    def push(self, pred: ast.Expr, column: Column) -> Pushed | str:
        values: list[Any] = []
        if isinstance(pred, ast.Compare) and pred.op == "=" and isinstance(pred.right, ast.Literal):
            values = [pred.right.value]
        elif isinstance(pred, ast.InList) and not pred.negated and all(isinstance(v, ast.Literal) for v in pred.items):
            values = sorted({v.value for v in pred.items if v.value is not None}, key=str)  # type: ignore[union-attr]
        if values == [True]:
            return Pushed((NativeCond("read", "unreadOnly", "true"),), True)
        if values and all(isinstance(v, bool) for v in values):
            return (f"unread = {'FALSE' if values == [False] else 'TRUE or FALSE'}: unreadOnly=false means all "
                    "notifications, so only unread = TRUE is sent (unreadOnly=true); checked locally")
        return "only unread = TRUE is sent (unreadOnly=true); checked locally"


#: the fan-out key: = or IN, each value a community id (put as text into the path or the query)
COMMUNITY = Equality("community", "community", case_sensitive=True)
@dataclasses.dataclass(frozen=True)
class SharedArticles(Equality):
    """The FAQ's community: ``?community_id=n`` also serves the articles for every community
    (``communityId`` null), so the condition is a superset, re-checked locally: a row's
    ``community_id`` is the article's own, and the answer never depends on how it was read.

    >>> col = Column("community_id", I)
    >>> FAQ_COMMUNITY.push(ast.Compare("=", ast.Column("community_id"), ast.Literal(12, "integer")), col).exact
    False
    """

    def push(self, pred: ast.Expr, column: Column) -> Pushed | str:
        pushed = super().push(pred, column)
        if isinstance(pushed, str):
            return pushed
        return Pushed(pushed.conds, False, "community_id=n also serves the articles for every community; "
                                           "re-checked locally")


#: the FAQ's community: the fan-out key too, but a superset (see SharedArticles)
FAQ_COMMUNITY = SharedArticles("community", "community", case_sensitive=True)
#: a ticket's id: = or IN, read by id
TICKET_ID = Equality("eq", "in", case_sensitive=True, render=str)


def kinds(kind: str, settings: Mapping[str, Any]) -> tuple[Capability, ...]:
    """What a column of each kind pushes (see the module docstring).

    >>> [c.describe() for c in kinds("community", {})], kinds("none", {})
    (['=, IN'], ())
    """
    return {"community": (COMMUNITY,), "faq_community": (FAQ_COMMUNITY,), "id": (TICKET_ID,), "created": (CREATED,), "unread": (Unread(),),
            "none": ()}[kind]


def _cols(*spec: tuple[Any, ...]) -> tuple[Col, ...]:
    """``(name, type, kind, description[, field[, options]])`` each."""
    return tuple(Col(c[0], c[1], c[2], c[3], field=c[4] if len(c) > 4 else None,
                     options=c[5] if len(c) > 5 else None) for c in spec)


def _read(kind: str, cols: tuple[Col, ...]) -> tuple[Col, ...]:
    """``cols`` with :data:`READING` after the description of each column the docs do not show.

    >>> [c.description for c in _read("scoped", _cols(("title", S, "none", "title")))]
    ["title (crmql's reading; not in the docs)"]
    """
    return tuple(c if c.name in DOCUMENTED[kind] else dataclasses.replace(c, description=c.description + READING)
                 for c in cols)


def _community(optional: bool) -> tuple[Any, ...]:
    why = ("= or IN (up to 50) reads each community (community_id=n); without it, every community "
           "the user sees, in one request" if optional else
           "required: = or IN (or a join), one scan per community")
    return ("community_id", I, "community", f"the community ({why})")


def _person(prefix: str, field: str, what: str) -> tuple[tuple[Any, ...], ...]:
    return ((f"{prefix}_id", I, "none", f"{what}: id", f"{field}.id"),
            (f"{prefix}_name", S, "none", f"{what}: \"first last\" name"))


_TICKET = _cols(
    ("id", I, "id", "ticket id, unique across communities (= or IN reads /api/v1/tickets/{id})"),
    ("identifier", I, "none", "running number within the community"),
    ("reference_id", S, "none", "reference (T-<id>)", "referenceId"),
    ("title", S, "none", "title"),
    ("status", S, "none", "e.g. OPEN (the docs' sample); the sandbox also has IN_PROGRESS, WAITING, CLOSED"),
    ("status_text", S, "none", "status as the app shows it (German)", "statusText"),
    ("created_at", T, "none", "created (UTC)", "createdAt"),
    ("updated_at", T, "none", "last updated (UTC)", "updatedAt"),
    _community(True),
    ("community_name", S, "none", "the community's name", "Community.name"),
    ("community_reference_id", S, "none", "the community's reference id", "Community.referenceId"),
    ("ticket_type_id", I, "none", "ticket type id", "TicketType.id"),
    ("ticket_type", S, "none", "ticket type (Schadensmeldung, Reparatur, ...)", "TicketType.name"),
    ("unit_id", I, "none", "the unit (casavi_community.units.id)", "Unit.id"),
    ("unit_name", S, "none", "the unit's name", "Unit.name"),
    ("unit_reference_id", S, "none", "the unit's reference id", "Unit.referenceId"),
    *_person("contact", "Contact", "the resident who reported it"),
    ("contact_reference_id", S, "none", "the contact's reference id (casavi.contacts.id)", "Contact.referenceId"),
    *_person("created_by", "CreatedBy", "who created it"),
    *_person("assigned_to", "AssignedTo", "who it is assigned to"),
)
TICKET_COLUMNS = _read("tickets", _TICKET)
DETAIL_COLUMNS = _read("details", tuple(dataclasses.replace(c, description="required: = or IN (or a join); one GET "
                                                                          "per ticket") if c.name == "id" else c
                                        for c in _TICKET) + _cols(
    ("description", S, "none", "the description as HTML", "descriptionRendered"),
    ("custom_fields", S, "none", "the custom fields as JSON text: [{id, label, value}]"),
    ("rating", I, "none", "the resident's rating, 1..5", "TicketRating.rating"),
    ("rating_comment", S, "none", "the rating's comment", "TicketRating.comment"),
    ("comment_count", I, "none", "number of comments (casavi_community.ticket_comments)"),
    ("attachments", L, "none", "the attachments' file names"),
    ("attachment_count", I, "none", "number of attachments"),
))
COMMENT_COLUMNS = _read("comments", _cols(
    ("ticket_id", I, "id", "the ticket (required: = or IN, or a join; one GET per ticket)"),
    ("id", I, "none", "comment id"), ("text", S, "none", "text"),
    ("created_at", T, "none", "written (UTC)", "createdAt"),
    *_person("author", "Author", "the author"),
    ("is_public", B, "none", "visible to residents", "isPublic"),
))
APPOINTMENT_COLUMNS = _read("scoped", _cols(
    _community(False), ("id", I, "none", "appointment id"), ("title", S, "none", "title"),
    ("description", S, "none", "description"), ("start_date", T, "none", "start (UTC)", "startDate"),
    ("end_date", T, "none", "end (UTC; NULL: none)", "endDate"), ("all_day", B, "none", "all day", "allDay"),
    ("location", S, "none", "location"), ("created_at", T, "none", "created (UTC)", "createdAt"),
))
POST_COLUMNS = _read("scoped", _cols(
    _community(False), ("id", I, "none", "post id"), ("title", S, "none", "title"), ("text", S, "none", "text"),
    ("created_at", T, "none", "published (UTC)", "createdAt"), ("pinned", B, "none", "pinned to the top"),
    *_person("author", "Author", "the author"),
))
CONTACT_COLUMNS = _read("scoped", _cols(
    _community(False), ("id", I, "none", "contact id"), ("name", S, "none", "name"),
    ("category", S, "none", "Hausverwaltung, Notdienst, Hausmeister, ... (text; not a documented list)"),
    ("company", S, "none", "company"), ("phone", S, "none", "phone"), ("email", S, "none", "e-mail"),
    ("note", S, "none", "note"),
))
FAQ_COLUMNS = _read("faq", _cols(
    ("community_id", I, "faq_community", "the article's community; NULL: an article for every community (= or "
                                         "IN, up to 50, sends community_id=n, which serves those too: a superset, "
                                         "re-checked; what a community's residents see: WHERE community_id = n OR "
                                         "community_id IS NULL)", "communityId"),
    ("id", I, "none", "article id"), ("group_id", I, "none", "its group", "groupId"),
    ("group_name", S, "none", "its group's name (from the answer's groups)"),
    ("title", S, "none", "question"), ("content", S, "none", "answer"),
))
NOTIFICATION_COLUMNS = _read("scoped", _cols(
    _community(False), ("id", I, "none", "notification id"),
    ("type", S, "none", "TICKET, DOCUMENT, POST, APPOINTMENT, NEIGHBORHOOD or CHAT (text)"),
    ("title", S, "none", "title"), ("text", S, "none", "text"),
    ("created_at", T, "created", "created (UTC; >, >=, <, <=, BETWEEN send after/before, a superset re-checked "
                                 "locally)", "createdAt"),
    ("unread", B, "unread", "not read yet (NOT read; = TRUE sends unreadOnly=true, exact)"),
    ("read_at", T, "none", "read (UTC; NULL: unread)", "readAt"),
    ("link", S, "none", "the app link, e.g. /tickets/1042"),
    ("object_id", I, "none", "the id of what it is about (a ticket, post, ...)", "objectId"),
))
ACTIVITY_COLUMNS = _read("scoped", _cols(
    _community(False), ("id", I, "none", "activity id"),
    ("type", S, "none", "TICKET_CREATED, TICKET_CLOSED, POST_PUBLISHED, ... (text)"), ("text", S, "none", "text"),
    ("created_at", T, "none", "happened (UTC)", "createdAt"), *_person("actor", "Actor", "who did it"),
    ("object_id", I, "none", "the id of what it is about", "objectId"),
))
UNIT_COLUMNS = _read("scoped", _cols(
    _community(True), ("id", I, "none", "unit id"), ("reference_id", S, "none", "reference id", "referenceId"),
    ("name", S, "none", "name"), ("type", S, "none", "type (text)"), ("floor", I, "none", "floor"),
))
COUNT_COLUMNS = _read("counts", _cols(
    _community(False), ("chat", I, "none", "unread chat messages (GET .../chat/unread)"),
    ("notifications", I, "none", "unread notifications (GET .../notifications/unread)"),
))
