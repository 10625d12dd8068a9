"""Azavista's part of the differential contract (``tests/contract/test_contract_differential.py``):
the strategies, the oracle and the checks of the property test of the planner's pushdown (design
sections 5 and 10).

For random WHERE trees over every column of every Azavista table, the ids crmql returns (with
pushdown, against the simulator served over HTTP) must equal the ids an obviously right oracle
returns: DuckDB running the same WHERE, written independently of crmql (our own rendering of the
tree, typed literals), over the whole table fetched once without any filter.

This runs under every value of every ``azavista.*`` simulator variant (each undocumented reading
of the vendor's semantics), with a fresh session per variant so no cache leaks across, and under
connection settings that declare the vendor's reading (which makes pushes exact). Where the plan
claims to be exact, it also checks the paths that trust that claim: ``COUNT(*)`` answered from the
vendor's ``object_count``, and ``LIMIT``/``OFFSET`` pushed as the page size; a LIMIT that is
re-checked locally (pages read one at a time until enough rows pass) is checked too.

Each tree is drawn around a "focus" record (its own instants +-1 s/ms/us, its strings in other
case, substrings, regex metacharacters, ...) and is usually ANDed with a selective pushable
predicate on that record, so boundary values fall inside the pages actually scanned and most
examples cost a page or two instead of a full scan.

Examples per (table, variant): ``EXAMPLES`` (about 700 in all, a minute on two cores);
``CRMQL_DIFF_EXAMPLES`` scales them (e.g. ``CRMQL_DIFF_EXAMPLES=3`` for a soak of ~2,000).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pandas as pd
from hypothesis import strategies as st

from crmql.plan.catalog import ColumnType
from crmql.connectors.registry import create_connector
from crmql.plan.planner import Plan
from crmql.sandbox import ALL_VARIANTS, SandboxServer, records
from crmql.api.session import Session

from contract.kit import DifferentialSpec

from differential_support import (
    COMPARE_OPS, CONSTANTS, FLIP, SCALE, STEPS, UTC, DuckOracle, Pred, VariantConfig, assert_same_ids, combine, make_tree,
    mutate_case, plan_on, property_settings, substring, with_constant,
)

TABLES = ("events", "contacts", "organizations")
CONSTANT_PREDS = [Pred(c, f"({c})") for c in CONSTANTS]
#: examples per (table, variant): contacts is 10,000 rows (200 pages per full scan), so fewer
EXAMPLES = {"organizations": 40, "events": 35, "contacts": 20}


# ---- the variants --------------------------------------------------------------------------------

@dataclass(frozen=True)
class Config(VariantConfig):
    """Simulator variants, plus connection settings that declare them (making pushes exact)."""


def _configs() -> list[Config]:
    out = [Config()]
    for key, values in ALL_VARIANTS.items():
        if not key.startswith("azavista."):
            continue
        out.extend(Config(((key, value),)) for value in values[1:])  # values[0] is the default
    # vendors whose semantics the connection declares: pushes become exact, so COUNT(*) and LIMIT
    # trust the vendor; those claims must hold too (fewer examples: the plain runs cover the rest)
    declared = [
        ((("azavista.range", "inclusive"),), (("range_inclusive", True),)),
        ((("azavista.range", "exclusive"),), (("range_inclusive", False),)),
        ((("azavista.eq_case", "sensitive"),), (("eq_case_sensitive", True),)),
        ((("azavista.like_case", "sensitive"),), (("like_case_sensitive", True),)),
        ((("azavista.like_case", "insensitive"),), (("like_case_sensitive", False),)),
        ((("azavista.like_mode", "regex"), ("azavista.like_case", "sensitive")), (("like_case_sensitive", True),)),
    ]
    out.extend(Config(v, c, examples=0.3) for v, c in declared)
    return out


CONFIGS = _configs()


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
    how = draw(st.sampled_from(["iso", "space", "offset", "string", "raw"]))
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
    value_or_null = st.one_of(scalar(col, focus), scalar(col, focus), scalar(col, focus), st.just(NULL))
    if shape == "between_columns":  # a literal as the operand, columns as the bounds (issue 9 C)
        other = draw(st.sampled_from(others))
        o, od = _col(other.name, draw)
        value = draw(scalar(col, focus))
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
        lo, hi = draw(scalar(col, focus)), draw(scalar(col, focus))
        neg = "NOT " if draw(st.integers(0, 3)) == 0 else ""
        return Pred(f"{c} {neg}BETWEEN {lo.text} AND {hi.text}", f"({d} {neg}BETWEEN {lo.duck} AND {hi.duck})")
    if shape == "isnull":
        neg = draw(st.sampled_from(["", "NOT "]))
        return Pred(f"{c} IS {neg}NULL", f"({d} IS {neg}NULL)")
    pattern = draw(like_pattern(col, focus))
    word = draw(st.sampled_from(["LIKE", "ILIKE", "NOT LIKE", "NOT ILIKE", "like"]))
    return Pred(f"{c} {word} {pattern.text}", f"({d} {word} {pattern.duck})")


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


# ---- the oracle ------------------------------------------------------------------------------------

_BASE: dict[str, pd.DataFrame] = {}


def base_frame(server: SandboxServer, table: str) -> pd.DataFrame:
    """The whole table, fetched once with no filter at all (nothing to push)."""
    if table not in _BASE:
        with Session(_config(server.url, ())) as session:
            result = session.execute(f"SELECT * FROM azavista.{table}")
        assert result.stats.requests >= 1
        _BASE[table] = result.frame
    return _BASE[table]


class Oracle(DuckOracle):
    """DuckDB over one whole table (``t``), in UTC."""

    _made: dict[int, Oracle] = {}

    @classmethod
    def of(cls, frame: pd.DataFrame) -> Oracle:
        if id(frame) not in cls._made:
            cls._made[id(frame)] = cls(frame)
        return cls._made[id(frame)]


def _config(url: str, connection: tuple[tuple[str, Any], ...]) -> Any:
    from crmql.api.config import sandbox_config

    config = sandbox_config(url)
    config.connections["azavista"].settings.update(dict(connection))
    return config


def _plan(session: Session, sql: str) -> Plan:
    return plan_on(session, "azavista", sql)


def check_where(session: Session, oracle: Oracle, table: str, where: Pred) -> None:
    sql = f"SELECT id FROM azavista.{table} WHERE {where.text}"
    expected = oracle.ids(where.duck)
    assert_same_ids(session, sql, expected)

    # COUNT(*) from the vendor's total, when the plan says every conjunct is pushed exactly
    count_sql = f"SELECT COUNT(*) AS n FROM azavista.{table} WHERE {where.text}"
    if _plan(session, count_sql).count_column is not None:
        result = session.execute(count_sql)
        assert int(result.frame["n"][0]) == len(expected), f"{count_sql}\n{session.explain(count_sql)}"
        assert result.stats.requests <= 2  # one search (plus a token request)

    # LIMIT/OFFSET: pushed as the page size when nothing is re-checked locally; otherwise pages are
    # read one at a time until enough rows pass the re-check (run when that stops early for sure)
    limit_sql = f"SELECT id FROM azavista.{table} WHERE {where.text} LIMIT 5 OFFSET 2"
    fetch = _plan(session, limit_sql).scans[0].fetch
    if fetch.max_rows is not None or (fetch.stop_early and len(expected) >= 7):
        limited = list(session.query(limit_sql)["id"])
        assert len(limited) == min(5, max(0, len(expected) - 2)) == len(set(limited)) and set(limited) <= expected, \
            f"{limit_sql}: {len(limited)} rows of {len(expected)}\n{session.explain(limit_sql)}"


def check_oracle_input(sandbox: SandboxServer) -> None:
    """The oracle's input is the raw data, typed independently of crmql (pandas, not to_arrow)."""
    for table in TABLES:
        frame = base_frame(sandbox, table).set_index("id")
        raw = records("azavista", table, 42)
        assert len(frame) == len(raw) == frame.index.nunique()
        for name, ctype in CATALOG[table]:
            if name == "id":
                continue
            want = pd.Series({r["id"]: r.get(name) for r in raw}, dtype=object)
            got = frame[name]
            if ctype is ColumnType.TIMESTAMP:
                want = pd.to_datetime(want, utc=True, format="ISO8601")
                assert (got.loc[want.index].isna() == want.isna()).all(), name
                assert (got.loc[want.index].dropna() == want.dropna()).all(), name
            else:
                g = got.loc[want.index].astype(object).where(got.loc[want.index].notna(), None)
                assert list(g) == list(want), name


