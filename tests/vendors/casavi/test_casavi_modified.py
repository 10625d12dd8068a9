"""casavi's filter-only columns end to end over real HTTP: ``modifiedAfter`` (the records carry no
modification time: the simulator keeps one internally, never served), ``role`` and
``includeInactiveContracts``. crmql sends the value as the vendor's parameter and trusts the
vendor's answer (exact by its own definition); so the rows must be what the simulator's filter
keeps under each reading of the bound (exclusive, the default, or inclusive: vendor-notes
ambiguity 26) and each reading of the format (lenient or strict ``YYYY-MM-DDThh:mm:ss.sssZ``,
which crmql always sends).

Expected rows come from the simulator's internal records (``crmql.sandbox.casavi.world``: the
served fields plus ``_modifiedAt``, ``_roles`` and units' ``_allContracts``).
"""

from __future__ import annotations

import datetime as dt
from typing import Any
from urllib.parse import unquote

import pytest

import crmql
from crmql.sandbox import SandboxServer
from crmql.sandbox.casavi.world import world

from contract.kit import session_for

from vendors.casavi.spec import SPEC

WORLD = world(42)
UTC = dt.timezone.utc


def _kept(table: str, bound: dt.datetime, inclusive: bool) -> set[str]:
    """What the vendor keeps for ``modifiedAfter=bound`` (the simulator's internal times)."""
    return {r["id"] for r in WORLD.table(table)
            if (r["_modifiedAt"] >= bound if inclusive else r["_modifiedAt"] > bound)}


def test_contacts_changed_since_a_day(sandbox: SandboxServer) -> None:
    """The issue's incremental read: EXPLAIN shows ``modifiedAfter`` sent in the docs' format."""
    sql = "SELECT id, firstName, lastName FROM casavi.contacts WHERE modifiedAfter = TIMESTAMP '2026-11-01'"
    bound = dt.datetime(2026, 11, 1, tzinfo=UTC)
    want = _kept("contacts", bound, inclusive=False)
    assert 0 < len(want) < len(WORLD.contacts) / 5
    with session_for(SPEC, sandbox.url) as session:
        explain = session.explain(sql)
        result = session.execute(sql)
    assert "modifiedAfter=2026-11-01T00:00:00.000Z" in unquote(explain), explain  # sent as the docs write times
    assert "exact by the vendor's definition" in explain and "filter-only" in explain, explain
    got = [str(i) for i in result.frame["id"]]
    assert sorted(got) == sorted(want) and len(got) == len(set(got))
    assert result.stats.rows_fetched == len(want)  # the vendor filtered: no full scan


@pytest.mark.parametrize("inclusive", [False, True], ids=["exclusive", "inclusive"])
@pytest.mark.parametrize("fmt", ["lenient", "strict"])
def test_the_bound_itself_under_each_reading(sandbox: SandboxServer, inclusive: bool, fmt: str) -> None:
    """A bound equal to a property's own modification time: that property is in or out as the
    vendor's reading says, and crmql returns exactly what the vendor kept."""
    on_bound = sorted(WORLD.properties, key=lambda r: r["_modifiedAt"])[len(WORLD.properties) * 3 // 4]
    bound = on_bound["_modifiedAt"]
    assert bound.microsecond % 1000 == 0  # millisecond times: the bound is sent as it is
    sandbox.settings.variants = {"casavi.modified_after": "inclusive" if inclusive else "exclusive",
                                 "casavi.modified_format": fmt}
    want = _kept("properties", bound, inclusive)
    assert (on_bound["id"] in want) is inclusive
    with session_for(SPEC, sandbox.url) as session:
        frame = session.query("SELECT id FROM casavi.properties WHERE modifiedAfter = :t", {"t": bound})
        dated = session.query("SELECT id FROM casavi.properties WHERE modifiedAfter = DATE '2026-06-01'")
    assert sorted(frame["id"]) == sorted(want)
    assert sorted(dated["id"]) == sorted(_kept("properties", dt.datetime(2026, 6, 1, tzinfo=UTC), inclusive))


def test_other_conditions_on_a_filter_only_column_are_refused(sandbox: SandboxServer) -> None:
    with session_for(SPEC, sandbox.url) as session:
        with pytest.raises(crmql.QueryError) as info:
            session.query("SELECT id FROM casavi.contacts WHERE modifiedAfter > TIMESTAMP '2026-11-01'")
    assert "modifiedAfter" in str(info.value)
    assert sandbox.request_log == [] or all("/v2/contacts" not in p for _, p, _ in sandbox.request_log)


def test_role_keeps_the_contacts_of_that_role(sandbox: SandboxServer) -> None:
    want = {c["id"] for c in WORLD.contacts if "SERVICE_PROVIDER" in c.get("_roles", ())}
    assert want
    with session_for(SPEC, sandbox.url) as session:
        result = session.execute("SELECT id, role FROM casavi.contacts WHERE role = 'SERVICE_PROVIDER'")
        none = session.query("SELECT id FROM casavi.contacts WHERE role = 'LANDLORD'")
    assert set(result.frame["id"]) == want and len(result.frame) == len(want)
    assert set(result.frame["role"]) == {"SERVICE_PROVIDER"}  # every row carries the value asked for
    assert none.empty


def test_include_inactive_contracts_widens_a_units_contacts(sandbox: SandboxServer) -> None:
    prop = next(p for p in WORLD.properties if any(
        len(u.get("_allContracts", [])) > len(u.get("contracts") or [])
        for u in WORLD.units if u["propertyId"] == p["id"]))
    units = {u["id"]: u for u in WORLD.units if u["propertyId"] == prop["id"]}
    sql = "SELECT id, contactIds FROM casavi.units WHERE includeInactiveContracts = TRUE AND propertyId = :p"
    with session_for(SPEC, sandbox.url) as session:
        every = session.query(sql, {"p": prop["id"]})
        active = session.query("SELECT id, contactIds FROM casavi.units WHERE id IN :ids", {"ids": sorted(units)})

    def ids(frame: Any) -> dict[str, list[str]]:
        return {r.id: sorted(r.contactIds if r.contactIds is not None else []) for r in frame.itertuples()}

    assert ids(every) == {i: sorted(c["contactId"] for c in u["_allContracts"]) for i, u in units.items()}
    assert ids(active) == {i: sorted(c["contactId"] for c in u.get("contracts") or []) for i, u in units.items()}
    assert ids(every) != ids(active)
