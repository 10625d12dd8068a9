"""The fast parse path (crmql.language.lexer + crmql.language.lalr) against Lark's own lexer and LALR driver.

``crmql.language.parser.parse`` runs the grammar's table with its own tight loop and lexer; only when that
rejects the input does Lark's parser run (for its precise error). These tests hold the fast path to
Lark's answer: the same tokens, the same tree (spans included) for every golden statement, and the
same accept/reject decision on random and mangled text.
"""

from __future__ import annotations

import lark
import pytest
from hypothesis import HealthCheck, given, settings

from crmql.language import ast
from crmql.language.lalr import Rejected
from crmql.language.parser import _fast, _parser, grammar_text
from crmql.language.to_ast import source

from test_parser_golden import CASES
from test_syntax_errors import TEXTS, VALID

STATEMENTS = [c["input"] for c in CASES] + VALID


def _with_spans(node: object) -> object:
    """A comparable form of a tree that includes every span (spans are compare=False on nodes)."""
    if isinstance(node, ast.Node):
        return (type(node).__name__, node.span, {k: _with_spans(v) for k, v in vars(node).items() if k != "span"})
    if isinstance(node, tuple):
        return tuple(_with_spans(v) for v in node)
    return node


def _fast_parse(text: str) -> object:
    lexer, driver = _fast()
    source.text = text
    try:
        return driver.parse(lexer.lex(text))
    finally:
        source.text = None


def _lark_parse(text: str) -> object:
    source.text = text
    try:
        return _parser().parse(text)
    finally:
        source.text = None


_BASIC = lark.Lark(grammar_text(), parser="lalr", lexer="basic")


def _tokens(tokens) -> list[tuple]:
    return [(t.type, t.value, t.start_pos, t.end_pos, t.line, t.column, t.end_line, t.end_column) for t in tokens]


@pytest.mark.parametrize("text", STATEMENTS)
def test_fast_path_builds_the_tree_lark_builds(text):
    assert _with_spans(_fast_parse(text)) == _with_spans(_lark_parse(text))


@pytest.mark.parametrize("text", STATEMENTS)
def test_fast_lexer_gives_lark_basic_lexer_tokens(text):
    lexer, _ = _fast()
    assert _tokens(lexer.lex(text)) == _tokens(_BASIC.lex(text))


def test_rejected_input_falls_back_to_lark_for_the_message():
    with pytest.raises(Rejected):
        _fast_parse("SELECT FROM azavista.events")
    with pytest.raises(lark.exceptions.UnexpectedToken):
        _lark_parse("SELECT FROM azavista.events")


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(TEXTS)
def test_fast_path_accepts_exactly_what_lark_accepts(text):
    try:
        expected = _with_spans(_lark_parse(text))
    except Exception as e:  # noqa: BLE001 - any rejection: a lark error or a literal's syntax error
        with pytest.raises((Rejected, lark.exceptions.LarkError, type(e))):
            _fast_parse(text)
        return
    assert _with_spans(_fast_parse(text)) == expected


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(TEXTS)
def test_fast_lexer_agrees_with_lark_on_any_text(text):
    lexer, _ = _fast()
    try:
        expected = _tokens(_BASIC.lex(text))
    except lark.exceptions.UnexpectedCharacters as e:
        with pytest.raises(lark.exceptions.UnexpectedCharacters) as caught:
            list(lexer.lex(text))
        assert (caught.value.line, caught.value.column) == (e.line, e.column)
        return
    assert _tokens(lexer.lex(text)) == expected
