"""Atlas CRM's part of the differential contract (``tests/contract/test_contract_differential.py``):
the strategies, the oracle and the checks of the property test of the planner's pushdown (design
sections 5, 10); the Atlas-only runs are in ``test_atlas_differential.py`` beside this module.

For random WHERE trees over every column of atlas.companies, atlas.contacts and atlas.sales
(built-in fields and custom fields, by readable name and by UUID), the ids crmql returns (with
pushdown, against the Atlas simulator served over HTTP) must equal the ids an obviously right
oracle returns: DuckDB running the same WHERE, written independently of crmql (our own rendering
of the tree, typed literals), over the whole table fetched once without any filter (nothing to
push; checked against the simulator's raw records).

This runs under every value of every ``atlas.*`` simulator variant (each undocumented reading of
the vendor: eq and contains case, multi-select contains by label or substring, the page size
parameter ignored, NULLs sorted first or last; ``list_fields=omitted`` GETs every entity, so it
gets a few small queries of its own), with a fresh session per variant. Where the plan claims to
be exact it also checks the paths that trust the claim: ``COUNT(*)`` from the vendor's ``total``
and ``LIMIT`` as the page size. ``ORDER BY <decimal or date> LIMIT n`` (sorted at the vendor,
stopping early) is compared with the full sort by the sequence of sort keys (ties may pick other
rows).

``CRMQL_DIFF_EXAMPLES`` scales the number of examples (default 1.0; e.g. 5 for a long soak).
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pandas as pd
import pyarrow as pa
from hypothesis import strategies as st

from crmql.plan.catalog import ColumnType
from crmql.api.config import sandbox_config
from crmql.connectors.registry import create_connector
from crmql.plan.planner import Plan
from crmql.sandbox import ALL_VARIANTS, SandboxServer, records
from crmql.sandbox.atlas.template import build_templates
from crmql.api.session import Session

from contract.kit import DifferentialSpec
from vendors.atlas.pushdown import ENTITY_TYPES

from differential_support import (
    COMPARE_OPS, FLIP, SCALE, STEPS, UTC, DuckOracle, Pred, VariantConfig, assert_same_ids, combine, make_tree,
    mutate_case, plan_on, property_settings, substring, with_constant,
)

TABLES = ("companies", "contacts", "sales")
#: examples per (table, variant value); contacts is 5,000 rows (50 pages per full scan)
EXAMPLES = {"companies": 45, "sales": 40, "contacts": 40}
ATLAS_KEYS = sorted(k for k in ALL_VARIANTS if k.startswith("atlas."))
#: GETs every entity of every page: a few small queries only (test_list_items_without_fields)
SMALL_ONLY = {"atlas.list_fields"}


# ---- the variants --------------------------------------------------------------------------------

@dataclass(frozen=True)
class Config(VariantConfig):
    """Simulator variants, plus connection settings that declare them (making pushes exact)."""

    #: scales how often a tree is not anchored on its focus record (0: never); such trees often
    #: read many pages, which pages of 20 make five times as costly
    bare: float = 1.0


def _configs() -> list[Config]:
    out = [Config()]
    for key in ATLAS_KEYS:
        if key not in SMALL_ONLY:
            out.extend(Config(((key, value),), bare=0.25 if key == "atlas.page_param" else 1.0)
                       for value in ALL_VARIANTS[key][1:])  # [0] is the default
    # connections that declare the vendor's case rules: pushes become exact, so COUNT(*) and LIMIT
    # trust the vendor; those claims must hold too (fewer examples: the plain runs cover the rest)
    declared = [
        ((("atlas.eq_case", "sensitive"),), (("eq_case_sensitive", True),)),
        ((("atlas.contains_case", "sensitive"),), (("contains_case_sensitive", True),)),
        ((("atlas.contains_case", "insensitive"), ("atlas.multi_contains", "substring")),
         (("contains_case_sensitive", False),)),
    ]
    out.extend(Config(v, c, examples=0.25) for v, c in declared)
    return out


CONFIGS = _configs()


# ---- the catalog and the data the trees are drawn from ------------------------------------------

@dataclass(frozen=True)
class Col:
    name: str  # crmql column name
    field: str  # Atlas field id ("id", "type", a built-in slug or a custom UUID)
    kind: str  # template field type, or "id" / "type"
    type: ColumnType
    options: tuple[str, ...] | None


def _catalog() -> dict[str, list[Col]]:
    connector = create_connector("atlas", "atlas", {"base_url": "http://unused", "client_id": "x", "client_secret": "y"})
    templates = build_templates(42)
    out: dict[str, list[Col]] = {}
    for name, etype in ENTITY_TYPES.items():
        kinds = templates[etype].field_types()
        table = connector._entity_table(name, templates[etype].to_json())
        out[name] = [Col(c.name, c.native, kinds.get(c.native, c.name), c.type, c.options) for c in table.columns]
    return out


CATALOG = _catalog()
SORTABLE = {t: [c for c in cols if c.kind in ("decimal", "date")] for t, cols in CATALOG.items()}


@dataclass(frozen=True)
class ColumnData:
    col: Col
    values: tuple[Any, ...]  # distinct non-NULL raw values (lists: distinct labels)
    nulls: int


_DATA: dict[str, list[ColumnData]] = {}


def raw_value(record: dict[str, Any], col: Col) -> Any:
    return record.get(col.field) if col.field in ("id", "type") else record["fields"].get(col.field)


def column_data(table: str) -> list[ColumnData]:
    if table not in _DATA:
        rows = records("atlas", table, 42)
        out = []
        for col in CATALOG[table]:
            present = [raw_value(r, col) for r in rows if raw_value(r, col) is not None]
            if col.kind == "multi-select":
                values = tuple(sorted({label for v in present for label in v}))
            else:
                values = tuple(sorted(set(present), key=lambda v: (str(type(v)), v)))
            out.append(ColumnData(col, values, len(rows) - len(present)))
        _DATA[table] = out
    return _DATA[table]


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
    how = draw(st.sampled_from(["iso", "space", "offset", "raw"] + (["string"] if plain else [])))
    if how == "raw" and raw is not None:
        return Lit(value, "timestamp", f"TIMESTAMP '{raw}'")
    if how == "space":
        return Lit(value, "timestamp", f"TIMESTAMP '{value.replace(tzinfo=None).isoformat(sep=' ')}'")
    if how == "offset":
        tz = dt.timezone(dt.timedelta(hours=draw(st.sampled_from([-5, 1, 2, 9]))))
        return Lit(value, "timestamp", f"TIMESTAMP '{value.astimezone(tz).isoformat()}'")
    if how == "string":  # a plain string compared with a timestamp column is read as a timestamp
        return Lit(value, "timestamp", f"'{value.isoformat()}'")
    return Lit(value, "timestamp", f"TIMESTAMP '{value.isoformat()}'")


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
    value_or_null = st.one_of(scalar(data, focus), scalar(data, focus), scalar(data, focus), st.just(NULL))
    if shape == "between_columns":  # a literal as the operand, columns as the bounds (issue 9 C)
        o, od = _ref(draw(st.sampled_from(others)).col, draw)
        value = draw(scalar(data, focus))
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
        lo, hi = draw(scalar(data, focus)), draw(scalar(data, focus))
        neg = "NOT " if draw(st.integers(0, 3)) == 0 else ""
        return Pred(f"{c} {neg}BETWEEN {lo.text} AND {hi.text}", f"({d} {neg}BETWEEN {lo.duck} AND {hi.duck})")
    if shape == "isnull":
        neg = draw(st.sampled_from(["", "NOT "]))
        return Pred(f"{c} IS {neg}NULL", f"({d} IS {neg}NULL)")
    pattern = draw(like_pattern(data, focus))
    word = draw(st.sampled_from(["LIKE", "ILIKE", "NOT LIKE", "NOT ILIKE", "like"]))
    # crmql's LIKE has no escape character; DuckDB's needs ESCAPE '' to say so
    return Pred(f"{c} {word} {pattern.text}", f"({d} {word} {pattern.duck} ESCAPE '')")


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


# ---- the oracle ------------------------------------------------------------------------------------

_BASE: dict[str, pa.Table] = {}
ARROW = {ColumnType.STRING: pa.string(), ColumnType.FLOAT: pa.float64(), ColumnType.DATE: pa.date32(),
         ColumnType.TIMESTAMP: pa.timestamp("us", tz="UTC"), ColumnType.LIST: pa.list_(pa.string())}


def _py(value: Any, ctype: ColumnType) -> Any:
    """A cell of crmql's result frame as a plain Python value of the column's type (NULL: None)."""
    if value is None or (not isinstance(value, (list, tuple)) and not hasattr(value, "__len__") and pd.isna(value)):
        return None
    if isinstance(value, str) or ctype is ColumnType.STRING:
        return None if (isinstance(value, float) and math.isnan(value)) else value
    if ctype is ColumnType.LIST:
        return [str(v) for v in value]
    if ctype is ColumnType.DATE:
        return pd.Timestamp(value).date()
    if ctype is ColumnType.TIMESTAMP:
        return pd.Timestamp(value).tz_convert("UTC").to_pydatetime()
    return float(value)


def base_table(server: SandboxServer, table: str) -> pa.Table:
    """The whole table, fetched once with no filter at all (nothing to push), typed explicitly."""
    if table not in _BASE:
        with Session(_config(server.url, ())) as session:
            frame = session.query(f"SELECT * FROM atlas.{table}")
        arrays = [pa.array([_py(v, c.type) for v in frame[c.name].tolist()], type=ARROW[c.type]) for c in CATALOG[table]]
        _BASE[table] = pa.Table.from_arrays(arrays, names=[c.name for c in CATALOG[table]])
    return _BASE[table]


class Oracle(DuckOracle):
    """DuckDB over one whole table (``t``), in UTC."""

    _made: dict[str, Oracle] = {}

    @classmethod
    def of(cls, server: SandboxServer, table: str) -> Oracle:
        if table not in cls._made:
            cls._made[table] = cls(base_table(server, table))
        return cls._made[table]

    def sorted_keys(self, where: str, column: str, limit: int) -> list[Any]:
        sql = f'SELECT "{column}" FROM t WHERE {where} ORDER BY "{column}" ASC NULLS LAST LIMIT {limit}'
        return [r[0] for r in self.con.execute(sql).fetchall()]


def _config(url: str, connection: tuple[tuple[str, Any], ...]) -> Any:
    config = sandbox_config(url)
    config.connections["atlas"].settings.update({"retry_base_s": 0.001, "retry_cap_s": 0.01, **dict(connection)})
    return config


def _plan(session: Session, sql: str) -> Plan:
    return plan_on(session, "atlas", sql)


def _key(value: Any, ctype: ColumnType) -> Any:
    value = _py(value, ctype)
    return value.isoformat() if isinstance(value, dt.date) else value


def check_trusted(session: Session, table: str, where: Pred, expected: set[str] | None,
                  oracle: Oracle | None = None) -> None:
    """COUNT(*) from the vendor's total and LIMIT as the page size, where the plan trusts the vendor."""
    # COUNT(*) from the vendor's total, when the plan says every conjunct is pushed exactly
    count_sql = f"SELECT COUNT(*) AS n FROM atlas.{table} WHERE {where.text}"
    if _plan(session, count_sql).count_column is not None:
        expected = oracle.ids(where.duck) if expected is None else expected
        result = session.execute(count_sql)
        assert int(result.frame["n"][0]) == len(expected), f"{count_sql}\n{session.explain(count_sql)}"
        assert result.stats.requests <= 2  # one entities request (plus a token request)

    # LIMIT pushed as the page size, when nothing is re-checked locally
    limit_sql = f"SELECT id FROM atlas.{table} WHERE {where.text} LIMIT 7"
    if _plan(session, limit_sql).scans[0].fetch.max_rows is not None:
        expected = oracle.ids(where.duck) if expected is None else expected
        limited = set(session.query(limit_sql)["id"])
        assert len(limited) == min(7, len(expected)) and limited <= expected, f"{limit_sql}\n{session.explain(limit_sql)}"


