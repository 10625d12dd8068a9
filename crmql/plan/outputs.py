"""The select list's output columns, as ORDER BY / GROUP BY / HAVING refer to them: by position
(``ORDER BY 2``) and by name (``ORDER BY x``), where a name two output columns share is ambiguous
(as in PostgreSQL: ``ORDER BY "x" is ambiguous``). Used by :mod:`crmql.plan.bind`.

>>> names = OutputNames()
>>> names.add("x"); names.add(None, 3); names.add("x")
>>> print(names.ambiguous("x", "ORDER BY").message)
ORDER BY x is ambiguous: output columns 1 and 5 are both named x
>>> names.ambiguous("y", "ORDER BY") is None
True
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ..language import ast
from ..errors import QueryError

__all__ = ["AGGREGATES", "OutputNames", "is_position", "output_exprs", "position"]

#: the aggregate functions (re-exported as crmql.plan.bind.AGGREGATES)
AGGREGATES = {"count", "sum", "avg", "min", "max"}


class OutputNames:
    """Each output column name with its 1-based positions in the select list (``*`` expanded)."""

    def __init__(self) -> None:
        self.positions: dict[str, list[int]] = {}
        self.count = 0

    def add(self, name: str | None, width: int = 1) -> None:
        """Record the next ``width`` output columns (``name``: the one column's alias or column name)."""
        if name is not None:
            self.positions.setdefault(name, []).append(self.count + 1)
        self.count += width

    def ambiguous(self, name: str, clause: str) -> QueryError | None:
        """The error for ``name`` in ``clause`` when two or more output columns have it, else None."""
        found = self.positions.get(name, [])
        if len(found) < 2:
            return None
        return QueryError(f"{clause} {name} is ambiguous: output columns {', '.join(map(str, found[:-1]))} and "
                          f"{found[-1]} are both named {name}",
                          hint="give each output column its own alias, or write the expression itself")


def is_position(e: ast.Expr) -> bool:
    """``ORDER BY 2``: a whole number written as the item (not a parameter, not an expression).

    >>> is_position(ast.Literal(2, "integer")), is_position(ast.Literal("2", "string"))
    (True, False)
    """
    return e.__class__ is ast.Literal and e.kind == "integer"


def output_exprs(scope: list[tuple[ast.TableRef, Any]], qualified: Callable[..., ast.Column],
                 items: list[Any]) -> list[ast.Expr]:
    """The select list's output columns in order (``*`` and ``t.*`` expanded over ``scope``, each
    column bound by ``qualified(column, ref, catalog_column)``), as bound expressions."""
    out: list[ast.Expr] = []
    for item in items:
        if isinstance(item, ast.Star):
            for ref, table in scope:
                if item.qualifier is None or ref.ref_name.lower() == item.qualifier.lower():
                    out.extend(qualified(ast.Column(c.name), ref, c) for c in table.columns)
        else:
            out.append(item.expr)
    return out


def position(at: Callable[[QueryError, ast.Node | None], QueryError], e: ast.Literal, outputs: list[ast.Expr],
             clause: str) -> ast.Expr:
    """The select-list column at position ``e`` (1-based) for GROUP BY / ORDER BY, or an error
    located by ``at``."""
    n = e.value
    if not 1 <= n <= len(outputs):
        raise at(QueryError(f"{clause} {n} is not a position in the select list ({len(outputs)} column"
                            f"{'s' if len(outputs) != 1 else ''})",
                            hint=f"write a position from 1 to {len(outputs)}, or the column itself"), e)
    expr = outputs[n - 1]
    if clause == "GROUP BY" and any(isinstance(x, ast.Func) and x.name in AGGREGATES for x in ast.walk(expr)):
        raise at(QueryError(f"GROUP BY {n} refers to an aggregate", hint="group by the other columns"), e)
    return expr
