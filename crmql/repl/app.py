"""The interactive shell (``crmql`` with no arguments): a prompt_toolkit session on the configured
connections, with completion, highlighting, history, backslash commands, a pager, a progress line
and Ctrl-C that cancels the running query.

Startup stays fast: nothing before the first prompt imports pandas, DuckDB, pyarrow or Lark. Once
the prompt is drawn, a background thread creates the :class:`~crmql.session.Session` (pandas),
warms the planner and DuckDB, loads the schemas for completion and builds the parser that tells
the completer which keywords fit. A statement submitted before that is done waits for it.

``[repl]`` in the config file sets the defaults::

    [repl]
    format = "table"        # table | csv | json | jsonl | markdown
    expanded = "off"        # on | off | auto (expanded when the table is wider than the terminal)
    pager = true            # true: $PAGER or "less -SRXF"; false: never; or a command, e.g. "less -S"
    timing = false          # time and requests after each statement
    key_bindings = "emacs"  # emacs | vi
    multi_line = true       # false: Enter always runs the buffer
    max_rows = 1000         # rows shown on screen (the footer says when a result was cut)
    max_width = 80          # longest cell shown before it is cut with an ellipsis
    keyword_case = "auto"   # auto | upper | lower (completed keywords)

>>> _truthy("on"), _truthy(False)
(True, False)
"""

from __future__ import annotations

import logging
import os
import shutil
import sys
import threading
import traceback
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from .commands import edit_text, parse_command, run_command
from .output import DEFAULT_PAGER, Progress, page, render_expanded, render_table, text_width, timing_line

if TYPE_CHECKING:
    import pandas as pd

    from ..config import Config
    from ..session import Result, Session

__all__ = ["ReplSettings", "Shell", "history_path", "run_repl"]

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
    from .lexer import keywords, scan

    first = next(iter(scan(sql)), None)
    return first is not None and first.kind == "keyword" and first.upper in (WRITE_KEYWORDS & keywords())


def _truthy(value: Any) -> bool:
    if isinstance(value, str):
        return value.strip().lower() in ("1", "true", "yes", "on")
    return bool(value)


@dataclass
class ReplSettings:
    """What ``[repl]`` sets; the backslash commands change it for the session."""

    format: str = "table"
    expanded: str = "off"
    pager: str | None = DEFAULT_PAGER
    timing: bool = False
    key_bindings: str = "emacs"
    multi_line: bool = True
    max_rows: int = 1000
    max_width: int = 80
    keyword_case: str = "auto"
    warnings: list[str] = field(default_factory=list)

    @classmethod
    def from_config(cls, section: dict[str, Any], env: dict[str, str] | None = None) -> ReplSettings:
        env = dict(os.environ) if env is None else env
        s = cls(pager=env.get("PAGER") or DEFAULT_PAGER)
        for key, value in section.items():
            try:
                s._set(key, value, env)
            except (TypeError, ValueError) as e:
                s.warnings.append(f"[repl] {key}: {e}")
        return s

    def _set(self, key: str, value: Any, env: dict[str, str]) -> None:
        from .commands import FORMATS

        if key == "format":
            if str(value).lower() not in FORMATS:
                raise ValueError(f"one of {', '.join(FORMATS)}, not {value!r}")
            self.format = str(value).lower()
        elif key == "expanded":
            mode = {True: "on", False: "off"}.get(value, str(value).lower()) if isinstance(value, bool) else str(value).lower()
            if mode not in ("on", "off", "auto"):
                raise ValueError(f"on, off or auto, not {value!r}")
            self.expanded = mode
        elif key == "pager":
            if isinstance(value, bool):
                self.pager = (env.get("PAGER") or DEFAULT_PAGER) if value else None
            elif str(value).strip().lower() in ("", "off", "false", "no"):
                self.pager = None
            elif str(value).strip().lower() in ("on", "true", "yes"):
                self.pager = env.get("PAGER") or DEFAULT_PAGER
            else:
                self.pager = str(value)
        elif key == "timing":
            self.timing = _truthy(value)
        elif key in ("key_bindings", "keys", "edit_mode"):
            mode = str(value).lower()
            if mode not in ("emacs", "vi"):
                raise ValueError(f"emacs or vi, not {value!r}")
            self.key_bindings = mode
        elif key in ("multi_line", "multiline"):
            self.multi_line = _truthy(value)
        elif key == "max_rows":
            self.max_rows = max(1, int(value))
        elif key in ("max_width", "max_cell_width"):
            self.max_width = max(4, int(value))
        elif key == "keyword_case":
            if str(value).lower() not in ("auto", "upper", "lower"):
                raise ValueError(f"auto, upper or lower, not {value!r}")
            self.keyword_case = str(value).lower()
        else:
            raise ValueError("unknown setting")


