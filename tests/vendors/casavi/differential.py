"""casavi's part of the differential contract (``tests/contract/test_contract_differential.py``):
for random WHERE trees over every drawable column of every casavi table (the three lists, their
custom-field columns, and both child tables), crmql's answer (with pushdown, against the simulator
served over HTTP) equals an obviously right oracle's: DuckDB running the same WHERE over the
simulator's raw records (``crmql.sandbox.records("casavi", table, 42)``), typed here from the
catalog below, independently of crmql (``check_oracle_input`` compares the two readings).

Runs: the default reading and every value of the variants that change what a filter or a field
returns (``casavi.bool_filters``: ``isRegistered``/``isInvited`` honoured, only ``=true``, or
ignored; ``casavi.postal_code``: served as a number, which the oracle reads as the vendor's digits).
The paging, refresh and ``modifiedAfter`` readings get targeted tests of their own
(``small_only``: ``test_casavi_paging.py``, ``test_casavi_auth.py``, ``test_casavi_modified.py``),
which is cheaper than a property run each.

Trees are the kit's leaves (``contract.strategies.leaf``: comparisons, IN, BETWEEN, LIKE, ILIKE,
IS NULL near one focus record) in AND/OR/NOT trees, usually ANDed with an anchor that keeps an
example to a request or a page or two: the focus record's id (a read by id), the parent's id for a
child table (a read of the parent by id), or a boolean the vendor filters (contacts). Tables
without an ``id`` (the child tables) are compared as multisets of whole rows. The known hard spots
are the flags under each ``casavi.bool_filters`` reading, narrowed by ``modifiedAfter`` so that
each costs a page.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import pandas as pd
import pyarrow as pa
from hypothesis import strategies as st

from crmql.api.session import Session
from crmql.plan.catalog import ColumnType
from crmql.sandbox import SandboxServer, records

from contract.kit import DifferentialSpec, session_for
from contract.strategies import ARROW, Drawable, leaf, literal
from differential_support import DuckOracle, Pred, VariantConfig, combine, make_tree, plan_on

S, I, F, B, T, D = (ColumnType.STRING, ColumnType.INTEGER, ColumnType.FLOAT, ColumnType.BOOLEAN,
                    ColumnType.TIMESTAMP, ColumnType.DATE)
_STR = "title salutation firstName lastName companyName companyRole email telephone mobile fax website street " \
       "postalCode city country note preferredWayOfContact appLink"
#: table -> ((column, type, where in the raw record: a field, or ("customFields", name)), ...)
CATALOG: dict[str, tuple[tuple[str, ColumnType, Any], ...]] = {
    "contacts": (("id", S, "id"), ("internalId", I, "internalId"), *((n, S, n) for n in _STR.split()),
                 ("isRegistered", B, "isRegistered"), ("isInvited", B, "isInvited"),
                 ("Email2", S, ("customFields", "Email2")), ("Anschrift", S, ("customFields", "Anschrift")),
                 ("Kundennummer", S, ("customFields", "Kundennummer")),
                 ("Newsletter", B, ("customFields", "Newsletter")),
                 ("Geburtsdatum", D, ("customFields", "Geburtsdatum"))),
    "properties": (("id", S, "id"), ("internalId", I, "internalId"),
                   *((n, S, n) for n in "name note country city postalCode number mscNumber mscProviderName "
                     "mscProviderIdentifier appLink".split()),
                   ("Baujahr", I, ("customFields", "Baujahr")), ("Wohnfläche", F, ("customFields", "Wohnfläche")),
                   ("Heizungsart", S, ("customFields", "Heizungsart")),
                   ("Denkmalschutz", B, ("customFields", "Denkmalschutz")),
                   ("Letzte Begehung", T, ("customFields", "Letzte Begehung"))),
    "units": (("id", S, "id"), ("internalId", I, "internalId"), ("propertyId", S, "propertyId"), ("name", S, "name"),
              ("number", S, "number"), ("floor", I, "floor"), ("area", F, "area"), ("type", S, "type"),
              ("appLink", S, "appLink"), ("Kaltmiete", F, ("customFields", "Kaltmiete")),
              ("Balkon", B, ("customFields", "Balkon"))),
    "contracts": (("contactId", S, "contactId"), ("type", S, "type"), ("propertyId", S, "propertyId"),
                  ("unitId", S, "unitId"), ("startDate", T, "startDate"), ("endDate", T, "endDate")),
    "responsibilities": (("propertyId", S, "propertyId"), ("contactId", S, "contactId"),
                         ("contactInternalId", I, "contactInternalId"), ("contactName", S, "contactName"),
                         ("roleName", S, "roleName"), ("roleType", S, "roleType"), ("email", S, "email"),
                         ("telephone", S, "telephone")),
}
TABLES = tuple(CATALOG)
#: a child table -> (its parent table, the array, the column carrying the parent's id)
CHILDREN = {"contracts": ("contacts", "contracts", "contactId"),
            "responsibilities": ("properties", "responsibilities", "propertyId")}
#: examples per (table, configuration); a contracts example without its anchor reads every contact
EXAMPLES = {"properties": 10, "units": 6, "contacts": 5, "contracts": 4, "responsibilities": 6}
#: readings with targeted tests of their own instead of property runs
SMALL_ONLY = frozenset({"casavi.page_size_param", "casavi.page_size_max", "casavi.oversize", "casavi.page_base",
                        "casavi.next_link", "casavi.last_page", "casavi.refresh", "casavi.modified_after",
                        "casavi.modified_format"})


@dataclass(frozen=True)
class Config(VariantConfig):
    """Simulator variants (no connection setting declares a casavi reading)."""


CONFIGS = [Config(), Config((("casavi.bool_filters", "true_only"),)), Config((("casavi.bool_filters", "ignored"),)),
           Config((("casavi.postal_code", "number"),), examples=0.5)]


# ---- the oracle: the raw records, typed here ---------------------------------------------------------

def _typed(raw: Any, ctype: ColumnType) -> Any:
    """A raw JSON value as a value of ``ctype`` (None: absent, null, or not of the type)."""
    if raw is None:
        return None
    if ctype is S:
        return raw if isinstance(raw, str) else None
    if ctype is B:
        return raw if isinstance(raw, bool) else None
    if ctype is I:
        return raw if isinstance(raw, int) and not isinstance(raw, bool) else None
    if ctype is F:
        return float(raw) if isinstance(raw, (int, float)) and not isinstance(raw, bool) else None
    if ctype is T:
        return dt.datetime.fromisoformat(raw.replace("Z", "+00:00")).astimezone(dt.timezone.utc)
    if ctype is D:
        return dt.date.fromisoformat(raw[:10])
    raise AssertionError(ctype)


def _field(record: dict[str, Any], where: Any) -> Any:
    if isinstance(where, tuple):
        return (record.get(where[0]) or {}).get(where[1])
    return record.get(where)


def raw_rows(table: str) -> list[dict[str, Any]]:
    """The table's raw rows: records, or the items of a parent's array with the parent's id."""
    if table in CHILDREN:
        parent, array, carry = CHILDREN[table]
        return [{**item, carry: p["id"]} for p in records("casavi", parent, 42) for item in p.get(array) or []]
    return records("casavi", table, 42)