def check_example(session: Session, oracle: Oracle, table: str, ex: Example) -> None:
    where = ex.where
    sql = f"SELECT id FROM atlas.{table} WHERE {where.text}"
    expected = oracle.ids(where.duck)
    assert_same_ids(session, sql, expected)

    check_trusted(session, table, where, expected)
    check_trusted(session, table, ex.probe, None, oracle)

    # ORDER BY a decimal or date LIMIT n: sorted at the vendor, stopping early; same keys as a full sort
    if ex.order is not None:
        col = ex.order
        order_sql = f'SELECT id, "{col.name}" FROM atlas.{table} WHERE {where.text} ORDER BY "{col.name}" LIMIT {ex.limit}'
        frame = session.query(order_sql)
        want = [_key(v, col.type) for v in oracle.sorted_keys(where.duck, col.name, ex.limit)]
        keys = [_key(v, col.type) for v in frame[col.name].tolist()]
        assert keys == want, f"{order_sql}\n{session.explain(order_sql)}"
        assert set(frame["id"]) <= expected


def _normal(value: Any) -> Any:
    return [str(v) for v in value] if isinstance(value, list) else value


def check_oracle_input(sandbox: SandboxServer) -> None:
    """The oracle's input is the simulator's raw data (typed here independently of crmql)."""
    for table in TABLES:
        data = base_table(sandbox, table).to_pylist()
        raw = records("atlas", table, 42)
        assert len(data) == len(raw) == len({r["id"] for r in data})
        by_id = {r["id"]: r for r in data}
        for record in raw:
            row = by_id[record["id"]]
            for col in CATALOG[table]:
                want = raw_value(record, col)
                if want is not None and col.kind == "date":
                    want = dt.date.fromisoformat(want)
                elif want is not None and col.kind == "timestamp":
                    want = _instant(want)
                elif want is not None and col.kind == "decimal":
                    want = float(want)
                assert _normal(row[col.name]) == want, (table, record["id"], col.name)


