"""The crmql abstract syntax tree: frozen dataclasses with source spans.

No ``lark.Tree`` ever leaves :mod:`crmql.language.parser`; every later pass (binding, normalization,
planning, local SQL) works on these nodes. Spans do not take part in equality, so two trees
that differ only in where they came from compare equal.

>>> Compare("=", Column("name"), Literal("x", "string")) == Compare("=", Column("name"), Literal("x", "string"))
True
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields, is_dataclass
from typing import Any, NamedTuple, Union

__all__ = [
    "And", "Between", "Binary", "Column", "Compare", "Copy", "Describe", "Explain", "Expr", "Func",
    "InList", "IsNull", "Join", "Like", "Literal", "Names", "Node", "Not", "Or", "OrderItem", "Param", "Select",
    "SelectItem", "ShowTables", "Span", "Star", "Statement", "TableRef", "Unary", "child_fields", "replace", "walk",
]


class Span(NamedTuple):
    """Where a node came from: 0-based character offsets and 1-based line/column (a tuple: the
    parser makes one per node, and a NamedTuple is several times cheaper than a frozen dataclass)."""

    start: int
    end: int
    line: int
    column: int


def _span() -> Any:
    return field(default=None, compare=False, repr=False, kw_only=True)


@dataclass(frozen=True)
class Node:
    span: Span | None = _span()


# ---- expressions --------------------------------------------------------------------------------

@dataclass(frozen=True)
class Literal(Node):
    """A constant. ``kind`` is one of string, integer, float, boolean, null, date, timestamp, interval."""

    value: Any
    kind: str
    #: the parameter's name when its value was given as text (``crmql --param n=499``): the binder
    #: gives it the type of what it meets (a column, a number, an interval); None for everything else
    from_text: str | None = field(default=None, compare=False, repr=False, kw_only=True)


@dataclass(frozen=True)
class Param(Node):
    """``:name``, replaced by a Literal when the statement is bound."""

    name: str


@dataclass(frozen=True)
class Column(Node):
    """A column reference; ``qualifier`` is a table alias (or table name) when written ``e.name``."""

    name: str
    qualifier: str | None = None


@dataclass(frozen=True)
class Star(Node):
    """``*`` or ``alias.*`` in a select list."""

    qualifier: str | None = None


@dataclass(frozen=True)
class Func(Node):
    """A function call. ``name`` is lower case; ``star`` is ``COUNT(*)``."""

    name: str
    args: tuple[Expr, ...] = ()
    distinct: bool = False
    star: bool = False


@dataclass(frozen=True)
class Unary(Node):
    op: str
    operand: Expr


@dataclass(frozen=True)
class Binary(Node):
    """Arithmetic and concatenation: ``+ - * / % ||``."""

    op: str
    left: Expr
    right: Expr


@dataclass(frozen=True)
class Compare(Node):
    """``= != < <= > >=`` (``<>`` is read as ``!=``)."""

    op: str
    left: Expr
    right: Expr


@dataclass(frozen=True)
class And(Node):
    items: tuple[Expr, ...]


@dataclass(frozen=True)
class Or(Node):
    items: tuple[Expr, ...]


@dataclass(frozen=True)
class Not(Node):
    item: Expr


@dataclass(frozen=True)
class Like(Node):
    operand: Expr
    pattern: Expr
    negated: bool = False
    case_insensitive: bool = False


@dataclass(frozen=True)
class InList(Node):
    operand: Expr
    items: tuple[Expr, ...]
    negated: bool = False


@dataclass(frozen=True)
class Between(Node):
    operand: Expr
    low: Expr
    high: Expr
    negated: bool = False


@dataclass(frozen=True)
class IsNull(Node):
    operand: Expr
    negated: bool = False


Expr = Union[Literal, Param, Column, Star, Func, Unary, Binary, Compare, And, Or, Not, Like, InList, Between, IsNull]


# ---- statements ---------------------------------------------------------------------------------

@dataclass(frozen=True)
class SelectItem(Node):
    expr: Expr
    alias: str | None = None
    #: the text the user wrote, used to name an unaliased output column
    text: str | None = None


@dataclass(frozen=True)
class TableRef(Node):
    connection: str
    table: str
    alias: str | None = None

    @property
    def qualified(self) -> str:
        return f"{self.connection}.{self.table}"

    @property
    def ref_name(self) -> str:
        """The name columns are qualified with: the alias, else the table name."""
        return self.alias or self.table


@dataclass(frozen=True)
class Join(Node):
    kind: str  # "inner" | "left"
    table: TableRef
    on: Expr


@dataclass(frozen=True)
class OrderItem(Node):
    expr: Expr
    descending: bool = False


@dataclass(frozen=True)
class Select(Node):
    items: tuple[SelectItem | Star, ...]
    table: TableRef
    distinct: bool = False
    joins: tuple[Join, ...] = ()
    where: Expr | None = None
    group_by: tuple[Expr, ...] = ()
    having: Expr | None = None
    order_by: tuple[OrderItem, ...] = ()
    limit: Expr | None = None
    offset: Expr | None = None

    @property
    def bare(self) -> bool:
        """Only a select list over one table: no WHERE, JOIN, GROUP BY, HAVING, ORDER BY, LIMIT,
        OFFSET or DISTINCT (every row of the table is read, in the vendor's order)."""
        return (self.where is None and not self.joins and not self.group_by and self.having is None
                and not self.order_by and self.limit is None and self.offset is None and not self.distinct)


@dataclass(frozen=True)
class Explain(Node):
    query: Select
    analyze: bool = False


@dataclass(frozen=True)
class ShowTables(Node):
    connection: str | None = None


@dataclass(frozen=True)
class Describe(Node):
    table: TableRef


@dataclass(frozen=True)
class Names(Node):
    """A parenthesized list of names as a COPY option's value: ``PARTITION_BY (year, city)``, each
    name's position in ``spans`` (a wrong name is pointed at)."""

    names: tuple[str, ...]
    spans: tuple[Span | None, ...] = field(default=(), compare=False, repr=False)


@dataclass(frozen=True)
class Copy(Node):
    """``COPY (query) TO 'path' WITH (name value, ...)``: an option given without a value
    (``OVERWRITE``) is ``True``; a list of names (``PARTITION_BY (a, b)``) is :class:`Names`."""

    query: Select
    path: str
    options: tuple[tuple[str, Any], ...] = ()


Statement = Union[Select, Explain, ShowTables, Describe, Copy]

_CHILD_FIELDS = ("operand", "pattern", "left", "right", "item", "low", "high", "expr", "on")
_LIST_FIELDS = ("items", "args")
_walk_fields: dict[type, tuple[tuple[str, ...], tuple[str, ...]]] = {}


_field_names: dict[type, tuple[str, ...]] = {}


def replace(node: Any, **changes: Any) -> Any:
    """A copy of ``node`` with some fields changed (``dataclasses.replace``, several times faster:
    the planner rebuilds nodes on hot paths).

    >>> replace(Column("a", "t"), qualifier="u")
    Column(name='a', qualifier='u')
    """
    cls = node.__class__
    names = _field_names.get(cls)
    if names is None:
        names = _field_names[cls] = tuple(f.name for f in fields(cls))
    values = {name: getattr(node, name) for name in names}
    values.update(changes)
    return cls(**values)


def child_fields(cls: type) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """The fields of a node class that hold one child node, and those that hold a tuple of them.

    >>> child_fields(Between)
    (('operand', 'low', 'high'), ())
    """
    return _walk_fields.get(cls) or _fields_of(cls)


def _fields_of(cls: type) -> tuple[tuple[str, ...], tuple[str, ...]]:
    names = {f.name for f in fields(cls)} if is_dataclass(cls) else set()
    found = (tuple(n for n in _CHILD_FIELDS if n in names), tuple(n for n in _LIST_FIELDS if n in names))
    _walk_fields[cls] = found
    return found


def walk(node: Any):
    """Yield ``node`` and every expression below it, depth first.

    >>> [type(n).__name__ for n in walk(Not(Column("a")))]
    ['Not', 'Column']
    """
    stack = [node]
    pop = stack.pop
    while stack:
        node = pop()
        yield node
        single, lists = _walk_fields.get(node.__class__) or _fields_of(node.__class__)
        below: list[Any] = []
        for name in single:
            child = getattr(node, name)
            if isinstance(child, Node):
                below.append(child)
        for name in lists:
            children = getattr(node, name)
            if isinstance(children, tuple):
                below.extend(c for c in children if isinstance(c, Node))
        if below:
            below.reverse()  # the stack pops the first child first
            stack.extend(below)
