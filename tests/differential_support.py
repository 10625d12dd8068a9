"""What the vendors' differential modules (``tests/vendors/<vendor>/differential.py``) and the
contract (``tests/contract/test_contract_differential.py``) share:
the run configuration, predicates rendered twice (crmql text and DuckDB text), the strategies that
combine them into trees, the DuckDB oracle's core, and the comparison of crmql's ids with the
oracle's, and the shapes of a leaf on one column once its literals are drawn (:func:`shaped_leaf`).
Literals, columns, which shapes a column gets and anchors are each vendor's own and stay in its module.
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import duckdb
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

from crmql.plan.bind import bind
from crmql.language.parser import parse
from crmql.plan.planner import Plan, plan_query
from crmql.api.session import Session

UTC = dt.timezone.utc
#: ``CRMQL_DIFF_EXAMPLES`` scales the number of examples
SCALE = float(os.environ.get("CRMQL_DIFF_EXAMPLES", "1"))
STEPS = {"s": dt.timedelta(seconds=1), "ms": dt.timedelta(milliseconds=1), "us": dt.timedelta(microseconds=1),
         "day": dt.timedelta(days=1)}


# ---- the variants --------------------------------------------------------------------------------

@dataclass(frozen=True)
class VariantConfig:
    """Simulator variants, plus connection settings that declare them (making pushes exact)."""

    variants: tuple[tuple[str, str], ...] = ()
    connection: tuple[tuple[str, Any], ...] = ()
    examples: float = 1.0

    @property
    def id(self) -> str:
        parts = [f"{k.split('.')[1]}={v}" for k, v in self.variants] or ["defaults"]
        parts += [f"{k}={v}" for k, v in self.connection]
        return ",".join(parts)


def property_settings(max_examples: int) -> settings:
    """Hypothesis settings of the differential property (slow examples, no deadline)."""
    return settings(max_examples=max_examples, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much],
                    print_blob=True)


# ---- predicates, rendered twice: crmql text and DuckDB text ---------------------------------------

@dataclass(frozen=True)
class Pred:
    text: str  # crmql
    duck: str  # DuckDB

    def __repr__(self) -> str:
        return self.text


def combine(word: str, items: Iterable[Pred]) -> Pred:
    """``(a) AND (b)`` (or OR) in crmql, ``(a AND b)`` in DuckDB."""
    items = list(items)
    return Pred(f" {word} ".join(f"({i.text})" for i in items), "(" + f" {word} ".join(i.duck for i in items) + ")")


def mutate_case(draw: Callable[[Any], Any], s: str) -> str:
    how = draw(st.sampled_from(["upper", "lower", "swap", "first", "same"]))
    if how == "upper":
        return s.upper()
    if how == "lower":
        return s.lower()
    if how == "swap":
        return s.swapcase()
    if how == "first" and s:
        return s[0].swapcase() + s[1:]
    return s


def substring(draw: Callable[[Any], Any], s: str, min_size: int = 1) -> str:
    if not s:
        return s
    size = min(len(s), min_size)
    i = draw(st.integers(0, len(s) - size))
    j = draw(st.integers(i + size, min(len(s), i + max(size, 12))))
    return s[i:j]


COMPARE_OPS = ("=", "!=", "<>", "<", "<=", ">", ">=")
FLIP = {"<": ">", ">": "<", "<=": ">=", ">=": "<="}


def shaped_leaf(draw: Callable[[Any], Any], shape: str, c: str, d: str, *, scalar: Callable[[], Any],
                null: Any, other: Callable[[], tuple[str, str]], like: Callable[[], Any], like_suffix: str = "") -> Pred:
    """A leaf of ``shape`` on the column written ``c`` in crmql and ``d`` in DuckDB: ``between_columns``
    (a literal between this and ``other()``'s column), ``cmp``, ``in`` / ``notin``, ``between``,
    ``isnull``, else a LIKE of ``like()``'s pattern (``like_suffix`` after DuckDB's pattern).
    ``scalar()`` is the column's literal strategy (objects with ``text`` and ``duck``), ``null`` the
    NULL literal. Draws in the order the vendors' leaves always drew."""
    value_or_null = st.one_of(scalar(), scalar(), scalar(), st.just(null))
    if shape == "between_columns":  # a literal as the operand, columns as the bounds (issue 9 C)
        o, od = other()
        value = draw(scalar())
        neg = "NOT " if draw(st.integers(0, 3)) == 0 else ""
        return Pred(f"{value.text} {neg}BETWEEN {c} AND {o}", f"({value.duck} {neg}BETWEEN {d} AND {od})")
    if shape == "cmp":
        op = draw(st.sampled_from(COMPARE_OPS))
        value = draw(value_or_null)
        if draw(st.integers(0, 7)) == 0:  # literal on the left
            flip = FLIP.get(op, op)
            return Pred(f"{value.text} {flip} {c}", f"({value.duck} {'<>' if flip == '!=' else flip} {d})")
        return Pred(f"{c} {op} {value.text}", f"({d} {'<>' if op == '!=' else op} {value.duck})")
    if shape in ("in", "notin"):
        items = draw(st.lists(value_or_null, min_size=1, max_size=4))
        neg = "NOT " if shape == "notin" else ""
        return Pred(f"{c} {neg}IN ({', '.join(i.text for i in items)})",
                    f"({d} {neg}IN ({', '.join(i.duck for i in items)}))")
    if shape == "between":
        lo, hi = draw(scalar()), draw(scalar())
        neg = "NOT " if draw(st.integers(0, 3)) == 0 else ""
        return Pred(f"{c} {neg}BETWEEN {lo.text} AND {hi.text}", f"({d} {neg}BETWEEN {lo.duck} AND {hi.duck})")
    if shape == "isnull":
        neg = draw(st.sampled_from(["", "NOT "]))
        return Pred(f"{c} IS {neg}NULL", f"({d} IS {neg}NULL)")
    pattern = draw(like())
    word = draw(st.sampled_from(["LIKE", "ILIKE", "NOT LIKE", "NOT ILIKE", "like"]))
    return Pred(f"{c} {word} {pattern.text}", f"({d} {word} {pattern.duck}{like_suffix})")


