"""End-to-end CLI contract, for every vendor whose spec has a ``cli`` part: ``crmql`` with a TOML
config for the sandbox served on loopback, the failing statement as a subprocess (``python -m
crmql``: the exit code and stderr of a real process), the query and the export through the
command's ``main`` in the test's process (the same argv, environment, streams and exit code,
without a Python start-up each).

* a typical query prints exactly the expected rows (``--format csv``);
* an export (``--output <file>.csv``) writes the expected rows and prints nothing;
* a statement that fails exits with its code and a clear message: no traceback, nothing on stdout.

No run may print a sandbox secret or an access token the sandbox issued. The runs are made once
per module, and each test reads its own.
"""

from __future__ import annotations

import csv
import io
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from crmql.sandbox import CREDENTIALS, SandboxServer

from cli_support import Run, Tokens, cli_environment, ok, reset_sandbox, run_crmql, run_crmql_in_process, write_config_file
from contract.kit import VendorTestSpec, with_part

SPECS = [pytest.param(s, id=s.name) for s in with_part("cli")]
SECRETS = [v for creds in CREDENTIALS.values() for k, v in creds.items() if k in ("client_secret", "password", "secret")]


@pytest.fixture(scope="module")
def runs(sandbox_server: SandboxServer, tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict[str, Run]]:
    """vendor -> {"query", "export", "error"}: the runs, each checked for leaks and tracebacks."""
    reset_sandbox(sandbox_server)
    tokens = Tokens(sandbox_server)
    where = tmp_path_factory.mktemp("cli")
    env = cli_environment(where)
    config = write_config_file(where / "crmql.toml", sandbox_server.url)

    def crmql(*args: str | Path, process: bool = False) -> Run:
        argv = ["--config", str(config), *map(str, args)]
        if process:
            return run_crmql(argv, env=env, cwd=where, timeout=120)
        return run_crmql_in_process(argv, env=env, cwd=where)

    specs: list[VendorTestSpec] = [param.values[0] for param in SPECS]
    out: dict[str, dict[str, Run]] = {}
    with ThreadPoolExecutor(max_workers=2) as pool:  # the subprocesses start while this process runs the rest
        errors = {spec.name: pool.submit(crmql, "-e", spec.cli.bad_query, process=True) for spec in specs}
        for spec in specs:
            out[spec.name] = {"query": crmql("-e", spec.cli.query, "--format", "csv"),
                              "export": crmql("-e", spec.cli.export_query, "--output", where / spec.name / "export.csv")}
        for name, error in errors.items():
            out[name]["error"] = error.result()
    for by_kind in out.values():
        for r in by_kind.values():
            for secret in [*SECRETS, *tokens.issued]:
                assert secret not in r.stdout and secret not in r.stderr, f"a secret leaked:\n{r}"
            assert "Traceback" not in r.stderr, str(r)
    assert tokens.issued  # the runs did authenticate
    return out


@pytest.mark.parametrize("spec", SPECS)
def test_a_typical_query(runs: dict[str, dict[str, Run]], spec: VendorTestSpec) -> None:
    run = ok(runs[spec.name]["query"])
    assert list(csv.DictReader(io.StringIO(run.stdout))) == spec.cli.expected_rows()


@pytest.mark.parametrize("spec", SPECS)
def test_an_export(runs: dict[str, dict[str, Run]], spec: VendorTestSpec) -> None:
    run = ok(runs[spec.name]["export"])
    assert run.stdout.strip() == ""
    target = Path(run.args[run.args.index("--output") + 1])
    rows = list(csv.DictReader(io.StringIO(target.read_text(encoding="utf-8"))))
    ids = [r["id"] for r in rows]
    assert ids and len(ids) == len(set(ids)) and set(ids) == spec.cli.expected_export()


@pytest.mark.parametrize("spec", SPECS)
def test_an_error_message(runs: dict[str, dict[str, Run]], spec: VendorTestSpec) -> None:
    run = runs[spec.name]["error"]
    assert run.returncode == spec.cli.bad_exit, str(run)
    assert spec.cli.bad_message in run.stderr and run.stdout == "", str(run)
