"""Atlas CRM's differential strategies: literals rendered twice (crmql text and DuckDB text) for
every field type, with hostile characters; leaves, probes and an anchor on a focus record; and the
examples (``example``) that ``differential.py`` runs against the oracle."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from hypothesis import strategies as st

from crmql.sandbox import records

from differential_support import (
    STEPS, UTC, Pred, combine, make_tree, mutate_case, shaped_leaf, substring, timestamp_literal, with_constant,
)

from vendors.atlas.catalog import CATALOG, SORTABLE, Col, ColumnData, column_data, raw_value


# ---- literals and predicates, rendered twice: crmql text and DuckDB text -------------------------

@dataclass(frozen=True)
class Lit:
    value: Any
    kind: str  # string number date timestamp null
    text: str  # crmql spelling

    @property
    def duck(self) -> str:
        v = self.value
        if self.kind == "null":
            return "NULL"
        if self.kind == "string":
            return "'" + v.replace("'", "''") + "'"
        if self.kind == "timestamp":
            return f"TIMESTAMPTZ '{v.isoformat(sep=' ')}'"
        if self.kind == "date":
            return f"DATE '{v.isoformat()}'"
        return repr(v)


def _s(value: str) -> Lit:
    return Lit(value, "string", "'" + value.replace("'", "''") + "'")


def _n(value: int | float) -> Lit:
    if isinstance(value, float):
        return Lit(value, "number", repr(value) if "." in repr(value) or "e" in repr(value) else f"{value:.1f}")
    return Lit(value, "number", str(value))


def _d(value: dt.date) -> Lit:
    return Lit(value, "date", f"DATE '{value.isoformat()}'")


NULL = Lit(None, "null", "NULL")


def _ref(col: Col, draw: Callable[[Any], Any]) -> tuple[str, str]:
    """The column in crmql (its name, now and then its UUID field id) and in DuckDB."""
    if col.field != col.name and draw(st.integers(0, 3)) == 0:
        return f'"{col.field}"', f'"{col.name}"'
    return f'"{col.name}"', f'"{col.name}"'


#: characters that must survive URL encoding, regexes and LIKE
HOSTILE = ("&", "=", "[", "]", "%", "+", "#", "?", "'", '"', " ", "/", "\\", ".", "*", "é", "ß", "😀")


Focus = dict[str, Any]  # one raw record; values are drawn near it half of the time


def _real(draw: Callable[[Any], Any], data: ColumnData, focus: Focus) -> Any:
    own = raw_value(focus, data.col)
    if own is not None and draw(st.booleans()):
        return draw(st.sampled_from(own)) if isinstance(own, list) else own
    return draw(st.sampled_from(data.values)) if data.values else None


@st.composite
def string_value(draw: Callable[[Any], Any], data: ColumnData, focus: Focus) -> Lit:
    real = _real(draw, data, focus) or "x"
    how = draw(st.sampled_from(["real"] * 4 + ["case", "case", "sub", "prefix", "hostile", "empty", "space", "other"]))
    if how == "real":
        return _s(real)
    if how == "case":
        return _s(mutate_case(draw, real))
    if how == "sub":
        return _s(substring(draw, real))
    if how == "prefix":
        return _s(real[: draw(st.integers(0, len(real)))])
    if how == "hostile":
        h = draw(st.sampled_from(HOSTILE))
        return _s(draw(st.sampled_from([h, real + h, h + real, real[:3] + h + real[3:]])))
    if how == "empty":
        return _s("")
    if how == "space":
        return _s(" " + real if draw(st.booleans()) else real + " ")
    return _s(draw(st.text(alphabet="abcdefxyzABC0123456789@._-&=%+#é", min_size=1, max_size=8)))


@st.composite
def like_pattern(draw: Callable[[Any], Any], data: ColumnData, focus: Focus) -> Lit:
    real = _real(draw, data, focus) or "x"
    sub = substring(draw, real)
    how = draw(st.sampled_from(["contains"] * 3 + ["prefix", "suffix", "two", "underscore", "exact", "hostile",
                                                  "wild", "plain"]))
    if how == "contains":
        pattern = f"%{sub}%"
    elif how == "prefix":
        pattern = real[: draw(st.integers(1, max(1, len(real))))] + "%"
    elif how == "suffix":
        pattern = "%" + real[draw(st.integers(0, max(0, len(real) - 1))):]
    elif how == "two":
        cut = draw(st.integers(0, len(real)))
        pattern = f"%{substring(draw, real[:cut]) if cut else ''}%{substring(draw, real[cut:])}%"
    elif how == "underscore":
        if real:
            i = draw(st.integers(0, len(real) - 1))
            pattern = real[:i] + "_" + real[i + 1:]
        else:
            pattern = "_"
        pattern = pattern if draw(st.booleans()) else f"%{pattern}%"
    elif how == "exact":
        pattern = real
    elif how == "hostile":
        h = draw(st.sampled_from(HOSTILE))
        pattern = draw(st.sampled_from([f"%{h}%", f"%{sub}{h}%", f"{h}%", f"%{h}{sub}%"]))
    elif how == "wild":
        pattern = draw(st.sampled_from(["%", "%%", "_%", "%_", "", "__", "%_%_%"]))
    else:
        pattern = sub
    if draw(st.integers(0, 3)) == 0:
        pattern = mutate_case(draw, pattern)
    return _s(pattern)


def _instant(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(UTC)


def _ts_lit(draw: Callable[[Any], Any], value: dt.datetime, raw: str | None, *, plain: bool = True) -> Lit:
    return timestamp_literal(draw, Lit, value, raw, ["iso", "space", "offset", "raw"] + (["string"] if plain else []))


@st.composite
def timestamp_value(draw: Callable[[Any], Any], data: ColumnData, focus: Focus) -> Lit:
    raw = _real(draw, data, focus) or "2025-01-01T00:00:00.000Z"
    base = _instant(raw)
    how = draw(st.sampled_from(["exact", "exact", "exact", "s", "ms", "us", "date", "far"]))
    if how == "date":  # a DATE against a timestamp column: midnight UTC
        day = base.date() + dt.timedelta(days=draw(st.integers(-1, 1)))
        return Lit(dt.datetime(day.year, day.month, day.day, tzinfo=UTC), "timestamp", f"DATE '{day.isoformat()}'")
    if how == "far":
        value = draw(st.sampled_from([dt.datetime(2000, 1, 1, tzinfo=UTC), dt.datetime(2099, 1, 1, tzinfo=UTC),
                                      dt.datetime(99, 1, 1, tzinfo=UTC)]))
        return _ts_lit(draw, value, None)
    if how == "exact":
        return _ts_lit(draw, base, raw)
    return _ts_lit(draw, base + STEPS[how] * draw(st.sampled_from([-1, 1])), None)


@st.composite
def date_value(draw: Callable[[Any], Any], data: ColumnData, focus: Focus) -> Lit:
    raw = _real(draw, data, focus) or "2024-06-01"
    day = dt.date.fromisoformat(raw)
    how = draw(st.sampled_from(["exact", "exact", "exact", "next", "prev", "time", "far"]))
    if how == "next":
        day += dt.timedelta(days=1)
    elif how == "prev":
        day -= dt.timedelta(days=1)
    elif how == "time":  # a TIMESTAMP against a date column: the date at midnight UTC is compared
        at = dt.datetime(day.year, day.month, day.day, tzinfo=UTC) + dt.timedelta(
            hours=draw(st.sampled_from([0, 0, 12, 23])), minutes=draw(st.sampled_from([0, 30])))
        return _ts_lit(draw, at, None, plain=False)  # a plain string must be a valid date here
    elif how == "far":
        day = draw(st.sampled_from([dt.date(1900, 1, 1), dt.date(2099, 12, 31), dt.date(99, 1, 1)]))
    return _d(day)


@st.composite
def number_value(draw: Callable[[Any], Any], data: ColumnData, focus: Focus) -> Lit:
    real = _real(draw, data, focus) or 0
    how = draw(st.sampled_from(["real", "real", "real", "plus", "minus", "half", "edge"]))
    if how == "plus":
        real = real + draw(st.sampled_from([1, 0.01]))
    elif how == "minus":
        real = real - draw(st.sampled_from([1, 0.01]))
    elif how == "half":
        real = real + 0.5
    elif how == "edge":
        real = draw(st.sampled_from([0, -1, 10**9, 0.1]))
    if isinstance(real, float):
        real = round(real, 6)
        if real.is_integer() and draw(st.booleans()):
            real = int(real)
    return _n(real)


@st.composite
def label_value(draw: Callable[[Any], Any], data: ColumnData, focus: Focus) -> Lit:
    """A multi-select label: the focus's own or another option, or other case, part, no option."""
    real = _real(draw, data, focus) or "x"
    how = draw(st.sampled_from(["real"] * 4 + ["case", "sub", "other"]))
    if how == "case":
        return _s(mutate_case(draw, real))
    if how == "sub":
        return _s(substring(draw, real, min_size=2))
    if how == "other":
        return _s(draw(st.sampled_from(["Nope", "SMB & Co", "Tips", "&"])))
    return _s(real)


