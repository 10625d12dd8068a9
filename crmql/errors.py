"""The whole crmql exception tree.

Every error a user can see is a :class:`CrmqlError`. Surfaces (CLI, REPL, magic) print
``str(error)`` and never a traceback unless asked for one; ``exit_code`` tells the CLI what to
return (1 query error, 2 usage/configuration, 3 vendor/network/auth).

>>> try:
...     raise QueryError("unknown table 'azavista.event'", hint="did you mean azavista.events?")
... except CrmqlError as e:
...     print(e)
unknown table 'azavista.event'
  hint: did you mean azavista.events?
"""

from __future__ import annotations

import difflib
import unicodedata
from collections.abc import Iterable
from typing import Any

from crmql.redaction import redact, safe_url

__all__ = [
    "AuthenticationError",
    "CancelledError",
    "ConfigError",
    "ConnectorError",
    "CrmqlError",
    "DataError",
    "DatabaseError",
    "Error",
    "ExportError",
    "IntegrityError",
    "InterfaceError",
    "InternalError",
    "NetworkError",
    "NotSupportedError",
    "OperationalError",
    "ProgrammingError",
    "QueryError",
    "QuerySyntaxError",
    "RateLimitedError",
    "RequestBudgetError",
    "VendorHTTPError",
    "VendorResponseError",
    "Warning",
    "did_you_mean",
]


# ---- PEP 249 (DB-API 2.0) names: crmql.dbapi exports them; every CrmqlError is a DatabaseError, so
# a tool written for any DB-API driver (pandas, SQLAlchemy, JupySQL) catches crmql's errors as it
# catches its database's. Where a crmql error sits: QuerySyntaxError/QueryError/ConfigError are
# ProgrammingError (the statement or the settings are wrong); ConnectorError (vendor, network, auth),
# CancelledError and ExportError are OperationalError (the operation failed, not the statement).

class Warning(Exception):  # noqa: A001 - the PEP 249 name
    """PEP 249: important warnings (crmql raises none; defined for the interface)."""


class Error(Exception):
    """PEP 249: base of every DB-API error.

    >>> issubclass(QueryError, ProgrammingError) and issubclass(NetworkError, OperationalError)
    True
    """


class InterfaceError(Error):
    """PEP 249: misuse of the interface itself (e.g. a closed cursor)."""


class DatabaseError(Error):
    """PEP 249: errors about the database (for crmql: the vendors and the statements over them)."""


class DataError(DatabaseError):
    """PEP 249: problems with processed data."""


class OperationalError(DatabaseError):
    """PEP 249: the operation failed (vendor, network, authentication, cancellation, a file)."""


class IntegrityError(DatabaseError):
    """PEP 249: relational integrity (crmql writes nothing; defined for the interface)."""


class InternalError(DatabaseError):
    """PEP 249: internal errors."""


class ProgrammingError(DatabaseError):
    """PEP 249: the statement is wrong (syntax, unknown names, wrong parameters)."""


class NotSupportedError(DatabaseError):
    """PEP 249: a method or operation crmql does not support (transactions, writes)."""


class CrmqlError(DatabaseError):
    """Root of every error crmql raises on purpose."""

    exit_code = 1

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        if self.hint:
            return f"{self.message}\n  hint: {self.hint}"
        return self.message


class QuerySyntaxError(CrmqlError, ProgrammingError):
    """The statement does not parse. Carries position, the source line and a caret."""

    def __init__(
        self,
        message: str,
        *,
        line: int,
        column: int,
        source_line: str,
        hint: str | None = None,
    ) -> None:
        super().__init__(message, hint=hint)
        self.line = line
        self.column = column
        self.source_line = source_line

    def __str__(self) -> str:
        caret = caret_line(self.source_line, self.column)
        text = f"syntax error at line {self.line}, column {self.column}: {self.message}\n  {self.source_line}\n  {caret}"
        if self.hint:
            text += f"\n  hint: {self.hint}"
        return text


def caret_line(source_line: str, column: int, width: int = 1) -> str:
    """Carets under ``width`` characters of ``source_line`` from ``column`` (1-based), lined up as a
    terminal shows the line: tabs are kept, East Asian wide characters take two cells.

    >>> print("SELECT '日本', nme"); print(caret_line("SELECT '日本', nme", 14, 3))
    SELECT '日本', nme
                   ^^^
    """
    def cells(text: str) -> int:
        return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)

    before = source_line[: column - 1]
    pad = "".join("\t" if ch == "\t" else " " * cells(ch) for ch in before)
    return pad + "^" * max(1, cells(source_line[column - 1: column - 1 + width]))


