"""A first interactive shell: multi-line statements ended by ``;``, persistent history, errors
that do not end the session. (The full pgcli-class shell is issue #4.)

>>> _complete("SELECT 1")
False
>>> _complete("SELECT 1;")
True
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

__all__ = ["run_repl"]


def _complete(text: str) -> bool:
    from ..parser import _strip_comments

    stripped = _strip_comments(text).strip()
    return stripped.endswith(";") or stripped.startswith("\\")


def _history_path() -> Path:
    from platformdirs import user_state_dir

    path = Path(user_state_dir("crmql")) / "history"
    path.parent.mkdir(parents=True, exist_ok=True)
    return path


def run_repl(args: Any) -> int:
    """Read statements until Ctrl-D; print results as tables."""
    from prompt_toolkit import PromptSession
    from prompt_toolkit.history import FileHistory

    from ..cli import parse_params
    from ..errors import CrmqlError
    from ..formats import render
    from ..session import Session

    session = Session(args.config)
    params = parse_params(args.param)
    prompt = PromptSession(history=FileHistory(str(_history_path())))
    default = session.config.default_connection or "crmql"
    print(f"crmql on {session.config.source}; end statements with ';', \\q or Ctrl-D quits.")
    buffer = ""
    try:
        while True:
            try:
                line = prompt.prompt(f"{default}> " if not buffer else "... ")
            except KeyboardInterrupt:
                buffer = ""
                continue
            except EOFError:
                return 0
            buffer = f"{buffer}\n{line}" if buffer else line
            if not _complete(buffer):
                continue
            text, buffer = buffer.strip(), ""
            if text in ("\\q", "quit;", "exit;"):
                return 0
            try:
                result = session.execute(text.rstrip(";"), params)
            except CrmqlError as e:
                print(f"error: {e}", file=sys.stderr)
                continue
            except KeyboardInterrupt:
                print("cancelled", file=sys.stderr)
                continue
            print(result.text if result.kind == "explain" else render(result.frame, args.format or "table"))
            if args.stats:
                print(result.stats.line(), file=sys.stderr)
    finally:
        session.close()
