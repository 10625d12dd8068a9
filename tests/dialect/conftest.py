"""Fixtures of the dialect tests: a config file for the module's served sandbox, and an engine on it."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from cli_support import write_config_file
from crmql.sandbox import SandboxServer


@pytest.fixture(scope="module")
def config_file(sandbox_server: SandboxServer, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A config TOML whose connections point at the module's served sandbox."""
    return write_config_file(tmp_path_factory.mktemp("dialect") / "crmql.toml", sandbox_server.url)


@pytest.fixture(scope="module")
def engine(config_file: Path) -> Iterator[sa.Engine]:
    """``create_engine("crmql:///<absolute path of the config>")`` (the issue's three-slash form)."""
    eng = sa.create_engine(f"crmql://{config_file.as_posix()}")
    yield eng
    eng.dispose()
