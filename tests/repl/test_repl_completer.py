"""The shell's completer on prompt_toolkit Documents: keywords, connections and tables, columns in
scope (through aliases, quoted field ids), enum options after = and IN (, backslash commands, and a
schema cache that never blocks typing."""

from __future__ import annotations

import threading
import time

import pytest
from prompt_toolkit.completion import CompleteEvent
from prompt_toolkit.document import Document

from crmql.plan.catalog import Column, ColumnType, Table
from crmql.connectors.azavista.connector import AzavistaConnector
from crmql.plan.pushdown import Equality
from crmql.language.names import quote_ident
from crmql.surfaces.completion import build_keyword_parser
from crmql.surfaces.repl.completer import CrmqlCompleter
from crmql.surfaces.repl.schema import SchemaCache

AZAVISTA = AzavistaConnector("azavista", {"base_url": "https://example.invalid", "client_id": "x", "client_secret": "y"})

# a vendor with field ids that must be quoted (Atlas-style), a keyword-named column and an enum
CRM_PEOPLE = Table("crm", "people", (
    Column("id", ColumnType.STRING, filters=(Equality("eq", None, case_sensitive=True),)),
    Column("contact-email", ColumnType.STRING, "e-mail", filters=(Equality("eq", None, case_sensitive=False),)),
    Column("contact-phone", ColumnType.STRING, "phone"),
    Column("date", ColumnType.DATE, "keyword-named"),
    Column("deal-stage", ColumnType.STRING, "stage", options=("Open", "Won't fix", "Closed won")),
    Column("vip", ColumnType.BOOLEAN, "very important"),
))


def _loader(conn: str) -> dict[str, Table]:
    if conn == "azavista":
        return AZAVISTA.tables()
    if conn == "crm":
        return {"people": CRM_PEOPLE}
    raise KeyError(conn)


@pytest.fixture(scope="module")
def keyword_parser():
    return build_keyword_parser()


@pytest.fixture(scope="module")
def completer(keyword_parser) -> CrmqlCompleter:
    schema = SchemaCache(["azavista", "crm"], _loader)
    schema.load_all()
    assert schema.wait(5)
    from crmql.plan.bind import FUNCTIONS

    return CrmqlCompleter(schema, parser=keyword_parser, functions=FUNCTIONS)


def complete(completer: CrmqlCompleter, text: str, cursor: int | None = None):
    doc = Document(text, len(text) if cursor is None else cursor)
    return list(completer.get_completions(doc, CompleteEvent(completion_requested=True)))


def texts(completer, text, cursor=None) -> list[str]:
    return [c.text for c in complete(completer, text, cursor)]


def by_text(completer, text, cursor=None) -> dict:
    return {c.text: c for c in complete(completer, text, cursor)}


# ---- keywords ---------------------------------------------------------------------------------

def test_statement_start_offers_the_statements(completer):
    got = texts(completer, "")
    assert got[:3] == ["SELECT", "EXPLAIN", "EXPLAIN ANALYZE"]
    assert {"SHOW TABLES", "DESCRIBE"} <= set(got)
    assert "WHERE" not in got


def test_keyword_prefix_keeps_the_users_case(completer):
    assert texts(completer, "sel") == ["select"]
    assert texts(completer, "SEL") == ["SELECT"]


def test_keywords_after_a_table_are_the_clauses_that_fit(completer):
    got = texts(completer, "SELECT * FROM azavista.events ")
    assert {"WHERE", "ORDER BY", "GROUP BY", "JOIN", "LEFT JOIN", "LIMIT", "AS"} <= set(got)
    assert "SELECT" not in got and "FROM" not in got


def test_operators_after_a_column_in_where(completer):
    got = set(texts(completer, "SELECT * FROM azavista.events WHERE name "))
    assert {"LIKE", "ILIKE", "IN", "IS", "BETWEEN", "NOT", "AND", "OR"} <= got
    assert "name" not in got  # no column right after a column


def test_keywords_fall_back_to_all_before_the_parser_is_warm():
    schema = SchemaCache(["azavista"], _loader)
    c = CrmqlCompleter(schema)  # no parser yet
    assert "WHERE" in texts(c, "SELECT * FROM azavista.events WH") or "WHERE" in [t.upper() for t in texts(c, "SELECT * FROM azavista.events WH")]
    assert texts(c, "")[:1] == ["SELECT"]


