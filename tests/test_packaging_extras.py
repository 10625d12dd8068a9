"""What a fresh install gets: the extras cover the shipped notebooks, and constraints.txt pins it all.

The README's commands install with ``-c constraints.txt`` so that a dependency's new release cannot
turn main red between two commits; ``scripts/refresh_constraints.sh`` re-resolves the pins on purpose.
"""

from __future__ import annotations

import ast
import json
import re
import sys
import tomllib
from importlib import metadata
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parent.parent
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
#: import name -> distribution name, where they differ
_DIST = {"IPython": "ipython", "yaml": "pyyaml", "PIL": "pillow"}


def _pins() -> dict[str, str]:
    pins = {}
    for line in (ROOT / "constraints.txt").read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.startswith("#"):
            name, _, version = line.partition("==")
            pins[canonicalize_name(name)] = version.strip()
    return pins


def _notebook_imports(path: Path) -> set[str]:
    cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
    code = ["".join(c["source"]) for c in cells if c["cell_type"] == "code"]
    source = "\n".join(c for c in code if not c.lstrip().startswith("%%"))  # a cell magic's body is not Python
    source = re.sub(r"=\s*[%!].*", "= None", source)  # `df = %crmql ...`
    source = "\n".join(line for line in source.splitlines() if not line.lstrip().startswith(("%", "!")))
    tops = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            tops |= {a.name.split(".")[0] for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            tops.add(node.module.split(".")[0])
    return tops


def _closure(extras: set[str]) -> set[str]:
    """Every distribution ``crmql[extras]`` pulls in, found from the installed metadata."""
    seen: set[str] = set()
    todo = [(Requirement(r), extras) for r in PYPROJECT["project"]["dependencies"]]
    for extra in extras:
        todo += [(Requirement(r), set()) for r in PYPROJECT["project"]["optional-dependencies"][extra]]
    while todo:
        req, wanted = todo.pop()
        env = {"extra": ""}
        if req.marker and not any(req.marker.evaluate({**env, "extra": e}) for e in (wanted or {""})):
            continue
        name = canonicalize_name(req.name)
        if name in seen:
            continue
        seen.add(name)
        for sub in metadata.requires(req.name) or []:
            sub_req = Requirement(sub)
            if not sub_req.marker or any(sub_req.marker.evaluate({"extra": e}) for e in (req.extras or {""})):
                todo.append((sub_req, set(req.extras)))
    return seen


@pytest.mark.parametrize("notebook", sorted((ROOT / "notebooks").glob("*.ipynb")), ids=lambda p: p.name)
def test_the_notebook_extra_installs_what_each_shipped_notebook_imports(notebook: Path) -> None:
    extra = {canonicalize_name(Requirement(r).name) for r in PYPROJECT["project"]["optional-dependencies"]["notebook"]}
    core = {canonicalize_name(Requirement(r).name) for r in PYPROJECT["project"]["dependencies"]}
    provided = extra | core | {"crmql"}
    missing = {m for m in _notebook_imports(notebook)
               if m not in sys.stdlib_module_names and canonicalize_name(_DIST.get(m, m)) not in provided}
    assert not missing, f"{notebook.name} imports {sorted(missing)}: add them to the 'notebook' extra"


def test_constraints_pin_every_dependency_of_the_test_install() -> None:
    pins = _pins()
    unpinned = sorted(_closure({"dev", "notebook"}) - set(pins))
    assert not unpinned, f"not in constraints.txt: {unpinned}; run scripts/refresh_constraints.sh"


def test_the_installed_versions_are_the_pinned_ones() -> None:
    """The suite runs on the pins (the README installs with -c constraints.txt), not on whatever is newest."""
    pins = _pins()
    drift = {}
    for name in _closure({"dev"}):
        installed = metadata.version(name)
        if pins.get(name) != installed:
            drift[name] = (installed, pins.get(name))
    assert not drift, f"installed != pinned: {drift}; install with -c constraints.txt"


def test_the_readme_commands_install_with_the_constraints() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    commands = re.findall(r"```sh\n(.*?)```", readme, flags=re.S)[:2]
    assert all("-c constraints.txt" in c for c in commands), commands
