"""crmql's layering, as written in ``.importlinter``, holds; and no module is over 400 lines.

Each import-linter contract is its own test (``lint-imports --contract <id>`` in a subprocess,
the way a developer runs it), so a failure names the broken contract and shows import-linter's
report: which module imports which, at which line. Lazy imports inside functions count.
"""
from __future__ import annotations

import configparser
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

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
    assert {"layers", "connectors", "http", "sandbox", "bottom", "acyclic", "vendor-neutral"} <= set(CONTRACTS)
    layers = configparser.ConfigParser()
    layers.read(CONTRACTS_FILE, encoding="utf-8")
    order = [line.strip() for line in layers["importlinter:contract:layers"]["layers"].split("\n") if line.strip()]
    assert order[:4] == ["surfaces", "api", "export", "exec"]
    assert order.index("plan") < order.index("language | http | vendors")
    packages = {p.name for p in (ROOT / "crmql").iterdir() if p.is_dir() and (p / "__init__.py").exists()}
    packages |= {p.stem for p in (ROOT / "crmql").glob("*.py") if p.stem not in ("__init__", "__main__")}
    named = {part.strip() for line in order for part in line.split("|")}
    assert packages <= named, f"packages and modules under crmql/ that no layer names: {sorted(packages - named)}"


@pytest.mark.parametrize("contract", sorted(CONTRACTS))
def test_contract_is_kept(contract: str) -> None:
    """``lint-imports --contract <id>`` passes; on failure the message names the contract."""
    if not LINT_IMPORTS.exists():
        pytest.fail("import-linter is not installed: pip install -c constraints.txt -e '.[dev]'")
    done = subprocess.run(
        [str(LINT_IMPORTS), "--no-cache", "--no-logo", "--contract", contract, str(CONTRACTS_FILE)],
        cwd=ROOT, capture_output=True, text=True, timeout=300,
    )
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
