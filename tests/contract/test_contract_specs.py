"""The contract kit itself: every vendor crmql registers has a test spec with every part (or the part
listed as ``todo``), the specs are well-formed (their golden files exist, their names are registered
vendors and sandbox connections), a new vendor's differential part can be its tables alone, and the
hard-spot hooks cannot be stubbed out."""

from __future__ import annotations

import pytest

from crmql.api.config import sandbox_config
from crmql.connectors.registry import CONNECTORS
from crmql.sandbox import ALL_VARIANTS, SandboxServer

from contract.kit import (DifferentialSpec, VendorTestSpec, generic_variants, hard_spot_hits, run_hard_spots,
                          session_for, vendor_specs)

PARTS = ("golden", "differential", "cli", "faults")


def test_every_registered_vendor_has_a_spec_with_every_part() -> None:
    specs = {s.name: s for s in vendor_specs()}
    assert set(CONNECTORS) <= set(specs), f"no tests/vendors/<vendor>/spec.py for {sorted(set(CONNECTORS) - set(specs))}"
    for spec in specs.values():
        assert set(spec.todo) <= set(PARTS), f"{spec.name}: todo names no part: {spec.todo}"
        missing = [p for p in PARTS if getattr(spec, p) is None and p not in spec.todo]
        assert not missing, f"{spec.name}'s spec lacks {missing} (write them, or list them in todo=)"
        done = [p for p in spec.todo if getattr(spec, p) is not None]
        assert not done, f"{spec.name}'s spec has {done} but still lists them in todo="


@pytest.mark.parametrize("spec", [pytest.param(s, id=s.name) for s in vendor_specs()])
def test_a_spec_names_a_vendor_and_its_sandbox_connection(spec: VendorTestSpec) -> None:
    assert spec.name in CONNECTORS
    connections = sandbox_config("http://127.0.0.1:1").connections
    assert connections[spec.connection].vendor == spec.name
    if spec.golden is not None:
        assert spec.golden.path.is_file()
        assert spec.golden.path.parent.parent.name == spec.name  # tests/vendors/<vendor>/golden/


def test_a_new_vendors_differential_part_is_its_tables() -> None:
    """``generic_tables`` alone: the kit's trees run under every reading of the vendor's simulator,
    on a session over the sandbox config; the vendor's own runs and hard spots come whole or not at all."""
    spec = VendorTestSpec(name="azavista", connection="azavista",
                          differential=DifferentialSpec(generic_tables=("organizations",)),
                          todo=("golden", "cli", "faults"))
    readings = generic_variants(spec)
    assert readings[0] == {} and len(readings) == 1 + sum(len(v) - 1 for k, v in ALL_VARIANTS.items()
                                                          if k.startswith("azavista."))
    with session_for(spec, "http://127.0.0.1:1", (("max_attempts", 1),)) as session:
        assert session.config.connections["azavista"].settings["max_attempts"] == 1
    with pytest.raises(ValueError, match="configs, tables without oracle, strategy, check"):
        DifferentialSpec(configs=[object()], tables=("events",))
    with pytest.raises(ValueError, match="check_hard_spots without hard_spot_variants, check_hard_spots_hit_rows"):
        DifferentialSpec(generic_tables=("events",), check_hard_spots=lambda server, session: None)
    with pytest.raises(ValueError, match="no tables"):
        DifferentialSpec()


def test_stubbed_hard_spots_fail_the_kit(sandbox: SandboxServer) -> None:
    """Hooks that check nothing (no query reaches the simulator, no row counted) are not a pass."""
    stub = DifferentialSpec(generic_tables=("events",), hard_spot_variants=[{}],
                            check_hard_spots=lambda server, session: None,
                            check_hard_spots_hit_rows=lambda server: None)  # type: ignore[arg-type,return-value]
    spec = VendorTestSpec(name="azavista", connection="azavista", differential=stub)
    with session_for(spec, sandbox.url) as session, pytest.raises(AssertionError, match="sent no query"):
        run_hard_spots(sandbox, stub, session)
    with pytest.raises(AssertionError, match="must return"):
        hard_spot_hits(sandbox, stub)
    zero = DifferentialSpec(generic_tables=("events",), hard_spot_variants=[{}], check_hard_spots=stub.check_hard_spots,
                            check_hard_spots_hit_rows=lambda server: {"name = 'nobody'": 0})
    with pytest.raises(AssertionError, match="no regression keeps a row"):
        hard_spot_hits(sandbox, zero)


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
