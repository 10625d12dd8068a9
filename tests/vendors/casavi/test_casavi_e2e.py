"""The issue's user queries end to end over real HTTP against the casavi simulator (a session on
the served sandbox, rows checked against the seeded raw records), and the ``crmql`` command for
the issue's two commands and ``crmql sandbox dump`` (run once: the two commands through its
``main`` in this process, the dump as a subprocess).

* unregistered contacts in München (``isRegistered`` pushed as a superset, re-checked);
* renters' contracts ending in 2026 joined with their properties, ordered by ``endDate``;
* reads by id with ids that are no plain path segment (space, umlaut, ``#``, ``%``, ``?``, ``+``);
* ``COUNT(*)`` counted over the pages (casavi sends no total);
* custom fields: a filter on one, ``SELECT *`` and DESCRIBE show them, the rare one's
  unknown-column hint and its declaration by the ``custom_fields`` setting, and a statement naming
  only declared columns sends no sample request.

``modifiedAfter`` (filter-only) is in ``test_casavi_modified.py``.
"""

from __future__ import annotations

import csv
import io
import json
import math
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

import crmql
from crmql.sandbox import CREDENTIALS, SandboxServer, records

from cli_support import (Run, Tokens, cli_environment, ok, parallel, reset_sandbox, run_crmql, run_crmql_in_process,
                         write_config_file)
from contract.kit import session_for

from vendors.casavi.spec import SPEC

CONTACTS = records("casavi", "contacts", 42)
PROPERTIES = records("casavi", "properties", 42)
UNITS = records("casavi", "units", 42)
MUNICH = ("SELECT firstName, lastName, email, city FROM casavi.contacts "
          "WHERE isRegistered = FALSE AND city = 'München'")
RENTERS = ("SELECT c.contactId, c.unitId, p.name, c.endDate FROM casavi.contracts c "
           "JOIN casavi.properties p ON p.id = c.propertyId "
           "WHERE c.type = 'RENTER' AND c.endDate BETWEEN DATE '2026-01-01' AND DATE '2026-12-31' ORDER BY c.endDate")
ODD = " äöüÄÖÜß#%?+"


def _cells(frame: pd.DataFrame) -> list[tuple[Any, ...]]:
    """Rows of a frame as tuples, NULL as None."""
    return [tuple(None if (not isinstance(v, (list, dict)) and pd.isna(v)) else v for v in row)
            for row in frame.astype(object).itertuples(index=False)]


def munich_rows() -> list[tuple[Any, ...]]:
    return sorted(((c.get("firstName"), c.get("lastName"), c.get("email"), c.get("city")) for c in CONTACTS
                   if c.get("isRegistered") is False and c.get("city") == "München"), key=repr)


def _utc(text: str) -> pd.Timestamp:
    return pd.Timestamp(text).tz_convert("UTC")


def renter_rows() -> list[tuple[Any, ...]]:
    names = {p["id"]: p.get("name") for p in PROPERTIES}
    lo, hi = _utc("2026-01-01T00:00:00Z"), _utc("2026-12-31T00:00:00Z")
    out = []
    for contact in CONTACTS:
        for k in contact.get("contracts") or []:
            end = k.get("endDate")
            if k.get("type") == "RENTER" and end and lo <= _utc(end) <= hi and k.get("propertyId") in names:
                out.append((contact["id"], k.get("unitId"), names[k["propertyId"]], _utc(end)))
    return out


@pytest.fixture(scope="module")
def session(sandbox_server: SandboxServer) -> Any:
    """One session for the module's read-only queries (default readings)."""
    reset_sandbox(sandbox_server)
    with session_for(SPEC, sandbox_server.url) as s:
        yield s


# ---- the queries ---------------------------------------------------------------------------

def test_unregistered_contacts_in_munich(session: Any) -> None:
    want = munich_rows()
    assert want, "the seeded data has unregistered contacts in München"
    frame = session.query(MUNICH)
    assert list(frame.columns) == ["firstName", "lastName", "email", "city"]
    assert sorted(_cells(frame), key=repr) == want
    explain = session.explain(MUNICH)
    assert "isRegistered=false" in explain and "superset" in explain, explain


def test_renters_contracts_ending_this_year_with_their_property(session: Any) -> None:
    want = renter_rows()
    assert len(want) > 5
    frame = session.query(RENTERS)
    got = [(a, b, c, pd.Timestamp(d).tz_convert("UTC")) for a, b, c, d in _cells(frame)]
    assert [r[3] for r in got] == sorted(r[3] for r in want)  # ordered by endDate
    assert sorted(got, key=repr) == sorted(want, key=repr)


