"""crmql benchmark: requests and wall time of crmql vs a naive fetch-all client vs the lower bound.

    .venv/bin/python benchmarks/run.py [--latency-ms 50] [--scenario NAME ...] [--repeat N] [--json PATH]

Serves the sandbox on loopback with injected latency, runs each scenario with a fresh crmql
Session (so its token request is counted) and with the naive client of ``benchmarks/naive.py``,
counts requests on the server side (``request_log``), and prints one row per scenario, then
informational PASS/MISS lines for the targets. See ``benchmarks/README.md`` for how to read it.
A benchmark, not a test: the only checks are sanity checks, printed as WARNING lines.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import math
import os
import platform
import statistics
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import crmql  # noqa: E402
from crmql.api.config import sandbox_config  # noqa: E402
from crmql.errors import QueryError  # noqa: E402
from crmql.sandbox import CREDENTIALS, SandboxSettings, serve_in_thread  # noqa: E402

from benchmarks.casavi import (  # noqa: E402
    CASAVI_SCENARIOS, CASAVI_TOKEN_PATH, NaiveCasaviClient, build_casavi_scenarios, targets_casavi,
)
from benchmarks.casavi_community import (  # noqa: E402
    COMMUNITY_SCENARIOS, COMMUNITY_TOKEN_PATHS, NaiveCommunityClient, targets_community, warm_community,
)
from benchmarks.naive import PAGE_SIZE, TOKEN_PATH, NaiveClient  # noqa: E402
from benchmarks.voyzu import (  # noqa: E402
    VOYZU_SCENARIOS, VOYZU_SETUP_PATHS, NaiveVoyzuClient, targets_voyzu, warm_voyzu,
)
from benchmarks.remote import ProcessSandbox  # noqa: E402
from benchmarks.scenarios import (  # noqa: E402
    ATLAS_PAGE, ATLAS_TOKEN_PATH, PLAN_SQL, Evaluation, NaiveAtlasClient, Scenario, build_atlas_scenarios,
    build_scenarios, lower_bound,
)

VENDOR = "azavista"
PLAN_RUNS = 1000
PLAN_TARGET_MS = 2.0
ATLAS_SCENARIOS = ("atlas_sales", "atlas_count", "atlas_full_scan", "atlas_or_split", "atlas_sorted_limit")
HTTP_SCENARIOS = ("headline", "in_list", "selective", "full_scan", "limit", "count", "unpushable",
                  "limit_residual", "join") + ATLAS_SCENARIOS + CASAVI_SCENARIOS + COMMUNITY_SCENARIOS \
    + VOYZU_SCENARIOS
ALL_SCENARIOS = HTTP_SCENARIOS + ("plan",)


# ----------------------------------------------------------------------------- measurements
@dataclass
class Requests:
    """Requests seen by the server during one run, split into token and data requests."""

    token: int = 0
    data: int = 0
    errors: list[tuple[str, str, int]] = field(default_factory=list)
    #: of the data requests: Atlas list requests (GET .../entities), and Atlas template requests
    entities: int = 0
    templates: int = 0

    @property
    def total(self) -> int:
        return self.token + self.data

    def show(self) -> str:
        return f"{self.data}+{self.token}"

    @classmethod
    def from_log(cls, log: list[tuple[str, str, int]]) -> Requests:
        r = cls()
        for method, path, status in log:
            if path.endswith((TOKEN_PATH, ATLAS_TOKEN_PATH, CASAVI_TOKEN_PATH, *COMMUNITY_TOKEN_PATHS,
                              *VOYZU_SETUP_PATHS)):
                r.token += 1
            else:
                r.data += 1
                r.entities += path.startswith("/atlas/") and path.endswith("/entities")
                r.templates += path.startswith("/atlas/") and "/template/" in path
            if not 200 <= status < 300:
                r.errors.append((method, path, status))
        return r


@dataclass
class Outcome:
    """One scenario's figures (the last repeat's request counts; median wall times)."""

    scenario: Scenario
    status: str = "ok"  # ok | unsupported | error
    message: str = ""
    rows: int | None = None
    naive_rows: int | None = None
    value: Any = None
    naive_value: Any = None
    pushed: list[int] = field(default_factory=list)
    crmql: Requests = field(default_factory=Requests)
    naive: Requests = field(default_factory=Requests)
    bound: int = 0  # data requests; +1 token
    crmql_stats: dict[str, int] = field(default_factory=dict)
    crmql_ms: list[float] = field(default_factory=list)
    naive_ms: list[float] = field(default_factory=list)
    evaluation: Evaluation | None = None
    warnings: list[str] = field(default_factory=list)

    @property
    def crmql_median(self) -> float | None:
        return statistics.median(self.crmql_ms) if self.crmql_ms else None

    @property
    def naive_median(self) -> float | None:
        return statistics.median(self.naive_ms) if self.naive_ms else None


@dataclass
class PlanOutcome:
    cold_ms: float
    median_ms: float
    p95_ms: float
    runs: int
    predicates: int
    pushed: int
    local: int
    #: median ms of each phase over the warm runs
    phases: dict[str, float] = field(default_factory=dict)


# ----------------------------------------------------------------------------- scenarios
def bench_plan(runs: int = PLAN_RUNS) -> PlanOutcome:
    """parse + bind + plan_query of PLAN_SQL, no HTTP; the first (cold) run is reported apart."""
    import crmql.language.parser as parser_mod
    from crmql.plan.bind import bind
    from crmql.connectors.azavista.connector import AzavistaConnector
    from crmql.language.parser import parse
    from crmql.plan.planner import plan_query

    connector = AzavistaConnector(VENDOR, {"base_url": "http://127.0.0.1:1", "client_id": "x", "client_secret": "y"})
    connector.tables()  # the catalog is loaded once per session; not what we time

    def resolve(_connection: str, table: str) -> Any:
        return connector.table(table)

    connectors = {VENDOR: connector}
    now = dt.datetime(2025, 6, 1, tzinfo=dt.timezone.utc)

    phases: dict[str, list[float]] = {"parse": [], "bind": [], "plan": []}

    def once() -> Any:
        t0 = time.perf_counter_ns()
        stmt = parse(PLAN_SQL)
        t1 = time.perf_counter_ns()
        bound = bind(stmt, resolve, now=now, text=PLAN_SQL)
        t2 = time.perf_counter_ns()
        planned = plan_query(bound, connectors)
        t3 = time.perf_counter_ns()
        for name, ns in (("parse", t1 - t0), ("bind", t2 - t1), ("plan", t3 - t2)):
            phases[name].append(ns / 1e6)
        return planned

    clear = getattr(getattr(parser_mod, "_parser", None), "cache_clear", None)
    if clear is not None:  # make the first run cold even if something parsed before
        clear()
    t0 = time.perf_counter_ns()
    plan = once()
    cold_ms = (time.perf_counter_ns() - t0) / 1e6
    timings = []
    for _ in range(runs):
        t0 = time.perf_counter_ns()
        once()
        timings.append((time.perf_counter_ns() - t0) / 1e6)
    timings.sort()
    scan = plan.scans[0]
    return PlanOutcome(cold_ms, statistics.median(timings), timings[max(0, math.ceil(0.95 * len(timings)) - 1)],
                       runs, len(scan.candidates), len(scan.fetch.used), len(scan.candidates) - len(scan.fetch.used),
                       {name: statistics.median(v[1:]) for name, v in phases.items()})


def pushed_matches(config: Any, sql: str, naive: Any) -> list[int]:
    """Per scan of crmql's plan: rows matching the filter crmql pushes (a 1-row probe each)."""
    from crmql.plan.bind import bind
    from crmql.language.parser import parse
    from crmql.plan.planner import plan_query

    session = crmql.Session(config)
    try:
        stmt = parse(sql)
        bound = bind(stmt, session.table, now=dt.datetime.now(dt.timezone.utc), text=sql)
        plan = plan_query(bound, {ref.connection: session.connector(ref.connection) for ref, _ in bound.tables})
        out = []
        for scan in plan.scans:
            mode = scan.fetch.mode
            if hasattr(naive, "pushed_rows"):  # the vendor's baseline knows its envelopes
                out.append(naive.pushed_rows(scan.fetch.requests))
            elif mode in ("search", "count") and isinstance(naive, NaiveCasaviClient):  # every page of each request
                out.append(sum(len(naive.fetch(r.path, list(r.params or ()))) for r in scan.fetch.requests))
            elif mode in ("search", "count") and isinstance(naive, NaiveAtlasClient):  # one probe per (split) request
                out.append(sum(naive.total(params) for params in scan.fetch.native))
            elif mode in ("search", "count"):
                out.append(int(naive.search(scan.table.name, scan.fetch.native or {}, limit=1)["object_count"]))
            elif mode == "get":
                out.append(len(scan.fetch.native))
            else:
                out.append(0)
        return out
    finally:
        session.close()


