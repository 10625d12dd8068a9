"""The grammar ships inside the wheel, byte for byte, and the installed package parses with it.

``grammar/crmql.lark`` is the one source of the grammar; ``pyproject.toml`` force-includes it in
the wheel as ``crmql/grammar/crmql.lark`` and :func:`crmql.language.parser.grammar_text` prefers that
packaged copy. A wheel is built once per module (a few seconds: pip fetches the build backend
into an isolated environment unless it is installed in the venv).
"""

from __future__ import annotations

import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from crmql.language import parser

REPO = Path(__file__).resolve().parent.parent
GRAMMAR = REPO / "grammar" / "crmql.lark"
_NO_NETWORK = ("No matching distribution found for hatchling", "Could not find a version that satisfies",
               "Failed to establish a new connection", "Temporary failure in name resolution", "Network is unreachable")


def _has(module: str) -> bool:
    return subprocess.run([sys.executable, "-c", f"import {module}"], capture_output=True).returncode == 0


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("wheel")
    if _has("build") and _has("hatchling"):
        cmd = [sys.executable, "-m", "build", "--wheel", "--no-isolation", "--outdir", str(out), str(REPO)]
    elif _has("hatchling"):
        cmd = [sys.executable, "-m", "pip", "wheel", str(REPO), "--no-deps", "--no-build-isolation", "-w", str(out)]
    else:
        cmd = [sys.executable, "-m", "pip", "wheel", str(REPO), "--no-deps", "-w", str(out)]
    env = {**os.environ, "PIP_DISABLE_PIP_VERSION_CHECK": "1"}
    proc = subprocess.run(cmd, capture_output=True, text=True, cwd=out, env=env, timeout=300)
    if proc.returncode != 0:
        text = proc.stdout + proc.stderr
        if any(marker in text for marker in _NO_NETWORK):
            pytest.skip(f"cannot build a wheel without the package index: {text.strip().splitlines()[-1]}")
        pytest.fail(f"building the wheel failed ({' '.join(cmd)}):\n{text[-3000:]}")
    wheels = sorted(out.glob("crmql-*.whl"))
    assert len(wheels) == 1, wheels
    return wheels[0]


def test_wheel_contains_the_grammar_byte_for_byte(wheel):
    with zipfile.ZipFile(wheel) as zf:
        assert "crmql/grammar/crmql.lark" in zf.namelist()
        assert zf.read("crmql/grammar/crmql.lark") == GRAMMAR.read_bytes()


def test_wheel_contains_the_package_and_no_tests(wheel):
    with zipfile.ZipFile(wheel) as zf:
        names = zf.namelist()
    assert "crmql/language/parser.py" in names and "crmql/__init__.py" in names
    assert not any(n.startswith("tests/") for n in names)
    assert any(n.endswith("entry_points.txt") for n in names)


def test_installed_wheel_parses_with_its_packaged_grammar(wheel, tmp_path):
    target = tmp_path / "site"
    subprocess.run([sys.executable, "-m", "pip", "install", "--no-deps", "--quiet", "--target", str(target), str(wheel)],
                   check=True, capture_output=True, timeout=300)
    code = (
        "import crmql, crmql.language.parser as p, sys\n"
        f"assert crmql.__file__.startswith({str(target)!r}), crmql.__file__\n"
        f"assert p.grammar_text() == open({str(GRAMMAR)!r}, encoding='utf-8').read()\n"
        "print(p.parse(\"SELECT name FROM azavista.events WHERE city ILIKE '%ber%'\").where.case_insensitive)\n"
    )
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    env["PYTHONPATH"] = str(target)
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=tmp_path, env=env, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "True"


def test_grammar_text_is_the_repository_file():
    assert parser.grammar_text() == GRAMMAR.read_text(encoding="utf-8")


def test_no_stale_grammar_copy_in_the_source_tree():
    """A crmql/grammar/crmql.lark in the source tree would shadow grammar/crmql.lark in development."""
    stale = REPO / "crmql" / "grammar" / "crmql.lark"
    assert not stale.exists() or stale.read_bytes() == GRAMMAR.read_bytes()
