"""One completion engine for every surface: what could come next, as a pure function of the text.

:class:`CompletionEngine` answers :class:`Suggestion` s for (text, cursor) from a :class:`Catalog`;
the shell (:mod:`crmql.surfaces.repl.completer`, prompt_toolkit) and the notebook
(:mod:`crmql.surfaces.magic.complete`, IPython) only adapt them. The modules: :mod:`.tokens` (a
scanner that never fails), :mod:`.analysis` (the statement around the cursor: clause, tables in
scope, keywords the grammar accepts next), :mod:`.engine` (what to offer there). Nothing here
imports Lark, pandas or a connector, so the shell completes from its first prompt.
"""

from __future__ import annotations

from .analysis import build_keyword_parser
from .engine import Catalog, CommandInfo, CompletionEngine, Suggestion, column_meta, matches

__all__ = ["Catalog", "CommandInfo", "CompletionEngine", "Suggestion", "build_keyword_parser", "column_meta",
           "matches"]
