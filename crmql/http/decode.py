"""Decode a vendor's JSON body strictly: exact integers, no ``NaN``/``Infinity``, bounded depth.

Whatever the body is, :func:`decode_json` returns the value or raises
:class:`~crmql.errors.VendorResponseError` naming the vendor, the table, the request (redacted)
and what was wrong; no ``ValueError``, ``RecursionError`` or ``UnicodeDecodeError`` escapes.

>>> import httpx
>>> decode_json(httpx.Response(200, content=b'{"n": 12345678901234567890123}'), vendor="demo")
{'n': 12345678901234567890123}
>>> try:
...     decode_json(httpx.Response(200, content=b'{"total": NaN}'), vendor="demo", table="demo.events")
... except VendorResponseError as e:
...     print(e.what)
the body holds NaN, which is not JSON
"""

from __future__ import annotations

import json
from typing import Any

import httpx
import orjson

from crmql.errors import VendorResponseError
from crmql.redaction import redact

__all__ = ["MAX_DEPTH", "decode_json", "response_request"]

#: how deep a vendor's JSON may nest (orjson's own limit; the standard library path checks it too)
MAX_DEPTH = 1024
#: a run of 19+ digits may be an integer beyond 64 bits, which orjson reads as a float: such a
#: body goes to the standard library's exact decoder (digits inside strings only cost speed).
#: Found by mapping digits to "0" and everything else to "x" and searching for 19 zeros: a regex
#: search took 1 ms on a 77 kB page, this 0.07 ms.
_DIGITS_ONLY = bytes(48 if 48 <= i <= 57 else 120 for i in range(256))
_LONG_RUN = b"0" * 19
_OPENERS = bytes(i for i in range(256) if chr(i) not in "[{")


def _has_long_digit_run(content: bytes) -> bool:
    return content.translate(_DIGITS_ONLY).find(_LONG_RUN) >= 0


class _NotJson(Exception):
    """What was wrong with the body, for the error message."""


def _constant(name: str) -> Any:
    raise _NotJson(f"the body holds {name}, which is not JSON")


def response_request(response: httpx.Response) -> httpx.Request | None:
    """The request that got ``response`` (``None`` for a response built by hand)."""
    try:
        return response.request
    except RuntimeError:
        return None


def _depth_ok(content: bytes) -> bool:
    """A quick bound: fewer than MAX_DEPTH brackets in all cannot nest deeper than MAX_DEPTH."""
    return len(content) - len(content.translate(None, _OPENERS)) <= MAX_DEPTH


def _max_depth(value: Any) -> int:
    """Nesting depth of a decoded value, iteratively (a deep value must not exhaust the stack)."""
    deepest, stack = 0, [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict):
            item = list(item.values())
        if isinstance(item, list):
            deepest = max(deepest, depth)
            if depth > MAX_DEPTH:
                return depth
            stack.extend((v, depth + 1) for v in item if isinstance(v, (dict, list)))
    return deepest


def _loads(response: httpx.Response, content: bytes) -> Any:
    if not _has_long_digit_run(content):  # orjson would read integers beyond 64 bits as floats
        try:
            return orjson.loads(content)
        except orjson.JSONDecodeError as exc:
            if "recursion" in str(exc).lower():
                raise _NotJson(f"the JSON body nests deeper than {MAX_DEPTH} levels") from None
            # the standard library also reads non-UTF-8 charsets; it says what is wrong otherwise
    try:
        # a declared charset is honoured; otherwise the standard library detects UTF-8/16/32 and a BOM
        text = response.text if response.charset_encoding else content
        value = json.loads(text, parse_constant=_constant)
    except RecursionError:
        raise _NotJson(f"the JSON body nests deeper than {MAX_DEPTH} levels") from None
    except (ValueError, LookupError) as exc:  # JSONDecodeError, UnicodeDecodeError, unknown charset
        excerpt = redact(" ".join(content[:120].decode("utf-8", "replace").split()))[:80]
        kind = response.headers.get("Content-Type", "").split(";")[0].strip()
        said = f" ({kind})" if kind and "json" not in kind else ""
        detail = f": {exc}" if isinstance(exc, json.JSONDecodeError) else ""
        shown = f", starting {excerpt!r}" if excerpt else ""
        raise _NotJson(f"the body is not JSON{said}{shown}{detail}") from None
    if not _depth_ok(content) and _max_depth(value) > MAX_DEPTH:
        raise _NotJson(f"the JSON body nests deeper than {MAX_DEPTH} levels")
    return value


def decode_json(response: httpx.Response, *, vendor: str, table: str | None = None) -> Any:
    """The JSON body of a read response (``None`` for an empty body); see the module doc.

    >>> import httpx
    >>> try:
    ...     decode_json(httpx.Response(200, text="<html>down</html>"), vendor="demo")
    ... except VendorResponseError as e:
    ...     print(e)
    demo: malformed response: the body is not JSON (text/plain), starting '<html>down</html>': Expecting value: line 1 column 1 (char 0) [HTTP 200]
    """
    content = response.content
    if not content or content.isspace():  # (no stripped copy of a large body)
        return None
    try:
        return _loads(response, content)
    except _NotJson as exc:
        raise VendorResponseError(str(exc), vendor=vendor, table=table, request=response_request(response),
                                  status=response.status_code) from None
