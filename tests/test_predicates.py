"""The WHERE passes of :mod:`crmql.plan.predicates`: normalize (BETWEEN expansion, NOT push-in, flatten,
orient, NULL folding, IN merging), conjuncts, and contradiction detection.

Unit tests state each rewrite exactly; a hypothesis property checks with DuckDB that
``normalize(e)`` keeps exactly the rows ``e`` keeps (SQL three-valued logic, NULLs included), and
that a reported contradiction really keeps no row.
"""

from __future__ import annotations

import datetime as dt

import duckdb
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from crmql.language import ast
from crmql.exec.localsql import expr_sql, show
from crmql.language.parser import parse_expression as E
from crmql.plan.contradictions import contradiction
from crmql.plan.predicates import (
    columns_of,
    conjuncts,
    expand_between,
    flatten,
    fold_null,
    is_simple,
    merge_in,
    normalize,
    orient,
    push_not,
)

FALSE = ast.Literal(False, "boolean")
TRUE = ast.Literal(True, "boolean")


def N(text: str) -> ast.Expr:
    return normalize(E(text))


# ---- normalize: one rewrite at a time ---------------------------------------------------------------

@pytest.mark.parametrize("source, expected", [
    # De Morgan
    ("NOT (a = 1 AND b = 2)", "a != 1 OR b != 2"),
    ("NOT (a = 1 OR b < 2)", "a != 1 AND b >= 2"),
    ("NOT (a = 1 OR (b = 2 AND c > 3))", "a != 1 AND (b != 2 OR c <= 3)"),
    # inverse comparisons
    ("NOT a = 1", "a != 1"),
    ("NOT a != 1", "a = 1"),
    ("NOT a < 1", "a >= 1"),
    ("NOT a <= 1", "a > 1"),
    ("NOT a > 1", "a <= 1"),
    ("NOT a >= 1", "a < 1"),
    # negated predicates
    ("NOT a IN (1, 2)", "a NOT IN (1, 2)"),
    ("NOT a NOT IN (1, 2)", "a IN (1, 2)"),
    ("NOT a LIKE 'x%'", "a NOT LIKE 'x%'"),
    ("NOT a NOT LIKE 'x%'", "a LIKE 'x%'"),
    ("NOT a ILIKE 'x%'", "a NOT ILIKE 'x%'"),
    ("NOT a IS NULL", "a IS NOT NULL"),
    ("NOT a IS NOT NULL", "a IS NULL"),
    ("NOT a BETWEEN 1 AND 5", "a < 1 OR a > 5"),
    ("NOT a NOT BETWEEN 1 AND 5", "a >= 1 AND a <= 5"),
    ("NOT NOT a = 1", "a = 1"),
    ("NOT NOT NOT a = 1", "a != 1"),
    ("NOT TRUE", "FALSE"),
    ("NOT FALSE OR a = 1", "TRUE"),
])
def test_push_not(source, expected):
    assert N(source) == E(expected), show(N(source))


def test_push_not_alone_keeps_between_negation_exact():
    assert push_not(E("NOT a BETWEEN 1 AND 5")) == E("a NOT BETWEEN 1 AND 5")  # expanded by expand_between
    assert push_not(E("NOT (a = 1 AND NOT b = 2)")) == E("a != 1 OR b = 2")


def test_not_of_a_non_predicate_is_kept():
    assert N("NOT lower(a) = 'x'") == E("lower(a) != 'x'")
    assert push_not(ast.Not(ast.Column("flag"))) == ast.Not(ast.Column("flag"))
    assert push_not(ast.Not(ast.Literal(None, "null"))) == ast.Literal(None, "null")


@pytest.mark.parametrize("source, expected", [
    ("a BETWEEN 1 AND 5", "a >= 1 AND a <= 5"),
    ("a NOT BETWEEN 1 AND 5", "a < 1 OR a > 5"),
    ("x = 1 AND a BETWEEN 1 AND 5", "x = 1 AND a >= 1 AND a <= 5"),
])
def test_expand_between(source, expected):
    assert N(source) == E(expected)


