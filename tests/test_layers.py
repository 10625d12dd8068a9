"""crmql's layering, as written in ``.importlinter``, holds; and no module is over 400 lines.

Each import-linter contract is its own test (``lint-imports --contract <id>`` in a subprocess,
the way a developer runs it), so a failure names the broken contract and shows import-linter's
report: which module imports which, at which line. Lazy imports inside functions count.

Vendors are independent of each other: the packages of every vendor in the registry
(``crmql.vendors.vendors()``: its connector's and its simulator's package) have no import chain
between them, so a new vendor is covered without editing a contract. Probes check that each
contract written for that purpose (kits, surfaces) and the vendor check really catch a violation.
"""
from __future__ import annotations

import configparser
import importlib
import itertools
import pkgutil
import shutil
import subprocess
import sys
from pathlib import Path

import grimp
import pytest

from crmql.vendors import vendors

ROOT = Path(__file__).resolve().parent.parent
CONTRACTS_FILE = ROOT / ".importlinter"
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")
if not LINT_IMPORTS.exists():
    LINT_IMPORTS = Path(shutil.which("lint-imports") or LINT_IMPORTS)
MAX_LINES = 400


def _contracts() -> dict[str, str]:
    """Contract id -> its name, read from ``.importlinter``."""
    parser = configparser.ConfigParser()
    parser.read(CONTRACTS_FILE, encoding="utf-8")
    prefix = "importlinter:contract:"
    return {s[len(prefix):]: parser[s]["name"] for s in parser.sections() if s.startswith(prefix)}


CONTRACTS = _contracts()


def test_the_contracts_cover_every_layer() -> None:
    """The file names the layering the README describes, plus the side packages' rules."""
    assert {"layers", "connectors", "http", "sandbox", "bottom", "acyclic", "vendor-neutral", "kits", "surfaces",
            "cli-magic"} <= set(CONTRACTS)
    layers = configparser.ConfigParser()
    layers.read(CONTRACTS_FILE, encoding="utf-8")
    order = [line.strip() for line in layers["importlinter:contract:layers"]["layers"].split("\n") if line.strip()]
    # the modules users import by name: `crmql.dbapi` (PEP 249), `crmql.spark`, `crmql.dask`
    assert order[:5] == ["dbapi | spark | dask", "surfaces", "api", "export", "exec"]
    assert order.index("plan") < order.index("language | http | vendors")
    packages = {p.name for p in (ROOT / "crmql").iterdir() if p.is_dir() and (p / "__init__.py").exists()}
    packages |= {p.stem for p in (ROOT / "crmql").glob("*.py") if p.stem not in ("__init__", "__main__")}
    named = {part.strip() for line in order for part in line.split("|")}
    assert packages <= named, f"packages and modules under crmql/ that no layer names: {sorted(packages - named)}"


def _lint(contract: str, root: Path = ROOT) -> subprocess.CompletedProcess[str]:
    """``lint-imports`` run on one contract of ``root/.importlinter``, from ``root`` (the ``crmql`` imported
    is ``root/crmql``: import-linter puts its working directory first on ``sys.path``)."""
    if not LINT_IMPORTS.exists():
        pytest.fail("import-linter is not installed: pip install -c constraints.txt -e '.[dev]'")
    return subprocess.run(
        [str(LINT_IMPORTS), "--no-cache", "--no-logo", "--contract", contract, str(root / ".importlinter")],
        cwd=root, capture_output=True, text=True, timeout=300,
    )


@pytest.mark.parametrize("contract", sorted(CONTRACTS))
def test_contract_is_kept(contract: str) -> None:
    """``lint-imports --contract <id>`` passes; on failure the message names the contract."""
    done = _lint(contract)
    report = done.stdout[done.stdout.find("Broken contracts"):] if "Broken contracts" in done.stdout else done.stdout
    assert done.returncode == 0, f"import-linter contract {contract!r} ({CONTRACTS[contract]}) is broken:\n{report}{done.stderr}"
    assert "KEPT" in done.stdout


def test_no_module_is_over_400_lines() -> None:
    """One concern per module: every ``crmql/**/*.py`` has at most 400 lines."""
    long = {
        str(path.relative_to(ROOT)): n
        for path in sorted((ROOT / "crmql").rglob("*.py"))
        if (n := len(path.read_text(encoding="utf-8").splitlines())) > MAX_LINES
    }
    assert not long, f"modules over {MAX_LINES} lines: {long}"


# a module's public names that live in another module, on purpose: the face its callers use
PUBLIC_FACES = {
    ("crmql.plan.catalog", "Column"), ("crmql.plan.catalog", "ColumnType"),  # a Table is made of Columns
    ("crmql.plan.pushdown", "Capability"), ("crmql.plan.pushdown", "NativeCond"),  # the pushdown vocabulary
    ("crmql.plan.pushdown", "Pushed"),
    ("crmql.plan.planner", "Plan"), ("crmql.plan.planner", "ScanPlan"),  # what plan_query returns
    ("crmql.plan.connector", "PageSink"),  # a type alias (its __module__ is collections.abc)
    ("crmql.surfaces.repl.app", "ReplSettings"),  # what Shell takes
}


