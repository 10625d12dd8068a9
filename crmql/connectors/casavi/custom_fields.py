"""casavi custom fields: discovered from a sample page, named, typed, and converted row by row.

casavi's records carry ``customFields``, an object of values named by the property managers
("Newsletter": true, "Baujahr": 1972, "Wohnfläche": 85.1, "Geburtsdatum": "1961-04-02"). The
docs show them only by example (the import model's ``"Email2"``, ``"Anschrift"``; the read model's
``85.1``): there is no schema endpoint, so crmql learns them from ONE sample request (the first
page of the unfiltered list, at the biggest page size), only when a statement needs them, and the
connection's ``custom_fields`` setting declares what the sample misses or types it otherwise::

    [connections.casavi]
    custom_fields = { contacts = { "Sonderkündigungsrecht" = "boolean" } }

The rules (the lead's contract for issue #11):

* **Naming**: a column per custom field, named as the manager named it; a name a declared column
  already has (in any case) becomes ``<name> (custom)``; a field with no name (``""`` or blanks,
  which casavi does not forbid) becomes :data:`UNNAMED` (its data kept, under a name one can
  write, rather than a column named ``""`` that pandas shows as ``v25``).
* **Typing** from the sampled values: booleans BOOLEAN, integers INTEGER, numbers FLOAT (integers
  and decimals together: FLOAT), ISO dates DATE, ISO date-times TIMESTAMP, anything else or a mix
  STRING; the setting overrides. An integer beyond 64 bits (no SQL INTEGER holds it) types its
  field STRING (its digits, exact); dates mixed with date-times are a mix: STRING.
* **Values**: each row's value converted to its column's type; a value that does not fit is a
  :class:`~crmql.errors.VendorResponseError` naming the table, the field, what it holds and the
  setting that fixes it, never a silent NULL: an integer beyond 64 bits in an INTEGER column, and
  a date-time in a DATE column (its day depends on the time zone: ``2026-03-01T23:30:00-05:00`` is
  03-02 in UTC), unless it is midnight UTC (how casavi writes a date: ``...T00:00:00.000Z``).
  Only the columns a statement reads are converted (the binder hands the scan a table with only
  those dynamic columns, :mod:`crmql.plan.bind`): a bad value in a field the statement never
  uses fails nothing. Custom fields are filtered locally only.

>>> infer_type([True, None, False]), infer_type([1, 2.5]), infer_type(["1961-04-02"]), infer_type([1, "x"])
(<ColumnType.BOOLEAN: 'boolean'>, <ColumnType.FLOAT: 'float'>, <ColumnType.DATE: 'date'>, <ColumnType.STRING: 'string'>)
>>> custom_columns([{"customFields": {"city": "x", "Baujahr": 1972}}], {"city"}, {})
[('Baujahr', 'Baujahr', <ColumnType.INTEGER: 'integer'>), ('city (custom)', 'city', <ColumnType.STRING: 'string'>)]
>>> convert("1961-04-02", ColumnType.DATE, table="casavi.contacts", name="Geburtsdatum")
datetime.date(1961, 4, 2)
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import math
import re
from collections.abc import Iterable, Mapping
from typing import Any

from ...errors import ConfigError, VendorResponseError
from ...plan.catalog import ColumnType

__all__ = ["FIELD_PREFIX", "HINT", "TYPE_NAMES", "UNNAMED", "convert", "custom_columns", "declared_types", "describe",
           "infer_type"]

log = logging.getLogger(__name__)

S, I, F, B, D, T = (ColumnType.STRING, ColumnType.INTEGER, ColumnType.FLOAT, ColumnType.BOOLEAN, ColumnType.DATE,
                    ColumnType.TIMESTAMP)

#: a custom column's field id (what DESCRIBE shows, the key its value is put under in a row)
FIELD_PREFIX = "customFields."
#: the tables whose records carry customFields
TABLES = ("contacts", "properties", "units")
#: the type names the ``custom_fields`` setting takes
TYPE_NAMES: dict[str, ColumnType] = {
    "string": S, "text": S, "boolean": B, "bool": B, "integer": I, "int": I, "float": F, "number": F,
    "date": D, "timestamp": T,
}
#: the hint of an unknown column on a table with custom fields
HINT = ('custom fields are discovered from the first page of the list; declare one it misses in the connection\'s '
        'config, e.g. custom_fields = {contacts = {"Sonderkündigungsrecht" = "boolean"}}')

#: the column of a custom field whose name is empty (or blanks)
UNNAMED = "(unnamed custom field)"
INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1

_DATE = re.compile(r"\d{4}-\d{2}-\d{2}\Z")
_TIME = re.compile(r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:?\d{2})?\Z")


def _kind(value: Any) -> ColumnType:
    """The type one sampled value suggests."""
    if isinstance(value, bool):
        return B
    if isinstance(value, int):
        return I if INT64_MIN <= value <= INT64_MAX else S
    if isinstance(value, float):
        return F
    if isinstance(value, str):
        if _DATE.match(value) and _date(value) is not None:
            return D
        if _TIME.match(value) and _time(value) is not None:
            return T
    return S


def infer_type(values: Iterable[Any]) -> ColumnType:
    """The column type of one custom field from its sampled values (None: no vote; none at all:
    STRING).

    >>> infer_type([None]), infer_type(["2026-03-01T09:30:00.000Z", None]), infer_type(["2026-03-01", "2026-03-01T09:30:00Z"])
    (<ColumnType.STRING: 'string'>, <ColumnType.TIMESTAMP: 'timestamp'>, <ColumnType.STRING: 'string'>)
    >>> infer_type([1, 2**70]), infer_type([2**63 - 1])
    (<ColumnType.STRING: 'string'>, <ColumnType.INTEGER: 'integer'>)
    """
    kinds = {_kind(v) for v in values if v is not None}
    if kinds == {I, F}:
        return F
    return kinds.pop() if len(kinds) == 1 else S


def declared_types(settings: Mapping[str, Any], table: str) -> dict[str, ColumnType]:
    """The ``custom_fields`` setting's types for ``table`` (name -> type); a table or type name it
    does not know is a :class:`ConfigError` saying what it takes.

    >>> declared_types({"custom_fields": {"contacts": {"Newsletter": "Boolean"}}}, "contacts")
    {'Newsletter': <ColumnType.BOOLEAN: 'boolean'>}
    >>> declared_types({"custom_fields": {"contact": {}}}, "contacts")
    Traceback (most recent call last):
    crmql.errors.ConfigError: custom_fields: casavi has no table 'contact' with custom fields (contacts, properties, units)
      hint: e.g. custom_fields = {contacts = {"Sonderkündigungsrecht" = "boolean"}}
    """
    raw = settings.get("custom_fields") or {}
    example = 'e.g. custom_fields = {contacts = {"Sonderkündigungsrecht" = "boolean"}}'
    if not isinstance(raw, Mapping):
        raise ConfigError("custom_fields must be a table of tables", hint=example)
    for name, fields in raw.items():
        if name not in TABLES:
            raise ConfigError(f"custom_fields: casavi has no table {name!r} with custom fields ({', '.join(TABLES)})",
                              hint=example)
        if not isinstance(fields, Mapping):
            raise ConfigError(f"custom_fields.{name} must be a table of field name = type name", hint=example)
    out = {}
    for field, type_name in (raw.get(table) or {}).items():
        column_type = TYPE_NAMES.get(str(type_name).strip().lower())
        if column_type is None:
            raise ConfigError(f"custom_fields.{table}: {field!r} has type {type_name!r}, not one of "
                              f"{', '.join(TYPE_NAMES)}", hint=example)
        out[str(field)] = column_type
    return out


def custom_columns(sample: list[dict[str, Any]], declared: set[str],
                   types: Mapping[str, ColumnType]) -> list[tuple[str, str, ColumnType]]:
    """``(column name, custom field name, type)`` for every custom field of the sampled records
    and of ``types`` (the setting, which wins), sorted by name; ``declared``: the table's own
    column names (a clash gets `` (custom)``; a field with no name is :data:`UNNAMED`).

    >>> custom_columns([{"customFields": {"": "x", "(unnamed custom field)": 1}}], set(), {})[0]
    ('(unnamed custom field)', '', <ColumnType.STRING: 'string'>)
    """
    values: dict[str, list[Any]] = {}
    for record in sample:
        fields = record.get("customFields")
        if isinstance(fields, dict):
            for name, value in fields.items():
                values.setdefault(str(name), []).append(value)
    for name in types:
        values.setdefault(name, [])
    taken = {d.casefold() for d in declared}
    out = []
    for name in sorted(values, key=lambda n: (n.casefold(), n)):
        column = name if name.strip() else UNNAMED
        while column.casefold() in taken:
            column = f"{column} (custom)"
        taken.add(column.casefold())
        out.append((column, name, types.get(name) or infer_type(values[name])))
    return out


def describe(field: str) -> str:
    """A custom column's description.

    >>> describe("Baujahr"), describe("")
    ("custom field 'Baujahr'", "custom field '' (it has no name)")
    """
    return f"custom field {field!r}" + ("" if field.strip() else " (it has no name)")


def _date(text: str) -> dt.date | None:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        return None


def _time(text: str) -> dt.datetime | None:
    try:
        value = dt.datetime.fromisoformat(text.replace("Z", "+00:00") if text.endswith("Z") else text)
    except ValueError:
        return None
    return value.replace(tzinfo=dt.timezone.utc) if value.tzinfo is None else value.astimezone(dt.timezone.utc)


def _fit(value: Any, column_type: ColumnType) -> Any:
    """``value`` as ``column_type``, or a ValueError."""
    if column_type is S:
        if isinstance(value, str):
            return value
        if isinstance(value, bool):
            return "true" if value else "false"
        if isinstance(value, (dict, list)):
            return json.dumps(value, ensure_ascii=False)
        if isinstance(value, float) and value.is_integer():
            return str(int(value))
        return str(value)
    if column_type is B and isinstance(value, bool):
        return value
    if column_type is I and isinstance(value, (int, float)) and not isinstance(value, bool):
        if isinstance(value, int) or (math.isfinite(value) and value.is_integer()):
            if INT64_MIN <= int(value) <= INT64_MAX:  # beyond: no SQL INTEGER holds it
                return int(value)
    if column_type is F and isinstance(value, (int, float)) and not isinstance(value, bool) \
            and math.isfinite(value):
        return float(value)
    if column_type is D and isinstance(value, str):
        if _DATE.match(value) and (day := _date(value)) is not None:
            return day
        moment = _time(value) if _TIME.match(value) else None
        if moment is not None and moment.time() == dt.time(0):  # midnight UTC: casavi's way to write a date
            return moment.date()
    if column_type is T and isinstance(value, str):
        if _DATE.match(value) and (day := _date(value)) is not None:
            return dt.datetime(day.year, day.month, day.day, tzinfo=dt.timezone.utc)
        if _TIME.match(value) and (moment := _time(value)) is not None:
            return moment
    raise ValueError(column_type.value)


def convert(value: Any, column_type: ColumnType, *, table: str, name: str, vendor: str = "casavi") -> Any:
    """One custom field's value as its column's type (None stays None); one that does not fit is
    a VendorResponseError naming the table, the field and the setting.

    >>> convert(85, ColumnType.FLOAT, table="casavi.properties", name="Wohnfläche")
    85.0
    >>> convert("ja", ColumnType.BOOLEAN, table="casavi.contacts", name="Newsletter")
    Traceback (most recent call last):
    crmql.errors.VendorResponseError: casavi (casavi.contacts): malformed response: custom field 'Newsletter' holds a string ('ja'), which is no boolean (the type crmql gave its column)
      hint: declare its type in the connection's config: custom_fields = {contacts = {"Newsletter" = "string"}}
    """
    if value is None:
        return None
    try:
        return _fit(value, column_type)
    except (ValueError, OverflowError):  # OverflowError: an integer beyond a float's range
        pass
    shown = repr(value) if len(repr(value)) <= 40 else repr(value)[:37] + "..."
    kind = {bool: "a boolean", int: "an integer", float: "a number", str: "a string", dict: "an object",
            list: "a list"}.get(type(value), f"a {type(value).__name__}")
    short = table.rsplit(".", 1)[-1]
    raise VendorResponseError(
        f"custom field {name!r} holds {kind} ({shown}), which is no {column_type.value} (the type crmql gave its "
        "column)", vendor=vendor, table=table,
        hint=f"declare its type in the connection's config: custom_fields = {{{short} = {{{json.dumps(name, ensure_ascii=False)} "
             '= "string"}}')
