"""Malformed statements and bad queries: each with the message a user sees.

Syntax errors are asserted on the parts that matter: the line, the column, the "expected ..."
phrase in words, what was found, and the hint (``None`` = there must be no hint). Query errors
(binding against the Azavista catalog) are asserted on their message and hint.

A hypothesis test feeds random text and mangled valid queries to the parser (and what parses, to
the binder and planner): only :class:`crmql.errors.CrmqlError` may ever come out, and a syntax
error's line and column always point into the input.
"""

from __future__ import annotations

import datetime as dt
import re
import string

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import crmql
from crmql.plan.bind import bind
from crmql.api.config import sandbox_config
from crmql.connectors.azavista.connector import AzavistaConnector
from crmql.errors import CrmqlError, QueryError, QuerySyntaxError
from crmql.language.parser import parse
from crmql.plan.planner import plan_query

NOW = dt.datetime(2025, 6, 15, 12, 0, tzinfo=dt.timezone.utc)

_VALUE = "a value (a 'string', a number, DATE '...', TIMESTAMP '...', TRUE/FALSE, NULL or a :parameter)"
_RESERVED = '{0} is a reserved word; write "{1}" (double quotes) to use it as a name'

# (id, text, line, column, message, hint). message: the exact message, or a list of parts it must
# contain (only where the message is a generic list of what could come next).
SYNTAX_CASES = [
    ("empty input", "", 1, 1,
     "empty statement: expected SELECT, EXPLAIN, SHOW TABLES or DESCRIBE", None),
    ("only whitespace", "  \n\t ", 1, 1,
     "empty statement: expected SELECT, EXPLAIN, SHOW TABLES or DESCRIBE", None),
    ("only a comment and a semicolon", "-- nothing here\n/* nor here */ ;", 1, 1,
     "empty statement: expected SELECT, EXPLAIN, SHOW TABLES or DESCRIBE", None),
    ("not a statement", "UPDATE azavista.events SET name = 'x'", 1, 1,
     "expected a statement: SELECT, EXPLAIN, SHOW TABLES or DESCRIBE, found 'UPDATE'", None),
    ("missing FROM", "SELECT name", 1, 12,
     ["expected ", ", found the end of the statement"], "every query needs FROM connection.table"),
    # "name azavista" reads as a column and its alias; the dot is what cannot follow
    ("missing FROM before a table", "SELECT name azavista.events", 1, 21, "expected ',' or FROM, found '.'", None),
    ("two names without a comma", "SELECT a b c FROM x.y", 1, 12,
     "expected ',' or FROM, found 'c'", "separate select items with commas, or add FROM before the table"),
    ("SELECT FROM x.y", "SELECT FROM x.y", 1, 8,
     "expected a column, * or an expression after SELECT, found the keyword FROM",
     "list the columns to read (or *) between SELECT and FROM"),
    ("trailing comma", "SELECT name, FROM azavista.events", 1, 14,
     "expected another item after ',', found the keyword FROM", "remove the trailing comma"),
    ("trailing comma in ORDER BY", "SELECT a FROM x.y ORDER BY a DESC,", 1, 35,
     "expected another item after ',', found the end of the statement", "remove the trailing comma"),
    ("trailing comma in IN list", "SELECT a FROM x.y WHERE a IN (1,)", 1, 33,
     "expected another item after ',', found ')'", "remove the trailing comma"),
    ("table without connection", "SELECT name FROM events", 1, 24,
     "expected '.' after 'events': tables are written connection.table, found the end of the statement",
     "e.g. azavista.events"),
    ("table without connection before WHERE", "SELECT name FROM events WHERE city = 'x'", 1, 25,
     "expected '.' after 'events': tables are written connection.table, found the keyword WHERE",
     "e.g. azavista.events"),
    ("DESCRIBE without connection", "DESCRIBE contacts", 1, 18,
     "expected '.' after 'contacts': tables are written connection.table, found the end of the statement",
     "e.g. azavista.contacts"),
    ("table in single quotes", "SELECT a FROM 'azavista.events'", 1, 15,
     "expected a table name after FROM, written connection.table (e.g. azavista.events), "
     "found the string 'azavista.events'",
     "table names are not quoted with single quotes; write connection.table"),
    ("missing table name after the dot", "SELECT a FROM azavista.", 1, 24,
     "expected a name after 'azavista.', found the end of the statement", None),
    ("double equals", "SELECT a FROM x.y WHERE a == 1", 1, 28,
     f"expected {_VALUE} after the comparison, found '='", "use a single = for equality"),
    ("IN without parentheses", "SELECT a FROM x.y WHERE a IN 1", 1, 30,
     "expected a list of values in parentheses after IN, e.g. IN ('marketing', 'sales'), found '1'", None),
    ("empty IN list", "SELECT a FROM x.y WHERE a IN ()", 1, 31,
     "expected a value or an expression after '(', found ')'", None),
    ("unclosed IN list", "SELECT a FROM x.y WHERE a IN (1, 2", 1, 35,
     "expected ',' or ')', found the end of the statement", None),
    ("unterminated string", "SELECT a FROM x.y WHERE name = 'abc", 1, 32,
     "unterminated string: a quote ' is opened here and never closed",
     "close the string with ' (write '' for a quote inside it)"),
    ("unterminated string on line 2", "SELECT a FROM x.y\nWHERE name = 'Berlin\nLIMIT 5", 2, 14,
     "unterminated string: a quote ' is opened here and never closed",
     "close the string with ' (write '' for a quote inside it)"),
    ("unterminated quoted name", 'SELECT "contact-email FROM azavista.contacts', 1, 8,
     'unterminated quoted name: a " is opened here and never closed',
     'close the name with " (write "" for a quote inside it)'),
    ("empty quoted name", 'SELECT a FROM x.y WHERE a = ""', 1, 29,
     'empty quoted name ""', "strings use single quotes (an empty string is ''); a quoted name needs a character"),
    ("bad DATE month", "SELECT a FROM x.y WHERE d > DATE '2025-13-01'", 1, 34,
     "invalid DATE literal '2025-13-01': expected YYYY-MM-DD, e.g. DATE '2025-03-01'", None),
    ("bad DATE day", "SELECT a FROM x.y WHERE d > DATE '2025-02-30'", 1, 34,
     "invalid DATE literal '2025-02-30': expected YYYY-MM-DD, e.g. DATE '2025-03-01'", None),
    ("DATE without quotes", "SELECT a FROM x.y WHERE d > DATE 2025", 1, 34,
     "expected a quoted date after DATE, e.g. DATE '2025-03-01', found '2025'", None),
    ("bad TIMESTAMP", "SELECT a FROM x.y WHERE d > TIMESTAMP 'yesterday'", 1, 39,
     "invalid TIMESTAMP literal 'yesterday': expected ISO-8601, e.g. TIMESTAMP '2025-03-01 09:30:00' "
     "or '2025-03-01T09:30:00+01:00'", None),
    ("bad TIMESTAMP hour", "SELECT a FROM x.y WHERE d > TIMESTAMP '2025-03-01 25:00:00'", 1, 39,
     "invalid TIMESTAMP literal '2025-03-01 25:00:00': expected ISO-8601, e.g. TIMESTAMP '2025-03-01 09:30:00' "
     "or '2025-03-01T09:30:00+01:00'", None),
    ("TIMESTAMP out of range in UTC", "SELECT a FROM x.y WHERE t > TIMESTAMP '9999-12-31 23:00:00-05:00'", 1, 39,
     "invalid TIMESTAMP literal '9999-12-31 23:00:00-05:00': out of range", None),
    ("TIMESTAMP before year 1 in UTC", "SELECT a FROM x.y WHERE t > TIMESTAMP '0001-01-01T00:00:00+01:00'", 1, 39,
     "invalid TIMESTAMP literal '0001-01-01T00:00:00+01:00': out of range", None),
    ("INTERVAL out of range", "SELECT a FROM x.y WHERE t > NOW() - INTERVAL '99999999999 days'", 1, 46,
     "invalid INTERVAL literal '99999999999 days': out of range", None),
    ("bad INTERVAL unit", "SELECT a FROM x.y WHERE d > NOW() - INTERVAL '7 fortnights'", 1, 46,
     "invalid INTERVAL literal '7 fortnights': unknown unit 'fortnight'; use seconds, minutes, hours, days, "
     "weeks, months or years", None),
    ("empty INTERVAL", "SELECT a FROM x.y WHERE d > NOW() - INTERVAL ''", 1, 46,
     "invalid INTERVAL literal '': empty interval; expected e.g. INTERVAL '7 days'", None),
    ("INTERVAL without a number", "SELECT a FROM x.y WHERE d > NOW() - INTERVAL 'days'", 1, 46,
     "invalid INTERVAL literal 'days': expected a number and a unit (seconds, minutes, hours, days, weeks, "
     "months, years), e.g. '7 days'", None),
    ("fractional months", "SELECT a FROM x.y WHERE d > NOW() - INTERVAL '1.5 months'", 1, 46,
     "invalid INTERVAL literal '1.5 months': months and years must be whole numbers", None),
    ("LIMIT with a word", "SELECT a FROM x.y LIMIT ten", 1, 25,
     "expected a whole number after LIMIT, found 'ten'", None),
    ("LIMIT with a string", "SELECT a FROM x.y LIMIT '10'", 1, 25,
     "expected a whole number after LIMIT, found the string '10'", None),
    ("LIMIT with a decimal", "SELECT a FROM x.y LIMIT 1.5", 1, 25,
     "expected a whole number after LIMIT, found '1.5'", None),
    ("LIMIT negative", "SELECT a FROM x.y LIMIT -1", 1, 25,
     "expected a whole number after LIMIT, found '-'", None),
    ("LIMIT without a number", "SELECT a FROM x.y LIMIT", 1, 24,
     "expected a whole number after LIMIT, found the end of the statement", None),
    ("OFFSET with a word", "SELECT a FROM x.y LIMIT 5 OFFSET five", 1, 34,
     "expected a whole number after OFFSET, found 'five'", None),
    ("reserved word as column", "SELECT select FROM x.y", 1, 8,
     "expected a column, * or an expression after SELECT, found the keyword SELECT",
     _RESERVED.format("SELECT", "select")),
    ("reserved word as second column", "SELECT name, order FROM azavista.events", 1, 14,
     "expected another item after ',', found the keyword ORDER", _RESERVED.format("ORDER", "order")),
    ("reserved word in WHERE", "SELECT a FROM x.y WHERE order = 1", 1, 25,
     "expected a condition, e.g. name = 'x' or start > DATE '2025-01-01' after WHERE, found the keyword ORDER",
     _RESERVED.format("ORDER", "order")),
    ("reserved word as alias", "SELECT a AS from FROM x.y", 1, 13,
     "expected a name after AS, found the keyword FROM", _RESERVED.format("FROM", "from")),
    ("keyword doubled is a typo, not a name", "SELECT a FROM x.y WHERE a = 1 AND AND b = 2", 1, 35,
     "expected a condition after AND, found the keyword AND", None),
    ("subquery", "SELECT name FROM azavista.events WHERE id IN (SELECT id FROM azavista.events)", 1, 47,
     "expected a value or an expression after '(', found the keyword SELECT",
     "subqueries are not supported; run the inner query first and pass its values with IN (...) or :params"),
    ("missing BY after ORDER", "SELECT a FROM x.y ORDER a", 1, 25, "expected BY after ORDER, found 'a'", None),
    ("missing BY after GROUP", "SELECT a FROM x.y GROUP a", 1, 25, "expected BY after GROUP, found 'a'", None),
    ("nothing after ORDER BY", "SELECT a FROM x.y ORDER BY", 1, 27,
     "expected a column or an expression after BY, found the end of the statement", None),
    ("nothing after WHERE", "SELECT a FROM x.y WHERE", 1, 24,
     "expected a condition, e.g. name = 'x' or start > DATE '2025-01-01' after WHERE, "
     "found the end of the statement", None),
    ("nothing after AND", "SELECT a FROM x.y WHERE a = 1 AND", 1, 34,
     "expected a condition after AND, found the end of the statement", None),
    ("NOT before the operator", "SELECT a FROM x.y WHERE a NOT = 1", 1, 31,
     "expected a condition after NOT, found '='", None),
    ("IS without NULL", "SELECT a FROM x.y WHERE a IS 1", 1, 30, "expected NULL or NOT NULL after IS, found '1'", None),
    ("LIKE without a pattern", "SELECT a FROM x.y WHERE a LIKE", 1, 31,
     "expected a pattern after LIKE, e.g. '%workshop%', found the end of the statement", None),
    ("unclosed parenthesis", "SELECT a FROM x.y WHERE (a = 1", 1, 31, "expected ')', found the end of the statement", None),
    ("extra closing parenthesis", "SELECT a FROM x.y WHERE a = 1)", 1, 30,
     "expected the end of the statement or ';', found ')'", None),
    ("COUNT( * unclosed", "SELECT COUNT(* FROM x.y", 1, 16, "expected ')', found the keyword FROM", None),
    ("COUNT(DISTINCT) without an argument", "SELECT COUNT(DISTINCT) FROM x.y", 1, 22,
     "expected a column or an expression after DISTINCT, found ')'", None),
    ("two statements", "SELECT a FROM x.y; SELECT b FROM x.y", 1, 20,
     "expected the end of the statement, found the keyword SELECT", None),
    ("OFFSET before LIMIT", "SELECT a FROM x.y OFFSET 5 LIMIT 1", 1, 28, ["found the keyword LIMIT"], None),
    ("backtick quotes", "SELECT `contact-email` FROM azavista.contacts", 1, 8,
     "unexpected character '`'", 'quote names with double quotes, e.g. "contact-email"'),
    ("colon without a name", "SELECT a FROM x.y WHERE a = :", 1, 29,
     "expected a parameter name after ':', e.g. :start_date", None),
    ("stray character", "SELECT a FROM x.y WHERE a = 1 # comment", 1, 31, "unexpected character '#'", None),
    ("SHOW alone", "SHOW", 1, 5, "expected TABLES after SHOW, found the end of the statement", None),
    ("SHOW TABLES FROM nothing", "SHOW TABLES FROM", 1, 17,
     "expected a connection name after SHOW TABLES FROM, e.g. azavista, found the end of the statement", None),
    ("DESCRIBE alone", "DESCRIBE", 1, 9,
     "expected a table name after DESCRIBE, written connection.table (e.g. azavista.events), "
     "found the end of the statement", None),
    ("EXPLAIN alone", "EXPLAIN", 1, 8, "expected a SELECT query after EXPLAIN, found the end of the statement", None),
    ("EXPLAIN of SHOW", "EXPLAIN SHOW TABLES", 1, 9, "expected a SELECT query after EXPLAIN, found the keyword SHOW", None),
    ("multi-line: error on line 3", "SELECT name,\n       city\nFROM azavista.events WHERE city = = 'Berlin'\nLIMIT 5",
     3, 35, f"expected {_VALUE} after the comparison, found '='", "use a single = for equality"),
    ("multi-line: end of input on line 3", "SELECT name\nFROM azavista.events\nWHERE capacity >\n\n", 3, 17,
     f"expected {_VALUE} after the comparison, found the end of the statement", None),
    ("CRLF line endings", "SELECT name\r\nFROM azavista.events\r\nWHERE a IN 1\r\n", 3, 12,
     "expected a list of values in parentheses after IN, e.g. IN ('marketing', 'sales'), found '1'", None),
]


