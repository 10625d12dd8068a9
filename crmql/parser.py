"""Text -> AST. Loads the Lark grammar once and maps Lark's errors to :class:`QuerySyntaxError`.

>>> parse("SELECT name FROM azavista.events WHERE start > DATE '2025-01-01'").table.qualified
'azavista.events'
"""

from __future__ import annotations

import functools
import logging
import re
from importlib import resources
from pathlib import Path

import lark

from . import ast
from .errors import QuerySyntaxError
from .lalr import Driver, Rejected
from .lexer import FastLexer
from .syntax_errors import describe_unexpected_characters, describe_unexpected_token, syntax_error
from .to_ast import ToAst, source

__all__ = ["grammar_text", "parse", "parse_expression", "split_statements"]

log = logging.getLogger(__name__)


def grammar_text() -> str:
    """The grammar source: the copy packaged in the wheel, else the repository's grammar/ file."""
    packaged = resources.files("crmql").joinpath("grammar/crmql.lark")
    if packaged.is_file():
        return packaged.read_text(encoding="utf-8")
    return (Path(__file__).resolve().parent.parent / "grammar" / "crmql.lark").read_text(encoding="utf-8")


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
    """The same grammar, table and callbacks as :func:`_parser`, driven by :mod:`crmql.lalr`."""
    parser = _parser()
    return FastLexer(parser.lexer_conf), Driver(parser)


def parse(text: str) -> ast.Statement:
    """Parse one statement into an AST node, or raise :class:`QuerySyntaxError`.

    >>> parse("SHOW TABLES FROM azavista")
    ShowTables(connection='azavista')
    """
    source.text = text
    try:
        lexer, driver = _fast()
        try:
            return driver.parse(lexer.lex(text))
        except (Rejected, lark.exceptions.LarkError):
            pass  # not valid: Lark's own parser finds the same error and says it precisely
        if not text.strip() or not _strip_comments(text).strip().strip(";").strip():
            raise QuerySyntaxError(
                "empty statement: expected SELECT, EXPLAIN, SHOW TABLES or DESCRIBE",
                line=1, column=1, source_line=text.split("\n")[0].rstrip("\r"),
            )
        return _parser().parse(text)
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


def _strip_comments(text: str) -> str:
    return re.sub(r"--[^\n]*|/\*(.|\n)*?\*/", "", text)


def split_statements(text: str) -> list[str]:
    """Split a script at top-level semicolons (not inside quotes or comments); drop empty parts.

    >>> split_statements("SELECT 'a;b' FROM x.y; -- done;\\nSHOW TABLES")
    ["SELECT 'a;b' FROM x.y", '-- done;\\nSHOW TABLES']
    """
    parts: list[str] = []
    start, i, n = 0, 0, len(text)
    while i < n:
        ch = text[i]
        if ch in ("'", '"'):
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
            parts.append(text[start:i])
            start = i + 1
        i += 1
    parts.append(text[start:])
    return [p.strip() for p in parts if _strip_comments(p).strip()]