# ---- connections and tables ---------------------------------------------------------------------

def test_from_offers_connections_first_then_tables(completer):
    got = complete(completer, "SELECT * FROM ")
    names = [c.text for c in got]
    assert names[:2] == ["azavista", "crm"]
    assert got[0].display_meta_text == "connection"
    assert "azavista.events" in names and "crm.people" in names


def test_from_prefix_completes_the_connection(completer):
    assert texts(completer, "SELECT * FROM aza")[0] == "azavista"


def test_tables_of_a_connection_after_the_dot(completer):
    got = complete(completer, "SELECT * FROM azavista.")
    assert [c.text for c in got] == ["contacts", "events", "organizations"]
    assert "columns" in got[0].display_meta_text


def test_table_prefix_replaces_only_the_table_part(completer):
    (c,) = complete(completer, "SELECT * FROM azavista.ev")
    assert c.text == "events" and c.start_position == -2


def test_join_offers_tables_too(completer):
    got = texts(completer, "SELECT * FROM azavista.events e JOIN azavista.co")
    assert got == ["contacts"]


def test_show_tables_from_offers_only_connections(completer):
    assert texts(completer, "SHOW TABLES FROM ") == ["azavista", "crm"]


def test_describe_offers_qualified_tables(completer):
    got = texts(completer, "DESCRIBE ")
    assert "azavista" in got and "azavista.events" in got


# ---- columns in scope ---------------------------------------------------------------------------

def test_select_list_offers_columns_of_the_from_table(completer):
    text = "SELECT  FROM azavista.events"
    got = texts(completer, text, cursor=len("SELECT "))
    assert {"name", "event_type", "start", "end", "price"} <= set(got)
    assert "first_name" not in got  # a contacts column


def test_select_prefix_before_from_is_typed_later(completer):
    text = "SELECT na FROM azavista.events"
    got = texts(completer, text, cursor=len("SELECT na"))
    assert got[0] == "name"


def test_where_offers_columns_with_type_and_pushdown(completer):
    got = by_text(completer, "SELECT * FROM azavista.contacts WHERE ")
    assert "pushed" in got["email"].display_meta_text and "string" in got["email"].display_meta_text
    assert got["external_id"].display_meta_text.endswith("local filter")
    assert "timestamp" in got["created_at"].display_meta_text


def test_where_prefix(completer):
    assert texts(completer, "SELECT * FROM azavista.events WHERE ev")[0] == "event_type"


def test_and_or_offer_columns(completer):
    for joiner in ("AND", "OR"):
        got = texts(completer, f"SELECT * FROM azavista.events WHERE name = 'x' {joiner} ")
        assert "capacity" in got


def test_order_by_and_group_by_offer_columns(completer):
    assert "start" in texts(completer, "SELECT * FROM azavista.events ORDER BY ")
    assert "event_type" in texts(completer, "SELECT event_type, COUNT(*) FROM azavista.events GROUP BY ")


def test_alias_narrows_to_its_table(completer):
    text = "SELECT e. FROM azavista.events e JOIN azavista.organizations o ON o.id = e.id"
    got = texts(completer, text, cursor=len("SELECT e."))
    assert "event_type" in got and "industry" not in got


def test_alias_with_as_and_prefix(completer):
    got = texts(completer, "SELECT * FROM azavista.events AS ev WHERE ev.st")
    assert sorted(got[:2]) == ["start", "status"]  # prefix matches first
    assert "registered_count" in got[2:]  # then the ones containing it


def test_on_clause_through_aliases(completer):
    got = texts(completer, "SELECT * FROM azavista.contacts c JOIN azavista.organizations o ON o.id = c.")
    assert "organization_id" in got and "industry" not in got


def test_table_name_works_as_a_qualifier(completer):
    got = texts(completer, "SELECT events.na FROM azavista.events", cursor=len("SELECT events.na"))
    assert got[0] == "name" and "industry" not in got


def test_two_tables_in_scope_show_which_table(completer):
    got = by_text(completer, "SELECT * FROM azavista.contacts c JOIN azavista.organizations o ON ")
    assert got["industry"].display_meta_text.startswith("organizations")
    assert got["first_name"].display_meta_text.startswith("contacts")


