"""Golden parse tests: query text -> AST, rendered as a small, stable s-expression text.

The cases live in ``tests/fixtures/golden/parse.txt``::

    === name of the case
    SELECT ... (any number of lines)
    ---
    the expected rendering

Lines starting with ``#`` before the first ``===`` are file comments. To (re)generate the expected
sections after a deliberate change, run::

    CRMQL_UPDATE_GOLDEN=1 .venv/bin/python -m pytest tests/test_parser_golden.py

and review the diff: the golden file is the specification, not a snapshot to accept blindly.

Rendering (see :func:`sx`): columns are bare names (double-quoted when they are not plain
identifiers or are keywords), strings are single-quoted, ``(op left right)`` for operators,
``(timestamp ...)`` in UTC ISO form, ``(interval months=M delta=D)``.
"""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import pytest

from crmql.language import ast
from crmql.errors import QuerySyntaxError
from crmql.language.parser import parse, split_statements
from crmql.language.syntax_errors import _KEYWORDS
from crmql.language.values import Interval

from golden import UPDATE, read_cases, update_fixture

GOLDEN = Path(__file__).parent / "fixtures" / "golden" / "parse.txt"


HEADER, CASES = read_cases(GOLDEN, directives=False)
_ACTUAL: dict[str, str] = {}
_update_golden = update_fixture(GOLDEN, HEADER, CASES, _ACTUAL)


# ---- AST -> text ----------------------------------------------------------------------------------

_BARE = re.compile(r"^[A-Za-z_][A-Za-z0-9_$]*$")


def name(n: str) -> str:
    if _BARE.match(n) and n.upper() not in _KEYWORDS:
        return n
    return '"' + n.replace('"', '""') + '"'


def literal(e: ast.Literal) -> str:
    v, kind = e.value, e.kind
    if kind == "null":
        assert v is None
        return "NULL"
    if kind == "boolean":
        assert isinstance(v, bool)
        return "TRUE" if v else "FALSE"
    if kind == "integer":
        assert isinstance(v, int) and not isinstance(v, bool)
        return str(v)
    if kind == "float":
        assert isinstance(v, float)
        return repr(v)
    if kind == "string":
        assert isinstance(v, str)
        return "'" + v.replace("'", "''") + "'"
    if kind == "date":
        assert isinstance(v, dt.date) and not isinstance(v, dt.datetime)
        return f"(date {v.isoformat()})"
    if kind == "timestamp":
        assert isinstance(v, dt.datetime) and v.tzinfo is not None, "timestamps are timezone-aware"
        assert v.utcoffset() == dt.timedelta(0), "timestamps are normalized to UTC"
        return f"(timestamp {v.isoformat()})"
    if kind == "interval":
        assert isinstance(v, Interval)
        return f"(interval months={v.months} delta={v.delta})"
    raise AssertionError(f"unknown literal kind {kind!r}")


def sx(e: object) -> str:
    """One expression as a one-line s-expression."""
    if isinstance(e, ast.Literal):
        return literal(e)
    if isinstance(e, ast.Param):
        return f":{e.name}"
    if isinstance(e, ast.Column):
        return (f"{name(e.qualifier)}." if e.qualifier is not None else "") + name(e.name)
    if isinstance(e, ast.Star):
        return f"{name(e.qualifier)}.*" if e.qualifier is not None else "*"
    if isinstance(e, ast.Func):
        if e.star:
            assert not e.args
            return f"({e.name} *)"
        parts = [e.name] + (["distinct"] if e.distinct else []) + [sx(a) for a in e.args]
        return "(" + " ".join(parts) + ")"
    if isinstance(e, ast.Unary):
        return f"(neg {sx(e.operand)})" if e.op == "-" else f"(unary{e.op} {sx(e.operand)})"
    if isinstance(e, (ast.Binary, ast.Compare)):
        return f"({e.op} {sx(e.left)} {sx(e.right)})"
    if isinstance(e, (ast.And, ast.Or)):
        return f"({type(e).__name__.lower()} " + " ".join(sx(i) for i in e.items) + ")"
    if isinstance(e, ast.Not):
        return f"(not {sx(e.item)})"
    if isinstance(e, ast.Like):
        op = ("not-" if e.negated else "") + ("ilike" if e.case_insensitive else "like")
        return f"({op} {sx(e.operand)} {sx(e.pattern)})"
    if isinstance(e, ast.InList):
        return f"({'not-in' if e.negated else 'in'} {sx(e.operand)} (" + " ".join(sx(i) for i in e.items) + "))"
    if isinstance(e, ast.Between):
        return f"({'not-between' if e.negated else 'between'} {sx(e.operand)} {sx(e.low)} {sx(e.high)})"
    if isinstance(e, ast.IsNull):
        return f"({'is-not-null' if e.negated else 'is-null'} {sx(e.operand)})"
    raise AssertionError(f"cannot render {e!r}")


