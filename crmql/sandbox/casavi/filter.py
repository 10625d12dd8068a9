"""The casavi list filters, as pure functions over internal records (:mod:`.world`): the
simulator's own filter code, which the tests also run on records of their own.

Query parameters per list (vendor-notes section 4, seen in third-party v2 code; unknown parameters
are ignored, as lenient APIs do):

* contacts: ``isRegistered``, ``isInvited`` (``true``/``false``), ``modifiedAfter``, ``role``;
* units: ``includeInactiveContracts`` (``true``/``false``: also the ended contracts in each
  unit's ``contracts``; it selects no rows), ``modifiedAfter``;
* properties: ``modifiedAfter``.

Readings of what the docs leave open (``casavi.*`` variants, the first is the default):

* ``casavi.bool_filters``: ``honoured`` (both values filter) | ``true_only`` (``=false`` is
  ignored) | ``ignored`` (neither is read, so neither is checked). Where the vendor reads the
  parameter, a value other than ``true``/``false`` (lowercase, as JSON writes them) is a 400.
* ``casavi.modified_after``: ``exclusive`` (modified > value) | ``inclusive`` (>=).
* ``casavi.modified_format``: ``lenient`` (any ISO-8601 date or date-time Python reads, a date
  = its midnight, no offset = UTC) | ``strict`` (only ``YYYY-MM-DDThh:mm:ss.sssZ``, the doc's own
  format). Unreadable: 400.
* ``role`` (CHOSEN): a contact has ``OWNER``/``RENTER`` while it holds an active contract of that
  type (no ``endDate`` or one on/after the simulator's today, 2026-12-01), ``SERVICE_PROVIDER``
  when some property names it in an external responsibility; the match is exact (case too); an
  unknown role selects nothing.

A repeated parameter counts with its last value (as Starlette reads a query string). A record
without a modification time never passes ``modifiedAfter``; without the boolean, never passes
its equality.

>>> f = parse_filter("contacts", {"isRegistered": "false", "modifiedAfter": "2026-11-01"}, {})
>>> f.matches({"isRegistered": False, "_modifiedAt": "2026-11-02T00:00:00.000Z"})
True
>>> parse_filter("contacts", {"isInvited": "yes"}, {})
Traceback (most recent call last):
crmql.sandbox.casavi.filter.ParamError: isInvited must be true or false, got 'yes'
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, timezone
from typing import Any

from .world import TODAY, is_active

__all__ = ["FILTERS", "ListFilter", "ParamError", "modified_at", "parse_bool", "parse_filter",
           "parse_modified_after", "roles_of", "select"]

logger = logging.getLogger(__name__)

Record = dict[str, Any]
UTC = timezone.utc
#: the filter parameters each list reads
FILTERS: dict[str, tuple[str, ...]] = {
    "contacts": ("isRegistered", "isInvited", "modifiedAfter", "role"),
    "units": ("includeInactiveContracts", "modifiedAfter"),
    "properties": ("modifiedAfter",),
}
_STRICT = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$")


class ParamError(ValueError):
    """A query parameter the vendor refuses (400; the message is client-facing)."""


def parse_bool(name: str, text: str) -> bool:
    """``true``/``false`` as a boolean; anything else is a :class:`ParamError`.

    >>> parse_bool("isRegistered", "true")
    True
    """
    if text == "true":
        return True
    if text == "false":
        return False
    raise ParamError(f"{name} must be true or false, got {text!r}")


def parse_modified_after(text: str, form: str = "lenient") -> datetime:
    """``modifiedAfter``'s value as an aware UTC datetime, read as ``form`` (``lenient``/``strict``).

    >>> parse_modified_after("2026-11-01")
    datetime.datetime(2026, 11, 1, 0, 0, tzinfo=datetime.timezone.utc)
    >>> parse_modified_after("2026-11-01", "strict")
    Traceback (most recent call last):
    crmql.sandbox.casavi.filter.ParamError: modifiedAfter must be an ISO-8601 timestamp YYYY-MM-DDThh:mm:ss.sssZ, got '2026-11-01'
    """
    expected = "YYYY-MM-DDThh:mm:ss.sssZ" if form == "strict" else "an ISO-8601 date or date-time"
    message = f"modifiedAfter must be {'an ISO-8601 timestamp ' if form == 'strict' else ''}{expected}, got {text!r}"
    if form == "strict" and not _STRICT.match(text):
        raise ParamError(message)
    try:
        moment = datetime.fromisoformat(text.strip()) if text.strip() else None
    except ValueError:
        moment = None
    if moment is None:
        raise ParamError(message)
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def modified_at(record: Record) -> datetime | None:
    """The record's internal modification time (a datetime, or ISO text in a test's record)."""
    value = record.get("_modifiedAt")
    if value is None or isinstance(value, datetime):
        return value
    moment = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment


def roles_of(record: Record, today: date = TODAY) -> frozenset[str]:
    """A contact's roles: its ``_roles``, or (a record without them) the types of its active contracts.

    >>> sorted(roles_of({"contracts": [{"type": "RENTER", "endDate": None},
    ...                                {"type": "OWNER", "endDate": "2020-01-31T00:00:00.000Z"}]}))
    ['RENTER']
    """
    roles = record.get("_roles")
    if roles is not None:
        return frozenset(roles)
    return frozenset(str(k.get("type")) for k in record.get("contracts") or () if is_active(k.get("endDate"), today))


@dataclass(frozen=True)
class ListFilter:
    """What one list request selects (hashable: the simulator caches results by it).

    Attributes:
        table: ``contacts``, ``properties`` or ``units``.
        equals: ``(field, value)`` pairs on the record's own booleans (contacts).
        modified_after: keep records modified after this instant (None: no bound).
        inclusive: whether a record modified exactly at ``modified_after`` is kept.
        role: keep contacts having this role (None: any).
        include_inactive: units: serve every contract (it selects no rows).
    """

    table: str
    equals: tuple[tuple[str, bool], ...] = ()
    modified_after: datetime | None = None
    inclusive: bool = False
    role: str | None = None
    include_inactive: bool = False

    @property
    def selects_all(self) -> bool:
        """Whether every record passes (only the view may differ)."""
        return not self.equals and self.modified_after is None and self.role is None

    def matches(self, record: Record) -> bool:
        """Whether ``record`` (internal form) passes."""
        for name, value in self.equals:
            if record.get(name) is not value:
                return False
        if self.modified_after is not None:
            moment = modified_at(record)
            if moment is None or moment < self.modified_after or (moment == self.modified_after and not self.inclusive):
                return False
        return self.role is None or self.role in roles_of(record)


def parse_filter(table: str, params: Mapping[str, str], variants: Mapping[str, str]) -> ListFilter:
    """The filter of one list request: ``params`` the query string (last value of each name),
    ``variants`` the readings (``casavi.*``; a missing key is its default). Raises :class:`ParamError`."""
    if table not in FILTERS:
        raise ValueError(f"unknown casavi list {table!r}")
    names = FILTERS[table]
    bools = variants.get("casavi.bool_filters", "honoured")
    equals: list[tuple[str, bool]] = []
    for name in ("isRegistered", "isInvited"):
        if name in names and name in params and bools != "ignored":
            value = parse_bool(name, params[name])
            if value or bools == "honoured":
                equals.append((name, value))
    after = None
    if "modifiedAfter" in params:
        after = parse_modified_after(params["modifiedAfter"], variants.get("casavi.modified_format", "lenient"))
    include = False
    if "includeInactiveContracts" in names and "includeInactiveContracts" in params:
        include = parse_bool("includeInactiveContracts", params["includeInactiveContracts"])
    role = params["role"] if "role" in names and "role" in params else None
    return ListFilter(table, tuple(equals), after, variants.get("casavi.modified_after", "exclusive") == "inclusive",
                      role, include)


def select(records: Iterable[Record], flt: ListFilter) -> list[Record]:
    """The records ``flt`` keeps, in their order.

    >>> select([{"isInvited": True}, {"isInvited": False}, {}], ListFilter("contacts", (("isInvited", False),)))
    [{'isInvited': False}]
    """
    return [r for r in records if flt.matches(r)]