def test_expand_between_alone():
    assert expand_between(E("a BETWEEN 1 AND 5 OR b = 1")) == E("(a >= 1 AND a <= 5) OR b = 1")


@pytest.mark.parametrize("source, expected", [
    ("a = 1 AND (b = 2 AND c = 3)", "a = 1 AND b = 2 AND c = 3"),
    ("(a = 1 AND b = 2) AND (c = 3 AND (d = 4 AND e = 5))", "a = 1 AND b = 2 AND c = 3 AND d = 4 AND e = 5"),
    ("a = 1 OR (b = 2 OR (c = 3 OR d > 4))", "a = 1 OR b = 2 OR c = 3 OR d > 4"),
    ("a = 1 AND (b = 2 OR (c = 3 OR d > 4))", "a = 1 AND (b = 2 OR c = 3 OR d > 4)"),
    ("a = 1 AND TRUE", "a = 1"),
    ("a = 1 AND FALSE", "FALSE"),
    ("a = 1 OR TRUE", "TRUE"),
    ("a = 1 OR FALSE", "a = 1"),
    ("TRUE AND TRUE", "TRUE"),
    ("FALSE OR FALSE", "FALSE"),
    ("(a = 1 OR FALSE) AND (TRUE OR b = 2)", "a = 1"),
])
def test_flatten(source, expected):
    assert N(source) == E(expected), show(N(source))


def test_flatten_alone_makes_one_list():
    out = flatten(E("a = 1 AND (b = 2 AND (c = 3 AND d = 4))"))
    assert isinstance(out, ast.And) and len(out.items) == 4
    assert all(isinstance(i, ast.Compare) for i in out.items)


@pytest.mark.parametrize("source, expected", [
    ("5 < x", "x > 5"),
    ("5 <= x", "x >= 5"),
    ("5 > x", "x < 5"),
    ("5 >= x", "x <= 5"),
    ("5 = x", "x = 5"),
    ("'a' != x", "x != 'a'"),
    ("DATE '2025-01-01' < t.start", "t.start > DATE '2025-01-01'"),
    ("x < 5", "x < 5"),
    ("x < y", "x < y"),  # two columns: left as written
    ("5 < x + 1", "5 < x + 1"),  # not a column: left as written
    ("NOT 5 < x", "x <= 5"),
])
def test_orient(source, expected):
    assert N(source) == E(expected)


def test_orient_alone():
    assert orient(E("1 = a OR 2 < b")) == E("a = 1 OR b > 2")


@pytest.mark.parametrize("source, expected", [
    ("a = NULL", "FALSE"),
    ("NULL = a", "FALSE"),
    ("a != NULL", "FALSE"),
    ("a < NULL OR b = 1", "b = 1"),
    ("a LIKE NULL", "FALSE"),
    ("NULL LIKE 'x'", "FALSE"),
    ("a NOT IN (1, NULL)", "FALSE"),
    ("NOT a IN (1, NULL)", "FALSE"),  # NOT (a IN (1, NULL)) is never true either
    ("a IN (1, NULL)", "a IN (1, NULL)"),  # true for a = 1: kept
    ("NOT (a = NULL)", "FALSE"),  # NOT NULL is NULL
    ("a BETWEEN NULL AND 5", "FALSE"),
    ("a NOT BETWEEN NULL AND 5", "a > 5"),  # a < NULL OR a > 5
    ("NULL", "FALSE"),
    ("a IS NULL", "a IS NULL"),
    ("a = 1 AND b = NULL", "FALSE"),
])
def test_fold_null(source, expected):
    assert N(source) == E(expected), show(N(source))


def test_fold_null_alone():
    assert fold_null(E("a = NULL OR b = 1")) == ast.Or((FALSE, E("b = 1")))


