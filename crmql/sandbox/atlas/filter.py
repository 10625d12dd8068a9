"""Atlas CRM list queries: operator table, variants, value validation, predicates, sorting.

A list request's query string is parsed by :func:`parse_query` into an
:class:`AtlasQuery` (type, filter groups, sort field, page size, cursor);
:func:`compile_filters` turns its groups into an entity predicate and
:func:`sort_key` gives the documented ordering.  See :mod:`crmql.sandbox.atlas.simulator`
for the documented behaviour and our reading of the undocumented parts.
"""

from __future__ import annotations

import json
import logging
import math
import re
from dataclasses import dataclass, field
from datetime import date, datetime, timezone
from functools import lru_cache
from typing import Any, Callable, Mapping, Sequence

from .spec import SIMULATOR

logger = logging.getLogger(__name__)

Entity = dict[str, Any]
Predicate = Callable[[Entity], bool]

#: Entity types of the API (``type`` parameter and path values).
ENTITY_TYPES: tuple[str, ...] = ("company", "contact", "sale")

#: Field types of Atlas templates.
FIELD_TYPES: tuple[str, ...] = (
    "string", "text", "date", "timestamp", "decimal", "user", "single-select", "multi-select",
)

#: Documented operator table: field type -> allowed operators (first = default operator).
OPERATORS: dict[str, tuple[str, ...]] = {
    "string": ("eq", "contains"),
    "text": ("contains",),
    "date": ("eq", "gte", "lte"),
    "timestamp": ("eq", "gte", "lte"),
    "decimal": ("eq", "gte", "lte"),
    "user": ("eq",),
    "single-select": ("eq",),
    "multi-select": ("contains",),
}
#: Default operator per field type (used for ``fields.<id>=<value>``).
DEFAULT_OPERATOR: dict[str, str] = {ftype: ops[0] for ftype, ops in OPERATORS.items()}
#: Every operator the API knows.
ALL_OPERATORS: tuple[str, ...] = ("eq", "contains", "gte", "lte")

#: Semantic switches for undocumented behaviour: key -> allowed values (first = default),
#: declared with their meaning and doc source in :mod:`crmql.sandbox.atlas.spec`.
VARIANTS: dict[str, tuple[str, ...]] = SIMULATOR.variant_values()

DEFAULT_LIMIT = 20
MAX_LIMIT = 100

_DATE_RE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_TIMESTAMP_RE = re.compile(
    r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|z|[+-]\d{2}:?\d{2})?$"
)
_NUMBER_RE = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$")
_FILTER_KEY_RE = re.compile(r"^fields\.([^\[\]]+)(?:\[([^\[\]]*)\])?$")


class QueryError(ValueError):
    """An invalid list request; the message is returned in a 400 ``{"message": ...}`` body."""


# ------------------------------------------------------------------ values
def parse_date(text: Any) -> date | None:
    """Parse ``yyyy-mm-dd``; None if ``text`` is not such a (valid) date."""
    if not isinstance(text, str) or not _DATE_RE.match(text):
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        return None


def parse_timestamp(text: Any) -> datetime | None:
    """Parse an ISO-8601 date-time (offset or Z; without one it is taken as UTC); None if invalid."""
    if not isinstance(text, str) or not _TIMESTAMP_RE.match(text):
        return None
    try:
        value = datetime.fromisoformat(text[:-1] + "+00:00" if text[-1] in "Zz" else text)
    except ValueError:
        return None
    return value if value.tzinfo is not None else value.replace(tzinfo=timezone.utc)


@lru_cache(maxsize=131_072)
def stored_instant(text: str) -> datetime | None:
    """Cached :func:`parse_timestamp` for stored values (they repeat across requests)."""
    return parse_timestamp(text)


def parse_number(text: Any) -> float | None:
    """Parse a finite decimal number given as text; None if it is not one."""
    if not isinstance(text, str) or not _NUMBER_RE.match(text.strip()):
        return None
    value = float(text)
    return value if math.isfinite(value) else None


def is_number(value: Any) -> bool:
    """True for a JSON number (not a boolean)."""
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def check_filter_value(field_id: str, ftype: str, value: str) -> None:
    """Raise :class:`QueryError` if a filter value has the wrong format for ``ftype``."""
    if ftype == "date" and parse_date(value) is None:
        raise QueryError(f"Invalid value for field '{field_id}' (date): expected yyyy-mm-dd, "
                         f"got {json.dumps(value, ensure_ascii=False)}")
    if ftype == "timestamp" and parse_timestamp(value) is None:
        raise QueryError(f"Invalid value for field '{field_id}' (timestamp): expected an ISO-8601 "
                         f"date-time, e.g. 2024-03-01T09:30:00Z, got {json.dumps(value, ensure_ascii=False)}")
    if ftype == "decimal" and parse_number(value) is None:
        raise QueryError(f"Invalid value for field '{field_id}' (decimal): expected a number, "
                         f"got {json.dumps(value, ensure_ascii=False)}")


