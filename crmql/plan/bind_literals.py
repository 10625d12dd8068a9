"""Literal typing inside the binder: the binder's half of :mod:`crmql.plan.coerce` (which types
one literal); this mixin decides which expression each literal meets, from the columns bound so far.

>>> from crmql.plan.catalog import Column, ColumnType
>>> class B(LiteralTyping):
...     def column_of(self, col):
...         return Column("capacity", ColumnType.INTEGER)
>>> e = B()._coerce(ast.Compare("=", ast.Column("capacity", "t"), ast.Literal("12", "string")))
>>> e.right.value, e.right.kind
(12, 'integer')
"""

from __future__ import annotations

from typing import Any

from ..language import ast
from .catalog import Column
from .coerce import as_column, column_kind, expr_kind, text_as

__all__ = ["LiteralTyping"]


class LiteralTyping:
    """``_coerce`` for a binder that has ``column_of(column) -> Column | None``."""

    def column_of(self, col: ast.Column) -> Column | None:
        raise NotImplementedError

    def _coerce(self, e: ast.Expr) -> ast.Expr:
        """Literals take the type of what they meet (a typed column; for text parameters, also a
        typed expression or literal): see :mod:`crmql.plan.coerce`. The node is rebuilt only when a
        literal changed."""
        cls = e.__class__
        if cls is ast.Compare:
            if e.right.__class__ is ast.Literal:
                right = self._meet(e.right, e.left)
                if right is not e.right:
                    e = ast.replace(e, right=right)
            if e.left.__class__ is ast.Literal:
                left = self._meet(e.left, e.right)
                if left is not e.left:
                    e = ast.replace(e, left=left)
            return e
        if cls is ast.InList:
            operand = e.operand
            if operand.__class__ is ast.Literal:  # '2025-03-01' IN (start, "end"), :n IN (1, 2)
                ref = self._reference(e.items)
                operand = self._meet(operand, ref) if ref is not None else operand
            items = tuple(self._meet(i, operand) if i.__class__ is ast.Literal else i for i in e.items)
            if operand is e.operand and all(a is b for a, b in zip(items, e.items)):
                return e
            return ast.replace(e, operand=operand, items=items)
        if cls is ast.Between:  # every literal takes the type of the first typed part, wherever it is
            ref = self._reference((e.operand, e.low, e.high))
            if ref is None:
                return e
            parts = [self._meet(p, ref) if p.__class__ is ast.Literal else p for p in (e.operand, e.low, e.high)]
            if parts[0] is e.operand and parts[1] is e.low and parts[2] is e.high:
                return e
            return ast.replace(e, operand=parts[0], low=parts[1], high=parts[2])
        if cls is ast.Binary and e.op != "||":
            for side, other in (("left", e.right), ("right", e.left)):
                lit = getattr(e, side)
                if lit.__class__ is ast.Literal and lit.from_text is not None:
                    kind = _ARITHMETIC.get(expr_kind(other, self.column_of), "number")
                    e = ast.replace(e, **{side: text_as(lit, kind, f"in {e.op} arithmetic")})
            return e
        if cls is ast.Unary and e.operand.__class__ is ast.Literal:
            operand = text_as(e.operand, "number", "negated")
            return e if operand is e.operand else ast.replace(e, operand=operand)
        return e

    def _reference(self, parts: Any) -> ast.Expr | None:
        """The part whose type literals among ``parts`` take: the first known column, else the
        first part of a known kind that is not a text parameter."""
        for p in parts:
            if p.__class__ is ast.Column and self.column_of(p) is not None:
                return p
        for p in parts:
            if expr_kind(p, self.column_of) is not None:
                return p
        return None

    def _meet(self, lit: ast.Literal, other: ast.Expr) -> ast.Literal:
        """``lit`` in the type of ``other``, the expression it meets."""
        if other.__class__ is ast.Column:
            column = self.column_of(other)
            if column is None:
                return lit
            if lit.from_text is not None:
                lit = text_as(lit, column_kind(column), f"{column.name} is {column.type.value}")
            return as_column(lit, column)
        if lit.from_text is not None:
            return text_as(lit, expr_kind(other, self.column_of))
        return lit


#: the type a text parameter takes in arithmetic with a value of each kind
_ARITHMETIC = {"number": "number", "interval": "timestamp", "timestamp": "interval", "date": "interval"}