@pytest.mark.parametrize("source, expected", [
    ("a = 1 OR a = 2", "a IN (1, 2)"),
    ("a = 1 OR a = 2 OR a = 1", "a IN (1, 2)"),
    ("a = 1 OR b = 2 OR a IN (3, 1)", "a IN (1, 3) OR b = 2"),
    ("a IN (1, 2) OR a IN (2, 3)", "a IN (1, 2, 3)"),
    ("a = 'x' OR a = 'y' OR b > 1", "a IN ('x', 'y') OR b > 1"),
    ("1 = a OR a = 2", "a IN (1, 2)"),  # oriented first
    ("NOT (a != 1 AND a != 2)", "a IN (1, 2)"),  # De Morgan first
    ("a = 1 OR a > 2", "a = 1 OR a > 2"),
    ("a NOT IN (1) OR a = 2", "a NOT IN (1) OR a = 2"),
    ("e.a = 1 OR a = 2", "e.a = 1 OR a = 2"),  # different qualifiers are different columns
    ("a = 1 OR b = 1", "a = 1 OR b = 1"),
    ("(a = 1 OR a = 2) AND (b = 1 OR b = 2)", "a IN (1, 2) AND b IN (1, 2)"),
    ("a = 1 OR a = NULL OR a = 2", "a IN (1, 2)"),
])
def test_merge_in(source, expected):
    assert N(source) == E(expected), show(N(source))


def test_merge_in_alone_keeps_order():
    assert merge_in(E("b = 9 OR a = 1 OR c > 0 OR a = 2")) == E("b = 9 OR a IN (1, 2) OR c > 0")


def test_normalize_keeps_spans_out_of_equality_and_does_not_mutate():
    source = E("NOT (a = 1 OR a = 2)")
    before = repr(source)
    normalize(source)
    assert repr(source) == before


def test_normalize_is_idempotent_on_examples():
    for text in ("NOT (a = 1 OR b BETWEEN 1 AND 2)", "a = 1 OR a = 2 OR (b = 1 AND NOT c IS NULL)",
                 "5 < a AND (a = NULL OR a IN (1, 2))"):
        once = N(text)
        assert normalize(once) == once


# ---- conjuncts, columns_of, is_simple ----------------------------------------------------------------

def test_conjuncts():
    assert conjuncts(None) == []
    assert conjuncts(TRUE) == []
    assert conjuncts(N("a = 1")) == [E("a = 1")]
    assert conjuncts(N("a = 1 AND (b = 2 AND c = 3)")) == [E("a = 1"), E("b = 2"), E("c = 3")]
    assert conjuncts(N("a = 1 OR b = 2")) == [E("a = 1 OR b = 2")]
    assert conjuncts(N("a = NULL")) == [FALSE]


def test_columns_of():
    assert columns_of(E("e.a = 1 AND (b > c OR lower(d) = 'x')")) == {("e", "a"), (None, "b"), (None, "c"), (None, "d")}


@pytest.mark.parametrize("source, simple", [
    ("a = 1", True), ("a IN (1, 2)", True), ("a NOT IN (1)", True), ("a LIKE 'x%'", True),
    ("a ILIKE 'x%'", True), ("a IS NULL", True), ("a IS NOT NULL", True),
    ("a = b", False), ("a + 1 = 2", False), ("lower(a) = 'x'", False), ("a IN (1, b)", False),
    ("a LIKE b", False), ("a = 1 OR b = 2", False), ("a = :p", False),
])
def test_is_simple(source, simple):
    assert is_simple(E(source)) is simple


# ---- contradiction -----------------------------------------------------------------------------------

def C(text: str) -> str | None:
    return contradiction(conjuncts(N(text)))


