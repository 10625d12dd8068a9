"""Running the ``crmql`` command as a subprocess, shared by ``tests/test_e2e_cli.py`` and
``tests/test_atlas_e2e.py`` (each keeps its own ``crmql`` fixture and leak checks)."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path


@dataclass
class Run:
    args: list[str]
    returncode: int
    stdout: str
    stderr: str
    prints_credentials: bool = False

    def __str__(self) -> str:
        return f"crmql {' '.join(self.args)} -> {self.returncode}\n--- stdout\n{self.stdout[-3000:]}\n--- stderr\n{self.stderr[-3000:]}"


def run_crmql(argv: list[str], *, env: dict[str, str], cwd: Path, timeout: float, stdin: str | None = None,
              command: Sequence[str] = (sys.executable, "-m", "crmql"), prints_credentials: bool = False) -> Run:
    """``crmql <argv>`` (by default ``python -m crmql``), its exit code and output."""
    done = subprocess.run([*command, *argv], capture_output=True, text=True, env=env, cwd=cwd,
                          input=stdin, timeout=timeout)
    return Run(argv, done.returncode, done.stdout, done.stderr, prints_credentials)


def ok(run: Run) -> Run:
    assert run.returncode == 0, str(run)
    return run


def parallel(*calls: Callable[[], Run]) -> list[Run]:
    """Run independent crmql invocations a few at a time."""
    with ThreadPoolExecutor(max_workers=3) as pool:
        return list(pool.map(lambda f: f(), calls))