def history_path() -> Path:
    """``$CRMQL_HISTORY``, else ``history`` in the user state directory."""
    override = os.environ.get("CRMQL_HISTORY")
    if override:
        path = Path(override).expanduser()
    else:
        from platformdirs import user_state_dir

        path = Path(user_state_dir("crmql")) / "history"
    path.parent.mkdir(parents=True, exist_ok=True)
    return path


class Shell:
    """State of one interactive session: settings, output target, the Session (made in the
    background) and the schema cache the completer reads."""

    def __init__(self, config: Config, *, params: dict[str, Any] | None = None, settings: ReplSettings | None = None,
                 stats: bool = False, debug: bool = False, out: IO[str] | None = None, err: IO[str] | None = None,
                 input: IO[str] | None = None) -> None:
        from .completer import CrmqlCompleter, SchemaCache

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
        self._session: Session | None = None
        self._session_error: BaseException | None = None
        self._ready = threading.Event()
        self._warm_thread: threading.Thread | None = None
        self._include_depth = 0
        self.prompt_session: Any = None
        self.schema = SchemaCache(list(config.connections), self._load_tables, on_loaded=self._schema_loaded)
        self.completer = CrmqlCompleter(self.schema, keyword_case=self.settings.keyword_case)

    # ---- background warm-up
    def start_background(self) -> None:
        """Create the session and warm everything heavy, off the UI thread (once)."""
        if self._warm_thread is None:
            self._warm_thread = threading.Thread(target=self._warm, name="crmql-warm", daemon=True)
            self._warm_thread.start()

    def _warm(self) -> None:
        try:
            from ..session import Session

            session = Session(self.config)
            for name in self.config.connections:  # create every connector now: no race on first use
                try:
                    session.connector(name)
                except Exception:  # reported when the connection is used
                    log.debug("connection %s", name, exc_info=True)
            # what the first statement needs: the parser, the planner, the executor (DuckDB, Arrow)
            from .. import executor, planner  # noqa: F401
            from ..parser import _parser

            _parser()
            self._session = session
        except BaseException as e:  # noqa: BLE001 - shown when a statement needs the session
            self._session_error = e
        finally:
            self._ready.set()
        if self._session is None:
            return
        self.schema.load_all()
        try:
            from ..bind import FUNCTIONS
            from .completer import build_keyword_parser

            self.completer.functions = sorted(FUNCTIONS)
            self.completer.parser = build_keyword_parser()
        except Exception:  # pragma: no cover - completion then offers every keyword
            log.debug("keyword parser", exc_info=True)
        if self.config.uses_sandbox:
            try:
                from ..session import sandbox_url

                sandbox_url(self.config.sandbox)
            except Exception:  # pragma: no cover - the first query reports it
                log.debug("sandbox start", exc_info=True)

    def session(self) -> Session:
        """The session, waiting for the warm-up if it is still running (Ctrl-C interrupts)."""
        self.start_background()
        while not self._ready.wait(0.1):
            pass
        if self._session is None:
            error = self._session_error
            if isinstance(error, KeyboardInterrupt):
                raise error
            from ..errors import CrmqlError

            if isinstance(error, CrmqlError):
                raise error
            raise RuntimeError(f"the session could not start: {error}") from error
        return self._session

    def _load_tables(self, connection: str) -> dict[str, Any]:
        return self.session().connector(connection).tables()

    def _schema_loaded(self, connection: str) -> None:
        """A schema arrived: refresh the completion menu if one is being typed."""
        ps = self.prompt_session
        app = getattr(ps, "app", None)
        if app is None or not app.is_running or getattr(app, "loop", None) is None:
            return

        def retrigger() -> None:  # only while a name is being typed (or right after "conn.")
            buffer = app.current_buffer
            before = buffer.document.text_before_cursor
            if before and (before[-1] == "." or before[-1].isalnum() or before[-1] in '_"') and buffer.complete_state is None:
                buffer.start_completion(select_first=False)
            app.invalidate()
        try:
            app.loop.call_soon_threadsafe(retrigger)
        except RuntimeError:  # the prompt's loop has closed meanwhile
            pass

    def refresh_schemas(self) -> None:
        session = self.session()
        for name in self.config.connections:
            try:
                session.connector(name).refresh()
            except Exception:  # a broken connection reports itself when used
                log.debug("refresh %s", name, exc_info=True)
        self.schema.refresh()
        self.schema.load_all()

    def sandbox_url(self) -> str | None:
        module = sys.modules.get("crmql.session")
        server = getattr(module, "_sandbox_server", None) if module else None
        return getattr(server, "url", None)

    # ---- printing
    @property
    def color(self) -> bool:
        return self._output is None and not os.environ.get("NO_COLOR") and _isatty(self.out)

    def message(self, text: str) -> None:
        """Shell chatter (never into a \\o file)."""
        self.out.write(text.rstrip("\n") + "\n")
        self.out.flush()

    def error(self, error: BaseException | str) -> None:
        text = str(error)
        if not isinstance(error, str):
            from ..errors import CrmqlError

            if not isinstance(error, CrmqlError):
                from ..http import redact

                text = f"internal error: {redact(text) or type(error).__name__}"
                if self.debug:
                    text += "\n" + "".join(traceback.format_exception(error))
            else:
                text = f"error: {text}"
        else:
            text = f"error: {text}"
        if _isatty(self.err) and not os.environ.get("NO_COLOR"):
            first, _, rest = text.partition("\n")
            text = f"\x1b[31m{first}\x1b[0m" + (f"\n{rest}" if rest else "")
        self.out.flush()
        self.err.write(text.rstrip("\n") + "\n")
        self.err.flush()

    def emit(self, text: str) -> None:
        """A result: into the \\o file, or the screen (through the pager when it does not fit)."""
        if self._output is not None:
            self._output.write(text if text.endswith("\n") else text + "\n")
            self._output.flush()
            return
        page(text, self.settings.pager, self.out)

    def show_frame(self, frame: pd.DataFrame) -> None:
        s = self.settings
        to_file = self._output is not None
        if s.format != "table":
            from ..formats import render

            self.emit(render(frame, s.format, max_cell=None, footer=False))
            return
        max_rows = None if to_file else s.max_rows
        max_cell = None if to_file else s.max_width
        width = shutil.get_terminal_size().columns
        expanded = s.expanded == "on"
        text = None
        if not expanded:
            text = render_table(frame, max_rows=max_rows, max_cell=max_cell, color=self.color)
            if s.expanded == "auto" and not to_file and len(frame) and max(map(text_width, text.split("\n", 2)[:2])) > width:
                expanded = True
        if expanded:
            text = render_expanded(frame, max_rows=max_rows, max_cell=max_cell if to_file else None, color=self.color,
                                   width=None if to_file else width)
        assert text is not None
        self.emit(text)

    def show_result(self, result: Result) -> None:
        if result.frame is None:  # EXPLAIN's plan, COPY's summary
            self.emit(result.text or "")
        else:
            self.show_frame(result.frame)
        if self.settings.timing:
            self.message(timing_line(result.stats))
        if self.stats:
            self.err.write(result.stats.line() + "\n")
            self.err.flush()

    def set_output(self, path: Path | None) -> None:
        if self._output is not None:
            self._output.close()
            self.message(f"Results go to the screen again (were going to {self._output_path}).")
            self._output, self._output_path = None, None
        if path is None:
            return
        try:
            self._output = open(path, "w", encoding="utf-8", newline="")  # noqa: SIM115 - closed by \o
        except OSError as e:
            raise ValueError(f"cannot write {path}: {e.strerror or e}") from None
        self._output_path = path
        self.message(f"Results go to {path} (\\o alone: back to the screen).")

    # ---- running things
    def run_sql(self, sql: str) -> None:
        """Run one statement, with the progress line, and show its result or its error."""
        from ..stats import QueryStats

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
            self.error(e)
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
        from ..errors import CrmqlError

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
        from ..parser import split_statements

        stripped = text.strip()
        if not stripped:
            return True, ""
        if stripped.rstrip(";").strip().lower() in ("quit", "exit"):
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
        """Run statements and backslash commands from a file (``\\i``); False means quit."""
        from ..parser import split_statements
        from .lexer import statement_complete

        if self._include_depth >= _MAX_INCLUDE_DEPTH:
            raise ValueError(f"\\i nested more than {_MAX_INCLUDE_DEPTH} deep ({source})")
        self._include_depth += 1
        try:
            buffer: list[str] = []
            for line in text.splitlines():
                if not buffer and line.strip().startswith("\\"):
                    if parse_command(line)[0] == "\\e":
                        self.error("\\e works at the prompt only")
                    elif not self.run_command(line.strip()):
                        return False
                    continue
                buffer.append(line)
                if statement_complete("\n".join(buffer)) and "\n".join(buffer).strip():
                    for sql in split_statements("\n".join(buffer)):
                        self.run_sql(sql)
                    buffer = []
            rest = "\n".join(buffer)
            for sql in split_statements(rest):
                self.run_sql(sql)
            return True
        finally:
            self._include_depth -= 1

    # ---- the prompt
    def prompt_text(self) -> str:
        return f"{self.config.default_connection or 'crmql'}> "

    def build_prompt(self) -> Any:
        from prompt_toolkit import PromptSession
        from prompt_toolkit.history import FileHistory
        from prompt_toolkit.lexers import PygmentsLexer
        from prompt_toolkit.styles import Style

        from .keybindings import build_key_bindings, multiline_filter
        from .lexer import CrmqlLexer

        prompt_width = len(self.prompt_text())

        def continuation(width: int, line_number: int, is_soft_wrap: bool) -> Any:
            return [("class:continuation", "-> ".rjust(prompt_width))]

        try:
            history = FileHistory(str(history_path()))
        except OSError as e:  # an unwritable state dir must not stop the shell
            from prompt_toolkit.history import InMemoryHistory

            self.error(f"history is not saved: {e}")
            history = InMemoryHistory()
        self.prompt_session = PromptSession(
            message=[("class:prompt", self.prompt_text())],
            history=history,
            lexer=PygmentsLexer(CrmqlLexer),
            completer=self.completer,
            complete_while_typing=True,
            multiline=multiline_filter(lambda: self.settings.multi_line),
            prompt_continuation=continuation,
            key_bindings=build_key_bindings(),
            vi_mode=self.settings.key_bindings == "vi",
            enable_open_in_editor=True,
            search_ignore_case=True,
            style=Style.from_dict(_STYLE),
            include_default_pygments_style=False,
        )
        return self.prompt_session

    def loop(self) -> int:
        """Read and run until \\q or Ctrl-D; the exit status is 0."""
        prompt = self.prompt_session or self.build_prompt()
        started = False

        def pre_run() -> None:
            nonlocal started
            if started:
                return
            started = True
            app = prompt.app

            def first_render(_app: Any) -> None:  # warm up once the first prompt is on screen
                app.after_render.remove_handler(first_render)
                self.start_background()
            app.after_render.add_handler(first_render)

        default = ""
        while True:
            try:
                text = prompt.prompt(default=default, pre_run=pre_run)
            except KeyboardInterrupt:
                default = ""
                continue
            except EOFError:
                return 0
            keep_going, default = self.handle(text)
            if not keep_going:
                return 0

    def close(self) -> None:
        if self._output is not None:
            self._output.close()
            self._output = None
        thread = self._warm_thread
        if thread is not None:
            thread.join(_EXIT_JOIN_S)  # let imports finish: leaving mid-import can crash the interpreter
        if self._session is not None:
            self._session.close()