@pytest.mark.parametrize("text, line, column, message, hint", [c[1:] for c in SYNTAX_CASES],
                         ids=[c[0] for c in SYNTAX_CASES])
def test_syntax_error(text, line, column, message, hint):
    with pytest.raises(QuerySyntaxError) as info:
        parse(text)
    e = info.value
    assert (e.line, e.column) == (line, column), str(e)
    if isinstance(message, str):
        assert e.message == message
    else:
        for part in message:
            assert part in e.message, (part, e.message)
    assert e.hint == hint
    # the rendered message: position, the source line, a caret under the column, the hint
    source = text.split("\n")[line - 1].rstrip("\r") if text else ""
    rendered = str(e).split("\n")
    assert rendered[0] == f"syntax error at line {line}, column {column}: {e.message}"
    assert rendered[1] == f"  {source}"
    assert rendered[2] == "  " + " " * (column - 1) + "^"
    assert rendered[3:] == ([f"  hint: {hint}"] if hint else [])


def test_enough_syntax_cases():
    assert len(SYNTAX_CASES) >= 30
    assert len({c[0] for c in SYNTAX_CASES}) == len(SYNTAX_CASES)


def test_multi_line_error_shows_the_right_line_and_caret():
    text = "SELECT name,\n  city\nFROM azavista.events WHERE capacity >> 5"
    with pytest.raises(QuerySyntaxError) as info:
        parse(text)
    assert str(info.value).split("\n")[:3] == [
        f"syntax error at line 3, column 38: expected {_VALUE} after the comparison, found '>'",
        "  FROM azavista.events WHERE capacity >> 5",
        "                                       ^",
    ]