def _odd_ids() -> dict[str, list[str]]:
    """Per table, the ids with a character that is no plain path segment (a unit's id repeats its
    property's, so one unit per such property)."""
    out: dict[str, list[str]] = {}
    for table, rows in (("contacts", CONTACTS), ("properties", PROPERTIES), ("units", UNITS)):
        odd = [r["id"] for r in rows if any(ch in r["id"] for ch in ODD)]
        if table == "units":
            odd = sorted({r["propertyId"]: r["id"] for r in rows if r["id"] in set(odd)}.values())
        out[table] = odd
    return out


def test_reads_by_odd_ids(sandbox: SandboxServer, session: Any) -> None:
    odd = _odd_ids()
    found = {ch for ids in odd.values() for i in ids for ch in ODD if ch in i}
    assert {" ", "#", "%", "?", "+"} <= found and found & set("äöüÄÖÜß"), found
    for table, ids in odd.items():
        rows = {r["id"]: r for r in records("casavi", table, 42)}
        for one in ids:
            sandbox.reset_log()
            result = session.execute(f"SELECT id, internalId FROM casavi.{table} WHERE id = :id", {"id": one})
            assert _cells(result.frame) == [(one, rows[one]["internalId"])], (table, one)
            gets = [(p, s) for m, p, s in sandbox.request_log if m == "GET"]
            assert gets == [(f"/casavi/v2/{table}/{one}", 200)], gets  # one GET by id, the id intact
        if ids:
            frame = session.query(f"SELECT id FROM casavi.{table} WHERE id IN :ids", {"ids": ids + ["no such id"]})
            assert sorted(frame["id"]) == sorted(ids)


def test_an_id_that_is_no_path_segment_is_a_list_scan(sandbox: SandboxServer, session: Any) -> None:
    sandbox.reset_log()
    frame = session.query("SELECT id FROM casavi.properties WHERE id = 'P-00001/units'")
    assert frame.empty
    assert {p for m, p, _ in sandbox.request_log if m == "GET"} == {"/casavi/v2/properties"}  # listed, filtered locally


def test_count_is_counted_over_the_pages(sandbox: SandboxServer, session: Any) -> None:
    sandbox.reset_log()
    result = session.execute("SELECT COUNT(*) AS n FROM casavi.properties")
    assert int(result.frame["n"][0]) == len(PROPERTIES)
    assert result.stats.pages == math.ceil(len(PROPERTIES) / 100)
    n = session.query("SELECT COUNT(*) AS n FROM casavi.contacts WHERE isRegistered = FALSE AND city = 'München'")
    assert int(n["n"][0]) == len(munich_rows())


# ---- custom fields ---------------------------------------------------------------------------------

PROPERTY_FIELDS = {"Baujahr": "INTEGER", "Wohnfläche": "FLOAT", "Heizungsart": "STRING", "Denkmalschutz": "BOOLEAN",
                   "Letzte Begehung": "TIMESTAMP"}
RARE = "Sonderkündigungsrecht"


def test_a_filter_on_a_custom_field(session: Any) -> None:
    want = sorted(p["id"] for p in PROPERTIES if isinstance((p.get("customFields") or {}).get("Baujahr"), int)
                  and p["customFields"]["Baujahr"] < 1950)
    assert want
    frame = session.query('SELECT id, "Baujahr" FROM casavi.properties WHERE "Baujahr" < 1950')
    assert sorted(frame["id"]) == want
    assert all(int(v) < 1950 for v in frame["Baujahr"])


def test_select_star_and_describe_show_the_custom_fields(session: Any) -> None:
    star = session.query("SELECT * FROM casavi.properties LIMIT 3")
    assert set(PROPERTY_FIELDS) | {"id", "name", "customFields"} <= set(star.columns)
    described = session.describe("casavi", "properties")
    types = dict(zip(described["column"], described["type"].astype(str).str.upper()))
    assert {name: types.get(name) for name in PROPERTY_FIELDS} == PROPERTY_FIELDS
    only = described.set_index("column").loc["modifiedAfter"]
    assert "filter-only" in only["pushed_filters"] and "not re-checked" in only["pushed_filters"]


def test_the_rare_custom_field_is_unknown_until_declared(sandbox: SandboxServer) -> None:
    want = sorted(c["id"] for c in CONTACTS if (c.get("customFields") or {}).get(RARE) is True)
    assert want and not any(RARE in (c.get("customFields") or {}) for c in CONTACTS[:100])  # the first page
    sql = f'SELECT id FROM casavi.contacts WHERE "{RARE}" = TRUE'
    with session_for(SPEC, sandbox.url) as plain:
        with pytest.raises(crmql.QueryError) as info:
            plain.query(sql)
    text = f"{info.value.message} {info.value.hint}"
    assert f"unknown column '{RARE}'" in text and "custom_fields" in text and "first page" in text, text
    declared = (("custom_fields", {"contacts": {RARE: "BOOLEAN"}}),)
    with session_for(SPEC, sandbox.url, declared) as session:
        assert sorted(session.query(sql)["id"]) == want


