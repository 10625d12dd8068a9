"""Turn Lark's parse errors into words a user understands.

Lark reports "unexpected token X, expected one of {TERMINALS}". Users need "expected a table name
after FROM". We look at the token before the error and the set of expected terminals and pick a
phrase; anything unforeseen falls back to a readable list of what could come next.

>>> _found_text_for("$END", "")
'the end of the statement'
"""

from __future__ import annotations

from typing import Any

import lark

from ..errors import QuerySyntaxError

__all__ = ["describe_unexpected_characters", "describe_unexpected_token", "syntax_error"]

_KEYWORDS = {
    "SELECT", "DISTINCT", "FROM", "WHERE", "GROUP", "BY", "HAVING", "ORDER", "ASC", "DESC", "LIMIT", "OFFSET",
    "AS", "AND", "OR", "NOT", "IN", "IS", "NULL", "LIKE", "ILIKE", "BETWEEN", "TRUE", "FALSE", "JOIN", "INNER",
    "LEFT", "OUTER", "ON", "EXPLAIN", "ANALYZE", "SHOW", "TABLES", "DESCRIBE", "COPY", "TO", "WITH", "DATE",
    "TIMESTAMP", "INTERVAL",
}

_TERMINAL_WORDS = {
    "NAME": "a name", "QUOTED_NAME": "a name", "STRING": "a string", "INT": "a number", "DECIMAL": "a number",
    "PARAM": "a :parameter", "COMMA": "','", "LPAR": "'('", "RPAR": "')'", "DOT": "'.'", "STAR": "'*'",
    "SEMICOLON": "';'", "COMP_OP": "a comparison (=, !=, <, >, ...)", "ADD_OP": "an operator", "MUL_OP": "an operator",
    "MINUS": "'-'", "$END": "the end of the statement",
}

_VALUE = "a value (a 'string', a number, DATE '...', TIMESTAMP '...', TRUE/FALSE, NULL or a :parameter)"
_CONDITION = "a condition, e.g. name = 'x' or start > DATE '2025-01-01'"

# phrase for "what must come after this token", keyed by the previous token's type
_AFTER = {
    "FROM": "a table name after FROM, written connection.table (e.g. azavista.events)",
    "JOIN": "a table name after JOIN, written connection.table",
    "DESCRIBE": "a table name after DESCRIBE, written connection.table (e.g. azavista.events)",
    "DESC": "a table name after DESCRIBE, written connection.table (e.g. azavista.events)",
    "SELECT": "a column, * or an expression after SELECT",
    "DISTINCT": "a column or an expression after DISTINCT",
    "WHERE": f"{_CONDITION} after WHERE",
    "AND": "a condition after AND",
    "OR": "a condition after OR",
    "NOT": "a condition after NOT",
    "HAVING": "a condition after HAVING",
    "ON": "a join condition after ON, e.g. c.organization_id = o.id",
    "LIMIT": "a whole number after LIMIT",
    "OFFSET": "a whole number after OFFSET",
    "COMP_OP": f"{_VALUE} after the comparison",
    "LIKE": "a pattern after LIKE, e.g. '%workshop%'",
    "ILIKE": "a pattern after ILIKE, e.g. '%workshop%'",
    "BETWEEN": f"{_VALUE} after BETWEEN",
    "IS": "NULL or NOT NULL after IS",
    "EXPLAIN": "a SELECT query after EXPLAIN",
    "ANALYZE": "a SELECT query after EXPLAIN ANALYZE",
    "SHOW": "TABLES after SHOW",
    "TABLES": "FROM connection or the end of the statement after SHOW TABLES",
    "AS": "a name after AS",
    "DATE": "a quoted date after DATE, e.g. DATE '2025-03-01'",
    "TIMESTAMP": "a quoted timestamp after TIMESTAMP, e.g. TIMESTAMP '2025-03-01 09:00:00'",
    "INTERVAL": "a quoted interval after INTERVAL, e.g. INTERVAL '7 days'",
    "ORDER": "BY after ORDER",
    "GROUP": "BY after GROUP",
    "COPY": "'(' and a query after COPY, e.g. COPY (SELECT ...) TO 'file.csv'",
    "TO": "a quoted file name after TO, e.g. TO 'events.csv'",
    "LPAR": "a value or an expression after '('",
}


