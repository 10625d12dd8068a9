"""Atlas CRM's catalog: one table per entity type, its columns read from the live template.

Every built-in field keeps its field id as column name (``contact-email``); a custom field (its id
is a UUID) gets a readable name from its label (``Lead Source`` -> ``lead_source``) and the UUID as
an alias. Each field type pushes what the vendor's operator table allows (see
:func:`capabilities`); values are rendered in the documented formats.

>>> slug("Discount %"), slug("Größe"), slug("2nd Owner")
('discount', 'grosse', 'f_2nd_owner')
"""

from __future__ import annotations

import datetime as dt
import logging
import re
import unicodedata
from typing import Any

from ...plan.catalog import Column, ColumnType, FilterShape, RequiredFilter, Table
from ...errors import VendorResponseError
from ...plan.pushdown import Capability, Equality, Membership, Range, Substring
from ...language.values import to_utc
from ..rest.support import shown

__all__ = ["ENTITY_TYPES", "RESERVED", "SHAPE", "capabilities", "entity_table", "links_table", "shadow_key", "slug"]

log = logging.getLogger(__name__)

ENTITY_TYPES = {"companies": "company", "contacts": "contact", "sales": "sale"}
_UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$", re.I)
_TYPES = {
    "string": ColumnType.STRING, "text": ColumnType.STRING, "user": ColumnType.STRING,
    "single-select": ColumnType.STRING, "multi-select": ColumnType.LIST, "date": ColumnType.DATE,
    "timestamp": ColumnType.TIMESTAMP, "decimal": ColumnType.FLOAT,
}
#: crmql's own columns of every entity table: no vendor field may take their names
RESERVED = frozenset({"id", "type"})
SHAPE = FilterShape(or_groups=1000, or_same_field_op=True, unique_field_op=True, split_or=True, max_split=4)


def slug(label: str) -> str:
    """A readable column name from a field label."""
    text = label.replace("ß", "ss").replace("æ", "ae").replace("ø", "o").replace("Æ", "AE").replace("Ø", "O")
    text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    text = re.sub(r"[^a-z0-9]+", "_", text.lower()).strip("_")
    if not text:
        return "field"
    return f"f_{text}" if text[0].isdigit() else text


def shadow_key(field_id: str) -> str:
    """The key a vendor field named like one of crmql's own columns (``id``) has in a row, so it
    never replaces the entity's own value.

    >>> shadow_key("id")
    'fields.id'
    """
    return f"fields.{field_id}"


def _num(v: Any) -> str:
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    return str(v)


def _date(v: Any) -> str:
    return v.date().isoformat() if isinstance(v, dt.datetime) else v.isoformat()


def _timestamp(v: Any) -> str:
    # isoformat, not strftime: "%Y" is not zero-padded before year 1000 on glibc ("99-01-01T...")
    return to_utc(v).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _options(config: dict[str, Any]) -> tuple[str, ...] | None:
    raw = config.get("options")
    if not isinstance(raw, list):
        return None
    labels = [o.get("label") if isinstance(o, dict) else o for o in raw]
    return tuple(str(label) for label in labels if label is not None) or None


def capabilities(field_type: str, settings: dict[str, Any]) -> tuple[Capability, ...]:
    """What a field of an Atlas type can push (the documented operator table), given the connection's
    case-sensitivity settings.

    >>> [c.describe() for c in capabilities("decimal", {})]
    ['=, IN', '<, <=, >, >=, BETWEEN']
    """
    eq_cs = settings.get("eq_case_sensitive")
    contains_cs = settings.get("contains_case_sensitive")
    contains = Substring("contains", contains_cs, regex_safe=False)
    exact_eq = Equality("eq", None, case_sensitive=True, render=_num)
    return {
        "string": (Equality("eq", None, case_sensitive=eq_cs), contains),
        "text": (contains,),
        "user": (Equality("eq", None, case_sensitive=eq_cs, lowercase_ids=True),),
        "single-select": (Equality("eq", None, case_sensitive=eq_cs),),
        "multi-select": (Membership("contains"),),
        "decimal": (exact_eq, Range("gte", "lte", inclusive=True, render=_num, equality_window=False)),
        "date": (Equality("eq", None, case_sensitive=True, render=_date),
                 Range("gte", "lte", inclusive=True, widen=dt.timedelta(days=1), render=_date, equality_window=False)),
        "timestamp": (Range("gte", "lte", inclusive=None, widen=dt.timedelta(seconds=1), render=_timestamp),),
    }.get(field_type, ())


