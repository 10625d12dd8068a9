"""End-to-end CLI contract, for every vendor whose spec has a ``cli`` part: ``crmql`` run as a
subprocess (``python -m crmql``) with a TOML config for the sandbox served on loopback.

* a typical query prints exactly the expected rows (``--format csv``);
* an export (``--output <file>.csv``) writes the expected rows and prints nothing;
* a statement that fails exits with its code and a clear message: no traceback, nothing on stdout.

No run may print a sandbox secret or an access token the sandbox issued.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from crmql.sandbox import CREDENTIALS, SandboxServer

from cli_support import Run, Tokens, ok, run_crmql
from contract.kit import VendorTestSpec, with_part

SPECS = [pytest.param(s, id=s.name) for s in with_part("cli")]
SECRETS = [v for creds in CREDENTIALS.values() for k, v in creds.items() if k in ("client_secret", "password")]


@pytest.fixture(scope="module")
def tokens(sandbox_server: SandboxServer) -> Tokens:
    return Tokens(sandbox_server)


@pytest.fixture
def crmql(sandbox: SandboxServer, cli_env: dict[str, str], tokens: Tokens, tmp_path: Path,
          write_config: Callable[..., Path]) -> Iterator[Callable[..., Run]]:
    """``crmql(*args)`` runs ``python -m crmql --config <sandbox config> *args``; every run is
    checked for leaked secrets and tracebacks after the test."""
    config = write_config(tmp_path / "crmql.toml", sandbox.url)
    runs: list[Run] = []

    def run(*args: str | Path) -> Run:
        result = run_crmql(["--config", str(config), *map(str, args)], env=cli_env, cwd=tmp_path, timeout=120)
        runs.append(result)
        return result

    yield run
    assert runs
    for r in runs:
        for secret in [*SECRETS, *tokens.issued]:
            assert secret not in r.stdout and secret not in r.stderr, f"a secret leaked:\n{r}"
        assert "Traceback" not in r.stderr, str(r)


@pytest.mark.parametrize("spec", SPECS)
def test_a_typical_query(crmql: Callable[..., Run], spec: VendorTestSpec) -> None:
    run = ok(crmql("-e", spec.cli.query, "--format", "csv"))
    assert list(csv.DictReader(io.StringIO(run.stdout))) == spec.cli.expected_rows()


@pytest.mark.parametrize("spec", SPECS)
def test_an_export(crmql: Callable[..., Run], spec: VendorTestSpec, tmp_path: Path) -> None:
    target = tmp_path / "out" / "export.csv"
    run = ok(crmql("-e", spec.cli.export_query, "--output", target))
    assert run.stdout.strip() == ""
    rows = list(csv.DictReader(io.StringIO(target.read_text(encoding="utf-8"))))
    ids = [r["id"] for r in rows]
    assert len(ids) == len(set(ids)) and set(ids) == spec.cli.expected_export() and ids


@pytest.mark.parametrize("spec", SPECS)
def test_an_error_message(crmql: Callable[..., Run], spec: VendorTestSpec) -> None:
    run = crmql("-e", spec.cli.bad_query)
    assert run.returncode == spec.cli.bad_exit, str(run)
    assert spec.cli.bad_message in run.stderr and run.stdout == "", str(run)
