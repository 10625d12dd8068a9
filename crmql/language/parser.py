"""Text -> AST. Loads the Lark grammar once and maps Lark's errors to :class:`QuerySyntaxError`.

>>> parse("SELECT name FROM azavista.events WHERE start > DATE '2025-01-01'").table.qualified
'azavista.events'
"""

from __future__ import annotations

import functools
import logging

import lark

from . import ast
from ..errors import QuerySyntaxError
from .grammar import grammar_text
from .lalr import Driver, Rejected
from .lexer import FastLexer
from .syntax_errors import describe_unexpected_characters, describe_unexpected_token, syntax_error
from .to_ast import ToAst, source

__all__ = ["MAX_DEPTH", "MAX_TEXT", "grammar_text", "parse", "parse_expression", "split_statements"]

log = logging.getLogger(__name__)

#: the most characters one statement (or a script) may have
MAX_TEXT = 16 * 1024 * 1024
#: the deepest an expression may nest (NOT NOT ..., f(f(...)), 1 + 1 + ... count one level per operator):
#: every later pass (binding, planning, local SQL) walks the tree recursively
MAX_DEPTH = 150


@functools.lru_cache(maxsize=None)
def _parser(start: str = "start") -> lark.Lark:
    """The LALR parser with the AST transformer applied inline (no intermediate parse tree)."""
    return lark.Lark(
        grammar_text(),
        parser="lalr",
        lexer=FastLexer,
        start=start,
        keep_all_tokens=True,
        maybe_placeholders=False,
        transformer=ToAst(),
    )


@functools.lru_cache(maxsize=None)
def _fast() -> tuple[FastLexer, Driver]:
    """The same grammar, table and callbacks as :func:`_parser`, driven by :mod:`crmql.language.lalr`."""
    parser = _parser()
    return FastLexer(parser.lexer_conf), Driver(parser)


def parse(text: str) -> ast.Statement:
    """Parse one statement into an AST node, or raise :class:`QuerySyntaxError`.

    >>> parse("SHOW TABLES FROM azavista")
    ShowTables(connection='azavista')
    """
    if len(text) > MAX_TEXT:
        raise QuerySyntaxError(f"the statement is {len(text) / 2**20:.1f} MB; the limit is {MAX_TEXT // 2**20} MB",
                               line=1, column=1, source_line=text[:80].split("\n")[0],
                               hint="split it, or pass long value lists as a :parameter")
    source.text = text
    try:
        lexer, driver = _fast()
        try:
            stmt = driver.parse(lexer.lex(text))
        except (Rejected, lark.exceptions.LarkError):
            pass  # not valid: Lark's own parser finds the same error and says it precisely
        else:
            if _depth_bound(text) > MAX_DEPTH:  # cheap: most statements cannot nest that deep at all
                _check_depth(stmt, text)
            return stmt
        if not split_statements(text):
            raise QuerySyntaxError(
                "empty statement: expected SELECT, EXPLAIN, SHOW TABLES or DESCRIBE",
                line=1, column=1, source_line=text.split("\n")[0].rstrip("\r"),
            )
        stmt = _parser().parse(text)  # pragma: no cover - the driver rejects only what Lark rejects
        _check_depth(stmt, text)
        return stmt
    except QuerySyntaxError:
        raise
    except lark.exceptions.VisitError as e:
        if isinstance(e.orig_exc, QuerySyntaxError):
            raise e.orig_exc from None
        raise
    except lark.exceptions.UnexpectedToken as e:
        line, column = e.line, e.column
        if e.token.type == "$END":  # point just past the last character the user typed
            lines = text.rstrip().split("\n")  # lark counts lines by "\n" only (not \r, \f, \u2028)
            line, column = len(lines), len(lines[-1]) + 1
        raise syntax_error(text, describe_unexpected_token(_parser(), text, e), line, column) from None
    except lark.exceptions.UnexpectedCharacters as e:
        raise syntax_error(text, describe_unexpected_characters(text, e), e.line, e.column) from None
    except lark.exceptions.UnexpectedEOF:  # pragma: no cover - LALR reports $END as a token
        lines = text.splitlines() or [""]
        raise syntax_error(text, ("the statement ended early", None), len(lines), len(lines[-1]) + 1) from None
    finally:
        source.text = None