def test_scope_is_the_statement_under_the_cursor(completer):
    text = "SELECT * FROM azavista.organizations; SELECT * FROM azavista.events WHERE "
    got = texts(completer, text)
    assert "event_type" in got and "industry" not in got


def test_strings_and_comments_do_not_confuse_the_scope(completer):
    got = texts(completer, "SELECT * /* FROM crm.people */ FROM azavista.events WHERE name = 'FROM x' AND ")
    assert "event_type" in got and "contact-email" not in got


def test_functions_are_offered_with_a_prefix(completer):
    got = complete(completer, "SELECT lo")
    assert any(c.text == "lower(" and c.display_meta_text == "function" for c in got)


# ---- quoted field ids ---------------------------------------------------------------------------

def test_field_ids_needing_quotes_are_inserted_quoted(completer):
    got = complete(completer, "SELECT * FROM crm.people WHERE cont")
    assert [c.text for c in got][:2] == ['"contact-email"', '"contact-phone"']
    assert got[0].start_position == -4 and got[0].display_text == "contact-email"


def test_open_quote_completes_the_quoted_name(completer):
    got = complete(completer, 'SELECT * FROM crm.people WHERE "contact-e')
    assert [c.text for c in got] == ['"contact-email"']
    assert got[0].start_position == -len('"contact-e')


def test_keyword_named_column_is_quoted(completer):
    assert '"date"' in texts(completer, "SELECT * FROM crm.people WHERE da")


def test_quoted_name_after_an_alias(completer):
    got = texts(completer, 'SELECT p."deal FROM crm.people p', cursor=len('SELECT p."deal'))
    assert got == ['"deal-stage"']


def test_quote_ident():
    assert quote_ident("name") == "name"
    assert quote_ident('we"ird') == '"we""ird"'
    assert quote_ident("select") == '"select"'


# ---- enum options -------------------------------------------------------------------------------

def test_options_after_equals(completer):
    got = complete(completer, "SELECT * FROM azavista.events WHERE event_type = ")
    assert [c.text for c in got][:3] == ["'marketing'", "'sales'", "'internal'"]
    assert got[0].display_meta_text == "event_type option"


def test_options_after_not_equals_with_a_prefix(completer):
    assert texts(completer, "SELECT * FROM azavista.events WHERE status <> 'dr") == ["'draft'"]


def test_options_after_in_paren(completer):
    got = texts(completer, "SELECT * FROM azavista.events WHERE event_type IN (")
    assert "'webinar'" in got and len(got) == 7


def test_options_in_list_skip_the_ones_already_listed(completer):
    got = texts(completer, "SELECT * FROM azavista.events WHERE event_type NOT IN ('sales', 'marketing', ")
    assert "'sales'" not in got and "'marketing'" not in got and "'webinar'" in got


def test_options_through_an_alias_and_quoted_column(completer):
    got = complete(completer, 'SELECT * FROM crm.people p WHERE p."deal-stage" = \'won')
    assert [c.text for c in got] == ["'Won''t fix'", "'Closed won'"]
    assert got[0].start_position == -len("'won")


def test_boolean_columns_offer_true_false(completer):
    assert texts(completer, "SELECT * FROM crm.people WHERE vip = ") == ["TRUE", "FALSE"]


def test_a_free_text_column_offers_no_values(completer):
    got = texts(completer, "SELECT * FROM azavista.events WHERE name = 'wor")
    assert got == []


# ---- backslash commands -------------------------------------------------------------------------

def test_backslash_lists_commands(completer):
    got = complete(completer, "\\")
    names = [c.text for c in got]
    assert {"\\?", "\\q", "\\dt", "\\d", "\\x", "\\timing", "\\format", "\\o", "\\i", "\\e", "\\conninfo", "\\refresh"} <= set(names)
    assert all(c.display_meta_text for c in got)


def test_backslash_prefix(completer):
    assert texts(completer, "\\fo") == ["\\format"]
    assert texts(completer, "\\d")[:2] == ["\\d", "\\dt"]


def test_backslash_arguments(completer):
    assert texts(completer, "\\format ") == ["table", "csv", "json", "jsonl", "markdown"]
    assert texts(completer, "\\x a") == ["auto"]
    assert texts(completer, "\\dt ") == ["azavista", "crm"]
    assert "azavista.events" in texts(completer, "\\d ")
    assert texts(completer, "\\d azavista.ev") == ["events"]