def run_crmql(server: Any, config: Any, sql: str) -> tuple[Any, float, Requests]:
    server.reset_log()
    t0 = time.perf_counter()
    session = crmql.Session(config)
    try:
        result = session.execute(sql)
        elapsed = (time.perf_counter() - t0) * 1000
    finally:
        session.close()
    return result, elapsed, Requests.from_log(server.request_log)


def run_naive(server: Any, base_url: str, creds: dict[str, str], sc: Scenario) -> tuple[Evaluation, float, Requests]:
    server.reset_log()
    t0 = time.perf_counter()
    client_class = {"atlas": NaiveAtlasClient, "casavi": NaiveCasaviClient,
                    "casavi_community": NaiveCommunityClient, "voyzu": NaiveVoyzuClient}.get(sc.vendor, NaiveClient)
    key, secret = {"casavi": ("key", "secret"), "casavi_community": ("client_id", "refresh_token"),
                   "voyzu": ("session_id", "session_id")}.get(
        sc.vendor, ("client_id", "client_secret"))
    key, secret = creds[key], creds[secret]
    with client_class(base_url, key, secret) as client:
        client.token()
        tables = {t: client.fetch_all(t) for t in sc.tables}
        evaluation = sc.evaluate(tables)
    elapsed = (time.perf_counter() - t0) * 1000
    return evaluation, elapsed, Requests.from_log(server.request_log)