#: words a shell user types for help or to leave, and what crmql's shell takes instead
_SHELL_WORDS = {
    "help": "in the shell, type \\? for help (backslash commands need no ';'); crmql --help lists the options",
    "quit": "type \\q (or Ctrl-D) to quit", "exit": "type \\q (or Ctrl-D) to quit",
}


def _found_text_for(token_type: str, value: str) -> str:
    if token_type == "$END":
        return "the end of the statement"
    if token_type in _KEYWORDS:
        return f"the keyword {value.upper()}"
    if token_type == "STRING":
        return f"the string {value}"
    return f"'{value}'"


def _previous_token(parser: lark.Lark, text: str, pos: int) -> Any | None:
    prev = None
    try:
        for token in parser.lex(text):
            if token.start_pos >= pos:
                break
            prev = token
    except lark.exceptions.LarkError:
        pass
    return prev


def _words(expected: set[str]) -> str:
    seen: list[str] = []
    for name in sorted(expected):
        word = _TERMINAL_WORDS.get(name) or (name if name in _KEYWORDS else None)
        if word and word not in seen:
            seen.append(word)
    if not seen:
        return "something else"
    if len(seen) > 6:
        seen = seen[:6] + ["..."]
    return seen[0] if len(seen) == 1 else ", ".join(seen[:-1]) + " or " + seen[-1]


def describe_unexpected_token(parser: lark.Lark, text: str, e: lark.exceptions.UnexpectedToken) -> tuple[str, str | None]:
    """``(message, hint)`` for an unexpected token."""
    token = e.token
    expected = set(e.expected or ())
    pos = token.start_pos if token.type != "$END" else len(text)
    prev = _previous_token(parser, text, pos if pos is not None else len(text))
    prev_type = prev.type if prev is not None else None
    found = _found_text_for(token.type, str(token.value))
    hint = None

    if prev is None:
        what = "a statement: SELECT, EXPLAIN, SHOW TABLES or DESCRIBE"
    elif prev_type == "DOT" and expected & {"NAME", "QUOTED_NAME"}:
        what = f"a name after '{_text_before(text, prev)}.'"
    elif prev_type == "COMMA" and expected & {"NAME", "QUOTED_NAME"}:
        what = "another item after ','"
        if token.type in ("FROM", "$END", "RPAR", "WHERE"):
            hint = "remove the trailing comma"
    elif prev_type in ("BY",):
        what = "a column or an expression after BY"
    elif prev_type == "FROM" and _after_keyword(parser, text, prev, {"TABLES"}):
        what = "a connection name after SHOW TABLES FROM, e.g. azavista"
    elif prev_type == "IN" and "LPAR" in expected:
        what = "a list of values in parentheses after IN, e.g. IN ('marketing', 'sales')"
    elif prev_type in _AFTER:
        what = _AFTER[prev_type]
    elif expected == {"DOT"} or (expected >= {"DOT"} and prev_type in ("NAME", "QUOTED_NAME") and "FROM" not in expected and _after_keyword(parser, text, prev, {"FROM", "JOIN", "DESCRIBE", "DESC"})):
        what = f"'.' after '{prev.value}': tables are written connection.table"
        hint = f"e.g. azavista.{prev.value}"
    else:
        what = _words(expected)

    if prev is None and token.type == "NAME" and str(token.value).lower() in _SHELL_WORDS:
        hint = _SHELL_WORDS[str(token.value).lower()]
    if prev_type == "LEFT" and "LPAR" in expected and "JOIN" not in expected:  # SELECT left FROM ...
        hint = 'LEFT is a reserved word; write "left" (double quotes) to use it as a name, or left(text, n) for the function'
    if token.type == "SELECT" and prev_type == "LPAR":
        hint = "subqueries are not supported; run the inner query first and pass its values with IN (...) or :params"
    if token.type == "FROM" and prev_type in ("SELECT", "DISTINCT"):
        hint = hint or "list the columns to read (or *) between SELECT and FROM"
    if token.type in _KEYWORDS and expected & {"NAME", "QUOTED_NAME"} and prev_type not in ("COMP_OP", "LPAR") \
            and not (token.type == prev_type and token.type in ("AND", "OR")):  # AND AND is a typo, not a name
        word = str(token.value).upper()
        if text[token.end_pos:].lstrip().startswith("("):  # a reserved word used as a function
            hint = hint or f"{word} is a reserved word, not a function"
        else:
            hint = hint or f"{word} is a reserved word; write \"{token.value}\" (double quotes) to use it as a name"
    if token.type == "COMP_OP" and prev_type == "COMP_OP":
        hint = "use a single = for equality"
    if token.type == "$END" and "FROM" in expected and prev_type not in _AFTER:
        hint = hint or "every query needs FROM connection.table"
    if token.type in ("NAME", "QUOTED_NAME") and "FROM" in expected and prev_type in ("NAME", "QUOTED_NAME", "RPAR", "STAR", "STRING", "INT"):
        hint = hint or "separate select items with commas, or add FROM before the table"
    if token.type == "STRING" and prev_type in ("FROM", "JOIN"):
        hint = "table names are not quoted with single quotes; write connection.table"
    return f"expected {what}, found {found}", hint


