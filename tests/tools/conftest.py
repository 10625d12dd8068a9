"""Fixtures of the SQL-tools tests (issue 14: pandas, JupySQL, SQLAlchemy Core over ``crmql://``).

* ``tools_config`` (module scope): a config file for the module's served sandbox (mode 600, millisecond
  retries), the way a user points every tool at one config.
* ``traffic``: a :class:`tools_support.Traffic` on the module's server.

The tests reuse the module's server (``sandbox_server``) and reset it themselves (``Traffic.recording``),
rather than the per-test ``sandbox`` fixture, where a module-scoped engine or shell needs the server
for longer.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from cli_support import write_config_file
from tools_support import FAST, Traffic


@pytest.fixture(scope="module")
def tools_config(sandbox_server: Any, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A config file for the module's served sandbox, readable by its owner only (no warning)."""
    path = write_config_file(tmp_path_factory.mktemp("tools") / "crmql.toml", sandbox_server.url, **FAST)
    path.chmod(0o600)
    return path


@pytest.fixture
def traffic(sandbox_server: Any) -> Traffic:
    """A fresh :class:`Traffic` on the module's server."""
    return Traffic(sandbox_server)
