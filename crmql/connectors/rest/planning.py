"""Planning one scan of a declared resource, written once for every REST vendor.

Given the candidates (one per WHERE conjunct, translated by the columns' capabilities) and what
the query needs, :func:`plan_scan` picks the access path and builds the :class:`FetchPlan`:

1. a **fan-out** resource with a required key column: one request per key value
   (:mod:`.fan_out`);
2. **reads by id** when a condition on the id column names at most ``max_ids`` ids (an id that
   cannot be one URL path segment names no record: it matches no row, and none left sends nothing;
   a child table's reads by id read its parents by the carried key, exploded by the fetcher);
3. a fan-out with an optional key (casavi Community's tickets) and at most ``max_values`` key
   values: one request per value (with none, or more, the key's condition stays local over 4);
4. otherwise a **search**: the conditions fitted to the request shape (:func:`choose_filters`,
   an OR split into one request per branch where the shape allows), exactness decided, COUNT(*)
   from the total of one 1-row request, vendor-side sort for ``ORDER BY .. LIMIT``, LIMIT as the
   page size when nothing is re-checked locally, else a stop once enough rows passed.

The requests in the plan are the requests sent: EXPLAIN renders them, the fetcher sends them.

>>> from crmql.plan.catalog import Column, ColumnType, FilterShape, Table
>>> from crmql.connectors.rest.paginators import OffsetPaginator
>>> res = Resource("events", "Events", "/s", method="POST", paginator=OffsetPaginator())
>>> table = Table("demo", "events", (Column("id", ColumnType.STRING),))
>>> plan = plan_scan(res, table, [], Needs(limit_rows=10))
>>> plan.mode, plan.requests[0].render(), plan.paging
(<Mode.SEARCH: 'search'>, 'POST /s\\n{"filter": {}, "limit": 10, "offset": 0}', 'limit/offset, 10 per page, stopping after 10 rows (nothing is re-checked locally)')
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Sequence
from typing import Any

from ...errors import QueryError
from ...language import ast
from ...plan.catalog import ColumnType, Table
from ...plan.connector import Candidate, FetchPlan, Mode, Needs, choose_filters
from .paginators import PagingFacts
from .filter_only import FilterOnly, param_text
from .spec import PARAM, Col, Resource
from .fan_out import plan_fan_out
from .support import addressable_ids, integral

__all__ = ["pick", "plan_scan"]

log = logging.getLogger(__name__)


def pick(candidates: Sequence[Candidate], ops: Sequence[str], *, field: str | None = None,
         limit: int | None = None, listed: bool = False, whole: bool = False, integer: bool = False) -> tuple[int, list[str]] | None:
    """The first candidate pushed as one condition with an operator in ``ops`` (on ``field``, when
    given) and at most ``limit`` distinct values (``listed``: values as listed, repeats counted),
    with its values that can be one URL path segment (:func:`~.support.addressable_ids`; integer
    ids as their digits);
    ``whole``: a candidate with any value that cannot be one is not taken (free-form ids);
    ``integer``: the ids are integers (a whole float is its integer, a fractional one names nothing).

    >>> from crmql.plan.pushdown import NativeCond, Pushed
    >>> from crmql.language import ast
    >>> c = Candidate(ast.Column("id"), push=Pushed((NativeCond("id", "in", ["a", "..", "b"]),), True))
    >>> pick([c], ("eq", "in"), field="id")
    (0, ['a', 'b'])
    """
    for i, cand in enumerate(candidates):
        if cand.push is None or len(cand.push.conds) != 1:
            continue
        cond = cand.push.conds[0]
        if cond.op not in ops or (field is not None and cond.field != field):
            continue
        values = cond.value if isinstance(cond.value, list) else [cond.value]
        if values and integer:
            values = integral(values, texts=True)  # id 1042.0 is 1042; 1042.5 names no record
            if not values:
                return i, []
        if not values or not all(isinstance(v, (str, int)) and not isinstance(v, bool) for v in values):
            continue
        if limit is not None and len(values if listed else set(values)) > limit:
            continue  # too many to read one by one: checked locally over a scan
        usable = addressable_ids(values)
        if whole and len(set(usable)) < len(set(values)):
            continue  # an id that is no path segment still names a record: found by a scan
        return i, usable
    return None


def _why_none(cand: Candidate, integer: bool) -> str:
    """Why none of a picked candidate's ids is read (EXPLAIN's paging line)."""
    cond = cand.push.conds[0] if cand.push is not None else None
    values = (cond.value if isinstance(cond.value, list) else [cond.value]) if cond is not None else []
    return "is a whole number" if integer and not integral(values, texts=True) else "can be a URL path segment"


def _uses(cand: Candidate, ops: Sequence[str]) -> bool:
    """Whether a native condition of the candidate (or of a branch of its OR) uses one of ``ops``."""
    pushes = (cand.push,) if cand.push is not None else cand.any_of or ()
    return any(c.op in ops for p in pushes for c in p.conds)


def _mentions(node: Any, names: set[str]) -> set[str]:
    """The column names of ``names`` (lower case) that ``node`` refers to."""
    if isinstance(node, ast.Column):
        return {node.name.lower()} & names
    found: set[str] = set()
    children = [getattr(node, f.name) for f in dataclasses.fields(node)] if dataclasses.is_dataclass(node) else []
    for child in children:
        for item in child if isinstance(child, (list, tuple)) else (child,):
            if isinstance(item, ast.Node):
                found |= _mentions(item, names)
    return found


def filter_params(res: Resource, candidates: Sequence[Candidate],
                  table: Table | None = None) -> dict[int, tuple[Col, Any]]:
    """The candidates that give a filter-only column its value (``col = value``), by index; any
    other condition on such a column is a QueryError: the column has no value of its own, so it
    would match nothing. The value is the typed one (the rows carry it): the native condition holds
    the text sent (:class:`~.filter_only.FilterOnly`), so the typed value is read again from the
    condition by the table's column capability where there is one."""
    columns = {c.name.lower(): c for c in res.columns if c.filter_only}
    found: dict[int, tuple[Col, Any]] = {}
    for i, cand in enumerate(candidates):
        named = _mentions(cand.expr, set(columns)) if columns else set()
        if not named:
            continue
        conds = cand.push.conds if cand.push is not None else ()
        if len(named) == 1 and len(conds) == 1 and conds[0].op == PARAM.op:
            col = columns[named.pop()]
            found[i] = (col, _typed(table, col, cand, conds[0].value))
            continue
        col = columns[sorted(named)[0]]
        raise QueryError(f"{col.name} exists only as the request parameter {col.param.name} of {res.name}: "  # type: ignore[union-attr]
                         "it can only be compared with =", at=getattr(cand.expr, "span", None),
                         hint=f"e.g. WHERE {col.name} = <value>, alone or ANDed with the other conditions")
    return found