@pytest.mark.parametrize("package", ["crmql.plan", "crmql.exec", "crmql.surfaces.repl", "crmql.surfaces.completion"])
def test_no_re_export_shims(package: str) -> None:
    """A module's ``__all__`` names what it defines, but for the public faces above: a quoter, a
    scanner or a helper is imported from where it lives (no compatibility shims)."""
    foreign = set()
    for info in pkgutil.iter_modules(importlib.import_module(package).__path__, package + "."):
        module = importlib.import_module(info.name)
        if info.ispkg:
            continue
        for name in getattr(module, "__all__", ()):
            if getattr(getattr(module, name), "__module__", info.name) != info.name:
                foreign.add((info.name, name))
    assert not foreign - PUBLIC_FACES, f"re-exported names: {sorted(foreign - PUBLIC_FACES)}"


def _vendor_packages() -> dict[str, set[str]]:
    """Vendor name -> its packages inside crmql (``crmql.connectors.<x>``, ``crmql.sandbox.<x>``), from
    the registry: the package under ``crmql.connectors`` / ``crmql.sandbox`` holding its connector and
    its simulator. A third-party vendor (outside crmql) has none here."""
    out: dict[str, set[str]] = {}
    for name, spec in vendors().items():
        for ref in (spec.connector, spec.simulator):
            parts = (ref or "").partition(":")[0].split(".")
            if parts[:2] in (["crmql", "connectors"], ["crmql", "sandbox"]) and len(parts) > 2:
                out.setdefault(name, set()).add(".".join(parts[:3]))
    return out


def _vendor_crossings(graph: grimp.ImportGraph, packages: dict[str, set[str]]) -> list[tuple[str, ...]]:
    """Every import chain from one vendor's packages to another vendor's (either way round)."""
    chains: list[tuple[str, ...]] = []
    for (a, mine), (b, theirs) in itertools.permutations(packages.items(), 2):
        for importer, imported in itertools.product(sorted(mine), sorted(theirs)):
            chains += sorted(graph.find_shortest_chains(importer, imported, as_packages=True))
    return chains


@pytest.fixture(scope="module")
def graph() -> grimp.ImportGraph:
    return grimp.build_graph("crmql", include_external_packages=False, cache_dir=None)


def test_every_vendor_is_independent_of_the_others(graph: grimp.ImportGraph) -> None:
    """No vendor's connector or simulator package imports another vendor's, directly or through a
    third module (the shared kit never leads to a vendor: contract ``kits``)."""
    packages = _vendor_packages()
    assert packages["azavista"] == {"crmql.connectors.azavista", "crmql.sandbox.azavista"}, packages
    assert packages["atlas"] == {"crmql.connectors.atlas", "crmql.sandbox.atlas"}, packages
    crossings = _vendor_crossings(graph, packages)
    assert not crossings, "vendor packages import each other: " + "; ".join(" -> ".join(c) for c in crossings)


def test_the_vendor_check_catches_a_vendor_importing_another(graph: grimp.ImportGraph) -> None:
    """Probe: one import from a vendor's simulator into another's (through the core) is reported."""
    probe = grimp.build_graph("crmql", include_external_packages=False, cache_dir=None)
    probe.add_import(importer="crmql.sandbox.core.state", imported="crmql.sandbox.azavista.filter",
                     line_number=1, line_contents="import crmql.sandbox.azavista.filter")
    crossings = _vendor_crossings(probe, _vendor_packages())
    assert any(c[0].startswith("crmql.sandbox.atlas.") and c[-1] == "crmql.sandbox.azavista.filter"
               for c in crossings), crossings


# contract id -> (module of a copy of crmql, the import added to it that breaks the contract)
PROBES = {
    "kits": [("connectors/rest/_probe.py", "import crmql.connectors.atlas.connector"),
             ("sandbox/core/_probe.py", "import crmql.sandbox.azavista.spec")],
    "surfaces": [("surfaces/completion/_probe.py", "import crmql.surfaces.repl"),
                 ("surfaces/magic/_probe.py", "import crmql.surfaces.cli"),
                 ("surfaces/repl/_probe.py", "import crmql.surfaces.magic")],
    "cli-magic": [("surfaces/cli.py", "import crmql.surfaces.magic")],
}


@pytest.mark.parametrize("contract", sorted(PROBES))
def test_a_violation_breaks_the_contract(contract: str, tmp_path: Path) -> None:
    """Probe: in a copy of crmql, each added import breaks its contract (so the contract is not vacuous)."""
    shutil.copytree(ROOT / "crmql", tmp_path / "crmql", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(CONTRACTS_FILE, tmp_path / ".importlinter")
    assert _lint(contract, tmp_path).returncode == 0, "the copy keeps the contract before the probe"
    for module, line in PROBES[contract]:
        path = tmp_path / "crmql" / module
        path.write_text((path.read_text(encoding="utf-8") if path.exists() else "") + f"\n{line}\n", encoding="utf-8")
    done = _lint(contract, tmp_path)
    assert done.returncode != 0 and "BROKEN" in done.stdout, done.stdout + done.stderr
    for module, line in PROBES[contract]:
        imported = line.split()[-1]
        assert imported in done.stdout, f"{imported} not reported:\n{done.stdout}"
