"""The capability of a filter-only column (:attr:`~.spec.Col.param`): a value that exists only as a
request parameter (casavi's ``modifiedAfter``: the records carry no modification time).

``WHERE col = value`` (or a one-value IN) is sent as the parameter and is exact *by the vendor's
definition*: the vendor decides which records match, and crmql has no value of its own to re-check
(every fetched row carries the value asked for). DESCRIBE and EXPLAIN say so in those words, and
EXPLAIN names the native condition after the parameter, with the value as the request sends it
(the column's ``render``, :func:`param_text` by default: the text the vendor reads, not crmql's own
spelling of the value); any other condition on the column is refused by the planner
(:func:`~.planning.filter_params`), which takes the typed value (:meth:`FilterOnly.value`) for the
rows and the rendered one for the request.

>>> from crmql.language import ast
>>> from crmql.plan.catalog import Column, ColumnType
>>> cap = FilterOnly(sent_as="modifiedAfter")
>>> cap.describe()
"= only (filter-only: sent as modifiedAfter, exact by the vendor's definition, not re-checked)"
>>> col = Column("modifiedAfter", ColumnType.STRING, filters=(cap,))
>>> cap.push(ast.Compare("=", ast.Column("modifiedAfter"), ast.Literal("x", "string")), col).note
"exact by the vendor's definition (filter-only: sent as modifiedAfter; the records carry no value to re-check)"
>>> import datetime as dt
>>> when = ast.Compare("=", ast.Column("modifiedAfter"), ast.Literal(dt.date(2026, 11, 1), "date"))
>>> shown = FilterOnly(sent_as="modifiedAfter", render=lambda d: d.strftime("%Y-%m-%dT00:00:00.000Z"))
>>> shown.push(when, col).conds[0].value, shown.value(when, col)
('2026-11-01T00:00:00.000Z', datetime.date(2026, 11, 1))
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
from dataclasses import dataclass
from typing import Any

from ...language import ast
from ...plan.columns import Column, Pushed
from ...plan.pushdown import Equality

__all__ = ["FilterOnly", "param_text"]

log = logging.getLogger(__name__)


def param_text(value: Any) -> str:
    """A filter-only value as a request parameter: times and dates in ISO-8601, the rest as text.

    >>> param_text(dt.date(2026, 11, 1)), param_text(True)
    ('2026-11-01', 'True')
    """
    return value.isoformat() if isinstance(value, (dt.date, dt.datetime)) else str(value)


def _same(value: Any) -> Any:
    return value


@dataclass(frozen=True)
class FilterOnly(Equality):
    """``=`` (or IN with one value) sent as the request parameter ``sent_as``; always exact. The
    native condition's value is ``render(value)``: the text sent (:meth:`value`: the typed value)."""

    op: str = "param"
    in_op: str | None = None
    case_sensitive: bool | None = True
    #: the request parameter the value goes to (for DESCRIBE and EXPLAIN)
    sent_as: str = ""

    def _where(self) -> str:
        return f"sent as {self.sent_as}" if self.sent_as else "sent as a request parameter"

    def describe(self) -> str:
        return f"= only (filter-only: {self._where()}, exact by the vendor's definition, not re-checked)"

    def push(self, pred: ast.Expr, column: Column) -> Pushed | str:
        pushed = super().push(pred, column)
        if not isinstance(pushed, Pushed):
            return pushed
        conds = tuple(dataclasses.replace(c, field=self.sent_as) for c in pushed.conds) if self.sent_as else pushed.conds
        return Pushed(conds, True, f"exact by the vendor's definition (filter-only: {self._where()}; the records "
                                   "carry no value to re-check)")

    def value(self, pred: ast.Expr, column: Column) -> Any:
        """The typed value ``pred`` gives the column (what its rows carry), before ``render``."""
        pushed = Equality.push(dataclasses.replace(self, render=_same), pred, column)
        if not isinstance(pushed, Pushed):
            raise ValueError(pushed)
        return pushed.conds[0].value
