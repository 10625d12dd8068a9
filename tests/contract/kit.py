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
    every simulator variant.

    A new vendor starts with ``DifferentialSpec(generic_tables=("tickets",))``: the kit's own trees
    (``contract/strategies.py``, drawn from the catalog and the seeded records) run on those tables
    under every value of every simulator variant of the vendor, on a session over the sandbox
    config. The vendor's own property runs (``configs`` and ``tables`` with ``oracle``,
    ``strategy``, ``check``) and its known hard spots (``hard_spot_variants`` with both
    ``check_hard_spots*`` hooks) are added later, each group whole (hooks live in the vendor's
    ``differential.py``)."""

    #: tables the kit's own catalog-drawn trees (``contract/strategies.py``) run on
    generic_tables: Sequence[str] = ()
    #: run configurations: objects with ``variants``, ``connection``, ``examples`` and ``id``
    configs: Sequence[Any] = ()
    tables: Sequence[str] = ()
    #: examples per (table, configuration) before the configuration's own factor
    examples: Mapping[str, int] = field(default_factory=dict)
    #: variant keys that get small targeted queries instead of property runs
    small_only: frozenset[str] = frozenset()
    #: ``session(url, connection_settings)``: a Session on the served sandbox (default: the sandbox
    #: config, the settings added to the vendor's connection: :func:`session_for`)
    session: Callable[[str, tuple[tuple[str, Any], ...]], Any] | None = None
    #: ``oracle(server, table)``: the oracle over the whole table
    oracle: Callable[[Any, str], Any] | None = None
    #: ``strategy(table, config)``: a hypothesis strategy of one example
    strategy: Callable[[str, Any], Any] | None = None
    #: ``check(session, oracle, table, example)``: crmql's answers equal the oracle's
    check: Callable[[Any, Any, str, Any], None] | None = None
    #: ``check_oracle_input(server)``: the oracle's data is the simulator's raw data
    check_oracle_input: Callable[[Any], None] | None = None
    #: simulator variants the known-hard-spot regressions run under (each a dict)
    hard_spot_variants: Sequence[Mapping[str, str]] = ()
    #: ``check_hard_spots(server, session)``: the regressions give the oracle's rows (the kit checks
    #: that they reached the simulator)
    check_hard_spots: Callable[[Any, Any], None] | None = None
    #: ``check_hard_spots_hit_rows(server)``: ``{regression: rows the oracle keeps}`` (the kit checks
    #: that some keep rows)
    check_hard_spots_hit_rows: Callable[[Any], Mapping[str, int]] | None = None

    def __post_init__(self) -> None:
        own = {"configs": self.configs, "tables": self.tables, "oracle": self.oracle, "strategy": self.strategy,
               "check": self.check}
        hard = {"hard_spot_variants": self.hard_spot_variants, "check_hard_spots": self.check_hard_spots,
                "check_hard_spots_hit_rows": self.check_hard_spots_hit_rows}
        for group in (own, hard):
            given = [k for k, v in group.items() if v]
            if given and len(given) < len(group):
                raise ValueError(f"DifferentialSpec: {', '.join(given)} without {', '.join(k for k in group if k not in given)}")
        if not self.generic_tables and not self.tables:
            raise ValueError("DifferentialSpec: no tables (start with generic_tables=(...))")


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
    #: page requests a scan may send beyond the last page (pages requested ahead of their next links)
    wasted: int = 0


@dataclass(frozen=True)
class VendorTestSpec:
    """What a vendor brings to the contract kit."""

    name: str  # the sandbox vendor name
    connection: str  # the connection name in the sandbox config
    golden: GoldenSpec | None = None
    differential: DifferentialSpec | None = None
    cli: CliSpec | None = None
    faults: FaultSpec | None = None
    #: the parts not written yet ("golden", "differential", "cli", "faults"): a vendor joins the kit
    #: part by part, and ``test_contract_specs`` holds every other part to be there
    todo: tuple[str, ...] = ()


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


def session_for(spec: VendorTestSpec, url: str, settings: tuple[tuple[str, Any], ...] = ()) -> Any:
    """A session on the sandbox served at ``url``: the differential part's own ``session`` hook, or
    the sandbox config with ``settings`` added to the vendor's connection."""
    diff = spec.differential
    if diff is not None and diff.session is not None:
        return diff.session(url, settings)
    from crmql.api.config import sandbox_config
    from crmql.api.session import Session

    config = sandbox_config(url)
    config.connections[spec.connection].settings.update(dict(settings))
    return Session(config)


def generic_variants(spec: VendorTestSpec) -> list[dict[str, str]]:
    """The readings the kit's own trees run under: the defaults, and (for a vendor without property
    runs of its own) every other value of every simulator variant of the vendor."""
    from crmql.sandbox import ALL_VARIANTS

    diff = spec.differential
    if diff is None or diff.configs:
        return [{}]
    return [{}] + [{k: v} for k, values in ALL_VARIANTS.items() if k.startswith(f"{spec.name}.")
                   and k not in diff.small_only for v in values[1:]]


def run_hard_spots(server: Any, diff: DifferentialSpec, session: Any) -> None:
    """The vendor's hard-spot regressions, which must reach the simulator (a stub that checks
    nothing fails here)."""
    assert diff.check_hard_spots is not None
    before = len(server.request_log)
    diff.check_hard_spots(server, session)
    assert len(server.request_log) > before, "check_hard_spots sent no query to the simulator"


def hard_spot_hits(server: Any, diff: DifferentialSpec) -> Mapping[str, int]:
    """The rows each regression keeps (the vendor's hook); some must keep rows, so a lost row shows."""
    assert diff.check_hard_spots_hit_rows is not None
    hits = diff.check_hard_spots_hit_rows(server)
    assert isinstance(hits, Mapping) and hits, "check_hard_spots_hit_rows must return {regression: rows}"
    assert any(n > 0 for n in hits.values()), f"no regression keeps a row: {dict(hits)}"
    return hits


def allowed_by(spec: SupersetSpec, settings: Mapping[str, Any], reading: Mapping[str, str]) -> bool:
    """Whether the connection settings admit this reading of the vendor's semantics."""
    for key, (variant, values) in spec.setting_to_variant.items():
        if settings.get(key) is not None and reading[variant] != values[settings[key]]:
            return False
    return True
