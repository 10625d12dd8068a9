"""The contract kit's vendor test spec, and where the specs are found.

A vendor joins the contract tests (``tests/contract/test_contract_*.py``) by a folder
``tests/vendors/<vendor>/`` holding ``spec.py`` with ``SPEC = VendorTestSpec(...)`` and its golden
files; see ``tests/contract/README.md``. Each part of the spec is optional: a vendor without, say,
a ``differential`` part is simply not in that contract's parameters (and ``test_contract_specs``
says which parts each vendor brings).
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

VENDORS_DIR = Path(__file__).resolve().parent.parent / "vendors"


@dataclass(frozen=True)
class SupersetSpec:
    """How to check a plan's native requests against the vendor's own filter code (the simulator's).

    Records are the vendor's raw records (as the simulator stores them); rows are told apart by
    their index in the list.
    """

    #: every reading of the undocumented filter semantics (simulator variant key -> value)
    readings: Sequence[Mapping[str, str]]
    #: connection setting -> (variant key, {setting value: variant value}): a setting that declares a
    #: reading rules the others out
    setting_to_variant: Mapping[str, tuple[str, Mapping[bool, str]]]
    #: ``records(table, where, seed)``: a sample of the seeded data plus records on every boundary of
    #: the WHERE's literals
    records: Callable[[Any, Any, int], list[dict[str, Any]]]
    #: ``native_keys(table, request, reading, records)``: the indexes of the records the simulator's
    #: filter code returns for one native request under one reading
    native_keys: Callable[[Any, Any, Mapping[str, str], list[dict[str, Any]]], set[int]]
    #: ``plan_requests(scan)``: the native requests a search/count scan sends (their union is the answer)
    plan_requests: Callable[[Any], list[Any]]
    #: ``candidate_requests(table, candidate)``: the native request(s) of one pushed conjunct alone
    candidate_requests: Callable[[Any, Any], list[Any]]
    #: ``special(plan)``: checks a plan the generic check does not cover and returns True (else False)
    special: Callable[[Any], bool] = lambda plan: False


@dataclass(frozen=True)
class GoldenSpec:
    """EXPLAIN-level golden pushdown cases (``tests/golden.py`` format) and how to plan them."""

    path: Path
    #: ``make_connector(settings)``: a connector that plans without any request (closed port)
    make_connector: Callable[[dict[str, Any]], Any]
    #: the connection setting which, when False, allows ILIKE to be pushed
    ilike_setting: str
    min_cases: int
    #: tables the cases must cover
    tables: frozenset[str]
    #: the paging line also shows ``sorted_by`` and ``split``
    paging_detail: bool = False
    superset: SupersetSpec | None = None


@dataclass(frozen=True)
class DifferentialSpec:
    """The differential property: random WHEREs give the same ids with and without pushdown, under
    every simulator variant (hooks live in the vendor's ``differential.py``)."""

    #: run configurations: objects with ``variants``, ``connection``, ``examples`` and ``id``
    configs: Sequence[Any]
    tables: Sequence[str]
    #: examples per (table, configuration) before the configuration's own factor
    examples: Mapping[str, int]
    #: variant keys that get small targeted queries instead of property runs
    small_only: frozenset[str]
    #: ``session(url, connection_settings)``: a Session on the served sandbox
    session: Callable[[str, tuple[tuple[str, Any], ...]], Any]
    #: ``oracle(server, table)``: the oracle over the whole table
    oracle: Callable[[Any, str], Any]
    #: ``strategy(table, config)``: a hypothesis strategy of one example
    strategy: Callable[[str, Any], Any]
    #: ``check(session, oracle, table, example)``: crmql's answers equal the oracle's
    check: Callable[[Any, Any, str, Any], None]
    #: ``check_oracle_input(server)``: the oracle's data is the simulator's raw data
    check_oracle_input: Callable[[Any], None]
    #: simulator variants the known-hard-spot regressions run under (each a dict)
    hard_spot_variants: Sequence[Mapping[str, str]]
    #: ``check_hard_spots(server, session)``: the regressions give the oracle's rows
    check_hard_spots: Callable[[Any, Any], None]
    #: ``check_hard_spots_hit_rows(server)``: the regressions are not vacuous
    check_hard_spots_hit_rows: Callable[[Any], None]
    #: tables the kit's own catalog-drawn trees (``contract/strategies.py``) also run on
    generic_tables: Sequence[str] = ()


@dataclass(frozen=True)
class CliSpec:
    """``crmql -e`` in a subprocess: a typical query, an export and an error message."""

    #: a typical query and the rows (column -> text, as ``--format csv`` prints them) it must print
    query: str
    expected_rows: Callable[[], list[dict[str, str]]]
    #: a query exported to a file with ``-o``; ``expected_export`` gives the ids the file must hold
    export_query: str
    expected_export: Callable[[], set[str]]
    #: a statement that fails, its exit code, and what stderr must say
    bad_query: str
    bad_exit: int
    bad_message: str


@dataclass(frozen=True)
class FaultSpec:
    """Faults injected into the simulator mid-scan: the result is complete or a clear error."""

    #: a query that reads several pages, and the ids it must return
    scan_query: str
    expected_ids: Callable[[], set[str]]
    #: path suffix of the requests that read pages
    page_path: str
    #: the vendor's name as error messages give it
    display: str
    #: extra connection settings (fast retries)
    settings: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class VendorTestSpec:
    """What a vendor brings to the contract kit."""

    name: str  # the sandbox vendor name
    connection: str  # the connection name in the sandbox config
    golden: GoldenSpec | None = None
    differential: DifferentialSpec | None = None
    cli: CliSpec | None = None
    faults: FaultSpec | None = None


@lru_cache(maxsize=None)
def vendor_specs() -> tuple[VendorTestSpec, ...]:
    """Every ``tests/vendors/<vendor>/spec.py``'s ``SPEC``, by vendor name."""
    specs = []
    for folder in sorted(VENDORS_DIR.iterdir()):
        if (folder / "spec.py").is_file():
            spec = importlib.import_module(f"vendors.{folder.name}.spec").SPEC
            assert isinstance(spec, VendorTestSpec), folder
            specs.append(spec)
    return tuple(specs)


def with_part(part: str) -> list[VendorTestSpec]:
    """The specs that bring ``part`` ("golden", "differential", "cli", "faults")."""
    return [s for s in vendor_specs() if getattr(s, part) is not None]


def allowed_by(spec: SupersetSpec, settings: Mapping[str, Any], reading: Mapping[str, str]) -> bool:
    """Whether the connection settings admit this reading of the vendor's semantics."""
    for key, (variant, values) in spec.setting_to_variant.items():
        if settings.get(key) is not None and reading[variant] != values[settings[key]]:
            return False
    return True