def run_scenario(sc: Scenario, server: Any, config: Any, base_url: str, creds: dict[str, str],
                 probe: Any, repeat: int) -> Outcome:
    out = Outcome(sc)
    try:
        out.pushed = pushed_matches(config, sc.sql, probe)
    except QueryError as e:
        out.status, out.message = "unsupported", str(e).splitlines()[0]
    except Exception as e:  # noqa: BLE001 - a benchmark reports, it does not stop
        out.status, out.message = "error", f"{type(e).__name__}: {str(e).splitlines()[0] if str(e) else ''}"
    seen: set[tuple[int, int]] = set()
    for _ in range(repeat):
        if out.status == "ok":
            try:
                result, ms, reqs = run_crmql(server, config, sc.sql)
            except QueryError as e:
                out.status, out.message = "unsupported", str(e).splitlines()[0]
            except Exception as e:  # noqa: BLE001
                out.status, out.message = "error", f"{type(e).__name__}: {str(e).splitlines()[0] if str(e) else ''}"
            else:
                out.crmql_ms.append(ms)
                out.crmql = reqs
                seen.add((reqs.token, reqs.data))
                out.crmql_stats = result.stats.as_dict()
                frame = result.frame
                out.rows = len(frame) if frame is not None else None
                if sc.name in ("count", "atlas_count", "casavi_count", "cc_unread_count", "vz_count") and frame is not None and len(frame) == 1:
                    out.value = int(frame.iloc[0, 0])
        evaluation, ms, reqs = run_naive(server, base_url, creds, sc)
        out.naive_ms.append(ms)
        out.naive = reqs
        out.evaluation = evaluation
        out.naive_rows, out.naive_value = evaluation.rows, evaluation.value
    if out.evaluation is not None:
        out.bound = lower_bound(out.evaluation.needed, sc.page)
    if out.status == "ok":
        _sanity(out, seen)
    return out


