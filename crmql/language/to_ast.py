"""Parser callbacks: the rules of grammar/crmql.lark -> :mod:`crmql.language.ast` nodes.

The LALR parser applies :class:`ToAst` inline, so no parse tree is ever built. Every token is kept
(``keep_all_tokens``), which gives each node a span from its first child to its last; keyword and
punctuation tokens are then dropped and names become ``str``.

>>> from crmql.language.parser import parse
>>> parse("SELECT a FROM x.y WHERE a = 1").where.span
Span(start=24, end=29, line=1, column=25)
"""

from __future__ import annotations

import math
import threading
from typing import Any, NamedTuple

from lark import Token, Transformer

from . import ast
from ..errors import QuerySyntaxError
from .syntax_errors import syntax_error
from .values import parse_date, parse_interval, parse_timestamp

__all__ = ["ToAst", "source"]

#: the text being parsed in this thread (for select-item text and literal error messages)
source = threading.local()


class _TableName(NamedTuple):
    """``conn.table`` with its position (a table reference's span starts here)."""

    connection: str
    table: str
    span: ast.Span


def _span(token: Token) -> ast.Span:
    return ast.Span(token.start_pos, token.end_pos, token.line, token.column)


def _children_span(children: list[Any]) -> ast.Span | None:
    """From the first positioned child to the last (tokens are all kept; clause tuples have no position)."""
    for first in children:
        if first.__class__ is Token:
            start, line, column = first.start_pos, first.line, first.column
            break
        span = getattr(first, "span", None)
        if span is not None:
            start, end, line, column = span
            break
    else:
        return None
    for last in reversed(children):
        if last.__class__ is Token:
            end = last.end_pos
            break
        span = getattr(last, "span", None)
        if span is not None:
            end = span.end
            break
    return ast.Span(start, end, line, column)


def _ident(token: Token) -> str:
    if token.type == "QUOTED_NAME":
        return token.value[1:-1].replace('""', '"')
    return token.value


def _function_name(token: Token) -> str:
    """``lower``, ``LEFT`` -> lower case; a quoted name is taken as written (``"left"``)."""
    return _ident(token) if token.type == "QUOTED_NAME" else token.value.lower()


def _tokens(children: list[Any], *types: str) -> list[Token]:
    return [c for c in children if isinstance(c, Token) and c.type in types]