def test_syntax_errors_are_crmql_errors_with_exit_code_1():
    with pytest.raises(CrmqlError) as info:
        parse("SELECT")
    assert isinstance(info.value, QuerySyntaxError) and info.value.exit_code == 1


def test_literal_error_inside_a_long_query_points_at_the_literal():
    text = "SELECT name\nFROM azavista.events\nWHERE event_type = 'sales'\n  AND start >= DATE '2025-1-1'"
    with pytest.raises(QuerySyntaxError) as info:
        parse(text)
    e = info.value
    assert (e.line, e.column) == (4, 21)
    assert e.source_line == "  AND start >= DATE '2025-1-1'"
    assert e.message.startswith("invalid DATE literal '2025-1-1'")


# ---- query errors: well-formed statements against the Azavista catalog ---------------------------

@pytest.fixture(scope="module")
def session():
    s = crmql.connect(sandbox_config())  # binding needs the catalog only: no request is made
    yield s
    s.close()


# (id, query, params, message, hint). hint: exact text, None for no hint, or ... for "not checked".
QUERY_CASES = [
    ("unknown connection", "SELECT * FROM azavist.events", {}, "unknown connection 'azavist'", "did you mean azavista or casavi?"),  # closest first
    ("unknown table", "SELECT * FROM azavista.event", {}, "unknown table 'azavista.event'",
     "did you mean azavista.events?"),
    ("unknown table, no close match", "SELECT * FROM azavista.invoices", {}, "unknown table 'azavista.invoices'",
     "azavista has: azavista.contacts, azavista.events, azavista.organizations"),
    ("unknown column", "SELECT nme FROM azavista.events", {}, "unknown column 'nme' in azavista.events",
     "did you mean name?"),
    ("unknown column in WHERE", "SELECT first_name FROM azavista.contacts WHERE emial = 'x'", {},
     "unknown column 'emial' in azavista.contacts", "did you mean email?"),
    ("double-quoted string as a value", "SELECT * FROM azavista.events WHERE name = \"Sales Summit\"", {},
     "unknown column 'Sales Summit' in azavista.events", "strings use single quotes: 'Sales Summit'"),
    ("double-quoted string close to a column", "SELECT * FROM azavista.events WHERE city = \"cty\"", {},
     "unknown column 'cty' in azavista.events", ...),
    ("unknown alias", "SELECT * FROM azavista.events e WHERE x.name = 'a'", {}, "unknown table or alias 'x'",
     "tables in this query: e"),
    ("missing parameter", "SELECT * FROM azavista.events WHERE event_type = :type", {},
     "no value for parameter :type",
     "pass it with --param type=VALUE (CLI) or params={'type': ...} (Python)"),
    ("missing IN parameter", "SELECT * FROM azavista.events WHERE id IN :ids", {}, "no value for parameter :ids", ...),
    ("empty IN parameter", "SELECT * FROM azavista.events WHERE id IN :ids", {"ids": []},
     "parameter :ids is an empty list", "IN needs at least one value"),
    ("list parameter outside IN", "SELECT * FROM azavista.events WHERE id = :ids", {"ids": ["a", "b"]},
     "parameter :ids is a list; lists are only allowed as IN :ids", None),
    ("aggregate in WHERE", "SELECT * FROM azavista.events WHERE COUNT(*) > 1", {},
     "aggregate COUNT() is not allowed in WHERE", "filter on aggregates with HAVING"),
    ("aggregate in GROUP BY", "SELECT country FROM azavista.events GROUP BY MAX(capacity)", {},
     "aggregate MAX() is not allowed in GROUP BY", None),
    ("SUM(*)", "SELECT SUM(*) FROM azavista.events", {}, "SUM(*) is not allowed; only COUNT(*)", None),
    ("unknown function", "SELECT foo(name) FROM azavista.events", {}, "unknown function foo()", ...),
    ("unknown function, close to a known one", "SELECT lowr(name) FROM azavista.events", {},
     "unknown function lowr()", "did you mean lower or floor?"),
    ("text for a number column", "SELECT * FROM azavista.events WHERE capacity = 'abc'", {},
     "capacity is an integer column and 'abc' is not a valid integer", "write a number, e.g. 500"),
    ("text for a timestamp column", "SELECT * FROM azavista.events WHERE start > 'not a date'", {},
     "start is a timestamp column and 'not a date' is not a valid timestamp",
     "write e.g. TIMESTAMP '2025-03-01 09:00:00' or '2025-03-01'"),
    ("number for a timestamp column", "SELECT * FROM azavista.events WHERE start > 5", {},
     "start is a timestamp column and cannot be compared with 5",
     "write e.g. TIMESTAMP '2025-03-01 09:00:00' or '2025-03-01'"),
    ("boolean for a number column", "SELECT * FROM azavista.events WHERE capacity = TRUE", {},
     "capacity is an integer column and cannot be compared with True", "write a number, e.g. 500"),
    ("text for a boolean column", "SELECT * FROM azavista.events WHERE is_virtual = 'maybe'", {},
     "is_virtual is a boolean column and cannot be compared with 'maybe'", "write TRUE or FALSE"),
    ("number for a boolean column", "SELECT * FROM azavista.events WHERE is_virtual IN (1, 2)", {},
     "is_virtual is a boolean column and cannot be compared with 2", "write TRUE or FALSE"),
    ("interval compared with a timestamp", "SELECT * FROM azavista.events WHERE start > INTERVAL '2 hours'", {},
     "start is a timestamp column and cannot be compared with INTERVAL '7200 seconds'",
     "write e.g. TIMESTAMP '2025-03-01 09:00:00' or '2025-03-01'"),
    ("date arithmetic out of range", "SELECT * FROM azavista.events WHERE start > NOW() - INTERVAL '3000 years'", {},
     "date arithmetic out of range: 2025-06-15 12:00:00+00:00 - INTERVAL '36000 months'",
     "dates and timestamps go from year 1 to year 9999"),
    ("bad text in a BETWEEN", "SELECT * FROM azavista.events WHERE start BETWEEN '2025-01-01' AND 'later'", {},
     "start is a timestamp column and 'later' is not a valid timestamp", ...),
    ("bad parameter type", "SELECT * FROM azavista.events WHERE capacity = :c", {"c": 1j},
     "cannot use a value of type complex as a parameter", ...),
    ("a value as the WHERE", "SELECT * FROM azavista.events WHERE 1", {}, "WHERE needs a condition, not a value",
     "e.g. WHERE name = 'x'"),
    ("LIMIT parameter not a number", "SELECT * FROM azavista.events LIMIT :n", {"n": "ten"},
     "LIMIT needs a whole number", "e.g. LIMIT 20"),
    ("negative LIMIT parameter", "SELECT * FROM azavista.events LIMIT :n", {"n": -1}, "LIMIT cannot be negative", None),
    ("table used twice", "SELECT * FROM azavista.events JOIN azavista.events ON id = id", {},
     "table name 'events' is used twice", "give each table its own alias"),
    ("ambiguous column", "SELECT name FROM azavista.events e JOIN azavista.organizations o ON e.city = o.city", {},
     "column 'name' is ambiguous", "write e.name or o.name"),
]