def test_backslash_file_argument(completer, tmp_path, monkeypatch):
    (tmp_path / "report.sql").write_text("SELECT 1;")
    monkeypatch.chdir(tmp_path)
    (c,) = complete(completer, "\\i rep")
    assert c.text == "ort.sql" and c.display_text == "report.sql"


# ---- the schema cache ---------------------------------------------------------------------------

def test_completion_never_waits_for_a_slow_schema():
    release = threading.Event()
    calls = []

    def slow(conn: str) -> dict[str, Table]:
        calls.append(conn)
        release.wait(10)
        return _loader(conn)

    schema = SchemaCache(["azavista"], slow)
    c = CrmqlCompleter(schema)
    started = time.perf_counter()
    got = texts(c, "SELECT * FROM azavista.events WHERE ")
    assert time.perf_counter() - started < 1.0  # not the 10 s the loader waits
    assert "event_type" not in got  # not loaded yet
    texts(c, "SELECT * FROM azavista.")  # a second ask starts no second load
    release.set()
    assert schema.wait(5)
    assert calls == ["azavista"]
    assert "event_type" in texts(c, "SELECT * FROM azavista.events WHERE ")


def test_refresh_reloads_and_failures_do_not_break_completion():
    loads = []

    def loader(conn: str) -> dict[str, Table]:
        loads.append(conn)
        if conn == "broken":
            raise RuntimeError("vendor down")
        return _loader(conn)

    notified = []
    schema = SchemaCache(["azavista", "broken"], loader, on_loaded=notified.append)
    schema.load_all()
    assert schema.wait(5)
    assert schema.tables("broken") is None and "vendor down" in (schema.error("broken") or "")
    assert notified == ["azavista"]
    schema.refresh()
    assert schema.tables("azavista") is None  # dropped, reloading
    assert schema.wait(5)
    assert schema.tables("azavista") is not None
    assert loads.count("azavista") == 2


def test_dashed_field_id_typed_without_quotes(completer):
    got = complete(completer, "SELECT * FROM crm.people WHERE contact-e")
    assert [c.text for c in got] == ['"contact-email"']
    assert got[0].start_position == -len("contact-e")
    got = complete(completer, "SELECT p.deal-s FROM crm.people p", cursor=len("SELECT p.deal-s"))
    assert [c.text for c in got] == ['"deal-stage"']


def test_subtraction_is_not_taken_for_a_field_id(completer):
    got = texts(completer, "SELECT capacity-reg FROM azavista.events", cursor=len("SELECT capacity-reg"))
    assert got[0] == "registered_count"


def test_wait_returns_after_the_loaded_hook_ran():
    seen = []

    def hook(conn: str) -> None:
        time.sleep(0.05)  # a slow display hook
        seen.append(conn)

    schema = SchemaCache(["azavista", "crm"], _loader, on_loaded=hook)
    schema.load_all()
    assert schema.wait(5)
    assert sorted(seen) == ["azavista", "crm"]


def test_a_hook_may_wait_for_the_other_loads():
    waited = []
    schema = SchemaCache(["azavista", "crm"], _loader)
    schema.on_loaded = lambda conn: waited.append(schema.wait(5))
    schema.load_all()
    assert schema.wait(5)
    assert waited == [True, True]


def test_a_load_that_ends_after_refresh_keeps_the_newer_load():
    releases = [threading.Event(), threading.Event()]
    calls = []

    def loader(conn: str) -> dict[str, Table]:
        calls.append(conn)
        releases[len(calls) - 1].wait(5)
        return _loader(conn)

    schema = SchemaCache(["azavista"], loader)
    assert schema.tables("azavista") is None
    older = schema._loading["azavista"]
    schema.refresh()  # while the first load still runs
    assert schema.tables("azavista") is None  # a second load starts
    newer = schema._loading["azavista"]
    while len(calls) < 2:
        time.sleep(0.001)
    releases[0].set()  # the old load ends first: it must not forget the newer one
    older.join(5)
    assert schema._loading.get("azavista") is newer
    assert schema.tables("azavista") is None and len(calls) == 2  # no third load meanwhile
    releases[1].set()
    assert schema.wait(5)
    assert schema.tables("azavista") is not None and len(calls) == 2
