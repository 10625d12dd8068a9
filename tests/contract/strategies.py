"""The kit's own differential strategies: WHERE trees drawn from a vendor's catalog and seeded records
alone, so a new vendor runs the differential property before (or without) writing strategies of its
own.

Every value is drawn near one "focus" record (its own value, another case, a substring, +-1,
+-1 s/ms/us, +-1 day), over every column type the catalog declares (lists excepted); leaves are
comparisons, IN / NOT IN, BETWEEN, LIKE / NOT LIKE / ILIKE and IS [NOT] NULL, combined into AND /
OR / NOT trees (``differential_support.make_tree``) and usually ANDed with an equality on the focus
record's most selective string column, so most examples read a page or two. The oracle is DuckDB
over the whole table read once without a filter (crmql's own typed rows: the vendors' own modules
check their oracle's input against the raw data).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pandas as pd
import pyarrow as pa
from hypothesis import strategies as st

from crmql.plan.catalog import ColumnType
from crmql.sandbox import records

from differential_support import (
    COMPARE_OPS, STEPS, UTC, DuckOracle, Pred, assert_same_ids, combine, make_tree, mutate_case, plan_on, substring,
)

DRAWN = (ColumnType.STRING, ColumnType.INTEGER, ColumnType.FLOAT, ColumnType.BOOLEAN, ColumnType.TIMESTAMP,
         ColumnType.DATE)
ARROW = {ColumnType.STRING: pa.string(), ColumnType.INTEGER: pa.int64(), ColumnType.FLOAT: pa.float64(),
         ColumnType.BOOLEAN: pa.bool_(), ColumnType.TIMESTAMP: pa.timestamp("us", tz="UTC"), ColumnType.DATE: pa.date32()}


@dataclass(frozen=True)
class Drawable:
    name: str
    type: ColumnType
    values: tuple[Any, ...]  # distinct non-NULL typed values in the seeded data


def _typed(raw: Any, ctype: ColumnType) -> Any:
    """A raw vendor value as crmql reads it (None when it is no value of the type)."""
    try:
        if raw is None:
            return None
        if ctype is ColumnType.TIMESTAMP:
            return dt.datetime.fromisoformat(str(raw).replace("Z", "+00:00")).astimezone(UTC)
        if ctype is ColumnType.DATE:
            return dt.date.fromisoformat(str(raw)[:10])
        if ctype is ColumnType.BOOLEAN:
            return raw if isinstance(raw, bool) else None
        if ctype in (ColumnType.INTEGER, ColumnType.FLOAT):
            return raw if isinstance(raw, (int, float)) and not isinstance(raw, bool) else None
        return raw if isinstance(raw, str) else None
    except (TypeError, ValueError):
        return None


def table_data(vendor: str, table: str, connector: Any) -> tuple[tuple[Drawable, ...], tuple[dict[str, Any], ...]]:
    """The drawable columns of a table and its seeded rows as ``{column: typed value}``."""
    cat = connector.table(table)
    columns = [c for c in cat.columns if c.type in DRAWN]
    rows = tuple({c.name: _typed(connector.row(cat, r).get(c.native), c.type) for c in columns}
                 for r in records(vendor, table, 42))
    drawable = tuple(Drawable(c.name, c.type, tuple(sorted({r[c.name] for r in rows if r[c.name] is not None},
                                                            key=lambda v: (str(type(v)), v))))
                     for c in columns)
    return drawable, rows


def literal(value: Any, ctype: ColumnType) -> tuple[str, str]:
    """``(crmql text, DuckDB text)`` of a typed value."""
    if ctype is ColumnType.TIMESTAMP:
        return f"TIMESTAMP '{value.isoformat()}'", f"TIMESTAMPTZ '{value.isoformat()}'"
    if ctype is ColumnType.DATE:
        return f"DATE '{value.isoformat()}'", f"DATE '{value.isoformat()}'"
    if ctype is ColumnType.BOOLEAN:
        return ("TRUE", "TRUE") if value else ("FALSE", "FALSE")
    if ctype in (ColumnType.INTEGER, ColumnType.FLOAT):
        text = repr(float(value)) if ctype is ColumnType.FLOAT else str(int(value))
        return text, text
    quoted = "'" + str(value).replace("'", "''") + "'"
    return quoted, quoted


@st.composite
def near(draw: Callable[[Any], Any], col: Drawable, focus: dict[str, Any]) -> Any:
    """A value of ``col`` on or next to the focus record's (or any value of the column)."""
    own = focus.get(col.name)
    if own is None or draw(st.integers(0, 2)) == 0:
        if not col.values:
            return {ColumnType.STRING: "x", ColumnType.BOOLEAN: True, ColumnType.DATE: dt.date(2024, 6, 1),
                    ColumnType.TIMESTAMP: dt.datetime(2024, 6, 1, tzinfo=UTC)}.get(col.type, 0)
        own = draw(st.sampled_from(col.values))
    step = draw(st.sampled_from(["same", "same", "next", "prev"]))
    if col.type is ColumnType.STRING:
        return {"same": own, "next": mutate_case(draw, own), "prev": substring(draw, own)}[step]
    if col.type is ColumnType.TIMESTAMP:
        delta = STEPS[draw(st.sampled_from(["s", "ms", "us"]))]
        return {"same": own, "next": own + delta, "prev": own - delta}[step]
    if col.type is ColumnType.DATE:
        return {"same": own, "next": own + STEPS["day"], "prev": own - STEPS["day"]}[step]
    if col.type in (ColumnType.INTEGER, ColumnType.FLOAT):
        delta = 1 if col.type is ColumnType.INTEGER else draw(st.sampled_from([1, 0.5]))
        return {"same": own, "next": own + delta, "prev": own - delta}[step]
    return own if step == "same" else not own