class QueryError(CrmqlError, ProgrammingError):
    """A well-formed statement that cannot run: unknown names, missing filters, unsupported.

    The binder locates it at the name or value at fault (:meth:`locate`); it then shows the line
    and a caret under that part of the statement, like a syntax error:

    >>> print(QueryError("unknown column 'nme' in azavista.events", hint="did you mean name?")
    ...       .locate("SELECT nme FROM azavista.events", start=7, end=10))
    unknown column 'nme' in azavista.events, at line 1, column 8
      SELECT nme FROM azavista.events
             ^^^
      hint: did you mean name?
    """

    line: int | None = None
    column: int | None = None
    source_line: str | None = None
    width: int = 1

    def __init__(self, message: str, *, hint: str | None = None, at: Any = None) -> None:
        super().__init__(message, hint=hint)
        #: where it points (an ``ast.Span``), given where the text is not at hand; the session
        #: then calls :meth:`locate` with the statement's text
        self.span = at

    def locate(self, text: str | None, *, start: int, end: int) -> QueryError:
        """Point the error at ``text[start:end]`` (0-based offsets); the first location wins."""
        if self.line is None and text and 0 <= start <= len(text):
            before = text[:start]
            self.line = before.count("\n") + 1
            line_start = before.rfind("\n") + 1
            self.column = start - line_start + 1
            line_end = text.find("\n", start)
            self.source_line = text[line_start: len(text) if line_end < 0 else line_end].rstrip("\r")
            self.width = max(1, min(end, line_start + len(self.source_line)) - start)
        return self

    def __str__(self) -> str:
        if self.line is None or self.source_line is None:
            return super().__str__()
        caret = caret_line(self.source_line, self.column or 1, self.width)
        text = f"{self.message}, at line {self.line}, column {self.column}\n  {self.source_line}\n  {caret}"
        if self.hint:
            text += f"\n  hint: {self.hint}"
        return text


class CancelledError(CrmqlError, OperationalError):
    """The user cancelled a running statement (Ctrl-C)."""


class ExportError(CrmqlError, OperationalError):
    """Writing a result to a file failed."""


class ConnectorError(CrmqlError, OperationalError):
    """A vendor, network, authentication or configuration failure."""

    exit_code = 3

    def __init__(
        self,
        message: str,
        *,
        vendor: str | None = None,
        table: str | None = None,
        status: int | None = None,
        vendor_message: str | None = None,
        hint: str | None = None,
    ) -> None:
        self.vendor = vendor
        self.table = table
        self.status = status
        self.vendor_message = vendor_message
        where = " ".join(p for p in (vendor, f"({table})" if table else None) if p)
        full = f"{where}: {message}" if where else message
        if status is not None:
            full += f" [HTTP {status}]"
        if vendor_message:
            full += f": {vendor_message}"
        super().__init__(full, hint=hint)


class ConfigError(ConnectorError, ProgrammingError):
    """The configuration file or a connection's settings are wrong."""

    exit_code = 2


class AuthenticationError(ConnectorError):
    """The vendor refused our credentials or token."""


class VendorHTTPError(ConnectorError):
    """The vendor answered with an HTTP error we cannot recover from."""


class VendorResponseError(VendorHTTPError):
    """The vendor answered, but what it sent is malformed or outside crmql's limits.

    A body that is not JSON, JSON with ``NaN``/``Infinity`` or nested too deep, a body past
    ``max_response_mb``, an envelope without its list, a total that is not a count, a next link to
    a foreign origin... Exit code 3. ``what`` says what was wrong; ``request`` is the request that
    got the answer: a string (``"GET https://h/x"``) or anything with ``method`` and ``url`` (an
    ``httpx.Request``). It is shown with secret-looking query values masked and registered secrets
    redacted, as is ``what``.

    >>> print(VendorResponseError("the body is not JSON (starts with '<html>')", vendor="azavista",
    ...       table="azavista.events", request="GET http://127.0.0.1:1/x?token=abc&page=2", status=200))
    azavista (azavista.events): malformed response to GET http://127.0.0.1:1/x?token=***&page=2: the body is not JSON (starts with '<html>') [HTTP 200]
    """

    def __init__(
        self,
        what: str,
        *,
        vendor: str | None = None,
        table: str | None = None,
        request: Any = None,
        status: int | None = None,
        hint: str | None = None,
    ) -> None:
        self.what = redact(what)
        self.request = _shown_request(request)
        message = f"malformed response to {self.request}: {self.what}" if self.request else f"malformed response: {self.what}"
        super().__init__(message, vendor=vendor, table=table, status=status, hint=redact(hint) if hint else None)


def _shown_request(request: Any) -> str | None:
    """``METHOD url`` for an error message, secrets masked (see :class:`VendorResponseError`).

    >>> _shown_request("GET https://u:pw@h.test/x?token=abc&page=2")
    'GET https://h.test/x?token=***&page=2'
    """
    if request is None:
        return None
    method, url = getattr(request, "method", None), getattr(request, "url", None)
    if url is not None:  # an httpx.Request (or alike): its URL as text
        return safe_url(f"{method} {url}" if method else str(url))
    return safe_url(str(request))


class RateLimitedError(VendorHTTPError):
    """The vendor kept answering 429 after every retry."""


class NetworkError(ConnectorError):
    """Timeouts, refused or dropped connections, after every retry."""


class RequestBudgetError(ConnectorError):
    """A statement needed more requests than the connection's ``max_requests`` allows (exit 3)."""


def did_you_mean(name: str, candidates: Iterable[str], *, n: int = 3) -> str | None:
    """Return a ``"did you mean x?"`` hint for the closest candidates, or ``None``.

    >>> did_you_mean("evnts", ["events", "contacts"])
    'did you mean events?'
    """
    pool = list(candidates)
    lowered = {c.lower(): c for c in pool}
    matches = difflib.get_close_matches(name.lower(), list(lowered), n=n, cutoff=0.6)
    if not matches:
        matches = [c.lower() for c in pool if name.lower() in c.lower() or c.lower() in name.lower()][:n]
    if not matches:
        return None
    names = [lowered[m] for m in matches]
    return "did you mean " + " or ".join(names) + "?"
