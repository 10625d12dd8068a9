"""The completion engine (crmql.surfaces.completion): what could come next, as a pure function of
the text, and the two surfaces (shell, notebook) as thin adapters that agree with it."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from prompt_toolkit.completion import CompleteEvent
from prompt_toolkit.document import Document

from crmql.plan.bind import AGGREGATES, FUNCTIONS
from crmql.plan.catalog import Column, ColumnType, Table
from crmql.plan.pushdown import Equality
from crmql.surfaces.completion import CompletionEngine, Suggestion, build_keyword_parser
from crmql.surfaces.magic.complete import Completer as NotebookCompleter
from crmql.surfaces.repl.commands import COMMANDS
from crmql.surfaces.repl.completer import CrmqlCompleter
from crmql.surfaces.repl.schema import SchemaCache

PEOPLE = Table("crm", "people", (
    Column("id", ColumnType.STRING, filters=(Equality("eq"),)),
    Column("contact-email", ColumnType.STRING),
    Column("date", ColumnType.DATE),
    Column("stage", ColumnType.STRING, options=("Open", "Won't fix")),
    Column("vip", ColumnType.BOOLEAN),
))
DEALS = Table("crm", "deals", (Column("id", ColumnType.STRING), Column("person_id", ColumnType.STRING),
                               Column("amount", ColumnType.FLOAT)))


class Catalog:
    """A catalog that records which tables were asked for (it must answer at once)."""

    connections = ["crm", "hub"]

    def __init__(self) -> None:
        self.asked: list[str] = []

    def table_names(self, connection: str) -> list[str] | None:
        return {"crm": ["people", "deals"], "hub": ["notes"]}.get(connection)

    def table(self, connection: str, name: str) -> Table | None:
        self.asked.append(f"{connection}.{name}")
        return {"people": PEOPLE, "deals": DEALS}.get(name) if connection == "crm" else None


@pytest.fixture(scope="module")
def parser():
    return build_keyword_parser()


@pytest.fixture
def engine(parser) -> CompletionEngine:
    return CompletionEngine(Catalog(), parser=parser, functions=FUNCTIONS, aggregates=AGGREGATES, commands=COMMANDS)


def kinds(found: list[Suggestion]) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for s in found:
        out.setdefault(s.kind, []).append(s.text)
    return out


def test_statement_start_is_the_statements(engine: CompletionEngine) -> None:
    assert [s.text for s in engine.complete("")][:3] == ["SELECT", "EXPLAIN", "EXPLAIN ANALYZE"]
    assert all(s.kind == "keyword" and s.start == 0 for s in engine.complete(""))


def test_tables_after_from_and_after_a_connection(engine: CompletionEngine) -> None:
    got = kinds(engine.complete("SELECT * FROM "))
    assert got["connection"] == ["crm", "hub"]
    assert got["table"] == ["crm.people", "crm.deals", "hub.notes"]
    (s,) = engine.complete("SELECT * FROM crm.de")
    assert (s.text, s.start, s.kind, s.meta) == ("deals", -2, "table", "table · 3 columns")


def test_columns_of_the_tables_in_scope_quoted_as_the_grammar_needs(engine: CompletionEngine) -> None:
    text = "SELECT  FROM crm.people"
    got = kinds(engine.complete(text, 7))
    assert got["column"] == ["id", '"contact-email"', '"date"', "stage", "vip"]
    assert "DISTINCT" in got["keyword"]
    (email,) = [s for s in engine.complete(text, 7) if s.display == "contact-email"]
    assert email.meta == "string · local filter"
    found = [(s.display, s.meta) for s in engine.complete("SELECT i FROM crm.people", 8) if s.kind == "column"]
    assert found[0] == ("id", "string · pushed: =, IN")  # a prefix match first, then names containing "i"
    assert [d for d, _ in found] == ["id", "contact-email", "vip"]


def test_alias_narrows_to_one_table(engine: CompletionEngine) -> None:
    text = "SELECT d.am FROM crm.people p JOIN crm.deals d ON d.person_id = p.id"
    assert [(s.text, s.start) for s in engine.complete(text, len("SELECT d.am"))] == [("amount", -2)]


def test_enum_and_boolean_values_after_a_comparison(engine: CompletionEngine) -> None:
    assert [s.text for s in engine.complete("SELECT * FROM crm.people WHERE stage = ")] == ["'Open'", "'Won''t fix'"]
    assert [s.text for s in engine.complete("SELECT * FROM crm.people WHERE stage IN ('Open', ")] == ["'Won''t fix'"]
    assert [s.text for s in engine.complete("SELECT * FROM crm.people WHERE vip = t")] == ["true"]


def test_a_dashed_name_typed_bare_completes_quoted(engine: CompletionEngine) -> None:
    (s,) = engine.complete("SELECT contact-em FROM crm.people", len("SELECT contact-em"))
    assert (s.text, s.start, s.kind) == ('"contact-email"', -len("contact-em"), "column")


def test_no_aggregate_offered_in_where(engine: CompletionEngine) -> None:
    assert "count(" in [s.text for s in engine.complete("SELECT cou")]
    assert "count(" not in [s.text for s in engine.complete("SELECT * FROM crm.people WHERE cou")]


def test_backslash_commands_and_their_arguments(engine: CompletionEngine) -> None:
    assert [s.text for s in engine.complete("\\ti")] == ["\\timing"]
    assert [s.text for s in engine.complete("\\dt ")] == ["crm", "hub"]
    assert [s.text for s in engine.complete("\\format j")] == ["json", "jsonl"]
    assert engine.complete("\\i rep") == [Suggestion("rep", -3, "path")]  # the surface expands paths


def test_describe_tables_false_asks_no_table_for_names() -> None:
    catalog = Catalog()
    engine = CompletionEngine(catalog, describe_tables=False)
    assert [s.text for s in engine.complete("SELECT * FROM crm.") if s.kind == "table"] == ["people", "deals"]
    assert catalog.asked == []  # listing names loads no schema (an Atlas template would be a request)


def test_the_engine_never_raises_on_odd_text(engine: CompletionEngine) -> None:
    for text in ["'", '"', "SELECT '", "SELECT \"x", "/* ", "SELECT * FROM crm.people WHERE (((", ";;", "\\"]:
        assert isinstance(engine.complete(text), list)


# ---- the two surfaces are adapters of the one engine ---------------------------------------------

def _shell(parser) -> CrmqlCompleter:
    schema = SchemaCache(["crm", "hub"], lambda c: {"crm": {"people": PEOPLE, "deals": DEALS}, "hub": {}}[c])
    schema.load_all()
    assert schema.wait(5)
    return CrmqlCompleter(schema, parser=parser, functions=FUNCTIONS, aggregates=AGGREGATES)


def _notebook() -> NotebookCompleter:
    tables = {"crm": {"people": PEOPLE, "deals": DEALS}, "hub": {}}
    session = SimpleNamespace(
        config=SimpleNamespace(connections=list(tables)),
        connector=lambda name: SimpleNamespace(table_names=lambda: list(tables[name])),
        table=lambda c, t: tables[c][t],
    )
    return NotebookCompleter(lambda: session)


@pytest.mark.parametrize("text,cursor", [
    ("SELECT  FROM crm.people", 7),
    ("SELECT p.st FROM crm.people p", len("SELECT p.st")),
    ("SELECT * FROM crm.pe", None),
    ("SELECT a FROM crm.deals d JOIN crm.people p ON p.id = d.person_id", len("SELECT a")),
])
def test_shell_and_notebook_offer_the_engines_names(parser, text: str, cursor: int | None) -> None:
    cursor = len(text) if cursor is None else cursor
    engine = CompletionEngine(Catalog(), parser=parser)
    names = [s for s in engine.complete(text, cursor) if s.kind in ("table", "column")]
    shell = list(_shell(parser).get_completions(Document(text, cursor), CompleteEvent(completion_requested=True)))
    assert [(c.text, c.start_position) for c in shell if c.display_meta_text not in ("keyword", "function", "connection")] \
        == [(s.text, s.start) for s in names]
    fragment, notebook = _notebook().complete(text, cursor)
    # the notebook replaces the whole fragment (`p.st` -> `p.status`) and offers prefix matches only
    typed = text[cursor - len(fragment):cursor]
    expected = [typed[: len(typed) + s.start] + s.text for s in names]
    assert [t for t, _ in notebook] == [e for e in expected if e.lower().replace('"', "").startswith(typed.lower().replace('"', ""))]

