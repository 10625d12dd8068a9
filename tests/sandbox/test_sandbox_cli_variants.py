"""``crmql sandbox variants`` and ``crmql sandbox serve --variant KEY=VALUE`` (issue 10 point 5), run
as the real command: the listing, a served reading observed over HTTP, bad variants (exit 2, one
message with a did-you-mean, never a traceback), and ``$CRMQL_SANDBOX_VARIANTS`` for the in-process
sandbox."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from crmql.sandbox import ALL_VARIANTS, CREDENTIALS, all_variants, records

AZ = CREDENTIALS["azavista"]


def _env(tmp_path: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CRMQL_")}
    return {**env, "XDG_CONFIG_HOME": str(tmp_path), "HOME": str(tmp_path), **extra}


def _crmql(argv: list[str], tmp_path: Path, **extra: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "crmql", *argv], capture_output=True, text=True,
                          env=_env(tmp_path, **extra), cwd=tmp_path, timeout=120)


@pytest.fixture
def serve(tmp_path: Path) -> Iterator:
    """Start ``crmql sandbox serve --port 0 ARGS...``; yield its URL (read from what it says)."""
    procs: list[subprocess.Popen[str]] = []

    def start(*args: str) -> str:
        proc = subprocess.Popen([sys.executable, "-m", "crmql", "sandbox", "serve", "--port", "0", *args],
                                stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True,
                                env=_env(tmp_path), cwd=tmp_path)
        procs.append(proc)
        assert proc.stderr is not None
        first = proc.stderr.readline()  # blocks until it says it serves (or it exits: EOF)
        found = re.search(r" on (http://127\.0\.0\.1:\d+)", first)
        assert found, first + proc.stderr.read()
        chosen = [arg for arg in args if "=" in arg]
        assert first.rstrip().endswith(f"{' under ' + ' '.join(chosen) if chosen else ''} (Ctrl-C stops)"), first
        return found.group(1)

    yield start
    for proc in procs:
        proc.terminate()
        proc.wait(timeout=30)
        if proc.stderr is not None:
            proc.stderr.close()


def _like_count(url: str, pattern: str) -> int:
    with httpx.Client(base_url=f"{url}/azavista", timeout=30) as http:
        token = http.post("/3.0/oauth/token", data={"grant_type": "client_credentials", **{
            k: AZ[k] for k in ("client_id", "client_secret")}}).json()["access_token"]
        answer = http.post("/3.0/event/search", headers={"Authorization": f"Bearer {token}"},
                           json={"event_filter": {"and": [{"name": {"like": pattern}}]}, "limit": 1})
        assert answer.status_code == 200, answer.text
        return int(answer.json()["object_count"])


def test_variants_lists_every_variant_with_its_default_and_source(tmp_path: Path) -> None:
    table = _crmql(["sandbox", "variants"], tmp_path)
    assert table.returncode == 0, table.stderr
    header, *rows = table.stdout.splitlines()
    assert header.split() == ["vendor", "key", "values", "default", "source", "meaning"]
    assert len(rows) == len(ALL_VARIANTS)
    for row, variant in zip(rows, all_variants().values()):
        assert row.split()[:2] == [variant.key.partition(".")[0], variant.key]
        assert " | ".join(variant.values) in row and variant.source in row and variant.meaning in row
    listed = json.loads(_crmql(["sandbox", "variants", "--format", "json"], tmp_path).stdout)
    assert {row["key"]: (tuple(row["values"]), row["default"]) for row in listed} == {
        key: (values, values[0]) for key, values in ALL_VARIANTS.items()}
    assert all(row["source"] and row["meaning"] for row in listed)


def test_serve_variant_changes_what_the_simulator_answers(serve) -> None:
    names = [event["name"] for event in records("azavista", "events")]
    sensitive = sum("workshop" in name for name in names)
    insensitive = sum("workshop" in name.lower() for name in names)
    assert sensitive < insensitive  # the data tells the two readings apart
    assert _like_count(serve(), "workshop") == insensitive  # the default reading
    url = serve("--variant", "azavista.like_case=sensitive", "--variant", "azavista.range=inclusive")
    assert _like_count(url, "workshop") == sensitive


@pytest.mark.parametrize("argv, message", [
    (["--variant", "azavista.like_cas=sensitive"], "unknown sandbox variant 'azavista.like_cas' (did you mean azavista.like_case"),
    (["--variant", "atlas.eq_case=insensitve"], "invalid value 'insensitve' for sandbox variant 'atlas.eq_case' "
                                                "(allowed: sensitive, insensitive; did you mean insensitive"),
    (["--variant", "azavista.range"], "sandbox variant 'azavista.range' must be KEY=VALUE, e.g. azavista.range=inclusive"),
    (["--variant", "azavista.range=inclusive", "--variant", "azavista.range=exclusive"],
     "sandbox variant 'azavista.range' is given twice: inclusive and exclusive"),
])
def test_a_bad_variant_is_one_message_and_exit_2(tmp_path: Path, argv: list[str], message: str) -> None:
    run = _crmql(["sandbox", "serve", "--port", "0", *argv], tmp_path)
    assert run.returncode == 2
    assert run.stderr.startswith(f"crmql: error: {message}"), run.stderr
    assert run.stderr.count("hint:") == 1 and run.stderr.endswith(
        "\n  hint: crmql sandbox variants lists every variant, its values and its default\n"), run.stderr
    assert "serving" not in run.stderr and "Traceback" not in run.stderr


def test_the_in_process_sandbox_reads_variants_from_the_environment(tmp_path: Path) -> None:
    """The answer is the same under every reading (crmql re-checks locally); what the simulator
    sent back is not."""
    query = ["-e", "SELECT COUNT(*) AS n FROM azavista.events WHERE name LIKE '%workshop%'", "--stats", "--format", "csv"]
    default = _crmql(query, tmp_path)
    sensitive = _crmql(query, tmp_path, CRMQL_SANDBOX_VARIANTS="azavista.like_case=sensitive")
    assert default.returncode == sensitive.returncode == 0, default.stderr + sensitive.stderr
    assert default.stdout == sensitive.stdout
    fetched = [int(re.search(r"rows_fetched=(\d+)", run.stderr).group(1)) for run in (default, sensitive)]
    assert fetched[1] < fetched[0]
    bad = _crmql(query, tmp_path, CRMQL_SANDBOX_VARIANTS="azavista.like_case=upper")
    assert bad.returncode == 2, bad.stderr
    assert "invalid value 'upper' for sandbox variant 'azavista.like_case'" in bad.stderr
    assert "Traceback" not in bad.stderr
    twice = _crmql(query, tmp_path, CRMQL_SANDBOX_VARIANTS="azavista.like_case=sensitive,azavista.like_case=insensitive")
    assert twice.returncode == 2, twice.stderr
    assert "sandbox variant 'azavista.like_case' is given twice: sensitive and insensitive" in twice.stderr
    assert "hint: crmql sandbox variants lists every variant, its values and its default" in twice.stderr
