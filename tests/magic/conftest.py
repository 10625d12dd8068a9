"""An IPython shell with ``%load_ext crmql`` whose default session is the module's served sandbox."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

#: retries wait a millisecond, never the production backoff
FAST = {"retry_base_s": 0.001, "retry_cap_s": 0.01}


@pytest.fixture
def ip(sandbox: Any, tmp_path: Path, write_config: Any, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    from IPython.testing.globalipapp import get_ipython

    shell = get_ipython()
    monkeypatch.chdir(tmp_path)
    config = write_config(tmp_path, sandbox.url, **FAST)
    before = set(shell.user_ns)
    shell.config.pop("Crmql", None)  # the shell is shared: no %config from an earlier test
    shell.run_line_magic("load_ext", "crmql")
    shell.run_line_magic("config", f"Crmql.config_file = {str(config)!r}")
    shell.run_line_magic("config", "Crmql.progress = False")
    shell.display_formatter.formatters["text/html"].enabled = True
    yield shell
    shell.run_line_magic("unload_ext", "crmql")
    shell.config.pop("Crmql", None)
    shell.display_formatter.formatters["text/html"].enabled = False
    for name in set(shell.user_ns) - before:
        shell.user_ns.pop(name, None)

