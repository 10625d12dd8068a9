"""The interactive shell (``crmql`` with no arguments): a prompt_toolkit session on the configured
connections, with completion, highlighting, history, backslash commands, a pager, a progress line
and Ctrl-C that cancels the running query.

Startup stays fast: nothing before the first prompt imports pandas, DuckDB, pyarrow or Lark. Once
the prompt is drawn, a background thread creates the :class:`~crmql.api.session.Session` (pandas),
warms the planner and DuckDB, loads the schemas for completion and builds the parser that tells
the completer which keywords fit. A statement submitted before that is done waits for it.

:class:`Shell` is put together from mixins, one concern each: :mod:`~crmql.surfaces.repl.warmup` (the
background warm-up and the session), :mod:`~crmql.surfaces.repl.display` (where results, messages and errors
go) and :mod:`~crmql.surfaces.repl.prompt` (the prompt_toolkit session, the history and the loop); this module
runs what is submitted: statements, backslash commands and ``\\i`` scripts. ``[repl]`` in the config
file sets the defaults of :class:`~crmql.surfaces.repl.settings.ReplSettings` (described there).
"""

from __future__ import annotations

import logging
import sys
import threading
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from .commands import edit_text, parse_command, run_command
from .display import DisplayMixin
from .output import Progress, _isatty
from .prompt import PromptMixin
from .settings import ReplSettings
from .warmup import WarmUpMixin

if TYPE_CHECKING:
    from ...api.config import Config
    from ...api.session import Session

__all__ = ["ReplSettings", "ScriptPlace", "Shell", "run_repl"]

log = logging.getLogger(__name__)

#: how long \q / Ctrl-D waits for the background warm-up to finish before leaving
_EXIT_JOIN_S = 5.0
_MAX_INCLUDE_DEPTH = 16


#: statements that change vendor data: the shell asks before running one. The grammar has none
#: yet, so this only applies once a write keyword exists in it (see :func:`is_destructive`).
WRITE_KEYWORDS = frozenset({"INSERT", "UPDATE", "DELETE", "MERGE", "UPSERT", "DROP", "TRUNCATE"})


def is_destructive(sql: str) -> bool:
    """Whether ``sql`` starts with a write keyword the grammar knows.

    >>> is_destructive("SELECT * FROM azavista.events"), is_destructive("DELETE FROM x.y")
    (False, False)
    """
    from ...language.names import keywords
    from ..completion.tokens import scan

    first = next(iter(scan(sql)), None)
    return first is not None and first.kind == "keyword" and first.upper in (WRITE_KEYWORDS & keywords())


