"""casavi's child tables read through their parent's read by id, end to end over real HTTP against
the simulator: ``contracts WHERE contactId = ..`` is ``GET /v2/contacts/{id}`` exploded (not the
65-page contact list), ``responsibilities WHERE propertyId = ..`` is ``GET /v2/properties/{id}``,
and the join of a contact with its contracts costs the token and two reads. Rows are checked
against the seeded raw records (what the list scan explodes)."""

from __future__ import annotations

from typing import Any

import pandas as pd
import pytest

from crmql.sandbox import SandboxServer, records

from cli_support import reset_sandbox
from contract.kit import session_for

from vendors.casavi.spec import SPEC

CONTACTS = {c["id"]: c for c in records("casavi", "contacts", 42)}
PROPERTIES = {p["id"]: p for p in records("casavi", "properties", 42)}
MANY = "C-000023"  # three contracts or more
ODD = ("Müller Jörg", "Frage?12", "A+B Verwaltung", "Straße 5 #2?")  # one contract each


@pytest.fixture
def session(sandbox_server: SandboxServer) -> Any:
    """A fresh session (its token request counted) on the module's server, its log emptied."""
    reset_sandbox(sandbox_server)
    with session_for(SPEC, sandbox_server.url) as s:
        yield s


def contracts(*ids: str) -> list[tuple[Any, ...]]:
    """The contracts of ``ids`` as the list scan explodes them (contactId, type, unitId, startDate)."""
    return sorted((cid, k["type"], k["unitId"], pd.Timestamp(k["startDate"]))
                  for cid in ids if cid in CONTACTS for k in CONTACTS[cid].get("contracts") or [])


def got(session: Any, sql: str) -> list[tuple[Any, ...]]:
    frame = session.query(sql)
    return sorted(tuple(r) for r in frame.itertuples(index=False))


def requests(server: SandboxServer) -> tuple[int, list[str]]:
    """The token requests and the other requests (method and path) the simulator served."""
    log = server.request_log
    tokens = sum(1 for _m, p, _s in log if p.endswith("/authenticate"))
    return tokens, [f"{m} {p.removeprefix('/casavi')}" for m, p, _s in log if not p.endswith("/authenticate")]


def test_the_contracts_of_one_contact_are_one_read_by_id(session: Any, sandbox_server: SandboxServer) -> None:
    rows = got(session, f"SELECT contactId, type, unitId, startDate FROM casavi.contracts WHERE contactId = '{MANY}'")
    assert rows == contracts(MANY) and len(rows) >= 3
    assert requests(sandbox_server) == (1, [f"GET /v2/contacts/{MANY}"])


def test_the_responsibilities_of_one_property_are_one_read_by_id(session: Any,
                                                                 sandbox_server: SandboxServer) -> None:
    pid = next(iter(PROPERTIES))
    frame = session.query(f"SELECT propertyId, contactId, roleType FROM casavi.responsibilities "
                          f"WHERE propertyId = '{pid}'")
    want = sorted((pid, r["contactId"], r["roleType"]) for r in PROPERTIES[pid]["responsibilities"])
    assert sorted(tuple(r) for r in frame.itertuples(index=False)) == want and want
    assert requests(sandbox_server) == (1, [f"GET /v2/properties/{pid}"])


def test_the_issue_join_costs_the_token_and_two_reads(session: Any, sandbox_server: SandboxServer) -> None:
    rows = got(session, "SELECT c.lastName, k.type, k.unitId FROM casavi.contacts c JOIN casavi.contracts k "
                        f"ON k.contactId = c.id WHERE c.id = '{MANY}'")
    assert rows == sorted((CONTACTS[MANY].get("lastName"), t, u) for _c, t, u, _s in contracts(MANY))
    assert requests(sandbox_server) == (1, [f"GET /v2/contacts/{MANY}"] * 2)


def test_odd_ids_a_missing_contact_and_a_local_condition(session: Any, sandbox_server: SandboxServer) -> None:
    listed = ", ".join(f"'{i}'" for i in (*ODD, "C-999999"))
    rows = got(session, "SELECT contactId, type, unitId, startDate FROM casavi.contracts "
                        f"WHERE contactId IN ({listed}) AND endDate IS NULL")
    open_ended = {(cid, k["unitId"]) for cid in ODD for k in CONTACTS[cid]["contracts"] if k.get("endDate") is None}
    assert rows == [r for r in contracts(*ODD) if (r[0], r[2]) in open_ended] and len(rows) == 1
    tokens, sent = requests(sandbox_server)  # (the simulator logs the decoded path)
    assert tokens == 1 and sorted(sent) == sorted(f"GET /v2/contacts/{i}" for i in (*ODD, "C-999999"))
    assert [s for _m, p, s in sandbox_server.request_log if p.endswith("C-999999")] == [404]


def test_count_and_limit_count_contracts(session: Any, sandbox_server: SandboxServer) -> None:
    ids = (MANY, *ODD)
    listed = ", ".join(f"'{i}'" for i in ids)
    count = session.query(f"SELECT COUNT(*) AS n FROM casavi.contracts WHERE contactId IN ({listed})")
    assert int(count["n"][0]) == len(contracts(*ids))
    frame = session.query(f"SELECT unitId FROM casavi.contracts WHERE contactId IN ({listed}) LIMIT 2")
    assert len(frame) == 2 and set(frame["unitId"]) <= {r[2] for r in contracts(*ids)}
    _tokens, sent = requests(sandbox_server)
    assert len(sent) == 2 * len(ids) and not any(s.startswith("GET /v2/contacts?") or s == "GET /v2/contacts"
                                                 for s in sent)


def test_an_id_that_is_no_path_segment_is_a_list_scan(session: Any, sandbox_server: SandboxServer) -> None:
    text = session.explain("SELECT * FROM casavi.contracts WHERE contactId = 'C-1/contracts'")
    assert "GET /v2/contacts?limit=100" in text and "GET /v2/contacts/C-1" not in text
    text = session.explain("SELECT * FROM casavi.responsibilities WHERE propertyId = 'P-00102'")
    assert "read by id of the parent property, its responsibilities exploded" in text
