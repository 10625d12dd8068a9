"""Backslash commands: ``\\?`` ``\\q`` ``\\dt`` ``\\d`` ``\\x`` ``\\timing`` ``\\format`` ``\\o`` ``\\i`` ``\\e``
``\\conninfo`` ``\\refresh``.

Each command is a :class:`Command` in :data:`COMMANDS` with a handler ``(shell, argument) -> bool``
(False ends the shell). The registry imports nothing heavy, so the completer can list the
commands before the first prompt.

>>> parse_command("\\\\x auto")
('\\\\x', 'auto')
>>> parse_command("\\\\dt;")
('\\\\dt', '')
"""

from __future__ import annotations

import os
import shlex
import subprocess
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from ...api.source import ScriptReadError, read_script
from .settings import FORMATS, ReplSettings

if TYPE_CHECKING:
    import pandas as pd

    from ...api.config import Config
    from ...api.session import Session

__all__ = ["ALIASES", "COMMANDS", "Command", "Shell", "edit_text", "parse_command", "run_command"]


class Shell(Protocol):
    """What a command handler may use of the shell (:class:`crmql.surfaces.repl.app.Shell` is one):
    the commands sit below the shell, which imports them."""

    config: Config
    settings: ReplSettings

    def session(self) -> Session: ...
    def message(self, text: str) -> None: ...
    def show_frame(self, frame: pd.DataFrame) -> None: ...
    def set_output(self, path: Path | None) -> None: ...
    def run_script(self, text: str, *, source: str = "script") -> bool: ...
    def sandbox_url(self) -> str | None: ...
    def refresh_schemas(self) -> Any: ...


@dataclass(frozen=True)
class Command:
    name: str
    args: str
    help: str
    handler: Callable[[Shell, str], bool]
    #: what the argument is, for completion: connection, table, file, or None (see ``choices``)
    arg_kind: str | None = None
    choices: tuple[str, ...] = ()


def parse_command(text: str) -> tuple[str, str]:
    """``"\\\\cmd  arg ;"`` -> ``("\\\\cmd", "arg")``."""
    text = text.strip()
    if text.endswith(";"):
        text = text[:-1].rstrip()
    name, _, arg = text.partition(" ")
    if not arg and len(name) > 2 and name.startswith("\\x") and name[2:] in ("on", "off", "auto"):
        name, arg = "\\x", name[2:]  # psql accepts no space here
    return name, arg.strip()


def _on_off(arg: str, current: bool, what: str) -> bool | None:
    if not arg:
        return not current
    value = arg.lower()
    if value in ("on", "true", "1", "yes"):
        return True
    if value in ("off", "false", "0", "no"):
        return False
    raise ValueError(f"{what} takes on or off, not '{arg}'")


# ---- handlers ----------------------------------------------------------------------------------

def _help(shell: Shell, arg: str) -> bool:
    width = max(len(f"{c.name} {c.args}") for c in COMMANDS.values())
    lines = ["Statements end with ';' (Enter inserts a newline until then; Alt-Enter runs at once).",
             "help, \\h or \\? shows this; quit, exit, \\q or Ctrl-D leaves.", ""]
    for c in COMMANDS.values():
        lines.append(f"  {(c.name + ' ' + c.args).ljust(width)}  {c.help}")
    lines += [
        "",
        "  Tab completes (keywords, connection.table, columns with their type and pushdown, enum values);",
        "  Ctrl-R searches the history; Ctrl-C cancels the running query or clears the input; Ctrl-D quits.",
        "  Statements: SELECT ... | EXPLAIN [ANALYZE] SELECT ... | SHOW TABLES [FROM conn] | DESCRIBE conn.table",
    ]
    shell.message("\n".join(lines))
    return True


def _quit(shell: Shell, arg: str) -> bool:
    return False


def _tables(shell: Shell, arg: str) -> bool:
    frame = shell.session().tables(arg.strip('"') or None)
    shell.show_frame(frame)
    return True


def _describe(shell: Shell, arg: str) -> bool:
    if not arg:
        return _tables(shell, "")
    from ...errors import QueryError

    conn, dot, table = arg.partition(".")
    conn, table = conn.strip('"'), table.strip('"')
    if not dot:  # a bare table name: look it up in every connection
        session = shell.session()
        matches = [(c, t) for c in shell.config.connections for t in session.connector(c).tables()
                   if t.lower() == conn.lower()]
        if len(matches) != 1:
            hint = "write it connection.table" + (f": {', '.join(f'{c}.{t}' for c, t in matches)}" if matches else "")
            raise QueryError(f"{'ambiguous' if matches else 'unknown'} table '{conn}'", hint=hint)
        conn, table = matches[0]
    shell.show_frame(shell.session().describe(conn, table))
    return True


def _expanded(shell: Shell, arg: str) -> bool:
    mode = arg.lower()
    if not mode:
        mode = "off" if shell.settings.expanded == "on" else "on"
    if mode not in ("on", "off", "auto"):
        raise ValueError(f"\\x takes on, off or auto, not '{arg}'")
    shell.settings.expanded = mode
    shell.message("Expanded display is used automatically." if mode == "auto" else f"Expanded display is {mode}.")
    return True