# ------------------------------------------------------------------ query
@dataclass
class AtlasQuery:
    """A parsed list request.

    Attributes:
        entity_type: the ``type`` parameter (None when absent).
        filters: ``(field_id, operator) -> [values]`` in first-seen order; values of one
            key are OR-ed, keys are AND-ed.
        sort_by: the ``sort-by`` field id (None: default order).
        limit: the page size parameter as sent (None when absent).
        cursor: the ``cursor`` parameter (None when absent).
        pairs: every query parameter as ``(name, value)``, decoded, in order.
    """

    entity_type: str | None = None
    filters: dict[tuple[str, str | None], list[str]] = field(default_factory=dict)
    sort_by: str | None = None
    limit: str | None = None
    cursor: str | None = None
    pairs: list[tuple[str, str]] = field(default_factory=list)


def parse_query(pairs: Sequence[tuple[str, str]]) -> AtlasQuery:
    """Split decoded query pairs into an :class:`AtlasQuery` (no template validation yet).

    The operator of ``fields.<id>=v`` is recorded as None (the field type's default);
    unknown parameters are ignored, as the API ignores them.
    """
    query = AtlasQuery(pairs=list(pairs))
    for name, value in pairs:
        if name == "type":
            query.entity_type = value
        elif name == "sort-by":
            query.sort_by = value
        elif name == "limit":
            query.limit = value
        elif name == "cursor":
            query.cursor = value
        elif name.startswith("fields."):
            match = _FILTER_KEY_RE.match(name)
            if match is None:
                raise QueryError(f"Malformed filter parameter '{name}': expected "
                                 f"fields.FIELD_ID or fields.FIELD_ID[OPERATOR]")
            field_id, op = match.group(1), match.group(2)
            query.filters.setdefault((field_id, op), []).append(value)
    return query


def check_entity_type(value: str | None, required: bool = True) -> str | None:
    """Validate a ``type`` value; raise :class:`QueryError` when missing (if required) or unknown."""
    if value is None:
        if required:
            raise QueryError("Query parameter 'type' is required (company, contact or sale)")
        return None
    if value not in ENTITY_TYPES:
        raise QueryError(f"Unknown entity type '{value}' (expected company, contact or sale)")
    return value


def page_size(query: AtlasQuery, variants: Mapping[str, str]) -> int:
    """The page size of a request (400 for a bad ``limit``; ignored under ``page_param=ignored``)."""
    if variants["atlas.page_param"] == "ignored" or query.limit is None:
        return DEFAULT_LIMIT
    text = query.limit.strip()
    if not re.fullmatch(r"[+-]?\d+", text) or not 1 <= int(text) <= MAX_LIMIT:
        raise QueryError(f"limit must be between 1 and {MAX_LIMIT}")
    return int(text)


def resolve_filters(query: AtlasQuery, entity_type: str,
                    field_types: Mapping[str, str]) -> dict[tuple[str, str], tuple[str, ...]]:
    """Validate the filters against a template and return ``(field, op) -> values`` with
    default operators made explicit (so ``fields.x=a&fields.x[eq]=b`` is one OR group).
    """
    groups: dict[tuple[str, str], list[str]] = {}
    for (field_id, op), values in query.filters.items():
        ftype = field_types.get(field_id)
        if ftype is None:
            raise QueryError(f"Unknown field '{field_id}' for entity type '{entity_type}'")
        if op is None or op == "":
            op = DEFAULT_OPERATOR[ftype]
        elif op not in ALL_OPERATORS:
            raise QueryError(f"Unknown operator '{op}' on field '{field_id}' "
                             f"(operators: {', '.join(ALL_OPERATORS)})")
        elif op not in OPERATORS[ftype]:
            raise QueryError(f"Operator '{op}' is not allowed on field '{field_id}' ({ftype}); "
                             f"allowed: {', '.join(OPERATORS[ftype])}")
        for value in values:
            check_filter_value(field_id, ftype, value)
        groups.setdefault((field_id, op), []).extend(values)
    return {key: tuple(values) for key, values in groups.items()}


