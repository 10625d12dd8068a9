"""Tables, columns and types, as connectors declare them.

A connector describes each table as a :class:`Table` of :class:`Column` s. Each column carries
the native filter capabilities the vendor offers for it (see :mod:`crmql.plan.columns` and
:mod:`crmql.plan.pushdown`); the planner
reads nothing else about a vendor.

>>> t = Table("azavista", "events", (Column("name", ColumnType.STRING),))
>>> t.column("NAME").name
'name'
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from ..errors import QueryError, did_you_mean
from .columns import Column, ColumnType

__all__ = ["Column", "ColumnType", "FilterShape", "RequiredFilter", "Table"]


@dataclass(frozen=True)
class RequiredFilter:
    """A filter a table cannot be read without (e.g. casavi tickets need community_id = n)."""

    column: str
    operators: tuple[str, ...] = ("=",)
    example: str = ""


@dataclass(frozen=True)
class FilterShape:
    """What boolean structure one native request can carry.

    ``or_groups``: how many OR groups (each a flat list of single conditions) a request takes next to
    its AND list (Azavista: one). ``or_same_field_op``: an OR is only expressible as one field and
    operator repeated (Atlas). ``split_or``: an OR the request cannot carry may be split into one
    request per branch, unioned and de-duplicated by key. ``unique_field_op``: the same field and
    operator twice in one request would mean OR, so a second one stays local.
    """

    or_groups: int = 0
    or_same_field_op: bool = False
    split_or: bool = False
    #: a field+operator may appear once per request (Atlas reads a repeat as OR)
    unique_field_op: bool = False
    #: at most this many requests for one split OR
    max_split: int = 4


@dataclass(frozen=True)
class Table:
    """A queryable table ``connection.name``."""

    connection: str
    name: str
    columns: tuple[Column, ...]
    description: str = ""
    key: str = "id"
    required: tuple[RequiredFilter, ...] = ()
    shape: FilterShape = field(default_factory=FilterShape)

    @property
    def qualified(self) -> str:
        return f"{self.connection}.{self.name}"

    def column(self, name: str) -> Column | None:
        """Find a column: exact name first, then a unique case-insensitive match."""
        for col in self.columns:
            if col.name == name or name in col.aliases:
                return col
        folded = [c for c in self.columns if c.name.lower() == name.lower()
                  or any(a.lower() == name.lower() for a in c.aliases)]
        return folded[0] if len(folded) == 1 else None

    def require_column(self, name: str, *, quoted_hint: bool = False) -> Column:
        col = self.column(name)
        if col is None:
            hint = did_you_mean(name, [c.name for c in self.columns])
            if hint is None:
                hint = f"DESCRIBE {self.qualified} lists its columns"
            raise QueryError(f"unknown column '{name}' in {self.qualified}", hint=hint)
        return col

    @property
    def column_names(self) -> Sequence[str]:
        return [c.name for c in self.columns]
