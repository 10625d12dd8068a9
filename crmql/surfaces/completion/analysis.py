"""What the statement around the cursor means, for the completer: where the statement starts and
ends, which clause the cursor is in, the tables in scope (``conn.table [AS] alias``), the column
compared before ``=`` / ``IN (``, and which keywords the grammar accepts next.

Everything works on :func:`~crmql.surfaces.completion.tokens.scan` tokens and never fails. The grammar's answer
needs the LALR parser of :func:`build_keyword_parser` (it imports Lark, so the shell builds it on a
background thread); until it exists, :func:`accepted_terminals` returns None and the callers fall
back to every keyword.

>>> toks = scan("SELECT p.id FROM crm.people AS p WHERE p.vip = ")
>>> clause_at(toks), table_refs(toks), value_target(toks)
('WHERE', [TableRef(connection='crm', table='people', alias='p')], ('p', 'vip'))
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from ...language.names import grammar_keywords, keywords
from .tokens import Tok, scan

__all__ = ["TableRef", "accepted_terminals", "build_keyword_parser", "clause_at", "expects_operand",
           "keyword_pool", "listed_values", "operand_before", "statement_bounds", "table_refs",
           "value_target"]

log = logging.getLogger(__name__)

#: keyword terminals that read better completed as a phrase
_PHRASES = {"ORDER": "ORDER BY", "GROUP": "GROUP BY", "SHOW": "SHOW TABLES"}
_STATEMENT_STARTS = ("SELECT", "EXPLAIN", "EXPLAIN ANALYZE", "SHOW TABLES", "DESCRIBE")


def build_keyword_parser() -> Any:
    """An LALR parser of the grammar without AST callbacks, to ask which terminals come next.

    Imports Lark (slow): the shell builds it on a background thread.
    """
    import lark

    from ...language.lexer import FastLexer
    from ...language.grammar import grammar_text

    return lark.Lark(grammar_text(), parser="lalr", lexer=FastLexer, keep_all_tokens=True)


def accepted_terminals(parser: Any, before: str) -> set[str] | None:
    """Terminal names ``parser`` accepts after ``before`` (None: no parser yet, or no parse).

    >>> accepted_terminals(None, "SELECT ") is None
    True
    """
    if parser is None:
        return None
    try:
        ip = parser.parse_interactive(before)
        ip.exhaust_lexer()
        return set(ip.accepts())
    except Exception:  # an error before the cursor: fall back to every keyword
        return None


@dataclass(frozen=True)
class TableRef:
    """One ``conn.table [AS] alias`` after FROM or JOIN."""

    connection: str
    table: str
    alias: str | None


def _ident_at(toks: Sequence[Tok], i: int) -> str | None:
    if 0 <= i < len(toks):
        return toks[i].ident
    return None


def table_refs(toks: Sequence[Tok]) -> list[TableRef]:
    """``conn.table [AS] alias`` after each FROM / JOIN of one statement.

    >>> [(r.table, r.alias) for r in table_refs(scan('SELECT * FROM a.b x JOIN a."c-d" ON'))]
    [('b', 'x'), ('c-d', None)]
    """
    refs: list[TableRef] = []
    for i, t in enumerate(toks):
        if not t.is_kw("FROM", "JOIN"):
            continue
        conn, table = _ident_at(toks, i + 1), _ident_at(toks, i + 3)
        if conn is None or table is None or i + 2 >= len(toks) or toks[i + 2].text != ".":
            continue
        if not toks[i + 3].closed:
            continue
        j = i + 4
        if j < len(toks) and toks[j].is_kw("AS"):
            j += 1
        alias = _ident_at(toks, j) if j < len(toks) and toks[j].closed else None
        refs.append(TableRef(conn, table, alias))
    return refs


def statement_bounds(text: str, cursor: int) -> tuple[int, int]:
    """Start and end of the ``;``-separated statement the cursor is in.

    >>> statement_bounds("SELECT 1; SELECT 2; SELECT 3", 12)
    (9, 18)
    """
    start, end = 0, len(text)
    for t in scan(text):
        if t.kind == "punct" and t.text == ";":
            if t.end <= cursor:
                start = t.end
            elif t.start >= cursor:
                end = t.start
                break
    return start, end


def clause_at(toks: Sequence[Tok]) -> str | None:
    """The clause the cursor is in: the last clause keyword at the cursor's parenthesis depth.

    >>> clause_at(scan("SELECT a FROM x.y ORDER BY")), clause_at(scan("SELECT a FROM x.y WHERE b IN (SELECT"))
    ('ORDER BY', 'SELECT')
    """
    depth = 0
    for i in range(len(toks) - 1, -1, -1):
        t = toks[i]
        if t.kind == "punct" and t.text == ")":
            depth += 1
        elif t.kind == "punct" and t.text == "(":
            depth = max(0, depth - 1)
        elif depth == 0 and t.kind == "keyword":
            u = t.upper
            if u == "BY" and i > 0 and toks[i - 1].is_kw("ORDER", "GROUP"):
                return f"{toks[i - 1].upper} BY"
            if u in ("SELECT", "FROM", "JOIN", "ON", "WHERE", "HAVING", "LIMIT", "OFFSET"):
                return u
    return None


def expects_operand(toks: Sequence[Tok], accepts: set[str] | None) -> bool:
    """Whether a column may be typed after ``toks``: from the terminals the grammar ``accepts``
    there when known (see :func:`accepted_terminals`), else guessed from the last token.

    >>> expects_operand(scan("SELECT a,"), None), expects_operand(scan("SELECT *"), None)
    (True, False)
    """
    if accepts is not None:
        return "NAME" in accepts
    if not toks:
        return False
    p = toks[-1]
    return (p.kind in ("op", "keyword") and not p.is_kw("NULL", "TRUE", "FALSE", "ASC", "DESC")) or \
        (p.kind == "punct" and p.text in ("(", ",", "*") and not (p.text == "*" and len(toks) >= 2 and toks[-2].is_kw("SELECT")))


def value_target(toks: Sequence[Tok]) -> tuple[str | None, str] | None:
    """The column compared when the cursor is after ``col =``, ``col !=`` or ``col [NOT] IN (v, ...``.

    >>> value_target(scan("WHERE t.stage NOT IN ('a', ")), value_target(scan("WHERE x ="))
    (('t', 'stage'), (None, 'x'))
    """
    if not toks:
        return None
    i = len(toks) - 1
    if toks[i].kind == "op" and toks[i].text in ("=", "!=", "<>"):
        return operand_before(toks, i)
    # inside IN ( ... : walk back over values and commas
    j = i
    while j >= 0 and (toks[j].kind in ("string", "number") or toks[j].is_kw("NULL", "TRUE", "FALSE") or toks[j].text == ","):
        j -= 1
    if j >= 1 and toks[j].kind == "punct" and toks[j].text == "(" and toks[j - 1].is_kw("IN"):
        k = j - 1
        if k >= 1 and toks[k - 1].is_kw("NOT"):
            k -= 1
        return operand_before(toks, k)
    return None


def operand_before(toks: Sequence[Tok], i: int) -> tuple[str | None, str] | None:
    """``(qualifier, column)`` named right before ``toks[i]`` (None: not a column)."""
    name = _ident_at(toks, i - 1)
    if name is None:
        return None
    if i >= 3 and toks[i - 2].text == "." and toks[i - 3].ident is not None:
        return (toks[i - 3].ident, name)
    return (None, name)


def listed_values(toks: Sequence[Tok]) -> set[str]:
    """The strings already listed in the ``IN (`` the cursor is in.

    >>> sorted(listed_values(scan("x IN ('a', 'it''s', ")))
    ['a', "it's"]
    """
    out: set[str] = set()
    for t in reversed(toks):
        if t.kind == "string" and t.closed:
            out.add(t.text[1:-1].replace("''", "'"))
        elif t.text == "(":
            break
        elif t.text != "," and t.kind != "number":
            break
    return out


def keyword_pool(accepts: set[str] | None, before: str) -> list[str]:
    """The keywords (and phrases such as ``ORDER BY``) to offer after ``before``, given the
    terminals the parser ``accepts`` there; without a parser: the statement keywords at the start
    of a statement, every keyword elsewhere.

    >>> keyword_pool(None, "")
    ['SELECT', 'EXPLAIN', 'EXPLAIN ANALYZE', 'SHOW TABLES', 'DESCRIBE']
    >>> keyword_pool({"ORDER", "LIMIT", "NAME"}, "SELECT a FROM x.y ")
    ['LIMIT', 'ORDER BY']
    """
    names = grammar_keywords()
    if accepts is None:
        if not before.strip():
            return list(_STATEMENT_STARTS)
        return sorted(keywords() | {"ORDER BY", "GROUP BY", "LEFT JOIN", "IS NOT NULL"})
    pool = []
    for terminal in sorted(accepts):
        kw = names.get(terminal)
        if kw is None:
            continue
        pool.append(_PHRASES.get(kw, kw))
        if kw == "LEFT":
            pool.append("LEFT JOIN")
        if kw == "EXPLAIN":
            pool.append("EXPLAIN ANALYZE")
    order = {k: i for i, k in enumerate(_STATEMENT_STARTS)}
    pool.sort(key=lambda k: (order.get(k, 99), k))
    return pool
