"""crmql at scale: a 200-page scan through Spark with 1, 2 and 4 partitions against crmql alone, and
the memory of a 1,000,000-row partitioned export.

    .venv/bin/python benchmarks/spark.py [--latency-ms 50] [--events 10000] [--partitions 1 2 4]
                                         [--repeat 3] [--export-rows 1000000 | --no-export] [--json PATH]

The sandbox runs in its own process (``benchmarks/remote.py``) with ``CRMQL_SANDBOX_AZAVISTA_EVENTS``
events (10,000 = 200 search pages of 50), every request delayed by ``--latency-ms``. Each figure is
the median of ``--repeat`` runs; requests are counted on the server (its request log), and the peak
of requests in flight at once comes from the sandbox's concurrency meter (``/_sandbox/concurrency``).

* **crmql alone**: ``Session(config).query("SELECT * FROM azavista.events")``, a fresh session per
  run (its token request counted).
* **Spark, N partitions**: ``spark.read.format("crmql").option("maxPartitions", N)
  .load("azavista.events")`` written to Spark's ``noop`` sink (every row read, nothing stored), on
  ``local[4]`` after one warm-up scan with the most partitions (the JVM and the Python workers are
  started once and reused, as on a cluster). The driver asks Azavista's total (1 request), the N tasks each read their page range
  with their own client and token.
* **Export**: ``crmql -e "COPY (SELECT * FROM azavista.events) TO 'dir/' WITH (FORMAT parquet,
  PARTITION_BY (event_type))"`` in a child process over ``--export-rows`` events; its peak RSS
  (``getrusage``) against the same rows read into one DataFrame would need (the Arrow size of the
  result, measured on a 100,000-row sample and scaled).

A benchmark, not a test: it prints figures (and ``--json``), never fails on a number.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import httpx  # noqa: E402

from benchmarks.remote import ProcessSandbox  # noqa: E402

SCAN_SQL = "SELECT * FROM azavista.events"
#: runs crmql's command line in this child and reports the child's own peak RSS (not the sandbox's)
PEAK_RSS = ("import resource, sys\nfrom crmql.surfaces.cli import main\ntry:\n    code = main(sys.argv[1:])\n"
            "except SystemExit as e:\n    code = e.code\nprint('PEAK_RSS_KB', resource.getrusage(resource.RUSAGE_SELF)"
            ".ru_maxrss, file=sys.stderr)\nsys.exit(code)")


def write_config(url: str, directory: Path, *, max_pages: int) -> Path:
    """A config file naming the sandbox process's Azavista (its public sandbox credentials)."""
    from crmql.sandbox import CREDENTIALS

    creds = CREDENTIALS["azavista"]
    lines = ["[connections.azavista]", 'vendor = "azavista"', f'base_url = "{url}/azavista"',
             f"max_pages = {max_pages}"]
    lines += [f'{k} = "{v}"' for k, v in creds.items() if k in ("client_id", "client_secret")]
    path = directory / "crmql.toml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    path.chmod(0o600)
    return path


def served(server: ProcessSandbox) -> dict[str, Any]:
    """Requests since the last reset: token and data requests, and the peak in flight."""
    log = server.request_log
    token = sum(1 for _, path, _ in log if "token" in path)
    peak = None
    try:
        meter = httpx.get(f"{server.url}/_sandbox/concurrency", timeout=10).json()
        peak = meter.get("azavista", {}).get("peak")
    except (httpx.HTTPError, ValueError):
        pass
    return {"data": len(log) - token, "token": token, "peak": peak}


def timed(run: Any, server: ProcessSandbox, repeat: int) -> dict[str, Any]:
    times, counts = [], {}
    for _ in range(repeat):
        server.reset_log()
        started = time.perf_counter()
        rows = run()
        times.append((time.perf_counter() - started) * 1000)
        counts = served(server)
    return {"ms": statistics.median(times), "runs_ms": [round(t) for t in times], "rows": rows, **counts}