# ---- targeted regressions: the known-hard spots, under every filter reading ------------------------

#: (table, WHERE); {x} are filled from one sale and one contact, [name] is a custom field by its UUID
REGRESSIONS = [
    # timestamps at exact instants: gte/lte inclusive or not, compared as instants or as text
    ("sales", "\"sale-created\" >= TIMESTAMP '{created}' AND \"sale-created\" < TIMESTAMP '{created_plus_s}'"),
    ("sales", "\"sale-created\" > TIMESTAMP '{created_minus_ms}' AND \"sale-created\" <= TIMESTAMP '{created}'"),
    ("sales", "\"sale-created\" > TIMESTAMP '{created}' AND \"sale-created\" < TIMESTAMP '{created_plus_ms}'"),
    ("sales", "\"sale-created\" = TIMESTAMP '{created}'"),
    ("sales", "\"sale-created\" = TIMESTAMP '{created_offset}'"),
    ("sales", "\"sale-created\" BETWEEN '{created}' AND '{created}'"),
    ("sales", "\"sale-created\" > TIMESTAMP '0099-01-01' AND \"sale-name\" = '{name}'"),
    ("sales", "\"sale-created\" >= TIMESTAMP '0001-01-01' AND \"sale-name\" = '{name}'"),
    # dates: inclusive bounds, a time of day, an early year
    ("sales", "\"sale-close-date\" = DATE '{close}'"),
    ("sales", "\"sale-close-date\" > DATE '{close}' AND \"sale-close-date\" <= DATE '{close_plus}'"),
    ("sales", "\"sale-close-date\" >= TIMESTAMP '{close} 12:00:00' AND \"sale-close-date\" < DATE '{close_plus}'"),
    ("sales", "\"sale-close-date\" <= TIMESTAMP '{close} 00:00:00' AND \"sale-close-date\" > DATE '{close_minus}'"),
    ("sales", "\"sale-close-date\" > DATE '0099-01-01' AND \"sale-name\" = '{name}'"),
    # decimals
    ("sales", "\"sale-balance\" = {balance}"),
    ("sales", "\"sale-balance\" > {balance} AND \"sale-balance\" < {balance_plus}"),
    ("sales", "\"sale-balance\" IN ({balance}, NULL)"),
    ("sales", "\"sale-balance\" NOT IN ({balance}, NULL) AND \"sale-name\" = '{name}'"),
    ("sales", "[discount] = {discount} AND \"sale-balance\" >= {balance}"),
    # closed vocabularies and case
    ("sales", "\"sale-status\" = 'OPEN' AND \"sale-name\" LIKE '%{name_word}%'"),
    ("sales", "\"sale-status\" IN ('Won', 'lost') AND \"sale-balance\" >= {balance}"),
    ("sales", "\"sale-status\" = 'open' AND (\"sale-status\" = 'won' OR \"sale-balance\" >= {balance})"),
    ("sales", "\"sale-owner\" = '{owner_upper}' AND \"sale-balance\" >= {balance}"),
    ("sales", "\"sale-owner\" = '{owner}' AND \"sale-status\" = 'won'"),
    ("sales", "\"sale-name\" = '{name_lower}'"),
    # ids: GET by id, and no id filter inside an OR
    ("sales", "id = '{id}' OR \"sale-name\" = '{name}'"),
    ("sales", "id IN ('{id}', '{id_upper}')"),
    ("sales", "id = '{id_upper}'"),
    ("sales", "id = '/' AND \"sale-name\" = '{name}'"),
    ("sales", "id IN ('{id}', '..', 'a/b') AND \"sale-status\" = 'open' AND \"sale-balance\" >= {balance}"),
    # multi-select contains: whole label or substring, any case
    ("sales", "list_contains([competitors], '{competitor}') AND [deal_type] = '{deal_type}'"),
    ("sales", "list_contains([competitors], '{competitor_lower}') AND \"sale-balance\" >= {balance}"),
    ("sales", "list_contains([competitors], '{competitor_part}') AND \"sale-balance\" >= {balance}"),
    ("contacts", "list_contains(newsletter_topics, 'Tips & Tricks') AND \"contact-name\" LIKE '%{last}%'"),
    # hostile values, through URL encoding and LIKE
    ("sales", "referral_code = 'R&D-2024'"),
    ("sales", "referral_code LIKE '%50% OFF%'"),
    ("sales", "referral_code IN ('Q4+EMEA', '[BETA]', 'REF#42', 'say \"hi\"', 'O''Reilly', 'PARTNER=GOLD')"),
    ("sales", "referral_code ILIKE '%früh%' OR referral_code LIKE '%#%'"),
    ("sales", "\"sale-name\" LIKE '%– {product}%' AND \"sale-status\" = 'lost'"),
    # OR across fields (split), the EXPLAIN query, contains case
    ("sales", "\"sale-name\" LIKE '%{name_word}%' OR [deal_type] = 'Renewal' AND \"sale-balance\" >= {balance}"),
    ("contacts", "\"contact-email\" LIKE '%@gmail.com' OR \"contact-name\" = 'Tom'"),
    ("contacts", "\"contact-email\" LIKE '%{email_domain_upper}'"),
    ("contacts", "\"contact-email\" ILIKE '%{email_domain}' AND \"contact-name\" LIKE '%{contact_first}%'"),
    ("contacts", "\"contact-email\" = '{email}' OR \"contact-email\" = '{email_lower}'"),
    # companies: slug collisions, non-ASCII labels
    ("companies", "grosse = 'Groß' AND account_tier = 'Gold'"),
    ("companies", "grosse = 'GROSS' OR grosse = 'groß'"),
    ("companies", "region = 'emea' OR region_2 = 'EMEA'"),
    ("companies", "list_contains(segments, 'SMB') AND \"company-employees\" >= 1000"),
]


