"""The benchmark scenarios: the crmql SQL, and the same query done by hand in Python.

Each scenario's ``evaluate`` gets the full tables the naive client fetched and returns the answer
(its row count, and for COUNT(*) the value) plus how many rows of each table a perfect client
would have to transfer (``needed``), from which the lower bound on requests is derived:
one request per full page of 50 such rows (at least 1 per table read), plus 1 token request.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from naive import ATLAS_PAGE, ATLAS_TOKEN_PATH, NaiveAtlasClient  # noqa: F401  (re-exported for run.py)

__all__ = ["ATLAS_PAGE", "ATLAS_TOKEN_PATH", "Evaluation", "NaiveAtlasClient", "Scenario", "build_atlas_scenarios",
           "build_scenarios", "lower_bound", "PLAN_SQL"]

Tables = dict[str, list[dict[str, Any]]]

PAGE = 50


@dataclass
class Evaluation:
    rows: int
    #: rows per table a client with perfect pushdown must transfer
    needed: dict[str, int]
    #: for COUNT(*): the counted value
    value: Any = None


@dataclass
class Scenario:
    name: str
    sql: str
    #: tables the naive client fetches in full
    tables: tuple[str, ...]
    evaluate: Callable[[Tables], Evaluation]
    description: str = ""
    #: informational target, checked by run.py
    target: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)
    #: the connection (and simulator) the scenario runs against, and its largest page
    vendor: str = "azavista"
    page: int = PAGE


def lower_bound(needed: dict[str, int], page: int = PAGE) -> int:
    """Search requests a perfect client needs (token excluded): ceil(rows / page), min 1, per table."""
    return sum(max(1, math.ceil(n / page)) for n in needed.values())


def _ts(text: Any) -> dt.datetime | None:
    if not isinstance(text, str):
        return None
    return dt.datetime.fromisoformat(text.replace("Z", "+00:00"))


_MARCH_2025 = dt.datetime(2025, 3, 1, tzinfo=dt.timezone.utc)


def _headline(t: Tables) -> Evaluation:
    # SQL LIKE is case-sensitive; a missing column is NULL and never matches
    hits = [e for e in t["events"]
            if (s := _ts(e.get("start"))) is not None and s > _MARCH_2025
            and e.get("event_type") in ("marketing", "sales")
            and "Workshop" in (e.get("name") or "")]
    hits.sort(key=lambda e: _ts(e["start"]))
    # ORDER BY a column the vendor cannot sort by: every matching row must be read
    return Evaluation(len(hits[:20]), {"events": len(hits)})


def _in_list(t: Tables) -> Evaluation:
    hits = [c for c in t["contacts"] if c.get("country") in ("NL", "DE")]
    return Evaluation(len(hits), {"contacts": len(hits)})


def _selective(org_id: str) -> Callable[[Tables], Evaluation]:
    def evaluate(t: Tables) -> Evaluation:
        hits = [c for c in t["contacts"] if c.get("organization_id") == org_id]
        return Evaluation(len(hits), {"contacts": len(hits)})
    return evaluate


def _full_scan(t: Tables) -> Evaluation:
    return Evaluation(len(t["contacts"]), {"contacts": len(t["contacts"])})


def _limit(t: Tables) -> Evaluation:
    rows = t["contacts"][:10]
    return Evaluation(len(rows), {"contacts": len(rows)})


def _count(t: Tables) -> Evaluation:
    n = sum(1 for e in t["events"] if e.get("event_type") == "sales")
    return Evaluation(1, {"events": 0}, value=n)


def _unpushable(t: Tables) -> Evaluation:
    hits = [c for c in t["contacts"] if isinstance(c.get("email"), str) and not c["email"].endswith("@gmail.com")]
    return Evaluation(len(hits), {"contacts": len(hits)})


def _limit_residual(t: Tables) -> Evaluation:
    hits = [e for e in t["events"] if "workshop" in (e.get("name") or "").lower()][:5]
    return Evaluation(len(hits), {"events": len(hits)})


def _join(t: Tables) -> Evaluation:
    nl = {o["id"] for o in t["organizations"] if o.get("country") == "NL"}
    pairs = [c for c in t["contacts"] if c.get("organization_id") in nl]
    return Evaluation(len(pairs), {"organizations": len(nl), "contacts": len(pairs)})


def build_scenarios(org_id: str) -> list[Scenario]:
    """The HTTP scenarios, in table order; ``org_id`` is a real organization id for ``selective``."""
    return [
        Scenario(
            "headline",
            "SELECT name, start, event_type FROM azavista.events WHERE start > TIMESTAMP '2025-03-01' "
            "AND event_type IN ('marketing', 'sales') AND name LIKE '%Workshop%' ORDER BY start LIMIT 20",
            ("events",), _headline, "three pushed predicates (range, IN, LIKE) + local ORDER BY/LIMIT",
            target="requests <= ceil(rows matching the pushed filter / 50) + 1 token"),
        Scenario("in_list", "SELECT * FROM azavista.contacts WHERE country IN ('NL', 'DE')",
                 ("contacts",), _in_list, "IN list pushed as native `in`"),
        Scenario("selective", f"SELECT * FROM azavista.contacts WHERE organization_id = '{org_id}'",
                 ("contacts",), _selective(org_id), "selective id equality"),
        Scenario("full_scan", "SELECT * FROM azavista.contacts", ("contacts",), _full_scan,
                 "10,000 rows, 200 pages; concurrency is the only lever",
                 target="crmql wall time <= 1/4 of the naive sequential client's"),
        Scenario("limit", "SELECT * FROM azavista.contacts LIMIT 10", ("contacts",), _limit,
                 "LIMIT with nothing to re-check: the page size becomes 10", target="1 search request"),
        Scenario("count", "SELECT COUNT(*) FROM azavista.events WHERE event_type = 'sales'", ("events",), _count,
                 "COUNT(*) answered from object_count", target="1 search request"),
        Scenario("unpushable", "SELECT * FROM azavista.contacts WHERE email NOT LIKE '%@gmail.com'",
                 ("contacts",), _unpushable, "NOT LIKE has no native operator: full scan, local filter"),
        Scenario("limit_residual", "SELECT * FROM azavista.events WHERE name ILIKE '%workshop%' LIMIT 5",
                 ("events",), _limit_residual, "ILIKE is not pushed; pages are read one by one until 5 rows pass"),
        Scenario("join",
                 "SELECT c.first_name, o.name FROM azavista.contacts c JOIN azavista.organizations o "
                 "ON c.organization_id = o.id WHERE o.country = 'NL'",
                 ("contacts", "organizations"), _join, "join; the filter is on one side only"),
    ]


# ---- Atlas CRM ---------------------------------------------------------------------------------------


def _f(entity: dict[str, Any]) -> dict[str, Any]:
    return entity.get("fields") or {}


def _atlas_sales(t: Tables) -> Evaluation:
    hits = [e for e in t["sales"] if _f(e).get("sale-status") in ("won", "lost")
            and isinstance(_f(e).get("sale-balance"), (int, float)) and _f(e)["sale-balance"] >= 500]
    return Evaluation(len(hits), {"sales": len(hits)})


def _atlas_count(t: Tables) -> Evaluation:
    n = sum(1 for e in t["sales"] if _f(e).get("sale-status") == "open")
    return Evaluation(1, {"sales": 0}, value=n)


def _atlas_full_scan(t: Tables) -> Evaluation:
    return Evaluation(len(t["contacts"]), {"contacts": len(t["contacts"])})


def _atlas_or_split(t: Tables) -> Evaluation:
    # SQL LIKE is case-sensitive; the union of two branches, each row once
    hits = [e for e in t["contacts"] if str(_f(e).get("contact-email") or "").endswith("@gmail.com")
            or _f(e).get("contact-name") == "Tom"]
    return Evaluation(len(hits), {"contacts": len(hits)})


def _atlas_sorted_limit(t: Tables) -> Evaluation:
    with_balance = [e for e in t["sales"] if isinstance(_f(e).get("sale-balance"), (int, float))]
    rows = sorted(with_balance, key=lambda e: _f(e)["sale-balance"])[:10]
    return Evaluation(len(rows), {"sales": len(rows)})


ATLAS_SALES_SQL = ('SELECT "sale-name", "sale-balance", "sale-status" FROM atlas.sales WHERE "sale-status" IN '
                   "('won', 'lost') AND \"sale-balance\" >= 500 ORDER BY \"sale-balance\"")


def build_atlas_scenarios() -> list[Scenario]:
    """The Atlas CRM scenarios (issue 3's performance targets), in table order."""
    atlas = {"vendor": "atlas", "page": ATLAS_PAGE}
    return [
        Scenario("atlas_sales", ATLAS_SALES_SQL, ("sales",), _atlas_sales,
                 "IN as repeated eq parameters + a decimal gte, both exact; ORDER BY local (no LIMIT)",
                 target="requests <= ceil(matching / 100) + 2 (token, template)", **atlas),
        Scenario("atlas_count", "SELECT COUNT(*) FROM atlas.sales WHERE \"sale-status\" = 'open'", ("sales",),
                 _atlas_count, "COUNT(*) from the vendor's total", target="1 entities request", **atlas),
        Scenario("atlas_full_scan", "SELECT * FROM atlas.contacts", ("contacts",), _atlas_full_scan,
                 "5,000 rows, 50 pages; next links are sequential for both clients",
                 target="no slower than the naive client following next links", **atlas),
        Scenario("atlas_or_split",
                 "SELECT * FROM atlas.contacts WHERE \"contact-email\" LIKE '%@gmail.com' OR \"contact-name\" = 'Tom'",
                 ("contacts",), _atlas_or_split, "an OR across two fields: one request per branch, unioned",
                 target="fewer requests and less time than a full scan", **atlas),
        Scenario("atlas_sorted_limit", 'SELECT "sale-name", "sale-balance" FROM atlas.sales ORDER BY "sale-balance" LIMIT 10',
                 ("sales",), _atlas_sorted_limit, "sort-by at the vendor, stopping once 10 rows with a balance passed",
                 target="1 entities request", **atlas),
    ]


#: 20 predicates over azavista.events (pushable, superset-pushed, local-only and an OR), for `plan`
PLAN_SQL = (
    "SELECT name, start, event_type, city FROM azavista.events WHERE "
    "event_type IN ('marketing', 'sales', 'training') "                 # 1
    "AND status = 'published' "                                         # 2
    "AND start > TIMESTAMP '2025-01-01' "                               # 3
    "AND start <= TIMESTAMP '2026-06-30 23:59:59' "                     # 4
    "AND \"end\" >= TIMESTAMP '2025-01-01' "                            # 5
    "AND name LIKE '%Workshop%' "                                       # 6
    "AND country IN ('NL', 'DE', 'FR', 'BE') "                          # 7
    "AND city LIKE '%am%' "                                             # 8
    "AND capacity >= 10 "                                               # 9
    "AND capacity <= 500 "                                              # 10
    "AND registered_count > 0 "                                         # 11
    "AND price < 1000 "                                                 # 12
    "AND currency = 'EUR' "                                             # 13
    "AND language IN ('en', 'nl') "                                     # 14
    "AND is_virtual = false "                                           # 15
    "AND timezone = 'Europe/Amsterdam' "                                # 16
    "AND organizer_email LIKE '%@azavista-demo.example' "               # 17
    "AND venue_name IS NOT NULL "                                       # 18
    "AND external_reference IS NULL "                                   # 19
    "AND (name LIKE '%Meeting%' OR name LIKE '%Workshop%') "            # 20
    "ORDER BY start LIMIT 100"
)


def request_targets(outcomes: dict[str, Any], add: Any, wants: tuple[tuple[str, int], ...], setup: str = "token") -> None:
    """Targets "at most N data requests" for ``(scenario, N)`` pairs (``setup``: what the other requests are)."""
    for name, want in wants:
        o = outcomes.get(name)
        if o is None:
            continue
        if o.status != "ok":
            add(name, None, f"did not run ({o.message})")
            continue
        add(name, o.crmql.data <= want, f"{o.crmql.data} data request(s) (+{o.crmql.token} {setup}) vs target {want}")


def faster_target(outcomes: dict[str, Any], add: Any, name: str) -> None:
    """Target: crmql's median wall time at most the sequential client's."""
    o = outcomes.get(name)
    if o is not None and o.status == "ok" and o.crmql_median and o.naive_median:
        add(name, o.crmql_median <= o.naive_median,
            f"crmql {o.crmql_median:.0f} ms vs the sequential client {o.naive_median:.0f} ms "
            f"(x{o.naive_median / o.crmql_median:.1f})")