@st.composite
def leaf(draw: Callable[[Any], Any], columns: tuple[Drawable, ...], focus: dict[str, Any]) -> Pred:
    """One predicate on one column, near the focus record."""
    col = draw(st.sampled_from(columns))
    ref = f'"{col.name}"'
    kinds = ["cmp", "cmp", "in", "null"]
    if col.type is ColumnType.STRING:
        kinds += ["like", "like", "ilike"]
    elif col.type is not ColumnType.BOOLEAN:
        kinds += ["between"]
    kind = draw(st.sampled_from(kinds))
    if kind == "null":
        neg = " NOT" if draw(st.booleans()) else ""
        return Pred(f"{ref} IS{neg} NULL", f"({ref} IS{neg} NULL)")
    if kind in ("like", "ilike"):
        own = draw(near(col, focus))
        sub = substring(draw, own)
        pattern = draw(st.sampled_from([f"%{sub}%", f"{own[:3]}%", f"%{own[-3:]}", own.replace(own[:1], "_", 1), sub]))
        op = "ILIKE" if kind == "ilike" else draw(st.sampled_from(["LIKE", "LIKE", "NOT LIKE"]))
        text, duck = literal(pattern, ColumnType.STRING)
        return Pred(f"{ref} {op} {text}", f"({ref} {op} {duck})")
    if kind == "in":
        values = [literal(draw(near(col, focus)), col.type) for _ in range(draw(st.integers(1, 3)))]
        neg = " NOT" if draw(st.integers(0, 3)) == 0 else ""
        return Pred(f"{ref}{neg} IN ({', '.join(t for t, _ in values)})", f"({ref}{neg} IN ({', '.join(d for _, d in values)}))")
    if kind == "between":
        (lo_t, lo_d), (hi_t, hi_d) = sorted((literal(draw(near(col, focus)), col.type) for _ in range(2)), key=lambda x: x[1])
        return Pred(f"{ref} BETWEEN {lo_t} AND {hi_t}", f"({ref} BETWEEN {lo_d} AND {hi_d})")
    ops = ("=", "!=") if col.type in (ColumnType.STRING, ColumnType.BOOLEAN) else COMPARE_OPS
    op = draw(st.sampled_from(ops))
    text, duck = literal(draw(near(col, focus)), col.type)
    return Pred(f"{ref} {op} {text}", f"({ref} {op} {duck})")


@st.composite
def where_clause(draw: Callable[[Any], Any], columns: tuple[Drawable, ...], rows: tuple[dict[str, Any], ...]) -> Pred:
    """A tree of depth <= 2 near a focus record (``table_data``'s rows), ANDed (3 times in 4) with an
    equality on the focus record's most selective string column."""
    focus = rows[draw(st.integers(0, len(rows) - 1))]
    tree = make_tree(lambda _t, f: leaf(columns, f))
    body = draw(tree("", focus, draw(st.integers(0, 2))))
    strings = [c for c in columns if c.type is ColumnType.STRING and focus.get(c.name) is not None and c.name != "id"]
    if not strings or draw(st.integers(0, 3)) == 0:
        return body
    anchor = max(strings, key=lambda c: len(c.values))
    text, duck = literal(focus[anchor.name], ColumnType.STRING)
    return combine("AND", [Pred(f'"{anchor.name}" = {text}', f'("{anchor.name}" = {duck})'), body])


def oracle(session: Any, connection: str, table: str) -> DuckOracle:
    """DuckDB over the whole table, read once through crmql with no filter (lists left out)."""
    frame: pd.DataFrame = session.query(f"SELECT * FROM {connection}.{table}")
    cat = session.connector(connection).table(table)
    arrays, names = [], []
    for c in cat.columns:
        if c.type not in DRAWN:
            continue
        cells = [None if (not isinstance(v, (list, tuple)) and pd.isna(v)) else v for v in frame[c.name].tolist()]
        if c.type is ColumnType.TIMESTAMP:
            cells = [None if v is None else pd.Timestamp(v).tz_convert("UTC").to_pydatetime() for v in cells]
        elif c.type is ColumnType.DATE:
            cells = [None if v is None else pd.Timestamp(v).date() for v in cells]
        arrays.append(pa.array(cells, type=ARROW[c.type]))
        names.append(c.name)
    return DuckOracle(pa.Table.from_arrays(arrays, names=names))


def check(session: Any, oracle_: DuckOracle, connection: str, table: str, where: Pred) -> None:
    """crmql's ids for the WHERE equal the oracle's; COUNT(*) too where it comes from the vendor's total."""
    sql = f"SELECT id FROM {connection}.{table} WHERE {where.text}"
    expected = {str(i) for i in oracle_.ids(where.duck)}
    assert_same_ids(session, sql, expected)
    count_sql = f"SELECT COUNT(*) AS n FROM {connection}.{table} WHERE {where.text}"
    if plan_on(session, connection, count_sql).count_column is not None:
        assert int(session.query(count_sql)["n"][0]) == len(expected), f"{count_sql}\n{session.explain(count_sql)}"
