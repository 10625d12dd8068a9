"""The rules every vendor answer is held to: which ids may become a URL path segment
(:func:`addressable`), which next links may be followed with the token (:func:`same_origin`),
which totals are counts (:func:`valid_total`), which list items are records
(:func:`check_records`); and how vendor values are shown in messages (:func:`shown`, :func:`cut`).
The HTTP side every connector shares (client, auth, reads by id, budgets) is
:class:`~crmql.connectors.rest.base.HttpConnectorMixin`.

>>> valid_total(364), addressable("..")
(364, False)
"""

from __future__ import annotations

import asyncio
import logging
import math
from collections.abc import Awaitable, Iterable
from decimal import Decimal
from typing import Any
from urllib.parse import quote

from ...errors import VendorResponseError
from ...http.origin import same_origin

__all__ = ["DEFAULT_MAX_PAGES", "MAX_TOTAL", "addressable", "addressable_ids", "integral", "path_id",
           "check_records", "cut", "gather_all", "request_options", "same_origin", "shown", "valid_total"]

log = logging.getLogger(__name__)

DEFAULT_CONCURRENCY = 8
#: pages one scan may read (``max_pages`` on the connection): 500,000 rows at 50 per page
DEFAULT_MAX_PAGES = 10_000
#: the largest total taken as a count: 2**53 (exact as a JSON number everywhere); a larger one is
#: no count, so the rows are counted instead (no OverflowError, no absurd EXPLAIN estimate)
MAX_TOTAL = 2**53
#: characters of a vendor value an error message or a log line shows (a URL: URL_CHARS)
SHOWN_CHARS = 80
URL_CHARS = 200


def cut(text: str, limit: int = URL_CHARS) -> str:
    """``text`` cut to about ``limit`` characters, saying how long it was (for a URL or path
    built from vendor values, shown in an error).

    >>> cut("/a/b"), cut("/" + "x" * 300, 12)
    ('/a/b', '/xxxxxxxxxx… (301 characters)')
    """
    return text if len(text) <= limit else f"{text[:limit - 1]}… ({len(text)} characters)"


def shown(value: object, limit: int = SHOWN_CHARS) -> str:
    """A vendor value as an error message or log line shows it: its ``repr``, cut to about
    ``limit`` characters (a vendor may send megabytes where a number belongs).

    >>> shown(7), shown("x" * 100, 10)
    ('7', "'xxxxxxxx… (102 characters)")
    """
    try:
        text = repr(value)
    except RecursionError:  # a value nested deeper than repr goes
        return f"a deeply nested {type(value).__name__}"
    return cut(text, limit)


async def gather_all(*aws: Awaitable[Any]) -> list[Any]:
    """Like :func:`asyncio.gather`, but the first failure cancels the others (and waits for them)
    before it is raised, so no sibling keeps sending authenticated requests after the statement
    failed. The exception raised is the first one itself (no ``ExceptionGroup``).

    >>> async def ok(n):
    ...     return n
    >>> asyncio.run(gather_all(ok(1), ok(2)))
    [1, 2]
    """
    tasks = [asyncio.ensure_future(a) for a in aws]
    try:
        return list(await asyncio.gather(*tasks))
    except BaseException:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        raise


def addressable(value: object) -> bool:
    """Whether an id can be one URL path segment of a read by id, for every vendor.

    Clients and servers remove ``.`` and ``..`` segments, and servers decode ``%2F`` (some also
    ``%5C``) before routing, so such an id would reach another path with the token. An id that
    cannot be a segment names no record a read by id could return: it matches no row.

    >>> [addressable(v) for v in ("5f1e", "", ".", "..", "a/b", "a" + chr(92) + "b", "..a", "a b")]
    [True, False, False, False, False, False, True, True]
    """
    text = str(value)
    return text not in ("", ".", "..") and "/" not in text and "\\" not in text


def addressable_ids(values: Iterable[object]) -> list[str]:
    """The distinct ids (as text, in order) that can be read by id; the others match no row.

    >>> addressable_ids(["a", "..", "b", "a", "x/y"])
    ['a', 'b']
    """
    return [v for v in dict.fromkeys(str(v) for v in values) if addressable(v)]