# ---- targeted regressions: the known-hard spots -----------------------------------------------------

def _event(name_part: str | None = None) -> dict[str, Any]:
    rows = records("azavista", "events", 42)
    return next(r for r in rows if name_part is None or name_part in r["name"])


#: each is selective (a few pages) so all of them run under every variant in a few seconds
REGRESSIONS = [
    # inclusive vs exclusive after/before, at exact instants (the record's own text, and in UTC)
    "start >= TIMESTAMP '{start_raw}' AND start < TIMESTAMP '{start_next_day}'",
    "start >= TIMESTAMP '{start_utc}' AND start < TIMESTAMP '{start_next_day}'",
    "start > TIMESTAMP '{start_raw}' AND start < TIMESTAMP '{start_next_day}'",
    "start <= TIMESTAMP '{start_raw}' AND start > TIMESTAMP '{start_prev_day}'",
    "start < TIMESTAMP '{start_raw}' AND start > TIMESTAMP '{start_prev_day}'",
    "start = TIMESTAMP '{start_raw}'",
    "start = TIMESTAMP '{start_utc}'",
    "start BETWEEN TIMESTAMP '{start_raw}' AND TIMESTAMP '{start_raw}'",
    "start BETWEEN '{start_utc}' AND '{start_next_day}'",
    "start >= DATE '{start_date}' AND start < DATE '{start_date_next}'",
    "created_at >= TIMESTAMP '{created_raw}' AND created_at <= TIMESTAMP '{created_raw}'",
    "created_at = TIMESTAMP '{created_raw}'",
    "created_at > TIMESTAMP '{created_minus_ms}' AND created_at < TIMESTAMP '{created_plus_ms}'",
    "created_at > TIMESTAMP '{created_raw}' AND created_at < TIMESTAMP '{created_plus_s}'",
    "updated_at >= TIMESTAMP '{updated_raw}' AND updated_at <= TIMESTAMP '{updated_plus_us}'",
    # LIKE and ILIKE against the vendor's case rules
    "name LIKE '%workshop%'",
    "name LIKE '%Workshop%' AND event_type = 'training'",
    "name LIKE '%WORKSHOP%'",
    "name ILIKE '%workshop%' AND event_type = 'sales'",
    "name ILIKE '%WorkShop%' AND event_type = 'marketing'",
    "name NOT LIKE '%Workshop%' AND event_type = 'partner'",
    "name LIKE 'Workshop%'",
    "name LIKE '%Work%shop%' AND event_type = 'sales'",
    "name LIKE '%W_rkshop%' AND event_type = 'sales'",
    "name LIKE '%Webinar: %'",
    # regex metacharacters under like_mode=regex
    "organizer_email LIKE '%.Visser@%'",
    "organizer_email LIKE '%.visser@%'",
    "organizer_email LIKE '%@azavista-demo.example' AND event_type = 'training'",
    "organizer_email LIKE '{email_dotted}' AND event_type = 'webinar'",
    "name LIKE '%+%' AND event_type = 'internal'",
    "name LIKE '%(%' AND event_type = 'webinar'",
    "name LIKE '%.%' AND event_type = 'conference'",
    "name LIKE '%Q1 (%'",
    "name LIKE '%[a-z]%' AND event_type = 'partner'",
    "name LIKE '%.*%' AND event_type = 'partner'",
    # equality: case, closed vocabularies, ids, NULLs in IN lists
    "event_type = 'SALES'",
    "event_type = 'sales'",
    "event_type IN ('Sales', 'training')",
    "(event_type = 'sales' OR event_type = 'marketing' OR status = 'draft') AND capacity IN ({capacity}, 50)",
    "id = '{id_upper}'",
    "id IN ('{id}', '{id_upper}')",
    "timezone = 'europe/amsterdam' AND event_type = 'sales'",
    "organizer_email = '{email_upper}'",
    "organizer_email = '{email}'",
    "price = 49",
    "price IN (49, 149.5)",
    "capacity IN ({capacity}, NULL)",
    "capacity NOT IN ({capacity}, NULL)",
    "capacity = {capacity} AND capacity = {capacity_plus}",
]