@lru_cache(maxsize=None)
def typed_rows(table: str, postal_number: bool = False) -> tuple[dict[str, Any], ...]:
    """Every row of ``table`` as ``{column: typed value}``; ``postal_number``: as served under
    ``casavi.postal_code=number`` (a property's postalCode a JSON number, so ``01067`` is read
    back as ``1067``: a leading zero the vendor's number lost stays lost)."""
    rows = tuple({name: _typed(_field(r, where), ctype) for name, ctype, where in CATALOG[table]}
                 for r in raw_rows(table))
    if postal_number and table == "properties":
        rows = tuple(dict(r, postalCode=str(int(r["postalCode"])) if r["postalCode"] else r["postalCode"])
                     for r in rows)
    return rows


class Oracle(DuckOracle):
    """DuckDB over one table's typed raw rows (``t``), in UTC."""

    def __init__(self, table: str, postal_number: bool = False) -> None:
        rows = typed_rows(table, postal_number)
        arrays = [pa.array([r[n] for r in rows], type=ARROW[c]) for n, c, _ in CATALOG[table]]
        super().__init__(pa.Table.from_arrays(arrays, names=[n for n, _, _ in CATALOG[table]]))
        self.table = table

    def rows(self, where: str) -> Counter[tuple[Any, ...]]:
        cols = ", ".join(f'"{n}"' for n, _, _ in CATALOG[self.table])
        return Counter(tuple(map(norm, r)) for r in self.con.execute(f"SELECT {cols} FROM t WHERE {where}").fetchall())


