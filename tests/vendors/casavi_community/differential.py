"""casavi Community's part of the differential contract (``tests/contract/test_contract_differential.py``):
for random WHERE trees over the columns of the community tables, crmql's answer (with pushdown,
against the simulator served over HTTP) equals an obviously right oracle's: DuckDB running the same
WHERE over the simulator's raw records (``crmql.sandbox.records("casavi_community", table, 42)``: each
record as the API serves it, with its ``community_id``), typed here from the catalog below,
independently of crmql (``check_oracle_input`` compares the two readings).

The kit's own trees (``generic_tables``) cannot run here: their oracle reads a whole table without a
filter, which the required ``community_id`` refuses. So every tree is ANDed with an anchor: the
focus row's ``community_id`` (``=``, or ``IN`` with a second community: a fan-out; ``IS NULL``
for an FAQ article of every community), on tickets also its ``id`` (reads by id) or nothing (the
one unscoped request), on units and FAQ articles nothing too.

Runs: the default reading and every value of every ``casavi_community.*`` variant (the contract's
list). A reading is only re-run on the tables it can change (:data:`AFFECTS`: the page base and
size on the page-index tables, the ticket list shape on tickets, the notifications order and range
readings on notifications, token rotation on one table): elsewhere the check returns at once, which
keeps the suite's budget. Under ``notifications_order=unsorted`` crmql may come back short (with a
warning, ``test_casavi_community_notifications.py``): there the check holds crmql's rows to be a
subset of the oracle's, never a row the WHERE does not keep.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import pyarrow as pa
from hypothesis import strategies as st

from crmql.api.session import Session
from crmql.plan.catalog import ColumnType
from crmql.sandbox import SandboxServer, records

from contract.kit import DifferentialSpec, session_for
from contract.strategies import ARROW, Drawable, leaf
from differential_support import DuckOracle, Pred, VariantConfig, combine, make_tree, plan_on

S, I, B, T = ColumnType.STRING, ColumnType.INTEGER, ColumnType.BOOLEAN, ColumnType.TIMESTAMP
V = "casavi_community"


def _person(prefix: str, key: str) -> tuple[tuple[str, ColumnType, Any], ...]:
    return ((f"{prefix}_id", I, f"{key}.id"), (f"{prefix}_name", S, ("name", key)))


#: table -> ((column, type, where in the raw record: a dotted path, or ("name", person object)), ...)
CATALOG: dict[str, tuple[tuple[str, ColumnType, Any], ...]] = {
    "tickets": (("id", I, "id"), ("identifier", I, "identifier"), ("reference_id", S, "referenceId"),
                ("title", S, "title"), ("status", S, "status"), ("status_text", S, "statusText"),
                ("created_at", T, "createdAt"), ("updated_at", T, "updatedAt"), ("community_id", I, "community_id"),
                ("community_name", S, "Community.name"), ("community_reference_id", S, "Community.referenceId"),
                ("ticket_type_id", I, "TicketType.id"), ("ticket_type", S, "TicketType.name"),
                ("unit_id", I, "Unit.id"), ("unit_name", S, "Unit.name"), ("unit_reference_id", S, "Unit.referenceId"),
                *_person("contact", "Contact"), ("contact_reference_id", S, "Contact.referenceId"),
                *_person("created_by", "CreatedBy"), *_person("assigned_to", "AssignedTo")),
    "appointments": (("community_id", I, "community_id"), ("id", I, "id"), ("title", S, "title"),
                     ("description", S, "description"), ("start_date", T, "startDate"), ("end_date", T, "endDate"),
                     ("all_day", B, "allDay"), ("location", S, "location"), ("created_at", T, "createdAt")),
    "posts": (("community_id", I, "community_id"), ("id", I, "id"), ("title", S, "title"), ("text", S, "text"),
              ("created_at", T, "createdAt"), ("pinned", B, "pinned"), *_person("author", "Author")),
    "important_contacts": (("community_id", I, "community_id"), ("id", I, "id"), ("name", S, "name"),
                           ("category", S, "category"), ("company", S, "company"), ("phone", S, "phone"),
                           ("email", S, "email"), ("note", S, "note")),
    "notifications": (("community_id", I, "community_id"), ("id", I, "id"), ("type", S, "type"),
                      ("title", S, "title"), ("text", S, "text"), ("created_at", T, "createdAt"),
                      ("unread", B, ("not", "read")), ("read_at", T, "readAt"), ("link", S, "link"),
                      ("object_id", I, "objectId")),
    "activities": (("community_id", I, "community_id"), ("id", I, "id"), ("type", S, "type"), ("text", S, "text"),
                   ("created_at", T, "createdAt"), *_person("actor", "Actor"), ("object_id", I, "objectId")),
    "units": (("community_id", I, "community_id"), ("id", I, "id"), ("reference_id", S, "referenceId"),
              ("name", S, "name"), ("type", S, "type"), ("floor", I, "floor")),
    "faq_articles": (("community_id", I, "community_id"), ("id", I, "id"), ("group_id", I, "groupId"),
                     ("group_name", S, ("group", "groupId")), ("title", S, "title"), ("content", S, "content")),
}
TABLES = tuple(CATALOG)
#: tables whose community_id is optional (no anchor: one unscoped request)
OPTIONAL = {"tickets", "units", "faq_articles"}
PAGED = frozenset({"appointments", "posts", "activities"})
#: variant key -> the tables its reading can change (elsewhere a run under it checks nothing)
AFFECTS = {f"{V}.page_base": PAGED, f"{V}.page_size_max": PAGED, f"{V}.ticket_list": frozenset({"tickets"}),
           f"{V}.notifications_order": frozenset({"notifications"}),
           f"{V}.notifications_range": frozenset({"notifications"}),
           f"{V}.refresh_rotation": frozenset({"units", "notifications"})}
EXAMPLES = {"tickets": 6, "appointments": 5, "posts": 5, "important_contacts": 5, "notifications": 8,
            "activities": 5, "units": 5, "faq_articles": 5}


@dataclass(frozen=True)
class Config(VariantConfig):
    """Simulator variants (no connection setting declares a casavi Community reading)."""


CONFIGS = [Config(), Config(((f"{V}.page_base", "1"),)), Config(((f"{V}.page_size_max", "50"),)),
           Config(((f"{V}.ticket_list", "full"),)),
           Config(((f"{V}.notifications_order", "oldest_first"),)),
           Config(((f"{V}.notifications_order", "unsorted"),)), Config(((f"{V}.notifications_order", "all"),)),
           Config(((f"{V}.notifications_range", "inclusive"),)), Config(((f"{V}.refresh_rotation", "rotate"),))]


# ---- the oracle: the raw records, typed here ---------------------------------------------------------

def _dig(record: dict[str, Any], path: str) -> Any:
    value: Any = record
    for part in path.split("."):
        if not isinstance(value, dict):
            return None
        value = value.get(part)
    return value


def _raw(record: dict[str, Any], where: Any) -> Any:
    if isinstance(where, str):
        return _dig(record, where)
    kind, arg = where
    if kind == "group":
        return _groups().get(record.get(arg))
    if kind == "not":
        value = record.get(arg)
        return (not value) if isinstance(value, bool) else None
    person = record.get(arg)
    if not isinstance(person, dict):
        return None
    name = " ".join(p for p in (person.get("firstName"), person.get("lastName")) if p).strip()
    return name or None


@lru_cache(maxsize=None)
def _groups() -> dict[int, str]:
    """The FAQ groups' names by id, as the simulator's unscoped answer lists them."""
    from crmql.sandbox.casavi_community.feed import faq
    from crmql.sandbox.casavi_community.world import world

    return {g["id"]: g["name"] for g in faq(world(42), None)["groups"]}


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
    if ctype is T:
        return dt.datetime.fromisoformat(raw.replace("Z", "+00:00")).astimezone(dt.timezone.utc)
    raise AssertionError(ctype)


@lru_cache(maxsize=None)
def typed_rows(table: str) -> tuple[dict[str, Any], ...]:
    """Every raw record of ``table`` as ``{column: typed value}``."""
    return tuple({name: _typed(_raw(r, where), ctype) for name, ctype, where in CATALOG[table]}
                 for r in records(V, table, 42))


class Oracle(DuckOracle):
    """DuckDB over one table's typed raw rows (``t``), in UTC."""

    def __init__(self, table: str) -> None:
        rows = typed_rows(table)
        arrays = [pa.array([r[n] for r in rows], type=ARROW[c]) for n, c, _ in CATALOG[table]]
        super().__init__(pa.Table.from_arrays(arrays, names=[n for n, _, _ in CATALOG[table]]))
        self.table = table

    def rows(self, where: str) -> Counter[tuple[Any, ...]]:
        cols = ", ".join(f'"{n}"' for n, _, _ in CATALOG[self.table])
        return Counter(tuple(map(norm, r)) for r in self.con.execute(f"SELECT {cols} FROM t WHERE {where}").fetchall())


