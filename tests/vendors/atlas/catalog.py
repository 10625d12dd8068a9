"""Atlas CRM's catalog as the differential strategies see it: every column of the entity tables
(built-in and custom fields, by readable name and UUID) with its template field type, and each
column's distinct values in the seeded data."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from crmql.connectors.registry import create_connector
from crmql.plan.catalog import ColumnType
from crmql.sandbox import records
from crmql.sandbox.atlas.template import build_templates

from vendors.atlas.pushdown import ENTITY_TYPES


# ---- the catalog and the data the trees are drawn from ------------------------------------------

@dataclass(frozen=True)
class Col:
    name: str  # crmql column name
    field: str  # Atlas field id ("id", "type", a built-in slug or a custom UUID)
    kind: str  # template field type, or "id" / "type"
    type: ColumnType
    options: tuple[str, ...] | None


def _catalog() -> dict[str, list[Col]]:
    connector = create_connector("atlas", "atlas", {"base_url": "http://unused", "client_id": "x", "client_secret": "y"})
    templates = build_templates(42)
    out: dict[str, list[Col]] = {}
    for name, etype in ENTITY_TYPES.items():
        kinds = templates[etype].field_types()
        table = connector._entity_table(name, templates[etype].to_json())
        out[name] = [Col(c.name, c.native, kinds.get(c.native, c.name), c.type, c.options) for c in table.columns]
    return out


CATALOG = _catalog()
SORTABLE = {t: [c for c in cols if c.kind in ("decimal", "date")] for t, cols in CATALOG.items()}


@dataclass(frozen=True)
class ColumnData:
    col: Col
    values: tuple[Any, ...]  # distinct non-NULL raw values (lists: distinct labels)
    nulls: int


_DATA: dict[str, list[ColumnData]] = {}


def raw_value(record: dict[str, Any], col: Col) -> Any:
    return record.get(col.field) if col.field in ("id", "type") else record["fields"].get(col.field)


def column_data(table: str) -> list[ColumnData]:
    if table not in _DATA:
        rows = records("atlas", table, 42)
        out = []
        for col in CATALOG[table]:
            present = [raw_value(r, col) for r in rows if raw_value(r, col) is not None]
            if col.kind == "multi-select":
                values = tuple(sorted({label for v in present for label in v}))
            else:
                values = tuple(sorted(set(present), key=lambda v: (str(type(v)), v)))
            out.append(ColumnData(col, values, len(rows) - len(present)))
        _DATA[table] = out
    return _DATA[table]
