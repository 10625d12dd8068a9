"""Every notebook in notebooks/ runs top to bottom on a real kernel (nbclient, the python3 kernel of
this environment) against the in-process sandbox, in a scratch directory, without an error."""

from __future__ import annotations

from pathlib import Path

import pytest
from kernel_support import ipc_kernel_manager, kernel_env

nbformat = pytest.importorskip("nbformat")
nbclient = pytest.importorskip("nbclient")

REPO = Path(__file__).resolve().parent.parent
NOTEBOOKS = sorted((REPO / "notebooks").glob("*.ipynb"))
#: seconds per cell; the slowest cell scans 10,000 contacts
CELL_TIMEOUT = 180


def test_the_notebooks_are_there() -> None:
    assert {p.name for p in NOTEBOOKS} >= {"quickstart.ipynb", "export.ipynb"}


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_runs(path: Path, tmp_path: Path) -> None:
    nb = nbformat.read(path, as_version=4)
    assert not any(c.get("outputs") for c in nb.cells if c.cell_type == "code"), "commit notebooks without outputs"
    client = nbclient.NotebookClient(nb, km=ipc_kernel_manager(), timeout=CELL_TIMEOUT, allow_errors=False,
                                     resources={"metadata": {"path": str(tmp_path)}})
    scratch = tmp_path / "tmp"  # the kernel's TMPDIR: where export.ipynb makes its scratch directory
    scratch.mkdir()
    before = set(tmp_path.iterdir())
    client.execute(cwd=str(tmp_path), env={**kernel_env(tmp_path), "TMPDIR": str(scratch)})
    for cell in nb.cells:
        for out in cell.get("outputs", []):
            assert out.output_type != "error", f"{out.ename}: {out.evalue}"
            if out.output_type == "stream" and out.name == "stderr":
                assert "Traceback" not in out.text and "Error" not in out.text, out.text
    shown = [out for c in nb.cells for out in c.get("outputs", []) if out.output_type in ("execute_result", "display_data")]
    assert shown, "the notebook showed nothing"
    if path.name == "quickstart.ipynb":
        assert any("image/png" in out.data for out in shown), "the events-per-month chart is missing"
        captions = [out.data.get("text/html", "") for out in shown]
        assert any("crmql-caption" in html for html in captions)
        assert any("azavista" in out.get("text", "") for c in nb.cells for out in c.get("outputs", [])
                   if out.output_type == "stream")
    if path.name == "export.ipynb":
        # run from notebooks/ (the kernel's cwd), it must leave nothing there: its files go to a
        # scratch directory of its own
        exported = {".csv", ".parquet", ".jsonl", ".tsv", ".json", ".tmp"}
        left = [p.name for p in set(tmp_path.iterdir()) - before if p.suffix in exported]  # (HOME's .ipython aside)
        assert not left, f"the notebook left files in its directory: {left}"
        [workdir] = scratch.glob("crmql-export-*")
        assert (workdir / "contacts_nl.csv").is_file() and (workdir / "sales.parquet").is_file()
        assert not list(workdir.glob(".*.tmp")), "a temporary export file was left behind"
