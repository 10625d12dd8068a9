"""The field names of the classes a vendor publishes as a JavaScript module, read without running it.

Voyzu documents every call's input and output as JavaScript classes served by the API itself
(``GET /api/contacts/class`` answers a ``text/javascript`` module), not as a schema: the only
machine-readable statement of what a search takes is that text. crmql reads it as data, never as
code: a small tokenizer drops comments and string, template and (heuristically) regex literals,
and a scanner collects, per class, in the order they appear:

* ES2022 class fields at the body's top level (``Name = value;``, ``Name;``), except ``static``
  and ``#private`` ones;
* ``this.Name = ...`` anywhere in the class's non-static members (constructor, methods, field
  initializers), except inside a nested class, which is read as a class of its own.

Methods, getters, setters and static blocks are no fields. ``class X {``, ``export class X extends
Y {`` and ``export default class X {`` are all read (an anonymous ``export default class`` is
named ``default``; another anonymous class expression is skipped). Everything is bounded: at most
:data:`MAX_TEXT_BYTES` of text, :data:`MAX_CLASSES` classes and :data:`MAX_FIELDS` fields a class,
beyond which :func:`parse_classes` raises ValueError; nothing recurses, so no nesting depth breaks it.

>>> parse_classes('''
... export class ContactsSearchInput {
...   constructor() { this.SearchText = ""; this.Start = 0; this.Length = 10; }
... }
... export class ContactsDatatable { Data = []; RecordsTotal = 0; RecordsFiltered; static version = "1"; }
... ''')
{'ContactsSearchInput': ('SearchText', 'Start', 'Length'), 'ContactsDatatable': ('Data', 'RecordsTotal', 'RecordsFiltered')}
"""

from __future__ import annotations

import logging
import re
from typing import TYPE_CHECKING, NamedTuple

from ...errors import VendorResponseError
from ...redaction import redact

if TYPE_CHECKING:
    from ...http.client import HttpClient

__all__ = ["MAX_CLASSES", "MAX_FIELDS", "MAX_TEXT_BYTES", "fetch_classes", "parse_classes"]

log = logging.getLogger(__name__)

MAX_TEXT_BYTES = 512 * 1024
MAX_CLASSES = 200
MAX_FIELDS = 500
#: tokens read at most (a real module of 512 KiB has fewer; this bounds the time a hostile one takes)
MAX_TOKENS = 200_000

_IDENT = re.compile(r"[A-Za-z_$#][\w$]*")
_NUMBER = re.compile(r"\d[\w.]*|\.\d[\w]*")
_OPERATOR = re.compile(r"===|!==|==|!=|=>|<=|>=|\*\*=|\?\?=|&&=|\|\|=|[-+*/%&|^]=|\+\+|--|\?\.|\.\.\.|.", re.S)
#: after these a ``/`` starts a regex literal, not a division
_REGEX_AFTER = frozenset("(,=:[!&|?{};+-*%<>~^") | {"return", "typeof", "case", "do", "else", "in", "of", "=>"}
_MODIFIERS = frozenset({"static", "async", "get", "set", "accessor"})
_ENDS_VALUE = ("ident", "string", "number")


class _Tok(NamedTuple):
    kind: str  # ident, string, number, op
    value: str
    newline: bool  # a line break comes before it


def _skip_string(text: str, i: int, quote: str) -> int:
    """The index after the string literal opening at ``i`` (unterminated: where its line ends)."""
    n = len(text)
    i += 1
    while i < n and text[i] != quote and text[i] != "\n":
        i += 2 if text[i] == "\\" else 1
    return i + 1 if i < n and text[i] == quote else min(i, n)