class Shell(WarmUpMixin, DisplayMixin, PromptMixin):
    """State of one interactive session: settings, output target, the Session (made in the
    background) and the schema cache the completer reads."""

    def __init__(self, config: Config, *, params: dict[str, Any] | None = None, settings: ReplSettings | None = None,
                 stats: bool = False, debug: bool = False, out: IO[str] | None = None, err: IO[str] | None = None,
                 input: IO[str] | None = None) -> None:
        from .completer import CrmqlCompleter
        from .schema import SchemaCache

        self.config = config
        self.params = params or {}
        self.settings = settings or ReplSettings.from_config(config.repl)
        self.stats = stats
        self.debug = debug
        self.out = out or sys.stdout
        self.err = err or sys.stderr
        self.input = input
        self.last_statement = ""
        self._output: IO[str] | None = None
        self._output_path: Path | None = None
        self._output_format: str | None = None
        self._session: Session | None = None
        self._session_error: BaseException | None = None
        self._ready = threading.Event()
        self._warm_thread: threading.Thread | None = None
        self._include_depth = 0
        self.prompt_session: Any = None
        self.schema = SchemaCache(list(config.connections), self._load_tables, on_loaded=self._schema_loaded,
                                  declared=self._declared_tables)
        self.completer = CrmqlCompleter(self.schema, keyword_case=self.settings.keyword_case)

    # ---- running things
    def run_sql(self, sql: str, *, at: ScriptPlace | None = None) -> None:
        """Run one statement, with the progress line, and show its result or its error.

        ``at``: where the statement starts in a ``\\i`` file; a located error then gives the line
        and column in that file (and its line), and names the file."""
        from ...stats import QueryStats

        self.last_statement = sql
        if is_destructive(sql) and not self.confirm("This statement changes data at the vendor. Run it? [y/N] "):
            self.message("Not run.")
            return
        st = QueryStats()
        progress = Progress(st, self.err, enabled=_isatty(self.err))
        st.on_progress = progress.notify
        if not self._ready.is_set():
            progress.phase = "starting up (first statement)"
        progress.start()
        try:
            session = self.session()
            progress.phase = None
            result = session.execute(sql, self.params, statement_stats=st)
        except KeyboardInterrupt:
            progress.stop()
            self.error(f"cancelled after {progress.elapsed:.1f} s")
            return
        except Exception as e:  # noqa: BLE001 - one message (CrmqlError: the user's); the shell goes on
            progress.stop()
            if at is not None:
                at.relocate(e)
            self.error(e, source=at.source if at is not None else None)
            return
        finally:
            progress.stop()
        try:
            self.show_result(result)
        except KeyboardInterrupt:
            self.message("")
        except BrokenPipeError:  # pragma: no cover - the pager left
            pass

    def confirm(self, question: str) -> bool:
        """Ask a yes/no question on the terminal (no: when there is no answer)."""
        try:
            self.out.write(question)
            self.out.flush()
            answer = input() if self.input is None else self.input.readline()
        except (EOFError, KeyboardInterrupt):
            self.message("")
            return False
        return answer.strip().lower() in ("y", "yes")

    def run_command(self, text: str) -> bool:
        """Run a backslash command; False means quit."""
        from ...errors import CrmqlError

        try:
            return run_command(self, text)
        except KeyboardInterrupt:
            self.error("cancelled")
        except (CrmqlError, ValueError) as e:
            self.error(e if isinstance(e, CrmqlError) else str(e))
        except Exception as e:  # noqa: BLE001
            self.error(e)
        return True

    def handle(self, text: str) -> tuple[bool, str]:
        """One submitted buffer -> (keep going, text to put back in the next prompt)."""
        from ...language.parser import split_statements

        stripped = text.strip()
        if not stripped:
            return True, ""
        word = stripped.rstrip(";").strip().lower()
        if word == "help":  # help, quit and exit are the shell's words (lexer.SHELL_WORDS), as in psql
            return self.run_command("\\?"), ""
        if word in ("quit", "exit"):
            return False, ""
        lines = text.rstrip().split("\n")
        if lines[-1].strip().startswith("\\"):
            command = lines[-1].strip()
            body = "\n".join(lines[:-1]).strip()
            name, _ = parse_command(command)
            if name == "\\e":
                try:
                    edited = edit_text(body or self.last_statement)
                except OSError as e:
                    self.error(f"cannot run the editor: {e.strerror or e}")
                    return True, body
                return True, edited
            if not self.run_command(command):
                return False, ""
            return True, body
        for sql in split_statements(text):
            self.run_sql(sql)
        return True, ""

    def run_script(self, text: str, *, source: str = "script") -> bool:
        """Run statements and backslash commands from a file (``\\i``); False means quit.

        Errors are located in the file: its line and column, not the statement's."""
        from ...language.parser import split_statements
        from .lexer import SHELL_WORDS, statement_complete

        if self._include_depth >= _MAX_INCLUDE_DEPTH:
            raise ValueError(f"\\i nested more than {_MAX_INCLUDE_DEPTH} deep ({source})")
        self._include_depth += 1
        lines = text.replace("\r\n", "\n").split("\n")
        name = Path(source).name if source != "script" else source

        def run(buffer: list[str], first_line: int) -> None:
            joined = "\n".join(buffer)
            pos = 0
            for sql in split_statements(joined):
                offset = joined.find(sql, pos)
                pos = offset + len(sql)
                before = joined[:offset]
                place = ScriptPlace(name, lines, first_line + before.count("\n"), offset - (before.rfind("\n") + 1))
                self.run_sql(sql, at=place)

        try:
            buffer: list[str] = []
            start = 0
            for number, line in enumerate(lines):
                word = line.strip().rstrip(";").strip().lower()
                if not buffer and word in SHELL_WORDS:  # as at the prompt: help, quit, exit
                    if word == "help":
                        self.run_command("\\?")
                        continue
                    return False
                if not buffer and line.strip().startswith("\\"):
                    if parse_command(line)[0] == "\\e":
                        self.error("\\e works at the prompt only")
                    elif not self.run_command(line.strip()):
                        return False
                    continue
                if not buffer:
                    start = number
                buffer.append(line)
                if statement_complete("\n".join(buffer)) and "\n".join(buffer).strip():
                    run(buffer, start)
                    buffer = []
            run(buffer, start)
            return True
        finally:
            self._include_depth -= 1

    def close(self) -> None:
        if self._output is not None:
            self._output.close()
            self._output = None
        thread = self._warm_thread
        if thread is not None:
            thread.join(_EXIT_JOIN_S)  # let imports finish: leaving mid-import can crash the interpreter
        if self._session is not None:
            self._session.close()


