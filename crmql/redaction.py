"""Keep secrets out of text: the registry of secrets and :func:`redact`, at the bottom of crmql.

Credentials and tokens are registered here as soon as crmql learns them (auth objects do it on
construction and for every token they obtain). :func:`redact` replaces every registered secret
with ``***`` and additionally scrubs well-known secret-bearing patterns whether or not their
values were registered: bearer tokens, ``"access_token": "..."`` style JSON fields,
``client_secret=...`` style form fields, cookies and parameters of a session-like name
(``voyzu-session-id=...``, ``JSESSIONID=...``, ``sid=...``) and ``X-Auth-Token: ...`` style headers. :func:`safe_url`
shows a URL given as text without its credentials or secret-looking query values;
:class:`RedactingFilter` applies :func:`redact` to log records.

This module imports nothing of crmql, so :mod:`crmql.errors` (the bottom layer) can use it;
:mod:`crmql.http.redact`, where it used to live, re-exports it.

>>> register_secret("s3cr3t-value")
>>> redact("login failed for s3cr3t-value")
'login failed for ***'
>>> redact('{"access_token": "abc.def", "token_type": "bearer"}')
'{"access_token": "***", "token_type": "bearer"}'
>>> redact("(b'set-cookie', b'voyzu-session-id=Hm4w2c7Z; Path=/; HttpOnly')")
"(b'set-cookie', b'voyzu-session-id=***; Path=/; HttpOnly')"
"""

from __future__ import annotations

import logging
import re
import threading
import urllib.parse

__all__ = ["MASK", "MIN_SECRET_LEN", "SENSITIVE_PARAM", "RedactingFilter", "install_log_redaction", "redact",
           "register_secret", "safe_url"]

MASK = "***"
#: values shorter than this are never registered (they would mangle ordinary text)
MIN_SECRET_LEN = 4

_lock = threading.Lock()
_secrets: set[str] = set()
#: the registered secrets, longest first (so no part of a longer one is left behind)
_ordered: tuple[str, ...] = ()

_KEYS = r"access_token|refresh_token|id_token|client_secret|password|passwd|secret|api_?key|apikey|token"

_PATTERNS: list[tuple[re.Pattern[str], str]] = [
    # Authorization: Bearer <token> (8+ token characters, at least one not a letter, so that
    # prose such as "Bearer token expired" survives)
    (
        re.compile(r"(?i)\b(bearer\s+)(?=[A-Za-z]*[0-9\-._~+/=])[A-Za-z0-9\-._~+/]{8,}=*"),
        r"\1" + MASK,
    ),
    # "access_token": "..." (JSON) and 'access_token': '...' (Python repr)
    (
        re.compile(rf"""(?i)(["'])({_KEYS})\1(\s*:\s*)(["'])(?:\\.|(?!\4).)*\4"""),
        r"\1\2\1\3\4" + MASK + r"\4",
    ),
    # client_secret=... / password=... in form bodies and query strings
    (re.compile(rf"(?i)\b((?:{_KEYS})=)(?!\*\*\*)[^&\s\"',;]+"), r"\1" + MASK),
    # X-Auth-Token: ... / token: ... / X-Api-Key: ... header-style lines (the name matched from the
    # start of its run of word characters and dashes only, at most 80 long: a linear scan)
    (
        re.compile(r"(?i)(?<![\w-])([\w-]{0,80}?(?:token|api[-_]?key|secret|password)\s*:\s*)(?![\"'\s]|\*\*\*)[^\s,;\"']+"),
        r"\1" + MASK,
    ),
]


#: ``name=value`` where the name is a whole run of word characters and dashes (matched from its
#: start only, so the scan stays linear), for :func:`_session_value`
_NAMED_VALUE = re.compile(r"(?<![\w-])([\w-]{1,80})=(?!\*\*\*)([^\s;&\"',)\]]+)")
#: a session-like name: ``voyzu-session-id``, ``JSESSIONID``, ``PHPSESSID``, ``csrf_token``, ``sid``, ``a_sid``
_SESSION_NAME = re.compile(r"(?i)session|token|sessid|(?:^|[-_.])sid(?:[-_]|$)")


def _session_value(match: re.Match[str]) -> str:
    """A cookie or parameter of a session-like name with its value masked: a login's new session
    is logged in the response's ``Set-Cookie`` (httpcore, DEBUG) before crmql has registered it."""
    return f"{match.group(1)}={MASK}" if _SESSION_NAME.search(match.group(1)) else match.group(0)