def check_sort(query: AtlasQuery, entity_type: str, field_types: Mapping[str, str]) -> str | None:
    """Validate ``sort-by``; return the field id or None for the default order."""
    if query.sort_by is None:
        return None
    if query.sort_by not in field_types:
        raise QueryError(f"Unknown sort field '{query.sort_by}' for entity type '{entity_type}'")
    return query.sort_by


# ------------------------------------------------------------- predicates
def _condition(field_id: str, ftype: str, op: str, value: str,
               variants: Mapping[str, str]) -> Callable[[Any], bool]:
    """Test of one stored (present) value against one filter value."""
    if op == "contains":
        sensitive = variants["atlas.contains_case"] == "sensitive"
        needle = value if sensitive else value.casefold()
        if ftype == "multi-select":
            if variants["atlas.multi_contains"] == "label":
                return lambda v: isinstance(v, list) and value in v
            if sensitive:
                return lambda v: isinstance(v, list) and any(needle in label for label in v)
            return lambda v: isinstance(v, list) and any(needle in label.casefold() for label in v)
        if sensitive:
            return lambda v: isinstance(v, str) and needle in v
        return lambda v: isinstance(v, str) and needle in v.casefold()
    if ftype in ("string", "user", "single-select"):  # eq
        if variants["atlas.eq_case"] == "insensitive":
            target = value.casefold()
            return lambda v: isinstance(v, str) and v.casefold() == target
        return lambda v: v == value
    if ftype == "date":
        bound_date = value  # validated yyyy-mm-dd: string order is date order
        if op == "eq":
            return lambda v: isinstance(v, str) and v == bound_date
        if op == "gte":
            return lambda v: isinstance(v, str) and v >= bound_date
        return lambda v: isinstance(v, str) and v <= bound_date
    if ftype == "timestamp":
        bound = parse_timestamp(value)

        def instant(v: Any) -> datetime | None:
            return stored_instant(v) if isinstance(v, str) else None

        if op == "eq":
            return lambda v: (i := instant(v)) is not None and i == bound
        if op == "gte":
            return lambda v: (i := instant(v)) is not None and i >= bound  # type: ignore[operator]
        return lambda v: (i := instant(v)) is not None and i <= bound  # type: ignore[operator]
    if ftype == "decimal":
        number = parse_number(value)
        if op == "eq":
            return lambda v: is_number(v) and v == number
        if op == "gte":
            return lambda v: is_number(v) and v >= number  # type: ignore[operator]
        return lambda v: is_number(v) and v <= number  # type: ignore[operator]
    raise QueryError(f"Operator '{op}' is not allowed on field '{field_id}' ({ftype})")


def compile_filters(groups: Mapping[tuple[str, str], Sequence[str]], field_types: Mapping[str, str],
                    variants: Mapping[str, str]) -> Predicate:
    """Entity predicate: every ``(field, op)`` group holds (AND), a group holds when any of its
    values matches (OR).  An entity without the field never matches.
    """
    compiled: list[tuple[str, list[Callable[[Any], bool]]]] = []
    for (field_id, op), values in groups.items():
        ftype = field_types[field_id]
        compiled.append((field_id, [_condition(field_id, ftype, op, v, variants) for v in values]))

    def predicate(entity: Entity) -> bool:
        fields = entity["fields"]
        for field_id, tests in compiled:
            stored = fields.get(field_id)
            if stored is None:
                return False
            for test in tests:
                if test(stored):
                    break
            else:
                return False
        return True

    return predicate


# ---------------------------------------------------------------- sorting
def _value_key(ftype: str, value: Any) -> Any:
    if ftype == "decimal":
        return float(value) if is_number(value) else math.inf
    if ftype == "timestamp":
        instant = stored_instant(value) if isinstance(value, str) else None
        return instant.timestamp() if instant is not None else math.inf
    if ftype == "multi-select":
        return tuple(value) if isinstance(value, list) else ()
    return value if isinstance(value, str) else str(value)


def sort_key(field_id: str, ftype: str, nulls: str) -> Callable[[Entity], tuple[Any, ...]]:
    """Sort key: by the field's value (strings by code point, decimals numerically, dates as
    dates, timestamps as instants, multi-selects by their label list), ties by id, entities
    lacking the field last (``nulls="last"``) or first.
    """
    missing_rank = 1 if nulls == "last" else -1

    def key(entity: Entity) -> tuple[Any, ...]:
        value = entity["fields"].get(field_id)
        if value is None:
            return (missing_rank, 0, entity["id"])
        return (0, _value_key(ftype, value), entity["id"])

    return key