def _fill(template: str, *, duck: bool) -> str:
    sales = records("atlas", "sales", 42)
    by = {c.name: c for c in CATALOG["sales"]}
    s = next(r for r in sales if all(k in r["fields"] for k in ("sale-close-date", "sale-owner", by["competitors"].field,
                                                                   by["deal_type"].field, by["discount"].field))
             and not float(r["fields"].get("sale-balance", 1)).is_integer())
    f = {c.name: s["fields"].get(c.field) for c in CATALOG["sales"]}
    contact = next(r for r in records("atlas", "contacts", 42)
                   if (e := r["fields"].get("contact-email")) and e != e.lower() and "@" in e)
    email = contact["fields"]["contact-email"]
    created = _instant(f["sale-created"])
    close = dt.date.fromisoformat(f["sale-close-date"])
    text = template.format(
        created=f["sale-created"], created_plus_s=(created + STEPS["s"]).isoformat(),
        created_minus_ms=(created - STEPS["ms"]).isoformat(), created_plus_ms=(created + STEPS["ms"]).isoformat(),
        created_offset=created.astimezone(dt.timezone(dt.timedelta(hours=-5))).isoformat(),
        close=close.isoformat(), close_plus=(close + dt.timedelta(days=1)).isoformat(),
        close_minus=(close - dt.timedelta(days=1)).isoformat(),
        balance=f["sale-balance"], balance_plus=f["sale-balance"] + 0.01, discount=f["discount"],
        name=f["sale-name"].replace("'", "''"), name_lower=f["sale-name"].lower().replace("'", "''"),
        name_word=f["sale-name"].split()[1], product=f["sale-name"].split("– ")[1].split()[0],
        owner=f["sale-owner"], owner_upper=f["sale-owner"].upper(), id=s["id"], id_upper=s["id"].upper(),
        competitor=f["competitors"][0], competitor_lower=f["competitors"][0].lower(),
        competitor_part=f["competitors"][0][1:4], deal_type=f["deal_type"],
        last=contact["fields"]["contact-name"].split()[-1], contact_first=contact["fields"]["contact-name"].split()[0],
        email=email, email_lower=email.lower(), email_domain=email.split("@")[1].lower(),
        email_domain_upper=email.split("@")[1].upper())
    for col in CATALOG["sales"]:
        text = text.replace(f"[{col.name}]", f'"{col.name}"' if duck else f'"{col.field}"')
    if duck:  # a crmql TIMESTAMP (and a plain string for a timestamp column) is a UTC instant
        text = text.replace("TIMESTAMP '", "TIMESTAMPTZ '").replace("LIKE '%50% OFF%'", "LIKE '%50% OFF%' ESCAPE ''")
        text = text.replace("BETWEEN '", "BETWEEN TIMESTAMPTZ '").replace("AND '" + f["sale-created"],
                                                                        "AND TIMESTAMPTZ '" + f["sale-created"])
    return text