@lru_cache(maxsize=None)
def oracle_of(table: str, postal_number: bool = False) -> Oracle:
    return Oracle(table, postal_number)


@dataclass(frozen=True)
class Served:
    """The oracle of a table on a served sandbox: which one depends on the reading it serves."""

    server: SandboxServer
    table: str

    def oracle(self) -> Oracle:
        return oracle_of(self.table, self.server.settings.variants.get("casavi.postal_code") == "number")


def norm(value: Any) -> Any:
    """A cell, from DuckDB or from crmql's frame, in one comparable form."""
    kind = type(value)
    if kind is str or value is None or kind is bool:  # the common cells first: this runs per cell
        return value
    if kind is int or kind is float:
        return None if value != value else float(value)
    if value is None or (not isinstance(value, (str, list, dict)) and pd.isna(value)):
        return None
    if isinstance(value, (dt.datetime, pd.Timestamp)):
        return pd.Timestamp(value).tz_convert("UTC").isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, bool) or hasattr(value, "dtype") and value.dtype == bool:
        return bool(value)
    if isinstance(value, (int, float)) or hasattr(value, "dtype"):
        return float(value)
    return str(value)


# ---- the strategy --------------------------------------------------------------------------------------

@lru_cache(maxsize=None)
def drawables(table: str) -> tuple[Drawable, ...]:
    rows = typed_rows(table)
    return tuple(Drawable(n, c, tuple(sorted({r[n] for r in rows if r[n] is not None},
                                             key=lambda v: (str(type(v)), v))))
                 for n, c, _ in CATALOG[table])


