"""The vendor registry (issue 10 point 1): built-ins found through the ``crmql.vendors`` entry points,
a third-party vendor added by its own distribution only (SHOW TABLES, queries, sandbox config and
variants see it), and broken entry points named in one warning while every other vendor works."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from importlib.metadata import EntryPoint, entry_points
from pathlib import Path

import pytest

from crmql import vendors as registry
from crmql.connectors.registry import CONNECTORS, create_connector
from crmql.api.config import sandbox_config
from crmql.api.session import Session
from crmql.errors import ConfigError, QueryError
from crmql.sandbox import CREDENTIALS, records, simulators
from crmql.sandbox.azavista.spec import SIMULATOR as AZAVISTA_SIMULATOR
from crmql.vendors import VendorSpec, registered

ACME_VENDOR = '''
from crmql.vendors import VendorSpec, registered

VENDOR = VendorSpec(name="acme", display_name="Acme CRM", connector="acme_crmql.connector:AcmeConnector",
                    simulator="acme_crmql.sandbox:SIMULATOR", config_keys=("client_id", "client_secret"),
                    docs=("tests/sandbox/test_vendor_registry.py",))
NOT_A_SPEC = {"name": "notspec"}
IMPOSTOR = VendorSpec(name="azavista", display_name="Impostor", connector="acme_crmql.connector:AcmeConnector")
NO_CONNECTOR = VendorSpec(name="noconn", display_name="No connector", connector="acme_crmql.nowhere:Connector")
NO_SIMULATOR = VendorSpec(name="nosim", display_name="No simulator", connector="acme_crmql.connector:AcmeConnector",
                          simulator="acme_crmql.nowhere:SIMULATOR")
'''
ACME_CONNECTOR = '''
from crmql.connectors.registry import CONNECTORS


class AcmeConnector(CONNECTORS["azavista"]):
    """A third party's connector: Azavista's API shape under another vendor name."""

    vendor = "acme"
'''
ACME_SANDBOX = f'''
from crmql.sandbox import SimulatorSpec, Variant

SIMULATOR = SimulatorSpec(
    name="acme", routes="crmql.sandbox.azavista.simulator:build_routes", data="acme_crmql.data:GENERATORS",
    credentials={dict(AZAVISTA_SIMULATOR.credentials)!r}, token_paths=frozenset({{"/3.0/oauth/token"}}),
    variants=(Variant("acme.flavour", ("plain", "fancy"), "a switch only the test vendor has", "tests"),),
)
'''
ACME_DATA = '''
from crmql.sandbox.azavista.data import GENERATORS as _AZAVISTA

GENERATORS = {("acme", table): generate for (_, table), generate in _AZAVISTA.items()}
'''


def _distribution(root: Path, name: str, entry_points_txt: str, modules: dict[str, str]) -> Path:
    """A distribution on disk (a ``*.dist-info`` with ``entry_points.txt``), importable from ``root``."""
    info = root / f"{name}-0.1.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: 0.1\n")
    (info / "entry_points.txt").write_text(textwrap.dedent(entry_points_txt))
    for path, text in modules.items():
        (root / path).parent.mkdir(parents=True, exist_ok=True)
        (root / path).write_text(text)
    return root


@pytest.fixture(scope="module")
def acme(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A third-party distribution registering vendor ``acme`` (nothing in crmql names it)."""
    return _distribution(tmp_path_factory.mktemp("acme"), "acme_crmql", "[crmql.vendors]\nacme = acme_crmql.vendor:VENDOR\n", {
        "acme_crmql/__init__.py": "", "acme_crmql/vendor.py": ACME_VENDOR, "acme_crmql/connector.py": ACME_CONNECTOR,
        "acme_crmql/sandbox.py": ACME_SANDBOX, "acme_crmql/data.py": ACME_DATA})