@pytest.mark.parametrize("text, params, message, hint", [c[1:] for c in QUERY_CASES], ids=[c[0] for c in QUERY_CASES])
def test_query_error(session, text, params, message, hint):
    with pytest.raises(QueryError) as info:
        bind(parse(text), session.table, params, now=NOW, text=text)
    assert info.value.message == message
    if hint is not ...:
        assert info.value.hint == hint
    assert info.value.exit_code == 1
    # every binding error points into the statement: a line, a column and a caret under the part at fault
    err = info.value
    assert err.line is not None and err.source_line is not None, f"not located: {err}"
    assert err.source_line == text.split("\n")[err.line - 1]
    assert 1 <= err.column <= len(err.source_line) and err.column + err.width - 1 <= len(err.source_line)


def test_session_reports_binding_errors_without_any_request(session):
    with pytest.raises(QueryError) as info:
        session.execute("SELECT * FROM azavista.event")
    assert str(info.value) == ("unknown table 'azavista.event', at line 1, column 15\n"
                               "  SELECT * FROM azavista.event\n"
                               "                ^^^^^^^^^^^^^^\n"
                               "  hint: did you mean azavista.events?")


# ---- hypothesis: nothing but CrmqlError, positions inside the input --------------------------------

VALID = [
    "SELECT * FROM azavista.events",
    "SELECT name, city AS c FROM azavista.events e WHERE e.capacity >= 10 AND city LIKE 'Ber%' ORDER BY name DESC LIMIT 5",
    "SELECT COUNT(*) FROM azavista.contacts WHERE organization_id IN ('a', 'b') OR email IS NULL",
    "SELECT country, COUNT(DISTINCT city) n FROM azavista.events GROUP BY country HAVING COUNT(*) > 2 OFFSET 1",
    "EXPLAIN ANALYZE SELECT name FROM azavista.events WHERE start > NOW() - INTERVAL '7 days'",
    "SELECT \"contact-email\" FROM azavista.contacts WHERE last_name = 'O''Neil' -- x\n",
    "SELECT name FROM azavista.events WHERE start BETWEEN DATE '2025-01-01' AND TIMESTAMP '2025-02-01T00:00:00+01:00'",
    "SELECT * FROM azavista.events WHERE NOT (event_type = :t OR status NOT IN :s) AND price * 2 > -1.5",
    "SHOW TABLES FROM azavista",
    "DESCRIBE azavista.organizations;",
    "SELECT first_name || ' ' || last_name FROM azavista.contacts c JOIN azavista.organizations o "
    "ON c.organization_id = o.id /* join */",
]