class ToAst(Transformer):
    """Parser callbacks -> crmql.language.ast nodes. Keyword and punctuation tokens are dropped; names become str.

    Applied inline by the LALR parser (each rule method gets the rule's children: tokens are all
    kept, so a node's span runs from its first child to its last).
    """

    @property
    def text(self) -> str:
        return getattr(source, "text", None) or ""

    def _bad_literal(self, token: Token, message: str) -> QuerySyntaxError:
        return syntax_error(self.text, (message, None), token.line, token.column)

    # ---- statements
    def start(self, children):
        return children[0]

    def explain(self, children):
        span = _children_span(children)
        return ast.Explain(children[-1], analyze=bool(_tokens(children, "ANALYZE")), span=span)

    def show_tables(self, children):
        span = _children_span(children)
        names = [c for c in children if isinstance(c, Token) and c.type in ("NAME", "QUOTED_NAME")]
        return ast.ShowTables(_ident(names[0]) if names else None, span=span)

    def describe(self, children):
        span = _children_span(children)
        conn, table, name_span = children[-1]
        return ast.Describe(ast.TableRef(conn, table, span=name_span), span=span)

    def copy(self, children):
        span = _children_span(children)
        query = next(c for c in children if isinstance(c, ast.Select))
        path = _tokens(children, "STRING")[0].value[1:-1].replace("''", "'")
        options = tuple(c for c in children if isinstance(c, tuple))
        return ast.Copy(query, path, options, span=span)

    def copy_option(self, children):
        if len(children) == 1:  # a flag: OVERWRITE
            return (_ident(children[0]).lower(), True)
        name, value = children
        option = _ident(name).lower()
        if isinstance(value, Token):
            if option == "partition_by":  # PARTITION_BY city: one name, kept with its position
                return (option, ast.Names((_ident(value),), (_span(value),), span=_span(value)))
            value = _ident(value)
        elif isinstance(value, ast.Literal):
            value = value.value
        return (option, value)

    def name_list(self, children):
        names = [c for c in children if isinstance(c, Token) and c.type in ("NAME", "QUOTED_NAME")]
        return ast.Names(tuple(_ident(n) for n in names), tuple(_span(n) for n in names),
                         span=_children_span(children))

    # ---- query
    def query(self, children):
        span = _children_span(children)
        parts: dict[str, Any] = {"joins": []}
        for child in children:
            kind, value = child
            if kind == "join":
                parts["joins"].append(value)
            else:
                parts[kind] = value
        distinct, items = parts["select"]
        return ast.Select(
            items=items,
            table=parts["from"],
            distinct=distinct,
            joins=tuple(parts["joins"]),
            where=parts.get("where"),
            group_by=parts.get("group", ()),
            having=parts.get("having"),
            order_by=parts.get("order", ()),
            limit=parts.get("limit"),
            offset=parts.get("offset"),
            span=span,
        )

    def select_clause(self, children):
        distinct = bool(_tokens(children, "DISTINCT"))
        items = tuple(c for c in children if not isinstance(c, Token))
        return ("select", (distinct, items))

    def star(self, children):
        span = _children_span(children)
        return ast.Star(span=span)

    def qualified_star(self, children):
        span = _children_span(children)
        return ast.Star(_ident(children[0]), span=span)

    def select_expr(self, children):
        span = _children_span(children)
        expr = children[0]
        names = [c for c in children[1:] if isinstance(c, Token) and c.type in ("NAME", "QUOTED_NAME")]
        alias = _ident(names[-1]) if names else None
        expr_span = getattr(expr, "span", None) or span
        text = self.text[expr_span.start:expr_span.end] if expr_span else None
        return ast.SelectItem(expr, alias, text=text, span=span)

    def from_clause(self, children):
        return ("from", children[-1])

    def table_ref(self, children):
        span = _children_span(children)
        (conn, table, _), *rest = [c for c in children if not (isinstance(c, Token) and c.type == "AS")]
        alias = _ident(rest[0]) if rest else None
        return ast.TableRef(conn, table, alias, span=span)

    def table_name(self, children):
        first, second = _tokens(children, "NAME", "QUOTED_NAME")
        return _TableName(_ident(first), _ident(second), ast.Span(first.start_pos, second.end_pos, first.line, first.column))

    def join_clause(self, children):
        span = _children_span(children)
        kind, table, on = [c for c in children if not (isinstance(c, Token) and c.type in ("JOIN", "ON"))]
        return ("join", ast.Join(kind, table, on, span=span))

    def inner_join(self, children):
        return "inner"

    def left_join(self, children):
        return "left"

    def where_clause(self, children):
        return ("where", children[-1])

    def group_clause(self, children):
        return ("group", tuple(c for c in children if not isinstance(c, Token) or c.type in ("NAME", "QUOTED_NAME")))

    def having_clause(self, children):
        return ("having", children[-1])

    def order_clause(self, children):
        return ("order", tuple(c for c in children if isinstance(c, ast.OrderItem)))

    def order_item(self, children):
        span = _children_span(children)
        return ast.OrderItem(children[0], descending=bool(_tokens(children, "DESC")), span=span)

    def limit_clause(self, children):
        return ("limit", children[-1])

    def offset_clause(self, children):
        return ("offset", children[-1])

    # ---- expressions
    # a chain a AND b AND c arrives as one flat list: operand, keyword, operand, ...
    def expr(self, children):  # OR
        return ast.Or(tuple(children[::2]), span=_children_span(children))

    def and_expr(self, children):
        return ast.And(tuple(children[::2]), span=_children_span(children))

    def not_(self, children):
        span = _children_span(children)
        return ast.Not(children[-1], span=span)

    def comparison(self, children):
        span = _children_span(children)
        left, op, right = children
        return ast.Compare("!=" if op.value == "<>" else op.value, left, right, span=span)

    def like(self, children):
        span = _children_span(children)
        return self._like(span, children, ci=False)

    def ilike(self, children):
        span = _children_span(children)
        return self._like(span, children, ci=True)

    def _like(self, span, children, ci: bool):
        negated = bool(_tokens(children, "NOT"))
        left, right = [c for c in children if not isinstance(c, Token)]
        return ast.Like(left, right, negated=negated, case_insensitive=ci, span=span)

    def in_list(self, children):
        span = _children_span(children)
        negated = bool(_tokens(children, "NOT"))
        operand, *items = [c for c in children if not isinstance(c, Token)]
        return ast.InList(operand, tuple(items), negated=negated, span=span)

    def in_param(self, children):
        span = _children_span(children)
        negated = bool(_tokens(children, "NOT"))
        operand = children[0]
        param = _tokens(children, "PARAM")[0]
        return ast.InList(operand, (ast.Param(param.value[1:], span=_span(param)),), negated=negated, span=span)

    def between(self, children):
        span = _children_span(children)
        negated = bool(_tokens(children, "NOT"))
        operand, low, high = [c for c in children if not isinstance(c, Token)]
        return ast.Between(operand, low, high, negated=negated, span=span)

    def is_null(self, children):
        span = _children_span(children)
        return ast.IsNull(children[0], negated=bool(_tokens(children, "NOT")), span=span)

    def binary(self, children):
        span = _children_span(children)
        left, op, right = children
        return ast.Binary(op.value, left, right, span=span)

    def negate(self, children):
        span = _children_span(children)
        operand = children[-1]
        if isinstance(operand, ast.Literal) and operand.kind in ("integer", "float"):
            return ast.Literal(-operand.value, operand.kind, span=span)
        return ast.Unary("-", operand, span=span)

    def paren(self, children):
        span = _children_span(children)
        inner = children[1]
        return ast.replace(inner, span=span) if isinstance(inner, ast.Node) else inner

    def param(self, children):
        span = _span(children[0])  # one token
        return ast.Param(children[0].value[1:], span=span)

    def column(self, children):  # ident | ident "." ident
        if len(children) == 1:
            return ast.Column(_ident(children[0]), span=_span(children[0]))
        return ast.Column(_ident(children[2]), _ident(children[0]), span=_children_span(children))

    def call(self, children):
        span = _children_span(children)
        name = _function_name(children[0])
        distinct = bool(_tokens(children, "DISTINCT"))
        args = tuple(c for c in children[1:] if not isinstance(c, Token) or c.type in ("NAME", "QUOTED_NAME"))
        return ast.Func(name, args, distinct=distinct, span=span)

    def call_star(self, children):
        span = _children_span(children)
        return ast.Func(_function_name(children[0]), (), star=True, span=span)


    # ---- literals
    def string(self, children):
        span = _span(children[0])  # one token
        token = children[0]
        return ast.Literal(token.value[1:-1].replace("''", "'"), "string", span=span)

    def integer(self, children):
        span = _span(children[0])  # one token
        return ast.Literal(int(children[0].value), "integer", span=span)

    def decimal(self, children):
        span = _span(children[0])  # one token
        value = float(children[0].value)
        if not math.isfinite(value):
            raise self._bad_literal(children[0], f"number {children[0].value} is out of range")
        return ast.Literal(value, "float", span=span)

    def true(self, children):
        span = _span(children[0])  # one token
        return ast.Literal(True, "boolean", span=span)

    def false(self, children):
        span = _span(children[0])  # one token
        return ast.Literal(False, "boolean", span=span)

    def null(self, children):
        span = _span(children[0])  # one token
        return ast.Literal(None, "null", span=span)

    def _typed(self, span, children, kind: str, convert):
        token = children[-1]
        raw = token.value[1:-1].replace("''", "'")
        try:
            value = convert(raw)
        except ValueError as e:
            raise self._bad_literal(token, f"invalid {kind.upper()} literal '{raw}': {e}") from None
        except OverflowError:  # e.g. 9999-12-31 23:00-05:00 is past year 9999 in UTC
            raise self._bad_literal(token, f"invalid {kind.upper()} literal '{raw}': out of range") from None
        return ast.Literal(value, kind, span=span)

    def date(self, children):
        span = _children_span(children)
        return self._typed(span, children, "date", parse_date)

    def timestamp(self, children):
        span = _children_span(children)
        return self._typed(span, children, "timestamp", parse_timestamp)

    def interval(self, children):
        span = _children_span(children)
        return self._typed(span, children, "interval", parse_interval)