FILTER_VARIANTS = [{}] + [{k: v} for k in ("atlas.eq_case", "atlas.contains_case", "atlas.multi_contains",
                                           "atlas.page_param") for v in ALL_VARIANTS[k][1:]]


def check_hard_spots(sandbox: SandboxServer, session: Session) -> None:
    """The regressions give the oracle's rows (and the trusted COUNT(*) and LIMIT paths)."""
    for table, template in REGRESSIONS:
        where, duck = _fill(template, duck=False), _fill(template, duck=True)
        oracle = Oracle.of(sandbox, table)
        expected = oracle.ids(duck)
        got = session.query(f"SELECT id FROM atlas.{table} WHERE {where}")
        assert set(got["id"]) == expected and len(got) == len(expected), f"{where}: {len(got)} rows, expected {len(expected)}"
        check_trusted(session, table, Pred(where, duck), expected)


def check_hard_spots_hit_rows(sandbox: SandboxServer) -> None:
    """The regression queries hit real rows (but for the other-case and boundary ones, where the
    vendor may return rows crmql must drop), so a lost row would show."""
    hits = {t: len(Oracle.of(sandbox, table).ids(_fill(t, duck=True))) for table, t in REGRESSIONS}
    assert sum(1 for n in hits.values() if n) >= len(REGRESSIONS) - 12, hits
    assert all(n < 1500 for n in hits.values()), hits  # each reads a few pages at most
    assert hits[REGRESSIONS[3][1]] == 1 and hits[REGRESSIONS[4][1]] == 1  # the instant, in UTC and at -05:00
    assert hits[REGRESSIONS[2][1]] == 0 and hits[REGRESSIONS[1][1]] == 1


def session(url: str, connection: tuple[tuple[str, Any], ...]) -> Session:
    """A session on the served sandbox, with extra atlas connection settings (fast retries)."""
    return Session(_config(url, connection))


DIFFERENTIAL = DifferentialSpec(
    configs=CONFIGS, tables=TABLES, examples=EXAMPLES, small_only=frozenset(SMALL_ONLY), session=session,
    oracle=Oracle.of, strategy=lambda table, config: example(table, config.bare),
    check=check_example, check_oracle_input=check_oracle_input,
    hard_spot_variants=FILTER_VARIANTS, check_hard_spots=check_hard_spots,
    check_hard_spots_hit_rows=check_hard_spots_hit_rows,
)
