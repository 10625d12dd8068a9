"""casavi Manager API scenarios: the crmql SQL, the same query by hand, and the hand-written client.

The baseline (:class:`NaiveCasaviClient`) is what a person writes from casavi's docs with httpx:
``POST /v2/authenticate`` with the key and secret, then ``GET /v2/<table>?limit=100`` following
``_links.next`` one page after the other. ``modifiedAfter`` is the one filter it sends too: the
records carry no modification time, so no client can evaluate it locally. Everything else (the
``isRegistered`` flag included: an integrator's filter the vendor does not document) is done in
Python by the caller. The lower bound is one request per full page of 100 needed rows (min 1 per
table read) plus the token request.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from scenarios import Evaluation, Scenario, Tables
from naive import _Baseline

__all__ = ["CASAVI_PAGE", "CASAVI_SCENARIOS", "CASAVI_TOKEN_PATH", "MODIFIED_AFTER", "NaiveCasaviClient",
           "build_casavi_scenarios", "targets_casavi"]

CASAVI_PAGE = 100
CASAVI_TOKEN_PATH = "/v2/authenticate"
CASAVI_SCENARIOS = ("casavi_full_scan", "casavi_registered", "casavi_by_id", "casavi_count", "casavi_modified",
                    "casavi_join")
MODIFIED_AFTER = "2026-11-01T00:00:00.000Z"
_YEAR_2026 = (dt.datetime(2026, 1, 1, tzinfo=dt.timezone.utc), dt.datetime(2026, 12, 31, tzinfo=dt.timezone.utc))


class NaiveCasaviClient(_Baseline):
    """The casavi baseline: key/secret -> ``token`` header, then every page by ``_links.next``.

    ``fetch_all(table, modifiedAfter=...)`` sends the filter-only parameters it is given."""

    def token(self) -> None:
        r = self.http.post(CASAVI_TOKEN_PATH, json={"key": self.client_id, "secret": self.client_secret})
        r.raise_for_status()
        self.headers = {"token": r.json()["token"]}

    def get(self, url: str, params: Any = None) -> dict[str, Any]:
        if self.headers is None:
            self.token()
        r = self.http.get(url, params=params, headers=self.headers)
        r.raise_for_status()
        return r.json()

    def fetch_all(self, table: str) -> list[dict[str, Any]]:
        """Every record of ``table`` (``modified``: the contacts changed since :data:`MODIFIED_AFTER`):
        100 per page, following next links sequentially."""
        path, params = TABLES.get(table, (f"/v2/{table}", []))
        return self.fetch(path, [("limit", str(CASAVI_PAGE)), *params])

    def fetch(self, path: str, params: list[tuple[str, str]]) -> list[dict[str, Any]]:
        """Every record of one list request, by its next links."""
        data = self.get(path, params)
        rows = list(data["list"])
        while nxt := _link((data.get("_links") or {}).get("next")):
            data = self.get(nxt)
            rows.extend(data["list"])
        return rows

    def first_id(self, table: str) -> str:
        return str(self.get(f"/v2/{table}", {"limit": 1})["list"][0]["id"])


#: the naive client's pseudo-tables: what it asks for, by hand
TABLES = {"modified": ("/v2/contacts", [("modifiedAfter", MODIFIED_AFTER)])}


def _link(value: Any) -> str | None:
    return value.get("href") if isinstance(value, dict) else value or None


def _ts(text: Any) -> dt.datetime | None:
    return dt.datetime.fromisoformat(text.replace("Z", "+00:00")) if isinstance(text, str) else None


def _full_scan(t: Tables) -> Evaluation:
    return Evaluation(len(t["contacts"]), {"contacts": len(t["contacts"])})


def _registered(t: Tables) -> Evaluation:
    hits = [c for c in t["contacts"] if c.get("isRegistered") is False and c.get("city") == "München"]
    # a perfect client gets the unregistered contacts (the vendor's flag), filters the city itself
    return Evaluation(len(hits), {"contacts": sum(1 for c in t["contacts"] if c.get("isRegistered") is False)})


def _by_id(t: Tables) -> Evaluation:
    return Evaluation(1, {"contacts": 1})


def _count(t: Tables) -> Evaluation:
    return Evaluation(1, {"contacts": len(t["contacts"])}, value=len(t["contacts"]))  # no total: every page


def _modified(t: Tables) -> Evaluation:
    return Evaluation(len(t["modified"]), {"contacts": len(t["modified"])})


def _join(t: Tables) -> Evaluation:
    names = {p["id"]: p.get("name") for p in t["properties"]}
    low, high = _YEAR_2026
    pairs = [(c["id"], k) for c in t["contacts"] for k in (c.get("contracts") or [])
             if k.get("type") == "RENTER" and (end := _ts(k.get("endDate"))) is not None and low <= end <= high
             and k.get("propertyId") in names]
    return Evaluation(len(pairs), {"contacts": len(t["contacts"]), "properties": len(t["properties"])})


def build_casavi_scenarios(contact_id: str) -> list[Scenario]:
    """The casavi scenarios (issue 11's benchmark rows); ``contact_id`` is a real reference id."""
    casavi = {"vendor": "casavi", "page": CASAVI_PAGE}
    return [
        Scenario("casavi_full_scan", "SELECT * FROM casavi.contacts", ("contacts",), _full_scan,
                 "6,000 contacts by next links (+1 sample page for the custom-field columns of SELECT *)",
                 target="no slower than the naive client following next links", **casavi),
        Scenario("casavi_registered",
                 "SELECT firstName, lastName, email, city FROM casavi.contacts WHERE isRegistered = FALSE "
                 "AND city = 'München'", ("contacts",), _registered,
                 "isRegistered=false pushed (a superset, re-checked), the city local", **casavi),
        Scenario("casavi_by_id", f"SELECT id, firstName, lastName, email FROM casavi.contacts WHERE id = '{contact_id}'",
                 ("contacts",), _by_id, "GET /v2/contacts/{id}", target="1 data request", **casavi),
        Scenario("casavi_count", "SELECT COUNT(*) FROM casavi.contacts", ("contacts",), _count,
                 "no total in the envelope: every page is counted", **casavi),
        Scenario("casavi_modified",
                 f"SELECT id, lastName FROM casavi.contacts WHERE modifiedAfter = TIMESTAMP '{MODIFIED_AFTER[:19]}'",
                 ("modified",), _modified, "the incremental read: modifiedAfter sent, nothing else fetched",
                 target="ceil(changed / 100) data requests", **casavi),
        Scenario("casavi_join",
                 "SELECT c.contactId, c.unitId, p.name, c.endDate FROM casavi.contracts c JOIN casavi.properties p "
                 "ON p.id = c.propertyId WHERE c.type = 'RENTER' AND c.endDate BETWEEN DATE '2026-01-01' "
                 "AND DATE '2026-12-31' ORDER BY c.endDate", ("contacts", "properties"), _join,
                 "contracts (a child of contacts) joined to properties; both read in full", **casavi),
    ]


def targets_casavi(outcomes: dict[str, Any], add: Any) -> None:
    """The informational targets of the casavi rows."""
    o = outcomes.get("casavi_by_id")
    if o is not None:
        add("casavi_by_id", o.crmql.data == 1 if o.status == "ok" else None,
            f"{o.crmql.data} data request(s) (+{o.crmql.token} token) vs target 1" if o.status == "ok"
            else f"did not run ({o.message})")
    o = outcomes.get("casavi_modified")
    if o is not None:
        ok = o.status == "ok"
        add("casavi_modified", o.crmql.data <= o.bound if ok else None,
            f"{o.crmql.data} data request(s) vs the lower bound {o.bound}" if ok else f"did not run ({o.message})")
    o = outcomes.get("casavi_full_scan")
    if o is not None:
        if o.status == "ok" and o.crmql_median and o.naive_median:
            add("casavi_full_scan", o.crmql_median <= o.naive_median,
                f"crmql {o.crmql_median:.0f} ms vs target <= naive {o.naive_median:.0f} ms "
                f"({o.crmql.total} vs {o.naive.total} requests)")
        else:
            add("casavi_full_scan", None, f"did not run ({o.message})")
