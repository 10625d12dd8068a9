"""Contradictions: conjunctions of simple predicates that no row can satisfy (``a = 1 AND a = 2``,
``a > 5 AND a < 3``, ``a IS NULL AND a = 1``, a condition folded to FALSE). Sound, not complete: a
contradiction found makes the planner send no request at all.

>>> from crmql.language.parser import parse_expression
>>> from crmql.plan.predicates import conjuncts, normalize
>>> contradiction(conjuncts(normalize(parse_expression("a > 5 AND a < 3"))))
'no a is both > 5 and < 3'
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from typing import Any

from ..language import ast
from .predicates import is_simple, predicate_column

__all__ = ["contradiction"]


def _is_false(expr: ast.Expr) -> bool:
    return isinstance(expr, ast.Literal) and expr.kind == "boolean" and expr.value is False


def _comparable(a: Any, b: Any) -> bool:
    if isinstance(a, bool) or isinstance(b, bool):
        return isinstance(a, bool) and isinstance(b, bool)
    if isinstance(a, (int, float)) and isinstance(b, (int, float)):
        return True
    if isinstance(a, dt.datetime) and isinstance(b, dt.datetime):
        return True
    if isinstance(a, dt.date) and isinstance(b, dt.date) and not isinstance(a, dt.datetime) and not isinstance(b, dt.datetime):
        return True
    return isinstance(a, str) and isinstance(b, str)


def contradiction(items: list[ast.Expr]) -> str | None:
    """Why no row can satisfy all ``items`` together, or None. Sound, not complete.

    >>> from crmql.language.parser import parse_expression
    >>> from crmql.plan.predicates import conjuncts, normalize
    >>> contradiction(conjuncts(normalize(parse_expression("a = 1 AND a = 2"))))
    'a = 1 and a = 2 cannot both hold'
    """
    if any(_is_false(i) for i in items):
        return "the condition is always false"
    by_col: dict[tuple[str | None, str], list[ast.Expr]] = defaultdict(list)
    for item in items:
        if is_simple(item) and not isinstance(item, ast.Func):
            col = predicate_column(item)
            by_col[(col.qualifier, col.name)].append(item)
    for (_, name), preds in by_col.items():
        reason = _column_contradiction(name, preds)
        if reason:
            return reason
    return None


def _column_contradiction(name: str, preds: list[ast.Expr]) -> str | None:
    allowed: set[Any] | None = None  # values allowed by = / IN
    allowed_text = ""
    lower: tuple[Any, bool] | None = None  # (value, inclusive)
    upper: tuple[Any, bool] | None = None
    null_state: bool | None = None  # True: must be NULL; False: must be non-NULL
    for p in preds:
        if isinstance(p, ast.IsNull):
            want_null = not p.negated
            if null_state is not None and null_state != want_null:
                return f"{name} cannot be NULL and not NULL"
            null_state = want_null
            continue
        null_state_required = False
        if isinstance(p, ast.Compare):
            v = p.right.value
            null_state_required = True
            if p.op == "=":
                vals = {v}
                if allowed is not None and not _overlap(allowed, vals):
                    return f"{allowed_text} and {name} = {_show(v)} cannot both hold"
                allowed = vals if allowed is None else _intersect(allowed, vals)
                allowed_text = f"{name} = {_show(v)}"
            elif p.op in (">", ">="):
                cand = (v, p.op == ">=")
                if lower is None or _tighter_lower(cand, lower):
                    lower = cand
            elif p.op in ("<", "<="):
                cand = (v, p.op == "<=")
                if upper is None or _tighter_upper(cand, upper):
                    upper = cand
        elif isinstance(p, ast.InList) and not p.negated:
            null_state_required = True
            vals = {i.value for i in p.items if i.kind != "null"}
            if allowed is not None and not _overlap(allowed, vals):
                return f"{allowed_text or name} and {name} IN (...) cannot both hold"
            allowed = vals if allowed is None else _intersect(allowed, vals)
            allowed_text = allowed_text or f"{name} IN (...)"
            if not allowed:
                return f"{name} IN () matches nothing"
        elif isinstance(p, ast.Like) and not p.negated:
            null_state_required = True
        if null_state_required and null_state is True:
            return f"{name} IS NULL contradicts a condition on its value"
        if null_state_required:
            null_state = False
    if lower and upper and _comparable(lower[0], upper[0]):
        if lower[0] > upper[0] or (lower[0] == upper[0] and not (lower[1] and upper[1])):
            return f"no {name} is both {'>=' if lower[1] else '>'} {_show(lower[0])} and {'<=' if upper[1] else '<'} {_show(upper[0])}"
    if allowed is not None:
        kept = {v for v in allowed if _within(v, lower, upper)}
        if not kept and allowed:
            return f"{allowed_text} is outside the range asked for {name}"
    return None


def _overlap(a: set[Any], b: set[Any]) -> bool:
    # only values of comparable kinds can be decided; anything else might match after coercion
    for x in a:
        for y in b:
            if not _comparable(x, y) or x == y:
                return True
    return False


def _intersect(a: set[Any], b: set[Any]) -> set[Any]:
    return {x for x in a if any(not _comparable(x, y) or x == y for y in b)}


def _within(v: Any, lower: tuple[Any, bool] | None, upper: tuple[Any, bool] | None) -> bool:
    if lower and _comparable(v, lower[0]) and (v < lower[0] or (v == lower[0] and not lower[1])):
        return False
    if upper and _comparable(v, upper[0]) and (v > upper[0] or (v == upper[0] and not upper[1])):
        return False
    return True


def _tighter_lower(a: tuple[Any, bool], b: tuple[Any, bool]) -> bool:
    if not _comparable(a[0], b[0]):
        return False
    return a[0] > b[0] or (a[0] == b[0] and not a[1])


def _tighter_upper(a: tuple[Any, bool], b: tuple[Any, bool]) -> bool:
    if not _comparable(a[0], b[0]):
        return False
    return a[0] < b[0] or (a[0] == b[0] and not a[1])


def _show(v: Any) -> str:
    if isinstance(v, str):
        return "'" + v.replace("'", "''") + "'"
    if isinstance(v, dt.datetime):
        return v.isoformat()
    return str(v)