def _sanity(out: Outcome, seen: set[tuple[int, int]]) -> None:
    name = out.scenario.name
    if out.rows != out.naive_rows:
        out.warnings.append(f"WARNING {name}: crmql returned {out.rows} rows, the naive client {out.naive_rows}")
    if out.naive_value is not None and out.value != out.naive_value:
        out.warnings.append(f"WARNING {name}: crmql counted {out.value}, the naive client {out.naive_value}")
    if out.crmql_stats and out.crmql_stats.get("requests") != out.crmql.total:
        out.warnings.append(f"WARNING {name}: crmql's own stats say {out.crmql_stats.get('requests')} requests, "
                            f"the server saw {out.crmql.total}")
    if len(seen) > 1:
        out.warnings.append(f"WARNING {name}: crmql's request count varied across repeats: "
                            + ", ".join(f"{d}+{t}" for t, d in sorted(seen)))
    for who, reqs in (("crmql", out.crmql), ("naive", out.naive)):
        if reqs.errors:
            out.warnings.append(f"WARNING {name}: {who} got non-2xx responses: {reqs.errors[:3]}")


# ----------------------------------------------------------------------------- output
def _ms(v: float | None) -> str:
    if v is None:
        return "-"
    return f"{v:.2f}" if v < 10 else f"{v:.0f}"


def _ratio(a: float | None, b: float | None, suffix: str = "") -> str:
    if a is None or b is None or b == 0:
        return "-"
    return f"{a / b:.2f}{suffix}"


COLUMNS = [("scenario", "<", 18), ("rows", ">", 6), ("pushed", ">", 10), ("fetched", ">", 7),
           ("crmql req", ">", 9), ("naive req", ">", 9), ("bound", ">", 6),
           ("crmql/naive", ">", 11), ("crmql/bound", ">", 11),
           ("crmql ms", ">", 8), ("naive ms", ">", 8), ("speedup", ">", 7)]


def _line(cells: list[str]) -> str:
    return "  ".join(f"{c:{align}{width}}" for c, (_, align, width) in zip(cells, COLUMNS)).rstrip()


def table_rows(outcomes: list[Outcome], plan: PlanOutcome | None) -> list[str]:
    lines = [_line([name for name, _, _ in COLUMNS]), _line(["-" * w for _, _, w in COLUMNS])]
    for o in outcomes:
        name = o.scenario.name
        naive_ms = o.naive_median
        bound = f"{o.bound}+1"
        if o.status != "ok":
            what = "not supported yet" if o.status == "unsupported" else "ERROR"
            cells = [name, "-", "-", "-", what, o.naive.show(),
                     bound, "-", "-", "-", _ms(naive_ms), "-"]
            lines.append(_line(cells) + f"   ({o.message})")
            continue
        crmql_ms = o.crmql_median
        cells = [
            name, str(o.rows), "+".join(str(p) for p in o.pushed) or "-", str(o.crmql_stats.get("rows_fetched", "-")),
            o.crmql.show(), o.naive.show(), bound,
            _ratio(o.crmql.total, o.naive.total), _ratio(o.crmql.total, o.bound + 1),
            _ms(crmql_ms), _ms(naive_ms), _ratio(naive_ms, crmql_ms, "x"),
        ]
        lines.append(_line(cells))
    if plan is not None:
        lines.append(_line(["plan", "-", "-", "-", "0", "-", "0", "-", "-", _ms(plan.median_ms), "-", "-"])
                     + f"   (median of {plan.runs}; p95 {_ms(plan.p95_ms)} ms; cold {_ms(plan.cold_ms)} ms)")
    return lines