def _skip_regex(text: str, i: int) -> int:
    """The index after the regex literal opening at ``i`` (its flags included)."""
    n, in_class = len(text), False
    i += 1
    while i < n and text[i] != "\n":
        ch = text[i]
        if ch == "\\":
            i += 2
            continue
        if ch == "[":
            in_class = True
        elif ch == "]":
            in_class = False
        elif ch == "/" and not in_class:
            i += 1
            break
        i += 1
    while i < n and (text[i].isalnum() or text[i] == "_"):
        i += 1
    return i


def _tokens(text: str) -> list[_Tok]:
    """The module's tokens, comments and literals dropped (a literal is one ``string`` token).

    A template literal's ``${...}`` expressions are code inside a string: they are skipped with
    the string, their braces counted on an explicit stack (no recursion).

    >>> [t.value for t in _tokens("a = `x ${ {b: '}'} } y` // c\\n/* d */ this.e")]
    ['a', '=', '`', 'this', '.', 'e']
    """
    out: list[_Tok] = []
    n, i, newline = len(text), 0, False
    braces: list[int] = []  # per open ``${``: the braces opened inside it
    in_template = False
    while i < n:
        ch = text[i]
        if in_template:
            if ch == "\\":
                i += 2
            elif ch == "`":
                in_template, i = False, i + 1
                if not braces:
                    out.append(_Tok("string", "`", newline))
                    newline = False
            elif text.startswith("${", i):
                braces.append(0)
                in_template, i = False, i + 2
            else:
                i += 1
            continue
        if ch in " \t\r\n\f\v\ufeff\u00a0\u2028\u2029":
            newline = newline or ch in "\n\r\u2028\u2029"
            i += 1
        elif text.startswith("//", i):
            end = text.find("\n", i)
            i = n if end < 0 else end
        elif text.startswith("/*", i):
            end = text.find("*/", i + 2)
            newline = newline or "\n" in text[i:end if end >= 0 else n]
            i = n if end < 0 else end + 2
        elif ch in "'\"":
            end = _skip_string(text, i, ch)
            if not braces:
                out.append(_Tok("string", text[i + 1:end - 1 if text[end - 1] == ch and end - 1 > i else end], newline))
                newline = False
            i = end
        elif ch == "`":
            in_template, i = True, i + 1
        elif ch == "/" and (not out or out[-1].kind in ("op", "ident") and out[-1].value in _REGEX_AFTER) and not braces:
            i = _skip_regex(text, i)
            out.append(_Tok("string", "/", newline))
            newline = False
        elif braces and ch in "{}":
            if ch == "{":
                braces[-1] += 1
            elif braces[-1] == 0:
                braces.pop()
                in_template = True
            else:
                braces[-1] -= 1
            i += 1
        else:
            match = _IDENT.match(text, i) or _NUMBER.match(text, i)
            kind = "op" if match is None else ("number" if ch.isdigit() or ch == "." else "ident")
            match = match or _OPERATOR.match(text, i)
            assert match is not None  # ("." matches any one character)
            if not braces:
                out.append(_Tok(kind, match.group(), newline))
                newline = False
                if len(out) > MAX_TOKENS:
                    raise ValueError(f"the module has more than {MAX_TOKENS} tokens")
            i = match.end()
    return out


def _matches(toks: list[_Tok]) -> dict[int, int]:
    """Each opening bracket's index -> its closing one's (an unclosed one: the end)."""
    pairs = {"(": ")", "[": "]", "{": "}"}
    stack: list[int] = []
    match: dict[int, int] = {}
    for index, tok in enumerate(toks):
        if tok.kind != "op":
            continue
        if tok.value in pairs:
            stack.append(index)
        elif tok.value in (")", "]", "}"):
            while stack and pairs[toks[stack[-1]].value] != tok.value:  # a stray closer: its opener runs on
                match[stack.pop()] = len(toks)
            if stack:
                match[stack.pop()] = index
    for index in stack:
        match[index] = len(toks)
    return match


class _Class(NamedTuple):
    name: str | None
    keyword: int  # the index of ``class``
    open: int  # of its body's ``{``
    close: int  # of its body's ``}``