_STYLE = {
    "prompt": "bold ansigreen",
    "continuation": "ansibrightblack",
    "pygments.keyword": "bold ansiblue",
    "pygments.keyword.constant": "ansimagenta",
    "pygments.keyword.type": "ansicyan",
    "pygments.keyword.pseudo": "bold ansimagenta",
    "pygments.literal.string": "ansigreen",
    "pygments.literal.string.other": "",
    "pygments.literal.number": "ansiyellow",
    "pygments.name.variable": "ansicyan",
    "pygments.name.function": "ansicyan",
    "pygments.comment": "italic ansibrightblack",
    "completion-menu.meta.completion": "bg:#444444 #dddddd",
    "completion-menu.meta.completion.current": "bg:#888888 #000000",
}


def _isatty(stream: Any) -> bool:
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError):
        return False


def run_repl(args: Any) -> int:
    """``crmql`` with no statements and a terminal: the interactive shell."""
    from ..cli import parse_params
    from ..config import load_config
    from ..errors import ConfigError

    try:
        config = load_config(getattr(args, "config", None))
    except ConfigError as e:
        print(f"error: {e}", file=sys.stderr)
        return e.exit_code
    settings = ReplSettings.from_config(config.repl)
    if getattr(args, "format", None):
        settings.format = args.format
    shell = Shell(config, params=parse_params(getattr(args, "param", []) or []), settings=settings,
                  stats=bool(getattr(args, "stats", False)), debug=bool(getattr(args, "debug", False)))
    for warning in settings.warnings:
        print(f"warning: {warning}", file=sys.stderr)
    where = "the built-in sandbox" if config.source == "built-in sandbox" else config.source
    print(f"crmql on {where}: {', '.join(config.connections)}. End statements with ';'; \\? for help, \\q or Ctrl-D quits.")
    try:
        return shell.loop()
    finally:
        shell.close()