@pytest.mark.parametrize("source, reason", [
    ("a = 1 AND a = 2", "a = 1 and a = 2 cannot both hold"),
    ("a = 'x' AND a = 'y'", "a = 'x' and a = 'y' cannot both hold"),
    ("a IN (1, 2) AND a = 3", "a IN (...) and a = 3 cannot both hold"),
    ("a = 3 AND a IN (1, 2)", "a = 3 and a IN (...) cannot both hold"),
    ("a IN (1, 2) AND a IN (3, 4)", "a IN (...) and a IN (...) cannot both hold"),
    ("a > 5 AND a < 3", "no a is both > 5 and < 3"),
    ("a >= 5 AND a < 5", "no a is both >= 5 and < 5"),
    ("a > 5 AND a <= 5", "no a is both > 5 and <= 5"),
    ("a BETWEEN 5 AND 1", "no a is both >= 5 and <= 1"),
    ("a = 3 AND a > 5", "a = 3 is outside the range asked for a"),
    ("a IN (1, 2) AND a >= 3", "a IN (...) is outside the range asked for a"),
    ("a IS NULL AND a = 1", "a IS NULL contradicts a condition on its value"),
    ("a = 1 AND a IS NULL", "a cannot be NULL and not NULL"),  # = 1 already required a value
    ("a IS NULL AND a LIKE 'x%'", "a IS NULL contradicts a condition on its value"),
    ("a IS NULL AND a != 1", "a IS NULL contradicts a condition on its value"),
    ("a IS NULL AND a IS NOT NULL", "a cannot be NULL and not NULL"),
    ("a = NULL", "the condition is always false"),
    ("a = 1 AND b = NULL", "the condition is always false"),
    ("a NOT IN (1, NULL)", "the condition is always false"),
    ("NOT (a = 1 OR TRUE)", "the condition is always false"),
    ("a IN (NULL)", "a IN () matches nothing"),
    ("t > TIMESTAMP '2025-02-01' AND t < TIMESTAMP '2025-01-01'",
     "no t is both > 2025-02-01T00:00:00+00:00 and < 2025-01-01T00:00:00+00:00"),
    ("d >= DATE '2025-02-01' AND d <= DATE '2025-01-31'", "no d is both >= 2025-02-01 and <= 2025-01-31"),
    ("e.a = 1 AND e.a = 2", "a = 1 and a = 2 cannot both hold"),
])
def test_contradiction_found(source, reason):
    assert C(source) == reason


@pytest.mark.parametrize("source", [
    "a >= 5 AND a <= 5",
    "a = 1 AND a = 1.0",
    "a = 1 AND a = 1",
    "a = 1 AND b = 2",
    "a = 'x' AND a > 5",  # mixed types: only the vendor / DuckDB can decide
    "a = 'x' AND a = 1",
    "a = TRUE AND a = 1",
    "d = DATE '2025-01-01' AND d = TIMESTAMP '2025-01-01 00:00:00'",
    "a > 5 AND a < 6",
    "a > 5 AND a < 'x'",
    "a IN (1, 2) AND a = 2",
    "a IN (1, 2) AND a IN (2, 3)",
    "a = 1 OR a = 2",
    "(a = 1 AND a = 2) OR b = 3",  # inside an OR: the other branch may hold
    "a IS NOT NULL AND a = 1",
    "a IS NULL AND a IS NULL",
    "a IS NULL AND b = 1",
    "a IS NULL AND a NOT LIKE 'x'",  # sound, not complete: not flagged
    "e.a = 1 AND f.a = 2",  # different tables
    "a = 1 AND a != 1",  # sound, not complete: not flagged
    "a LIKE 'x%' AND a = 'y'",
    "lower(a) = 'x' AND lower(a) = 'y'",  # not simple: not analysed
    "a IN (1, NULL) AND a = 1",
])
def test_no_false_contradiction(source):
    assert C(source) is None


# ---- property: normalize keeps exactly the same rows; a contradiction keeps none --------------------

INT_COLUMNS = ("a", "b", "c")
INT_VALUES = (0, 1, 2, None)
TEXT_VALUES = ("a", "ab", "B", None)


@pytest.fixture(scope="module")
def db():
    con = duckdb.connect(":memory:")
    con.execute("CREATE TABLE t (a INTEGER, b INTEGER, c INTEGER, d VARCHAR)")
    rows = [(a, b, c, d) for a in INT_VALUES for b in INT_VALUES for c in INT_VALUES for d in TEXT_VALUES]
    con.executemany("INSERT INTO t VALUES (?, ?, ?, ?)", rows)
    yield con
    con.close()


def _int_lit(v):
    return ast.Literal(None, "null") if v is None else ast.Literal(v, "integer")


