"""Pure passes over WHERE expressions: each takes an expression and returns an equivalent one.

Order (see :func:`normalize`): expand BETWEEN, push NOT inward (De Morgan; this is valid under SQL's
three-valued logic), flatten AND/OR, put the column on the left of comparisons, fold comparisons
with NULL (never true in a filter), merge OR-ed equalities on one column into IN. Then
:func:`conjuncts` splits the top-level AND and :func:`crmql.plan.contradictions.contradiction` finds
conjunctions that no row can satisfy.

All passes are for *filter* positions (WHERE, ON), where only TRUE keeps a row: there a NULL and a
FALSE are the same.

>>> from crmql.language.parser import parse_expression
>>> e = normalize(parse_expression("NOT (a = 1 OR a = 2) AND b BETWEEN 1 AND 5"))
>>> [f"{i.left.name} {i.op} {i.right.value}" for i in e.items]
['a != 1', 'a != 2', 'b >= 1', 'b <= 5']
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from typing import Any

from ..language import ast

__all__ = [
    "MEMBERSHIP_FUNCTIONS", "columns_of", "conjuncts", "constant_conjuncts", "fold_constants", "is_simple",
    "normalize", "predicate_column",
]

FALSE = ast.Literal(False, "boolean")
TRUE = ast.Literal(True, "boolean")

_INVERSE = {"=": "!=", "!=": "=", "<": ">=", ">=": "<", ">": "<=", "<=": ">"}
_FLIP = {"=": "=", "!=": "!=", "<": ">", ">": "<", "<=": ">=", ">=": "<="}


def normalize(expr: ast.Expr) -> ast.Expr:
    """Run every pass in order; the result selects exactly the rows ``expr`` selects."""
    for step in (expand_between, push_not, flatten, orient, fold_null, merge_in, flatten):
        expr = step(expr)
    return expr


def _map(expr: ast.Expr, fn: Callable[[ast.Expr], ast.Expr]) -> ast.Expr:
    """Apply ``fn`` to the children of AND/OR/NOT; rebuild the node only if a child changed."""
    cls = expr.__class__
    if cls is ast.And or cls is ast.Or:
        old = expr.items
        items = [fn(i) for i in old]
        for new, was in zip(items, old):
            if new is not was:
                return cls(tuple(items), span=expr.span)
        return expr
    if cls is ast.Not:
        item = fn(expr.item)
        return expr if item is expr.item else ast.Not(item, span=expr.span)
    return expr


def expand_between(expr: ast.Expr) -> ast.Expr:
    """``x BETWEEN a AND b`` -> ``x >= a AND x <= b``; NOT BETWEEN -> ``x < a OR x > b``."""
    if isinstance(expr, ast.Between):
        if expr.negated:
            return ast.Or((ast.Compare("<", expr.operand, expr.low, span=expr.span),
                           ast.Compare(">", expr.operand, expr.high, span=expr.span)), span=expr.span)
        return ast.And((ast.Compare(">=", expr.operand, expr.low, span=expr.span),
                        ast.Compare("<=", expr.operand, expr.high, span=expr.span)), span=expr.span)
    return _map(expr, expand_between)


def push_not(expr: ast.Expr) -> ast.Expr:
    """Move NOT down to the leaves (De Morgan, inverse comparisons, negated LIKE/IN/IS NULL)."""
    if not isinstance(expr, ast.Not):
        return _map(expr, push_not)
    inner = expr.item
    if isinstance(inner, ast.Not):
        return push_not(inner.item)
    if isinstance(inner, ast.And):
        return ast.Or(tuple(push_not(ast.Not(i)) for i in inner.items), span=inner.span)
    if isinstance(inner, ast.Or):
        return ast.And(tuple(push_not(ast.Not(i)) for i in inner.items), span=inner.span)
    if isinstance(inner, ast.Compare):
        return ast.replace(inner, op=_INVERSE[inner.op])
    if isinstance(inner, (ast.Like, ast.InList, ast.IsNull, ast.Between)):
        return push_not(ast.replace(inner, negated=not inner.negated)) if isinstance(inner, ast.Between) \
            else ast.replace(inner, negated=not inner.negated)
    if isinstance(inner, ast.Literal) and inner.kind == "boolean":
        return ast.Literal(not inner.value, "boolean", span=inner.span)
    if isinstance(inner, ast.Literal) and inner.kind == "null":
        return inner
    return expr


def flatten(expr: ast.Expr) -> ast.Expr:
    """Nested AND in AND (and OR in OR) become one list; TRUE/FALSE items are folded."""
    kind = expr.__class__
    if kind is not ast.And and kind is not ast.Or:
        return _map(expr, flatten)
    items: list[ast.Expr] = []
    changed = False
    for old in expr.items:
        item = flatten(old)
        if item.__class__ is kind:
            items.extend(item.items)
            changed = True
        else:
            items.append(item)
            changed = changed or item is not old
    if any(i.__class__ is ast.Literal for i in items):
        absorbing, neutral = (FALSE, TRUE) if kind is ast.And else (TRUE, FALSE)
        if any(_is_bool(i, absorbing.value) for i in items):
            return absorbing
        kept = [i for i in items if not _is_bool(i, neutral.value)]
        if not kept:
            return neutral
        changed = changed or len(kept) != len(items)
        items = kept
    if len(items) == 1:
        return items[0]
    return kind(tuple(items), span=expr.span) if changed else expr


def _is_bool(expr: ast.Expr, value: bool) -> bool:
    return isinstance(expr, ast.Literal) and expr.kind == "boolean" and expr.value is value


def _is_value(expr: ast.Expr) -> bool:
    return isinstance(expr, ast.Literal)


def orient(expr: ast.Expr) -> ast.Expr:
    """``5 < x`` -> ``x > 5``: the column goes on the left of a comparison with a literal."""
    if isinstance(expr, ast.Compare) and _is_value(expr.left) and isinstance(expr.right, ast.Column):
        return ast.Compare(_FLIP[expr.op], expr.right, expr.left, span=expr.span)
    return _map(expr, orient)


def fold_null(expr: ast.Expr) -> ast.Expr:
    """Comparisons and LIKE with a NULL literal are never true: FALSE (in a filter). Conditions on
    constants alone are folded in the same pass (see :func:`fold_constants`)."""
    if isinstance(expr, ast.Compare):
        if _null(expr.left) or _null(expr.right):
            return FALSE
        return _fold_constant(expr)
    if isinstance(expr, ast.Like) and (_null(expr.operand) or _null(expr.pattern)):
        return FALSE
    if isinstance(expr, ast.InList):
        if expr.negated and any(_null(i) for i in expr.items):
            return FALSE  # x NOT IN (..., NULL) is never true
        return _fold_constant(expr)
    if isinstance(expr, ast.Literal) and expr.kind == "null":
        return FALSE
    if isinstance(expr, ast.IsNull):
        return _fold_constant(expr)
    return _map(expr, fold_null)


def fold_constants(expr: ast.Expr) -> ast.Expr:
    """Conditions on constants alone (``1 = 2``, ``'no' = 'yes'``, ``3 IN (1, 2)``, ``'a' IS NULL``)
    become TRUE or FALSE when both sides are of one comparable kind; anything else is kept (and
    evaluated locally). Runs after :func:`fold_null` (no NULL is compared here but in IN lists).

    >>> from crmql.language.parser import parse_expression
    >>> fold_constants(parse_expression("1 = 2")), fold_constants(parse_expression("'a' IN ('b', 'a')"))
    (Literal(value=False, kind='boolean'), Literal(value=True, kind='boolean'))
    """
    cls = expr.__class__
    if cls is ast.Compare or cls is ast.InList or cls is ast.IsNull:
        return _fold_constant(expr)
    return _map(expr, fold_constants)


def _fold_constant(expr: ast.Expr) -> ast.Expr:
    """One comparison, IN or IS NULL on constants alone as TRUE/FALSE; anything else as it is."""
    cls = expr.__class__
    if cls is ast.Compare:
        if expr.left.__class__ is ast.Literal and expr.right.__class__ is ast.Literal:
            result = _compare_constants(expr.op, expr.left, expr.right)
            if result is not None:
                return TRUE if result else FALSE
        return expr
    if cls is ast.InList:
        if expr.operand.__class__ is ast.Literal and all(i.__class__ is ast.Literal for i in expr.items):
            hits = [_compare_constants("=", expr.operand, i) for i in expr.items if i.kind != "null"]
            if None in hits or expr.operand.kind == "null":
                return expr
            if any(hits):
                return FALSE if expr.negated else TRUE
            # no value matched: IN is FALSE (NULL when the list holds a NULL: the same in a filter);
            # NOT IN is TRUE unless the list holds a NULL (fold_null has made that FALSE already)
            return TRUE if expr.negated and not any(i.kind == "null" for i in expr.items) else FALSE
        return expr
    if cls is ast.IsNull:
        if expr.operand.__class__ is ast.Literal:
            return TRUE if (expr.operand.kind == "null") != expr.negated else FALSE
    return expr


_ORDERED = {"integer": "number", "float": "number", "string": "string", "boolean": "boolean",
            "timestamp": "timestamp", "date": "date"}
#: integers beyond this may compare differently once DuckDB takes them as doubles next to a float
_EXACT_FLOAT_INT = 2 ** 53


def _compare_constants(op: str, left: ast.Literal, right: ast.Literal) -> bool | None:
    """``left op right`` for two non-NULL literals of one comparable kind, else None (not decided here)."""
    kind = _ORDERED.get(left.kind)
    if kind is None or kind != _ORDERED.get(right.kind):
        return None
    a, b = left.value, right.value
    if kind == "number" and left.kind != right.kind and any(
            isinstance(v, int) and abs(v) > _EXACT_FLOAT_INT for v in (a, b)):
        return None
    if op == "=":
        return a == b
    if op == "!=":
        return a != b
    if op == "<":
        return a < b
    if op == "<=":
        return a <= b
    if op == ">":
        return a > b
    if op == ">=":
        return a >= b
    return None


def constant_conjuncts(items: list[ast.Expr]) -> list[ast.Expr]:
    """The conjuncts that read no column (after :func:`normalize`, those that could not be folded).

    >>> from crmql.language.parser import parse_expression
    >>> constant_conjuncts(conjuncts(normalize(parse_expression("a = 1 AND lower('X') = 'x'"))))
    [Compare(op='=', left=Func(name='lower', args=(Literal(value='X', kind='string'),), distinct=False, star=False), right=Literal(value='x', kind='string'))]
    """
    return [i for i in items if not is_simple(i) and not any(n.__class__ is ast.Column for n in ast.walk(i))]


def _null(expr: ast.Expr) -> bool:
    return isinstance(expr, ast.Literal) and expr.kind == "null"


def merge_in(expr: ast.Expr) -> ast.Expr:
    """In an OR, equalities and IN lists on the same column merge into one IN list."""
    expr = _map(expr, merge_in)
    if not isinstance(expr, ast.Or):
        return expr
    groups: dict[tuple[str, str | None], list[ast.Expr]] = defaultdict(list)
    rest: list[ast.Expr] = []
    order: list[Any] = []
    for item in expr.items:
        key = _eq_column(item)
        if key is None:
            rest.append(item)
            order.append(item)
            continue
        if key not in groups:
            order.append(key)
        groups[key].append(item)
    if all(len(v) == 1 for v in groups.values()):
        return expr
    out: list[ast.Expr] = []
    for entry in order:
        if isinstance(entry, tuple):
            members = groups[entry]
            if len(members) == 1:
                out.append(members[0])
                continue
            values: list[ast.Expr] = []
            for m in members:
                for v in (m.items if isinstance(m, ast.InList) else (m.right,)):
                    if v not in values:
                        values.append(v)
            column = members[0].operand if isinstance(members[0], ast.InList) else members[0].left
            out.append(ast.InList(column, tuple(values), span=expr.span))
        else:
            out.append(entry)
    return out[0] if len(out) == 1 else ast.Or(tuple(out), span=expr.span)


def _eq_column(expr: ast.Expr) -> tuple[str, str | None] | None:
    if isinstance(expr, ast.Compare) and expr.op == "=" and isinstance(expr.left, ast.Column) and _is_value(expr.right):
        return (expr.left.name, expr.left.qualifier)
    if isinstance(expr, ast.InList) and not expr.negated and isinstance(expr.operand, ast.Column) \
            and all(_is_value(i) for i in expr.items):
        return (expr.operand.name, expr.operand.qualifier)
    return None


def conjuncts(expr: ast.Expr | None) -> list[ast.Expr]:
    """The top-level AND list of a normalized expression (``[]`` for no WHERE)."""
    if expr is None or _is_bool(expr, True):
        return []
    if isinstance(expr, ast.And):
        return list(expr.items)
    return [expr]


def columns_of(expr: ast.Expr) -> set[tuple[str | None, str]]:
    """Every ``(qualifier, name)`` column an expression reads."""
    return {(n.qualifier, n.name) for n in ast.walk(expr) if isinstance(n, ast.Column)}


#: boolean functions of (column, literal) that connectors may push (multi-select membership)
MEMBERSHIP_FUNCTIONS = frozenset({"list_contains", "array_contains", "list_has"})


def predicate_column(expr: ast.Expr) -> ast.Column | None:
    """The column a simple predicate tests (see :func:`is_simple`), else None."""
    if isinstance(expr, ast.Compare):
        return expr.left if isinstance(expr.left, ast.Column) else None
    if isinstance(expr, (ast.InList, ast.Like, ast.IsNull)):
        return expr.operand if isinstance(expr.operand, ast.Column) else None
    if isinstance(expr, ast.Func) and expr.name in MEMBERSHIP_FUNCTIONS and len(expr.args) == 2:
        return expr.args[0] if isinstance(expr.args[0], ast.Column) else None
    return None


def is_simple(expr: ast.Expr) -> bool:
    """``column op literal``, ``column [NOT] IN (literals)``, ``column [NOT] [I]LIKE literal``, ``column IS [NOT] NULL``,
    ``list_contains(column, literal)``."""
    if isinstance(expr, ast.Func):
        return predicate_column(expr) is not None and _is_value(expr.args[1])
    if isinstance(expr, ast.Compare):
        return isinstance(expr.left, ast.Column) and _is_value(expr.right)
    if isinstance(expr, ast.InList):
        return isinstance(expr.operand, ast.Column) and all(_is_value(i) for i in expr.items)
    if isinstance(expr, ast.Like):
        return isinstance(expr.operand, ast.Column) and _is_value(expr.pattern)
    if isinstance(expr, ast.IsNull):
        return isinstance(expr.operand, ast.Column)
    return False