def _fill(template: str) -> str:
    e = _event("Webinar")
    start = _instant(e["start"])
    created = _instant(e["created_at"])
    return template.format(
        start_raw=e["start"], start_utc=start.isoformat(),
        start_next_day=(start + dt.timedelta(days=1)).isoformat(),
        start_prev_day=(start - dt.timedelta(days=1)).isoformat(),
        start_date=start.date().isoformat(), start_date_next=(start.date() + dt.timedelta(days=1)).isoformat(),
        created_raw=e["created_at"],
        created_minus_ms=(created - dt.timedelta(milliseconds=1)).isoformat(),
        created_plus_ms=(created + dt.timedelta(milliseconds=1)).isoformat(),
        created_plus_s=(created + dt.timedelta(seconds=1)).isoformat(),
        updated_raw=e["updated_at"],
        updated_plus_us=(_instant(e["updated_at"]) + dt.timedelta(microseconds=1)).isoformat(),
        id=e["id"], id_upper=e["id"].upper(), email=e["organizer_email"], email_upper=e["organizer_email"].upper(),
        email_dotted=e["organizer_email"].replace("@", "_"), capacity=e["capacity"], capacity_plus=e["capacity"] + 1)


def _local(frame: pd.DataFrame, where: str) -> set[str]:
    """The same WHERE over the full frame with DuckDB (crmql and DuckDB spell these alike, but
    for typed literals: a crmql TIMESTAMP or DATE is a UTC instant)."""
    sql = where.replace("TIMESTAMP '", "TIMESTAMPTZ '").replace("DATE '", "TIMESTAMPTZ '")
    return Oracle.of(frame).ids(sql)


