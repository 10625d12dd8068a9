"""A forgiving token scanner: the text around the cursor as the completion engine reads it.

:func:`scan` never fails, and an unterminated string, quoted name or block comment at the end is
one (open) token. Keywords are the grammar's (:func:`crmql.language.names.keywords`).

>>> [t.text for t in scan("SELECT \\"contact-email\\" FROM a.b WHERE x = 'it''s")]
['SELECT', '"contact-email"', 'FROM', 'a', '.', 'b', 'WHERE', 'x', '=', "'it''s"]
>>> scan('"open')[0].ident, scan('"open')[0].closed
('open', False)
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from ...language.names import keywords

__all__ = ["Tok", "scan"]


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
