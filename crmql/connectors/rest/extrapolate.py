"""Next-link extrapolation: pages a next-link chain will ask for, requested before their links arrive.

A next-link chain is sequential: page N+1's URL is known only once page N has arrived. Many
vendors' links are a page counter (casavi: ``...&page=1``, ``...&page=2``); once two consecutive
links differ only in one integer query parameter that grows by one, the following links can be
guessed, and their pages requested concurrently. A guess is never trusted: the scan still asks
for each page by the link the page before it gave, and a page requested ahead is handed out only
under exactly that URL (the same GET). The first link off the pattern discards every page
requested ahead and the scan goes on following links one by one; pages requested beyond the last
page (whatever they answered, errors included) are discarded when the scan ends; an error on a
page the scan needs is raised when it asks for it, as if it had been requested then.

The depth ramps up: the first page requested ahead is the real next link itself (no guess, no
waste), and each page taken from the guesses doubles the depth (1, 2, 4, ... up to ``ahead``), so a
short scan wastes no request and a long one soon has ``ahead`` pages in flight; at most
``ahead - 1`` pages are requested beyond the last page, and at most ``ahead`` are held (bounded
memory). Links that are no counter (a cursor, a link equal to its page's, reordered parameters)
are followed one by one: the first :data:`TRIES` pairs of links are looked at, then the chain is
taken for what it is (a chain whose first links are no counter is a cursor chain; a counter that
shows up only later is more likely a coincidence than a page number).

>>> step("https://x/v2/contacts?limit=100&page=1", "https://x/v2/contacts?limit=100&page=2")
(1, 2)
>>> step("https://x/v2/contacts?page=1", "https://x/v2/contacts?page=3") is None
True
>>> following("https://x/v2/contacts?limit=100&page=2", 1, 5)
'https://x/v2/contacts?limit=100&page=5'
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Awaitable, Callable
from urllib.parse import urlsplit, urlunsplit

from .pages import Page

__all__ = ["TRIES", "Extrapolator", "following", "step"]

log = logging.getLogger(__name__)

_NUMBER = re.compile(r"[0-9]{1,9}")

#: pairs of consecutive links looked at for a counter before the chain is followed one by one
TRIES = 3


def step(before: str, after: str) -> tuple[int, int] | None:
    """Where two consecutive next links differ: the position of the one query parameter whose
    integer value grows by one from ``before`` to ``after`` (all else equal), and its value in
    ``after``; None when they differ otherwise."""
    a, b = urlsplit(before), urlsplit(after)
    if (a.scheme, a.netloc, a.path, a.fragment) != (b.scheme, b.netloc, b.path, b.fragment):
        return None
    qa, qb = a.query.split("&"), b.query.split("&")
    changed = [i for i, (x, y) in enumerate(zip(qa, qb)) if x != y]
    if len(qa) != len(qb) or len(changed) != 1:
        return None
    (ka, _, va), (kb, _, vb) = qa[changed[0]].partition("="), qb[changed[0]].partition("=")
    if ka != kb or not (_NUMBER.fullmatch(va) and _NUMBER.fullmatch(vb)) or int(vb) != int(va) + 1:
        return None
    if str(int(vb)) != vb:  # a zero-padded counter: the guesses would not be spelled as the vendor does
        return None
    return changed[0], int(vb)


def following(link: str, position: int, value: int) -> str:
    """``link`` with the query parameter at ``position`` set to ``value``."""
    parts = urlsplit(link)
    query = parts.query.split("&")
    key = query[position].partition("=")[0]
    query[position] = f"{key}={value}"
    return urlunsplit(parts._replace(query="&".join(query)))


class Extrapolator:
    """Hands out the pages of a next-link chain by URL (:meth:`get`), requesting up to ``ahead``
    guessed pages in advance once the links follow a counter (see the module docstring).

    ``fetch(url)`` sends one request and returns the checked :class:`Page` (its ``next`` resolved
    on the connection's origin, as the scan compares it). Call :meth:`aclose` when the scan ends
    (``grace_s=0`` when it ends by an error or a cancellation).

    >>> import asyncio
    >>> async def scan(last):  # pages page=1 .. page=<last> (page 0 came first, without a number)
    ...     async def fetch(url):
    ...         n = int(url.rpartition("=")[2])
    ...         return Page([{"n": n}], next=f"https://x/c?page={n + 1}" if n < last else None)
    ...     ex, url, depths = Extrapolator(fetch, 4), "https://x/c?page=1", []
    ...     while url:
    ...         url = (await ex.get(url)).next
    ...         depths.append(ex.depth)
    ...     await ex.aclose()
    ...     return depths, ex.hits, ex.wasted
    >>> asyncio.run(scan(2))  # a 3-page scan: its third page was the real next link, nothing wasted
    ([1, 2], 1, 0)
    >>> asyncio.run(scan(9))  # a long one: 4 pages ahead, at most 3 beyond the last
    ([1, 2, 4, 4, 4, 4, 4, 4, 4], 8, 3)
    """

    def __init__(self, fetch: Callable[[str], Awaitable[Page]], ahead: int) -> None:
        self._fetch = fetch
        self.ahead = max(1, ahead)
        self._tasks: dict[str, asyncio.Task[Page]] = {}
        self._pattern: tuple[str, int, int] | None = None  # (a link on it, position, next value to request)
        self._tries = 0
        #: pages requested ahead at once now (ramps 1, 2, 4, ... up to ``ahead``)
        self.depth = 1
        self.off = False
        #: pages taken that had been requested ahead, and the most held at once (for tests and logs)
        self.hits = self.most = 0
        #: pages requested ahead that nobody took (beyond the last page, or off the pattern)
        self.wasted = 0

    async def get(self, url: str) -> Page:
        """The page at ``url``: the one requested ahead under exactly that URL, else fetched now."""
        task = self._tasks.pop(url, None)
        if task is None and self._pattern is not None and not self.off:
            log.info("next link %s is off the guessed sequence: %d page(s) requested ahead are discarded; "
                     "following links one by one", url, len(self._tasks))
            self.off = True
            await self._discard()
        if task is not None:
            self.hits += 1
            self.depth = min(self.ahead, self.depth * 2)
        page = await (task if task is not None else self._fetch(url))
        if self.off or page.next is None:
            return page
        if self._pattern is None and self._tries < TRIES:
            self._tries += 1
            found = step(url, page.next)
            if found is not None:
                self._pattern = (page.next, found[0], found[1])
            elif self._tries == TRIES:
                log.debug("the first %d pairs of next links are no page counter: following them one by one", TRIES)
        if self._pattern is not None:
            self._top_up()
        return page

    def _top_up(self) -> None:
        """Request guessed pages until ``depth`` are held or in flight."""
        assert self._pattern is not None
        link, position, value = self._pattern
        while len(self._tasks) < self.depth:
            url = following(link, position, value)
            self._tasks[url] = asyncio.ensure_future(self._fetch(url))
            value += 1
        self.most = max(self.most, len(self._tasks))
        self._pattern = (link, position, value)

    async def _discard(self) -> None:
        """Cancel every page requested ahead (at once, before any wait: a cancellation of this
        wait leaves none running) and wait for them to end."""
        tasks, self._tasks = list(self._tasks.values()), {}
        self.wasted += len(tasks)
        for task in tasks:
            task.cancel()
        if tasks:  # whatever they answered: nobody asked for these pages
            await asyncio.gather(*tasks, return_exceptions=True)

    async def aclose(self, grace_s: float = 1.0) -> None:
        """Discard the pages requested ahead that the scan did not take (beyond its last page).
        They went out with the last pages, so their answers are due about now: they are given
        ``grace_s`` to arrive (each request then counted as the vendor saw it, its connection
        kept alive for the next scan), and the rest are cancelled. A scan that ends by an error or
        a cancellation passes ``grace_s=0``; a cancellation during the grace still discards them."""
        tasks = list(self._tasks.values())
        try:
            if tasks and grace_s > 0:
                await asyncio.wait(tasks, timeout=grace_s)
        finally:
            await self._discard()