VARIANT_VALUES = [{}] + [{k: v} for k, vs in ALL_VARIANTS.items() if k.startswith("azavista.") for v in vs[1:]] + [
    {"azavista.like_mode": "regex", "azavista.like_case": "sensitive"},
    {"azavista.range": "inclusive", "azavista.eq_case": "insensitive"},
]


def check_hard_spots(sandbox: SandboxServer, session: Session) -> None:
    """The regressions give the oracle's rows (and COUNT(*) from the vendor's total where trusted)."""
    frame = base_frame(sandbox, "events")
    for template in REGRESSIONS:
        where = _fill(template)
        expected = _local(frame, where)
        got = set(session.query(f"SELECT id FROM azavista.events WHERE {where}")["id"])
        assert got == expected, f"{where}: {len(got)} rows, expected {len(expected)}"
        count_sql = f"SELECT COUNT(*) AS n FROM azavista.events WHERE {where}"
        if _plan(session, count_sql).count_column is not None:  # the vendor's total is trusted
            assert session.query(count_sql)["n"][0] == len(expected), where


def check_hard_spots_hit_rows(sandbox: SandboxServer) -> None:
    """The regression queries hit real rows, so a lost row would show."""
    frame = base_frame(sandbox, "events")
    hits = {t: len(_local(frame, _fill(t))) for t in REGRESSIONS}
    assert hits[REGRESSIONS[0]] > hits[REGRESSIONS[2]] >= 0  # the record at the bound itself
    assert hits[REGRESSIONS[3]] > hits[REGRESSIONS[4]]
    assert hits["start = TIMESTAMP '{start_raw}'"] >= 1
    assert hits["created_at = TIMESTAMP '{created_raw}'"] == 1
    assert hits["name LIKE '%Workshop%' AND event_type = 'training'"] > 0 and hits["name LIKE '%WORKSHOP%'"] == 0
    assert hits["name LIKE '%workshop%'"] > 0
    assert hits["event_type = 'SALES'"] == 0 and hits["event_type = 'sales'"] > 0
    assert hits["id = '{id_upper}'"] == 0 and hits["id IN ('{id}', '{id_upper}')"] == 1
    assert hits["organizer_email LIKE '%.Visser@%'"] > 0 and hits["organizer_email LIKE '%.visser@%'"] == 0
    assert hits["organizer_email = '{email}'"] > 0 and hits["organizer_email = '{email_upper}'"] == 0
    assert hits["organizer_email LIKE '{email_dotted}' AND event_type = 'webinar'"] > 0  # '_' matches '@'
    assert hits["capacity IN ({capacity}, NULL)"] > 0
    assert all(hits[t] > 0 for t in REGRESSIONS if "ILIKE" in t or "Work%shop" in t or "W_rkshop" in t)


def session(url: str, connection: tuple[tuple[str, Any], ...]) -> Session:
    """A session on the served sandbox, with extra azavista connection settings."""
    return Session(_config(url, connection))


DIFFERENTIAL = DifferentialSpec(
    configs=CONFIGS, tables=TABLES, examples=EXAMPLES, small_only=frozenset(), session=session,
    oracle=lambda server, table: Oracle.of(base_frame(server, table)),
    strategy=lambda table, _config: where_clause(table),
    check=check_where, check_oracle_input=check_oracle_input,
    hard_spot_variants=VARIANT_VALUES, check_hard_spots=check_hard_spots,
    check_hard_spots_hit_rows=check_hard_spots_hit_rows,
)
