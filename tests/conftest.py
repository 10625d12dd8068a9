"""Shared fixtures for the integration tests: a sandbox served on loopback, sessions on it, configs.

* ``sandbox_server`` (module scope): every simulator served over real HTTP by uvicorn in a thread.
* ``sandbox`` (per test): the same server with default behaviour restored and an empty request
  log, before and after the test (latency, faults, token TTL, Retry-After, variants).
* ``make_session(**overrides)``: a fresh :class:`crmql.Session` on the served sandbox; keyword
  arguments are extra azavista connection settings (``concurrency``, ``like_case_sensitive``,
  ``max_attempts``, ``retry_base_s`` / ``retry_cap_s`` for millisecond backoffs, ...). Every
  session made is closed after the test.
* ``write_config(path, url, **overrides)`` (a fixture returning the function): a TOML config file
  for the CLI.
* ``cli_env``: the environment for ``crmql`` subprocesses (empty HOME, no CRMQL_* variables).

The fixtures have names of their own (not ``server``), so the sandbox and HTTP test packages keep
their own fixtures.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from crmql.api.config import sandbox_config
from crmql.sandbox import SandboxServer, SandboxSettings, serve_in_thread
from crmql.api.session import Session

REPO = Path(__file__).resolve().parent.parent


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


@pytest.fixture(scope="module")
def sandbox_server() -> Iterator[SandboxServer]:
    """One served sandbox per test module."""
    with serve_in_thread(SandboxSettings()) as server:
        yield server


@pytest.fixture
def sandbox(sandbox_server: SandboxServer) -> Iterator[SandboxServer]:
    """The module's server, reset to default behaviour around the test."""
    reset_sandbox(sandbox_server)
    yield sandbox_server
    reset_sandbox(sandbox_server)


def session_for(url: str, **overrides: Any) -> Session:
    """A session whose azavista connection points at the sandbox served at ``url``."""
    config = sandbox_config(url)
    config.connections["azavista"].settings.update(overrides)
    return Session(config)


@pytest.fixture
def make_session(sandbox_server: SandboxServer) -> Iterator[Callable[..., Session]]:
    """Factory of fresh sessions on the module's server (closed after the test)."""
    made: list[Session] = []

    def make(**overrides: Any) -> Session:
        session = session_for(sandbox_server.url, **overrides)
        made.append(session)
        return session

    yield make
    for session in made:
        session.close()


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


def _write_config(path: Path, url: str, **overrides: Any) -> Path:
    target = path / "crmql.toml" if path.is_dir() else path
    target.write_text(config_toml(url, **overrides), encoding="utf-8")
    return target


@pytest.fixture
def write_config() -> Callable[..., Path]:
    """``write_config(path, url, **overrides)``: write a config TOML for the sandbox at ``url``
    to ``path`` (a file, or a directory to hold ``crmql.toml``) and return its path."""
    return _write_config


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


@pytest.fixture
def cli_env(tmp_path: Path) -> dict[str, str]:
    """Environment for ``crmql`` subprocesses: no user config, no inherited CRMQL_* settings."""
    return cli_environment(tmp_path)