def targets(outcomes: dict[str, Outcome], plan: PlanOutcome | None) -> list[dict[str, Any]]:
    res: list[dict[str, Any]] = []

    def add(name: str, ok: bool | None, text: str) -> None:
        res.append({"scenario": name, "result": "PASS" if ok else ("MISS" if ok is False else "N/A"), "detail": text})

    o = outcomes.get("headline")
    if o is not None:
        if o.status == "ok" and o.pushed:
            limit = math.ceil(o.pushed[0] / PAGE_SIZE) + 1
            add("headline", o.crmql.total <= limit,
                f"{o.crmql.total} requests ({o.crmql.data} search + {o.crmql.token} token) vs target "
                f"ceil({o.pushed[0]} rows matching the pushed filter / {PAGE_SIZE}) + 1 = {limit}")
        else:
            add("headline", None, f"did not run ({o.message})")
    o = outcomes.get("full_scan")
    if o is not None:
        if o.status == "ok" and o.crmql_median and o.naive_median:
            add("full_scan", o.crmql_median <= o.naive_median / 4,
                f"crmql {o.crmql_median:.0f} ms vs target <= naive {o.naive_median:.0f} ms / 4 = "
                f"{o.naive_median / 4:.0f} ms (speedup {o.naive_median / o.crmql_median:.1f}x)")
        else:
            add("full_scan", None, f"did not run ({o.message})")
    for name in ("limit", "count"):
        o = outcomes.get(name)
        if o is not None:
            if o.status == "ok":
                add(name, o.crmql.data == 1, f"{o.crmql.data} search request(s) (+{o.crmql.token} token) vs target 1")
            else:
                add(name, None, f"did not run ({o.message})")
    targets_atlas(outcomes, add)
    targets_casavi(outcomes, add)
    targets_community(outcomes, add)
    targets_voyzu(outcomes, add)
    if plan is not None:
        add("plan", plan.median_ms < PLAN_TARGET_MS,
            f"median {plan.median_ms:.3f} ms vs target < {PLAN_TARGET_MS:g} ms "
            f"(p95 {plan.p95_ms:.3f} ms, cold first run {plan.cold_ms:.1f} ms, {plan.runs} runs; "
            f"{plan.predicates} predicates: {plan.pushed} pushed, {plan.local} local only; phase medians: "
            + ", ".join(f"{k} {v:.3f}" for k, v in plan.phases.items()) + " ms)")
    return res


