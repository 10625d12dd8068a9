"""Completion inside ``%crmql`` / ``%%crmql``: IPython's face of the completion engine.

The options (``--explain``, ...) are the magic's own; everything else comes from
:class:`crmql.surfaces.completion.CompletionEngine`, the shell's engine, of which the notebook offers
the names: ``conn.table`` after FROM, JOIN and DESCRIBE, and the columns of the tables in scope
elsewhere (``alias.`` narrows to one table), each extending what is typed.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from IPython.core.error import UsageError

from ...plan.catalog import Column, ColumnType, Table
from ..completion import CompletionEngine
from .options import parse_options

if TYPE_CHECKING:
    from ...api.session import Session

__all__ = ["Completer"]

_TOKEN = re.compile(r'(?:[\w$]|"[^"]*"?|\.)*$')
_OPTION_NAMES = ("--explain", "--analyze", "--limit", "--config", "--format", "--help")
#: what the notebook offers of the engine's suggestions
_KINDS = ("table", "column")


def _crmql_text(full_text: str, line: int, column: int) -> tuple[str, int, bool] | None:
    """The crmql text around the cursor, the cursor's offset in it, and whether the cursor is still
    in the options; None when the cursor is not inside ``%crmql`` or ``%%crmql``."""
    lines = full_text.split("\n")
    first = full_text.lstrip()
    if first.startswith("%%crmql"):
        start_line = len(full_text[: len(full_text) - len(first)].split("\n")) - 1
        if line > start_line:
            body = "\n".join(lines[start_line + 1:])
            offset = sum(len(x) + 1 for x in lines[start_line + 1: line]) + column
            return body, offset, False
        magic_line = lines[line][lines[line].index("%%crmql") + 7:]
        return magic_line, column - (len(lines[line]) - len(magic_line)), True
    current = lines[line]
    before = current[:column]
    at = [m.end() for m in re.finditer(r"(?<!%)%crmql\b", before)]
    if not at:
        return None
    text = current[at[-1]:]
    cursor = column - at[-1]
    word = re.search(r"\S*$", text[:cursor]).group(0)  # type: ignore[union-attr]
    if word.startswith("-"):  # an option being typed, if only options come before it
        try:
            if not parse_options(text[: cursor - len(word)])[1]:
                return text, cursor, True
        except UsageError:
            pass
    opts_end = _options_end(text)
    if cursor < opts_end:
        return text, cursor, True
    return text[opts_end:], cursor - opts_end, False


def _options_end(text: str) -> int:
    try:
        _, rest = parse_options(text)
    except UsageError:
        return 0
    return len(text) - len(rest.lstrip()) if rest else len(text)


class _Names:
    """The engine's catalog over one :class:`Completer`, for one completion: the table list is read
    once, a table's columns only when it is in scope (an Atlas template loads then, not before)."""

    def __init__(self, completer: Completer) -> None:
        self._completer = completer
        self._tables: list[tuple[str, str]] | None = None

    def _all(self) -> list[tuple[str, str]]:
        if self._tables is None:
            self._tables = self._completer.tables()
        return self._tables

    @property
    def connections(self) -> list[str]:
        return list(dict.fromkeys(c for c, _ in self._all()))

    def table_names(self, connection: str) -> list[str]:
        return [t for c, t in self._all() if c == connection]

    def table(self, connection: str, name: str) -> Table | None:
        columns = self._completer.columns(connection, name)
        return Table(connection, name, tuple(Column(c, ColumnType.STRING) for c in columns)) if columns else None


class Completer:
    """Completes crmql names for IPython (tables after FROM/JOIN, columns of the tables in scope)."""

    def __init__(self, session: Callable[[], Session]) -> None:
        self.session = session

    def tables(self) -> list[tuple[str, str]]:
        """(connection, table) of every connection: the names each connector declares, which needs
        no request (an Atlas template loads only when its columns are completed)."""
        session = self.session()
        out = []
        for name in session.config.connections:
            try:
                out.extend((name, t) for t in session.connector(name).table_names())
            except Exception:  # a connection that cannot list its tables just completes nothing
                continue
        return out

    def columns(self, connection: str, table: str) -> list[str]:
        try:
            return [c.name for c in self.session().table(connection, table).columns]
        except Exception:
            return []

    def complete(self, sql: str, cursor: int) -> tuple[str, list[tuple[str, str]]]:
        """(the fragment being completed, [(completion, type)]) for the cursor at ``cursor``: the
        engine's tables and columns that extend the fragment (``alias.col``, ``conn.table``)."""
        token = _TOKEN.search(sql[:cursor]).group(0)  # type: ignore[union-attr]
        start = cursor - len(token)
        typed = token.lower().replace('"', "")
        found: dict[str, str] = {}
        for s in CompletionEngine(_Names(self), describe_tables=False).complete(sql, cursor):
            if s.kind not in _KINDS or cursor + s.start < start:
                continue
            text = sql[start:cursor + s.start] + s.text
            if text.lower().replace('"', "").startswith(typed):
                found.setdefault(text, s.kind)
        return token, list(found.items())


def _make_matcher(session: Callable[[], Session]) -> Callable[..., Any]:
    from IPython.core.completer import SimpleCompletion, context_matcher

    completer = Completer(session)

    @context_matcher(priority=100, identifier="crmql")
    def crmql_matcher(context: Any) -> dict[str, Any]:
        empty: dict[str, Any] = {"completions": [], "suppress": False}
        try:
            found = _crmql_text(context.full_text, context.cursor_line, context.cursor_position)
            if found is None:
                return empty
            text, cursor, in_options = found
            if in_options:
                token = re.search(r"[-\w]*$", text[:cursor]).group(0)  # type: ignore[union-attr]
                if not token.startswith("-"):
                    return empty
                items = [(o, "option") for o in _OPTION_NAMES if o.startswith(token)]
            else:
                token, items = completer.complete(text, cursor)
        except Exception:  # completion must never break the kernel
            return empty
        return {"completions": [SimpleCompletion(t, type=k) for t, k in items], "matched_fragment": token,
                "suppress": bool(items)}

    return crmql_matcher
