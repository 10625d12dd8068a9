"""Running the ``crmql`` command as a subprocess, shared by the CLI contract
(``tests/contract/test_contract_cli.py``) and the vendors' end-to-end modules
(``tests/vendors/<vendor>/test_<vendor>_e2e.py``, each with its own ``crmql`` fixture and leak
checks), and :class:`Tokens`, which records every access token the sandbox issues so a test can
look for them in the output; and the helpers the CLI tests and ``tests/conftest.py`` share (a config
for the served sandbox, the subprocess environment, resetting the sandbox). They live here, not in
a conftest: ``import conftest`` finds whichever conftest is first on ``sys.path``."""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from crmql.api.config import sandbox_config

REPO = Path(__file__).resolve().parent.parent


@dataclass
class Run:
    args: list[str]
    returncode: int
    stdout: str
    stderr: str
    prints_credentials: bool = False

    def __str__(self) -> str:
        return f"crmql {' '.join(self.args)} -> {self.returncode}\n--- stdout\n{self.stdout[-3000:]}\n--- stderr\n{self.stderr[-3000:]}"


def reset_sandbox(server: SandboxServer) -> None:
    """Default behaviour, an empty request log and fault numbering restarted at 1."""
    s = server.settings
    s.faults = ""
    s.latency_ms = 0
    s.token_ttl_s = 3599
    s.retry_after = "1"
    s.variants = {}
    s.seed = 42
    server.reset_log()


def config_toml(url: str, **overrides: Any) -> str:
    """The TOML text of a config whose connections point at the sandbox served at ``url``."""
    lines = []
    for name, conn in sandbox_config(url).connections.items():
        settings = {**conn.settings, **(overrides if name == "azavista" else {})}
        lines.append(f"[connections.{name}]")
        lines.append(f"vendor = {json.dumps(conn.vendor)}")
        lines.extend(f"{key} = {json.dumps(value)}" for key, value in settings.items())
        lines.append("")
    return "\n".join(lines)


def write_config_file(path: Path, url: str, **overrides: Any) -> Path:
    """Write :func:`config_toml` to ``path`` (a file, or a directory to hold ``crmql.toml``)."""
    target = path / "crmql.toml" if path.is_dir() else path
    target.write_text(config_toml(url, **overrides), encoding="utf-8")
    return target


def cli_environment(where: Path) -> dict[str, str]:
    """Environment for ``crmql`` subprocesses, with an empty home under ``where``: no user config,
    no inherited CRMQL_* settings."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("CRMQL_")}
    home = where / "home"
    home.mkdir(exist_ok=True)
    env.update(HOME=str(home), XDG_CONFIG_HOME=str(home / ".config"), PYTHONPATH=str(REPO),
               PYTHONDONTWRITEBYTECODE="1", COLUMNS="200")
    env.pop("PYTHONSTARTUP", None)
    return env



def run_crmql(argv: list[str], *, env: dict[str, str], cwd: Path, timeout: float, stdin: str | None = None,
              command: Sequence[str] = (sys.executable, "-m", "crmql"), prints_credentials: bool = False) -> Run:
    """``crmql <argv>`` (by default ``python -m crmql``), its exit code and output."""
    done = subprocess.run([*command, *argv], capture_output=True, text=True, env=env, cwd=cwd,
                          input=stdin, timeout=timeout)
    return Run(argv, done.returncode, done.stdout, done.stderr, prints_credentials)


_IN_PROCESS = threading.Lock()


def run_crmql_in_process(argv: list[str], *, env: dict[str, str], cwd: Path, stdin: str | None = None,
                         prints_credentials: bool = False) -> Run:
    """``crmql <argv>`` as :func:`run_crmql` runs it, but through ``crmql.surfaces.cli.main`` in this
    process: the same environment (``os.environ`` is ``env`` for the run), working directory, stdin
    (a pipe: not a terminal), captured stdout and stderr, and exit code, without Python's start-up
    and crmql's imports (about 2 s of CPU a run). For runs where the process is not the point; the
    console script, signals, ``--debug`` tracebacks and the built-in sandbox keep :func:`run_crmql`.
    Runs are serialized (the streams and the environment are the process's); an exception that
    escapes ``main`` fails the test (a subprocess would have printed a traceback)."""
    import io
    import logging

    from crmql.surfaces.cli import main

    with _IN_PROCESS:
        logger = logging.getLogger("crmql")
        handlers, level = logger.handlers[:], logger.level
        saved_env, saved_cwd = dict(os.environ), os.getcwd()
        out, err = (io.TextIOWrapper(io.BytesIO(), encoding="utf-8", write_through=True) for _ in range(2))
        try:
            os.environ.clear()
            os.environ.update(env)
            os.chdir(cwd)
            with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err), \
                    _stdin(io.TextIOWrapper(io.BytesIO((stdin or "").encode("utf-8")), encoding="utf-8")):
                try:
                    code = main(argv)
                except SystemExit as e:
                    code = 0 if e.code is None else e.code if isinstance(e.code, int) else 1
        finally:
            os.chdir(saved_cwd)
            os.environ.clear()
            os.environ.update(saved_env)
            logger.handlers[:], logger.level = handlers, level
    return Run(argv, code, _text(out), _text(err), prints_credentials)


def _text(stream: Any) -> str:
    """What a subprocess's reader in text mode gets: the bytes decoded, newlines universal."""
    stream.flush()
    return stream.buffer.getvalue().decode("utf-8").replace("\r\n", "\n").replace("\r", "\n")


@contextlib.contextmanager
def _stdin(stream: Any) -> Any:
    saved = sys.stdin
    sys.stdin = stream
    try:
        yield stream
    finally:
        sys.stdin = saved


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