def _quoted(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


@st.composite
def where_clause(draw: Callable[[Any], Any], table: str) -> Pred:
    """A tree of depth <= 2 near a focus row, ANDed (mostly) with a cheap anchor."""
    rows = typed_rows(table)
    focus = rows[draw(st.integers(0, len(rows) - 1))]
    columns = drawables(table)
    body = draw(make_tree(lambda _t, f: leaf(columns, f))(table, focus, draw(st.integers(0, 2))))
    anchor = draw(st.sampled_from(["key", "key", "key", "bool", "none"]))
    key = "id" if table not in CHILDREN else CHILDREN[table][2]
    if anchor == "key" and focus.get(key) is not None:
        other = rows[draw(st.integers(0, len(rows) - 1))][key]
        values = [focus[key]] + ([other] if other is not None and draw(st.booleans()) else [])
        texts = ", ".join(_quoted(v) for v in values)
        return combine("AND", [Pred(f'"{key}" IN ({texts})', f'("{key}" IN ({texts}))'), body])
    if anchor == "bool" and table == "contacts":
        col = draw(st.sampled_from(["isRegistered", "isInvited"]))
        text, duck = literal(draw(st.booleans()), B)
        return combine("AND", [Pred(f"{col} = {text}", f'("{col}" = {duck})'), body])
    if anchor == "none" and table in ("properties", "responsibilities"):
        return body
    if focus.get(key) is None:
        return body
    text = _quoted(focus[key])
    return combine("AND", [Pred(f'"{key}" = {text}', f'("{key}" = {text})'), body])


# ---- the check -------------------------------------------------------------------------------------------

def answer(session: Session, table: str, where: str) -> Counter[tuple[Any, ...]]:
    """crmql's rows for ``where`` (every catalog column), as a multiset."""
    cols = ", ".join(f'"{n}"' for n, _, _ in CATALOG[table])
    frame = session.query(f"SELECT {cols} FROM casavi.{table} WHERE {where}")
    return Counter(tuple(norm(v) for v in row) for row in frame.astype(object).itertuples(index=False))


def check_where(session: Session, served: Served, table: str, where: Pred) -> None:
    want, got = served.oracle().rows(where.duck), answer(session, table, where.text)
    if got != want:
        sql = f"SELECT * FROM casavi.{table} WHERE {where.text}"
        raise AssertionError(f"pushdown changed the answer of\n  {sql}\n  {sum(got.values())} rows vs "
                             f"{sum(want.values())}; missing {list((want - got).items())[:3]}, extra "
                             f"{list((got - want).items())[:3]}\n{session.explain(sql)}")
    # LIMIT pushed as the page size (and paging stopped) where the plan trusts the vendor
    limit_sql = f"SELECT * FROM casavi.{table} WHERE {where.text} LIMIT 3"
    if plan_on(session, "casavi", limit_sql).scans[0].fetch.max_rows is not None:
        cols = ", ".join(f'"{n}"' for n, _, _ in CATALOG[table])
        frame = session.query(f"SELECT {cols} FROM casavi.{table} WHERE {where.text} LIMIT 3")
        rows = Counter(tuple(norm(v) for v in row) for row in frame.astype(object).itertuples(index=False))
        assert sum(rows.values()) == min(3, sum(want.values())) and not rows - want, \
            f"{limit_sql}\n{session.explain(limit_sql)}"


def check_oracle_input(sandbox: SandboxServer) -> None:
    """The oracle's typing of the raw records is crmql's reading of the same records served over HTTP
    (every table whole, no filter), and it holds values of every type in every column."""
    with session_for(SPEC_STUB, sandbox.url) as session:
        for table in CATALOG:
            assert answer(session, table, "TRUE") == oracle_of(table).rows("TRUE"), table
            for d in drawables(table):
                assert d.values or table == "contacts" and d.name in ("fax", "website"), (table, d.name)


# ---- targeted regressions: the flags under each reading ------------------------------------------------

#: selective through ``modifiedAfter`` (a page or two), so each runs under every flag reading cheaply
SINCE = dt.datetime(2026, 11, 15, tzinfo=dt.timezone.utc)
REGRESSIONS = {
    "isRegistered = FALSE": lambda c: c.get("isRegistered") is False,
    "isRegistered = TRUE": lambda c: c.get("isRegistered") is True,
    "isInvited = FALSE": lambda c: c.get("isInvited") is False,
    "isInvited = TRUE AND isRegistered = FALSE":
        lambda c: c.get("isInvited") is True and c.get("isRegistered") is False,
    "isRegistered IN (FALSE) AND NOT isInvited":
        lambda c: c.get("isRegistered") is False and c.get("isInvited") is False,
}


def _regression_ids(condition: Callable[[dict[str, Any]], bool]) -> set[str]:
    """What the WHERE keeps: the vendor's ``modifiedAfter`` by its definition (the simulator's internal
    time, exclusive: the default reading), the flags on the raw records."""
    from crmql.sandbox.casavi.world import world

    return {c["id"] for c in world(42).contacts if c["_modifiedAt"] > SINCE and condition(c)}


def check_hard_spots(sandbox: SandboxServer, session: Session) -> None:
    """Each flag condition, narrowed by ``modifiedAfter``, gives exactly the matching contacts."""
    for where, condition in REGRESSIONS.items():
        sql = f"SELECT id FROM casavi.contacts WHERE modifiedAfter = TIMESTAMP '{SINCE.isoformat()}' AND {where}"
        got = list(session.query(sql)["id"])
        want = _regression_ids(condition)
        assert len(got) == len(set(got)) and set(got) == want, f"{sql}: {len(got)} rows, expected {len(want)}"
        # LIMIT: the page size only where nothing needs re-checking (a flag always does)
        limited = list(session.query(f"{sql} LIMIT 3")["id"])
        assert len(limited) == min(3, len(want)) and set(limited) <= want, f"{sql} LIMIT 3: {limited}"


def check_hard_spots_hit_rows(_sandbox: SandboxServer) -> dict[str, int]:
    hits = {where: len(_regression_ids(condition)) for where, condition in REGRESSIONS.items()}
    assert all(n > 0 for n in hits.values()), hits
    return hits


def _session(url: str, connection: tuple[tuple[str, Any], ...]) -> Session:
    return session_for(SPEC_STUB, url, (("retry_base_s", 0.001), ("retry_cap_s", 0.01), *connection))


class _Stub:
    """Enough of a VendorTestSpec for :func:`session_for` (the spec imports this module)."""

    connection = "casavi"
    differential = None


SPEC_STUB: Any = _Stub()

DIFFERENTIAL = DifferentialSpec(
    configs=CONFIGS, tables=TABLES, examples=EXAMPLES, small_only=SMALL_ONLY, session=_session,
    oracle=Served,
    strategy=lambda table, _config: where_clause(table),
    check=check_where, check_oracle_input=check_oracle_input,
    hard_spot_variants=[{}, {"casavi.bool_filters": "true_only"}, {"casavi.bool_filters": "ignored"}],
    check_hard_spots=check_hard_spots, check_hard_spots_hit_rows=check_hard_spots_hit_rows,
)

__all__ = ["CATALOG", "DIFFERENTIAL", "Oracle"]
