"""casavi Community API scenarios: the crmql SQL, the same query by hand, and the hand-written client.

The baseline (:class:`NaiveCommunityClient`) is what a person writes from the Community API's docs
with httpx: the OpenID Connect discovery document, one ``refresh_token`` grant at its
``token_endpoint``, then one community after the other: ``GET /api/v1/tickets?community_id=n``
(a plain array), ``GET /api/v1/communities/n/activities?page=0,1,..&limit=100`` page after page up
to ``pageCount``, ``GET /api/v1/communities/n/notifications`` with the documented ``after`` and
``unreadOnly`` filters. Everything else is done in Python. The lower bound is one request per
community and per full page of 100 needed rows (plain arrays: one per community), plus the token.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from typing import Any

from scenarios import Evaluation, Scenario, Tables, faster_target, request_targets
from naive import _Baseline

__all__ = ["COMMUNITY_SCENARIOS", "COMMUNITY_TOKEN_PATHS", "NaiveCommunityClient", "build_community_scenarios", "targets_community"]

#: the largest page of the page-index lists (activities, appointments)
PAGE = 100
#: a plain array is one answer, whatever its length
ONE_ANSWER = 10**9
COMMUNITIES = tuple(range(1, 21))
#: notifications of the last 30 days (the sandbox's data follow the real date), fixed once per run
SINCE = (dt.datetime.now(dt.timezone.utc) - dt.timedelta(days=30)).strftime("%Y-%m-%dT%H:%M:%S.000Z")
#: the token requests: discovery and the token endpoint (counted as token requests, as OAuth's are)
COMMUNITY_TOKEN_PATHS = ("/.well-known/openid-configuration", "/oidc/token")
COMMUNITY_SCENARIOS = ("cc_tickets_20", "cc_activities_20", "cc_notifications_since", "cc_unread_count")


class NaiveCommunityClient(_Baseline):
    """The casavi Community baseline: discovery, a refresh-token grant, then requests one by one.

    ``client_secret`` is the refresh token (the benchmark's clients take an id and a secret)."""

    def token(self) -> None:
        discovery = self.http.get("/.well-known/openid-configuration")
        discovery.raise_for_status()
        r = self.http.post(discovery.json()["token_endpoint"], data={
            "grant_type": "refresh_token", "refresh_token": self.client_secret, "client_id": self.client_id})
        r.raise_for_status()
        self.headers = {"Authorization": f"Bearer {r.json()['access_token']}"}

    def get(self, path: str, params: Any = None) -> Any:
        if self.headers is None:
            self.token()
        r = self.http.get(path, params=params, headers=self.headers)
        r.raise_for_status()
        return r.json()

    def fetch_all(self, table: str) -> list[dict[str, Any]]:
        """The records a pseudo-table names (:data:`TABLES`), community after community, each
        with its ``community_id``."""
        kind, _, arg = table.partition(":")
        communities = COMMUNITIES if arg == "20" else (int(arg),)
        rows: list[dict[str, Any]] = []
        for n in communities:
            if kind == "tickets":
                got = self.get("/api/v1/tickets", {"community_id": n})
            elif kind == "activities":
                got, page, pages = [], 0, 1
                while page < pages:
                    data = self.get(f"/api/v1/communities/{n}/activities", {"page": page, "limit": PAGE})
                    got.extend(data["rows"])
                    pages, page = data["pageCount"], page + 1
            elif kind == "notifications_since":
                got = self.get(f"/api/v1/communities/{n}/notifications", {"after": SINCE})["rows"]
            elif kind == "unread_count":  # the counted envelope: the count, not the capped rows
                got = [{"count": self.get(f"/api/v1/communities/{n}/notifications", {"unreadOnly": "true"})["count"]}]
            else:
                raise ValueError(f"unknown pseudo-table {table!r}")
            rows.extend({**r, "community_id": n} for r in got)
        return rows


    def pushed_rows(self, requests: Any) -> int:
        """Rows the vendor matches for crmql's planned requests (the filter crmql pushed): a plain
        array's length, a counted answer's ``count``, a paged list's rows over its pages."""
        total = 0
        for r in requests:
            params = dict(r.params or ())
            data = self.get(r.path, params)
            if isinstance(data, list):
                total += len(data)
            elif "count" in data and "rows" in data:
                total += int(data["count"])
            elif "pageCount" in data:
                total += len(data["rows"])
                for page in range(1, int(data["pageCount"])):
                    total += len(self.get(r.path, {**params, "page": page})["rows"])
        return total


def _per_community(rows: list[dict[str, Any]]) -> Counter[int]:
    return Counter(r["community_id"] for r in rows)


def _tickets(t: Tables) -> Evaluation:
    rows = t["tickets:20"]
    groups = {(r["community_id"], r.get("status")) for r in rows}
    return Evaluation(len(groups), {f"tickets@{n}": 1 for n in COMMUNITIES})  # one answer per community


def _activities(t: Tables) -> Evaluation:
    per = _per_community(t["activities:20"])
    return Evaluation(len(per), {f"activities@{n}": per.get(n, 0) for n in COMMUNITIES})


def _since(t: Tables) -> Evaluation:
    rows = t["notifications_since:12"]
    return Evaluation(len(rows), {"notifications@12": 1})


def _unread(t: Tables) -> Evaluation:
    total = sum(r["count"] for r in t["unread_count:20"])
    return Evaluation(1, {f"notifications@{n}": 1 for n in COMMUNITIES}, value=total)


def build_community_scenarios() -> list[Scenario]:
    """The casavi Community scenarios (issue 12's benchmark rows)."""
    ids = ", ".join(str(n) for n in COMMUNITIES)
    community = {"vendor": "casavi_community"}
    return [
        Scenario("cc_tickets_20", f"SELECT community_id, status, COUNT(*) AS n FROM casavi_community.tickets "
                 f"WHERE community_id IN ({ids}) GROUP BY community_id, status", ("tickets:20",), _tickets,
                 "one plain-array request per community, fanned out concurrently (the naive client: one by one)",
                 target="faster than the sequential client, 20 data requests", page=ONE_ANSWER, **community),
        Scenario("cc_activities_20", f"SELECT community_id, COUNT(*) AS n FROM casavi_community.activities "
                 f"WHERE community_id IN ({ids}) GROUP BY community_id", ("activities:20",), _activities,
                 "page index + pageCount: first page, then the rest concurrently, for 20 communities at once",
                 page=PAGE, **community),
        Scenario("cc_notifications_since", "SELECT id, title, created_at FROM casavi_community.notifications "
                 f"WHERE community_id = 12 AND created_at > TIMESTAMP '{SINCE[:19]}'", ("notifications_since:12",),
                 _since, "after= pushed (a superset: inclusivity undocumented), re-checked locally",
                 target="1 data request", page=ONE_ANSWER, **community),
        Scenario("cc_unread_count", f"SELECT COUNT(*) FROM casavi_community.notifications WHERE community_id IN "
                 f"({ids}) AND unread = TRUE", ("unread_count:20",), _unread,
                 "unreadOnly=true is exact: the answer's count, one request per community, concurrently",
                 target="20 data requests", page=ONE_ANSWER, **community),
    ]


def targets_community(outcomes: dict[str, Any], add: Any) -> None:
    """The informational targets of the casavi Community rows."""
    request_targets(outcomes, add, (("cc_notifications_since", 1), ("cc_unread_count", len(COMMUNITIES)),
                                    ("cc_tickets_20", len(COMMUNITIES))))
    faster_target(outcomes, add, "cc_tickets_20")


def warm_community(url: str, config: Any, contexts: dict[str, Any], session_class: Any,
                   credentials: dict[str, str]) -> list[Scenario]:
    """Warm up the casavi Community simulator and connector; its scenarios and context."""
    base = f"{url}/casavi_community"
    probe = NaiveCommunityClient(base, credentials["client_id"], credentials["refresh_token"])
    probe.get("/api/v1/tickets", {"community_id": 1})
    warm = session_class(config)
    try:
        warm.execute("SELECT id FROM casavi_community.tickets WHERE community_id = 1 LIMIT 3")
    finally:
        warm.close()
    contexts["casavi_community"] = (base, credentials, probe)
    return build_community_scenarios()