def parse_expression(text: str) -> ast.Expr:
    """Parse a bare WHERE-style expression (used by tests and tools).

    >>> parse_expression("a = 1 AND b IS NULL")
    And(items=(Compare(op='=', left=Column(name='a', qualifier=None), right=Literal(value=1, kind='integer')), IsNull(operand=Column(name='b', qualifier=None), negated=False)))
    """
    stmt = parse(f"SELECT * FROM x.y WHERE {text}")
    assert isinstance(stmt, ast.Select) and stmt.where is not None
    return stmt.where


def _depth_bound(text: str) -> int:
    """An upper bound of how deep ``text``'s expressions can nest, from a few counts in C.

    Without parentheses only NOT chains and arithmetic chains (``1 + 1 + ...``, ``- - x``) grow the
    tree: OR, AND and one predicate add a level each, a comparison never chains; calls, IN lists
    and parenthesized expressions all open a "(" (overcounting, e.g. a "(" or "not" in a string, only
    means the exact check runs).

    >>> _depth_bound("SELECT a FROM x.y WHERE a = 1 AND b = 2") < 10
    True
    """
    ops = text.count("(") + text.count("+") + text.count("-") + text.count("*") + text.count("/") \
        + text.count("%") + text.count("|")
    return 8 + ops + (text.lower().count("not") if "t" in text or "T" in text else 0)


def _check_depth(stmt: ast.Statement, text: str) -> None:
    """Raise a syntax error at the first expression nested deeper than :data:`MAX_DEPTH` (iterative;
    leaves within the limit are not visited: nothing is below them)."""
    stack: list[tuple[object, int]] = [(stmt, 0)]
    pop, push, fields = stack.pop, stack.append, ast.child_fields
    leaves = (ast.Literal, ast.Column, ast.Param, ast.Star)
    while stack:
        node, depth = pop()
        if depth > MAX_DEPTH:
            span = getattr(node, "span", None)
            line, column = (span.line, span.column) if span is not None else (1, 1)
            raise syntax_error(text, (f"the expression is nested more than {MAX_DEPTH} levels deep",
                                      "simplify it, e.g. a list of values as IN (...) instead of a chain of ORs "
                                      "or of + terms"), line, column)
        below = depth + 1
        keep_leaves = below > MAX_DEPTH
        single, lists = fields(node.__class__)
        for name in single:
            child = getattr(node, name)
            if isinstance(child, ast.Node) and (keep_leaves or child.__class__ not in leaves):
                push((child, below))
        for name in lists:
            children = getattr(node, name)
            if isinstance(children, tuple):
                for child in children:
                    if isinstance(child, ast.Node) and (keep_leaves or child.__class__ not in leaves):
                        push((child, below))
        if node.__class__ is ast.Select:  # clauses that are not expression fields
            for child in (*node.items, *node.joins, *node.group_by, *node.order_by, node.where, node.having):
                if child is not None:
                    push((child, depth))
        elif node.__class__ in (ast.Explain, ast.Copy):
            push((node.query, depth))


def split_statements(text: str) -> list[str]:
    """Split a script at top-level semicolons (not inside quotes or comments); drop empty parts
    (blank or only comments). One linear pass: a comment opener inside a string is text.

    >>> split_statements("SELECT 'a;b' FROM x.y; -- done;\\nSHOW TABLES")
    ["SELECT 'a;b' FROM x.y", '-- done;\\nSHOW TABLES']
    """
    parts: list[str] = []
    start, i, n = 0, 0, len(text)
    content = False  # the current part has something besides blanks and comments
    while i < n:
        ch = text[i]
        if ch in ("'", '"'):
            content = True
            j = i + 1
            while j < n:
                if text[j] == ch:
                    if j + 1 < n and text[j + 1] == ch:
                        j += 2
                        continue
                    break
                j += 1
            i = j + 1
            continue
        if text.startswith("--", i):
            j = text.find("\n", i)
            i = n if j < 0 else j + 1
            continue
        if text.startswith("/*", i):
            j = text.find("*/", i + 2)
            i = n if j < 0 else j + 2
            continue
        if ch == ";":
            if content:
                parts.append(text[start:i].strip())
            start, content = i + 1, False
        elif not content and not ch.isspace() and ch != "\ufeff":  # a byte-order mark is a blank
            content = True
        i += 1
    if content:
        parts.append(text[start:].strip())
    return parts
