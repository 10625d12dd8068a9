"""The ``crmql`` command (design section 8).

    crmql                          the interactive shell
    crmql -e SQL [-e SQL ...]      run statements and exit;  crmql -f FILE.sql  likewise
    crmql sandbox serve|config|dump|variants

Exit codes: 0 ok, 1 query error, 2 usage or configuration, 3 vendor/network/auth, 130 cancelled.

>>> parse_params(["n=5", "name=O'Neil", "c=NL", "c=DE"])
{'n': '5', 'name': "O'Neil", 'c': ['NL', 'DE']}
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
from collections.abc import Sequence
from typing import Any, TextIO

from ..errors import ConfigError, CrmqlError
from ..api.source import ScriptReadError, read_script

__all__ = ["ScriptReadError", "main", "parse_params", "read_script"]

EXIT_OK, EXIT_QUERY, EXIT_USAGE, EXIT_VENDOR, EXIT_CANCELLED = 0, 1, 2, 3, 130


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # argparse's own exit code 2 is ours for usage errors too
        self.print_usage(sys.stderr)
        self.exit(EXIT_USAGE, f"crmql: error: {message}\n")


def _main_parser() -> argparse.ArgumentParser:
    p = _Parser(prog="crmql", description="One SQL-like language over CRM and property-management APIs.",
                epilog="crmql sandbox serve|config|dump|variants: run and inspect the vendor simulators (crmql sandbox -h).")
    p.add_argument("-e", "--execute", action="append", default=[], metavar="SQL", help="run a statement (repeatable)")
    p.add_argument("-f", "--file", metavar="FILE", help="run the statements of a file ('-' for standard input)")
    p.add_argument("--format", choices=["table", "csv", "json", "jsonl", "markdown", "parquet"],
                   help="output format (default: table; parquet only with --output)")
    p.add_argument("--output", "-o", metavar="PATH", help="write the result there (format from the extension unless --format)")
    p.add_argument("--partition-by", action="append", default=[], metavar="COLUMN",
                   help="with --output DIR: a Hive-partitioned Parquet directory, a folder per value (repeatable)")
    p.add_argument("--param", action="append", default=[], metavar="NAME=VALUE",
                   help="bind :NAME; the value takes the type of what it meets (capacity > :n: a number). "
                        "Give a name more than once for a list: --param c=NL --param c=DE for IN :c")
    p.add_argument("--config", metavar="PATH", help="config file (default: $CRMQL_CONFIG, the user config dir, else the sandbox)")
    p.add_argument("--stats", action="store_true", help="print a stats line on stderr after each statement")
    p.add_argument("--debug", action="store_true", help="show tracebacks and debug logs (secrets stay redacted)")
    p.add_argument("--version", action=_Version, nargs=0, help="show the version and exit")
    return p


def _sandbox_parser() -> argparse.ArgumentParser:
    p = _Parser(prog="crmql sandbox", description="The vendor simulators crmql runs against when there is no config.")
    sub = p.add_subparsers(dest="command", required=True, parser_class=_Parser)
    serve = sub.add_parser("serve", help="serve every simulator on loopback until Ctrl-C")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=None, help="default: the sandbox's usual port")
    serve.add_argument("--seed", type=int, default=42)
    serve.add_argument("--latency-ms", type=float, default=0.0)
    serve.add_argument("--faults", default="", metavar="SPEC", help="e.g. '429@2,500@4,drop=0.05,expire@10'")
    serve.add_argument("--variant", action="append", default=[], metavar="KEY=VALUE",
                       help="serve under another reading of the vendor docs, e.g. azavista.range=inclusive "
                            "(repeatable; crmql sandbox variants lists them)")
    variants = sub.add_parser("variants", help="list every open reading of the vendor docs the simulators can switch")
    variants.add_argument("--format", choices=["table", "json"], default="table")
    config = sub.add_parser("config", help="print a config file for a served sandbox")
    config.add_argument("--host", default="127.0.0.1")
    config.add_argument("--port", type=int, default=None)
    dump = sub.add_parser("dump", help="print a simulator's raw records as JSON")
    dump.add_argument("table", metavar="CONN.TABLE")
    dump.add_argument("--seed", type=int, default=42)
    return p


class _Version(argparse.Action):
    """--version, looked up only when asked for (importlib.metadata is slow to import)."""

    def __call__(self, parser: argparse.ArgumentParser, *args: Any) -> None:
        print(f"crmql {_version()}")
        parser.exit(EXIT_OK)


def _version() -> str:
    try:
        from importlib.metadata import version
        return version("crmql")
    except Exception:  # pragma: no cover
        return "dev"


def parse_params(items: Sequence[str]) -> dict[str, Any]:
    """``NAME=VALUE`` pairs -> parameters (see :func:`crmql.api.params.parse_params`); a malformed
    item is a usage error (exit code 2)."""
    from ..api.params import ParamError, parse_params as parse

    try:
        return parse(items)
    except ParamError as e:
        raise SystemExit(_usage(str(e))) from None


def _usage(message: str) -> int:
    print(f"crmql: error: {message}", file=sys.stderr)
    return EXIT_USAGE


def _setup_logging(debug: bool) -> None:
    from ..http import install_log_redaction

    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
    install_log_redaction(handler)
    root = logging.getLogger("crmql")
    root.addHandler(handler)
    root.setLevel(logging.DEBUG if debug else logging.WARNING)


def _emit(result: Any, args: argparse.Namespace, out: TextIO) -> None:
    from ..exec.formats import render

    if result.frame is None:  # EXPLAIN's plan, COPY's summary
        from ..api.copy import summary_on_stderr

        if summary_on_stderr(result):  # COPY ... TO '/dev/stdout': the data is on stdout, the summary is not
            out.flush()
            out = sys.stderr
        out.write((result.text or "") + "\n")
        return
    fmt = args.format or "table"
    text = render(result.frame, fmt, max_cell=None if fmt != "table" else 80)
    out.write(text if text.endswith("\n") else text + "\n")


def _run_statements(args: argparse.Namespace, statements: list[str]) -> int:
    from ..errors import CrmqlError
    from ..api.session import Session

    params = parse_params(args.param)
    if args.output and len(statements) != 1:
        return _usage("--output takes exactly one statement")
    if args.partition_by and not args.output:
        return _usage("--partition-by needs --output DIR")
    if args.format == "parquet" and not args.output:
        return _usage("--format parquet needs --output PATH (Parquet is a binary file, not text for a terminal)")
    session = Session(args.config)
    try:
        for sql in statements:
            try:
                if args.output:  # the same writer as COPY: streamed, atomic, the same bytes
                    from ..api.copy import export_statement

                    result = export_statement(session, sql, args.output, format=args.format, params=params,
                                              partition_by=args.partition_by)
                else:
                    result = session.execute(sql, params)
            except CrmqlError as e:
                print(f"error: {e}", file=sys.stderr)
                return e.exit_code
            if not args.output:
                _emit(result, args, sys.stdout)
            sys.stdout.flush()
            if args.stats:
                print(result.stats.line(), file=sys.stderr)
            sys.stdout.flush()
        return EXIT_OK
    finally:
        session.close()


def _sandbox(argv: list[str]) -> int:
    from ..sandbox import DEFAULT_PORT, VARIANTS_HINT, SandboxSettings, parse_variants, records, serve_forever, simulators
    from ..sandbox.core.server import config_hint

    args = _sandbox_parser().parse_args(argv)
    if args.command == "variants":
        _print_variants(args.format)
        return EXIT_OK
    if args.command == "serve":
        try:
            settings = SandboxSettings(seed=args.seed, latency_ms=args.latency_ms, faults=args.faults,
                                       variants=parse_variants(args.variant))
        except ValueError as e:
            return _usage(str(ConfigError(str(e), hint=VARIANTS_HINT if args.variant and "variant" in str(e) else None)))
        port = args.port if args.port is not None else DEFAULT_PORT
        chosen = " ".join(f"{k}={v}" for k, v in settings.variants.items())
        chosen = f" under {chosen}" if chosen else ""

        def ready(url: str) -> None:  # said only once the port is bound: a busy port fails first (exit 2)
            print(f"crmql sandbox: serving {', '.join(simulators())} on {url}{chosen} (Ctrl-C stops)", file=sys.stderr)
            print(f"  config for it: {config_hint(url)}", file=sys.stderr)

        serve_forever(settings, args.host, port, on_ready=ready)
        return EXIT_OK
    if args.command == "config":
        from ..api.config import sandbox_config

        port = args.port if args.port is not None else DEFAULT_PORT
        host = f"[{args.host}]" if ":" in args.host else args.host  # an IPv6 address in a URL
        config = sandbox_config(f"http://{host}:{port}")
        served = f"crmql sandbox serve{'' if args.host == '127.0.0.1' else f' --host {args.host}'} --port {port}"
        lines = [f"# crmql config for the sandbox served by `{served}`"]
        for name, conn in config.connections.items():
            lines.append(f"\n[connections.{name}]\nvendor = {json.dumps(conn.vendor)}")
            lines.extend(f"{k} = {json.dumps(v)}" for k, v in conn.settings.items())
        print("\n".join(lines))
        return EXIT_OK
    conn, _, table = args.table.partition(".")
    if not table:
        return _usage("dump needs CONN.TABLE, e.g. azavista.events")
    try:
        data = records(conn, table, args.seed)
    except (KeyError, ValueError) as e:
        return _usage(f"no simulator table {args.table!r} ({e})")
    json.dump(data, sys.stdout, ensure_ascii=False, indent=1)
    sys.stdout.write("\n")
    return EXIT_OK


def _print_variants(fmt: str) -> None:
    """``crmql sandbox variants``: vendor, key, values, default, source and meaning of each variant."""
    from ..sandbox import all_variants

    rows = [{"vendor": v.key.partition(".")[0], "key": v.key, "values": list(v.values), "default": v.default,
             "source": v.source, "meaning": v.meaning} for v in all_variants().values()]
    if fmt == "json":
        json.dump(rows, sys.stdout, ensure_ascii=False, indent=1)
        sys.stdout.write("\n")
        return
    cells = [[r["vendor"], r["key"], " | ".join(r["values"]), r["default"], r["source"], r["meaning"]] for r in rows]
    header = ["vendor", "key", "values", "default", "source", "meaning"]
    widths = [max(len(row[i]) for row in [header, *cells]) for i in range(len(header) - 1)]
    for row in [header, *cells]:
        print("  ".join(cell.ljust(w) for cell, w in zip(row, widths)) + "  " + row[-1])


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``crmql`` console script."""
    argv = list(sys.argv[1:] if argv is None else argv)
    debug = "--debug" in argv
    _setup_logging(debug)
    try:
        if argv and argv[0] == "sandbox":
            return _sandbox(argv[1:])
        args = _main_parser().parse_args(argv)
        statements: list[str] = []
        if args.execute or args.file or not sys.stdin.isatty():  # the shell loads the parser (Lark) after its prompt
            from ..language.parser import split_statements
        for sql in args.execute:
            statements.extend(split_statements(sql) or [sql])
        if args.file:
            statements.extend(split_statements(_read(args.file)))
        if statements:
            return _run_statements(args, statements)
        if args.output:
            return _usage("--output needs -e or -f")
        if not sys.stdin.isatty():
            return _run_statements(args, split_statements(_read("-")))
        from .repl import run_repl

        return run_repl(args)
    except KeyboardInterrupt:
        print("cancelled", file=sys.stderr)
        return EXIT_CANCELLED
    except BrokenPipeError:  # e.g. `crmql ... | head`: the reader left; stop quietly
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_OK
    except SystemExit as e:
        return int(e.code) if isinstance(e.code, int) else EXIT_USAGE
    except Exception as e:  # noqa: BLE001 - the last line of defence: one message, no traceback
        if debug:
            raise
        from ..errors import CrmqlError
        from ..http import redact

        if isinstance(e, CrmqlError):
            print(f"error: {e}", file=sys.stderr)
            return e.exit_code
        print(f"internal error: {redact(str(e)) or type(e).__name__} (run with --debug for details)", file=sys.stderr)
        return EXIT_QUERY


def _read(path: str) -> str:
    try:
        return read_script(path)
    except ScriptReadError as e:
        raise SystemExit(_usage(e.message)) from None
