"""Azavista's differential strategies: the data the WHERE trees are drawn from (each column's
distinct values in the seeded data), literals rendered twice (crmql text and DuckDB text), leaves
for every column type, an anchor on a focus record, and the trees (``where_clause``) that
``differential.py`` runs against the oracle."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from hypothesis import strategies as st

from crmql.connectors.registry import create_connector
from crmql.plan.catalog import ColumnType
from crmql.sandbox import records

from differential_support import (
    CONSTANTS, STEPS, UTC, Pred, combine, make_tree, mutate_case, shaped_leaf, substring, timestamp_literal, with_constant,
)

CONSTANT_PREDS = [Pred(c, f"({c})") for c in CONSTANTS]


# ---- the data the trees are drawn from ------------------------------------------------------------

KINDS = {ColumnType.STRING: "string", ColumnType.INTEGER: "integer", ColumnType.FLOAT: "float",
         ColumnType.BOOLEAN: "boolean", ColumnType.TIMESTAMP: "timestamp"}


def _instant(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text).astimezone(UTC)


@dataclass(frozen=True)
class ColumnData:
    name: str
    kind: str
    values: tuple[Any, ...]  # distinct non-NULL values (timestamps: aware UTC datetimes)
    raw: tuple[str, ...]  # for timestamps: the records' own text, offsets and all
    nulls: int


def _catalog() -> dict[str, list[tuple[str, ColumnType]]]:
    c = create_connector("azavista", "azavista", {"base_url": "http://unused", "client_id": "x", "client_secret": "y"})
    return {name: [(col.name, col.type) for col in t.columns] for name, t in c.tables().items()}


CATALOG = _catalog()
_DATA: dict[str, list[ColumnData]] = {}


def column_data(table: str) -> list[ColumnData]:
    if table not in _DATA:
        rows = records("azavista", table, 42)
        out = []
        for name, ctype in CATALOG[table]:
            kind = KINDS[ctype]
            present = [r[name] for r in rows if r.get(name) is not None]
            raw: tuple[str, ...] = ()
            if kind == "timestamp":
                raw = tuple(sorted(set(present)))
                values = tuple(sorted({_instant(v) for v in present}))
            else:
                values = tuple(sorted(set(present), key=lambda v: (str(type(v)), v)))
            out.append(ColumnData(name, kind, values, raw, len(rows) - len(present)))
        _DATA[table] = out
    return _DATA[table]


# ---- literals and predicates, rendered twice: crmql text and DuckDB text -------------------------

@dataclass(frozen=True)
class Lit:
    value: Any
    kind: str  # string integer float boolean timestamp date null
    text: str  # crmql spelling

    @property
    def duck(self) -> str:
        v = self.value
        if self.kind == "null":
            return "NULL"
        if self.kind == "string":
            return "'" + v.replace("'", "''") + "'"
        if self.kind == "boolean":
            return "TRUE" if v else "FALSE"
        if self.kind == "timestamp":
            return f"TIMESTAMPTZ '{v.isoformat(sep=' ')}'"
        if self.kind == "date":  # crmql reads a date compared with a timestamp as midnight UTC
            return f"TIMESTAMPTZ '{v.isoformat()} 00:00:00+00:00'"
        return repr(v)


def _s(value: str) -> Lit:
    return Lit(value, "string", "'" + value.replace("'", "''") + "'")


def _n(value: int | float) -> Lit:
    if isinstance(value, float):
        return Lit(value, "float", repr(value) if "." in repr(value) or "e" in repr(value) else f"{value:.1f}")
    return Lit(value, "integer", str(value))


NULL = Lit(None, "null", "NULL")


def _col(name: str, draw: Callable[[Any], Any]) -> tuple[str, str]:
    crmql = f'"{name}"' if draw(st.integers(0, 9)) == 0 else name  # quoted names now and then
    return crmql, f'"{name}"'


METACHARS = (".", "+", "(", ")", "*", "?", "[", "]", "^", "$", "|", "\\", "{", "}")


#: Every value in a tree is drawn near one "focus" record: its own values (and values next to them:
#: other case, substrings, +-1 s/ms/us, +-1) half of the time, any value of the column otherwise.
Focus = dict[str, Any]


def _real(draw: Callable[[Any], Any], col: ColumnData, focus: Focus) -> Any:
    own = focus.get(col.name)
    if own is not None and draw(st.booleans()):
        return own
    pool = col.raw if col.kind == "timestamp" else col.values
    return draw(st.sampled_from(pool)) if pool else None


@st.composite
def string_value(draw: Callable[[Any], Any], col: ColumnData, focus: Focus) -> Lit:
    real = _real(draw, col, focus) or "x"
    how = draw(st.sampled_from(["real"] * 4 + ["case", "case", "sub", "prefix", "meta", "quote", "empty", "space", "other"]))
    if how == "real":
        return _s(real)
    if how == "case":
        return _s(mutate_case(draw, real))
    if how == "sub":
        return _s(substring(draw, real))
    if how == "prefix":
        return _s(real[: draw(st.integers(0, len(real)))])
    if how == "meta":
        m = draw(st.sampled_from(METACHARS))
        return _s(draw(st.sampled_from([m, real + m, m + real, real.replace(".", m) if "." in real else real[:3] + m])))
    if how == "quote":
        return _s(draw(st.sampled_from(["O'Neil", "'", "it''s", real + "'"])))
    if how == "empty":
        return _s("")
    if how == "space":
        return _s(" " + real if draw(st.booleans()) else real + " ")
    return _s(draw(st.text(alphabet="abcdefxyzABC0123456789@._-", min_size=1, max_size=8)))


@st.composite
def like_pattern(draw: Callable[[Any], Any], col: ColumnData, focus: Focus) -> Lit:
    real = _real(draw, col, focus) or "x"
    sub = substring(draw, real)
    how = draw(st.sampled_from(["contains"] * 3 + ["prefix", "suffix", "two", "underscore", "exact", "meta",
                                                  "metasub", "wild", "plain"]))
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
    elif how == "meta":  # the value's own regex metacharacters ('.' in e-mails, websites, names)
        pattern = f"%{real[max(0, real.find('.') - 3): real.find('.') + 4]}%" if "." in real else f"%{sub}.%"
    elif how == "metasub":
        m = draw(st.sampled_from(METACHARS))
        pattern = draw(st.sampled_from([f"%{m}%", f"%{sub}{m}%", f"{m}%", f"%{m}{sub}%", f"%{sub}{m}{m}%"]))
    elif how == "wild":
        pattern = draw(st.sampled_from(["%", "%%", "_%", "%_", "", "__", "%_%_%"]))
    else:
        pattern = sub
    if draw(st.integers(0, 3)) == 0:
        pattern = mutate_case(draw, pattern)
    return _s(pattern)


def _ts_lit(draw: Callable[[Any], Any], value: dt.datetime, raw: str | None) -> Lit:
    return timestamp_literal(draw, Lit, value, raw, ["iso", "space", "offset", "string", "raw"])


@st.composite
def timestamp_value(draw: Callable[[Any], Any], col: ColumnData, focus: Focus) -> Lit:
    raw = _real(draw, col, focus)
    base = _instant(raw)
    how = draw(st.sampled_from(["exact", "exact", "exact", "s", "ms", "us", "date", "far"]))
    if how == "date":
        day = base.date() + dt.timedelta(days=draw(st.integers(-1, 1)))
        return Lit(day, "date", f"DATE '{day.isoformat()}'")
    if how == "far":
        value = draw(st.sampled_from([dt.datetime(2000, 1, 1, tzinfo=UTC), dt.datetime(2099, 1, 1, tzinfo=UTC)]))
        return _ts_lit(draw, value, None)
    if how == "exact":
        return _ts_lit(draw, base, raw)
    return _ts_lit(draw, base + STEPS[how] * draw(st.sampled_from([-1, 1])), None)


@st.composite
def number_value(draw: Callable[[Any], Any], col: ColumnData, focus: Focus) -> Lit:
    real = _real(draw, col, focus) or 0
    how = draw(st.sampled_from(["real", "real", "real", "plus", "minus", "half", "edge"]))
    if how == "plus":
        real = real + (1 if col.kind == "integer" else draw(st.sampled_from([1, 0.01])))
    elif how == "minus":
        real = real - (1 if col.kind == "integer" else draw(st.sampled_from([1, 0.01])))
    elif how == "half":
        real = real + 0.5
    elif how == "edge":
        real = draw(st.sampled_from([0, -1, 10**9]))
    if isinstance(real, float) and col.kind == "float" and real.is_integer() and draw(st.booleans()):
        real = int(real)  # an integer literal against a float column
    if isinstance(real, float):
        real = round(real, 6)
    return _n(real)


BOOLEANS = (Lit(True, "boolean", "TRUE"), Lit(False, "boolean", "FALSE"),
            Lit(True, "boolean", "true"), Lit(False, "boolean", "False"))


def scalar(col: ColumnData, focus: Focus) -> st.SearchStrategy[Lit]:
    if col.kind == "string":
        return string_value(col, focus)
    if col.kind == "timestamp":
        return timestamp_value(col, focus)
    if col.kind in ("integer", "float"):
        return number_value(col, focus)
    return st.sampled_from(BOOLEANS)


@st.composite
def leaf(draw: Callable[[Any], Any], table: str, focus: Focus) -> Pred:
    col = draw(st.sampled_from(column_data(table)))
    c, d = _col(col.name, draw)
    shapes = ["cmp", "cmp", "cmp", "in", "between", "isnull", "notin"]
    if col.kind == "string":
        shapes += ["like", "like", "like"]
    others = [o for o in column_data(table) if o.kind == col.kind and o.name != col.name]
    if col.kind in ("timestamp", "integer", "float") and others:
        shapes += ["between_columns"]
    shape = draw(st.sampled_from(shapes))
    return shaped_leaf(draw, shape, c, d, scalar=lambda: scalar(col, focus), null=NULL,
                       other=lambda: _col(draw(st.sampled_from(others)).name, draw),
                       like=lambda: like_pattern(col, focus))


tree = make_tree(leaf)


#: columns whose value narrows a table to a few pages; an anchor on one keeps most examples cheap
SELECTIVE = {
    "events": ("name", "start", "end", "created_at", "updated_at", "organizer_email", "external_reference",
               "capacity", "registered_count", "venue_name", "city"),
    "contacts": ("first_name", "last_name", "email", "organization_id", "phone", "job_title", "city",
                 "external_reference", "created_at", "updated_at"),
    "organizations": tuple(name for name, _ in CATALOG["organizations"] if name not in ("id", "external_id")),
}
#: 1 in N examples is a bare tree (often a full scan); contacts (200 pages) is always anchored
UNANCHORED = {"organizations": 4, "events": 8, "contacts": None}


@st.composite
def anchor(draw: Callable[[Any], Any], table: str, focus: Focus) -> Pred:
    """A pushable predicate the focus record satisfies that selects a few pages at most."""
    name = draw(st.sampled_from([n for n in SELECTIVE[table] if focus.get(n) is not None]))
    col = next(c for c in column_data(table) if c.name == name)
    own = focus[name]
    if col.kind == "timestamp":
        at = _instant(own)
        lo, hi = (at - STEPS[draw(st.sampled_from(["ms", "s", "day"]))], at + STEPS[draw(st.sampled_from(["ms", "s", "day"]))])
        lo_l, hi_l = _ts_lit(draw, lo, None), _ts_lit(draw, hi, None)
        if draw(st.booleans()):
            return Pred(f"{name} BETWEEN {lo_l.text} AND {hi_l.text}", f'("{name}" BETWEEN {lo_l.duck} AND {hi_l.duck})')
        return Pred(f"{name} > {lo_l.text} AND {name} <= {hi_l.text}", f'("{name}" > {lo_l.duck} AND "{name}" <= {hi_l.duck})')
    if col.kind == "string":
        how = draw(st.sampled_from(["eq", "in", "like"]))
        if how == "like" and len(own) >= 4:
            pattern = _s(f"%{substring(draw, own, min_size=4)}%")
            return Pred(f"{name} LIKE {pattern.text}", f'("{name}" LIKE {pattern.duck})')
        value = _s(own)
    else:
        how = draw(st.sampled_from(["eq", "in"]))
        value = _n(own)
    if how == "in":
        other = draw(scalar(col, {}))
        return Pred(f"{name} IN ({value.text}, {other.text})", f'("{name}" IN ({value.duck}, {other.duck}))')
    return Pred(f"{name} = {value.text}", f'("{name}" = {value.duck})')


@st.composite
def where_clause(draw: Callable[[Any], Any], table: str) -> Pred:
    """A WHERE tree of depth <= 3 around a focus record, usually ANDed with an anchor on that
    record, so boundary values (the record's own instant, case, substrings) fall in the scanned
    pages and most examples exercise a pushed filter rather than a full scan."""
    rows = records("azavista", table, 42)
    focus = rows[draw(st.integers(0, len(rows) - 1))]
    body = draw(tree(table, focus, draw(st.integers(1, 3))))
    every = UNANCHORED[table]
    if every and draw(st.integers(0, every - 1)) == every // 2:  # not 0: Hypothesis favours the ends
        return body
    parts = [draw(anchor(table, focus)), body]
    if draw(st.integers(0, 5)) == 0:  # the anchor alone is often exact: COUNT(*) from the total, with a constant
        parts = [parts[0], draw(st.sampled_from(CONSTANT_PREDS))]
    if draw(st.booleans()):
        parts.reverse()
    return with_constant(draw, combine("AND", parts))
