"""The contract kit itself: every vendor crmql registers has a test spec with every part, and the
specs are well-formed (their golden files exist, their names are registered vendors and sandbox
connections)."""

from __future__ import annotations

import pytest

from crmql.api.config import sandbox_config
from crmql.connectors.registry import CONNECTORS

from contract.kit import VendorTestSpec, vendor_specs

PARTS = ("golden", "differential", "cli", "faults")


def test_every_registered_vendor_has_a_spec_with_every_part() -> None:
    specs = {s.name: s for s in vendor_specs()}
    assert set(CONNECTORS) <= set(specs), f"no tests/vendors/<vendor>/spec.py for {sorted(set(CONNECTORS) - set(specs))}"
    for spec in specs.values():
        missing = [p for p in PARTS if getattr(spec, p) is None]
        assert not missing, f"{spec.name}'s spec lacks {missing}"


@pytest.mark.parametrize("spec", [pytest.param(s, id=s.name) for s in vendor_specs()])
def test_a_spec_names_a_vendor_and_its_sandbox_connection(spec: VendorTestSpec) -> None:
    assert spec.name in CONNECTORS
    connections = sandbox_config("http://127.0.0.1:1").connections
    assert connections[spec.connection].vendor == spec.name
    assert spec.golden is not None and spec.golden.path.is_file()
    assert spec.golden.path.parent.parent.name == spec.name  # tests/vendors/<vendor>/golden/


def test_no_test_module_imports_a_conftest() -> None:
    """``import conftest`` finds whichever conftest is first on ``sys.path`` (``tests/sandbox/``'s
    when it is collected in the same run): shared helpers live in uniquely named modules."""
    import ast
    from pathlib import Path

    tests = Path(__file__).resolve().parents[1]
    offenders = []
    for path in sorted(tests.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = ([a.name for a in node.names] if isinstance(node, ast.Import) else
                     [node.module or ""] if isinstance(node, ast.ImportFrom) and not node.level else [])
            offenders += [f"{path.relative_to(tests)}:{node.lineno}" for n in names if n.split(".")[0] == "conftest"]
    assert not offenders, f"import helpers from a uniquely named module, not a conftest: {offenders}"
