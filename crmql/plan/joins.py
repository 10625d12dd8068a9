"""Semi-join pushdown: narrow one side of an equi-join with the key values of the other side.

For ``contacts c JOIN organizations o ON c.organization_id = o.id WHERE o.country = 'NL'`` crmql
fetches the organizations first (their filter is pushed), then fetches only the contacts whose
``organization_id`` is one of those ids, pushed natively as ``IN`` (in chunks), instead of every
contact. The narrowed scan is a superset of the rows that can join, and DuckDB still runs the join
and the whole WHERE, so the answer is unchanged.

Rules: only equalities between two plain columns (in ON, or in the WHERE of an inner join); never
narrow the preserved side of a LEFT JOIN; only when the target column can push ``=``/``IN``; at
most :data:`MAX_VALUES` distinct values (else the target is scanned as planned).

>>> SemiJoin(source=1, source_column="id", target=0, target_column="organization_id").describe(["c", "o"])
'c.organization_id IN (the id values of o, fetched first)'
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..language import ast
from .bind import BoundQuery
from .coerce import literal_from_python
from .predicates import conjuncts, normalize

__all__ = ["MAX_VALUES", "CHUNK", "SemiJoin", "find_semijoins", "narrowing_candidate"]

#: above this many distinct key values the target is scanned as planned
MAX_VALUES = 500
#: key values per request
CHUNK = 50


@dataclass(frozen=True)
class SemiJoin:
    """``target.target_column IN (values of source.source_column)``; indexes into the plan's scans."""

    source: int
    source_column: str
    target: int
    target_column: str

    def describe(self, refs: list[str]) -> str:
        return (f"{refs[self.target]}.{self.target_column} IN (the {self.source_column} values of "
                f"{refs[self.source]}, fetched first)")


def _pairs(select: ast.Select) -> list[tuple[ast.Column, ast.Column, str | None]]:
    """Column = column equalities usable for narrowing, with the LEFT JOIN's right side if any."""
    out = []
    for join in select.joins:
        right = join.table.ref_name if join.kind == "left" else None
        for c in conjuncts(normalize(join.on)):
            if isinstance(c, ast.Compare) and c.op == "=" and isinstance(c.left, ast.Column) \
                    and isinstance(c.right, ast.Column) and c.left.qualifier != c.right.qualifier:
                out.append((c.left, c.right, right))
    if select.where is not None and not any(j.kind == "left" for j in select.joins):
        for c in conjuncts(normalize(select.where)):
            if isinstance(c, ast.Compare) and c.op == "=" and isinstance(c.left, ast.Column) \
                    and isinstance(c.right, ast.Column) and c.left.qualifier != c.right.qualifier:
                out.append((c.left, c.right, None))
    return out


def _pushable_in(bound: BoundQuery, col: ast.Column) -> bool:
    column = bound.column(col)
    if column is None:
        return False
    probe = ast.InList(col, (ast.Literal("a", "string"), ast.Literal("b", "string")))
    return any(not isinstance(cap.push(probe, column), str) for cap in column.filters)


def find_semijoins(bound: BoundQuery, selectivity: list[int]) -> list[SemiJoin]:
    """Pick, per equi-join, which side narrows the other: the side with more pushed filters goes
    first (``selectivity`` counts them per scan); a LEFT JOIN's preserved side is never narrowed,
    and a scan is narrowed at most once and never by a scan it narrows."""
    refs = [ref.ref_name for ref, _ in bound.tables]
    chosen: list[SemiJoin] = []
    targets: set[int] = set()
    for a, b, left_right in _pairs(bound.select):
        ia, ib = refs.index(a.qualifier), refs.index(b.qualifier)
        options = []
        for src, src_col, tgt, tgt_col in ((ia, a, ib, b), (ib, b, ia, a)):
            if left_right is not None and refs[tgt] != left_right:
                continue  # narrowing the preserved side of a LEFT JOIN would drop its rows
            if tgt in targets or src in targets or not _pushable_in(bound, tgt_col):
                continue
            options.append((selectivity[src] - selectivity[tgt], tgt, SemiJoin(src, src_col.name, tgt, tgt_col.name)))
        if options:
            options.sort(key=lambda o: (-o[0], -o[1]))
            best = options[0][2]
            if any(s.target == best.source for s in chosen):
                continue
            chosen.append(best)
            targets.add(best.target)
    return chosen


def narrowing_candidate(ref_name: str, column: str, values: list[Any]) -> ast.Expr:
    """``ref_name.column IN (values)`` as an expression for the target scan.

    >>> narrowing_candidate("c", "organization_id", [7]).items[0].value
    7
    """
    return ast.InList(ast.Column(column, ref_name), tuple(literal_from_python(v) for v in values))