def entity_table(connection: str, name: str, template: Any, settings: dict[str, Any]) -> Table:
    """The table of one entity type from its template: ``id``, ``type``, then every field by its id
    (a custom field, whose id is a UUID, by a readable name from its label, the UUID as an alias)."""
    qualified = f"{connection}.{name}"
    request = f"GET /api/1.0/workspace/CRM/template/{ENTITY_TYPES[name]}"

    def bad(what: str) -> VendorResponseError:
        return VendorResponseError(what, vendor="Atlas CRM", table=qualified, request=request)

    if not isinstance(template, dict) or not isinstance(template.get("sections"), list):
        raise bad("the template has no 'sections' list")
    for n, section in enumerate(template["sections"], 1):
        if not isinstance(section, dict) or not isinstance(section.get("fields", []), list):
            raise bad(f"section {n} of the template is not an object with a 'fields' list")
        for f in section.get("fields", []):
            if not isinstance(f, dict) or not isinstance(f.get("id"), str) or not f["id"]:
                raise bad(f"a field of section {n} is not an object with a text 'id'")
    columns = [
        Column("id", ColumnType.STRING, "entity id (WHERE id = ... reads by id)",
               filters=(Equality("get", "get", case_sensitive=True),)),
        Column("type", ColumnType.STRING, "entity type", options=(ENTITY_TYPES[name],)),
    ]
    # column names are case-insensitive (``ID`` is ``id``): every comparison is on lower case
    taken = set(RESERVED)
    fields = [(section.get("name", ""), f) for section in template["sections"] for f in section.get("fields", [])]
    taken |= {f["id"].lower() for _, f in fields if not _UUID.match(f["id"])}
    built: set[str] = set()
    for section, f in fields:
        field_id, label, kind = f["id"], str(f.get("label") or f["id"]), str(f.get("type"))
        if field_id in built:
            log.warning("%s: the template lists field %s twice; the first one is used", qualified, shown(field_id))
            continue
        built.add(field_id)
        ctype = _TYPES.get(kind)
        if ctype is None:
            log.warning("%s.%s: field %s has unknown type %s; read as text", connection, name, shown(field_id),
                        shown(kind))
            ctype, kind = ColumnType.STRING, "unknown"
        config = f.get("config") if isinstance(f.get("config"), dict) else {}
        options = _options(config) if kind in ("single-select", "multi-select") else None
        currency = config.get("currency")
        description = f"{label} ({kind}{', ' + currency if currency else ''}; section {section})"
        if field_id.lower() in RESERVED:  # it would shadow crmql's own column: renamed, and checked locally only
            column_name = base = slug(label) if slug(label) not in RESERVED else f"{field_id.lower()}_field"
            n = 2
            while column_name in taken:
                column_name, n = f"{base}_{n}", n + 1
            taken.add(column_name)
            log.warning("%s: the vendor field %s is named like crmql's own column; it is column %s",
                        qualified, shown(field_id), column_name)
            columns.append(Column(column_name, ctype, description + f"; the vendor's field {shown(field_id)}",
                                  options=options, field=shadow_key(field_id)))
        elif _UUID.match(field_id):
            column_name = base = slug(label)
            n = 2
            while column_name in taken:
                column_name, n = f"{base}_{n}", n + 1
            taken.add(column_name)
            columns.append(Column(column_name, ctype, description, filters=capabilities(kind, settings),
                                  options=options, field=field_id, aliases=(field_id,)))
        else:
            columns.append(Column(field_id, ctype, description, filters=capabilities(kind, settings), options=options))
    return Table(connection, name, tuple(columns), f"Atlas CRM {ENTITY_TYPES[name]} entities", shape=SHAPE)


def links_table(connection: str) -> Table:
    """``links``: an entity's links to others, read per entity id (which the query must give)."""
    columns = (
        Column("entity_id", ColumnType.STRING, "the entity whose links are read (required)",
               filters=(Equality("path", "path", case_sensitive=True),)),
        Column("other_entity_id", ColumnType.STRING, "the linked entity"),
        Column("other_type", ColumnType.STRING, "company, contact or sale",
               filters=(Equality("type", None, case_sensitive=True),), options=tuple(ENTITY_TYPES.values())),
        Column("roles", ColumnType.LIST, "roles of the link"),
    )
    required = (RequiredFilter("entity_id", ("=", "IN"),
                               f"SELECT * FROM {connection}.links WHERE entity_id = '<company, contact or sale id>'"),)
    return Table(connection, "links", columns, "links between entities, per entity id", required=required, shape=SHAPE)
