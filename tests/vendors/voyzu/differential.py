"""Voyzu's part of the differential contract (``tests/contract/test_contract_differential.py``): for
random WHERE trees over the contacts' columns, crmql's answer (with the free-text search pushed,
against the simulator served over HTTP) equals an obviously right oracle's: DuckDB running the same
WHERE over the simulator's raw WebContact records (``crmql.sandbox.records("voyzu", "contacts", 42)``),
typed here from the catalog below, independently of crmql (``check_oracle_input`` compares the two).

Every tree is ANDed with an anchor near a focus contact, so most examples push a search and read a
few rows, not 8,000: ``=`` or ``LIKE 'prefix%'`` on a name, the organization or the primary email,
or ``list_contains(emails, ...)``, the text taken from the focus contact (sometimes in another
case, sometimes two anchors: the longest is pushed, the other re-checked).

Runs (the default and the two most dangerous readings only): the defaults,
``voyzu.search_match=word_prefix`` and ``voyzu.search_fields=names_emails``; the known hard spots
(apostrophes, hyphens, ``+`` in an email, a primary email that is not the first or not flagged, a
name in another case) under ``case_sensitive`` and ``names_emails`` + ``word_prefix``. Every other reading is
``small_only``: paging, class names, async, errors and the result link have targeted tests of their
own (``test_voyzu_*.py``), and the pushdown golden check (``pushdown.py``) runs every pushed search
through the simulator's matching under all six search readings.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from functools import lru_cache
from typing import Any

import pyarrow as pa
from hypothesis import strategies as st

from crmql.api.session import Session
from crmql.plan.catalog import ColumnType
from crmql.sandbox import ALL_VARIANTS, SandboxServer, records

from contract.kit import DifferentialSpec, session_for
from contract.strategies import ARROW, Drawable, leaf
from differential_support import DuckOracle, Pred, VariantConfig, combine, make_tree, mutate_case

S, B, T = ColumnType.STRING, ColumnType.BOOLEAN, ColumnType.TIMESTAMP
V = "voyzu"


def _primary(r: dict[str, Any]) -> Any:
    emails = [e for e in r.get("EmailAddresses") or () if isinstance(e, dict) and e.get("Value")]
    primary = [e for e in emails if e.get("Primary") is True]
    return (primary or emails or [{}])[0].get("Value")


def _city(r: dict[str, Any]) -> Any:
    return ((r.get("Addresses") or [{}])[0] or {}).get("City")


#: (column, type, the raw value): the scalar columns the trees draw from
CATALOG: tuple[tuple[str, ColumnType, Callable[[dict[str, Any]], Any]], ...] = (
    ("id", S, lambda r: r["Id"]), ("record_type", S, lambda r: r.get("RecordType")),
    ("first_name", S, lambda r: r.get("FirstName")), ("last_name", S, lambda r: r.get("LastName")),
    ("display_name", S, lambda r: r.get("DisplayName")), ("organization", S, lambda r: r.get("Organization")),
    ("job_title", S, lambda r: r.get("JobTitle")), ("department", S, lambda r: r.get("Department")),
    ("primary_email", S, _primary), ("unsubscribed", B, lambda r: r.get("Unsubscribed")),
    ("import_id", S, lambda r: r.get("ImportId")), ("city", S, _city),
    ("created_date", T, lambda r: r.get("CreatedDate")),
)
#: the columns an anchor pushes (the contract's pushable ones, but emails)
ANCHORS = ("first_name", "last_name", "display_name", "organization", "primary_email")
CONFIGS = [VariantConfig(), VariantConfig(((f"{V}.search_match", "word_prefix"),)),
           VariantConfig(((f"{V}.search_fields", "names_emails"),))]
#: every reading but search_fields (whose one other value has a run) gets targeted tests instead;
#: search_match's word_prefix has a run too, its case_sensitive only the golden superset check
SMALL_ONLY = frozenset(k for k in ALL_VARIANTS if k.startswith(f"{V}.") and k != f"{V}.search_fields")


def _typed(raw: Any, ctype: ColumnType) -> Any:
    if raw is None:
        return None
    if ctype is B:
        return raw if isinstance(raw, bool) else None
    if ctype is T:
        return dt.datetime.fromisoformat(str(raw).replace("Z", "+00:00")).astimezone(dt.timezone.utc)
    return raw if isinstance(raw, str) else None


@lru_cache(maxsize=None)
def typed_rows() -> tuple[dict[str, Any], ...]:
    """Every raw contact as ``{column: typed value}``, plus ``emails`` (every email value)."""
    out = []
    for r in records(V, "contacts", 42):
        row = {name: _typed(get(r), ctype) for name, ctype, get in CATALOG}
        row["emails"] = [str(e["Value"]) for e in r.get("EmailAddresses") or () if e.get("Value")]
        out.append(row)
    return tuple(out)


class Oracle(DuckOracle):
    """DuckDB over the typed raw contacts (``t``)."""

    def __init__(self) -> None:
        rows = typed_rows()
        arrays = [pa.array([r[n] for r in rows], type=ARROW[c]) for n, c, _ in CATALOG]
        arrays.append(pa.array([r["emails"] for r in rows], type=pa.list_(pa.string())))
        super().__init__(pa.Table.from_arrays(arrays, names=[n for n, _, _ in CATALOG] + ["emails"]))


@lru_cache(maxsize=None)
def oracle_of() -> Oracle:
    return Oracle()


def oracle(server: SandboxServer, table: str) -> Oracle:
    assert table == "contacts"
    return oracle_of()


@lru_cache(maxsize=None)
def drawables() -> tuple[Drawable, ...]:
    rows = typed_rows()
    return tuple(Drawable(n, c, tuple(sorted({r[n] for r in rows if r[n] is not None},
                                             key=lambda v: (str(type(v)), v))))
                 for n, c, _ in CATALOG)


def _quote(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


@st.composite
def _anchor(draw: Callable[[Any], Any], focus: dict[str, Any]) -> Pred:
    """A pushable condition near the focus contact (its own text, sometimes in another case)."""
    options = [c for c in ANCHORS if focus.get(c)] + (["emails"] if focus["emails"] else [])
    column = draw(st.sampled_from(options))
    if column == "emails":
        value = draw(st.sampled_from(focus["emails"]))
        text = f"list_contains(emails, {_quote(value)})"
        return Pred(text, f"({text})")
    value = str(focus[column])
    if draw(st.integers(0, 3)) == 0:
        value = mutate_case(draw, value)
    if draw(st.booleans()):
        cut = draw(st.integers(1, len(value)))
        text = f"{column} LIKE {_quote(value[:cut].replace('%', '').replace('_', '') + '%')}"
    else:
        text = f"{column} = {_quote(value)}"
    return Pred(text, f"({text})")


@st.composite
def where_clause(draw: Callable[[Any], Any], table: str) -> Pred:
    """One or two anchors near a focus contact ANDed with a tree of depth <= 2 over every column."""
    rows = typed_rows()
    focus = rows[draw(st.integers(0, len(rows) - 1))]
    anchors = [draw(_anchor(focus)) for _ in range(draw(st.integers(1, 2)))]
    body = draw(make_tree(lambda _t, f: leaf(drawables(), f))(table, focus, draw(st.integers(0, 2))))
    return combine("AND", [*anchors, body])


def strategy(table: str, _config: Any) -> st.SearchStrategy[Pred]:
    return where_clause(table)


def answer(session: Session, where: str) -> list[str]:
    return [str(i) for i in session.query(f"SELECT id FROM {V}.contacts WHERE {where}")["id"]]


def check(session: Session, served: Oracle, table: str, where: Pred) -> None:
    """crmql's ids equal the oracle's, no duplicate."""
    want, got = served.ids(where.duck), answer(session, where.text)
    if len(got) != len(set(got)) or set(got) != want:
        sql = f"SELECT id FROM {V}.contacts WHERE {where.text}"
        raise AssertionError(f"pushdown changed the answer of\n  {sql}\n  {len(got)} rows vs {len(want)}; missing "
                             f"{sorted(want - set(got))[:3]}, extra {sorted(set(got) - want)[:3]}\n"
                             f"{session.explain(sql)}")


def check_oracle_input(sandbox: SandboxServer) -> None:
    """The oracle's typing of the raw contacts is crmql's reading of the same contacts over HTTP."""
    from vendors.voyzu.spec import SPEC

    cols = ", ".join(n for n, _, _ in CATALOG)
    with session_for(SPEC, sandbox.url) as session:
        frame = session.query(f"SELECT {cols}, emails FROM {V}.contacts")
    got = {str(r["id"]): r for r in frame.astype(object).to_dict("records")}
    rows = typed_rows()
    assert len(got) == len(rows)
    for want in rows[::37]:
        row = got[want["id"]]
        for name, ctype, _ in CATALOG:
            value = row[name]
            value = None if value is None or (not isinstance(value, (str, bool, list)) and value != value) else value
            if ctype is T and value is not None:
                value = value.to_pydatetime() if hasattr(value, "to_pydatetime") else value
            assert value == want[name] or (value is None and want[name] is None), (want["id"], name, value, want[name])
        assert list(row["emails"]) == want["emails"], (want["id"], row["emails"])
    for d in drawables():
        assert d.values, d.name


# ---- known hard spots --------------------------------------------------------------------------------------

#: the readings the regressions run under: the two that lose a row most easily (the default and
#: word_prefix alone have property runs; every reading has the golden superset check)
HARD_SPOT_VARIANTS = ({f"{V}.search_match": "case_sensitive"},
                      {f"{V}.search_fields": "names_emails", f"{V}.search_match": "word_prefix"})


def _first(test: Callable[[dict[str, Any]], Any]) -> dict[str, Any]:
    return next(r for r in typed_rows() if test(r))


@lru_cache(maxsize=None)
def hard_spots() -> tuple[str, ...]:
    """WHEREs on the seeded data's edge cases (each pushes its text): an apostrophe and a hyphen in a
    last name (=, and a LIKE prefix that ends inside a word or at the hyphen), a ``+`` in an email, a
    primary email that is not the first, a contact with no email flagged primary (its first is taken),
    a display name of two words, and a name in another case (no row: ``=`` is case-sensitive)."""
    raw = {r["Id"]: r for r in records(V, "contacts", 42)}
    apostrophe = _first(lambda r: r["last_name"] and "'" in r["last_name"])["last_name"]
    hyphen = _first(lambda r: r["last_name"] and "-" in r["last_name"])["last_name"]
    plus = _first(lambda r: any("+" in e for e in r["emails"]))
    not_first = _first(lambda r: len(r["emails"]) > 1 and r["primary_email"] != r["emails"][0])
    unflagged = _first(lambda r: r["emails"] and not any(e.get("Primary") for e in raw[r["id"]]["EmailAddresses"]))
    person = _first(lambda r: r["record_type"] == "PERSON" and r["first_name"] and " " in (r["display_name"] or "")
                    and r["display_name"].isascii())
    plus_email = next(e for e in plus["emails"] if "+" in e)
    return (f"last_name = {_quote(apostrophe)}", f"last_name LIKE {_quote(apostrophe[:4] + '%')}",
            f"last_name = {_quote(hyphen)}", f"last_name LIKE {_quote(hyphen[:hyphen.index('-') + 2] + '%')}",
            f"primary_email = {_quote(plus_email)}", f"list_contains(emails, {_quote(plus_email)})",
            f"primary_email = {_quote(not_first['primary_email'])}",
            f"primary_email = {_quote(unflagged['emails'][0])}",
            f"display_name = {_quote(person['display_name'])} AND unsubscribed = FALSE",
            f"first_name = {_quote(person['first_name'].upper())}")


def check_hard_spots(server: SandboxServer, session: Session) -> None:
    """Each regression gives the oracle's ids, and pushes its text (a cheap, selective request)."""
    from differential_support import plan_on

    for where in hard_spots():
        sql = f"SELECT id FROM {V}.contacts WHERE {where}"
        assert plan_on(session, V, sql).scans[0].pushed, f"not pushed: {sql}"
        check(session, oracle_of(), "contacts", Pred(where, f"({where})"))


def check_hard_spots_hit_rows(server: SandboxServer) -> dict[str, int]:
    return {where: len(oracle_of().ids(where)) for where in hard_spots()}


DIFFERENTIAL = DifferentialSpec(configs=CONFIGS, tables=("contacts",), examples={"contacts": 8},
                                small_only=SMALL_ONLY, oracle=oracle, strategy=strategy, check=check,
                                check_oracle_input=check_oracle_input, hard_spot_variants=HARD_SPOT_VARIANTS,
                                check_hard_spots=check_hard_spots, check_hard_spots_hit_rows=check_hard_spots_hit_rows)
