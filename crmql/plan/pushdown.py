"""Native filter capabilities: what a vendor can do with one column, and how a predicate maps to it.

A connector declares, per column, capabilities such as ``Equality("eq", in_op="in")`` or
``Range("after", "before", inclusive=None)``. Given one simple predicate (``column op literal``,
``column IN (...)``, ``column LIKE '...'``) a capability returns a :class:`Pushed` (the native
conditions to send, and whether they are *exact*) or a reason why it cannot push it.

The contract (design section 5): what is pushed must select a **superset** of the rows the
predicate selects, under every plausible reading of the vendor's docs. ``exact=False`` means the
local re-check is what makes the answer right (shillelagh's ``exact=False``).

>>> from crmql.language import ast
>>> from crmql.plan.catalog import Column, ColumnType
>>> col = Column("name", ColumnType.STRING)
>>> Substring("like").push(ast.Like(ast.Column("name"), ast.Literal("%Work%shop%", "string")), col)
Pushed(conds=(NativeCond(field='name', op='like', value='Work'),), exact=False, note="'%Work%shop%' pushed as like 'Work' (superset), re-checked locally")
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ..language import ast
from .columns import Capability, Column, ColumnType, NativeCond, Pushed
from ..language.values import to_utc

__all__ = ["Capability", "Equality", "Membership", "NativeCond", "Pushed", "Range", "Substring", "like_runs"]


def _identity(value: Any) -> Any:
    return value


def _literal(expr: ast.Expr) -> Any:
    assert isinstance(expr, ast.Literal)
    return expr.value


def _is_text(column: Column) -> bool:
    return column.type in (ColumnType.STRING, ColumnType.LIST)


@dataclass(frozen=True)
class Equality(Capability):
    """``=`` and ``IN`` as a native equality (and membership) operator.

    ``case_sensitive`` is the vendor's string comparison when known (None: unknown). Either way an
    equality pushed for a string selects a superset; it is exact only when the vendor is known to
    be case-sensitive, or the column has a closed vocabulary of canonical values and the value is
    one of them (a case-insensitive match can then only find that same value).
    """

    op: str = "eq"
    in_op: str | None = "in"
    case_sensitive: bool | None = None
    render: Callable[[Any], Any] = _identity
    #: values are canonical lower-case ids (hex, account ids): a lower-case value is matched exactly
    #: even by a case-insensitive vendor, since no other id differs from it only in case
    lowercase_ids: bool = False

    @property
    def sql_ops(self) -> tuple[str, ...]:  # type: ignore[override]
        return ("=", "IN") if self.in_op else ("=", "IN (as repeated =)")

    def describe(self) -> str:
        return "=, IN"

    def _exact(self, column: Column, values: list[Any]) -> bool:
        if column.type is ColumnType.DATE and any(isinstance(v, dt.datetime) for v in values):
            return False  # a date column compared with a time of day: the vendor sees only the date
        if not _is_text(column) or self.case_sensitive:
            return True
        if self.lowercase_ids and all(isinstance(v, str) and v == v.casefold() for v in values):
            return True
        return column.options is not None and all(v in column.options for v in values)

    def push(self, pred: ast.Expr, column: Column) -> Pushed | str:
        if isinstance(pred, ast.Compare) and pred.op == "=":
            value = _literal(pred.right)
            exact = self._exact(column, [value])
            return Pushed((NativeCond(column.native, self.op, self.render(value)),), exact,
                          "" if exact else "string equality may ignore case at the vendor; re-checked locally")
        if isinstance(pred, ast.InList) and not pred.negated:
            values = [_literal(v) for v in pred.items if _literal(v) is not None]
            if not values:
                return "IN list has no non-NULL values"
            exact = self._exact(column, values)
            note = "" if exact else "string equality may ignore case at the vendor; re-checked locally"
            if len(values) == 1:
                return Pushed((NativeCond(column.native, self.op, self.render(values[0])),), exact, note)
            if self.in_op is None:
                return f"no native IN for {column.name}"
            return Pushed((NativeCond(column.native, self.in_op, [self.render(v) for v in values]),), exact, note)
        return f"no native operator for {_describe(pred)}"


@dataclass(frozen=True)
class Range(Capability):
    """``< <= > >= =`` (and BETWEEN, normalized to two comparisons) as a native lower/upper bound.

    ``inclusive`` says whether the native bounds include the bound itself (None: undocumented).
    Where the vendor's reading is unknown or stricter than SQL's, the bound is widened by ``widen``
    and the predicate is re-checked locally.
    """

    lower: str = "after"
    upper: str = "before"
    inclusive: bool | None = None
    widen: Any = dt.timedelta(seconds=1)
    render: Callable[[Any], Any] = _identity
    equality_window: bool = True
    sql_ops: tuple[str, ...] = ("<", "<=", ">", ">=", "BETWEEN")

    def push(self, pred: ast.Expr, column: Column) -> Pushed | str:
        try:
            return self._push(pred, column)
        except OverflowError:  # widening a bound at year 1 or 9999; not pushing is always a superset
            return "the value is at the limit of the calendar and cannot be widened; checked locally"

    def _push(self, pred: ast.Expr, column: Column) -> Pushed | str:
        if not isinstance(pred, ast.Compare):
            return f"no native operator for {_describe(pred)}"
        value = _literal(pred.right)
        if not _fits(value, column):  # the binder types literals; a value of another type is not widened
            return f"{value!r} is not a {column.type.value}; checked locally"
        if column.type is ColumnType.TIMESTAMP and isinstance(value, dt.date):
            value = to_utc(value)
        if column.type is ColumnType.DATE and isinstance(value, dt.datetime):
            # the vendor sees only the date: the inclusive day bounds still hold every row, not exactly
            pushed = Range.push(self, ast.replace(pred, right=ast.Literal(value.date(), "date")), column)
            return Pushed(pushed.conds, False, "a time of day on a date column; re-checked locally") \
                if isinstance(pushed, Pushed) else pushed
        op = pred.op
        if op == "=":
            if not self.equality_window:
                return "no native equality"
            lo, hi = value - self.widen, value + self.widen
            return Pushed((NativeCond(column.native, self.lower, self.render(lo)),
                           NativeCond(column.native, self.upper, self.render(hi))), False,
                          f"= pushed as a window {self.lower}/{self.upper} around the value, re-checked locally")
        if op in (">", ">="):
            native, strict, shift = self.lower, op == ">", -self.widen
        elif op in ("<", "<="):
            native, strict, shift = self.upper, op == "<", self.widen
        else:
            return f"no native operator for {op}"
        if self.inclusive is None:
            bound = value if strict else value + shift
            note = f"{self.lower}/{self.upper} may or may not include the bound; " + (
                "pushed as is" if strict else "widened by one step") + ", re-checked locally"
            return Pushed((NativeCond(column.native, native, self.render(bound)),), False, note)
        if self.inclusive:  # native >= / <=
            return Pushed((NativeCond(column.native, native, self.render(value)),), not strict,
                          f"{op} pushed as inclusive {native}, re-checked locally" if strict else "")
        # native > / <
        if strict:
            return Pushed((NativeCond(column.native, native, self.render(value)),), True)
        return Pushed((NativeCond(column.native, native, self.render(value + shift)),), False,
                      f"{op} pushed as exclusive {native} of a widened bound, re-checked locally")


def _fits(value: Any, column: Column) -> bool:
    """Whether a range bound can be widened and rendered for ``column`` (a date or time for a date or
    timestamp column, a number for a number column; other columns as the capability's own render)."""
    if column.type in (ColumnType.TIMESTAMP, ColumnType.DATE):
        return isinstance(value, dt.date)
    if column.type in (ColumnType.INTEGER, ColumnType.FLOAT):
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    return True


_REGEX_META = set(".^$*+?()[]{}|\\")


def like_runs(pattern: str) -> list[str]:
    """The literal runs of a SQL LIKE pattern (``%`` and ``_`` are wildcards; no escape character).

    >>> like_runs("%Sales%Work_shop")
    ['Sales', 'Work', 'shop']
    """
    return [r for r in re.split(r"[%_]+", pattern) if r]


@dataclass(frozen=True)
class Substring(Capability):
    """``LIKE`` / ``ILIKE`` as a native substring match (Azavista ``like``, Atlas ``contains``).

    Any LIKE pattern implies its longest literal run occurs in the value, so pushing that run as a
    substring match is a superset. ``case_sensitive``: the vendor's matching when known (None:
    unknown); ILIKE is pushed only when the vendor is known to ignore case. ``regex_safe``: the
    vendor might read the value as a regular expression, so only runs free of regex
    metacharacters are pushed.
    """

    op: str = "like"
    case_sensitive: bool | None = None
    regex_safe: bool = True
    sql_ops: tuple[str, ...] = ("LIKE", "ILIKE")

    def describe(self) -> str:
        return "LIKE" if self.case_sensitive is not False else "LIKE, ILIKE"

    def push(self, pred: ast.Expr, column: Column) -> Pushed | str:
        if not isinstance(pred, ast.Like) or pred.negated:
            return f"no native operator for {_describe(pred)}"
        pattern = _literal(pred.pattern)
        if not isinstance(pattern, str):
            return "LIKE pattern is not a string"
        if pred.case_insensitive and self.case_sensitive is not False:
            return (f"the vendor's {self.op} may be case-sensitive, so ILIKE is not pushed "
                    f"(set {self.op}_case_sensitive = false on the connection if it is not)")
        runs = like_runs(pattern)
        if self.regex_safe:
            runs = [piece for run in runs for piece in re.split(r"[.^$*+?()\[\]{}|\\]+", run) if piece]
        if not runs:
            return f"pattern {pattern!r} has no literal text to search for"
        best = max(runs, key=len)
        whole = pattern == f"%{best}%" and not (self.regex_safe and set(best) & _REGEX_META)
        exact = whole and (self.case_sensitive is True or (pred.case_insensitive and self.case_sensitive is False))
        note = "" if exact else f"{pattern!r} pushed as {self.op} {best!r} (superset), re-checked locally"
        return Pushed((NativeCond(column.native, self.op, best),), exact, note)


@dataclass(frozen=True)
class Membership(Capability):
    """``list_contains(column, 'label')`` on a list column as a native contains (Atlas multi-select).

    Whether the vendor matches the whole label, and with which case, is undocumented: pushed as a
    superset and re-checked unless ``exact`` is configured.
    """

    op: str = "contains"
    exact: bool = False
    sql_ops: tuple[str, ...] = ("list_contains",)

    def push(self, pred: ast.Expr, column: Column) -> Pushed | str:
        if isinstance(pred, ast.Func) and len(pred.args) == 2 and isinstance(pred.args[1], ast.Literal) \
                and isinstance(pred.args[1].value, str):
            value = pred.args[1].value
            note = "" if self.exact else f"{self.op} may match labels by substring or ignore case; re-checked locally"
            return Pushed((NativeCond(column.native, self.op, value),), self.exact, note)
        return f"no native operator for {_describe(pred)}"


def _describe(pred: ast.Expr) -> str:
    if isinstance(pred, ast.Compare):
        return pred.op
    if isinstance(pred, ast.InList):
        return "NOT IN" if pred.negated else "IN"
    if isinstance(pred, ast.Like):
        word = "ILIKE" if pred.case_insensitive else "LIKE"
        return f"NOT {word}" if pred.negated else word
    if isinstance(pred, ast.IsNull):
        return "IS NOT NULL" if pred.negated else "IS NULL"
    if isinstance(pred, ast.Func):
        return f"{pred.name}()"
    return type(pred).__name__
