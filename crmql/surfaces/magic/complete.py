"""Completion inside ``%crmql`` / ``%%crmql``: options, tables after FROM and JOIN, columns of the
tables in scope elsewhere."""

from __future__ import annotations

import functools
import re
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from IPython.core.error import UsageError

from .options import parse_options

if TYPE_CHECKING:
    from ...api.session import Session
    from .magics import Crmql

__all__ = ["Completer"]


@functools.lru_cache(maxsize=1)
def _keywords() -> frozenset[str]:
    """The language's reserved words (lower case), from the grammar's word terminals."""
    from ...language.grammar import grammar_text

    return frozenset(m.lower() for m in re.findall(r'^\s*[A-Z_][A-Z0-9_]*\s*:\s*"([A-Za-z]+)"i\s*$', grammar_text(), re.M))


_BARE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_IDENT = r'(?:"(?:[^"]|"")+"|[A-Za-z_][\w$]*)'
_REF = re.compile(rf"\b(?:from|join)\s+({_IDENT})\s*\.\s*({_IDENT})(?:\s+(?:as\s+)?({_IDENT}))?", re.I)
_OPTION_NAMES = ("--explain", "--analyze", "--limit", "--config", "--format", "--help")


def _name(n: str) -> str:
    return n if _BARE.match(n) and n.lower() not in _keywords() else '"' + n.replace('"', '""') + '"'


def _unquote_ident(n: str) -> str:
    return n[1:-1].replace('""', '"') if n.startswith('"') else n


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
        """(the fragment being completed, [(completion, type)]) for the cursor at ``cursor``."""
        before = sql[:cursor]
        token = re.search(r'(?:[\w$]|"[^"]*"?|\.)*$', before).group(0)  # type: ignore[union-attr]
        head = before[: len(before) - len(token)]
        previous = re.search(r"([A-Za-z_]+)\s*$", head)
        keyword = previous.group(1).lower() if previous else ""
        low = token.lower().replace('"', "")
        if keyword in ("from", "join", "describe") and not head.rstrip().endswith(","):
            names = [f"{_name(c)}.{_name(t)}" for c, t in self.tables()]
            return token, [(n, "table") for n in names if n.lower().replace('"', "").startswith(low)]
        scope: dict[str, tuple[str, str]] = {}
        for m in _REF.finditer(sql):
            conn, table = _unquote_ident(m.group(1)), _unquote_ident(m.group(2))
            alias = m.group(3)
            if alias and alias.lower() in _keywords():
                alias = None
            scope[_unquote_ident(alias) if alias else table] = (conn, table)
        if "." in token:
            qualifier, _, partial = token.rpartition(".")
            target = scope.get(_unquote_ident(qualifier)) or next(
                (v for k, v in scope.items() if k.lower() == _unquote_ident(qualifier).lower()), None)
            if target is None:
                return token, []
            p = partial.lower().replace('"', "")
            return token, [(f"{qualifier}.{_name(c)}", "column") for c in self.columns(*target)
                           if c.lower().startswith(p)]
        seen: dict[str, None] = {}
        for conn, table in scope.values():
            for c in self.columns(conn, table):
                if c.lower().startswith(low):
                    seen.setdefault(_name(c))
        return token, [(c, "column") for c in seen]


def _make_matcher(magics: Crmql) -> Callable[..., Any]:
    from IPython.core.completer import SimpleCompletion, context_matcher

    completer = Completer(lambda: magics.session())

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