@pytest.fixture(scope="module")
def broken(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A distribution whose entry points are broken three ways, and vendors whose connector or
    simulator is missing."""
    return _distribution(tmp_path_factory.mktemp("broken"), "broken_crmql", """\
        [crmql.vendors]
        missing = broken_crmql_nowhere.vendor:VENDOR
        notspec = acme_crmql.vendor:NOT_A_SPEC
        azavista = acme_crmql.vendor:IMPOSTOR
        noconn = acme_crmql.vendor:NO_CONNECTOR
        nosim = acme_crmql.vendor:NO_SIMULATOR
        """, {})


def _crmql(argv: list[str], tmp_path: Path, *paths: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CRMQL_")}
    env.update(PYTHONPATH=os.pathsep.join(str(p) for p in paths), XDG_CONFIG_HOME=str(tmp_path), HOME=str(tmp_path))
    return subprocess.run([sys.executable, "-m", "crmql", *argv], capture_output=True, text=True, env=env,
                          cwd=tmp_path, timeout=120)


def test_the_built_in_vendors_come_from_the_entry_points() -> None:
    declared = {ep.name: ep.value for ep in entry_points(group=registry.ENTRY_POINT_GROUP)}
    assert declared["azavista"] == "crmql.connectors.azavista.vendor:VENDOR"
    assert declared["atlas"] == "crmql.connectors.atlas.vendor:VENDOR"
    found = registry.vendors()
    assert list(found)[:2] == ["azavista", "atlas"]  # by rank: azavista's sandbox connection is the default
    for name in ("azavista", "atlas"):
        spec = found[name]
        assert CONNECTORS[name].vendor == name == spec.name
        assert simulators()[name].name == name
        assert set(spec.config_keys) <= set(CREDENTIALS[name])


def test_a_broken_entry_point_is_skipped_with_a_warning_naming_it(monkeypatch: pytest.MonkeyPatch,
                                                                   caplog: pytest.LogCaptureFixture) -> None:
    installed = list(registry.vendors())  # the built-ins and any vendor a plugin registers
    good = VendorSpec(name="zeta", display_name="Zeta", connector="collections:OrderedDict")
    eps = [*entry_points(group=registry.ENTRY_POINT_GROUP),
           EntryPoint("ghost", "no_such_module_anywhere:VENDOR", registry.ENTRY_POINT_GROUP),
           EntryPoint("dict", "json:decoder", registry.ENTRY_POINT_GROUP),
           EntryPoint("alias", "crmql.connectors.azavista.vendor:VENDOR", registry.ENTRY_POINT_GROUP),
           EntryPoint("azavista", "crmql.connectors.azavista.vendor:VENDOR", registry.ENTRY_POINT_GROUP)]
    monkeypatch.setattr(registry, "_entry_points", lambda: eps)
    monkeypatch.setattr("json.zeta_vendor", good, raising=False)
    eps.append(EntryPoint("zeta", "json:zeta_vendor", registry.ENTRY_POINT_GROUP))
    registry.reload()
    try:
        found = registry.vendors()
        assert list(found)[:2] == ["azavista", "atlas"] and sorted(found) == sorted([*installed, "zeta"])
        problems = registry.problems()
        assert any("'ghost'" in p and "no_such_module_anywhere" in p and "cannot be loaded" in p for p in problems)
        assert any("'dict'" in p and "not a crmql.vendors.VendorSpec" in p for p in problems)
        # crmql's own spec under another entry-point name is named; the same entry point seen twice is not
        assert any("'alias'" in p and "vendor 'azavista' is already registered" in p for p in problems)
        assert not any(p.startswith("vendor entry point 'azavista'") for p in problems)
        assert sum("skipped" in r.getMessage() for r in caplog.records) == 3
        with pytest.raises(ConfigError, match="unknown vendor 'zetta'") as e:
            registry.vendor("zetta")
        assert "did you mean zeta" in str(e.value)
    finally:
        monkeypatch.undo()
        registry.reload()
    assert "zeta" not in registry.vendors()


def test_a_connector_that_cannot_be_loaded_is_a_config_error_naming_it() -> None:
    spec = VendorSpec(name="ghost", display_name="Ghost", connector="no_such_module_anywhere:Connector")
    with registered(spec):
        assert "ghost" in CONNECTORS
        with pytest.raises(ConfigError, match="vendor ghost's connector 'no_such_module_anywhere:Connector' cannot be loaded"):
            create_connector("g", "ghost", {"base_url": "http://127.0.0.1:1"})
        with pytest.raises(ConfigError, match="vendor 'ghost' is already registered"):
            with registered(spec):
                pass
    assert "ghost" not in CONNECTORS


def test_a_name_that_may_be_an_unregistered_vendor_says_how_vendors_are_registered() -> None:
    """Forgetting the entry point (or the reinstall after adding it) is pointed at, not just
    "unknown"; the connector mapping shows what it holds."""
    register = "vendors are registered through the crmql.vendors entry-point group; after adding one run pip install -e ."
    with pytest.raises(QueryError, match="unknown connection 'helpdesk'") as e:
        Session(sandbox_config("http://127.0.0.1:1")).connector("helpdesk")
    assert e.value.hint == f"connections: {', '.join(registry.vendors())} (built-in sandbox); {register}"
    with pytest.raises(ConfigError, match="unknown vendor 'helpdesk'") as e:
        create_connector("desk", "helpdesk", {})
    assert e.value.hint == f"vendors: {', '.join(sorted(registry.vendors()))}; {register}"
    with pytest.raises(ConfigError) as e:  # a did-you-mean is the better pointer
        create_connector("crm", "atlass", {})
    assert e.value.hint == "did you mean atlas?"
    assert repr(CONNECTORS) == f"<crmql connectors: {', '.join(registry.vendors())}>"


def test_a_third_party_vendor_is_queried_like_a_built_in(tmp_path: Path, acme: Path, broken: Path) -> None:
    """Registered by its distribution only: SHOW TABLES lists it, a query reaches its simulator, and
    broken entry points beside it are one warning each (the built-ins are untouched); a vendor whose
    connector cannot be imported breaks nothing until a connection uses it."""
    run = _crmql(["-e", "SHOW TABLES", "-e", "SELECT COUNT(*) AS n FROM acme.events",
                  "-e", "SELECT COUNT(*) AS n FROM azavista.events", "--format", "jsonl"], tmp_path, acme, broken)
    assert run.returncode == 0, run.stderr
    lines = [json.loads(line) for line in run.stdout.splitlines()]
    tables = {(row["connection"], row["table"], row["vendor"]) for row in lines if "table" in row}
    assert {("acme", "events", "acme"), ("acme", "contacts", "acme"), ("azavista", "events", "azavista"),
            ("atlas", "sales", "atlas")} <= tables
    counts = [row["n"] for row in lines if "n" in row]
    assert counts == [len(records("azavista", "events"))] * 2
    warnings = [line for line in run.stderr.splitlines() if "skipped" in line]
    assert len(warnings) == 4, run.stderr
    assert any("vendor nosim: its simulator is skipped" in w and "acme_crmql.nowhere:SIMULATOR" in w for w in warnings)
    assert any("'missing'" in w and "broken_crmql_nowhere" in w for w in warnings)
    assert any("'notspec'" in w and "not a crmql.vendors.VendorSpec" in w for w in warnings)
    assert any("'azavista'" in w and "already registered" in w for w in warnings)
    assert "Traceback" not in run.stderr
    config = tmp_path / "noconn.toml"
    config.write_text('[connections.crm]\nvendor = "noconn"\nbase_url = "http://127.0.0.1:9/crm"\n')
    run = _crmql(["--config", str(config), "-e", "SELECT * FROM crm.things"], tmp_path, acme, broken)
    assert run.returncode == 2, run.stderr
    assert "vendor noconn's connector 'acme_crmql.nowhere:Connector' cannot be loaded" in run.stderr
    assert "Traceback" not in run.stderr and "internal error" not in run.stderr


VENDOR_LISTING_MODULES = ["crmql/vendors.py", "crmql/connectors/registry.py", "crmql/sandbox/core/spec.py",
                          "crmql/api/config.py", "crmql/sandbox/__init__.py"]


def test_crmqls_own_doctests_pass_with_a_third_party_vendor_installed(tmp_path: Path, acme: Path) -> None:
    """A user with a plugin installed runs crmql's doctests: those that list vendors name the
    built-ins as present (in order), not as the only ones."""
    repo = Path(__file__).parents[2]
    env = {k: v for k, v in os.environ.items() if not k.startswith("CRMQL_")}
    env.update(PYTHONPATH=str(acme), HOME=str(tmp_path), XDG_CONFIG_HOME=str(tmp_path))
    run = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--doctest-modules",
                          *VENDOR_LISTING_MODULES], capture_output=True, text=True, env=env, cwd=repo, timeout=300)
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    assert " passed" in run.stdout and "failed" not in run.stdout


def test_a_third_party_vendor_has_a_sandbox_config_and_variants(tmp_path: Path, acme: Path) -> None:
    config = _crmql(["sandbox", "config", "--port", "8765"], tmp_path, acme)
    assert config.returncode == 0, config.stderr
    assert '[connections.acme]\nvendor = "acme"\nbase_url = "http://127.0.0.1:8765/acme"' in config.stdout
    assert config.stdout.index("[connections.azavista]") < config.stdout.index("[connections.acme]")
    variants = _crmql(["sandbox", "variants", "--format", "json"], tmp_path, acme)
    assert variants.returncode == 0, variants.stderr
    rows = {row["key"]: row for row in json.loads(variants.stdout)}
    assert rows["acme.flavour"] == {"vendor": "acme", "key": "acme.flavour", "values": ["plain", "fancy"],
                                    "default": "plain", "source": "tests",
                                    "meaning": "a switch only the test vendor has"}
    assert "azavista.range" in rows and "atlas.page_param" in rows


CORE_FILES = ["crmql/vendors.py", "crmql/connectors/registry.py", "crmql/api/config.py", "crmql/api/session.py",
              "crmql/sandbox/__init__.py", *sorted(str(p.relative_to(Path(__file__).parents[2]))
                                                   for p in (Path(__file__).parents[2] / "crmql/sandbox/core").glob("*.py"))]


#: crmql's own vendors, as registered (a plugin's vendor is never named by crmql's core anyway)
BUILT_IN_VENDORS = [name for name, spec in registry.vendors().items() if spec.connector.startswith("crmql.")]


@pytest.mark.parametrize("path", CORE_FILES)
def test_no_core_file_names_a_vendor_in_its_code(path: str) -> None:
    """Adding a vendor touches no core file: outside docstrings (examples), the registry's consumers
    name no vendor."""
    import ast

    tree = ast.parse((Path(__file__).parents[2] / path).read_text(encoding="utf-8"))
    docstrings = {id(node.value) for node in ast.walk(tree) if isinstance(node, ast.Expr)
                  and isinstance(node.value, ast.Constant) and isinstance(node.value.value, str)}
    named = [(node.lineno, text) for node in ast.walk(tree) if id(node) not in docstrings
             for text in ([node.value] if isinstance(node, ast.Constant) and isinstance(node.value, str) else
                          [node.id] if isinstance(node, ast.Name) else [node.attr] if isinstance(node, ast.Attribute) else [])
             if any(vendor in text.lower() for vendor in BUILT_IN_VENDORS)]
    assert not named, f"{path} names a vendor: {named}"