def _typed(table: Table | None, col: Col, cand: Candidate, pushed: Any) -> Any:
    """The typed value of a filter-only condition (``pushed``, the native value, when the column
    has no :class:`~.filter_only.FilterOnly` capability to read it again)."""
    column = table.column(col.name) if table is not None else None
    cap = next((f for f in column.filters if isinstance(f, FilterOnly)), None) if column is not None else None
    return cap.value(cand.expr, column) if cap is not None and column is not None else pushed


def plan_scan(res: Resource, table: Table, candidates: Sequence[Candidate], needs: Needs, *,
              concurrency: int = 8, learned: dict[str, Any] | None = None,
              _given: frozenset[int] = frozenset()) -> FetchPlan:
    """The fetch plan of one scan of ``res`` (see the module docstring); ``learned``: what paging
    learned about the vendor on this connection (a page size it refused: the requests go without)."""
    fan = res.fan_out
    if fan is not None and fan.required:
        return _fan_out_plan(plan_fan_out(res, table, candidates, needs, learned))
    params = {} if _given else filter_params(res, candidates, table)
    if params:  # sent as parameters of every request; the rows carry the values
        plan = plan_scan(res, table, [Candidate(c.expr, reason="-") if i in params else c
                                      for i, c in enumerate(candidates)], needs, concurrency=concurrency,
                         learned=learned, _given=frozenset(params))
        for col, value in params.values():
            plan.requests = [col.param.put(r, (col.render or param_text)(value)) for r in plan.requests]  # type: ignore[union-attr]
            plan.fill[col.field or col.name] = value
        plan.used = tuple(sorted({*plan.used, *params}))
        plan.notes = {i: why for i, why in plan.notes.items() if i not in params}
        if plan.requests:
            plan.native = res.filters.view(plan.requests)
        return plan
    by_id = res.by_id
    if by_id is not None and not needs.count_only and not _given:
        column = table.column(by_id.column)
        integer = column is not None and column.type is ColumnType.INTEGER
        ids = pick(candidates, by_id.ops, field=column.native if column else by_id.column, limit=by_id.max_ids,
                   listed=by_id.count == "listed", whole=by_id.free_form,
                   integer=integer)
        if ids is not None:
            index, values = ids
            notes = {i: by_id.note for i, c in enumerate(candidates) if i != index and c.pushable}
            if not values:
                return FetchPlan(mode=Mode.NONE, used=(index,), notes=notes, native=[],
                                 paging=f"no id {_why_none(candidates[index], integer)}, so none names "
                                        f"{by_id.names}: nothing to fetch", estimate="0 requests")
            paging = f"one {by_id.method} per id ({len(values)}), concurrently"
            if res.explode is not None:  # the parents are read, each exploded into its rows
                paging += f": read by id of the parent {by_id.parent}, its {res.explode.array} exploded"
            return FetchPlan(mode=Mode.GET, used=(index,), notes=notes, native=values, keys=tuple(values),
                             requests=[by_id.request(v) for v in values], paging=paging,
                             estimate=f"{len(values)} {by_id.method} request(s)")
    local: dict[int, str] = {}
    if fan is not None and not _given:  # an optional key: a fan-out with its values, else one plain scan
        planned = plan_fan_out(res, table, candidates, needs, learned)
        if isinstance(planned, FetchPlan):
            return planned
        local = planned
        candidates = [Candidate(c.expr, reason=local[i]) if i in local else c for i, c in enumerate(candidates)]
    usable = list(candidates)
    if by_id is not None and by_id.only:  # ids are no filter parameter: such a condition stays local
        usable = [Candidate(c.expr, reason=by_id.only) if _uses(c, by_id.ops) else c for c in candidates]
    choice = choose_filters(table.shape, usable)
    choice.notes.update({i: u.reason for i, (u, c) in enumerate(zip(usable, candidates)) if u is not c})
    choice.notes.update(local)
    exact = (choice.split is None and all(usable[i].exact for i in choice.used)
             and len(choice.used) + len(_given) == len(usable))  # (a filter-only value is exact)
    paginator = res.paginator
    if needs.count_only:
        if choice.split is not None or res.explode is not None or paginator.total is None:
            # overlapping requests, parents, or no total at all: the planner plans a scan, counted locally
            return FetchPlan(mode=Mode.SEARCH)
        request = res.first_request(choice.first, 1)
        paging, estimate = paginator.describe_count(res.noun)
        return FetchPlan(mode=Mode.COUNT, requests=[request], used=tuple(choice.used), notes=choice.notes,
                         native=res.filters.view([request]), page_size=1, paging=paging, estimate=estimate)
    sort = None
    if (res.sort is not None and needs.order and needs.limit_rows is not None and choice.split is None
            and needs.order[0].type in res.sort.types):
        sort = needs.order[0]
    limit_rows = needs.limit_rows if (sort is not None or not needs.order) else None
    # (a child table's LIMIT counts children: the parents' pages are never cut to it)
    max_rows = limit_rows if (limit_rows is not None and exact and sort is None and res.explode is None) else None
    stop_early = limit_rows is not None and max_rows is None
    # (a vendor told no page size serves its own: LIMIT stops the scan by count instead)
    page = min(paginator.max_page, max_rows) if max_rows and paginator.size is not None else paginator.max_page
    if max_rows == 0:
        return FetchPlan(mode=Mode.NONE, used=tuple(choice.used), notes=choice.notes,
                         paging="LIMIT 0: nothing to fetch", estimate="0 requests")
    requests = [res.first_request(fs, page, sort.native if sort is not None else None) for fs in choice.requests]
    refused = any(paginator.refused(r, learned or {}) for r in requests)
    requests = [paginator.known(r, learned or {}) for r in requests]
    facts = PagingFacts(page, max_rows, stop_early, limit_rows, len(requests), sort.name if sort is not None else None,
                        concurrency, res.noun, refused)
    paging, estimate = paginator.describe(facts)
    return FetchPlan(mode=Mode.SEARCH, requests=requests, used=tuple(choice.used), notes=choice.notes,
                     native=res.filters.view(requests), page_size=page, max_rows=max_rows, stop_early=stop_early,
                     paging=paging, estimate=estimate, sorted_by=sort.name if sort is not None else None,
                     split=choice.split)


def _fan_out_plan(planned: FetchPlan | dict[int, str]) -> FetchPlan:
    """A required fan-out's plan (it always is one: the key is required)."""
    assert isinstance(planned, FetchPlan)
    return planned
