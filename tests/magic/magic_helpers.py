"""Helpers for the magic tests."""

from __future__ import annotations

from typing import Any


def run(shell: Any, code: str) -> Any:
    """Run a cell; return its value (raising what the cell raised, UsageError included)."""
    result = shell.run_cell(code)
    if result.error_in_exec is not None:
        raise result.error_in_exec
    if result.error_before_exec is not None:
        raise result.error_before_exec
    return result.result
