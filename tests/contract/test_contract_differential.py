"""Differential property contract, for every vendor whose spec has a ``differential`` part (design
sections 5 and 10): for random WHERE trees over every column of the vendor's tables, the ids crmql
returns (with pushdown, against the simulator served over HTTP) equal the ids an obviously right
oracle returns (DuckDB running the same WHERE, written independently of crmql, over the whole table
fetched once without any filter), under every value of every ``<vendor>.*`` simulator variant, with
a fresh session per run configuration. Where the plan trusts the vendor (every conjunct exact), the
vendor's checks also cover COUNT(*) from its total and LIMIT as the page size.

The strategies, the oracle and the checks are each vendor's (``tests/vendors/<vendor>/differential.py``);
the runs are written here once. A vendor that has none yet runs the kit's own catalog-drawn trees
(``generic_tables``) under every value of every one of its simulator variants.
``CRMQL_DIFF_EXAMPLES`` scales the number of examples.
"""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given

from crmql.sandbox import ALL_VARIANTS, SandboxServer

from contract import strategies
from contract.kit import VendorTestSpec, generic_variants, hard_spot_hits, run_hard_spots, session_for, with_part
from differential_support import SCALE, property_settings

SPECS = with_part("differential")
RUNS = [pytest.param(spec, table, config, id=f"{spec.name}-{table}-{config.id}")
        for spec in SPECS for config in spec.differential.configs for table in spec.differential.tables]
HARD = [pytest.param(spec, variants, id=f"{spec.name}-" + (",".join(f"{k.split('.', 1)[1]}={x}" for k, x in variants.items())
                                                           or "defaults"))
        for spec in SPECS for variants in spec.differential.hard_spot_variants]
BY_VENDOR = [pytest.param(spec, id=spec.name) for spec in SPECS]
WITH_OWN = [pytest.param(spec, id=spec.name) for spec in SPECS if spec.differential.configs]
WITH_HARD = [pytest.param(spec, id=spec.name) for spec in SPECS if spec.differential.hard_spot_variants]
GENERIC = [pytest.param(spec, table, variants, id=f"{spec.name}-{table}" + "".join(f"-{k.split('.', 1)[1]}={v}"
                                                                                  for k, v in variants.items()))
           for spec in SPECS for table in spec.differential.generic_tables for variants in generic_variants(spec)]
#: examples per table of the kit's own trees (the vendors' strategies carry the bulk)
GENERIC_EXAMPLES = 10


@pytest.mark.parametrize("spec", BY_VENDOR)
def test_every_variant_value_is_covered(spec: VendorTestSpec) -> None:
    """Every non-default value of every one of the vendor's simulator variants has a run (but for
    the variants that get targeted queries of their own): the vendor's own, else the kit's trees."""
    diff = spec.differential
    covered = {(k, v) for c in diff.configs for k, v in c.variants}
    covered |= {(k, v) for variants in generic_variants(spec) if diff.generic_tables for k, v in variants.items()}
    keys = [k for k in ALL_VARIANTS if k.startswith(f"{spec.name}.") and k not in diff.small_only]
    assert keys or not diff.configs, f"{spec.name} has property runs of its own but no simulator variant"
    for key in keys:
        assert {(key, v) for v in ALL_VARIANTS[key][1:]} <= covered, key


@pytest.mark.parametrize("spec, table, config", RUNS)
def test_pushdown_equals_local_filter(sandbox: SandboxServer, spec: VendorTestSpec, table: str, config: Any) -> None:
    diff = spec.differential
    oracle = diff.oracle(sandbox, table)
    sandbox.settings.variants = dict(config.variants)
    session = session_for(spec, sandbox.url, config.connection)

    @property_settings(max(5, int(diff.examples[table] * config.examples * SCALE)))
    @given(example=diff.strategy(table, config))
    def check(example: Any) -> None:
        diff.check(session, oracle, table, example)

    try:
        check()
    finally:
        session.close()


@pytest.mark.parametrize("spec", WITH_OWN)
def test_oracle_input_is_the_raw_data(sandbox: SandboxServer, spec: VendorTestSpec) -> None:
    """The oracle's input is the simulator's raw data, typed independently of crmql."""
    assert spec.differential.check_oracle_input is not None, f"{spec.name}: an oracle of its own needs check_oracle_input"
    spec.differential.check_oracle_input(sandbox)


@pytest.mark.parametrize("spec, variants", HARD)
def test_known_hard_spots(sandbox: SandboxServer, spec: VendorTestSpec, variants: dict[str, str]) -> None:
    """Targeted regressions (boundaries, case rules, metacharacters, ...) under each reading."""
    diff = spec.differential
    for table in diff.tables:  # the oracle's data is read under the default reading
        diff.oracle(sandbox, table)
    sandbox.settings.variants = dict(variants)
    with session_for(spec, sandbox.url) as session:
        run_hard_spots(sandbox, diff, session)


@pytest.mark.parametrize("spec", WITH_HARD)
def test_known_hard_spots_are_not_vacuous(sandbox: SandboxServer, spec: VendorTestSpec) -> None:
    """The regression queries hit real rows, so a lost row would show."""
    hard_spot_hits(sandbox, spec.differential)


@pytest.mark.parametrize("spec, table, variants", GENERIC)
def test_catalog_drawn_trees_equal_local_filter(sandbox: SandboxServer, spec: VendorTestSpec, table: str,
                                                variants: dict[str, str]) -> None:
    """The kit's own trees, drawn from the catalog and the seeded records alone (what a new vendor
    runs before writing strategies of its own), under the default reading (and, for a vendor without
    property runs of its own, under each other reading)."""
    with session_for(spec, sandbox.url) as session:
        oracle = strategies.oracle(session, spec.connection, table)
        columns, rows = strategies.table_data(spec.name, table, session.connector(spec.connection))
        assert len(columns) >= 3 and len(rows) == len(oracle.ids("TRUE"))
        sandbox.settings.variants = dict(variants)  # the oracle's data is read under the default reading

        @property_settings(max(5, int(GENERIC_EXAMPLES * SCALE)))
        @given(where=strategies.where_clause(columns, rows))
        def check(where: Any) -> None:
            strategies.check(session, oracle, spec.connection, table, where)

        check()