def timestamp_literal(draw: Callable[[Any], Any], lit: Callable[[Any, str, str], Any], value: dt.datetime,
                      raw: str | None, hows: Sequence[str]) -> Any:
    """``lit(value, "timestamp", text)`` with the instant spelled one of ``hows`` ways: ``iso``,
    ``space`` (no offset: UTC), ``offset`` (another zone), ``string`` (a plain string, read as a
    timestamp), ``raw`` (the record's own text, when given)."""
    how = draw(st.sampled_from(list(hows)))
    if how == "raw" and raw is not None:
        return lit(value, "timestamp", f"TIMESTAMP '{raw}'")
    if how == "space":
        return lit(value, "timestamp", f"TIMESTAMP '{value.replace(tzinfo=None).isoformat(sep=' ')}'")
    if how == "offset":
        tz = dt.timezone(dt.timedelta(hours=draw(st.sampled_from([-5, 1, 2, 9]))))
        return lit(value, "timestamp", f"TIMESTAMP '{value.astimezone(tz).isoformat()}'")
    if how == "string":  # a plain string compared with a timestamp column is read as a timestamp
        return lit(value, "timestamp", f"'{value.isoformat()}'")
    return lit(value, "timestamp", f"TIMESTAMP '{value.isoformat()}'")


def make_tree(leaf: Callable[[str, Any], st.SearchStrategy[Pred]]) -> Callable[[str, Any, int], st.SearchStrategy[Pred]]:
    """``tree(table, focus, depth)``: AND / OR / NOT trees over a vendor's ``leaf(table, focus)``."""
    def tree(table: str, focus: Any, depth: int) -> st.SearchStrategy[Pred]:
        if depth == 0:
            return leaf(table, focus)

        @st.composite
        def node(draw: Callable[[Any], Any]) -> Pred:
            kind = draw(st.sampled_from(["leaf", "leaf", "and", "or", "not"]))
            if kind == "leaf":
                return draw(leaf(table, focus))
            if kind == "not":
                inner = draw(tree(table, focus, depth - 1))
                return Pred(f"NOT ({inner.text})", f"(NOT {inner.duck})")
            items = draw(st.lists(tree(table, focus, depth - 1), min_size=2, max_size=3))
            return combine("AND" if kind == "and" else "OR", items)

        return node()

    return tree


# ---- conditions on constants alone (issue 9 A) -----------------------------------------------------

#: the same text in crmql and DuckDB: some fold to TRUE or FALSE (a FALSE is a contradiction: no
#: request), some only DuckDB can decide (they turn COUNT(*)-from-the-vendor's-total off)
CONSTANTS = ("1 = 2", "1 = 1", "'a' = 'b'", "'a' < 'b'", "2 IN (1, 2)", "3 NOT IN (1, 2)", "3 IN (1, NULL)",
             "NULL IS NULL", "1 IS NULL", "NOT (1 = 2)", "1 = 1.0", "2.5 > 3", "lower('A') = 'a'",
             "lower('A') = 'b'", "length('abc') > 5", "1 + 1 = 2", "DATE '2025-01-01' < DATE '2025-01-02'")


def constant() -> st.SearchStrategy[Pred]:
    """A condition on constants alone."""
    return st.sampled_from([Pred(c, f"({c})") for c in CONSTANTS])


def with_constant(draw: Callable[[Any], Any], pred: Pred) -> Pred:
    """``pred`` ANDed (now and then ORed) with a constant condition, one time in four."""
    if draw(st.integers(0, 3)) != 1:
        return pred
    parts = [pred, draw(constant())]
    if draw(st.booleans()):
        parts.reverse()
    return combine("OR" if draw(st.integers(0, 3)) == 0 else "AND", parts)


# ---- the oracle and the comparison ------------------------------------------------------------------

class DuckOracle:
    """DuckDB over one whole table (``t``), in UTC."""

    def __init__(self, data: Any) -> None:
        self.con = duckdb.connect(":memory:")
        self.con.execute("SET TimeZone = 'UTC'")
        self.con.register("t", data)

    def ids(self, where: str) -> set[str]:
        return {r[0] for r in self.con.execute(f"SELECT id FROM t WHERE {where}").fetchall()}


def plan_on(session: Session, connection: str, sql: str) -> Plan:
    """The plan of ``sql`` on one connection of the session (no request)."""
    stmt = parse(sql)
    bound = bind(stmt, session.table, None, text=sql)
    return plan_query(bound, {connection: session.connector(connection)})


def assert_same_ids(session: Session, sql: str, expected: set[str]) -> None:
    """crmql's answer to ``sql`` (``SELECT id ...``) has no duplicate and is exactly ``expected``."""
    got_frame = session.query(sql)
    got = set(got_frame["id"])
    assert len(got_frame) == len(got), f"duplicate ids from {sql}"
    missing, extra = sorted(expected - got)[:5], sorted(got - expected)[:5]
    assert got == expected, (
        f"pushdown changed the answer of\n  {sql}\n  {len(got)} rows vs {len(expected)} expected; "
        f"missing {missing}, extra {extra}\n{session.explain(sql)}")
