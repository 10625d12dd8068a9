"""The shell's prompt: a prompt_toolkit session with the completer, highlighting, the key bindings,
a ``-> `` continuation and the history file, and the read-and-run loop on it.

The history is kept in ``$CRMQL_HISTORY``, else in ``history`` in the user state directory; when
that cannot be written the session keeps it in memory (and says so). It holds the literals typed
(names, e-mail addresses, ids), so, as psql and pgcli do, the file is private to its owner: created
``0600`` (an existing one is tightened to it), in a directory created ``0700``. crmql's own state
directory is tightened to ``0700`` too; the directory of a ``$CRMQL_HISTORY`` file that already
exists is the user's and is left as it is.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ...api.config import Config
    from .completer import CrmqlCompleter
    from .settings import ReplSettings

__all__ = ["PromptMixin", "history_path", "secure_history"]

log = logging.getLogger(__name__)


_PRIVATE_FILE = 0o600
_PRIVATE_DIR = 0o700


def history_path() -> Path:
    """``$CRMQL_HISTORY``, else ``history`` in the user state directory; the file exists and is
    private to its owner when this returns (see :func:`secure_history`)."""
    override = os.environ.get("CRMQL_HISTORY")
    if override:
        path = Path(override).expanduser()
    else:
        from platformdirs import user_state_dir

        path = Path(user_state_dir("crmql")) / "history"
    secure_history(path, own_directory=not override)
    return path


def secure_history(path: Path, *, own_directory: bool = True) -> Path:
    """Make ``path`` a history file only its owner can read: the file ``0600`` (created so, or
    tightened), its directory created ``0700``; an existing directory is tightened to ``0700``
    when it is crmql's own (``own_directory``). Raises OSError when that cannot be done.

    >>> import stat, tempfile
    >>> d = Path(tempfile.mkdtemp()) / "state"
    >>> f = secure_history(d / "history")
    >>> oct(stat.S_IMODE(f.stat().st_mode)), oct(stat.S_IMODE(d.stat().st_mode))
    ('0o600', '0o700')
    """
    parent = path.parent
    if not parent.is_dir():
        parent.mkdir(parents=True, mode=_PRIVATE_DIR, exist_ok=True)
        os.chmod(parent, _PRIVATE_DIR)
    elif own_directory and parent.stat().st_mode & 0o077:
        log.info("tightening %s to 0700", parent)
        os.chmod(parent, parent.stat().st_mode & _PRIVATE_DIR)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, _PRIVATE_FILE)  # never world-readable, even briefly
    try:
        if os.fstat(fd).st_mode & 0o077:
            log.info("tightening %s to 0600", path)
            os.chmod(path, _PRIVATE_FILE)
    finally:
        os.close(fd)
    return path


class PromptMixin:
    """The prompt of :class:`~crmql.surfaces.repl.app.Shell` and its loop. Uses the shell's ``handle`` (runs
    what was submitted), ``start_background`` (the warm-up, once the first prompt is drawn) and
    ``error``."""

    config: Config
    settings: ReplSettings
    completer: CrmqlCompleter
    prompt_session: Any

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
