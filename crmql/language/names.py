"""Keywords and identifiers as the grammar defines them: the one rule for writing a name.

Every terminal of ``grammar/crmql.lark`` written as a case-insensitive word (``SELECT: "select"i``)
is a keyword, and a keyword is never a bare name (the lexer reads it as the keyword). A bare name
is the grammar's ``NAME`` (``[a-z_][a-z0-9_$]*``, any case); anything else is written in double
quotes, a quote doubled. :func:`quote_ident` is the one function every surface (the shell, the
notebook completion, EXPLAIN's local SQL) writes names with. The grammar text is read without
importing Lark, so the shell's highlighter and completer can use this before the first prompt.

>>> quote_ident("event_type"), quote_ident("contact-email"), quote_ident("date"), quote_ident('a"b')
('event_type', '"contact-email"', '"date"', '"a""b"')
>>> quote_ident("event_type", always=True)
'"event_type"'
>>> unquote_ident('"a""b"'), unquote_ident("Name")
('a"b', 'Name')
"""

from __future__ import annotations

import functools
import re

from .grammar import grammar_text

__all__ = ["BARE_NAME", "grammar_keywords", "keywords", "quote_ident", "unquote_ident"]

_KEYWORD_TERMINAL = re.compile(r'^\s*([A-Z_][A-Z0-9_]*)\s*:\s*"([A-Za-z]+)"i\s*$', re.M)
#: the grammar's NAME terminal: what may be written without quotes (unless it is a keyword)
BARE_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_$]*$")


@functools.lru_cache(maxsize=1)
def grammar_keywords() -> dict[str, str]:
    """Terminal name -> keyword (upper case), for every case-insensitive word terminal.

    >>> grammar_keywords()["SELECT"], grammar_keywords()["DESC"]
    ('SELECT', 'DESC')
    """
    return {m.group(1): m.group(2).upper() for m in _KEYWORD_TERMINAL.finditer(grammar_text())}


@functools.lru_cache(maxsize=1)
def keywords() -> frozenset[str]:
    """Every keyword, upper case.

    >>> {"SELECT", "FROM", "DATE"} <= keywords()
    True
    """
    return frozenset(grammar_keywords().values())


def quote_ident(name: str, *, always: bool = False) -> str:
    """``name`` as it must be written: bare when the grammar reads it back as that name, else in
    double quotes with each ``"`` doubled. ``always=True`` quotes every name (DuckDB's SQL, whose
    keywords are not crmql's).

    >>> quote_ident("Name"), quote_ident("two words"), quote_ident("select")
    ('Name', '"two words"', '"select"')
    """
    if not always and BARE_NAME.match(name) and name.upper() not in keywords():
        return name
    return '"' + name.replace('"', '""') + '"'


def unquote_ident(text: str) -> str:
    """The name a bare or double-quoted identifier stands for (the inverse of :func:`quote_ident`).

    >>> unquote_ident(quote_ident('say "hi"'))
    'say "hi"'
    """
    if len(text) >= 2 and text[0] == text[-1] == '"':
        return text[1:-1].replace('""', '"')
    return text