@lru_cache(maxsize=None)
def oracle_of(table: str) -> Oracle:
    return Oracle(table)


@dataclass(frozen=True)
class Served:
    """A table's oracle on a served sandbox, and the reading the sandbox serves at check time."""

    server: SandboxServer
    table: str

    def oracle(self) -> Oracle:
        return oracle_of(self.table)

    def checks(self) -> bool:
        """Whether the reading served now can change this table's answers (the defaults always)."""
        variants = self.server.settings.variants or {}
        return all(self.table in AFFECTS.get(k, frozenset()) for k in variants)

    def short_allowed(self) -> bool:
        return (self.server.settings.variants or {}).get(f"{V}.notifications_order") == "unsorted"


def oracle(server: SandboxServer, table: str) -> Served:
    """The table's oracle; called at the start of each run, so the simulator's run-time state is
    reset here (under ``refresh_rotation=rotate`` a run spends the configured refresh token)."""
    server.state.vendor(V).reset()
    return Served(server, table)


def norm(value: Any) -> Any:
    """A cell, from DuckDB or from crmql's frame, in one comparable form."""
    import pandas as pd

    if value is None or isinstance(value, (str, bool)):
        return value
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return None if value != value else float(value)
    if not isinstance(value, (list, dict)) and pd.isna(value):
        return None
    if isinstance(value, (dt.datetime, pd.Timestamp)):
        return pd.Timestamp(value).tz_convert("UTC").isoformat()
    if hasattr(value, "dtype") and value.dtype == bool:
        return bool(value)
    if hasattr(value, "dtype"):
        return float(value)
    return str(value)