def targets_atlas(outcomes: dict[str, Outcome], add: Any) -> None:
    """Issue 3's targets for Atlas CRM (and two informational ones: the OR split, the sorted LIMIT)."""
    o = outcomes.get("atlas_sales")
    if o is not None:
        if o.status == "ok" and o.pushed:
            limit = math.ceil(o.pushed[0] / ATLAS_PAGE) + 2
            add("atlas_sales", o.crmql.total <= limit,
                f"{o.crmql.total} requests ({o.crmql.entities} entities + {o.crmql.templates} template + "
                f"{o.crmql.token} token) vs target ceil({o.pushed[0]} matching / {ATLAS_PAGE}) + 2 = {limit}")
        else:
            add("atlas_sales", None, f"did not run ({o.message})")
    for name in ("atlas_count", "atlas_sorted_limit"):
        o = outcomes.get(name)
        if o is not None:
            if o.status == "ok":
                add(name, o.crmql.entities == 1, f"{o.crmql.entities} entities request(s) (+{o.crmql.templates} "
                                                 f"template, +{o.crmql.token} token) vs target 1")
            else:
                add(name, None, f"did not run ({o.message})")
    o = outcomes.get("atlas_full_scan")
    if o is not None:
        if o.status == "ok" and o.crmql_median and o.naive_median:
            pairs = list(zip(o.crmql_ms, o.naive_ms))  # each repeat runs crmql, then the naive client
            faster = sum(c <= n for c, n in pairs)
            add("atlas_full_scan", o.crmql_median <= o.naive_median,
                f"crmql {o.crmql_median:.0f} ms vs target <= naive (following next links) {o.naive_median:.0f} ms "
                f"({o.crmql.total} vs {o.naive.total} requests; crmql faster in {faster} of {len(pairs)} runs: "
                "the same chain of sequential pages, so the two differ by about the run-to-run noise)")
        else:
            add("atlas_full_scan", None, f"did not run ({o.message})")
    o = outcomes.get("atlas_or_split")
    if o is not None:
        if o.status == "ok" and o.crmql_median and o.naive_median:
            add("atlas_or_split", o.crmql.total < o.naive.total and o.crmql_median < o.naive_median,
                f"{o.crmql.total} requests ({o.crmql.entities} entities over the split requests) and "
                f"{o.crmql_median:.0f} ms vs a full scan's {o.naive.total} requests and {o.naive_median:.0f} ms")
        else:
            add("atlas_or_split", None, f"did not run ({o.message})")


def notes(outcomes: list[Outcome]) -> list[str]:
    """Where crmql made more requests than the lower bound, say where the rows went."""
    lines = []
    for o in outcomes:
        if o.status != "ok" or o.evaluation is None:
            continue
        excess = o.crmql.data - o.bound
        if excess <= 0 and o.crmql.token <= 1:
            continue
        needed = ", ".join(f"{t} {n}" for t, n in o.evaluation.needed.items())
        lines.append(f"NOTE {o.scenario.name}: {o.crmql.data} search requests vs a lower bound of {o.bound}: "
                     f"crmql fetched {o.crmql_stats.get('rows_fetched')} rows "
                     f"(pushed filter matched {'+'.join(map(str, o.pushed))}); a perfect client needs {needed} rows"
                     + (f"; {o.crmql.token} token requests" if o.crmql.token > 1 else ""))
    return lines


