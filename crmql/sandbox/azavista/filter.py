"""Azavista filter trees: field types, operator table, variants, validation, evaluation.

See :mod:`crmql.sandbox.azavista.simulator` for the documented semantics and the
reading of the undocumented parts implemented here.
"""

from __future__ import annotations

import json
import logging
import re
from datetime import datetime
from functools import lru_cache
from typing import Any, Callable, Mapping

from .spec import SIMULATOR

logger = logging.getLogger(__name__)

Record = dict[str, Any]
Predicate = Callable[[Record], bool]

#: Field types per table (used for operator and value validation).
FIELDS: dict[str, dict[str, str]] = {
    "events": {
        "id": "id", "created_at": "datetime", "updated_at": "datetime", "name": "string",
        "event_type": "string", "status": "string", "start": "datetime", "end": "datetime",
        "timezone": "string", "is_virtual": "boolean", "venue_name": "string", "city": "string",
        "country": "string", "capacity": "integer", "registered_count": "integer",
        "price": "number", "currency": "string", "language": "string",
        "organizer_email": "string", "external_reference": "string",
    },
    "organizations": {
        "id": "id", "external_id": "string", "created_at": "datetime", "updated_at": "datetime",
        "name": "string", "external_reference": "string", "industry": "string",
        "country": "string", "city": "string", "website": "string", "employee_count": "integer",
    },
    "contacts": {
        "id": "id", "external_id": "string", "created_at": "datetime", "updated_at": "datetime",
        "first_name": "string", "last_name": "string", "email": "string",
        "organization_manager": "boolean", "organization_id": "id", "job_title": "string",
        "phone": "string", "country": "string", "city": "string", "language": "string",
        "external_reference": "string",
    },
}

#: Operators allowed per field type (our reading of the undocumented operator table).
OPERATORS: dict[str, tuple[str, ...]] = {
    "string": ("eq", "like", "in"),
    "id": ("eq", "in"),
    "datetime": ("after", "before"),
    "integer": ("eq", "in"),
    "number": ("eq", "in"),
    "boolean": ("eq",),
}
ALL_OPERATORS: frozenset[str] = frozenset(op for ops in OPERATORS.values() for op in ops)

#: Semantic switches for undocumented behaviour: key -> allowed values (first = default),
#: declared with their meaning and doc source in :mod:`crmql.sandbox.azavista.spec`.
VARIANTS: dict[str, tuple[str, ...]] = SIMULATOR.variant_values()

_GROUP_KEYS = ("and", "or")
_DATETIME_RE = re.compile(
    r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:?\d{2})$"
)


class FilterError(ValueError):
    """An invalid filter; the message is returned to the client in a 400 body."""