def scalar(data: ColumnData, focus: Focus) -> st.SearchStrategy[Lit]:
    kind = data.col.kind
    if kind == "timestamp":
        return timestamp_value(data, focus)
    if kind == "date":
        return date_value(data, focus)
    if kind == "decimal":
        return number_value(data, focus)
    return string_value(data, focus)


@st.composite
def leaf(draw: Callable[[Any], Any], table: str, focus: Focus) -> Pred:
    data = draw(st.sampled_from(column_data(table)))
    c, d = _ref(data.col, draw)
    if data.col.kind == "multi-select":
        shape = draw(st.sampled_from(["contains", "contains", "contains", "notcontains", "isnull"]))
        if shape == "isnull":
            neg = draw(st.sampled_from(["", "NOT "]))
            return Pred(f"{c} IS {neg}NULL", f"({d} IS {neg}NULL)")
        label = draw(label_value(data, focus))
        neg = "NOT " if shape == "notcontains" else ""
        return Pred(f"{neg}list_contains({c}, {label.text})", f"({neg}list_contains({d}, {label.duck}))")
    shapes = ["cmp", "cmp", "cmp", "in", "between", "isnull", "notin"]
    if data.col.kind in ("string", "text", "user", "single-select", "id"):
        shapes += ["like", "like", "like"]
    others = [o for o in column_data(table) if o.col.kind == data.col.kind and o.col.name != data.col.name]
    if data.col.kind in ("decimal", "date", "timestamp") and others:
        shapes += ["between_columns"]
    shape = draw(st.sampled_from(shapes))
    # crmql's LIKE has no escape character; DuckDB's needs ESCAPE '' to say so
    return shaped_leaf(draw, shape, c, d, scalar=lambda: scalar(data, focus), null=NULL,
                       other=lambda: _ref(draw(st.sampled_from(others)).col, draw),
                       like=lambda: like_pattern(data, focus), like_suffix=" ESCAPE ''")