# ----------------------------------------------------------------------------- main
def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description="crmql benchmarks against the sandbox (see benchmarks/README.md)")
    p.add_argument("--latency-ms", type=float, default=50.0, help="latency injected per request (default 50)")
    p.add_argument("--scenario", action="append", default=[], metavar="NAME",
                   help=f"run only these (repeatable or comma-separated): {', '.join(ALL_SCENARIOS)}")
    p.add_argument("--repeat", type=int, default=1, help="runs per scenario; wall times are medians (default 1)")
    p.add_argument("--json", metavar="PATH", help="also write the figures as JSON")
    p.add_argument("--server", choices=("process", "thread"), default="process",
                   help="run the sandbox in its own process, as a real vendor is (default), or on a thread "
                        "of the benchmark process, sharing its GIL with the clients")
    args = p.parse_args(argv)
    names = [n.strip() for s in args.scenario for n in s.split(",") if n.strip()]
    unknown = [n for n in names if n not in ALL_SCENARIOS]
    if unknown:
        p.error(f"unknown scenario(s): {', '.join(unknown)} (choose from {', '.join(ALL_SCENARIOS)})")
    args.names = [n for n in ALL_SCENARIOS if n in names] if names else list(ALL_SCENARIOS)
    if args.repeat < 1:
        p.error("--repeat must be at least 1")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    started = time.perf_counter()
    now = dt.datetime.now().astimezone()
    machine = {
        "cores": os.cpu_count(), "platform": platform.platform(), "machine": platform.machine(),
        "processor": platform.processor() or "", "python": platform.python_version(),
        "crmql": getattr(crmql, "__version__", "?"),
    }
    print(f"crmql benchmarks  {now:%Y-%m-%d %H:%M:%S %Z}")
    print(f"machine: {machine['cores']} cores, {machine['machine']}, {machine['platform']}, "
          f"Python {machine['python']}, crmql {machine['crmql']}")
    print(f"sandbox: loopback, {'its own process' if args.server == 'process' else 'a thread of this process'}, "
          f"{args.latency_ms:g} ms latency per request; page size {PAGE_SIZE} (Atlas, casavi {ATLAS_PAGE}); "
          f"repeat {args.repeat} (wall times are medians)")

    plan = bench_plan() if "plan" in args.names else None  # first: no HTTP, and the parser still cold

    http_names = [n for n in args.names if n in HTTP_SCENARIOS]
    outcomes: list[Outcome] = []
    if http_names:
        server = ProcessSandbox(args.latency_ms) if args.server == "process" \
            else serve_in_thread(SandboxSettings(latency_ms=args.latency_ms))
        try:
            config = sandbox_config(server.url)
            base_url = f"{server.url}/{VENDOR}"
            creds = CREDENTIALS[VENDOR]
            atlas_creds = CREDENTIALS["atlas"]
            atlas_url = f"{server.url}/atlas"
            atlas_probe = NaiveAtlasClient(atlas_url, atlas_creds["client_id"], atlas_creds["client_secret"])
            with NaiveClient(base_url, creds["client_id"], creds["client_secret"]) as probe, atlas_probe:
                # warm up: the sandbox generates its data on first use; crmql imports DuckDB etc.
                for table in ("events", "contacts", "organizations"):
                    probe.search(table, {}, limit=1)
                org_id = probe.search("organizations", {}, limit=1)["organizations"][0]["id"]
                warm = crmql.Session(config)
                try:
                    warm.execute("SELECT name FROM azavista.organizations WHERE country = 'NL' LIMIT 3")
                finally:
                    warm.close()
                if any(n in ATLAS_SCENARIOS for n in http_names):  # warm up the Atlas simulator and connector too
                    for etype in ("company", "contact", "sale"):
                        atlas_probe.total([("type", etype), ("limit", "1")])
                    warm = crmql.Session(config)
                    try:
                        warm.execute("SELECT id FROM atlas.sales WHERE \"sale-status\" = 'won' LIMIT 3")
                    finally:
                        warm.close()
                scenarios = {s.name: s for s in build_scenarios(org_id) + build_atlas_scenarios()}
                contexts = {"azavista": (base_url, creds, probe), "atlas": (atlas_url, atlas_creds, atlas_probe)}
                if any(n in CASAVI_SCENARIOS for n in http_names):
                    scenarios.update((s.name, s) for s in _casavi_warm(server.url, config, contexts))
                if any(n in COMMUNITY_SCENARIOS for n in http_names):
                    scenarios.update((s.name, s) for s in warm_community(
                        server.url, config, contexts, crmql.Session, CREDENTIALS["casavi_community"]))
                if any(n in VOYZU_SCENARIOS for n in http_names):
                    voyzu_scenarios, config = warm_voyzu(server.url, config, contexts, crmql.Session,
                                                         CREDENTIALS["voyzu"])
                    scenarios.update((s.name, s) for s in voyzu_scenarios)
                print()
                print("scenarios:")
                for name in http_names:
                    print(f"  {name:<18} {scenarios[name].sql}")
                if plan is not None:
                    print(f"  {'plan':<18} parse + bind + plan_query, no HTTP: {PLAN_SQL}")
                for name in http_names:
                    sc = scenarios[name]
                    outcomes.append(run_scenario(sc, server, config, *contexts[sc.vendor], args.repeat))
        finally:
            server.stop()
    elif plan is not None:
        print()
        print(f"scenarios:\n  {'plan':<14} parse + bind + plan_query, no HTTP: {PLAN_SQL}")

    print()
    for line in table_rows(outcomes, plan):
        print(line)
    print()
    print("rows: rows returned; pushed: rows matching the filter crmql pushed (per scan); fetched: rows crmql")
    print("transferred; req columns: search+token requests counted by the server; bound: one request per full page")
    print("of 50 needed rows (100 for Atlas and casavi; min 1 per table; casavi Community: per community) + 1 token;")
    print("Voyzu: pages of 1000, no token (a session id); its /class module counts as a token request;")
    print("crmql/naive, crmql/bound: ratios of total requests;")
    print("ms: wall time; speedup: naive ms / crmql ms. The naive client fetches every table in full, sequentially.")

    warnings = [w for o in outcomes for w in o.warnings]
    note_lines = notes(outcomes)
    if warnings or note_lines:
        print()
        for line in warnings + note_lines:
            print(line)
    by_name = {o.scenario.name: o for o in outcomes}
    checks = targets(by_name, plan)
    if checks:
        print()
        print("targets (informational):")
        for c in checks:
            print(f"  {c['result']:<4} {c['scenario']:<10} {c['detail']}")
    total_s = time.perf_counter() - started
    print()
    print(f"total benchmark time: {total_s:.1f} s")

    if args.json:
        doc = {
            "date": now.isoformat(timespec="seconds"), "machine": machine, "latency_ms": args.latency_ms,
            "repeat": args.repeat, "page_size": PAGE_SIZE, "total_s": round(total_s, 2),
            "scenarios": [_outcome_json(o) for o in outcomes],
            "plan": None if plan is None else {
                "sql": PLAN_SQL, "runs": plan.runs, "cold_ms": plan.cold_ms, "median_ms": plan.median_ms,
                "p95_ms": plan.p95_ms, "phase_median_ms": plan.phases,
                "predicates": plan.predicates, "pushed": plan.pushed, "local_only": plan.local},
            "targets": checks, "warnings": warnings, "notes": note_lines,
        }
        Path(args.json).write_text(json.dumps(doc, indent=2, default=str) + "\n", encoding="utf-8")
        print(f"figures written to {args.json}")
    return 1 if any(o.status == "error" for o in outcomes) else 0