def _classes(toks: list[_Tok], match: dict[int, int]) -> list[_Class]:
    """Every class declaration or expression, in order (nested ones too)."""
    found = []
    for index, tok in enumerate(toks):
        if tok.value != "class" or tok.kind != "ident" or (index and toks[index - 1].value in (".", "?.")):
            continue
        name = None
        j = index + 1
        if j < len(toks) and toks[j].kind == "ident" and toks[j].value != "extends":
            name, j = toks[j].value, j + 1
        elif index >= 2 and toks[index - 1].value == "default" and toks[index - 2].value == "export":
            name = "default"
        if j < len(toks) and toks[j].value == "extends":
            while j < len(toks) and toks[j].value != "{":  # an expression, maybe a call
                j = match.get(j, j) + 1 if toks[j].value in ("(", "[") and toks[j].kind == "op" else j + 1
        if j < len(toks) and toks[j].value == "{" and toks[j].kind == "op":  # (not ``{class: 1}``)
            found.append(_Class(name, index, j, match.get(j, len(toks))))
    return found


def _member_end(toks: list[_Tok], match: dict[int, int], j: int, end: int) -> int:
    """The end of a field's initializer starting at ``j``: ``;``, the body's end, or a new line
    that starts a member after a complete value (automatic semicolon insertion)."""
    while j < end:
        tok = toks[j]
        if tok.value == ";" and tok.kind == "op":
            return j + 1
        if (tok.newline and tok.kind in ("ident", "string") and toks[j - 1].kind in _ENDS_VALUE
                or tok.newline and tok.kind == "ident" and toks[j - 1].value in (")", "]", "}")):
            return j
        j = match.get(j, j) + 1 if tok.kind == "op" and tok.value in "([{" else j + 1
    return end


def _fields(toks: list[_Tok], match: dict[int, int], cls: _Class, inner: dict[int, int]) -> list[str]:
    """The fields of one class: top-level field declarations and ``this.X =`` in non-static members."""
    seen: list[tuple[int, str]] = []
    j, end = cls.open + 1, cls.close
    while j < end:
        start, static = j, False
        while (toks[j].value in _MODIFIERS and toks[j].kind == "ident" and j + 1 < end
               and toks[j + 1].value not in ("(", "=", ";", "}") and not toks[j + 1].newline):
            static = static or toks[j].value == "static"
            j += 1
        if toks[j].value == "{":  # a static block
            j = match.get(j, end) + 1
            continue
        if toks[j].value == "*":
            j += 1
        key = toks[j] if j < end else _Tok("op", ";", False)
        j = match.get(j, j) + 1 if key.value == "[" and key.kind == "op" else j + 1
        if key.kind == "op" and key.value != "[":
            continue  # a stray ``;`` (or what no member starts with)
        nxt = toks[j] if j < end else _Tok("op", "}", False)
        if nxt.value == "(" and nxt.kind == "op":  # a method: (params) {body}
            j = match.get(j, end) + 1
            if j < end and toks[j].value == "{":
                j = match.get(j, end) + 1
        elif nxt.value == "=" and nxt.kind == "op":
            j = _member_end(toks, match, j + 1, end)
        elif nxt.value == ";":
            j += 1
        method = nxt.kind == "op" and nxt.value == "("
        declared = nxt.newline or (nxt.kind == "op" and nxt.value in ("=", ";", "}"))
        if key.kind in ("ident", "string") and not key.value.startswith("#") and not static and declared and not method:
            seen.append((start, key.value))
        if not static:
            seen.extend(_this_fields(toks, start, j, inner))
    names: dict[str, None] = {}
    for _, name in sorted(seen):
        names.setdefault(name, None)
    if len(names) > MAX_FIELDS:
        raise ValueError(f"class {cls.name} has more than {MAX_FIELDS} fields")
    return list(names)