tree = make_tree(leaf)


@st.composite
def probe(draw: Callable[[Any], Any], table: str, focus: Focus) -> Pred:
    """One simple predicate of a shape the vendor can take (so its exactness claim is what is
    tested): equality, IN, LIKE '%x%', ranges, list_contains; values near the focus record."""
    data = draw(st.sampled_from([d for d in column_data(table) if d.col.kind != "type"]))
    c, d = _ref(data.col, draw)
    kind = data.col.kind
    if kind == "multi-select":
        label = draw(label_value(data, focus))
        return Pred(f"list_contains({c}, {label.text})", f"list_contains({d}, {label.duck})")
    if kind in ("string", "text", "user", "single-select", "id"):
        shape = draw(st.sampled_from(["eq", "in", "like", "like"] if kind != "id" else ["eq", "in"]))
        if shape == "like":
            real = _real(draw, data, focus) or "x"
            pattern = _s(f"%{mutate_case(draw, substring(draw, real, min_size=2))}%")
            word = draw(st.sampled_from(["LIKE", "ILIKE"]))
            return Pred(f"{c} {word} {pattern.text}", f"({d} {word} {pattern.duck} ESCAPE '')")
    else:
        shape = draw(st.sampled_from(["eq", "in", ">=", "<=", ">", "<", "between"]))
    value = draw(scalar(data, focus))
    if shape == "eq":
        return Pred(f"{c} = {value.text}", f"({d} = {value.duck})")
    if shape == "in":
        other = draw(scalar(data, focus))
        return Pred(f"{c} IN ({value.text}, {other.text})", f"({d} IN ({value.duck}, {other.duck}))")
    if shape == "between":
        other = draw(scalar(data, focus))
        return Pred(f"{c} BETWEEN {value.text} AND {other.text}", f"({d} BETWEEN {value.duck} AND {other.duck})")
    return Pred(f"{c} {shape} {value.text}", f"({d} {shape} {value.duck})")


