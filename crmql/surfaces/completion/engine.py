"""What could come next at the cursor: a pure function of the text, for every surface.

:class:`CompletionEngine` reads the statement around the cursor (its clause, the tables in scope,
the keywords the grammar accepts next: :mod:`crmql.surfaces.completion.analysis`) and answers with
:class:`Suggestion` s, each the text that replaces the word being typed, where that word starts,
and what it is (keyword, function, connection, table, column, value, command, choice, path). The
shell's prompt_toolkit completer and the notebook's IPython matcher are thin adapters over it.

What is offered where (pgcli's rules):

* at the start of a line beginning with ``\\``: the backslash commands, then their arguments
  (connections, tables, choices such as formats; a ``path`` for a file, which the surface expands);
* after FROM, JOIN and DESCRIBE: the connections, then ``conn.table`` names; after ``conn.``: its tables;
* after SELECT, WHERE, AND/OR, ON, HAVING, ORDER BY, GROUP BY, commas and parentheses: the columns of
  the tables in scope (``alias.`` or ``table.`` narrows to one table), functions and the keywords the
  grammar accepts there; each column says its type and whether filtering on it is pushed;
* after ``col =`` / ``col !=`` / ``col IN (``: the option labels of an enum column, quoted;
* elsewhere: the keywords the LALR parser accepts next (all keywords until a parser is given).

The catalog is any object with ``connections``, ``table_names(conn)`` and ``table(conn, name)``
(:class:`Catalog`); it must answer at once (the shell's schema cache never waits on the network).

>>> from crmql.plan.catalog import Column, ColumnType, Table
>>> class Demo:
...     connections = ["crm"]
...     def table_names(self, conn): return ["people"]
...     def table(self, conn, name): return Table("crm", "people", (Column("email", ColumnType.STRING),))
>>> engine = CompletionEngine(Demo())
>>> [(s.text, s.start, s.kind) for s in engine.complete("SELECT em FROM crm.people", 9)]
[('email', -2, 'column')]
>>> [s.text for s in engine.complete("SELECT * FROM crm.pe")]
['people']
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

from ...language.names import quote_ident
from .analysis import (TableRef, accepted_terminals, clause_at, expects_operand, keyword_pool, listed_values,
                       statement_bounds, table_refs, value_target)
from .tokens import Tok, scan

if TYPE_CHECKING:
    from ...plan.catalog import Column, Table

__all__ = ["Catalog", "CommandInfo", "CompletionEngine", "Suggestion", "column_meta"]

log = logging.getLogger(__name__)

#: a name with dashes typed without quotes, right before the cursor (Atlas field ids: sale-status)
_DASHED = re.compile(r"(?<![A-Za-z0-9_$\"'-])([A-Za-z_][A-Za-z0-9_$]*(?:-[A-Za-z0-9_$]*)+)$")
_COLUMN_CLAUSES = {"SELECT", "WHERE", "ON", "HAVING", "GROUP BY", "ORDER BY"}
#: clauses where an aggregate is not allowed (the binder says so): no count() after WHERE
_NO_AGGREGATE_CLAUSES = {"WHERE", "ON", "GROUP BY"}


@dataclass(frozen=True)
class Suggestion:
    """One completion: ``text`` replaces the ``-start`` characters before the cursor.

    ``kind`` is keyword, function, connection, table, column, value, command, choice or path (a
    file name to expand with the surface's own path completer; ``text`` is what is typed so far).
    """

    text: str
    start: int
    kind: str
    display: str | None = None
    meta: str = ""


class Catalog(Protocol):
    """The names the engine completes; must answer without waiting (None: not known yet)."""

    @property
    def connections(self) -> Sequence[str]: ...

    def table_names(self, connection: str) -> Sequence[str] | None: ...

    def table(self, connection: str, name: str) -> Table | None: ...


class CommandInfo(Protocol):
    """A backslash command as completion sees it (the shell's ``Command``)."""

    args: str
    help: str
    arg_kind: str | None
    choices: tuple[str, ...]


def column_meta(col: Column, table: Table | None = None) -> str:
    """``type · pushed: ops`` or ``type · local filter`` (plus the table when it helps)."""
    said = [cap.describe() for cap in col.filters]  # "(local only: ...)": a capability switched off
    ops = list(dict.fromkeys(op for text in said if not text.startswith("(local only") for op in text.split(", ") if op))
    where = f"pushed: {', '.join(ops)}" if ops else "local filter"
    text = f"{col.type} · {where}"
    if col.options:
        text += " · enum"
    if table is not None:
        text = f"{table.name} · {text}"
    return text


def matches(word: str, candidates: Iterable[str], key: Callable[[str], str] = lambda s: s) -> list[str]:
    """Candidates starting with ``word`` (case-insensitive), then those containing it.

    >>> matches("na", ["name", "first_name", "id"])
    ['name', 'first_name']
    """
    w = word.lower()
    items = list(candidates)
    if not w:
        return items
    first = [c for c in items if key(c).lower().startswith(w)]
    rest = [c for c in items if w in key(c).lower() and c not in first]
    return first + rest


class CompletionEngine:
    """Completions as a function of (text, cursor). ``parser`` (an LALR parser without callbacks,
    :func:`~crmql.surfaces.completion.analysis.build_keyword_parser`), ``functions`` and
    ``aggregates`` may be set later, from another thread; until then keywords are not filtered by
    grammar state. ``describe_tables=False`` leaves a table's column count out of its ``meta`` (the
    notebook: asking would load every Atlas template)."""

    def __init__(self, catalog: Catalog, *, parser: Any = None, functions: Iterable[str] = (),
                 aggregates: Iterable[str] = (), commands: Mapping[str, CommandInfo] | None = None,
                 keyword_case: str = "auto", describe_tables: bool = True) -> None:
        self.catalog = catalog
        self.parser = parser
        self.functions = sorted(functions)
        self.aggregates = frozenset(a.lower() for a in aggregates)
        self.commands: Mapping[str, CommandInfo] = commands or {}
        self.keyword_case = keyword_case
        self.describe_tables = describe_tables

    def complete(self, text: str, cursor: int | None = None) -> list[Suggestion]:
        """Everything that could be typed at ``cursor`` (default: the end), best first."""
        cursor = len(text) if cursor is None else cursor
        return list(self._complete(text, cursor))

    def _complete(self, text: str, cursor: int) -> Iterator[Suggestion]:
        line = text[:cursor].rsplit("\n", 1)[-1]
        if line.lstrip().startswith("\\"):
            yield from self._command(line.lstrip())
            return
        stmt_start, stmt_end = statement_bounds(text, cursor)
        dashed = _DASHED.search(text[stmt_start:cursor])
        if dashed:  # `sale-st` typed bare: offer the field ids it starts, quoted ("sale-status")
            start = cursor - len(dashed.group(1))
            found = list(self._word(text, stmt_start, stmt_end, cursor, scan(text[stmt_start:start]),
                                    Tok("name", text[start:cursor], start - stmt_start, cursor - stmt_start)))
            if found:
                yield from found
                return
        yield from self._word(text, stmt_start, stmt_end, cursor, None, None)

    def _word(self, text: str, stmt_start: int, stmt_end: int, cursor: int, toks: list[Tok] | None,
              word_tok: Tok | None) -> Iterator[Suggestion]:
        """Completions of the word ending at ``cursor``: ``toks`` and ``word_tok`` given for a
        dashed name, else read from the scanner's last token."""
        before = text[stmt_start:cursor]
        dashed = toks is not None
        word = word_tok.text if word_tok is not None else ""
        whole = scan(text[stmt_start:stmt_end])
        if any(not t.closed for t in whole):  # an open quote at the cursor swallows the rest: scan both sides
            whole = scan(text[stmt_start:cursor]) + scan(text[cursor:stmt_end])
        if toks is None:
            toks = scan(before)
            # the word being typed: a name, an open quoted name or an open string ending at the cursor
            if toks and toks[-1].end == len(before) and (
                    toks[-1].kind in ("name", "keyword") or (toks[-1].kind in ("quoted", "string") and not toks[-1].closed)):
                word_tok = toks[-1]
                word = word_tok.text
                toks = toks[:-1]
        if toks and toks[-1].kind == "string" and not toks[-1].closed:
            return  # inside a string that is not a value we complete
        qualifier = None  # `x.` right before the word
        if len(toks) >= 2 and toks[-1].text == "." and toks[-1].kind == "punct" and toks[-2].ident is not None:
            qualifier = toks[-2].ident
            ctx = toks[:-2]
        else:
            ctx = toks
        refs = table_refs(whole)
        if dashed:  # only a column id can be spelled with dashes
            if qualifier is not None:
                yield from self._qualified_columns(qualifier, word, refs)
            elif clause_at(ctx) in _COLUMN_CLAUSES:
                yield from self._columns(word, refs)
            return
        prev = ctx[-1] if ctx else None
        prev2 = ctx[-2] if len(ctx) >= 2 else None
        head = before[: len(before) - len(word)]
        # FROM / JOIN / DESCRIBE: connections, then tables
        if prev is not None and (prev.is_kw("JOIN", "DESCRIBE", "DESC") or (prev.is_kw("FROM") and not (prev2 and prev2.is_kw("TABLES")))):
            yield from self._tables(word, qualifier)
            return
        if prev is not None and prev.is_kw("FROM") and prev2 is not None and prev2.is_kw("TABLES"):
            if qualifier is None:
                yield from self._connections(word)
            return
        clause = clause_at(ctx)
        if clause in ("FROM", "JOIN") and qualifier is None:
            # after the table reference: an alias is typed freely; offer the keywords that fit
            yield from self._keywords(word, head)
            return
        target = value_target(ctx) if qualifier is None else None  # values of an enum after = / != / IN (
        if target is not None:
            col = self._resolve_column(target, refs)
            if col is not None and (col.options or str(col.type) == "boolean"):
                yield from self._values(col, word, exclude=listed_values(ctx))
                return
        if word_tok is not None and word_tok.kind == "string":
            return  # a string that is not an enum value: nothing sensible to offer
        if qualifier is not None:
            yield from self._qualified_columns(qualifier, word, refs)
            return
        quoted = word_tok is not None and word_tok.kind == "quoted"
        if clause in _COLUMN_CLAUSES and expects_operand(ctx, accepted_terminals(self.parser, head)):
            yield from self._columns(word, refs)
            if not quoted:
                yield from self._functions(word, aggregates=clause not in _NO_AGGREGATE_CLAUSES)
        if not quoted:
            yield from self._keywords(word, head)

    # ---- the tables in scope
    def _scope(self, refs: Sequence[TableRef]) -> list[tuple[TableRef, Table]]:
        scope = []
        for ref in refs:
            table = self.catalog.table(ref.connection, ref.table)
            if table is not None:
                scope.append((ref, table))
        return scope

    def _resolve_qualifier(self, qualifier: str, refs: Sequence[TableRef]) -> list[Table]:
        scope = self._scope(refs)
        q = qualifier.lower()
        by_alias = [t for r, t in scope if r.alias and r.alias.lower() == q]
        return by_alias or [t for r, t in scope if r.table.lower() == q]

    def _resolve_column(self, target: tuple[str | None, str], refs: Sequence[TableRef]) -> Column | None:
        qualifier, name = target
        tables = self._resolve_qualifier(qualifier, refs) if qualifier else [t for _, t in self._scope(refs)]
        for table in tables:
            col = table.column(name)
            if col is not None:
                return col
        return None

    # ---- producers
    def _case(self, keyword: str, word: str) -> str:
        if self.keyword_case == "upper":
            return keyword.upper()
        if self.keyword_case == "lower":
            return keyword.lower()
        return keyword.lower() if word and word == word.lower() and word[:1].isalpha() else keyword.upper()

    def _keywords(self, word: str, before: str) -> Iterator[Suggestion]:
        pool = keyword_pool(accepted_terminals(self.parser, before), before)
        for kw in matches(word, dict.fromkeys(pool)):
            if not (word and kw.upper() == word.upper()):
                yield Suggestion(self._case(kw, word), -len(word), "keyword", meta="keyword")

    def _functions(self, word: str, *, aggregates: bool = True) -> Iterator[Suggestion]:
        if not word:
            return
        names = self.functions if aggregates else [f for f in self.functions if f.lower() not in self.aggregates]
        for name in matches(word, names):
            yield Suggestion(self._case(name, word) + "(", -len(word), "function", display=name + "()", meta="function")

    def _connections(self, word: str) -> Iterator[Suggestion]:
        for conn in matches(word.lstrip('"'), self.catalog.connections):
            yield Suggestion(quote_ident(conn), -len(word), "connection", meta="connection")

    def _table_meta(self, conn: str, name: str) -> str:
        table = self.catalog.table(conn, name) if self.describe_tables else None
        return f"table · {len(table.columns)} columns" if table is not None else "table"

    def _tables(self, word: str, qualifier: str | None) -> Iterator[Suggestion]:
        # table names come from the catalog's table_names(): those a connector declares statically
        # are there from the first keystroke, before any schema has loaded
        bare = word[1:] if word.startswith('"') else word
        if qualifier is not None:
            for name in matches(bare, self.catalog.table_names(qualifier) or ()):
                yield Suggestion(quote_ident(name), -len(word), "table", meta=self._table_meta(qualifier, name))
            return
        yield from self._connections(word)
        full = {f"{quote_ident(conn)}.{quote_ident(name)}": (conn, name)
                for conn in self.catalog.connections for name in self.catalog.table_names(conn) or ()}
        for text in matches(bare, full):
            yield Suggestion(text, -len(word), "table", meta=self._table_meta(*full[text]))

    def _column_suggestions(self, word: str, items: list[tuple[Column, Table | None]]) -> Iterator[Suggestion]:
        quoted = word.startswith('"')
        bare = word[1:] if quoted else word
        for name in matches(bare, dict.fromkeys(c.name for c, _ in items)):
            col, table = next((c, t) for c, t in items if c.name == name)
            text = quote_ident(name, always=quoted)
            yield Suggestion(text, -len(word), "column", display=name, meta=column_meta(col, table))

    def _columns(self, word: str, refs: Sequence[TableRef]) -> Iterator[Suggestion]:
        scope = self._scope(refs)
        several = len(scope) > 1
        yield from self._column_suggestions(word, [(c, t if several else None) for _, t in scope for c in t.columns])

    def _qualified_columns(self, qualifier: str, word: str, refs: Sequence[TableRef]) -> Iterator[Suggestion]:
        tables = self._resolve_qualifier(qualifier, refs)
        yield from self._column_suggestions(word, [(c, None) for t in tables[:1] for c in t.columns])

    def _values(self, col: Column, word: str, exclude: set[str]) -> Iterator[Suggestion]:
        if str(col.type) == "boolean":
            for kw in matches(word, ["TRUE", "FALSE"]):
                yield Suggestion(self._case(kw, word), -len(word), "value", meta=f"{col.name} value")
            return
        bare = word[1:] if word.startswith("'") else word
        for opt in matches(bare.replace("''", "'"), [o for o in col.options or () if o not in exclude]):
            yield Suggestion("'" + opt.replace("'", "''") + "'", -len(word), "value", display=opt, meta=f"{col.name} option")

    # ---- backslash commands
    def _command(self, line: str) -> Iterator[Suggestion]:
        name, sep, arg = line.partition(" ")
        if not sep:
            for cmd in matches(name, sorted(self.commands)):
                c = self.commands[cmd]
                yield Suggestion(cmd, -len(name), "command", display=f"{cmd} {c.args}".rstrip(), meta=c.help)
            return
        cmd = self.commands.get(name)
        if cmd is None:
            return
        arg = arg.lstrip()
        if cmd.arg_kind == "connection":
            yield from self._connections(arg)
        elif cmd.arg_kind == "table":
            head, dot, tail = arg.rpartition(".")
            yield from (self._tables(tail, head.strip('"')) if dot else self._tables(arg, None))
        elif cmd.arg_kind == "file":
            yield Suggestion(arg, -len(arg), "path")
        elif cmd.choices:
            for choice in matches(arg, cmd.choices):
                yield Suggestion(choice, -len(arg), "choice")
