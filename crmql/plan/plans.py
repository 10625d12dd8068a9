"""What the planner hands the executor: a :class:`Plan` of :class:`ScanPlan` s.

Plain data (the executor and EXPLAIN read it; :mod:`crmql.plan.planner` builds it). A plan carries
its own semi-join narrowing (:meth:`Plan.narrow`), so the executor never imports the planner.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from ..language import ast
from .bind import BoundQuery
from .catalog import Table
from .connector import Candidate, Connector, FetchPlan
from .joins import MAX_VALUES, SemiJoin

__all__ = ["Plan", "ScanPlan"]


@dataclass
class ScanPlan:
    """One table read: the candidates, the connector's fetch plan, and the scan's own filter."""

    ref: ast.TableRef
    table: Table
    connector: Connector
    candidates: list[Candidate]
    fetch: FetchPlan
    contradiction: str | None = None
    #: the conjuncts that only read this table (for LIMIT's early stop)
    filter: list[ast.Expr] = field(default_factory=list)

    @property
    def pushed(self) -> list[tuple[Candidate, bool]]:
        # a used candidate with a note holds only for some of the scan's requests (a split OR)
        return [(self.candidates[i], self.candidates[i].exact and i not in self.fetch.notes) for i in self.fetch.used]

    @property
    def residual(self) -> list[tuple[ast.Expr, str]]:
        """Conjuncts that must be re-checked locally, each with the reason."""
        out = []
        used = set(self.fetch.used)
        for i, cand in enumerate(self.candidates):
            if i not in used:
                out.append((cand.expr, self.fetch.notes.get(i) or cand.reason or "not pushed"))
            elif i in self.fetch.notes:
                out.append((cand.expr, self.fetch.notes[i]))
            elif not cand.exact:
                notes = [p.note for p in ((cand.push,) if cand.push else cand.any_of or ()) if p.note]
                out.append((cand.expr, notes[0] if notes else "pushed as a superset"))
        return out

    @property
    def exact(self) -> bool:
        return not self.residual


@dataclass
class Plan:
    """The whole statement's plan."""

    bound: BoundQuery
    scans: list[ScanPlan]
    where: ast.Expr | None
    #: output column name when COUNT(*) is answered from the vendor's total
    count_column: str | None = None
    contradiction: str | None = None
    #: join sides narrowed at run time by the key values of the other side (see crmql.plan.joins)
    semijoins: list[SemiJoin] = field(default_factory=list)
    #: how the planner narrows a semi-join's target by key values (see :meth:`narrow`)
    narrower: Callable[[Plan, SemiJoin, list[Any]], list[ScanPlan] | None] | None = \
        field(default=None, repr=False, compare=False)

    @property
    def select(self) -> ast.Select:
        return self.bound.select

    def narrow(self, join: SemiJoin, values: list[Any]) -> list[ScanPlan] | None:
        """The plans that read ``join``'s target restricted to ``values`` of its key, one per chunk
        of values, or None when the scan runs as planned (no values, more than
        :data:`~crmql.plan.joins.MAX_VALUES`, or a vendor that would not take the filter).

        The executor calls this with the key values it fetched from the join's source; the planner
        put the ``narrower`` here, so the executor never imports the planner.
        """
        if self.narrower is None or not 0 < len(values) <= MAX_VALUES:
            return None
        return self.narrower(self, join, values)