def pretty(e: object, indent: int, width: int = 96) -> str:
    """An expression; AND/OR/NOT that do not fit on one line get one child per line."""
    one = sx(e)
    if len(one) + indent <= width or not isinstance(e, (ast.And, ast.Or, ast.Not)):
        return one
    pad = " " * (indent + 2)
    children = [e.item] if isinstance(e, ast.Not) else list(e.items)
    head = "not" if isinstance(e, ast.Not) else type(e).__name__.lower()
    return f"({head}\n" + "\n".join(pad + pretty(c, indent + 2, width) for c in children) + ")"


def table(ref: ast.TableRef) -> str:
    text = f"{name(ref.connection)}.{name(ref.table)}"
    return text + (f" as {name(ref.alias)}" if ref.alias is not None else "")


def render(stmt: ast.Statement, indent: int = 0) -> str:
    pad = " " * indent
    if isinstance(stmt, ast.Explain):
        return f"{pad}explain{' analyze' if stmt.analyze else ''}\n" + render(stmt.query, indent + 2)
    if isinstance(stmt, ast.ShowTables):
        return pad + "show tables" + (f" from {name(stmt.connection)}" if stmt.connection is not None else "")
    if isinstance(stmt, ast.Describe):
        return pad + f"describe {table(stmt.table)}"
    if isinstance(stmt, ast.Copy):
        opts = ", ".join(f"{k} {v!r}" for k, v in stmt.options)
        return (f"{pad}copy to {stmt.path!r}" + (f" with ({opts})" if opts else "") + "\n"
                + render(stmt.query, indent + 2))
    assert isinstance(stmt, ast.Select), stmt
    lines = [pad + ("select distinct" if stmt.distinct else "select")]
    for item in stmt.items:
        if isinstance(item, ast.Star):
            lines.append(f"{pad}  item {sx(item)}")
            continue
        text = f"{pad}  item {pretty(item.expr, indent + 7)}"
        if item.alias is not None:
            text += f" as {name(item.alias)}"
        elif not isinstance(item.expr, ast.Column):
            text += f"  [text: {item.text}]"
        lines.append(text)
    lines.append(f"{pad}from {table(stmt.table)}")
    for join in stmt.joins:
        lines.append(f"{pad}join {join.kind} {table(join.table)}")
        lines.append(f"{pad}  on {pretty(join.on, indent + 5)}")
    if stmt.where is not None:
        lines.append(f"{pad}where {pretty(stmt.where, indent + 6)}")
    if stmt.group_by:
        lines.append(f"{pad}group by " + ", ".join(sx(g) for g in stmt.group_by))
    if stmt.having is not None:
        lines.append(f"{pad}having {pretty(stmt.having, indent + 7)}")
    if stmt.order_by:
        lines.append(f"{pad}order by " + ", ".join(f"{sx(o.expr)} {'desc' if o.descending else 'asc'}"
                                                  for o in stmt.order_by))
    if stmt.limit is not None:
        lines.append(f"{pad}limit {sx(stmt.limit)}")
    if stmt.offset is not None:
        lines.append(f"{pad}offset {sx(stmt.offset)}")
    return "\n".join(lines)


# ---- the golden cases -----------------------------------------------------------------------------

def test_golden_file_is_well_formed():
    names = [c["name"] for c in CASES]
    assert len(names) == len(set(names)), "case names must be unique"
    assert len(CASES) >= 40
    for case in CASES:
        assert case["input"].strip(), case["name"]
        assert case["expected"].strip() or UPDATE, f"{case['name']}: no expected rendering"


@pytest.mark.parametrize("case", CASES, ids=[c["name"] for c in CASES])
def test_parse_golden(case):
    stmt = parse(case["input"])
    actual = render(stmt)
    if UPDATE:
        _ACTUAL[case["name"]] = actual
        return
    assert actual == case["expected"]


@pytest.mark.parametrize("case", CASES, ids=[c["name"] for c in CASES])
def test_spans_point_into_the_input(case):
    """Every node that has a span points at text of the input, on the line/column it claims."""
    text = case["input"]
    stmt = parse(text)
    lines = text.split("\n")
    seen = 0
    for node in _all_nodes(stmt):
        span = getattr(node, "span", None)
        if span is None:
            continue
        seen += 1
        assert 0 <= span.start <= span.end <= len(text), (node, span)
        assert 1 <= span.line <= len(lines), (node, span)
        # line/column describe the start offset
        before = text[:span.start]
        assert span.line == before.count("\n") + 1, (node, span)
        assert span.column == span.start - (before.rfind("\n") + 1) + 1, (node, span)
    assert seen > 0