class ScriptPlace:
    """Where a statement starts in a ``\\i`` file: the file's name and lines, the 0-based line and
    column of the statement's first character.

    >>> from crmql.errors import QueryError
    >>> e = QueryError("unknown column 'nme'").locate("SELECT nme\\nFROM x.y", start=7, end=10)
    >>> print(ScriptPlace("a.sql", ["-- c", "  SELECT nme", "FROM x.y"], 1, 2).relocate(e))
    unknown column 'nme', at line 2, column 10
        SELECT nme
               ^^^
    """

    def __init__(self, source: str, lines: list[str], line: int, column: int) -> None:
        self.source, self.lines, self.line, self.column = source, lines, line, column

    def relocate(self, error: BaseException) -> BaseException:
        """Move a located error (``line``, ``column``, ``source_line``) from the statement to the file."""
        line = getattr(error, "line", None)
        if not isinstance(line, int) or getattr(error, "source_line", None) is None:
            return error
        if line == 1 and isinstance(getattr(error, "column", None), int):
            error.column += self.column  # type: ignore[attr-defined]
        index = self.line + line - 1
        error.line = index + 1  # type: ignore[attr-defined]
        if 0 <= index < len(self.lines):
            error.source_line = self.lines[index].rstrip("\r")  # type: ignore[attr-defined]
        return error


def run_repl(args: Any) -> int:
    """``crmql`` with no statements and a terminal: the interactive shell."""
    from ...api.config import load_config
    from ...api.params import ParamError, parse_params
    from ...errors import ConfigError

    try:
        config = load_config(getattr(args, "config", None))
    except ConfigError as e:
        print(f"error: {e}", file=sys.stderr)
        return e.exit_code
    settings = ReplSettings.from_config(config.repl)
    if getattr(args, "format", None):
        settings.format = args.format
    try:
        params = parse_params(getattr(args, "param", []) or [])
    except ParamError as e:
        print(f"crmql: error: {e}", file=sys.stderr)
        return 2  # a usage error, as the CLI's
    shell = Shell(config, params=params, settings=settings,
                  stats=bool(getattr(args, "stats", False)), debug=bool(getattr(args, "debug", False)))
    for warning in settings.warnings:
        print(f"warning: {warning}", file=sys.stderr)
    where = "the built-in sandbox" if config.source == "built-in sandbox" else config.source
    print(f"crmql on {where}: {', '.join(config.connections)}. End statements with ';'; help or \\? for help, \\q or Ctrl-D quits.")
    try:
        return shell.loop()
    finally:
        shell.close()

