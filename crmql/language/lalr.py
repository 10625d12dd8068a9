"""A tight LALR(1) driver over the parse table and callbacks Lark builds from the grammar.

Lark's own driver spends most of a parse in bookkeeping: a Python-level ``Token.__eq__`` on every
table lookup, ``Rule`` objects hashed field by field to find a reduce callback, and a call per
reduction even for the pass-through rules of ``?rule`` chains (``expr -> or_expr -> ... -> atom``,
eight reductions per operand). This driver runs the *same* table and the *same* callbacks, only
re-keyed once with plain ``str`` and ``int`` and with the pass-through reductions done without a
call. It handles the success path only: on any input the table rejects it raises
:class:`Rejected`, and the caller re-parses with Lark to get Lark's exact error (errors are rare,
and their message is built from Lark's parser state).

>>> import lark
>>> from crmql.language.parser import grammar_text
>>> driver = Driver(lark.Lark(grammar_text(), parser="lalr", keep_all_tokens=True))
>>> tree = driver.parse(lark.Lark(grammar_text(), parser="lalr").lex("SHOW TABLES"))
>>> str(tree.data), [t.type for t in tree.children[0].children]
('start', ['SHOW', 'TABLES'])
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterable
from typing import Any

import lark
from lark.lexer import Token
from lark.parse_tree_builder import ExpandSingleChild
from lark.parsers.lalr_analysis import Shift

__all__ = ["Driver", "Rejected"]

#: a reduce action: (number of children, the rule's name, its callback or None for a pass-through)
_Reduce = tuple[int, str, Callable[[list[Any]], Any] | None]


#: the end of input, fed after the last token (Lark's ``$END``)
_END = Token("$END", "")


class Rejected(Exception):
    """The table has no action for this token: the input is not in the language."""


class Driver:
    """Parse a token stream with a Lark LALR parser's table and callbacks (success path only)."""

    def __init__(self, parser: lark.Lark, start: str = "start") -> None:
        inner = parser.parser.parser.parser  # ParsingFrontend -> LALR_Parser -> _Parser
        table, callbacks = inner.parse_table, inner.callbacks
        reduces: dict[Any, _Reduce] = {}
        for rule, callback in callbacks.items():
            if isinstance(rule, str):  # terminal callbacks would change shifted tokens; none are used
                raise ValueError(f"terminal callback for {rule} is not supported")
            size = len(rule.expansion)
            passthrough = size == 1 and isinstance(callback, ExpandSingleChild)
            reduces[rule] = (size, str(rule.origin.name), None if passthrough else callback)
        self.states: dict[int, dict[str, int | _Reduce]] = {
            state: {
                str(symbol): (arg if action is Shift else reduces[arg])
                for symbol, (action, arg) in row.items()
            }
            for state, row in table.states.items()
        }
        self.start_state: int = table.start_states[start]
        self.end_state: int = table.end_states[start]

    def parse(self, tokens: Iterable[Token]) -> Any:
        """Shift and reduce every token, then ``$END``; return the start rule's value.

        Raises :class:`Rejected` where Lark's parser would raise ``UnexpectedToken``.
        """
        states, end_state = self.states, self.end_state
        stack = [self.start_state]
        values: list[Any] = []
        push_state, push_value = stack.append, values.append
        for token in itertools.chain(tokens, (_END,)):
            kind = token.type
            while True:
                action = states[stack[-1]].get(kind)
                if action.__class__ is int and token is not _END:
                    push_state(action)
                    push_value(token)
                    break
                if action is None or action.__class__ is int:
                    raise Rejected(token)
                size, origin, callback = action  # reduce (inlined: this is the hot loop)
                if callback is None:  # a pass-through rule: the one child is the value
                    stack.pop()
                else:
                    children = values[-size:] if size else []
                    if size:
                        del stack[-size:]
                        del values[-size:]
                    push_value(callback(children))
                push_state(states[stack[-1]][origin])
                if token is _END and stack[-1] == end_state:
                    return values[-1]
        raise Rejected(_END)  # pragma: no cover - $END always ends in a reduce or a rejection
