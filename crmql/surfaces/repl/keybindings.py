"""Key bindings of the shell (on top of prompt_toolkit's emacs or vi bindings).

* Enter runs the buffer when it is complete (ends with ``;``, is a backslash command, or is empty)
  and inserts a newline otherwise (``multi_line = false`` in ``[repl]``: Enter always runs);
* Enter on a highlighted completion only closes the menu (it never runs a half-typed statement);
* Alt-Enter (Esc Enter) runs the buffer as it is, ``;`` or not (emacs keys);
* Ctrl-Space opens the completion menu; Ctrl-R searches the history (prompt_toolkit's own);
  Ctrl-X Ctrl-E (emacs) or ``v`` (vi normal mode) edits the buffer in ``$EDITOR``.
"""

from __future__ import annotations

from collections.abc import Callable

from prompt_toolkit.application import get_app
from prompt_toolkit.filters import Condition, completion_is_selected, vi_mode
from prompt_toolkit.key_binding import KeyBindings, KeyPressEvent

from .lexer import statement_complete

__all__ = ["build_key_bindings", "multiline_filter"]


def multiline_filter(multi_line: Callable[[], bool]) -> Condition:
    """True while Enter should insert a newline rather than run the buffer."""
    @Condition
    def _multiline() -> bool:
        if not multi_line():
            return False
        return not statement_complete(get_app().current_buffer.text)
    return _multiline


def build_key_bindings() -> KeyBindings:
    kb = KeyBindings()

    @kb.add("enter", filter=completion_is_selected)
    def _close_menu(event: KeyPressEvent) -> None:
        event.current_buffer.complete_state = None

    @kb.add("escape", "enter", filter=~vi_mode)  # in vi mode Esc must not wait for a second key
    def _run_now(event: KeyPressEvent) -> None:
        event.current_buffer.validate_and_handle()

    @kb.add("c-space")
    def _complete(event: KeyPressEvent) -> None:
        buffer = event.current_buffer
        if buffer.complete_state:
            buffer.complete_next()
        else:
            buffer.start_completion(select_first=False)

    return kb