def _casavi_warm(url: str, config: Any, contexts: dict[str, Any]) -> list[Scenario]:
    """Warm up the casavi simulator and connector; its scenarios (with a real contact id) and context."""
    creds = CREDENTIALS["casavi"]
    probe = NaiveCasaviClient(f"{url}/casavi", creds["key"], creds["secret"])
    for table in ("contacts", "properties", "units"):
        probe.get(f"/v2/{table}", {"limit": 1})
    warm = crmql.Session(config)
    try:
        warm.execute("SELECT id FROM casavi.properties LIMIT 3")
    finally:
        warm.close()
    contexts["casavi"] = (f"{url}/casavi", creds, probe)
    return build_casavi_scenarios(probe.first_id("contacts"))


def _outcome_json(o: Outcome) -> dict[str, Any]:
    return {
        "scenario": o.scenario.name, "vendor": o.scenario.vendor, "sql": o.scenario.sql, "status": o.status,
        "message": o.message,
        "rows": o.rows, "naive_rows": o.naive_rows, "count_value": o.value, "naive_count_value": o.naive_value,
        "pushed_matches": o.pushed,
        "needed_rows": o.evaluation.needed if o.evaluation else None,
        "requests": {
            "crmql": {"search": o.crmql.data, "token": o.crmql.token, "total": o.crmql.total},
            "naive": {"search": o.naive.data, "token": o.naive.token, "total": o.naive.total},
            "lower_bound": {"search": o.bound, "token": 1, "total": o.bound + 1},
        },
        "crmql_stats": o.crmql_stats,
        "wall_ms": {"crmql": o.crmql_ms, "naive": o.naive_ms,
                    "crmql_median": o.crmql_median, "naive_median": o.naive_median},
        "warnings": o.warnings,
    }


if __name__ == "__main__":
    sys.exit(main())
