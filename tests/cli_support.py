"""Running the ``crmql`` command as a subprocess, shared by the CLI contract
(``tests/contract/test_contract_cli.py``) and the vendors' end-to-end modules
(``tests/vendors/<vendor>/test_<vendor>_e2e.py``, each with its own ``crmql`` fixture and leak
checks), and :class:`Tokens`, which records every access token the sandbox issues so a test can
look for them in the output."""

from __future__ import annotations

import subprocess
import sys
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any


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


class Tokens:
    """Every access token the served sandbox issues (any vendor), so the tests can look for them in
    the output."""

    def __init__(self, server: Any) -> None:
        self.issued: list[str] = []
        self._lock = threading.Lock()
        store = server.state.tokens
        original = store.issue_access

        def issue(*args, **kwargs):  # noqa: ANN002, ANN003, ANN202
            token = original(*args, **kwargs)
            with self._lock:
                self.issued.append(token)
            return token

        store.issue_access = issue  # type: ignore[method-assign]