int_literal = st.sampled_from((-1, 0, 1, 2, 3, None)).map(_int_lit)
int_column = st.sampled_from(INT_COLUMNS).map(ast.Column)
text_literal = st.sampled_from(("a", "ab", "B", "x", None)).map(
    lambda v: ast.Literal(None, "null") if v is None else ast.Literal(v, "string"))
pattern = st.sampled_from(("a%", "%b", "_", "%", "A%", "a_", "ab", None)).map(
    lambda v: ast.Literal(None, "null") if v is None else ast.Literal(v, "string"))
ops = st.sampled_from(("=", "!=", "<", "<=", ">", ">="))


@st.composite
def leaf(draw):
    kind = draw(st.sampled_from(["cmp", "cmp_rev", "cmp_cols", "cmp_text", "in", "between", "isnull", "like",
                                 "bool", "lits"]))
    neg = draw(st.booleans())
    if kind == "cmp":
        return ast.Compare(draw(ops), draw(int_column), draw(int_literal))
    if kind == "cmp_rev":
        return ast.Compare(draw(ops), draw(int_literal), draw(int_column))
    if kind == "cmp_cols":
        return ast.Compare(draw(ops), draw(int_column), draw(int_column))
    if kind == "cmp_text":
        return ast.Compare(draw(st.sampled_from(("=", "!="))), ast.Column("d"), draw(text_literal))
    if kind == "in":
        return ast.InList(draw(int_column), tuple(draw(st.lists(int_literal, min_size=1, max_size=3))), negated=neg)
    if kind == "between":
        return ast.Between(draw(int_column), draw(int_literal), draw(int_literal), negated=neg)
    if kind == "isnull":
        return ast.IsNull(ast.Column(draw(st.sampled_from(INT_COLUMNS + ("d",)))), negated=neg)
    if kind == "like":
        return ast.Like(ast.Column("d"), draw(pattern), negated=neg, case_insensitive=draw(st.booleans()))
    if kind == "bool":
        return draw(st.sampled_from((TRUE, FALSE, ast.Literal(None, "null"))))
    return ast.Compare(draw(ops), draw(int_literal), draw(int_literal))


def _tree(children):
    return st.one_of(
        st.lists(children, min_size=2, max_size=3).map(lambda xs: ast.And(tuple(xs))),
        st.lists(children, min_size=2, max_size=3).map(lambda xs: ast.Or(tuple(xs))),
        children.map(ast.Not),
    )


expressions = st.recursive(leaf(), _tree, max_leaves=8)


def rows(con, expr) -> set[int]:
    params: list = []
    sql = "SELECT rowid FROM t WHERE " + expr_sql(expr, params)
    return {r[0] for r in con.execute(sql, params).fetchall()}


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                    HealthCheck.too_slow])
@given(expressions)
def test_normalize_keeps_the_same_rows(db, expr):
    before = rows(db, expr)
    normalized = normalize(expr)
    assert rows(db, normalized) == before, f"{show(expr)}  ->  {show(normalized)}"
    if contradiction(conjuncts(normalized)):
        assert before == set(), f"{show(expr)}: reported a contradiction but keeps {len(before)} row(s)"
    # every conjunct of the normalized form is implied by the whole: each keeps a superset
    for item in conjuncts(normalized):
        assert before <= rows(db, item), show(item)


def test_property_table_has_every_combination(db):
    assert db.execute("SELECT count(*) FROM t").fetchone()[0] == 4 ** 4


def test_contradiction_in_timestamps_with_fixed_values():
    t1 = ast.Literal(dt.datetime(2025, 1, 1, tzinfo=dt.timezone.utc), "timestamp")
    t2 = ast.Literal(dt.datetime(2025, 1, 2, tzinfo=dt.timezone.utc), "timestamp")
    col = ast.Column("start")
    assert contradiction([ast.Compare(">=", col, t2), ast.Compare("<=", col, t1)]) is not None
    assert contradiction([ast.Compare(">=", col, t1), ast.Compare("<=", col, t2)]) is None
    assert contradiction([ast.Compare("=", col, t1), ast.Compare("=", col, t1)]) is None
