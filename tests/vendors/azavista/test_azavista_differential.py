"""Azavista-only differential checks beside the contract (``tests/contract/test_contract_differential.py``)."""

from __future__ import annotations

import pytest

from crmql.sandbox import SandboxServer, records

from vendors.azavista.differential import TABLES, session as open_session
from vendors.azavista.strategies import CATALOG


def test_catalog_covers_every_record_field() -> None:
    for table in TABLES:
        fields = {k for r in records("azavista", table, 42) for k in r}
        assert fields == {name for name, _ in CATALOG[table]}, table


@pytest.mark.parametrize("variants", [{"azavista.eq_case": "insensitive"}, {}], ids=["eq_case=insensitive", "defaults"])
def test_mixed_case_email_equality(sandbox: SandboxServer, variants: dict[str, str]) -> None:
    """``email = 'Mixed@Case.com'``: a case-insensitive vendor eq finds more; crmql must not."""
    contacts = records("azavista", "contacts", 42)
    real = next(c["email"] for c in contacts if c["email"].lower() == c["email"])
    mixed = real[0].upper() + real[1:]
    sandbox.settings.variants = variants
    with open_session(sandbox.url, ()) as session:
        assert session.query("SELECT id FROM azavista.contacts WHERE email = :e", {"e": mixed}).empty
        got = session.query("SELECT id FROM azavista.contacts WHERE email = :e", {"e": real})
        assert set(got["id"]) == {c["id"] for c in contacts if c["email"] == real}
        n = session.query("SELECT COUNT(*) AS n FROM azavista.contacts WHERE email IN (:a, :b)", {"a": mixed, "b": real})
        assert n["n"][0] == len(got)
    sandbox.reset_log()
    with open_session(sandbox.url, ()) as session:  # the vendor really does match it, case folded
        session.query("SELECT id FROM azavista.contacts WHERE email = :e", {"e": mixed})
    assert [p for _, p, _ in sandbox.request_log if p.endswith("/search")] == ["/azavista/3.1/contact/search"]
