"""A fan-out: one scan per value of a key column, planned and fetched for every REST vendor.

Planning (:func:`plan_fan_out`): the key's values come from ``key = v`` / ``key IN (..)`` (or a
join, which the planner turns into an IN list of at most 50 values per chunk); each value is put
at the fan-out's :class:`~.place.Place` (a path segment, or a query parameter). Every other pushed
condition whose native operators are all parameters of the endpoint (:attr:`FanOut.filters`) goes
into each request, each parameter once (two bounds on one: the tightest; :func:`fan_filters`). An optional key (``required=False``)
with no values, or more than ``max_values``, is no fan-out: the caller plans ONE ordinary scan and
the key condition stays local (:func:`key_left_local`). COUNT(*) is one request per key, summed,
when the paginator's total is a count and every condition is pushed.

A join supplies the key as that IN list: the planner narrows the joined scan with the other
side's key values in chunks of 50 (``CHUNK`` in :mod:`crmql.plan.joins`), each chunk planned here as
a fan-out of its values (50 = ``max_values``, so an optional key fans out too): one scan per
distinct key value in all, the result complete (the chunks' rows are unioned, each key read once).

Fetching is :mod:`.fan_fetch` (concurrent per key; with a LIMIT in key order within a window; a
failure names its key and returns nothing partial). The 404 policy (:func:`report_missing`): a key
answering 404 has no rows, with a warning naming it; EVERY key answering 404 is an error naming the
request template where the fan-out declares a ``missing_hint`` (its paths are guesses). An error
answered for one key names it (:func:`named`).

>>> from crmql.language import ast
>>> from crmql.plan.pushdown import NativeCond, Pushed
>>> from crmql.plan.catalog import Column, ColumnType, Table
>>> from .spec import Col, FanOut, Resource
>>> res = Resource("units", "Units", "/api/v1/units", records="", columns=(Col("community_id", ColumnType.INTEGER),),
...                fan_out=FanOut("community_id", op="eq", place=Place.query("community_id"), required=False))
>>> table = Table("c", "units", (Column("community_id", ColumnType.INTEGER),))
>>> key = Candidate(ast.Column("community_id"), push=Pushed((NativeCond("community_id", "eq", [12, 15]),), True))
>>> [r.render() for r in plan_fan_out(res, table, [key], Needs()).requests]
['GET /api/v1/units?community_id=12', 'GET /api/v1/units?community_id=15']
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from ... import stats
from ...errors import ConnectorError, VendorHTTPError
from ...plan.catalog import ColumnType, Table
from ...plan.connector import Candidate, FetchPlan, Mode, NativeRequest, Needs
from ...plan.pushdown import Equality, Range
from .counted import parse_time
from .place import In, Place
from .support import addressable, integral

if TYPE_CHECKING:
    from .spec import FanOut, Resource

#: a :class:`~.connector.RestConnector` (not imported: the connector imports this module)
RestConnector = Any

__all__ = ["fan_filters", "key_left_local", "key_values", "named", "plan_fan_out", "report_missing", "request_template"]

log = logging.getLogger(__name__)


def key_values(fan: FanOut, table: Table, candidates: Sequence[Candidate]) -> tuple[int, list[Any]] | None:
    """The first candidate giving the key column its values (``=`` or ``IN``, pushed as ``fan.op`` or
    as the column's equality operators), and the distinct values (text or integers), in order.

    >>> from crmql.language import ast
    >>> from crmql.plan.pushdown import NativeCond, Pushed
    >>> from crmql.plan.catalog import Column, ColumnType
    >>> from .spec import FanOut
    >>> t = Table("c", "t", (Column("k", ColumnType.INTEGER, filters=(Equality("eq", "in"),)),))
    >>> key_values(FanOut("k", op="eq"), t, [Candidate(ast.Column("k"), push=Pushed((NativeCond("k", "in", [3, 3, 4]),), True))])
    (0, [3, 4])
    >>> key_values(FanOut("k", op="eq"), t, [Candidate(ast.Column("k"), push=Pushed((NativeCond("k", "in", [3.0, 4.5]),), True))])
    (0, [3])
    """
    column = table.column(fan.column)
    native = column.native if column is not None else fan.column
    ops = {fan.op}
    integer = column is not None and column.type is ColumnType.INTEGER
    for cap in column.filters if column is not None else ():
        if isinstance(cap, Equality):
            ops |= {cap.op, *((cap.in_op,) if cap.in_op else ())}
    for i, cand in enumerate(candidates):
        if cand.push is None or len(cand.push.conds) != 1:
            continue
        cond = cand.push.conds[0]
        if cond.op not in ops or cond.field != native:
            continue
        values = cond.value if isinstance(cond.value, list) else [cond.value]
        if values and integer:
            values = integral(values)  # 12.0 is community 12; 15.5 is none (possibly none is left)
        elif not values:
            continue
        if not all(isinstance(v, (str, int)) and not isinstance(v, bool) for v in values):
            continue
        return i, list({str(v): v for v in values}.values())
    return None


def _text(value: Any) -> str:
    """A filter value as a query parameter's text.

    >>> _text(True), _text(3), _text("2026-12-01T00:00:00.000Z")
    ('true', '3', '2026-12-01T00:00:00.000Z')
    """
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (dt.datetime, dt.date)):
        return value.isoformat()
    return str(value)


def fan_filters(fan: FanOut, table: Table, candidates: Sequence[Candidate],
                skip: int) -> tuple[list[int], list[tuple[str, str]], dict[int, str]]:
    """The candidates every fan-out request carries (all their native operators are parameters of
    the endpoint), the parameters as sent, and why a candidate that could have gone stays local
    (its parameter is already taken). Two bounds of one range on the same parameter
    (``created_at > a AND created_at > b``) both go: the tightest is sent (:func:`_tightest`).

    >>> from crmql.language import ast
    >>> from crmql.plan.pushdown import NativeCond, Pushed
    >>> from crmql.plan.catalog import Column, ColumnType
    >>> from .spec import FanOut
    >>> t = Table("c", "n", (Column("created_at", ColumnType.TIMESTAMP),))
    >>> c = lambda op, v: Candidate(ast.Column("created_at"), push=Pushed((NativeCond("created_at", op, v),), False))
    >>> fan_filters(FanOut("k", filters={"after": "after", "before": "before"}), t, [c("after", "A"), c("after", "B"), c("before", "C")], -1)
    ([0, 2], [('after', 'A'), ('before', 'C')], {1: 'the endpoint takes after once per request (an earlier condition has it); checked locally'})
    """
    used: list[int] = []
    params: list[tuple[str, str]] = []
    notes: dict[int, str] = {}
    for i, cand in enumerate(candidates):
        if i == skip or cand.push is None or not cand.push.conds:
            continue
        if not all(c.op in fan.filters for c in cand.push.conds):
            continue
        mine: list[tuple[str, str]] = []
        for cond in cand.push.conds:
            value = cond.value
            if isinstance(value, list):
                if len(value) != 1:
                    break  # several values: one parameter holds one
                value = value[0]
            column = next((c for c in table.columns if c.native == cond.field), None)
            if column is not None and column.options is not None and value not in column.options:
                break  # the vendor refuses a value it does not know (a 400): checked locally instead
            mine.append((fan.filters[cond.op], _text(value)))
        else:
            names = [n for n, _ in mine]
            taken = {n for n, _ in params}
            merged = _tightest(table, cand, mine, params) if set(names) & taken else None
            if len(set(names)) < len(names) or (set(names) & taken and merged is None):
                name = sorted(set(names) & taken or names)[0]
                notes[i] = f"the endpoint takes {name} once per request (an earlier condition has it); checked locally"
                continue
            used.append(i)
            if merged is not None:  # two bounds on one parameter: the tightest is sent (both are re-checked)
                params[:] = merged
            else:
                params.extend(mine)
    return used, params, notes


def _tightest(table: Table, cand: Candidate, mine: list[tuple[str, str]],
              params: list[tuple[str, str]]) -> list[tuple[str, str]] | None:
    """``params`` with ``mine`` added where a parameter already taken is a bound of the same range
    (a lower bound: the later value is sent, an upper bound: the earlier), else None (not comparable:
    the condition stays local). Sending the tighter bound drops only rows the other bound drops too.

    >>> from crmql.language import ast
    >>> from crmql.plan.catalog import Column, ColumnType
    >>> from crmql.plan.pushdown import NativeCond, Pushed, Range
    >>> t = Table("c", "n", (Column("created_at", ColumnType.TIMESTAMP, filters=(Range(),)),))
    >>> c = Candidate(ast.Column("created_at"), push=Pushed((NativeCond("created_at", "after", "2026-11-02T00:00:00Z"),), False))
    >>> _tightest(t, c, [("after", "2026-11-02T00:00:00Z")], [("after", "2026-11-01T00:00:00Z"), ("unreadOnly", "true")])
    [('after', '2026-11-02T00:00:00Z'), ('unreadOnly', 'true')]
    """
    assert cand.push is not None
    out = list(params)
    for cond, (name, value) in zip(cand.push.conds, mine):
        at = next((k for k, (n, _) in enumerate(out) if n == name), None)
        if at is None:
            out.append((name, value))
            continue
        column = next((c for c in table.columns if c.native == cond.field), None)
        bound = next((f for f in (column.filters if column is not None else ()) if isinstance(f, Range)), None)
        old, new = _ordered(out[at][1]), _ordered(value)
        if bound is None or cond.op not in (bound.lower, bound.upper) or old is None or new is None \
                or type(old) is not type(new):
            return None
        later = new > old  # type: ignore[operator]
        if later == (cond.op == bound.lower):
            out[at] = (name, value)
    return out


def _ordered(text: str) -> Any:
    """A parameter's value as something ordered: a time (ISO-8601) or a number; else None."""
    when = parse_time(text)
    if when is not None:
        return when
    try:
        return float(text)
    except ValueError:
        return None


def key_left_local(fan: FanOut, index: int, count: int) -> str:
    """Why an optional key's condition stays local over one unscoped scan.

    >>> from .spec import FanOut
    >>> key_left_local(FanOut("community_id", required=False, noun="community"), 0, 60)
    'community_id has 60 values, more than the 50 read one community at a time: one request without it, checked locally'
    """
    return (f"{fan.column} has {count} values, more than the {fan.max_values} read one {fan.noun} at a time: one "
            "request without it, checked locally")


def plan_fan_out(res: Resource, table: Table, candidates: Sequence[Candidate], needs: Needs,
                 learned: dict[str, Any] | None = None) -> FetchPlan | dict[int, str]:
    """The fan-out plan, or (an optional key without usable values) the notes of the key candidates
    that stay local over one ordinary scan, which the caller plans (see the module docstring)."""
    fan = res.fan_out
    assert fan is not None
    found = key_values(fan, table, candidates)
    if found is None:
        if fan.required:  # the planner enforces the required filter; this is a second guard
            return FetchPlan(mode=Mode.NONE, paging=f"no {fan.column}", estimate="0 requests")
        return {}
    index, values = found
    if not values:  # every value was a fractional number: no integer key equals it
        return FetchPlan(mode=Mode.NONE, used=(index,), paging=f"no {fan.noun} can match ({fan.column} is an "
                         "integer, and no value is a whole number): nothing to fetch", estimate="0 requests")
    if not fan.required and len(values) > fan.max_values:
        return {index: key_left_local(fan, index, len(values))}
    if fan.place.where is In.PATH:
        values = [v for v in values if addressable(v)]
    if not values:
        return FetchPlan(mode=Mode.NONE, used=(index,), paging=f"no {fan.column} can be a URL path segment, so none "
                         f"names {fan.names}: nothing to fetch", estimate="0 requests")
    paginator = res.paginator
    page = paginator.max_page
    base = paginator.first(NativeRequest(res.method, res.path, params=list(res.params) or None), page)
    used, params, notes = fan_filters(fan, table, candidates, index)
    for name, value in params:
        base = Place.query(name).put(base, value)
    base = paginator.known(base, learned or {})
    used = sorted([index, *used])
    notes.update({i: fan.note for i, c in enumerate(candidates) if i not in used and i not in notes and c.pushable})
    requests = [fan.place.put(base, v) for v in values]
    native: Any = (values, list(base.params or ()))
    if needs.count_only:
        exact = len(used) == len(candidates) and all(candidates[i].exact for i in used)
        by_pages = paginator.total is None and getattr(paginator, "page_count", None) and paginator.size is not None
        if len(used) < len(candidates) or not (paginator.total is not None or (by_pages and exact)):
            return FetchPlan(mode=Mode.SEARCH)  # no count per key, or a condition the count cannot carry
        if paginator.total is None:  # pages of one row: the page count is the row count
            one = paginator.sized(base, 1)
            return FetchPlan(mode=Mode.COUNT, used=tuple(used), notes=notes, native=native, keys=tuple(values),
                             requests=[fan.place.put(one, v) for v in values], page_size=1,
                             paging=f"none: {paginator.page_count} of one request per {fan.noun} asking "
                                    f"{paginator.size.name}=1 (pages of one row), summed; a {fan.noun} answered "
                                    "with another page size is counted over its scan",
                             estimate=f"{len(values)} request(s) (one per {fan.noun})")
        return FetchPlan(mode=Mode.COUNT, used=tuple(used), notes=notes, native=native, keys=tuple(values),
                         requests=requests, paging=f"none: {paginator.total} of one request per {fan.noun}, summed",
                         estimate=f"{len(values)} request(s) (one per {fan.noun})")
    limit_rows = needs.limit_rows if not needs.order else None
    exact = len(used) == len(candidates) and all(candidates[i].exact for i in used)
    max_rows = limit_rows if exact else None  # nothing re-checked: LIMIT is a row count (and the page size)
    stop_early = limit_rows is not None and max_rows is None
    if max_rows == 0:
        return FetchPlan(mode=Mode.NONE, used=tuple(used), notes=notes, paging="LIMIT 0: nothing to fetch",
                         estimate="0 requests")
    if max_rows and paginator.size is not None and max_rows < page:
        page = max_rows
        base = paginator.sized(base, page)
        requests = [fan.place.put(base, v) for v in values]
    how = (f"per {fan.noun} ({len(values)}), a window of them concurrently, delivered in order, stopping after "
           f"{max_rows} rows" if max_rows else
           f"per {fan.noun} ({len(values)}), a window of them concurrently, each a page at a time, delivered in "
           f"order until {limit_rows} rows pass the local re-check" if stop_early else
           f"per {fan.noun} ({len(values)}) concurrently")
    return FetchPlan(mode=Mode.FAN_OUT, used=tuple(used), notes=notes, native=native, keys=tuple(values),
                     requests=requests, paging=f"{how}, {paginator.brief(page)}", page_size=page, max_rows=max_rows,
                     stop_early=stop_early,
                     estimate=f"{len(values)} request(s) or {'fewer' if limit_rows is not None else 'more'} (one per "
                              f"page of {table.name} per {fan.noun})")


def named(error: ConnectorError, fan: FanOut, key: Any) -> ConnectorError:
    """``error`` (same class and fields) with the key it was read for named after vendor and table,
    when it is an answer to that key's request (a :class:`VendorHTTPError`, a malformed answer or a
    rate limit included); a connection-wide failure (authentication, configuration, the network,
    the request budget, a cancel) is no key's fault and stays as it is.

    >>> from .spec import FanOut
    >>> e = VendorHTTPError("the scan failed", vendor="casavi Community", table="c.notifications")
    >>> str(named(e, FanOut("community_id", noun="community"), 15))
    'casavi Community (c.notifications): community 15: the scan failed'
    >>> str(named(ConnectorError("could not resolve the host name"), FanOut("community_id", noun="community"), 15))
    'could not resolve the host name'
    """
    if not isinstance(error, VendorHTTPError):
        return error
    where = " ".join(p for p in (error.vendor, f"({error.table})" if error.table else None) if p)
    label = f"{fan.noun} {key}"
    if where and error.message.startswith(where + ": "):
        message = f"{where}: {label}: {error.message[len(where) + 2:]}"
    else:
        message = f"{label}: {error.message}"
    error.message = message
    error.args = (message,)
    return error


def request_template(res: Resource) -> str:
    """The fan-out's request as text with the key's slot named (for the 404 policy's messages).

    >>> from .spec import FanOut, Resource
    >>> request_template(Resource("a", "A", "/api/v1/communities/{community_id}/appointments",
    ...                           fan_out=FanOut("community_id", place=Place.path("community_id"))))
    'GET /api/v1/communities/{community_id}/appointments'
    >>> request_template(Resource("u", "U", "/api/v1/units", fan_out=FanOut("community_id", place=Place.query("community_id"))))
    'GET /api/v1/units?community_id={community_id}'
    """
    fan = res.fan_out
    assert fan is not None
    path = res.path
    if fan.place.where is In.QUERY:
        path += f"?{fan.place.name}={{{fan.place.name}}}"
    return f"{res.method} {path}"


def report_missing(fan: FanOut, missing: Sequence[Any], asked: Sequence[Any], request: str, *, vendor: str,
                   table: str) -> None:
    """The 404 policy, once every key answered: ``missing`` (the keys whose request answered 404)
    of the keys ``asked``. Every key missing, where the fan-out declares a ``missing_hint`` (its
    paths are guesses): a VendorHTTPError naming ``request`` and the keys, since a path that is not
    the vendor's would otherwise be an empty result; some keys missing: a warning naming them (they
    have no rows); none: nothing.

    >>> from .spec import FanOut
    >>> fan = FanOut("community_id", noun="community", missing_hint="set paths")
    >>> report_missing(fan, [12, 15], [12, 15], "GET /c/{community_id}/a", vendor="V", table="v.a")
    Traceback (most recent call last):
    ...
    crmql.errors.VendorHTTPError: V (v.a): GET /c/{community_id}/a answered 404 for every community asked (12, 15): no such community, or the path is not the vendor's [HTTP 404]
      hint: set paths
    """
    if not missing:
        return
    shown = ", ".join(str(k) for k in list(missing)[:10]) + (f", ... ({len(missing)} in all)" if len(missing) > 10
                                                             else "")
    if len(missing) >= len(asked) and fan.missing_hint is not None:
        raise VendorHTTPError(f"{request} answered 404 for every {fan.noun} asked ({shown}): no such {fan.noun}, "
                              "or the path is not the vendor's", vendor=vendor, table=table, status=404,
                              hint=fan.missing_hint)
    where = " ".join(p for p in (vendor, f"({table})" if table else "") if p)
    stats.current().warn(f"{where}: {fan.noun} {shown} answered 404 (no such {fan.noun}?): no rows for "
                         f"{'it' if len(missing) == 1 else 'them'}")
