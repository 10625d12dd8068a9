"""Voyzu CRM scenarios: the crmql SQL, the same query by hand, and the hand-written client.

Voyzu documents no search contract (vendor-notes section 3), so the baseline
(:class:`NaiveVoyzuClient`) is what a person writes from the docs and the contacts page's
datatable: the session cookie, then ``POST /api/contacts/search`` with an empty ``SearchText``,
``Start`` 0, 1000, 2000, ... and ``Length`` 1000 one page after the other up to
``RecordsFiltered``, and everything else in Python. crmql pushes a name or email as the free-text
``SearchText`` (a superset under every reading, re-checked locally), counts with one ``Length=1``
request, and reads the pages after the first concurrently. ``vz_full_scan_async`` runs the same
full scan on a connection with ``async = "always"``: each page of 1,000 a ``?async=true`` job
(submit, then polls until ``PROCESSED``), the pages' jobs concurrently (the path a scan takes when
the API Gateway's 30 s limit cuts a sync call).

The ``/class`` module crmql reads once per connection (the search shape check) is counted in the
setup column, as token requests are for the other vendors.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from scenarios import Evaluation, Scenario, Tables, faster_target, request_targets
from naive import _Baseline

__all__ = ["NaiveVoyzuClient", "VOYZU_SCENARIOS", "VOYZU_SETUP_PATHS", "targets_voyzu", "warm_voyzu"]

#: the page the baseline asks for (the sandbox's largest Length, as crmql's page_size)
PAGE = 1000
#: requests that are set-up, not data: the class modules (counted like token requests)
VOYZU_SETUP_PATHS = ("/class",)
VOYZU_SCENARIOS = ("vz_full_scan", "vz_full_scan_async", "vz_selective", "vz_count")
#: the cookie the session id travels in (the connector's choice, see crmql.connectors.voyzu)
COOKIE = "voyzu-session-id"


class NaiveVoyzuClient(_Baseline):
    """The Voyzu baseline: the session cookie, then search pages one by one.

    ``client_secret`` is the session id (the benchmark's clients take an id and a secret)."""

    def token(self) -> None:
        self.headers = {"Cookie": f"{COOKIE}={self.client_secret}"}

    def search(self, text: str = "", start: int = 0, length: int = PAGE) -> dict[str, Any]:
        if self.headers is None:
            self.token()
        r = self.http.post("/api/contacts/search", json={"SearchText": text, "Start": start, "Length": length},
                           headers=self.headers)
        r.raise_for_status()
        return r.json()

    def fetch_all(self, table: str) -> list[dict[str, Any]]:
        """Every contact, page after page (``table`` is ``contacts``)."""
        if table != "contacts":
            raise ValueError(f"unknown pseudo-table {table!r}")
        rows: list[dict[str, Any]] = []
        total = None
        while total is None or len(rows) < total:
            data = self.search(start=len(rows))
            total = int(data["RecordsFiltered"])
            if not data["Data"]:
                break
            rows.extend(data["Data"])
        return rows

    def pushed_rows(self, requests: Any) -> int:
        """Rows the vendor matches for crmql's planned requests: RecordsFiltered of each search."""
        total = 0
        for r in requests:
            body = dict(r.body or {})
            if r.path.endswith("/contacts/search"):
                total += int(self.search(str(body.get("SearchText") or ""), 0, 1)["RecordsFiltered"])
            else:
                total += 1
        return total


def _full(t: Tables) -> Evaluation:
    rows = t["contacts"]
    return Evaluation(len(rows), {"contacts": len(rows)})


def _selective(last_name: str) -> Any:
    def evaluate(t: Tables) -> Evaluation:
        rows = [r for r in t["contacts"] if r.get("LastName") == last_name]
        return Evaluation(len(rows), {"contacts": len(rows)})
    return evaluate


def _count(t: Tables) -> Evaluation:
    return Evaluation(1, {"contacts": 1}, value=len(t["contacts"]))


def build_voyzu_scenarios(last_name: str) -> list[Scenario]:
    """The Voyzu scenarios (issue 13's benchmark rows); ``last_name`` is one the sandbox has."""
    voyzu = {"vendor": "voyzu", "page": PAGE}
    columns = "id, display_name, primary_email"
    return [
        Scenario("vz_full_scan", f"SELECT {columns} FROM voyzu.contacts", ("contacts",), _full,
                 "every contact: the first page says RecordsFiltered, the other pages go concurrently",
                 target="8 data requests, faster than the sequential client", **voyzu),
        Scenario("vz_full_scan_async", f"SELECT {columns} FROM voyzu_async.contacts", ("contacts",), _full,
                 "the same scan with every page an ?async=true job: submit, poll RequestStatus, take its Result", **voyzu),
        Scenario("vz_selective", f"SELECT id, display_name FROM voyzu.contacts WHERE last_name = '{last_name}'",
                 ("contacts",), _selective(last_name),
                 "last_name pushed as the free-text SearchText (a superset), re-checked locally",
                 target="1 data request", **voyzu),
        Scenario("vz_count", "SELECT COUNT(*) FROM voyzu.contacts", ("contacts",), _count,
                 "RecordsFiltered of one Length=1 search", target="1 data request", **voyzu),
    ]


def targets_voyzu(outcomes: dict[str, Any], add: Any) -> None:
    """The informational targets of the Voyzu rows."""
    request_targets(outcomes, add, (("vz_selective", 1), ("vz_count", 1)), setup="setup")
    faster_target(outcomes, add, "vz_full_scan")
    sync, run_async = outcomes.get("vz_full_scan"), outcomes.get("vz_full_scan_async")
    if sync and run_async and sync.crmql_median and run_async.crmql_median:
        add("vz_full_scan_async", None, f"async {run_async.crmql_median:.0f} ms ({run_async.crmql.data} requests "
            f"incl. polls) vs sync pages {sync.crmql_median:.0f} ms ({sync.crmql.data} requests)")


def warm_voyzu(url: str, config: Any, contexts: dict[str, Any], session_class: Any,
               credentials: dict[str, str]) -> tuple[list[Scenario], Any]:
    """Warm up the Voyzu simulator and connector; its scenarios, and ``config`` with a
    ``voyzu_async`` connection (``async = "always"``) added."""
    from crmql.api.config import ConnectionConfig

    base = f"{url}/voyzu"
    probe = NaiveVoyzuClient(base, "", credentials["session_id"])
    first = probe.search(length=50)["Data"]
    last_name = next(r["LastName"] for r in first if r.get("RecordType") == "PERSON" and r.get("LastName"))
    plain = config.connections["voyzu"]
    connections = {**config.connections, "voyzu_async": ConnectionConfig(
        "voyzu_async", "voyzu", {**plain.settings, "async": "always"})}
    config = replace(config, connections=connections)
    warm = session_class(config)
    try:
        warm.execute("SELECT id FROM voyzu.contacts LIMIT 3")
        warm.execute("SELECT id FROM voyzu_async.contacts WHERE last_name = 'x' LIMIT 3")
    finally:
        warm.close()
    contexts["voyzu"] = (base, credentials, probe)
    return build_voyzu_scenarios(last_name), config
