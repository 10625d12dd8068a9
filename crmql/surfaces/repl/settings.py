"""Settings of the interactive shell: what ``[repl]`` in the config file sets, and the backslash
commands change for the session.

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

A value that does not fit is not an error: it is left at its default, with a warning the shell
prints at startup.

>>> _truthy("on"), _truthy(False)
(True, False)
>>> s = ReplSettings.from_config({"expanded": True, "max_rows": 0, "colour": 1}, env={})
>>> s.expanded, s.max_rows, s.warnings
('on', 1, ['[repl] colour: unknown setting'])
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass, field
from typing import Any

from .output import DEFAULT_PAGER

#: the shell's output formats (``\format``, ``[repl] format``)
FORMATS = ("table", "csv", "json", "jsonl", "markdown")

__all__ = ["ReplSettings"]

log = logging.getLogger(__name__)


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
