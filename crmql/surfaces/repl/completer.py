"""The shell's completer: prompt_toolkit's face of the completion engine.

What is offered where is decided by :class:`crmql.surfaces.completion.CompletionEngine` (keywords the
grammar accepts next, connections and tables after FROM/JOIN/DESCRIBE, columns of the tables in
scope with their type and pushdown, enum values after ``=``/``IN (``, backslash commands and their
arguments); this module turns its suggestions into prompt_toolkit ``Completion`` s and expands file
arguments (``\\o``, ``\\i``) with prompt_toolkit's path completer.

Schemas come from a :class:`SchemaCache` (:mod:`crmql.surfaces.repl.schema`): it never waits on the
network. A connection's tables are loaded by a background thread on first need and cached; the
table names (and the columns) a connector declares statically are there from the first keystroke,
discovered ones (Atlas templates) once they have loaded. :meth:`SchemaCache.refresh` drops the
cache (``\\refresh``).

>>> from prompt_toolkit.completion import CompleteEvent
>>> c = CrmqlCompleter(SchemaCache(["crm"], None))
>>> [x.text for x in c.get_completions(Document("\\\\tim"), CompleteEvent())]
['\\\\timing']
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator
from typing import Any

from prompt_toolkit.completion import CompleteEvent, Completer, Completion, PathCompleter
from prompt_toolkit.document import Document

from ..completion import CommandInfo, CompletionEngine
from .commands import COMMANDS
from .schema import SchemaCache

__all__ = ["CrmqlCompleter"]

log = logging.getLogger(__name__)


class CrmqlCompleter(Completer):
    """The shell's completer. ``parser`` (see :func:`crmql.surfaces.completion.build_keyword_parser`),
    ``functions`` and ``aggregates`` (those of the functions offered only where an aggregate may
    stand: the select list, HAVING, ORDER BY) may be set later, from a background thread; until then
    keywords are not filtered by grammar state."""

    def __init__(self, schema: SchemaCache, *, parser: Any = None, functions: Iterable[str] = (),
                 aggregates: Iterable[str] = (), commands: dict[str, CommandInfo] | None = None,
                 keyword_case: str = "auto") -> None:
        self.schema = schema
        self.engine = CompletionEngine(schema, parser=parser, functions=functions, aggregates=aggregates,
                                       commands=COMMANDS if commands is None else commands, keyword_case=keyword_case)
        self._paths = PathCompleter(expanduser=True)

    # what the shell's warm-up sets once Lark and the function list have loaded
    parser = property(lambda self: self.engine.parser, lambda self, v: setattr(self.engine, "parser", v))
    functions = property(lambda self: self.engine.functions, lambda self, v: setattr(self.engine, "functions", v))
    aggregates = property(lambda self: self.engine.aggregates, lambda self, v: setattr(self.engine, "aggregates", v))
    keyword_case = property(lambda self: self.engine.keyword_case,
                            lambda self, v: setattr(self.engine, "keyword_case", v))

    def get_completions(self, document: Document, complete_event: CompleteEvent) -> Iterator[Completion]:
        try:
            found = self.engine.complete(document.text, document.cursor_position)
        except Exception:  # pragma: no cover - completion must never break typing
            log.debug("completion failed", exc_info=True)
            return
        for s in found:
            if s.kind == "path":  # a file argument: prompt_toolkit's own path completion
                yield from self._paths.get_completions(Document(s.text, len(s.text)), complete_event)
            else:
                yield Completion(s.text, start_position=s.start, display=s.display, display_meta=s.meta or None)
