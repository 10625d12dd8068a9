"""The one identifier quoter (crmql.language.names.quote_ident): every name it writes reads back
through the parser as that same name, in every position a name stands (column, qualifier,
connection, table), and the surfaces (EXPLAIN's text, the shell, the notebook) use it."""

from __future__ import annotations

import ast as pyast
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from crmql.exec.localsql import duck_ident, show
from crmql.language import ast
from crmql.language.names import keywords, quote_ident, unquote_ident
from crmql.language.parser import parse
from crmql.surfaces.completion import CompletionEngine


def _round_trip(name: str) -> None:
    q = quote_ident(name)
    stmt = parse(f"SELECT {q}, {q}.{q} FROM {q}.{q} AS {q} WHERE {q} = 1")
    assert stmt.items[0].expr == ast.Column(name)
    assert stmt.items[1].expr == ast.Column(name, name)
    assert (stmt.table.connection, stmt.table.table, stmt.table.alias) == (name, name, name)
    assert stmt.where.left == ast.Column(name)
    assert unquote_ident(q) == name


@pytest.mark.parametrize("name", ["select", "SELECT", "Limit", "date", "timestamp", "desc", "tables",  # keywords
                                  "Name", "eventType", "ÉVÉNEMENT",  # mixed case, non-ASCII
                                  "two words", " padded ", "tab\there",  # spaces
                                  'say "hi"', '"', '""', "it's",  # quotes
                                  "contact-email", "a$b", "_x", "x1", "1x", "a.b", "a;b", "--x"])
def test_a_quoted_name_round_trips_through_the_parser(name: str) -> None:
    _round_trip(name)


def test_every_keyword_is_quoted_and_round_trips() -> None:
    for kw in sorted(keywords()):
        for name in (kw, kw.lower(), kw.title()):
            assert quote_ident(name).startswith('"'), name
            _round_trip(name)


def test_bare_exactly_when_the_grammar_reads_it_back() -> None:
    assert [quote_ident(n) for n in ("event_type", "Name", "a$b", "end")] == ["event_type", "Name", "a$b", "end"]
    assert [quote_ident(n) for n in ("1x", "x-y", "", "é")] == ['"1x"', '"x-y"', '""', '"é"']


@settings(max_examples=200, deadline=None)
@given(st.text(st.characters(blacklist_categories=("Cs", "Cc")), min_size=1, max_size=20))
def test_any_printable_name_round_trips(name: str) -> None:
    _round_trip(name)


class _Names:
    """A catalog whose connection and table are named like keywords and with a space."""

    connections = ["select"]

    def table_names(self, connection: str) -> list[str]:
        return ["two words", "plain"]

    def table(self, connection: str, name: str) -> None:
        return None


def test_the_surfaces_use_the_one_quoter() -> None:
    # the completion engine (shell and notebook) writes names with it
    engine = CompletionEngine(_Names())
    offered = [s.text for s in engine.complete("SELECT * FROM ") if s.kind in ("connection", "table")]
    assert offered == [quote_ident("select"), f'{quote_ident("select")}.{quote_ident("two words")}',
                       f'{quote_ident("select")}.plain'] == ['"select"', '"select"."two words"', '"select".plain']
    assert duck_ident("end") == '"end"' == quote_ident("end", always=True)
    # EXPLAIN's crmql text writes a keyword-named column so that it parses back
    assert show(ast.Compare("=", ast.Column("date"), ast.Literal(1, "integer"))) == '"date" = 1'


def test_one_function_named_quote_ident() -> None:
    """Only :mod:`crmql.language.names` defines a ``quote_ident`` (quoted only when needed); DuckDB's
    always-quoting one has its own name, :func:`crmql.exec.localsql.duck_ident`."""
    root = Path(__file__).resolve().parent.parent / "crmql"
    defined = sorted(str(path.relative_to(root)) for path in root.rglob("*.py")
                     for node in pyast.walk(pyast.parse(path.read_text(encoding="utf-8")))
                     if isinstance(node, pyast.FunctionDef) and node.name == "quote_ident")
    assert defined == ["language/names.py"]
    assert duck_ident("Name") == '"Name"' and quote_ident("Name") == "Name"