_TOKEN = re.compile(r"'(?:[^']|'')*'|\"(?:[^\"]|\"\")*\"|--[^\n]*|/\*.*?\*/|:\w+|\w+|<>|!=|<=|>=|\|\||\S", re.S)
TOKENS = [_TOKEN.findall(q) for q in VALID]
ALL_TOKENS = sorted({t for ts in TOKENS for t in ts})


@st.composite
def mangled(draw):
    """A valid query with tokens shuffled, duplicated, dropped or replaced."""
    tokens = list(draw(st.sampled_from(TOKENS)))
    how = draw(st.sampled_from(["shuffle", "resample", "drop", "duplicate", "replace", "truncate"]))
    if how == "shuffle":
        tokens = draw(st.permutations(tokens))
    elif how == "resample":
        tokens = draw(st.lists(st.sampled_from(tokens), max_size=2 * len(tokens)))
    elif how == "drop":
        i = draw(st.integers(0, len(tokens) - 1))
        tokens = tokens[:i] + tokens[i + 1:]
    elif how == "duplicate":
        i = draw(st.integers(0, len(tokens) - 1))
        tokens = tokens[:i] + [tokens[i]] + tokens[i:]
    elif how == "replace":
        i = draw(st.integers(0, len(tokens) - 1))
        tokens[i] = draw(st.sampled_from(ALL_TOKENS))
    else:
        tokens = tokens[:draw(st.integers(0, len(tokens)))]
    sep = draw(st.sampled_from([" ", "\n", "  ", "\t", "\r\n"]))
    return sep.join(tokens)


