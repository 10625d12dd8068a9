"""A column and what it can push: the vocabulary both the catalog and the capabilities share.

:class:`Column` carries its native filter :class:`Capability` s; a capability turns one simple
predicate on a column into a :class:`Pushed` (native conditions, exact or superset). The concrete
capabilities live in :mod:`crmql.plan.pushdown`, tables in :mod:`crmql.plan.catalog`: both import
this module, neither imports the other.

>>> col = Column("name", ColumnType.STRING, field="Name")
>>> col.native, col.pushable
('Name', False)
"""

from __future__ import annotations

import enum
from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import Any

from ..language import ast

__all__ = ["Capability", "Column", "ColumnType", "NativeCond", "Pushed"]


class ColumnType(str, enum.Enum):
    """The types crmql columns have; each maps to one DuckDB / Arrow type."""

    STRING = "string"
    INTEGER = "integer"
    FLOAT = "float"
    BOOLEAN = "boolean"
    TIMESTAMP = "timestamp"
    DATE = "date"
    LIST = "list"  # list of strings (multi-select)

    def __str__(self) -> str:
        return self.value


@dataclass(frozen=True)
class NativeCond:
    """One native condition: ``field op value`` in the vendor's own words and value format."""

    field: str
    op: str
    value: Any


@dataclass(frozen=True)
class Pushed:
    """Native conditions (ANDed) that select a superset of a predicate's rows; exact if equal."""

    conds: tuple[NativeCond, ...]
    exact: bool
    note: str = ""


class Capability(ABC):
    """What one column can push. Subclasses are small, declarative and vendor-neutral."""

    #: SQL operators this capability can take, for DESCRIBE
    sql_ops: tuple[str, ...] = ()

    @abstractmethod
    def push(self, pred: ast.Expr, column: Column) -> Pushed | str:
        """Translate a simple predicate on ``column``, or return why it cannot be pushed."""

    def describe(self) -> str:
        return ", ".join(self.sql_ops)


@dataclass(frozen=True)
class Column:
    """One column of a table.

    ``field`` is the vendor's field id when it differs from the column name (Atlas custom fields);
    ``options`` is a closed vocabulary (enum / single-select labels) when the vendor has one;
    ``filters`` are the native filter capabilities, tried in order.
    """

    name: str
    type: ColumnType
    description: str = ""
    filters: tuple[Capability, ...] = ()
    options: tuple[str, ...] | None = None
    field: str | None = None
    #: other names that resolve to this column (an Atlas custom field's UUID field id)
    aliases: tuple[str, ...] = ()

    @property
    def native(self) -> str:
        return self.field or self.name

    @property
    def pushable(self) -> bool:
        return bool(self.filters)