# ---- the strategy --------------------------------------------------------------------------------------

@lru_cache(maxsize=None)
def drawables(table: str) -> tuple[Drawable, ...]:
    rows = typed_rows(table)
    return tuple(Drawable(n, c, tuple(sorted({r[n] for r in rows if r[n] is not None},
                                             key=lambda v: (str(type(v)), v))))
                 for n, c, _ in CATALOG[table])


@st.composite
def where_clause(draw: Callable[[Any], Any], table: str) -> Pred:
    """A tree of depth <= 2 near a focus row, ANDed with an anchor (always, on a required table)."""
    rows = typed_rows(table)
    focus = rows[draw(st.integers(0, len(rows) - 1))]
    body = draw(make_tree(lambda _t, f: leaf(drawables(table), f))(table, focus, draw(st.integers(0, 2))))
    anchors = ["community", "community", "communities"] + (["id", "none"] if table == "tickets" else
                                                           ["none"] if table in OPTIONAL else [])
    anchor = draw(st.sampled_from(anchors))
    if anchor == "none":
        return body
    if anchor == "id":
        other = rows[draw(st.integers(0, len(rows) - 1))]["id"]
        text = f"id IN ({focus['id']}, {other})"
    elif focus["community_id"] is None:  # an FAQ article of every community
        text = "community_id IS NULL"
    elif anchor == "communities":
        other = rows[draw(st.integers(0, len(rows) - 1))]["community_id"]
        text = f"community_id IN ({focus['community_id']}, {other if other is not None else focus['community_id']})"
    else:
        text = f"community_id = {focus['community_id']}"
    return combine("AND", [Pred(text, f"({text})"), body])


def strategy(table: str, _config: Any) -> st.SearchStrategy[Pred]:
    return where_clause(table)


# ---- the check -------------------------------------------------------------------------------------------

def answer(session: Session, table: str, where: str, limit: str = "") -> Counter[tuple[Any, ...]]:
    """crmql's rows for ``where`` (every catalog column), as a multiset."""
    cols = ", ".join(f'"{n}"' for n, _, _ in CATALOG[table])
    frame = session.query(f"SELECT {cols} FROM {V}.{table} WHERE {where}{limit}")
    return Counter(tuple(norm(v) for v in row) for row in frame.astype(object).itertuples(index=False))


def check(session: Session, served: Served, table: str, where: Pred) -> None:
    """crmql's rows equal the oracle's (a subset where the reading lets the vendor's answer be short);
    LIMIT 3 where the plan stops paging early."""
    if not served.checks():
        return
    want, got = served.oracle().rows(where.duck), answer(session, table, where.text)
    sql = f"SELECT * FROM {V}.{table} WHERE {where.text}"
    if served.short_allowed() and table == "notifications":
        assert not got - want, f"rows the WHERE does not keep from\n  {sql}\n  {list((got - want).items())[:3]}"
        return
    if got != want:
        raise AssertionError(f"pushdown changed the answer of\n  {sql}\n  {sum(got.values())} rows vs "
                             f"{sum(want.values())}; missing {list((want - got).items())[:3]}, extra "
                             f"{list((got - want).items())[:3]}\n{session.explain(sql)}")
    limit_sql = f"{sql} LIMIT 3"
    if plan_on(session, V, limit_sql).scans[0].fetch.max_rows is not None:
        rows = answer(session, table, where.text, " LIMIT 3")
        assert sum(rows.values()) == min(3, sum(want.values())) and not rows - want, \
            f"{limit_sql}\n{session.explain(limit_sql)}"


#: communities the oracle's input is compared on (the required tables cannot be read whole)
SOME = tuple(range(1, 11))


def check_oracle_input(sandbox: SandboxServer) -> None:
    """The oracle's typing of the raw records is crmql's reading of the same records served over HTTP
    (communities 1..10 of every table, no other filter; tickets and units whole), and every column
    holds values in the data."""
    from vendors.casavi_community.spec import SPEC

    where = f"community_id IN ({', '.join(map(str, SOME))})"
    with session_for(SPEC, sandbox.url) as session:
        for table in CATALOG:
            text = "TRUE" if table in OPTIONAL else where
            got, want = answer(session, table, text), oracle_of(table).rows(text)
            assert got == want, (table, sum(got.values()), sum(want.values()), list((want - got).items())[:2])
            for d in drawables(table):
                assert d.values, (table, d.name)


DIFFERENTIAL = DifferentialSpec(configs=CONFIGS, tables=TABLES, examples=EXAMPLES, oracle=oracle, strategy=strategy,
                                check=check, check_oracle_input=check_oracle_input)
