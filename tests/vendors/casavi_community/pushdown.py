"""casavi Community's part of the golden pushdown contract: a connector that plans without a request,
and the simulator's own filter code applied to each native request (its community, in the path or
the ``community_id`` query parameter, and on notifications ``after`` / ``before`` / ``unreadOnly``)
under every reading of what the docs leave open (``casavi_community.notifications_range``:
``after``/``before`` exclusive or inclusive, ambiguity 26), on a sample of the seeded raw records
(each with its ``community_id``) plus records on every boundary of a query's literals (times on,
a millisecond and a second either side of each bound; read and unread; the communities named and
one more).
"""

from __future__ import annotations

import datetime as dt
import itertools
import random
import re
from functools import lru_cache
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from crmql.connectors.registry import create_connector
from crmql.language import ast
from crmql.plan.catalog import Table
from crmql.plan.connector import NativeRequest
from crmql.plan.predicates import columns_of
from crmql.sandbox import records as sandbox_records
from crmql.sandbox.casavi_community.spec import SIMULATOR

from golden import query_literals

HERE = Path(__file__).resolve().parent
V = "casavi_community"
BASE_SETTINGS = {"base_url": "http://127.0.0.1:1", "client_id": "x", "refresh_token": "y"}
RANGE = f"{V}.notifications_range"
ORDER = f"{V}.notifications_order"
READINGS = [{RANGE: value} for value in next(v.values for v in SIMULATOR.variants if v.key == RANGE)]
COMMUNITY = re.compile(r"/communities/(\d+)/")
_MS, _S = dt.timedelta(milliseconds=1), dt.timedelta(seconds=1)


def make_connector(settings: dict[str, Any]) -> Any:
    """A casavi Community connector on a closed port (its catalog is declared: no request)."""
    return create_connector(V, V, {**BASE_SETTINGS, **settings})


@lru_cache(maxsize=None)
def _sample(table: str) -> tuple[dict[str, Any], ...]:
    """Every n-th raw record of the seeded data, about 600 (ticket details: the tickets; unread
    counts: one per community, as the connector builds them)."""
    if table == "unread_counts":
        rows = [{"community_id": n, "chat": n % 7, "notifications": n % 11} for n in range(1, 301)]
    else:
        rows = sandbox_records(V, {"ticket_details": "tickets"}.get(table, table), 42)
    return tuple(rows[:: max(1, len(rows) // 600)])


def _time(moment: dt.datetime) -> str:
    return moment.astimezone(dt.timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def synthetic(table: Table, expr: ast.Expr | None, seed: int) -> list[dict[str, Any]]:
    """Records on every boundary of the WHERE's literals: ``community_id`` on each literal and one
    more, notifications' ``createdAt`` on each time literal and 1 ms / 1 s either side, read and
    unread (sampled if many), each built on a seeded record so every other field is real."""
    if expr is None or not _sample(table.name):
        return []
    names = {name for _q, name in columns_of(expr)}
    lits: dict[str, list[Any]] = {}
    for col, value in query_literals(expr):
        lits.setdefault(col.name, []).append(value)
    axes: dict[str, list[Any]] = {}
    if "community_id" in names:
        ints = [v for v in lits.get("community_id", []) if isinstance(v, int) and not isinstance(v, bool)]
        axes["community_id"] = sorted(set(ints)) + [max(ints, default=0) + 1]
    if table.name == "notifications":
        times = [v for v in lits.get("created_at", []) if isinstance(v, dt.datetime)]
        axes["createdAt"] = [_time(t + d) for t in times for d in (-_S, -_MS, dt.timedelta(0), _MS, _S)] or [None]
        axes["read"] = [True, False]
    combos = list(itertools.product(*axes.values()))
    if len(combos) > 2000:
        combos = random.Random(seed).sample(combos, 2000)
    base = _sample(table.name)[0]
    out = []
    for i, combo in enumerate(combos):
        record = dict(base, id=10_000_000 + i)
        record.update({k: v for k, v in zip(axes, combo) if v is not None})
        if "community_id" in axes and isinstance(record.get("Community"), dict):
            record["Community"] = dict(record["Community"], id=record["community_id"])
        out.append(record)
    return out


def records(table: Table, where: ast.Expr | None, seed: int) -> list[dict[str, Any]]:
    """A sample of the seeded raw records plus the boundary records of ``where``."""
    return [dict(r) for r in _sample(table.name)] + synthetic(table, where, seed)


def _community_and_params(request: Any) -> tuple[int | None, dict[str, str]]:
    """The community a request reads (None: every community) and its other query parameters."""
    path = urlsplit(request.path).path
    params = dict(parse_qsl(urlsplit(request.path).query))
    params.update({str(k): str(v) for k, v in (request.params.items() if isinstance(request.params, dict)
                                              else request.params or ())})
    match = COMMUNITY.search(path)
    community = match.group(1) if match else params.pop("community_id", None)
    for paging in ("page", "limit"):
        params.pop(paging, None)
    return (int(community) if community is not None else None), params


def native_keys(table: Table, request: Any, reading: dict[str, str], rows: list[dict[str, Any]]) -> set[int]:
    """The records (by index) the simulated vendor serves for one request under one reading: its
    community (the simulator's own notion: the record's ``community_id``; an FAQ article of no
    community is served to every community), and on notifications the
    simulator's own filter code (``paging.parse_notification_query`` and ``notification_envelope``,
    every matching row in one answer: paging is not the filter's business) for ``after`` /
    ``before`` / ``unreadOnly``."""
    from crmql.sandbox.casavi_community.paging import notification_envelope, parse_notification_query

    community, params = _community_and_params(request)
    scoped = [r for r in rows if community is None or r.get("community_id") == community
              or (table.name == "faq_articles" and r.get("community_id") is None)]
    if table.name == "notifications":
        served = notification_envelope(scoped, parse_notification_query(params), {**reading, ORDER: "all"})["rows"]
        scoped = served
    else:
        assert not params, f"{table.name} has no filter but the community: {params}"
    chosen = {id(r) for r in scoped}
    return {i for i, r in enumerate(rows) if id(r) in chosen}


def plan_requests(scan: Any) -> list[NativeRequest]:
    """The native requests the scan sends: one per community (a fan-out), or the one unscoped request."""
    return list(scan.fetch.requests) or [NativeRequest("GET", "/")]


def candidate_requests(table: Table, cand: Any) -> list[NativeRequest]:
    """The request(s) of one pushed conjunct alone: a community fan-out is one request per
    community, a notification filter one unscoped-by-community request with its parameters."""
    pushes = [cand.push] if cand.push is not None else list(cand.any_of or ())
    out = []
    for push in pushes:
        params: dict[str, str] = {}
        communities: list[Any] = []
        for cond in push.conds:
            if cond.op == "community":
                communities += cond.value if isinstance(cond.value, (list, tuple)) else [cond.value]
            else:
                params[cond.op] = "true" if cond.value is True else str(cond.value)
        if communities:
            out += [NativeRequest("GET", f"/api/v1/communities/{c}/{table.name}", dict(params)) for c in communities]
        else:
            out.append(NativeRequest("GET", f"/{table.name}", params))
    return out


def special(plan: Any) -> bool:
    """No plan of this vendor needs a check of its own: the generic one covers the fan-out."""
    return False


__all__ = ["HERE", "READINGS", "candidate_requests", "make_connector", "native_keys", "plan_requests", "records",
           "special"]
