"""Syntax highlighting and a forgiving token scanner for the shell.

The keyword list comes from the grammar itself: every terminal of ``grammar/crmql.lark`` written as
a case-insensitive word (``SELECT: "select"i``) is a keyword, so the highlighter and the completer
never drift from the parser. The grammar text is read without importing Lark (which would delay the
first prompt); a test checks that the list equals the parser's own keyword terminals.

:func:`scan` splits text into tokens the way the completer needs them: it never fails, and an
unterminated string, quoted name or block comment at the end is one (open) token.

>>> [t.text for t in scan("SELECT \\"contact-email\\" FROM a.b WHERE x = 'it''s")]
['SELECT', '"contact-email"', 'FROM', 'a', '.', 'b', 'WHERE', 'x', '=', "'it''s"]
>>> statement_complete("SELECT 1 -- not yet;")
False
>>> statement_complete("SELECT ';'\\n;")
True
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass

from pygments.lexer import RegexLexer, words
from ...language.grammar import grammar_text
from pygments.token import Comment, Keyword, Name, Number, Operator, Punctuation, String, Text, Whitespace

__all__ = ["SHELL_WORDS", "CrmqlLexer", "Tok", "grammar_keywords", "keywords", "scan", "statement_complete"]

_KEYWORD_TERMINAL = re.compile(r'^\s*([A-Z_][A-Z0-9_]*)\s*:\s*"([A-Za-z]+)"i\s*$', re.M)


@functools.lru_cache(maxsize=1)
def grammar_keywords() -> dict[str, str]:
    """Terminal name -> keyword (upper case), for every case-insensitive word terminal.

    >>> grammar_keywords()["SELECT"], grammar_keywords()["DESC"]
    ('SELECT', 'DESC')
    """
    return {m.group(1): m.group(2).upper() for m in _KEYWORD_TERMINAL.finditer(grammar_text())}


@functools.lru_cache(maxsize=1)
def keywords() -> frozenset[str]:
    """Every keyword, upper case."""
    return frozenset(grammar_keywords().values())


_LITERAL_KEYWORDS = {"TRUE", "FALSE", "NULL"}
_TYPE_KEYWORDS = {"DATE", "TIMESTAMP", "INTERVAL"}


class CrmqlLexer(RegexLexer):
    """Pygments lexer for crmql statements and backslash commands."""

    name = "crmql"
    aliases = ["crmql"]
    filenames = ["*.crmql"]
    flags = re.IGNORECASE | re.MULTILINE

    tokens = {
        "root": [
            (r"\s+", Whitespace),
            (r"--.*?$", Comment.Single),
            (r"/\*", Comment.Multiline, "comment"),
            (r"^\\\S*", Keyword.Pseudo, "command"),
            (r"'(?:[^']|'')*'?", String.Single),
            (r'"(?:[^"]|"")*"?', Name.Variable),
            (r":[A-Za-z_][A-Za-z0-9_]*", Name.Variable.Magic),
            (r"(\d+\.\d*|\.\d+)([eE][+-]?\d+)?|\d+[eE][+-]?\d+", Number.Float),
            (r"\d+", Number.Integer),
            (words(sorted(_LITERAL_KEYWORDS & keywords()), suffix=r"\b"), Keyword.Constant),
            (words(sorted(_TYPE_KEYWORDS & keywords()), suffix=r"\b"), Keyword.Type),
            (words(sorted(keywords() - _LITERAL_KEYWORDS - _TYPE_KEYWORDS), suffix=r"\b"), Keyword),
            (r"[A-Za-z_][A-Za-z0-9_$]*(?=\s*\()", Name.Function),
            (r"[A-Za-z_][A-Za-z0-9_$]*", Name),
            (r"<>|!=|<=|>=|\|\||[=<>+\-*/%]", Operator),
            (r"[(),.;]", Punctuation),
            (r".", Text),
        ],
        "comment": [
            (r"[^*]+", Comment.Multiline),
            (r"\*/", Comment.Multiline, "#pop"),
            (r"\*", Comment.Multiline),
        ],
        "command": [
            (r"$", Text, "#pop"),
            (r"[^\n]+", String.Other),
        ],
    }


# ---- the completer's scanner ------------------------------------------------------------------

@dataclass(frozen=True)
class Tok:
    """One token: ``kind`` is name, keyword, quoted, string, param, number, op, punct, command,
    comment or other; ``closed`` is False for an unterminated string, quoted name or comment."""

    kind: str
    text: str
    start: int
    end: int
    closed: bool = True

    @property
    def upper(self) -> str:
        return self.text.upper()

    def is_kw(self, *words: str) -> bool:
        return self.kind == "keyword" and self.text.upper() in words

    @property
    def ident(self) -> str | None:
        """The identifier this token names (unquoted), or None."""
        if self.kind == "name":
            return self.text
        if self.kind == "quoted":
            inner = self.text[1:-1] if self.closed else self.text[1:]
            return inner.replace('""', '"')
        return None


_SCAN = re.compile(
    r"""(?P<ws>\s+)
      |(?P<comment>--[^\n]*|/\*.*?(?:\*/|\Z))
      |(?P<string>'(?:[^']|'')*'?)
      |(?P<quoted>"(?:[^"]|"")*"?)
      |(?P<command>\\[^\s\\]*)
      |(?P<param>:[A-Za-z_][A-Za-z0-9_]*)
      |(?P<number>(?:\d+\.\d*|\.\d+)(?:[eE][+-]?\d+)?|\d+(?:[eE][+-]?\d+)?)
      |(?P<name>[A-Za-z_][A-Za-z0-9_$]*)
      |(?P<op><>|!=|<=|>=|\|\||[=<>+\-/%])
      |(?P<punct>[(),.;*])
      |(?P<other>.)""",
    re.X | re.S,
)


def _open_quote(text: str, q: str) -> bool:
    """True when a token starting with quote ``q`` is not terminated."""
    i, n = 1, len(text)
    while i < n:
        if text[i] == q:
            if i + 1 < n and text[i + 1] == q:
                i += 2
                continue
            return i != n - 1
        i += 1
    return True


def scan(text: str, *, comments: bool = False) -> list[Tok]:
    """Tokens of ``text`` (whitespace dropped; comments dropped unless asked for)."""
    kws = keywords()
    out: list[Tok] = []
    for m in _SCAN.finditer(text):
        kind = m.lastgroup or "other"
        if kind == "ws" or (kind == "comment" and not comments):
            continue
        value = m.group()
        if kind == "name" and value.upper() in kws:
            kind = "keyword"
        closed = True
        if kind in ("string", "quoted"):
            closed = not _open_quote(value, value[0])
        elif kind == "comment" and value.startswith("/*"):
            closed = len(value) >= 4 and value.endswith("*/")
        out.append(Tok(kind, value, m.start(), m.end(), closed))
    return out


#: words the shell takes on their own (with or without ';'), as psql and pgcli do: not statements
SHELL_WORDS = frozenset({"help", "quit", "exit"})


def statement_complete(text: str) -> bool:
    """Whether Enter should run the buffer: it ends with ``;`` (outside quotes and comments), its
    last line is a backslash command, it is one of :data:`SHELL_WORDS`, or it is empty.

    >>> statement_complete("help"), statement_complete("SELECT 1"), statement_complete("SELECT 1;")
    (True, False, True)
    """
    if not text.strip() or text.strip().rstrip(";").strip().lower() in SHELL_WORDS:
        return True
    last_line = text.rstrip().rsplit("\n", 1)[-1].strip()
    if last_line.startswith("\\"):
        return True
    toks = scan(text)
    if not toks:
        return True  # only comments
    last = toks[-1]
    return last.kind == "punct" and last.text == ";"