def bench_scan(args: argparse.Namespace, work: Path) -> dict[str, Any]:
    import crmql
    from crmql.spark import register
    from pyspark.sql import SparkSession

    os.environ["CRMQL_SANDBOX_AZAVISTA_EVENTS"] = str(args.events)
    server = ProcessSandbox(latency_ms=args.latency_ms)
    try:
        config = write_config(server.url, work, max_pages=max(10_000, args.events // 50 + 10))

        def alone() -> int:
            with crmql.connect(config) as session:
                return len(session.query(SCAN_SQL))

        out: dict[str, Any] = {"events": args.events, "latency_ms": args.latency_ms, "crmql": timed(alone, server, args.repeat)}
        os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
        os.environ.setdefault("PYSPARK_DRIVER_PYTHON", sys.executable)
        spark = (SparkSession.builder.master("local[4]").appName("crmql-bench")
                 .config("spark.ui.enabled", "false").config("spark.sql.python.filterPushdown.enabled", "true")
                 .config("spark.sql.shuffle.partitions", "4").getOrCreate())
        spark.sparkContext.setLogLevel("ERROR")
        try:
            register(spark)
            def reader() -> Any:  # a DataFrameReader keeps its options: a new one per frame
                return spark.read.format("crmql").option("config", str(config))

            # warm-up: the JVM and as many Python workers as the most partitions (each imports crmql once)
            reader().option("maxPartitions", max(args.partitions)).load("azavista.events") \
                .write.format("noop").mode("overwrite").save()
            for n in args.partitions:
                frame = reader().option("maxPartitions", n).load("azavista.events")

                def scan(frame: Any = frame) -> int:
                    frame.write.format("noop").mode("overwrite").save()
                    return args.events

                result = timed(scan, server, args.repeat)
                result["partitions"] = frame.rdd.getNumPartitions()
                out[f"spark_{n}"] = result
        finally:
            spark.stop()
        return out
    finally:
        server.stop()


def bench_export(args: argparse.Namespace, work: Path) -> dict[str, Any]:
    os.environ["CRMQL_SANDBOX_AZAVISTA_EVENTS"] = str(args.export_rows)
    server = ProcessSandbox(latency_ms=0)
    try:
        config = write_config(server.url, work, max_pages=args.export_rows // 50 + 10)
        with config.open("a", encoding="utf-8") as f:  # the sandbox builds its events on the first request
            f.write("timeout_s = 900\n")
        import crmql

        with crmql.connect(config) as session:  # not timed: the simulator's one-off generation
            session.query("SELECT COUNT(*) AS n FROM azavista.events")
        target = work / "events_by_type"
        sql = f"COPY ({SCAN_SQL}) TO '{target}/' WITH (FORMAT parquet, PARTITION_BY (event_type))"
        server.reset_log()
        started = time.perf_counter()
        done = subprocess.run([sys.executable, "-c", PEAK_RSS, "--config", str(config), "-e", sql],
                              capture_output=True, text=True)
        elapsed = time.perf_counter() - started
        peak_kb = int(done.stderr.rsplit("PEAK_RSS_KB ", 1)[-1].split()[0]) if "PEAK_RSS_KB" in done.stderr else 0
        files = list(target.rglob("*.parquet")) if target.exists() else []
        size = sum(f.stat().st_size for f in files)
        out = {"rows": args.export_rows, "seconds": round(elapsed, 1), "exit": done.returncode,
               "summary": (done.stdout + done.stderr).strip()[-300:], "peak_rss_mb": round(peak_kb / 1024), "files": len(files), "parquet_mb": round(size / 2**20, 1),
               "requests": len(server.request_log)}
        if files:
            import pyarrow.dataset as ds

            table = ds.dataset(target, format="parquet", partitioning="hive").to_table()
            out["rows_read_back"] = table.num_rows
            out["arrow_mb_in_memory"] = round(table.nbytes / 2**20)
        return out
    finally:
        server.stop()
        shutil.rmtree(work / "events_by_type", ignore_errors=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--latency-ms", type=float, default=50)
    parser.add_argument("--events", type=int, default=10_000)
    parser.add_argument("--partitions", type=int, nargs="+", default=[1, 2, 4])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--export-rows", type=int, default=1_000_000)
    parser.add_argument("--no-export", action="store_true")
    parser.add_argument("--no-scan", action="store_true")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args(argv)
    results: dict[str, Any] = {}
    with tempfile.TemporaryDirectory(prefix="crmql-bench-") as tmp:
        work = Path(tmp)
        if not args.no_scan:
            scan = results["scan"] = bench_scan(args, work)
            print(f"200-page scan: {scan['events']:,} Azavista events, {scan['latency_ms']:g} ms latency "
                  f"(median of {args.repeat})")
            print(f"  {'reader':<22}{'wall ms':>10}{'requests':>12}{'peak in flight':>16}")
            for key, value in scan.items():
                if isinstance(value, dict):
                    name = "crmql alone" if key == "crmql" else f"Spark, {value.get('partitions')} partition(s)"
                    print(f"  {name:<22}{value['ms']:>10.0f}{value['data']:>8}+{value['token']:<3}{value['peak'] or '-':>16}")
        if not args.no_export:
            export = results["export"] = bench_export(args, work)
            print(f"partitioned export: {export['rows']:,} rows -> {export['files']} files, {export['parquet_mb']} MB "
                  f"in {export['seconds']} s ({export['requests']} requests, exit {export['exit']})")
            print(f"  peak RSS of the crmql process: {export['peak_rss_mb']} MB; the same rows as one Arrow "
                  f"table: {export.get('arrow_mb_in_memory', '?')} MB")
    if args.json:
        args.json.write_text(json.dumps(results, indent=2), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