def test_a_value_that_does_not_fit_its_declared_type_is_a_clear_error(sandbox: SandboxServer) -> None:
    """``Heizungsart`` declared INTEGER by the setting: the first text value is an error naming the
    table, the field and the setting, never a silent NULL."""
    declared = (("custom_fields", {"properties": {"Heizungsart": "integer"}}),)
    with session_for(SPEC, sandbox.url, declared) as session:
        with pytest.raises(crmql.ConnectorError) as info:
            session.query('SELECT id, "Heizungsart" FROM casavi.properties')
    text = f"{info.value.message} {info.value.hint or ''}"
    assert "casavi.properties" in text and "Heizungsart" in text and "custom_fields" in text, text


def test_declared_columns_send_no_sample_request(sandbox: SandboxServer) -> None:
    pages = math.ceil(len(PROPERTIES) / 100)
    # one request at a time: no page requested ahead, so every list request is counted exactly
    with session_for(SPEC, sandbox.url, (("concurrency", 1),)) as session:
        sandbox.reset_log()
        first = session.execute("SELECT id, name FROM casavi.properties WHERE city = 'Berlin'")
        lists = [p for m, p, _ in sandbox.request_log if m == "GET" and p == "/casavi/v2/properties"]
        assert len(lists) == first.stats.pages == pages  # no sample for custom fields
        sandbox.reset_log()
        session.execute("SELECT * FROM casavi.properties")
        star = [p for m, p, _ in sandbox.request_log if m == "GET"]
        assert len(star) == pages  # the sample is the scan's first page: no extra request
        sandbox.reset_log()
        session.execute('SELECT id FROM casavi.properties WHERE "Baujahr" < 1900')
        assert len([p for m, p, _ in sandbox.request_log if m == "GET"]) == pages  # the sample is cached


# ---- the crmql command ----------------------------------------------------------------------------

@pytest.fixture(scope="module")
def runs(sandbox_server: SandboxServer, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Run]:
    """The issue's two commands and ``crmql sandbox dump casavi.contacts``, run together once."""
    reset_sandbox(sandbox_server)
    tokens = Tokens(sandbox_server)
    where = tmp_path_factory.mktemp("casavi-cli")
    env = cli_environment(where)
    config = write_config_file(where / "crmql.toml", sandbox_server.url)

    def crmql_(*args: str | Path, process: bool = False) -> Callable[[], Run]:
        if not process:  # the command's own code in this process, without a Python start-up
            return lambda: run_crmql_in_process([*map(str, args)], env=env, cwd=where)
        return lambda: run_crmql([*map(str, args)], env=env, cwd=where, timeout=180)

    both, dump = parallel(  # the two commands in one run; the dump in a real process
        crmql_("--config", config, "-e", MUNICH, "-e", RENTERS, "--format", "csv"),
        crmql_("sandbox", "dump", "casavi.contacts", process=True),
    )
    secret = CREDENTIALS["casavi"]["secret"]
    for run in (both, dump):
        assert "Traceback" not in run.stderr, str(run)
        for leaked in (secret, *tokens.issued):
            assert leaked not in run.stdout and leaked not in run.stderr, f"a secret leaked:\n{run}"
    return {"both": both, "dump": dump}


def _csv_results(run: Run) -> list[list[dict[str, str]]]:
    """The CSV results of a run of several statements, split where a header line starts one."""
    parts: list[list[str]] = []
    for line in ok(run).stdout.splitlines():
        if line in ("firstName,lastName,email,city", "contactId,unitId,name,endDate"):
            parts.append([])
        if line.strip():
            parts[-1].append(line)
    return [list(csv.DictReader(io.StringIO("\n".join(p)))) for p in parts]


def test_cli_unregistered_contacts_in_munich(runs: dict[str, Run]) -> None:
    rows = _csv_results(runs["both"])[0]
    got = sorted(((r["firstName"] or None, r["lastName"] or None, r["email"] or None, r["city"]) for r in rows),
                 key=repr)
    assert got == munich_rows()


def test_cli_renters_contracts(runs: dict[str, Run]) -> None:
    rows = _csv_results(runs["both"])[1]
    assert [list(r) for r in rows[:1]] == [["contactId", "unitId", "name", "endDate"]]
    want = renter_rows()
    assert len(rows) == len(want)
    assert [_utc(r["endDate"]) for r in rows] == sorted(r[3] for r in want)
    assert sorted((r["contactId"], r["name"]) for r in rows) == sorted((w[0], w[2]) for w in want)


def test_cli_sandbox_dump_prints_nested_records(runs: dict[str, Run]) -> None:
    dumped = json.loads(ok(runs["dump"]).stdout)
    assert len(dumped) == len(CONTACTS)
    by_id = {r["id"]: r for r in dumped}
    nested = next(c for c in CONTACTS if c.get("contracts"))
    assert by_id[nested["id"]]["contracts"] == nested["contracts"]  # contracts inside, as the API nests them
    assert any(isinstance(r.get("customFields"), dict) and r["customFields"] for r in dumped)