def canonical(tree: Any) -> str:
    """Canonical JSON of a filter tree (for cache keys)."""
    return json.dumps(tree, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def parse_instant(text: str) -> datetime | None:
    """Parse an ISO-8601 datetime that carries an offset or Z; None if it does not."""
    if not isinstance(text, str) or not _DATETIME_RE.match(text):
        return None
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        return None
    return value if value.tzinfo is not None else None


@lru_cache(maxsize=131_072)
def _record_instant(text: Any) -> datetime | None:
    """Cached :func:`parse_instant` for record values (they repeat across requests)."""
    return parse_instant(text)


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


_VALUE_CHECKS: dict[str, tuple[Callable[[Any], bool], str]] = {
    "string": (lambda v: isinstance(v, str), "a string"),
    "id": (lambda v: isinstance(v, str), "a string id"),
    "integer": (_is_number, "a number"),
    "number": (_is_number, "a number"),
    "boolean": (lambda v: isinstance(v, bool), "a boolean"),
}


def _check_value(field: str, ftype: str, op: str, value: Any, where: str) -> None:
    if op in ("after", "before"):
        if parse_instant(value) is None:
            raise FilterError(
                f"Invalid value for '{field}' {op} in {where}: expected an ISO-8601 datetime "
                f"with a UTC offset or Z, e.g. '2024-03-13T00:00:00+01:00', got {json.dumps(value)}"
            )
        return
    check, wanted = _VALUE_CHECKS[ftype]
    if op == "in":
        if not isinstance(value, list) or not value:
            raise FilterError(f"Invalid value for '{field}' in in {where}: expected a non-empty array")
        for item in value:
            if not check(item):
                raise FilterError(
                    f"Invalid value in '{field}' in list in {where}: expected {wanted}, "
                    f"got {json.dumps(item)}"
                )
        return
    if not check(value):
        raise FilterError(
            f"Invalid value for '{field}' {op} in {where}: expected {wanted}, got {json.dumps(value)}"
        )


def _make_predicate(field: str, ftype: str, op: str, value: Any,
                    variants: Mapping[str, str], where: str) -> Predicate:
    text = ftype in ("string", "id")
    if op == "like":
        if variants["azavista.like_mode"] == "regex":
            flags = re.IGNORECASE if variants["azavista.like_case"] == "insensitive" else 0
            try:
                pattern = re.compile(value, flags)
            except re.error as exc:
                raise FilterError(f"Invalid regular expression for '{field}' like in {where}: {exc}")
            return lambda r: isinstance(v := r.get(field), str) and pattern.search(v) is not None
        if variants["azavista.like_case"] == "insensitive":
            needle = value.casefold()
            return lambda r: isinstance(v := r.get(field), str) and needle in v.casefold()
        return lambda r: isinstance(v := r.get(field), str) and value in v
    if op in ("after", "before"):
        bound = parse_instant(value)
        inclusive = variants["azavista.range"] == "inclusive"

        def compare(record: Record) -> bool:
            raw = record.get(field)
            instant = _record_instant(raw) if isinstance(raw, str) else None
            if instant is None:
                return False
            if op == "after":
                return instant >= bound if inclusive else instant > bound  # type: ignore[operator]
            return instant <= bound if inclusive else instant < bound  # type: ignore[operator]

        return compare
    fold = text and variants["azavista.eq_case"] == "insensitive"
    if op == "eq":
        if fold:
            target = value.casefold()
            return lambda r: isinstance(v := r.get(field), str) and v.casefold() == target
        if ftype == "boolean":
            return lambda r: r.get(field) is value
        if text:
            return lambda r: r.get(field) == value
        return lambda r: _is_number(v := r.get(field)) and v == value
    # op == "in"
    if fold:
        folded = frozenset(item.casefold() for item in value)
        return lambda r: isinstance(v := r.get(field), str) and v.casefold() in folded
    if text:
        members = frozenset(value)
        return lambda r: isinstance(v := r.get(field), str) and v in members
    numbers = frozenset(value)
    return lambda r: _is_number(v := r.get(field)) and v in numbers


def _compile_condition(table: str, cond: Any, variants: Mapping[str, str], where: str) -> Predicate:
    if not isinstance(cond, dict) or len(cond) != 1:
        raise FilterError(
            f"Invalid condition in {where}: each condition must be an object with exactly one "
            f"field, e.g. {{\"name\": {{\"like\": \"workshop\"}}}}"
        )
    (field, spec), = cond.items()
    if field in _GROUP_KEYS:
        raise FilterError(f"Invalid condition in {where}: nested filter groups are not supported")
    fields = FIELDS[table]
    if field not in fields:
        raise FilterError(f"Unknown field '{field}' in {where}")
    ftype = fields[field]
    if isinstance(spec, dict):
        if any(key in _GROUP_KEYS for key in spec):
            raise FilterError(f"Invalid condition on '{field}' in {where}: nested filter groups are not supported")
        if len(spec) != 1:
            raise FilterError(
                f"Invalid condition on '{field}' in {where}: expected exactly one operator, got {len(spec)}"
            )
        (op, value), = spec.items()
    elif isinstance(spec, (list, type(None))):
        raise FilterError(
            f"Invalid condition on '{field}' in {where}: expected a scalar value or an "
            f"{{\"<operator>\": <value>}} object"
        )
    else:
        op, value = "eq", spec
    if op not in ALL_OPERATORS:
        raise FilterError(f"Unknown operator '{op}' on field '{field}' in {where}")
    allowed = OPERATORS[ftype]
    if op not in allowed:
        raise FilterError(
            f"Operator '{op}' is not supported for field '{field}' of type {ftype} in {where}; "
            f"allowed: {', '.join(allowed)}"
        )
    _check_value(field, ftype, op, value, where)
    return _make_predicate(field, ftype, op, value, variants, where)


def _compile_group(table: str, tree: dict[str, Any], key: str,
                   variants: Mapping[str, str], where: str) -> list[Predicate]:
    group = tree.get(key)
    if group is None:
        return []
    if not isinstance(group, list):
        raise FilterError(f"Invalid '{key}' in {where}: expected an array of conditions")
    return [_compile_condition(table, cond, variants, where) for cond in group]


def compile_filter(table: str, tree: Any, variants: Mapping[str, str], where: str) -> Predicate:
    """Validate ``tree`` for ``table`` and return a record predicate.

    ``variants`` must map every key of :data:`VARIANTS` to a value; ``where`` is
    the request key (e.g. ``event_filter``) used in error messages.  Raises
    :class:`FilterError` for anything the simulator rejects.
    """
    if tree is None:
        tree = {}
    if not isinstance(tree, dict):
        raise FilterError(f"Invalid {where}: expected an object with 'and' and/or 'or'")
    for key in tree:
        if key not in _GROUP_KEYS:
            raise FilterError(f"Unknown key '{key}' in {where}: only 'and' and 'or' are allowed")
    all_of = _compile_group(table, tree, "and", variants, where)
    any_of = _compile_group(table, tree, "or", variants, where)

    def predicate(record: Record) -> bool:
        for test in all_of:
            if not test(record):
                return False
        if not any_of:
            return True
        return any(test(record) for test in any_of)

    return predicate
