"""Output names in the notebook (issue 9, point B): ``%crmql`` returns, shows and exports the same
unique names as the Python API and the command line (``id``, ``id_1`` for ``c.id, o.id``)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

#: a join narrowed by its organizations (19 of them: 17 requests, not the 211 of every contact)
JOIN = ("SELECT c.id, o.id, c.organization_id FROM azavista.contacts c "
        "JOIN azavista.organizations o ON c.organization_id = o.id WHERE o.name LIKE 'A%' LIMIT 3")


@pytest.fixture
def ip(sandbox: Any, tmp_path: Path, write_config: Any, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    from IPython.testing.globalipapp import get_ipython

    shell = get_ipython()
    monkeypatch.chdir(tmp_path)
    config = write_config(tmp_path, sandbox.url, retry_base_s=0.001, retry_cap_s=0.01)
    before = set(shell.user_ns)
    shell.config.pop("Crmql", None)
    shell.run_line_magic("load_ext", "crmql")
    shell.run_line_magic("config", f"Crmql.config_file = {str(config)!r}")
    shell.run_line_magic("config", "Crmql.progress = False")
    yield shell
    shell.run_line_magic("unload_ext", "crmql")
    shell.config.pop("Crmql", None)
    for name in set(shell.user_ns) - before:
        shell.user_ns.pop(name, None)


def _run(shell: Any, code: str) -> Any:
    result = shell.run_cell(code)
    for error in (result.error_before_exec, result.error_in_exec):
        if error is not None:
            raise error
    return result.result


def test_notebook_names_are_unique(ip: Any, tmp_path: Path) -> None:
    frame = _run(ip, f"%crmql {JOIN}")
    assert list(frame.columns) == ["id", "id_1", "organization_id"]
    assert (frame["id_1"] == frame["organization_id"]).all() and (frame["id"] != frame["id_1"]).all()
    from crmql.surfaces.magic import ResultView

    shown = ResultView(_run(ip, f"%crmql --format jsonl {JOIN}"), format="jsonl")  # what the cell shows
    rows = [json.loads(line) for line in repr(shown).splitlines() if line.startswith("{")]
    assert len(rows) == 3 and all(set(r) == {"id", "id_1", "organization_id"} for r in rows)
    _run(ip, f"%crmql COPY ({JOIN}) TO 'join.parquet'")
    import pyarrow.parquet as pq

    assert pq.read_table(tmp_path / "join.parquet").column_names == ["id", "id_1", "organization_id"]