def _text_before(text: str, token: Any) -> str:
    start = token.start_pos
    i = start
    while i > 0 and (text[i - 1].isalnum() or text[i - 1] in "_\"-$"):
        i -= 1
    return text[i:start]


def _after_keyword(parser: lark.Lark, text: str, token: Any, keywords: set[str]) -> bool:
    prev = _previous_token(parser, text, token.start_pos)
    return prev is not None and prev.type in keywords


def describe_unexpected_characters(text: str, e: lark.exceptions.UnexpectedCharacters) -> tuple[str, str | None]:
    """``(message, hint)`` for text no token matches (unterminated strings, stray characters)."""
    char = text[e.pos_in_stream] if e.pos_in_stream < len(text) else ""
    if char == "'":
        return "unterminated string: a quote ' is opened here and never closed", "close the string with ' (write '' for a quote inside it)"
    if text.startswith('""', e.pos_in_stream):
        return 'empty quoted name ""', "strings use single quotes (an empty string is ''); a quoted name needs a character"
    if char == '"':
        return 'unterminated quoted name: a " is opened here and never closed', 'close the name with " (write "" for a quote inside it)'
    if char == ":":
        return "expected a parameter name after ':', e.g. :start_date", None
    if char == "`":
        return "unexpected character '`'", 'quote names with double quotes, e.g. "contact-email"'
    if char == "=" and e.pos_in_stream > 0 and text[e.pos_in_stream - 1] == "=":
        return "unexpected '='", "use a single = for equality"
    if char.isalnum() and not char.isascii():  # Sonderkündigungsrecht: a bare name is a-z, 0-9, _ and $
        word = _word_around(text, e.pos_in_stream)
        return f"unexpected character '{char}'", f"a name with letters beyond a-z is written in double quotes: \"{word}\""
    return f"unexpected character '{char}'", None


def _word_around(text: str, pos: int) -> str:
    """The name ``text[pos]`` is part of: letters (any alphabet), digits, ``_`` and ``$`` either side.

    >>> _word_around("SELECT Sonderkündigungsrecht FROM x", 15)
    'Sonderkündigungsrecht'
    """
    start, end = pos, pos
    while start > 0 and (text[start - 1].isalnum() or text[start - 1] in "_$"):
        start -= 1
    while end < len(text) and (text[end].isalnum() or text[end] in "_$"):
        end += 1
    return text[start:end]


def syntax_error(text: str, described: tuple[str, str | None], line: int, column: int) -> QuerySyntaxError:
    """The error for ``described`` (message, hint) at ``line``/``column`` of ``text``, with its source line.

    >>> syntax_error("SELECT\\nFROM", ("expected a column", None), 2, 1).source_line
    'FROM'
    """
    message, hint = described
    lines = text.split("\n")  # the same lines lark numbers (splitlines also breaks at \r, \f, \u2028...)
    line = max(1, min(line, len(lines)))
    source_line = lines[line - 1].rstrip("\r")
    return QuerySyntaxError(message, line=line, column=max(1, column), source_line=source_line, hint=hint)