def integral(values: Iterable[object], *, texts: bool = False) -> list[object]:
    """Values compared with an INTEGER key or id: a whole float or decimal as its integer (12.0 is
    12); a fractional one (or NaN, infinity) dropped: it equals no integer, so it names nothing.
    ``texts``: the values were rendered as text (an id's ``"1042.0"``): text that reads as a number
    is that number's digits, or dropped when fractional; other text (a rendering of the vendor's
    own) is kept as it is.

    >>> from decimal import Decimal
    >>> integral([12.0, 15.5, Decimal("7"), 3, "x"]), integral(["1042.0", "7", "1.5", "T-9"], texts=True)
    ([12, 7, 3, 'x'], ['1042', '7', 'T-9'])
    """
    out: list[object] = []
    for v in values:
        if texts and isinstance(v, str):
            try:
                number = Decimal(v.strip())
            except ArithmeticError:
                out.append(v)
                continue
            if number.is_finite() and number == int(number):
                out.append(str(int(number)))
            continue
        if isinstance(v, (float, Decimal)):
            if not v.is_finite() if isinstance(v, Decimal) else not math.isfinite(v):
                continue
            if v != int(v):
                continue
            v = int(v)
        out.append(v)
    return out


def path_id(value: object) -> str:
    """An id as one URL path segment: percent-encoded, so ``a?b`` or ``a#b`` stay a (missing) id.
    Check :func:`addressable` first: ``.`` and ``..`` survive encoding.

    >>> path_id("a?x=2#y")
    'a%3Fx%3D2%23y'
    """
    return quote(str(value), safe="")


def request_options(request: Any) -> dict[str, Any]:
    """The httpx keywords of a planned request (only those it has).

    >>> from crmql.plan.connector import NativeRequest
    >>> request_options(NativeRequest("GET", "/t", params=[("a", "1")]))
    {'params': [('a', '1')]}
    """
    options: dict[str, Any] = {}
    if request.params:
        options["params"] = request.params
    if request.body is not None:
        options["json"] = request.body
    if request.headers:
        options["headers"] = dict(request.headers)
    return options


def valid_total(value: object) -> int | None:
    """A vendor's total when it is a count (a non-negative integer up to :data:`MAX_TOTAL`: an
    integral float such as ``1e3`` included, ``true`` not), else ``None``: unknown, so the rows are
    counted instead.

    >>> [valid_total(v) for v in (364, 0, 1e3, True, -5, "1234", 2.5, float("inf"), float("nan"), None)]
    [364, 0, 1000, None, None, None, None, None, None, None]
    >>> [valid_total(v) for v in (2**53, 2**53 + 1, 2**63, 10**30, 1e300)]
    [9007199254740992, None, None, None, None]
    """
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value if 0 <= value <= MAX_TOTAL else None
    if isinstance(value, float) and math.isfinite(value) and value.is_integer() and 0 <= value <= MAX_TOTAL:
        return int(value)
    return None


def _kind(value: object) -> str:
    """How a JSON value is named in an error message.

    >>> _kind(None), _kind("x"), _kind([1]), _kind(True)
    ('null', 'a string', 'a list', 'a boolean')
    """
    if value is None:
        return "null"
    names = {bool: "a boolean", str: "a string", list: "a list", dict: "an object", int: "a number", float: "a number"}
    return names.get(type(value), f"a {type(value).__name__}")


def check_records(items: list[Any], *, vendor: str, table: str, request: str) -> list[dict[str, Any]]:
    """``items`` when every one is a JSON object (a record), else a :class:`VendorResponseError`
    saying which is not.

    >>> check_records([{"id": "a"}], vendor="Demo", table="demo.t", request="GET /t")
    [{'id': 'a'}]
    >>> check_records([{"id": "a"}, "b"], vendor="Demo", table="demo.t", request="GET /t")
    Traceback (most recent call last):
    ...
    crmql.errors.VendorResponseError: Demo (demo.t): malformed response to GET /t: item 2 of the page is a string, not a record
    """
    for i, item in enumerate(items):
        if not isinstance(item, dict):
            raise VendorResponseError(f"item {i + 1} of the page is {_kind(item)}, not a record",
                                      vendor=vendor, table=table, request=request)
    return items