NAME_FIELD = {"companies": "company-name", "contacts": "contact-name", "sales": "sale-name"}
#: 1 in N examples is a bare tree (often many pages); the others are anchored on the focus record
UNANCHORED = {"companies": 4, "sales": 8, "contacts": 12}


@st.composite
def anchor(draw: Callable[[Any], Any], table: str, focus: Focus) -> Pred:
    """A pushable predicate the focus record satisfies that selects a few pages at most."""
    name = NAME_FIELD[table]
    own = focus["fields"][name]
    how = draw(st.sampled_from(["eq", "eq", "in", "like", "id", "number"]))
    if how == "like":
        words = [w for w in own.split() if len(w) >= 4] or [own]
        pattern = _s(f"%{substring(draw, draw(st.sampled_from(words)), min_size=4)}%")
        return Pred(f'"{name}" LIKE {pattern.text}', f'("{name}" LIKE {pattern.duck} ESCAPE \'\')')
    if how == "id":
        return Pred(f"id = '{focus['id']}'", f"(id = '{focus['id']}')")
    if how == "number":  # exact alone (a few rows share a round number): the whole WHERE may be exact
        numbers = [(c, v) for c in CATALOG[table] if c.kind == "decimal" and c.name not in ("sale-probability", "score")
                   and (v := focus["fields"].get(c.field)) is not None and not float(v).is_integer()]
        if numbers:
            col, value = draw(st.sampled_from(numbers))
            return Pred(f'"{col.name}" = {_n(value).text}', f'("{col.name}" = {_n(value).duck})')
    if how == "in":
        other = draw(st.sampled_from(column_data(table)[[c.name for c in CATALOG[table]].index(name)].values))
        return Pred(f'"{name}" IN ({_s(own).text}, {_s(other).text})', f'("{name}" IN ({_s(own).duck}, {_s(other).duck}))')
    return Pred(f'"{name}" = {_s(own).text}', f'("{name}" = {_s(own).duck})')


@dataclass(frozen=True)
class Example:
    where: Pred
    order: Col | None  # also run ORDER BY <order> LIMIT <limit>
    limit: int
    #: one more simple predicate on its own: where the plan trusts the vendor (every conjunct exact),
    #: its COUNT(*) and LIMIT are checked; a single predicate is often exact where a tree rarely is
    probe: Pred


@st.composite
def example(draw: Callable[[Any], Any], table: str, bare: float = 1.0) -> Example:
    """A WHERE tree of depth <= 3 around a focus record, usually ANDed with an anchor on that
    record, so boundary values (the record's own instant, case, substrings) fall in the scanned
    pages and most examples exercise a pushed filter rather than a full scan."""
    rows = records("atlas", table, 42)
    focus = rows[draw(st.integers(0, len(rows) - 1))]
    body = draw(tree(table, focus, draw(st.integers(1, 3))))
    every = max(1, round(UNANCHORED[table] / bare)) if bare else 0
    if every and draw(st.integers(0, every - 1)) == every // 2:  # not 0: Hypothesis favours the ends
        where = body
    else:
        parts = [draw(anchor(table, focus)), body]
        if draw(st.booleans()):
            parts.reverse()
        where = combine("AND", parts)
    order = draw(st.sampled_from(SORTABLE[table])) if draw(st.integers(0, 2)) == 0 else None
    # constant conditions (issue 9 A) beside the tree and beside the probe, whose COUNT(*) may be
    # answered from the vendor's total
    return Example(with_constant(draw, where), order, draw(st.sampled_from([1, 3, 10, 40])),
                   with_constant(draw, draw(probe(table, focus))))
