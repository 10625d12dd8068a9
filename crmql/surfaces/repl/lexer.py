"""Syntax highlighting for the shell, and when Enter runs the buffer.

The keyword list comes from the grammar itself (:func:`crmql.language.names.keywords`: every
terminal of ``grammar/crmql.lark`` written as a case-insensitive word is a keyword), so the
highlighter and the completer never drift from the parser. The grammar text is read without
importing Lark (which would delay the first prompt); a test checks that the list equals the
parser's own keyword terminals. :func:`scan` (the completion engine's forgiving scanner,
:mod:`crmql.surfaces.completion.tokens`) is what :func:`statement_complete` reads.

>>> [t.text for t in scan("SELECT \\"contact-email\\" FROM a.b WHERE x = 'it''s")]
['SELECT', '"contact-email"', 'FROM', 'a', '.', 'b', 'WHERE', 'x', '=', "'it''s"]
>>> statement_complete("SELECT 1 -- not yet;")
False
>>> statement_complete("SELECT ';'\\n;")
True
"""

from __future__ import annotations

import re

from pygments.lexer import RegexLexer, words
from pygments.token import Comment, Keyword, Name, Number, Operator, Punctuation, String, Text, Whitespace

from ...language.names import keywords
from ..completion.tokens import scan

__all__ = ["SHELL_WORDS", "CrmqlLexer", "statement_complete"]

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