def _timing(shell: Shell, arg: str) -> bool:
    shell.settings.timing = bool(_on_off(arg, shell.settings.timing, "\\timing"))
    shell.message(f"Timing is {'on' if shell.settings.timing else 'off'}.")
    return True


def _format(shell: Shell, arg: str) -> bool:
    if not arg:
        shell.message(f"Output format is {shell.settings.format}.")
        return True
    if arg.lower() not in FORMATS:
        raise ValueError(f"\\format takes one of {', '.join(FORMATS)}, not '{arg}'")
    shell.settings.format = arg.lower()
    shell.message(f"Output format is {shell.settings.format}.")
    return True


def _output(shell: Shell, arg: str) -> bool:
    shell.set_output(_path(arg) if arg else None)
    return True


def _include(shell: Shell, arg: str) -> bool:
    if not arg:
        raise ValueError("\\i needs a file name")
    path = _path(arg)
    try:
        text = read_script(path)  # UTF-8, a BOM dropped, at most parser.MAX_TEXT: as crmql -f reads it
    except ScriptReadError as e:
        raise ValueError(e.message) from None
    return shell.run_script(text, source=str(path))


def _edit(shell: Shell, arg: str) -> bool:
    # handled by the shell's loop (it owns the input buffer); reached only from \i scripts
    raise ValueError("\\e works at the prompt only")


def _conninfo(shell: Shell, arg: str) -> bool:
    from ...api.config import SANDBOX_URL
    from ...http import redact

    lines = [f"config: {shell.config.source}"]
    for name, conn in shell.config.connections.items():
        default = " (default)" if name == shell.config.default_connection else ""
        lines.append(f"{name}{default}: vendor {conn.vendor}")
        settings = conn.redacted()
        width = max((len(k) for k in settings), default=0)
        for key, value in settings.items():
            if key == "base_url" and value == SANDBOX_URL:
                url = shell.sandbox_url()
                value = f"in-process sandbox ({url}/{conn.vendor})" if url else "in-process sandbox (starts on first use)"
            lines.append(f"  {key.ljust(width)}  {redact(str(value))}")
    shell.message("\n".join(lines))
    return True


def _refresh(shell: Shell, arg: str) -> bool:
    shell.refresh_schemas()
    shell.message("Reloading the schemas in the background.")
    return True


def _path(arg: str) -> Path:
    if len(arg) >= 2 and arg[0] == arg[-1] and arg[0] in "'\"":
        arg = arg[1:-1]
    return Path(os.path.expanduser(arg))


def edit_text(text: str, editor: str | None = None) -> str:
    """Open ``text`` in ``$VISUAL`` / ``$EDITOR`` (default ``vi``) and return what was saved."""
    command = editor or os.environ.get("VISUAL") or os.environ.get("EDITOR") or "vi"
    fd, name = tempfile.mkstemp(prefix="crmql-", suffix=".sql")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text if text.endswith("\n") or not text else text + "\n")
        subprocess.call([*shlex.split(command), name])
        return Path(name).read_text(encoding="utf-8").rstrip("\n")
    finally:
        Path(name).unlink(missing_ok=True)


COMMANDS: dict[str, Command] = {c.name: c for c in (
    Command("\\?", "", "show this help", _help),
    Command("\\q", "", "quit (Ctrl-D too)", _quit),
    Command("\\dt", "[conn]", "list tables (of one connection)", _tables, arg_kind="connection"),
    Command("\\d", "conn.table", "describe a table: columns, types, pushed operators, options", _describe, arg_kind="table"),
    Command("\\x", "[on|off|auto]", "expanded display (one line per column)", _expanded, choices=("on", "off", "auto")),
    Command("\\timing", "[on|off]", "show time and requests after each statement", _timing, choices=("on", "off")),
    Command("\\format", "table|csv|json|jsonl|markdown", "output format", _format, choices=FORMATS),
    Command("\\o", "[FILE]", "send results to FILE (format from its extension, as --output); \\o alone: the screen",
            _output, arg_kind="file"),
    Command("\\i", "FILE", "run the statements of a file", _include, arg_kind="file"),
    Command("\\e", "", "edit the current (or last) statement in $EDITOR", _edit),
    Command("\\conninfo", "", "connections and their settings (credentials redacted)", _conninfo),
    Command("\\refresh", "", "reload the table schemas", _refresh),
)}


#: other spellings of a command (pgcli's ``\\h`` / ``\\help`` for the help); not listed by ``\\?``
ALIASES: dict[str, str] = {"\\h": "\\?", "\\help": "\\?"}


def run_command(shell: Shell, text: str) -> bool:
    """Run one backslash command line; False means quit. Errors are the caller's to print."""
    from ...errors import QueryError, did_you_mean

    name, arg = parse_command(text)
    cmd = COMMANDS.get(ALIASES.get(name, name))
    if cmd is None:
        hint = did_you_mean(name, COMMANDS)
        raise QueryError(f"unknown command {name}", hint=hint or "\\? lists the commands")
    return cmd.handler(shell, arg)

