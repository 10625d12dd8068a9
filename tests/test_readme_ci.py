"""The README starts with exactly two set-up commands, and `.ci/run` runs the second one verbatim."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _readme_commands() -> list[str]:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    # the two set-up commands are the first two code blocks, before any other code or section
    return [block.strip() for block in re.findall(r"```sh\n(.*?)```", text, flags=re.S)][:2]


def test_readme_starts_with_exactly_two_commands() -> None:
    commands = _readme_commands()
    assert len(commands) == 2 and all("\n" not in c for c in commands), commands
    run, test = commands
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    assert text.index(test) < text.index("\n## "), "the two commands come first"
    assert run.endswith(".venv/bin/crmql"), "the first command starts crmql (on the sandbox: no config needed)"
    assert "pytest" in test


def test_ci_runs_the_readme_test_command() -> None:
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    lines = [line.strip() for line in ci.splitlines() if line.strip() and not line.startswith("#")]
    assert _readme_commands()[1] in lines