def _all_nodes(node: object):
    if isinstance(node, ast.Node):
        yield node
        for value in vars(node).values():
            yield from _all_nodes(value)
    elif isinstance(node, tuple):
        for value in node:
            yield from _all_nodes(value)


def test_select_item_text_is_the_source_text():
    text = "SELECT capacity - registered_count, COUNT(*), lower( name ) FROM azavista.events"
    stmt = parse(text)
    assert [i.text for i in stmt.items] == ["capacity - registered_count", "COUNT(*)", "lower( name )"]


def test_equal_trees_from_different_spellings():
    """Spans do not take part in equality: spelling, case and layout do not matter."""
    a = parse("SELECT name FROM azavista.events WHERE capacity > 10 LIMIT 5")
    b = parse("select\n  NAME as name_ignored FROM azavista.events where capacity>10 limit 5;")
    assert a.where == b.where and a.limit == b.limit and a.table == b.table
    assert parse("SELECT a FROM x.y WHERE a <> 1").where == parse("SELECT a FROM x.y WHERE a != 1").where


def test_ast_nodes_are_frozen():
    stmt = parse("SELECT a FROM x.y")
    with pytest.raises(Exception):
        stmt.limit = 3  # type: ignore[misc]


# ---- split_statements -----------------------------------------------------------------------------

@pytest.mark.parametrize("script, expected", [
    ("SELECT a FROM x.y", ["SELECT a FROM x.y"]),
    ("SELECT a FROM x.y;", ["SELECT a FROM x.y"]),
    ("SELECT a FROM x.y; SHOW TABLES;\nDESCRIBE x.y", ["SELECT a FROM x.y", "SHOW TABLES", "DESCRIBE x.y"]),
    ("SELECT 'a;b' FROM x.y; SHOW TABLES", ["SELECT 'a;b' FROM x.y", "SHOW TABLES"]),
    ("SELECT 'it''s; fine' FROM x.y;SHOW TABLES", ["SELECT 'it''s; fine' FROM x.y", "SHOW TABLES"]),
    ('SELECT "odd;name" FROM x.y; SHOW TABLES', ['SELECT "odd;name" FROM x.y', "SHOW TABLES"]),
    ('SELECT "a"";b" FROM x.y; SHOW TABLES', ['SELECT "a"";b" FROM x.y', "SHOW TABLES"]),
    ("SELECT a FROM x.y -- a comment; not a split\n; SHOW TABLES",
     ["SELECT a FROM x.y -- a comment; not a split", "SHOW TABLES"]),
    ("SELECT a /* ; inside */ FROM x.y; SHOW TABLES", ["SELECT a /* ; inside */ FROM x.y", "SHOW TABLES"]),
    ("SELECT a FROM x.y /* multi\nline; comment */ ; SHOW TABLES",
     ["SELECT a FROM x.y /* multi\nline; comment */", "SHOW TABLES"]),
    (";;  ;\n;", []),
    ("SELECT a FROM x.y;;; SHOW TABLES;;", ["SELECT a FROM x.y", "SHOW TABLES"]),
    ("-- only a comment; here\n", []),
    ("/* only; a block comment */ ;", []),
    ("SELECT a FROM x.y; -- trailing comment; with semicolon", ["SELECT a FROM x.y"]),
    ("SELECT a FROM x.y; /* c */ SHOW TABLES", ["SELECT a FROM x.y", "/* c */ SHOW TABLES"]),
    # an unterminated string swallows the rest: the parser then reports it, rather than a split
    ("SELECT 'abc; SHOW TABLES", ["SELECT 'abc; SHOW TABLES"]),
    ("SELECT a FROM x.y\n;\nSELECT b FROM x.y\n", ["SELECT a FROM x.y", "SELECT b FROM x.y"]),
])
def test_split_statements(script, expected):
    assert split_statements(script) == expected


def test_split_statements_parts_parse_like_the_whole():
    script = ("-- report\nSELECT name, 'x;y' AS s FROM azavista.events WHERE city = 'Köln; Bonn';\n"
              'SELECT "we;ird" FROM azavista.contacts /* ; */;\nSHOW TABLES FROM azavista;')
    parts = split_statements(script)
    assert len(parts) == 3
    stmts = [parse(p) for p in parts]
    assert stmts[0].where.right.value == "Köln; Bonn"
    assert stmts[1].items[0].expr.name == "we;ird"
    assert stmts[2] == ast.ShowTables("azavista")


def test_parse_rejects_two_statements():
    with pytest.raises(QuerySyntaxError):
        parse("SELECT a FROM x.y; SELECT b FROM x.y")
