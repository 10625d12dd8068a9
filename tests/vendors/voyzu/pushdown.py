"""Voyzu's part of the golden pushdown contract: a connector that plans without a request, and the
simulator's own search code (``crmql.sandbox.voyzu.search.matching``) applied to each native
request's ``SearchText`` under every reading of what the docs leave open (``voyzu.search_fields``:
most, names_emails x ``voyzu.search_match``: substring_ci, word_prefix, case_sensitive; vendor-notes
section 3 "Search", ambiguity 19), on a sample of the seeded contacts (about 250) plus records on the boundary of
each text literal of a query (the literal as the whole field, in other cases, inside a longer word,
after a separator; as a non-primary email, as the primary one that is not first).

Child tables push nothing but their parent key (a read by id, which the kit checks as such), so
:func:`special` leaves their plans out of the row-level check: their rows are not one per record.
"""

from __future__ import annotations

import itertools
import random
from functools import lru_cache
from pathlib import Path
from typing import Any

from crmql.connectors.registry import create_connector
from crmql.language import ast
from crmql.plan.catalog import Table
from crmql.plan.connector import NativeRequest
from crmql.sandbox import records as sandbox_records
from crmql.sandbox.voyzu.search import matching
from crmql.sandbox.voyzu.spec import SIMULATOR

from golden import query_literals

HERE = Path(__file__).resolve().parent
V = "voyzu"
BASE_SETTINGS = {"base_url": "http://127.0.0.1:1", "session_id": "s-golden"}
_VALUES = {v.key: v.values for v in SIMULATOR.variants}
READINGS = [{f"{V}.search_fields": f, f"{V}.search_match": m}
            for f, m in itertools.product(_VALUES[f"{V}.search_fields"], _VALUES[f"{V}.search_match"])]
#: column -> the WebContact field a boundary record sets to the literal
FIELDS = {"first_name": "FirstName", "last_name": "LastName", "display_name": "DisplayName",
          "organization": "Organization", "job_title": "JobTitle", "department": "Department", "notes": "Notes",
          "import_id": "ImportId"}
EMAIL_COLUMNS = {"primary_email", "emails"}
CHILD_TABLES = {"contact_emails", "contact_phones", "contact_addresses", "contact_labels", "contact_types",
                "contact_custom_fields"}


def make_connector(settings: dict[str, Any]) -> Any:
    """A Voyzu connector on a closed port (its catalog is declared: no request)."""
    return create_connector(V, V, {**BASE_SETTINGS, **settings})


@lru_cache(maxsize=None)
def _sample(table: str) -> tuple[dict[str, Any], ...]:
    """Every n-th seeded record, about 250 (child tables: their parent contacts)."""
    rows = sandbox_records(V, "spreadsheets" if table == "spreadsheets" else "contacts", 42)
    return tuple(rows[:: max(1, len(rows) // 250)])


def _texts(value: Any) -> list[str]:
    """The literal as a field value, in other cases, inside a longer word and after a separator."""
    text = str(value)
    core = text.replace("%", "").replace("_", "")
    out = {text, core, core.lower(), core.upper(), core.swapcase(), core + "x", "x" + core, core + "-Berg",
           "Mc" + core.lower(), "de " + core, core + " Jr"}
    return sorted(t for t in out if t)


def synthetic(table: Table, expr: ast.Expr | None, seed: int) -> list[dict[str, Any]]:
    """Boundary records of the WHERE's text literals on the contacts (each on a seeded person)."""
    if expr is None or table.name != "contacts":
        return []
    persons = [r for r in _sample("contacts") if r.get("RecordType") == "PERSON"]
    out: list[dict[str, Any]] = []
    for column, value in query_literals(expr):
        if not isinstance(value, str):
            continue
        for i, text in enumerate(_texts(value)):
            base = dict(persons[(len(out) + i) % len(persons)])
            if column.name in FIELDS:
                out.append(dict(base, **{FIELDS[column.name]: text}))
            elif column.name in EMAIL_COLUMNS:
                other = {"Value": "someone@else.example", "Type": "home", "Primary": False}
                out += [dict(base, EmailAddresses=[{"Value": text, "Type": "work", "Primary": True}]),
                        dict(base, EmailAddresses=[other, {"Value": text, "Type": "work", "Primary": True}]),
                        dict(base, EmailAddresses=[other, {"Value": text, "Type": "work", "Primary": False}]),
                        dict(base, EmailAddresses=[{"Value": text, "Type": "work", "Primary": False}])]
    if len(out) > 600:
        out = random.Random(seed).sample(out, 600)
    return [dict(r, Id=f"c-9{n:07d}") for n, r in enumerate(out)]


def records(table: Table, where: ast.Expr | None, seed: int) -> list[dict[str, Any]]:
    """A sample of the seeded raw records plus the boundary records of ``where``."""
    return [dict(r) for r in _sample(table.name)] + synthetic(table, where, seed)


def _search_text(request: Any) -> str:
    body = request.body if isinstance(request.body, dict) else {}
    for key, value in body.items():
        assert key in ("SearchText", "Start", "Length", "Page", "PageSize"), f"an unknown search field {key}"
    return str(body.get("SearchText") or "")


def native_keys(table: Table, request: Any, reading: dict[str, str], rows: list[dict[str, Any]]) -> set[int]:
    """The records (by index) the simulated vendor serves for one request under one reading: the
    simulator's own ``matching`` of the request's ``SearchText`` (every row when there is none;
    paging is not the filter's business); spreadsheets: every row."""
    if table.name == "spreadsheets":
        return set(range(len(rows)))
    text = _search_text(request)
    chosen = {id(r) for r in matching(rows, text, reading[f"{V}.search_fields"], reading[f"{V}.search_match"])}
    return {i for i, r in enumerate(rows) if id(r) in chosen}


def plan_requests(scan: Any) -> list[NativeRequest]:
    """The native requests the scan sends (the first page of each)."""
    return list(scan.fetch.requests) or [NativeRequest("POST", "/api/contacts/search", body={})]


def candidate_requests(table: Table, cand: Any) -> list[NativeRequest]:
    """The request of one pushed conjunct alone: its text as ``SearchText``."""
    pushes = [cand.push] if cand.push is not None else list(cand.any_of or ())
    out = []
    for push in pushes:
        texts = [str(c.value) for c in push.conds]
        assert len(texts) == 1, f"one search text per request, got {texts}"
        out.append(NativeRequest("POST", "/api/contacts/search", body={"SearchText": texts[0]}))
    return out


def special(plan: Any) -> bool:
    """Child tables (rows exploded from their parents) are left to the by-id check and the e2e tests."""
    return any(scan.table.name in CHILD_TABLES for scan in plan.scans)


__all__ = ["HERE", "READINGS", "candidate_requests", "make_connector", "native_keys", "plan_requests", "records",
           "special"]