def register_secret(value: str | None) -> None:
    """Remember ``value`` so that :func:`redact` hides it from now on.

    ``None``, empty and very short values (fewer than 4 characters) are ignored. Thread-safe.

    >>> register_secret("hunter2-password")
    >>> redact("password is hunter2-password")
    'password is ***'
    """
    global _ordered
    if not value or not isinstance(value, str) or len(value) < MIN_SECRET_LEN:
        return
    variants = {value, urllib.parse.quote(value, safe=""), urllib.parse.quote_plus(value, safe="")}
    with _lock:
        if variants <= _secrets:
            return
        _secrets.update(variants)  # also as it appears in form bodies and query strings
        # a plain list, not one regex of every secret: a long-running process registers a token
        # per session, and recompiling that alternation cost 130 ms per token after 60 sessions
        _ordered = tuple(sorted(_secrets, key=len, reverse=True))


def redact(text: str) -> str:
    """Return ``text`` with registered secrets and secret-looking fields replaced by ``***``.

    >>> redact("Authorization: Bearer eyJhbGciOi.x.y")
    'Authorization: Bearer ***'
    >>> redact("grant_type=password&username=bob&password=pw123")
    'grant_type=password&username=bob&password=***'
    """
    if not text:
        return text
    if not isinstance(text, str):
        text = str(text)
    for secret in _ordered:
        if secret in text:
            text = text.replace(secret, MASK)
    for regex, replacement in _PATTERNS:
        text = regex.sub(replacement, text)
    if "=" in text:
        text = _NAMED_VALUE.sub(_session_value, text)
    return text


#: query parameters whose values never appear in a message or log
SENSITIVE_PARAM = re.compile(r"(?i)(token|key|secret|password|passwd|signature|sig|auth|code|session)")


def safe_url(text: str) -> str:
    """A URL given as text, for a message: credentials dropped, secret-looking query values
    masked, registered secrets redacted (text that is no URL is only redacted).

    >>> safe_url("https://u:pw@h.test/a?token=x&q=1")
    'https://h.test/a?token=***&q=1'
    >>> safe_url("GET http://h.test/x?api_key=abc&page=2")
    'GET http://h.test/x?api_key=***&page=2'
    """
    text = str(text)
    head, mark, query = text.partition("?")
    prefix, sep, rest = head.rpartition(" ")  # "GET http://..." keeps its method
    try:
        parts = urllib.parse.urlsplit(rest)
        if parts.username is not None or parts.password is not None:
            rest = urllib.parse.urlunsplit(parts._replace(netloc=parts.netloc.rpartition("@")[2]))
    except ValueError:  # not a URL we can take apart: redaction alone
        pass
    head = prefix + sep + rest
    if mark:
        query = query.partition("#")[0]  # a fragment is never sent
        query = "&".join(f"{k}={MASK}" if SENSITIVE_PARAM.search(k) and eq else k + eq + v
                         for k, eq, v in (p.partition("=") for p in query.split("&")))
        head += "?" + query
    return redact(head)


class RedactingFilter(logging.Filter):
    """A logging filter that redacts the fully formatted message of every record.

    The record's ``msg % args`` is formatted, redacted and stored back in ``msg`` with ``args``
    cleared; a traceback attached to the record is pre-rendered and redacted as well. Attach it
    to a handler to cover everything that handler emits, or to a logger to cover records logged
    directly on that logger (Python does not run a logger's filters for records propagated from
    its children).

    >>> import logging
    >>> log = logging.getLogger("crmql.example")
    >>> install_log_redaction(log)
    >>> log.filters[-1].__class__.__name__
    'RedactingFilter'
    """

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a broken format string: leave it for logging to report
            return True
        record.msg = redact(message)
        record.args = None
        if record.exc_info and not record.exc_text:
            record.exc_text = redact(logging.Formatter().formatException(record.exc_info))
        elif record.exc_text:
            record.exc_text = redact(record.exc_text)
        if record.stack_info:
            record.stack_info = redact(record.stack_info)
        return True


def install_log_redaction(target: logging.Logger | logging.Handler | None = None) -> None:
    """Attach a :class:`RedactingFilter` to a logger or handler (idempotent).

    Without an argument it is installed on the ``crmql`` logger. Surfaces that configure
    handlers (CLI ``--verbose``, the REPL) should pass their handler, which then redacts records
    from every crmql module.

    >>> import logging
    >>> handler = logging.StreamHandler()
    >>> install_log_redaction(handler); install_log_redaction(handler)
    >>> sum(isinstance(f, RedactingFilter) for f in handler.filters)
    1
    """
    if target is None:
        target = logging.getLogger("crmql")
    if any(isinstance(f, RedactingFilter) for f in target.filters):
        return
    target.addFilter(RedactingFilter())
