"""Voyzu's one filter, the free-text ``SearchText`` of ``ContactsSearchInput``: what crmql pushes
into it, and how it goes into the request.

The docs say nothing of what the search matches (vendor-notes section 3 "Search", ambiguities 17
and 19): the user docs say it looks at "most fields"; the front end's search bar is a datatable
search. So every reading below is possible, and the simulator serves each as a variant:

* fields (``voyzu.search_fields``): ``most`` (names, DisplayName, Organization, JobTitle, e-mails,
  phones, Notes, Labels, ContactTypes, custom field values, ImportId, City) or only
  ``names_emails`` (FirstName, LastName, DisplayName, Organization, e-mail values);
* matching (``voyzu.search_match``): a case-insensitive substring, a case-insensitive word
  prefix (the text split into words on anything not a letter or digit, each word must start a
  word of the contact), or a case-sensitive substring.

A condition is pushed only where EVERY combination keeps every matching row (never a row lost;
the pushed search is a superset, ``exact=False``, and the WHERE is re-checked locally):

* the columns are fields searched under both field readings: first_name, last_name,
  display_name, organization, primary_email (an e-mail value), and ``list_contains(emails, v)``;
* ``col = 'text'``: the field IS the text, so it contains it (either case rule), and its words are
  the text's words (word prefix);
* ``col LIKE 'text%...'``: the literal start of the pattern, up to its first wildcard (``%`` or
  ``_``; no wildcard: the whole pattern): the field starts with the text, so it contains it, and
  each word of the text starts a word of the field (the text's inner words are whole words of the
  field, its last word a prefix of one). ``LIKE '%text%'`` is NOT pushed
  (a word-prefix search would miss "Acme" in "MegaAcme"), nor ILIKE (a case-sensitive search
  would miss another case);
* the text is 2..100 characters of ASCII letters, digits, space and ``@ . _ + - '``, does not
  start with ``-`` and has no whole word AND, OR or NOT: a search engine may read those as
  operators (a negation, a boolean), a single character or an empty text as "everything" or
  "nothing", and other characters (quotes, wildcards, accented letters a vendor may fold or split
  differently) in ways no doc settles;
* ``!=`` and NOT (``NOT LIKE``, ``NOT IN``, ``NOT (...)``) are never pushed: a search text only
  finds rows, it cannot exclude them;
* ``IN`` and ``OR`` are never pushed (one search text is one AND); of several pushable conditions
  ONE is sent, the longest text (the most selective), the others are checked locally
  (:func:`one_search`).

The connection setting ``search_pushdown = false`` turns all of this off.

>>> from crmql.language import ast
>>> from crmql.plan.catalog import Column, ColumnType
>>> SearchText().push(ast.Compare("=", ast.Column("last_name"), ast.Literal("Novak", "string")),
...                   Column("last_name", ColumnType.STRING)).conds[0]
NativeCond(field='SearchText', op='search', value='Novak')
>>> SearchText().push(ast.Like(ast.Column("last_name"), ast.Literal("%ovak%", "string")),
...                   Column("last_name", ColumnType.STRING))
"'%ovak%' starts with a wildcard: only its literal start is sent, and a word-prefix search would miss text inside a word"
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from ...language import ast
from ...plan.columns import Column
from ...plan.connector import Candidate, FilterSet, NativeRequest
from ...plan.pushdown import Capability, NativeCond, Pushed
from ..rest import FilterEncoder, Place
from ..rest.place import dig

__all__ = ["FIELD", "OP", "SearchEncoder", "SearchText", "check_text", "one_search", "pushdown_on"]

log = logging.getLogger(__name__)

#: the native condition of a pushed search: its field is the body field it goes to
FIELD, OP = "SearchText", "search"
_ALLOWED = re.compile(r"[A-Za-z0-9 @._+\-']+")
_OPERATOR_WORDS = {"and", "or", "not"}
MIN_CHARS, MAX_CHARS = 2, 100


def pushdown_on(settings: Mapping[str, Any]) -> bool:
    """Whether the connection pushes searches (``search_pushdown``, default true).

    >>> pushdown_on({}), pushdown_on({"search_pushdown": False})
    (True, False)
    """
    return settings.get("search_pushdown", True) is not False


def check_text(text: Any) -> str | None:
    """Why ``text`` cannot be sent as a search text (None: it can).

    >>> check_text("Acme GmbH"), check_text("x")
    (None, 'the search text must have 2 to 100 characters')
    >>> check_text("cats or dogs")
    "the text has the word 'or', which a search may read as an operator"
    """
    if not isinstance(text, str):
        return "only text is searched"
    if not MIN_CHARS <= len(text) <= MAX_CHARS:
        return f"the search text must have {MIN_CHARS} to {MAX_CHARS} characters"
    if not _ALLOWED.fullmatch(text):
        return "the text has characters other than ASCII letters, digits, space and @ . _ + - ' (read differently " \
               "by different searches)"
    if text.startswith("-"):
        return "the text starts with '-', which a search may read as a negation"
    words = {w.lower() for w in re.split(r"[^A-Za-z0-9]+", text) if w}
    if bad := sorted(words & _OPERATOR_WORDS):
        return f"the text has the word {bad[0]!r}, which a search may read as an operator"
    if not words:
        return "the text has no letter or digit"
    return None


@dataclass(frozen=True)
class SearchText(Capability):
    """``=`` and ``LIKE 'text%'`` (and ``list_contains`` on a list column) as Voyzu's search text:
    always a superset (``exact=False``), re-checked locally (see the module docstring)."""

    sql_ops: tuple[str, ...] = ("=", "LIKE 'text%'", "list_contains")
    #: the connection's ``search_pushdown = false``: nothing is sent, and DESCRIBE/EXPLAIN say why
    off: bool = False

    def describe(self) -> str:
        if self.off:
            return "(local only: search_pushdown = false on this connection)"
        return "search text (superset: Voyzu's free-text search; re-checked locally)"

    def push(self, pred: ast.Expr, column: Column) -> Pushed | str:
        if self.off:
            return "search_pushdown = false on this connection: checked locally"
        text = self._text(pred, column)
        if not isinstance(text, tuple):
            return text
        why = check_text(text[0])
        if why is not None:
            return why + "; checked locally"
        return Pushed((NativeCond(FIELD, OP, text[0]),), False,
                      f"sent as the search text {text[0]!r} (Voyzu's free-text search: a superset), re-checked locally")

    @staticmethod
    def _text(pred: ast.Expr, column: Column) -> tuple[str] | str:
        """``(text,)`` the predicate implies the field contains, or why there is none."""
        if _negation(pred):
            return NEGATION
        if column.type.value == "list":
            if isinstance(pred, ast.Func) and pred.name.lower() == "list_contains" and len(pred.args) == 2 \
                    and isinstance(pred.args[1], ast.Literal) and isinstance(pred.args[1].value, str):
                return (pred.args[1].value,)
            return "only list_contains(column, 'text') is sent as a search text"
        if isinstance(pred, ast.Compare) and pred.op == "=" and isinstance(pred.right, ast.Literal):
            value = pred.right.value
            return (value,) if isinstance(value, str) else "only text is searched"
        if isinstance(pred, ast.Like) and not pred.negated and isinstance(pred.pattern, ast.Literal):
            pattern = pred.pattern.value
            if pred.case_insensitive:
                return "ILIKE is not pushed: a case-sensitive search would miss another case"
            if not isinstance(pattern, str):
                return "only text is searched"
            cut = min((i for i, ch in enumerate(pattern) if ch in "%_"), default=len(pattern))
            if cut == 0:
                return (f"{pattern!r} starts with a wildcard: only its literal start is sent, and a word-prefix "
                        "search would miss text inside a word")
            return (pattern[:cut],)  # the field starts with it (no wildcard at all: the field IS it)
        if isinstance(pred, ast.InList):
            return "IN is a set of alternatives; one search text is one AND: checked locally"
        return "only =, LIKE 'text%' and list_contains are sent as the search text"


#: why a negated condition stays local
NEGATION = "!= and NOT are not searched (a search text only finds)"


def _negation(pred: ast.Expr) -> bool:
    """Whether ``pred`` excludes rather than finds: ``!=``/``<>``, NOT, NOT LIKE, NOT IN, NOT BETWEEN.

    >>> _negation(ast.Not(ast.Compare("=", ast.Column("x"), ast.Literal("a", "string"))))
    True
    """
    if isinstance(pred, ast.Not):
        return True
    if isinstance(pred, ast.Compare):
        return pred.op in ("!=", "<>")
    return isinstance(pred, (ast.Like, ast.InList, ast.Between)) and bool(pred.negated)


def one_search(candidates: Sequence[Candidate]) -> list[Candidate]:
    """``candidates`` with only ONE search pushed: the longest text (the most selective; the first
    of equal ones); the others stay local, saying why.

    >>> c = lambda t: Candidate(ast.Column("x"), push=Pushed((NativeCond(FIELD, OP, t),), False))
    >>> [x.push.conds[0].value if x.push else x.reason for x in one_search([c("Ann"), c("Novak")])]
    ["Voyzu takes one search text: 'Novak' (the longest) is sent; checked locally", 'Novak']
    """
    searches = [i for i, c in enumerate(candidates)
                if c.push is not None and any(n.field == FIELD and n.op == OP for n in c.push.conds)]
    if len(searches) < 2:
        return list(candidates)
    best = max(searches, key=lambda i: (len(str(candidates[i].push.conds[0].value)), -i))  # type: ignore[union-attr]
    text = candidates[best].push.conds[0].value  # type: ignore[union-attr]
    why = f"Voyzu takes one search text: {text!r} (the longest) is sent; checked locally"
    return [Candidate(c.expr, reason=why) if i in searches and i != best else c for i, c in enumerate(candidates)]


@dataclass(frozen=True)
class SearchEncoder(FilterEncoder):
    """The pushed search (at most one: :func:`one_search`; the longest when more came) as the body's
    ``SearchText``; no search: the empty text, which every reading takes as "every contact".

    >>> SearchEncoder().apply(NativeRequest("POST", "/api/contacts/search"),
    ...                       FilterSet([NativeCond(FIELD, OP, "acme")])).body
    {'SearchText': 'acme'}
    """

    key: str = FIELD
    in_body = True

    def apply(self, request: NativeRequest, filters: FilterSet) -> NativeRequest:
        texts = [str(c.value) for c in filters.conds if c.field == FIELD and c.op == OP]
        return Place.body(self.key).put(request, max(texts, key=len) if texts else "")

    def view(self, requests: Sequence[NativeRequest]) -> Any:
        return dig(requests[0].body, self.key) if requests else None
