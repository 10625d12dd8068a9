"""Context-aware completion for the shell.

What is offered where the cursor is:

* at the start of a line beginning with ``\\``: the backslash commands, then their arguments
  (connections after ``\\dt``, tables after ``\\d``, formats after ``\\format``, files after ``\\o``/``\\i``);
* after FROM, JOIN and DESCRIBE: the connections, then ``conn.table`` names; after ``conn.``: its tables;
* after SELECT, WHERE, AND/OR, ON, HAVING, ORDER BY, GROUP BY, commas and parentheses: the columns of
  the tables in scope (``alias.`` or ``table.`` narrows to one table), functions and the keywords the
  grammar accepts there; each column shows its type and whether filtering on it is pushed to the
  vendor or done locally;
* after ``col =`` / ``col !=`` / ``col IN (``: the option labels of an enum column, quoted;
* elsewhere: the keywords the LALR parser accepts next (all keywords until the parser is warm).

Schemas come from a :class:`SchemaCache`: it never waits on the network. A connection's tables are
loaded by a background thread on first need and cached; the table names (and the columns) a
connector declares statically are there from the first keystroke, discovered ones (Atlas
templates) once they have loaded. :meth:`SchemaCache.refresh` drops the cache (``\\refresh``). The cache lives in
:mod:`crmql.surfaces.repl.schema`; reading the statement around the cursor (its clause, the tables in scope,
the keywords the grammar accepts next) in :mod:`crmql.surfaces.repl.analysis`.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import TYPE_CHECKING, Any

from prompt_toolkit.completion import CompleteEvent, Completer, Completion, PathCompleter
from prompt_toolkit.document import Document

from .analysis import (TableRef, accepted_terminals, build_keyword_parser, clause_at, expects_operand, keyword_pool,
                       listed_values, statement_bounds, table_refs, value_target)
from .commands import COMMANDS, Command
from .lexer import Tok, keywords, scan
from .schema import SchemaCache

if TYPE_CHECKING:
    from ...plan.catalog import Column, Table

__all__ = ["CrmqlCompleter", "SchemaCache", "build_keyword_parser", "column_meta", "quote_ident"]

log = logging.getLogger(__name__)

_BARE = re.compile(r"^[A-Za-z_][A-Za-z0-9_$]*$")
#: a name with dashes typed without quotes, right before the cursor (Atlas field ids: sale-status)
_DASHED = re.compile(r"(?<![A-Za-z0-9_$\"'-])([A-Za-z_][A-Za-z0-9_$]*(?:-[A-Za-z0-9_$]*)+)$")
_COLUMN_CLAUSES = {"SELECT", "WHERE", "ON", "HAVING", "GROUP BY", "ORDER BY"}
#: clauses where an aggregate is not allowed (the binder says so): no count() after WHERE
_NO_AGGREGATE_CLAUSES = {"WHERE", "ON", "GROUP BY"}
FORMAT_CHOICES = ("table", "csv", "json", "jsonl", "markdown")


def quote_ident(name: str) -> str:
    """A name as it must be written: bare when it can be, else in double quotes.

    >>> quote_ident("event_type"), quote_ident("contact-email"), quote_ident("date")
    ('event_type', '"contact-email"', '"date"')
    """
    if _BARE.match(name) and name.upper() not in keywords():
        return name
    return '"' + name.replace('"', '""') + '"'


def column_meta(col: Column, table: Table | None = None) -> str:
    """``type · pushed: ops`` or ``type · local filter`` (plus the table when it helps)."""
    ops = list(dict.fromkeys(op for cap in col.filters for op in cap.describe().split(", ") if op))
    where = f"pushed: {', '.join(ops)}" if ops else "local filter"
    text = f"{col.type} · {where}"
    if col.options:
        text += " · enum"
    if table is not None:
        text = f"{table.name} · {text}"
    return text


class CrmqlCompleter(Completer):
    """The shell's completer. ``parser`` (see :func:`build_keyword_parser`), ``functions`` and
    ``aggregates`` (those of the functions offered only where an aggregate may stand: the select
    list, HAVING, ORDER BY) may be set later, from a background thread; until then keywords are not
    filtered by grammar state."""

    def __init__(self, schema: SchemaCache, *, parser: Any = None, functions: Iterable[str] = (),
                 aggregates: Iterable[str] = (), commands: dict[str, Command] | None = None,
                 keyword_case: str = "auto") -> None:
        self.schema = schema
        self.parser = parser
        self.functions = sorted(functions)
        self.aggregates = frozenset(a.lower() for a in aggregates)
        self.commands = COMMANDS if commands is None else commands
        self.keyword_case = keyword_case
        self._paths = PathCompleter(expanduser=True)

    # ---- entry point
    def get_completions(self, document: Document, complete_event: CompleteEvent) -> Iterator[Completion]:
        try:
            yield from self._complete(document, complete_event)
        except Exception:  # pragma: no cover - completion must never break typing
            log.debug("completion failed", exc_info=True)

    def _complete(self, document: Document, event: CompleteEvent) -> Iterator[Completion]:
        line = document.current_line_before_cursor
        if line.lstrip().startswith("\\"):
            yield from self._command(line.lstrip(), document, event)
            return
        text, cursor = document.text, document.cursor_position
        stmt_start, stmt_end = statement_bounds(text, cursor)
        before = text[stmt_start:cursor]
        dashed = _DASHED.search(before)
        if dashed:  # `sale-st` typed bare: offer the field ids it starts, quoted ("sale-status")
            found = list(self._complete_at(text, stmt_start, stmt_end, cursor - len(dashed.group(1)), cursor))
            if found:
                yield from found
                return
        yield from self._complete_at(text, stmt_start, stmt_end, cursor, cursor)

    def _complete_at(self, text: str, stmt_start: int, stmt_end: int, word_start: int, cursor: int) -> Iterator[Completion]:
        """Completions for the word ending at ``cursor``; with ``word_start < cursor`` the word is
        taken as ``text[word_start:cursor]`` (a dashed name) rather than the scanner's last token."""
        before = text[stmt_start:cursor]
        if word_start < cursor:
            toks = scan(text[stmt_start:word_start])
            word_tok: Tok | None = Tok("name", text[word_start:cursor], word_start - stmt_start, cursor - stmt_start)
            return self._complete_word(text, stmt_start, stmt_end, cursor, before, toks, text[word_start:cursor], word_tok)
        return self._complete_word(text, stmt_start, stmt_end, cursor, before, None, "", None)

    def _complete_word(self, text: str, stmt_start: int, stmt_end: int, cursor: int, before: str,
                       toks: list[Tok] | None, word: str, word_tok: Tok | None) -> Iterator[Completion]:
        dashed = toks is not None
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
        # a qualifier: `x.` right before the word
        qualifier = None
        if len(toks) >= 2 and toks[-1].text == "." and toks[-1].kind == "punct" and toks[-2].ident is not None:
            qualifier = toks[-2].ident
            ctx_toks = toks[:-2]
        else:
            ctx_toks = toks
        refs = table_refs(whole)
        if dashed:  # only a column id can be spelled with dashes
            if qualifier is not None:
                yield from self._qualified_columns(qualifier, word, word_tok, refs)
            elif clause_at(ctx_toks) in _COLUMN_CLAUSES:
                yield from self._columns(word, word_tok, refs)
            return
        prev = ctx_toks[-1] if ctx_toks else None
        prev2 = ctx_toks[-2] if len(ctx_toks) >= 2 else None

        # FROM / JOIN / DESCRIBE: connections, then tables
        if prev is not None and (prev.is_kw("JOIN", "DESCRIBE", "DESC") or (prev.is_kw("FROM") and not (prev2 and prev2.is_kw("TABLES")))):
            yield from self._tables(word, qualifier, word_tok)
            return
        if prev is not None and prev.is_kw("FROM") and prev2 is not None and prev2.is_kw("TABLES"):
            if qualifier is None:
                yield from self._connections(word)
            return

        clause = clause_at(ctx_toks)
        if clause in ("FROM", "JOIN") and qualifier is None:
            # after the table reference: an alias is typed freely; offer the keywords that fit
            yield from self._keywords(word, before[: len(before) - len(word)], word_tok)
            return

        # values of an enum column after = / != / IN (
        target = value_target(ctx_toks) if qualifier is None else None
        if target is not None:
            col = self._resolve_column(target, refs)
            if col is not None and (col.options or str(col.type) == "boolean"):
                yield from self._values(col, word, word_tok, exclude=listed_values(ctx_toks))
                return

        if word_tok is not None and word_tok.kind == "string":
            return  # a string that is not an enum value: nothing sensible to offer

        if qualifier is not None:
            yield from self._qualified_columns(qualifier, word, word_tok, refs)
            return

        if clause in _COLUMN_CLAUSES and expects_operand(ctx_toks, self._accepts(before[: len(before) - len(word)])):
            yield from self._columns(word, word_tok, refs)
            if word_tok is None or word_tok.kind != "quoted":
                yield from self._functions(word, aggregates=clause not in _NO_AGGREGATE_CLAUSES)
        if word_tok is None or word_tok.kind != "quoted":
            yield from self._keywords(word, before[: len(before) - len(word)], word_tok)

    # ---- the tables in scope
    def _scope(self, refs: Sequence[TableRef]) -> list[tuple[TableRef, Table]]:
        scope = []
        for ref in refs:
            table = self.schema.table(ref.connection, ref.table)
            if table is not None:
                scope.append((ref, table))
        return scope

    def _resolve_qualifier(self, qualifier: str, refs: Sequence[TableRef]) -> list[Table]:
        scope = self._scope(refs)
        q = qualifier.lower()
        by_alias = [t for r, t in scope if r.alias and r.alias.lower() == q]
        if by_alias:
            return by_alias
        return [t for r, t in scope if r.table.lower() == q]

    def _resolve_column(self, target: tuple[str | None, str], refs: Sequence[TableRef]) -> Column | None:
        qualifier, name = target
        tables = self._resolve_qualifier(qualifier, refs) if qualifier else [t for _, t in self._scope(refs)]
        for table in tables:
            col = table.column(name)
            if col is not None:
                return col
        return None

    def _accepts(self, before: str) -> set[str] | None:
        """Terminal names the parser accepts after ``before`` (None: parser not ready, or no parse)."""
        return accepted_terminals(self.parser, before)

    # ---- producers
    @staticmethod
    def _matches(word: str, candidates: Iterable[str], key: Callable[[str], str] = lambda s: s) -> list[str]:
        """Candidates starting with ``word`` (case-insensitive), then those containing it."""
        w = word.lower()
        items = list(candidates)
        if not w:
            return items
        first = [c for c in items if key(c).lower().startswith(w)]
        rest = [c for c in items if w in key(c).lower() and c not in first]
        return first + rest

    def _case(self, keyword: str, word: str) -> str:
        if self.keyword_case == "upper":
            return keyword.upper()
        if self.keyword_case == "lower":
            return keyword.lower()
        return keyword.lower() if word and word == word.lower() and word[:1].isalpha() else keyword.upper()

    def _keywords(self, word: str, before: str, word_tok: Tok | None) -> Iterator[Completion]:
        pool = keyword_pool(self._accepts(before), before)
        for kw in self._matches(word, dict.fromkeys(pool)):
            if word and kw.upper() == word.upper():
                continue
            yield Completion(self._case(kw, word), start_position=-len(word), display_meta="keyword")

    def _functions(self, word: str, *, aggregates: bool = True) -> Iterator[Completion]:
        if not word:
            return
        names = self.functions if aggregates else [f for f in self.functions if f.lower() not in self.aggregates]
        for name in self._matches(word, names):
            yield Completion(self._case(name, word) + "(", start_position=-len(word),
                             display=name + "()", display_meta="function")

    def _connections(self, word: str) -> Iterator[Completion]:
        for conn in self._matches(word.lstrip('"'), self.schema.connections):
            yield Completion(quote_ident(conn), start_position=-len(word), display_meta="connection")

    def _table_meta(self, conn: str, name: str) -> str:
        table = self.schema.table(conn, name)
        return f"table · {len(table.columns)} columns" if table is not None else "table"

    def _tables(self, word: str, qualifier: str | None, word_tok: Tok | None) -> Iterator[Completion]:
        # table names come from the cache's table_names(): those a connector declares statically
        # are there from the first keystroke, before any schema has loaded
        if qualifier is not None:
            names = self.schema.table_names(qualifier)
            if not names:
                return
            bare = word[1:] if word.startswith('"') else word
            for name in self._matches(bare, names):
                yield Completion(quote_ident(name), start_position=-len(word), display_meta=self._table_meta(qualifier, name))
            return
        yield from self._connections(word)
        full = []
        for conn in self.schema.connections:
            for name in self.schema.table_names(conn) or ():
                full.append((f"{quote_ident(conn)}.{quote_ident(name)}", (conn, name)))
        bare = word[1:] if word.startswith('"') else word
        where = dict(full)
        for text in self._matches(bare, [f for f, _ in full]):
            yield Completion(text, start_position=-len(word), display_meta=self._table_meta(*where[text]))

    def _column_completions(self, word: str, word_tok: Tok | None, items: list[tuple[Column, Table | None]]) -> Iterator[Completion]:
        quoted = word.startswith('"')
        bare = word[1:] if quoted else word
        seen: set[str] = set()
        names = [c.name for c, _ in items]
        for name in self._matches(bare, dict.fromkeys(names)):
            if name in seen:
                continue
            seen.add(name)
            col, table = next((c, t) for c, t in items if c.name == name)
            text = '"' + name.replace('"', '""') + '"' if quoted else quote_ident(name)
            yield Completion(text, start_position=-len(word), display=name, display_meta=column_meta(col, table))

    def _columns(self, word: str, word_tok: Tok | None, refs: Sequence[TableRef]) -> Iterator[Completion]:
        scope = self._scope(refs)
        several = len(scope) > 1
        items = [(c, t if several else None) for _, t in scope for c in t.columns]
        yield from self._column_completions(word, word_tok, items)

    def _qualified_columns(self, qualifier: str, word: str, word_tok: Tok | None, refs: Sequence[TableRef]) -> Iterator[Completion]:
        tables = self._resolve_qualifier(qualifier, refs)
        items = [(c, None) for t in tables[:1] for c in t.columns]
        yield from self._column_completions(word, word_tok, items)

    def _values(self, col: Column, word: str, word_tok: Tok | None, exclude: set[str]) -> Iterator[Completion]:
        if str(col.type) == "boolean":
            for kw in self._matches(word, ["TRUE", "FALSE"]):
                yield Completion(self._case(kw, word), start_position=-len(word), display_meta=f"{col.name} value")
            return
        bare = word[1:] if word.startswith("'") else word
        for opt in self._matches(bare.replace("''", "'"), [o for o in col.options or () if o not in exclude]):
            yield Completion("'" + opt.replace("'", "''") + "'", start_position=-len(word),
                             display=opt, display_meta=f"{col.name} option")

    # ---- backslash commands
    def _command(self, line: str, document: Document, event: CompleteEvent) -> Iterator[Completion]:
        name, sep, arg = line.partition(" ")
        if not sep:
            for cmd in self._matches(name, sorted(self.commands), key=lambda s: s):
                c = self.commands[cmd]
                yield Completion(cmd, start_position=-len(name), display=f"{cmd} {c.args}".rstrip(), display_meta=c.help)
            return
        cmd = self.commands.get(name)
        if cmd is None:
            return
        arg = arg.lstrip()
        kind = cmd.arg_kind
        if kind == "connection":
            yield from self._connections(arg)
        elif kind == "table":
            head, dot, tail = arg.rpartition(".")
            if dot:
                yield from self._tables(tail, head.strip('"'), None)
            else:
                yield from self._tables(arg, None, None)
        elif kind in ("file",):
            sub = Document(arg, len(arg))
            yield from self._paths.get_completions(sub, event)
        elif cmd.choices:
            for choice in self._matches(arg, cmd.choices):
                yield Completion(choice, start_position=-len(arg))