def _this_fields(toks: list[_Tok], start: int, end: int, inner: dict[int, int]) -> list[tuple[int, str]]:
    """``this.X =`` assignments in ``toks[start:end]``, skipping nested classes' bodies."""
    out, k = [], start
    while k < end:
        if k in inner:
            k = inner[k] + 1
            continue
        if (toks[k].value == "this" and k + 3 < len(toks) and toks[k + 1].value == "."
                and toks[k + 2].kind == "ident" and not toks[k + 2].value.startswith("#") and toks[k + 3].value == "="
                and toks[k + 3].kind == "op"):
            out.append((k, toks[k + 2].value))
        k += 1
    return out


def parse_classes(text: str) -> dict[str, tuple[str, ...]]:
    """Class name -> its field names in order, for a JavaScript module's text (see the module docstring).

    >>> parse_classes("export default class Auth extends Base { Email; Password; #secret; login() { return 1; } }")
    {'Auth': ('Email', 'Password')}
    >>> parse_classes("x" * (MAX_TEXT_BYTES + 1))
    Traceback (most recent call last):
    ...
    ValueError: the module is larger than 512 KiB
    """
    if len(text) > MAX_TEXT_BYTES or len(text.encode("utf-8", "surrogatepass")) > MAX_TEXT_BYTES:
        raise ValueError(f"the module is larger than {MAX_TEXT_BYTES // 1024} KiB")
    toks = _tokens(text)
    match = _matches(toks)
    classes = _classes(toks, match)
    if len(classes) > MAX_CLASSES:
        raise ValueError(f"the module declares more than {MAX_CLASSES} classes")
    inner = {c.keyword: c.close for c in classes}
    out: dict[str, tuple[str, ...]] = {}
    for cls in classes:
        if cls.name is not None and cls.name not in out:
            out[cls.name] = tuple(_fields(toks, match, cls, {k: v for k, v in inner.items() if k != cls.keyword}))
    return out


_TEXT_TYPES = ("text/", "application/javascript", "application/x-javascript", "application/ecmascript",
               "application/json")


async def fetch_classes(client: HttpClient, path: str, *, table: str | None = None) -> dict[str, tuple[str, ...]]:
    """GET a class module (no credentials: Voyzu's ``/class`` endpoints are public) and parse it.

    A non-2xx answer is the client's :class:`~crmql.errors.VendorHTTPError`; an answer that is not
    text (by its ``Content-Type``, or a NUL byte), or that :func:`parse_classes` refuses, a
    :class:`~crmql.errors.VendorResponseError`: both are :class:`~crmql.errors.ConnectorError`\\ s a
    caller that only checks with the class can catch.

    >>> import httpx
    >>> from crmql.http import HttpClient, run_sync
    >>> t = httpx.MockTransport(lambda r: httpx.Response(200, text="class A { B = 1 }",
    ...                                                  headers={"Content-Type": "text/javascript"}))
    >>> run_sync(fetch_classes(HttpClient(vendor="Voyzu", base_url="http://v.test", transport=t), "/api/auth/class"))
    {'A': ('B',)}
    """
    response = await client.request("GET", path, table=table, authenticated=False, idempotent=True)
    kind = response.headers.get("Content-Type", "").split(";")[0].strip().lower()
    request = f"GET {path}"
    if kind and not kind.startswith(_TEXT_TYPES):
        raise VendorResponseError(f"the class module is {redact(kind[:60])}, not text", vendor=client.vendor,
                                  table=table, request=request)
    text = response.text
    if "\x00" in text:
        raise VendorResponseError("the class module is not text", vendor=client.vendor, table=table, request=request)
    try:
        classes = parse_classes(text)
    except ValueError as e:
        raise VendorResponseError(f"the class module cannot be read: {e}", vendor=client.vendor, table=table,
                                  request=request) from None
    log.debug("%s: %s declares %s", client.vendor, path, ", ".join(classes) or "no class")
    return classes
