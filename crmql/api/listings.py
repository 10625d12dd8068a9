"""The frames of SHOW TABLES and DESCRIBE, built from connectors' catalogs.

>>> from crmql.plan.catalog import Column, ColumnType, Table
>>> from crmql.plan.pushdown import Equality
>>> t = Table("demo", "events", (Column("name", ColumnType.STRING, filters=(Equality("eq"),)),))
>>> describe_frame(t)[["column", "type", "pushed_filters"]].to_dict("records")
[{'column': 'name', 'type': 'string', 'pushed_filters': '=, IN'}]
"""

from __future__ import annotations

from collections.abc import Iterable

import pandas as pd

from ..plan.catalog import Table
from ..plan.connector import Connector

__all__ = ["DESCRIBE_COLUMNS", "TABLES_COLUMNS", "describe_frame", "tables_frame"]

#: SHOW TABLES' columns
TABLES_COLUMNS = ["connection", "table", "vendor", "columns", "description"]
#: DESCRIBE's columns
DESCRIBE_COLUMNS = ["column", "field_id", "type", "pushed_filters", "required", "options", "description"]


def tables_frame(connectors: Iterable[Connector]) -> pd.DataFrame:
    """SHOW TABLES: one row per table of each connector (connection, table, vendor, columns, description)."""
    rows = []
    for c in connectors:
        for t in c.tables().values():
            rows.append({"connection": c.name, "table": t.name, "vendor": c.vendor,
                         "columns": len(t.columns), "description": t.description})
    return pd.DataFrame(rows, columns=TABLES_COLUMNS)


def describe_frame(table: Table) -> pd.DataFrame:
    """DESCRIBE: one row per column (column, field id, type, pushed filters, required, options, description)."""
    rows = []
    for col in table.columns:
        ops = ", ".join(dict.fromkeys(op for cap in col.filters for op in cap.describe().split(", ") if op))
        required = next((r for r in table.required if r.column == col.name), None)
        rows.append({
            "column": col.name, "field_id": col.native if col.native != col.name else "", "type": str(col.type),
            "pushed_filters": ops or "(local only)",
            "required": f"yes ({' or '.join(required.operators)})" if required else "",
            "options": ", ".join(col.options) if col.options else "",
            "description": col.description,
        })
    return pd.DataFrame(rows, columns=DESCRIBE_COLUMNS)
