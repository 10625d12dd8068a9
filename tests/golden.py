"""The golden-file format shared by ``tests/test_*_golden.py``, and their update fixture.

A golden file is a header (comment lines before the first case), then cases::

    === name of the case
    @settings {"like_case_sensitive": true}     (optional, with ``directives``: extra connection settings)
    @params {"since": {"$date": "2025-01-01"}}  (optional, with ``directives``: JSON; {"$date"|"$timestamp": "..."})
    the input (any number of lines)
    ---
    the expected output

With ``CRMQL_UPDATE_GOLDEN=1`` the tests record their actual output and :func:`update_fixture`
rewrites the expected sections at the end of the module (refusing to run under xdist).
"""

from __future__ import annotations

import datetime as dt
import json
import os
from pathlib import Path
from typing import Any

import pytest

from crmql.language import ast

UPDATE = os.environ.get("CRMQL_UPDATE_GOLDEN") == "1"


def read_cases(path: Path, *, directives: bool = True) -> tuple[list[str], list[dict[str, Any]]]:
    """``(header_lines, cases)`` of a golden file: each case has ``name``, ``input`` and ``expected``,
    plus ``query``, ``settings`` and ``params`` (the input split from its ``@`` lines) with ``directives``."""
    header: list[str] = []
    cases: list[dict[str, Any]] = []
    current: dict[str, Any] | None = None
    section = "input"
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.startswith("=== "):
            if current is not None:
                cases.append(_close(current, directives))
            current = {"name": line[4:].strip(), "input": [], "expected": []}
            section = "input"
        elif current is None:
            header.append(line)
        elif line == "---" and section == "input":
            section = "expected"
        else:
            current[section].append(line)
    if current is not None:
        cases.append(_close(current, directives))
    return header, cases


def _strip(lines: list[str]) -> list[str]:
    while lines and not lines[-1].strip():
        lines = lines[:-1]
    return lines


def _close(case: dict[str, Any], directives: bool) -> dict[str, Any]:
    inputs = _strip(case["input"])
    closed = {"name": case["name"], "input": "\n".join(inputs), "expected": "\n".join(_strip(case["expected"]))}
    if not directives:
        return closed
    settings: dict[str, Any] = {}
    params: dict[str, Any] = {}
    query: list[str] = []
    for line in inputs:
        if line.startswith("@settings "):
            settings = json.loads(line[len("@settings "):])
        elif line.startswith("@params "):
            params = json.loads(line[len("@params "):], object_hook=_decode)
        else:
            query.append(line)
    return {"name": closed["name"], "input": closed["input"], "query": "\n".join(query),
            "settings": settings, "params": params, "expected": closed["expected"]}


def _decode(obj: dict[str, Any]) -> Any:
    if set(obj) == {"$date"}:
        return dt.date.fromisoformat(obj["$date"])
    if set(obj) == {"$timestamp"}:
        return dt.datetime.fromisoformat(obj["$timestamp"])
    return obj


def write_cases(path: Path, header: list[str], cases: list[dict[str, Any]]) -> None:
    out = _strip(list(header)) + [""]
    for case in cases:
        out += [f"=== {case['name']}", case["input"], "---", case["expected"], ""]
    path.write_text("\n".join(out), encoding="utf-8")


def update_fixture(path: Path, header: list[str], cases: list[dict[str, Any]], actual: dict[str, str]) -> Any:
    """A module-scoped autouse fixture (assign it to a module-level name in the test module) that,
    under ``CRMQL_UPDATE_GOLDEN=1``, rewrites ``path`` with the outputs the tests put in ``actual``."""
    @pytest.fixture(scope="module", autouse=True)
    def _update_golden():
        if UPDATE and os.environ.get("PYTEST_XDIST_WORKER"):
            pytest.exit("run CRMQL_UPDATE_GOLDEN=1 without -n: each worker would rewrite the file with only its cases")
        yield
        if UPDATE and actual:
            write_cases(path, header, [dict(c, expected=actual.get(c["name"], c["expected"])) for c in cases])
    return _update_golden

# ---- boundary values for the mechanical superset checks of the pushdown golden suites -----------

def query_literals(expr: ast.Expr) -> list[tuple[ast.Column, Any]]:
    """Every (column, literal) a WHERE compares, for building boundary records."""
    out = []
    for node in ast.walk(expr):
        if isinstance(node, ast.Func) and len(node.args) == 2 and isinstance(node.args[0], ast.Column):
            operand, values = node.args[0], [node.args[1]]
        else:
            operand = getattr(node, "left", None) if isinstance(node, ast.Compare) else getattr(node, "operand", None)
            if not isinstance(operand, ast.Column):
                continue
            values = []
            if isinstance(node, ast.Compare):
                values = [node.right]
            elif isinstance(node, ast.InList):
                values = list(node.items)
            elif isinstance(node, ast.Like):
                values = [node.pattern]
            elif isinstance(node, ast.Between):
                values = [node.low, node.high]
        out += [(operand, v.value) for v in values if isinstance(v, ast.Literal) and v.value is not None]
    return out


def like_instances(pattern: str) -> list[str]:
    """Strings a LIKE pattern matches (wildcards filled two ways)."""
    out = set()
    for fill in ("", "Zq"):
        for one in ("a", "Q"):
            out.add(pattern.replace("%", fill).replace("_", one))
    return sorted(out)


def pushed_branches(cand: Any) -> list[ast.Expr]:
    """The predicates a candidate pushed: each branch of a pushed OR (an IN may also arrive as one)."""
    return list(cand.expr.items) if cand.any_of is not None and isinstance(cand.expr, ast.Or) else [cand.expr]


def assert_never_pushed(plan: Any, *, ilike_ok: bool, show: Any) -> None:
    """!=, NOT, IS [NOT] NULL, NOT IN, NOT LIKE are never pushed; ILIKE only where ``ilike_ok``."""
    for scan in plan.scans:
        for cand, _exact in scan.pushed:
            for expr in pushed_branches(cand):
                assert not isinstance(expr, (ast.Not, ast.IsNull, ast.And, ast.Or, ast.Between)), show(expr)
                assert not (isinstance(expr, ast.Compare) and expr.op == "!="), show(expr)
                assert not getattr(expr, "negated", False), show(expr)
                if isinstance(expr, ast.Like) and expr.case_insensitive:
                    assert ilike_ok, f"ILIKE pushed: {show(expr)}"
