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
* (autouse) the ``crmql`` logger's handlers and level are restored after every test.

The fixtures have names of their own (not ``server``), so the sandbox and HTTP test packages keep
their own fixtures.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from crmql.api.config import sandbox_config
from crmql.sandbox import SandboxServer, SandboxSettings, serve_in_thread
from crmql.api.session import Session

from cli_support import cli_environment, config_toml, reset_sandbox, write_config_file  # noqa: F401 - re-exported


@pytest.fixture(autouse=True)
def _crmql_logging_restored() -> Iterator[None]:
    """The ``crmql`` logger's handlers and level as they were before the test: a test that calls the
    CLI's ``main()`` in-process has it install its stderr handler at WARNING, which would hide crmql's
    DEBUG records from every later test's ``caplog`` in the same worker (order-dependent failures)."""
    import logging

    logger = logging.getLogger("crmql")
    handlers, level = logger.handlers[:], logger.level
    yield
    logger.handlers[:], logger.level = handlers, level


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


@pytest.fixture
def write_config() -> Callable[..., Path]:
    """``write_config(path, url, **overrides)``: write a config TOML for the sandbox at ``url``
    to ``path`` (a file, or a directory to hold ``crmql.toml``) and return its path."""
    return write_config_file


@pytest.fixture
def cli_env(tmp_path: Path) -> dict[str, str]:
    """Environment for ``crmql`` subprocesses: no user config, no inherited CRMQL_* settings."""
    return cli_environment(tmp_path)