TEXTS = st.one_of(
    st.text(max_size=60),
    st.text(alphabet=string.printable, max_size=80),
    st.sampled_from(VALID).map(lambda q: q[: len(q) // 2]),
    mangled(),
)


def _check_syntax_error(text: str, e: QuerySyntaxError) -> None:
    lines = text.split("\n")  # the parser numbers lines by "\n" only
    assert 1 <= e.line <= len(lines), (text, e.line)
    assert 1 <= e.column <= len(lines[e.line - 1]) + 1, (text, e.line, e.column)
    assert e.source_line == lines[e.line - 1].rstrip("\r")
    assert e.message and str(e)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(TEXTS)
def test_parser_raises_only_syntax_errors(text):
    try:
        parse(text)
    except QuerySyntaxError as e:
        _check_syntax_error(text, e)


_AZAVISTA = AzavistaConnector("azavista", {"base_url": "http://127.0.0.1:1", "client_id": "x", "client_secret": "y"})


def _resolve(connection: str, table: str):
    if connection != "azavista":
        raise QueryError(f"unknown connection '{connection}'")
    return _AZAVISTA.table(table)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(mangled(), st.sampled_from([{}, {"t": "sales", "s": ["draft"], "n": 3}]))
def test_bind_and_plan_raise_only_crmql_errors(text, params):
    """Whatever parses, binding and planning either work or raise a CrmqlError (never a crash)."""
    try:
        stmt = parse(text)
    except QuerySyntaxError as e:
        _check_syntax_error(text, e)
        return
    if isinstance(stmt, crmql.language.ast.Explain):
        stmt = stmt.query
    if not isinstance(stmt, crmql.language.ast.Select):
        return
    try:
        bound = bind(stmt, _resolve, params, now=NOW, text=text)
        plan_query(bound, {"azavista": _AZAVISTA})
    except QueryError as e:
        str(e)  # renders
        if e.line is not None:  # a located error points inside the text, on the line it shows
            assert e.source_line == text.split("\n")[e.line - 1].rstrip("\r")
            assert 1 <= e.column <= len(e.source_line) + 1
    except CrmqlError:
        pass


@pytest.mark.parametrize("text", [
    "SELECT * FROM azavista.events WHERE start >= TIMESTAMP '0001-01-01 00:00:00'",
    "SELECT * FROM azavista.events WHERE start = TIMESTAMP '9999-12-31 23:59:59.999999'",
    "SELECT * FROM azavista.events WHERE start > TIMESTAMP '9999-12-31 23:00:00-05:00'",
    "SELECT * FROM azavista.events WHERE start > NOW() - INTERVAL '100000 years'",
    "SELECT * FROM azavista.events WHERE start > NOW() - INTERVAL '99999999999 seconds'",
    "SELECT * FROM azavista.events WHERE start > NOW() + INTERVAL '99999999999999 months'",
    "SELECT * FROM azavista.events WHERE start > INTERVAL '7 days'",
    "SELECT * FROM azavista.events WHERE capacity > INTERVAL '7 days'",
    "SELECT * FROM azavista.events WHERE capacity = 99999999999999999999999999 LIMIT 99999999999999999999",
    "SELECT * FROM azavista.events WHERE name LIKE 5 OR name LIKE NULL",
    "SELECT * FROM azavista.events WHERE is_virtual AND NOT is_virtual",
    "SELECT COUNT(*) FROM azavista.events WHERE NULL",
])
def test_extreme_values_never_crash(text):
    """Regression: these once escaped as OverflowError / AttributeError / ValueError."""
    try:
        bound = bind(parse(text), _resolve, {}, now=NOW, text=text)
        plan_query(bound, {"azavista": _AZAVISTA})
    except CrmqlError:
        pass


def test_carets_line_up_after_tabs_and_wide_characters(session):
    text = "SELECT\tname, '日本', nme FROM azavista.events"
    with pytest.raises(QueryError) as info:
        bind(parse(text), session.table, {}, now=NOW, text=text)
    _, source, caret = str(info.value).split("\n")[:3]
    assert source == "  " + text
    # as a terminal shows them: the tab is kept, each wide character takes two cells
    assert caret == "  " + "      \t" + " " * len("name, ") + " " * 6 + " " * 2 + "^^^"
    with pytest.raises(QuerySyntaxError) as syntax:
        parse("SELECT\t'日本' FROM azavista.events WHERE")
    assert str(syntax.value).split("\n")[2] == "  " + "      \t" + " " * 6 + " " * len(" FROM azavista.events WHERE") + "^"


def test_explain_errors_point_into_the_text_as_written(session):
    # .explain() (and the magic's --explain) add EXPLAIN to the statement, not to its text
    with pytest.raises(QueryError) as info:
        session.explain("\n\n   SELECT name,\n  nme FROM azavista.events")
    assert (info.value.line, info.value.column, info.value.source_line) == (4, 3, "  nme FROM azavista.events")
    with pytest.raises(QueryError, match="only a SELECT"):
        session.execute("DESCRIBE azavista.events", explain="plan")
