"""Read a streamed response body with a cap on its DECODED size, inflating in bounded steps.

httpx inflates each raw chunk in one call, so 64 KB of gzip can become 64 MB before anyone can
look at it. :func:`read_capped` reads the raw bytes and inflates ``gzip``/``deflate`` (also
stacked, ``Content-Encoding: gzip, gzip``) itself, at most :data:`STEP` bytes at a time, and stops
as soon as the decoded body passes the limit: a 1 MB gzip that inflates to 1 GB costs about the
cap in memory, not the gigabyte.

>>> import gzip, httpx
>>> from crmql.http.loop import run_sync
>>> r = httpx.Response(200, headers={"Content-Encoding": "gzip"}, stream=httpx.ByteStream(gzip.compress(b"[1]")))
>>> run_sync(read_capped(r, 100))
b'[1]'
"""

from __future__ import annotations

import zlib
from collections.abc import Iterator

import httpx

__all__ = ["BodyTooLarge", "UndecodableBody", "read_capped"]

#: the most one inflate step produces
STEP = 256 * 1024


class BodyTooLarge(Exception):
    """The decoded body passed the limit (``limit`` bytes)."""

    def __init__(self, limit: int) -> None:
        super().__init__(f"body larger than {limit} bytes")
        self.limit = limit


class UndecodableBody(Exception):
    """The body does not decode as its ``Content-Encoding`` says (or that encoding is unknown)."""


class _Inflater:
    """One ``gzip`` or ``deflate`` layer, producing at most :data:`STEP` bytes per step."""

    def __init__(self, encoding: str) -> None:
        self.encoding = encoding
        self.deflate = encoding == "deflate"
        self.started = False
        self.z = zlib.decompressobj(zlib.MAX_WBITS | 16 if not self.deflate else zlib.MAX_WBITS)

    def feed(self, data: bytes) -> Iterator[bytes]:
        if self.deflate and not self.started and data:
            self.started = True
            try:  # zlib-wrapped deflate, or (as some servers send) raw deflate: as httpx does
                zlib.decompressobj().decompress(data[:2])
            except zlib.error:
                self.z = zlib.decompressobj(-zlib.MAX_WBITS)
        try:
            while data and not self.z.eof:
                out = self.z.decompress(data, STEP)
                data = self.z.unconsumed_tail
                if out:
                    yield out
        except zlib.error as exc:
            raise UndecodableBody(f"the body is not valid {self.encoding} data ({exc})") from None

    def flush(self) -> bytes:
        try:
            return self.z.flush() if not self.z.eof else b""
        except zlib.error as exc:  # pragma: no cover - flush after a clean stream does not fail
            raise UndecodableBody(f"the body is not valid {self.encoding} data ({exc})") from None


def _layers(response: httpx.Response) -> list[_Inflater]:
    encodings = [e.strip().lower() for e in response.headers.get("Content-Encoding", "").split(",")]
    layers = []
    for encoding in reversed([e for e in encodings if e and e != "identity"]):  # the last one applied first
        if encoding in ("gzip", "x-gzip"):
            layers.append(_Inflater("gzip"))
        elif encoding == "deflate":
            layers.append(_Inflater("deflate"))
        else:
            raise UndecodableBody(f"the body uses Content-Encoding {encoding!r}, which crmql does not read")
        if len(layers) > 4:
            raise UndecodableBody("the body is encoded more than 4 times over")
    return layers


def _through(layers: list[_Inflater], data: bytes) -> Iterator[bytes]:
    if not layers:
        if data:
            yield data
        return
    first, rest = layers[0], layers[1:]
    for piece in first.feed(data):
        yield from _through(rest, piece)


async def read_capped(response: httpx.Response, limit: int) -> bytes:
    """Read the whole body of a streamed ``response``, decoded, and store it as its content.

    Raises :class:`BodyTooLarge` as soon as the decoded body passes ``limit`` bytes (the
    response is closed), :class:`UndecodableBody` when the encoding is broken or unknown.

    >>> import httpx
    >>> from crmql.http.loop import run_sync
    >>> try:
    ...     run_sync(read_capped(httpx.Response(200, stream=httpx.ByteStream(b"x" * 11)), 10))
    ... except BodyTooLarge as e:
    ...     print(e)
    body larger than 10 bytes
    """
    if hasattr(response, "_content"):  # already read (a MockTransport's response): just check it
        if len(response.content) > limit:
            raise BodyTooLarge(limit)
        return response.content
    try:
        layers = _layers(response)
        declared = response.headers.get("Content-Length", "")
        if not layers and declared.isdigit() and int(declared) > limit:  # too large before a byte is read
            raise BodyTooLarge(limit)
        buffer = bytearray()
        async for raw in response.aiter_raw():
            for piece in _through(layers, raw):
                buffer += piece
                if len(buffer) > limit:
                    raise BodyTooLarge(limit)
        for i, layer in enumerate(layers):  # whatever a layer still holds goes through the next ones
            for piece in _through(layers[i + 1:], layer.flush()):
                buffer += piece
                if len(buffer) > limit:
                    raise BodyTooLarge(limit)
    finally:
        await response.aclose()
    content = bytes(buffer)
    del buffer
    # httpx keeps a read body in ``_content`` (Response.aread does the same); ``response.content``,
    # ``.text`` and ``.json()`` then work as on any read response
    response._content = content
    return content
