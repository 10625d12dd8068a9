"""Tables, columns and types, as connectors declare them.

A connector describes each table as a :class:`Table` of :class:`Column` s. Each column carries
the native filter capabilities the vendor offers for it (see :mod:`crmql.plan.columns` and
:mod:`crmql.plan.pushdown`); the planner
reads nothing else about a vendor.

>>> t = Table("azavista", "events", (Column("name", ColumnType.STRING),))
>>> t.column("NAME").name
'name'

A table whose columns are partly the vendor's data (casavi's custom fields, named by managers)
declares the known ones and an ``extend`` callable that returns the complete table: the binder
calls it only when a statement needs it (a column it does not know, ``SELECT *``), and DESCRIBE
lists :meth:`Table.complete`; a statement naming only declared columns costs no request.

>>> calls = []
>>> def whole():
...     calls.append(1)
...     return Table("casavi", "contacts", (Column("id", ColumnType.STRING), Column("Newsletter", ColumnType.BOOLEAN)))
>>> lazy = Table("casavi", "contacts", (Column("id", ColumnType.STRING),), extend=whole)
>>> lazy.column("id") is not None, calls
(True, [])
>>> [c.name for c in lazy.complete().columns], calls
(['id', 'Newsletter'], [1])
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace

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
    #: the complete table (these columns and those found in the vendor's data), built on demand:
    #: may send a request, so only a statement that needs a column not declared here calls it
    extend: Callable[[], Table] | None = field(default=None, compare=False, repr=False)
    #: the hint of an "unknown column" error when set (how the vendor's dynamic columns are found
    #: and how to declare one), after a "did you mean" if there is one
    unknown_hint: str | None = None

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
            raise QueryError(f"unknown column '{name}' in {self.qualified}",
                             hint=self.missing_hint(did_you_mean(name, [c.name for c in self.columns])))
        return col

    def missing_hint(self, suggestion: str | None) -> str:
        """The hint of an unknown column: ``suggestion`` ("did you mean ...?") and :attr:`unknown_hint`,
        else how to list the columns.

        >>> Table("c", "t", (), unknown_hint="custom fields come from the first page").missing_hint("did you mean x?")
        'did you mean x?; custom fields come from the first page'
        >>> Table("c", "t", ()).missing_hint(None)
        'DESCRIBE c.t lists its columns'
        """
        if self.unknown_hint:
            return f"{suggestion}; {self.unknown_hint}" if suggestion else self.unknown_hint
        return suggestion or f"DESCRIBE {self.qualified} lists its columns"

    @property
    def extensible(self) -> bool:
        """Whether :meth:`complete` may add columns (an ``extend`` not yet applied)."""
        return self.extend is not None

    def complete(self) -> Table:
        """The table with every column, declared and found (``extend``, called here: it may send a
        request); the table itself when it has no ``extend``. The result extends no further and
        keeps this table's :attr:`unknown_hint` unless it has its own."""
        if self.extend is None:
            return self
        whole = self.extend()
        if whole.extend is None and (whole.unknown_hint or not self.unknown_hint):
            return whole
        return replace(whole, extend=None, unknown_hint=whole.unknown_hint or self.unknown_hint)

    @property
    def column_names(self) -> Sequence[str]:
        return [c.name for c in self.columns]
