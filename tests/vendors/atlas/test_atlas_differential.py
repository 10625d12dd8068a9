"""Atlas-only differential checks beside the contract (``tests/contract/test_contract_differential.py``):
the variant keys the runs know, the catalog the trees draw from, the sorted early stop, and list
items without fields."""

from __future__ import annotations

import math

import pytest

from crmql.sandbox import ALL_VARIANTS, SandboxServer, records
from crmql.api.session import Session

from vendors.atlas.catalog import CATALOG, SORTABLE, column_data
from vendors.atlas.differential import ATLAS_KEYS, TABLES, Oracle, _config, _key, _plan
from vendors.atlas.strategies import NAME_FIELD


def test_the_variant_keys_are_known() -> None:
    """A new atlas.* variant needs a thought: a property run (the contract covers its values) or
    targeted queries of its own (``SMALL_ONLY``)."""
    assert set(ATLAS_KEYS) == {"atlas.eq_case", "atlas.contains_case", "atlas.multi_contains", "atlas.page_param",
                               "atlas.sort_nulls", "atlas.list_fields"}, "a new variant needs a run here"
    assert all(ALL_VARIANTS[k] for k in ATLAS_KEYS)


def test_catalog_covers_every_field_and_kind() -> None:
    for table in TABLES:
        fields = {f for r in records("atlas", table, 42) for f in r["fields"]} | {"id", "type"}
        assert fields <= {c.field for c in CATALOG[table]}, table
    kinds = {c.kind for cols in CATALOG.values() for c in cols}
    assert kinds >= {"string", "text", "date", "timestamp", "decimal", "user", "single-select", "multi-select"}
    assert all(any(c.field != c.name for c in CATALOG[t]) for t in TABLES)  # custom fields (UUIDs)




SORT_WHERE = ["", "WHERE \"{name}\" LIKE '%a%'", "WHERE \"{name}\" NOT LIKE '%e%'"]


@pytest.mark.parametrize("variants", [{}, {"atlas.sort_nulls": "first"}, {"atlas.page_param": "ignored"}],
                         ids=["defaults", "nulls-first", "pages-of-20"])
def test_sorted_limit_equals_full_sort(sandbox: SandboxServer, variants: dict[str, str]) -> None:
    """ORDER BY every decimal and date column LIMIT n, stopping early at the vendor's sort: the same
    keys as DuckDB's full sort, and never more pages than needed to pass n non-NULL keys."""
    sandbox.settings.variants = variants
    with Session(_config(sandbox.url, ())) as session:
        for table in TABLES:
            oracle = Oracle.of(sandbox, table)
            for i, col in enumerate(SORTABLE[table]):
                where = SORT_WHERE[i % len(SORT_WHERE)].format(name=NAME_FIELD[table])
                limit = (1, 10, 130)[i % 3]
                sql = f'SELECT id, "{col.name}" FROM atlas.{table} {where} ORDER BY "{col.name}" LIMIT {limit}'
                plan = _plan(session, sql)
                assert plan.scans[0].fetch.sorted_by == col.name and plan.scans[0].fetch.stop_early, sql
                result = session.execute(sql)
                duck_where = where.replace("WHERE ", "").replace("LIKE '%a%'", "LIKE '%a%' ESCAPE ''") \
                    .replace("LIKE '%e%'", "LIKE '%e%' ESCAPE ''") or "TRUE"
                want = [_key(v, col.type) for v in oracle.sorted_keys(duck_where, col.name, limit)]
                assert [_key(v, col.type) for v in result.frame[col.name].tolist()] == want, sql
                nulls = next(d.nulls for d in column_data(table) if d.col.name == col.name)
                page = 20 if variants.get("atlas.page_param") == "ignored" else 100
                ahead = nulls if variants.get("atlas.sort_nulls") == "first" else 0
                if not where:  # every row passes: the pages up to the limit-th non-NULL key, no more
                    assert result.stats.pages == math.ceil((ahead + limit) / page), (sql, result.stats.as_dict())


LIST_QUERIES = [
    "SELECT id FROM atlas.sales WHERE \"sale-name\" LIKE '%{word}%' AND \"sale-status\" = 'won'",
    "SELECT id FROM atlas.contacts WHERE \"contact-name\" = '{contact}' OR \"contact-email\" LIKE '%{contact_part}%'",
    "SELECT id FROM atlas.companies WHERE \"company-name\" IN ('{company}', 'x') AND list_contains(segments, 'SMB')",
    "SELECT id, \"sale-balance\" FROM atlas.sales WHERE \"sale-name\" LIKE '%{word}%' ORDER BY \"sale-balance\" LIMIT 3",
]


def test_list_items_without_fields(sandbox: SandboxServer) -> None:
    """``list_fields=omitted`` (list items carry only id and type, as the docs' example shows):
    each entity is read by id, and the answers stay the same."""
    sales = records("atlas", "sales", 42)
    contacts = records("atlas", "contacts", 42)
    companies = records("atlas", "companies", 42)
    contact = contacts[1234]["fields"]["contact-name"]
    segments = next(c.field for c in CATALOG["companies"] if c.name == "segments")
    company = next(c for c in companies if "SMB" in c["fields"].get(segments, []))["fields"]["company-name"]
    values = {"word": sales[7]["fields"]["sale-name"].split()[0], "contact": contact,
              "contact_part": contact.split()[-1].lower()[:5], "company": company.replace("'", "''")}
    for variants in ({}, {"atlas.list_fields": "omitted"}):
        sandbox.settings.variants = variants
        answers = []
        with Session(_config(sandbox.url, ())) as session:
            for template in LIST_QUERIES:
                sql = template.format(**values)
                sandbox.reset_log()
                frame = session.query(sql)
                gets = [p for m, p, _ in sandbox.request_log if m == "GET" and "/entities/" in p]
                if variants:
                    assert len(gets) >= len(frame), sql  # every listed entity was read by id
                else:
                    assert not gets, sql
                answers.append(sorted(map(str, frame.itertuples(index=False))))
        if not variants:
            plain = answers
            assert all(plain) and sum(map(len, plain)) < 300  # small, but not vacuous
        else:
            assert answers == plain
