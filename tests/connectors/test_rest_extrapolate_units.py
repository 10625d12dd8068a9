"""The next-link extrapolator on its own (:class:`crmql.connectors.rest.extrapolate.Extrapolator`,
and :class:`~crmql.connectors.rest.NextLinkPaginator` around it), with in-process pages: links
that are no counter are followed one by one (never a crash), the depth ramps up 1, 2, 4 .. ``ahead``
(a short scan requests nothing it does not take), and a scan that ends by an error or a
cancellation discards its guesses at once (no grace), also when the grace itself is cancelled."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from crmql.connectors.rest import NextLinkPaginator, Place
from crmql.connectors.rest.extrapolate import Extrapolator
from crmql.connectors.rest.pages import Page, ScanContext
from crmql.connectors.rest.paging import ScanLimits
from crmql.plan.connector import NativeRequest


class Chain:
    """Pages by URL; ``links[url]`` is the page's next link. ``block``: URLs whose answer never
    comes (until cancelled: ``cancelled`` lists them then)."""

    def __init__(self, links: dict[str, str | None], block: set[str] | None = None) -> None:
        self.links, self.block = links, block or set()
        self.asked: list[str] = []
        self.cancelled: list[str] = []

    async def fetch(self, url: str) -> Page:
        self.asked.append(url)
        if url in self.block or url not in self.links:
            try:
                await asyncio.Event().wait()
            except asyncio.CancelledError:
                self.cancelled.append(url)
                raise
        return Page([{"url": url}], next=self.links[url])


def counter(last: int, base: str = "https://x/v2/contacts?limit=5&page=") -> dict[str, str | None]:
    """A counter chain page=1 .. page=<last> (page 0, the first request, is not the extrapolator's)."""
    return {f"{base}{n}": f"{base}{n + 1}" if n < last else None for n in range(1, last + 1)}


async def walk(ex: Extrapolator, url: str | None) -> list[str]:
    got = []
    while url is not None:
        page = await ex.get(url)
        got.append(page.records[0]["url"])
        url = page.next
    await ex.aclose()
    return got


@pytest.mark.parametrize("links", [
    {"https://x/c?cursor=abc": "https://x/c?cursor=def", "https://x/c?cursor=def": "https://x/c?cursor=x1",
     "https://x/c?cursor=x1": "https://x/c?cursor=x2", "https://x/c?cursor=x2": None},  # a cursor
    {"https://x/c?limit=5&page=1": "https://x/c?page=2&limit=5", "https://x/c?page=2&limit=5": "https://x/c?limit=5&page=3",
     "https://x/c?limit=5&page=3": "https://x/c?page=4&limit=5", "https://x/c?page=4&limit=5": None},  # reordered
    {"https://x/c?page=1": "https://x/c?page=1"},  # a link equal to its page's (the scan calls it a loop)
], ids=["cursor", "reordered", "identical"])
def test_links_that_are_no_counter_are_followed_one_by_one(links: dict[str, str | None]) -> None:
    chain = Chain(links)
    first = next(iter(links))

    async def main() -> tuple[Page, Page, Extrapolator]:
        ex = Extrapolator(chain.fetch, 4)
        one = await ex.get(first)
        two = await ex.get(one.next) if one.next != first else one
        await ex.aclose()
        return one, two, ex

    one, two, ex = asyncio.run(main())
    assert one.records == [{"url": first}] and two.records[0]["url"] == one.next
    assert chain.asked == list(dict.fromkeys([first, one.next]))  # nothing guessed
    assert ex.hits == 0 and ex.wasted == 0


def test_a_whole_cursor_chain_is_read_in_order_without_guesses() -> None:
    chain = Chain({"https://x/c?cursor=a": "https://x/c?cursor=b", "https://x/c?cursor=b": "https://x/c?cursor=c1",
                   "https://x/c?cursor=c1": "https://x/c?cursor=c2", "https://x/c?cursor=c2": "https://x/c?cursor=c3",
                   "https://x/c?cursor=c3": None})
    got = asyncio.run(walk(Extrapolator(chain.fetch, 4), "https://x/c?cursor=a"))
    assert got == list(chain.links) == chain.asked


def test_a_short_scan_requests_nothing_it_does_not_take() -> None:
    chain = Chain(counter(2))  # with the first page: a 3-page scan
    ex = Extrapolator(chain.fetch, 4)
    assert asyncio.run(walk(ex, "https://x/v2/contacts?limit=5&page=1")) == list(chain.links)
    assert chain.asked == list(chain.links) and ex.wasted == 0 and ex.hits == 1


def test_a_long_scan_ramps_up_to_ahead_pages_in_flight() -> None:
    chain = Chain(counter(20))
    ex = Extrapolator(chain.fetch, 4)
    assert asyncio.run(walk(ex, "https://x/v2/contacts?limit=5&page=1")) == list(chain.links)
    assert ex.most == 4 and ex.hits == 19
    assert 0 < ex.wasted <= 3 and len(chain.asked) == 20 + ex.wasted  # at most ahead - 1 beyond the last page


def test_a_cancelled_grace_still_discards_the_pages_requested_ahead() -> None:
    chain = Chain(counter(3), block={"https://x/v2/contacts?limit=5&page=4"})
    chain.links["https://x/v2/contacts?limit=5&page=3"] = None  # page 4 exists only as a guess

    async def main() -> None:
        ex = Extrapolator(chain.fetch, 4)
        url: str | None = "https://x/v2/contacts?limit=5&page=1"
        while url is not None:
            url = (await ex.get(url)).next
        closing = asyncio.ensure_future(ex.aclose(grace_s=600))
        for _ in range(5):
            await asyncio.sleep(0)
        closing.cancel()  # Ctrl-C during the grace
        with pytest.raises(asyncio.CancelledError):
            await closing

    asyncio.run(main())
    assert chain.cancelled == ["https://x/v2/contacts?limit=5&page=4"]


def _context(chain: Chain, first: str) -> ScanContext:
    async def fetch(target: NativeRequest | str, label: str) -> Page:
        if isinstance(target, NativeRequest):
            return Page([{"url": "first"}], next=first)
        return await chain.fetch(target)

    return ScanContext(NativeRequest("GET", "/v2/contacts", [("limit", "5")]), fetch, lambda rows: True,
                       ScanLimits("X", "x.contacts"), concurrency=4)


def test_a_scan_ended_by_an_error_or_a_cancellation_gives_no_grace(monkeypatch: pytest.MonkeyPatch) -> None:
    graces: list[float] = []
    close = Extrapolator.aclose

    async def recorded(self: Extrapolator, grace_s: float = 1.0) -> None:
        graces.append(grace_s)
        await close(self, grace_s)

    monkeypatch.setattr(Extrapolator, "aclose", recorded)
    paginator = NextLinkPaginator(next="_links.next", size=Place.query("limit"), total=None, extrapolate=True)
    base = "https://x/v2/contacts?limit=5&page="
    chain = Chain(counter(6), block={f"{base}{n}" for n in range(3, 7)})  # from page 3 on: no answer

    async def cancelled() -> None:
        scan = asyncio.ensure_future(paginator.scan(_context(chain, f"{base}1")))
        while f"{base}4" not in chain.asked:  # page 3 awaited, page 4 requested ahead
            await asyncio.sleep(0)
        scan.cancel()
        with pytest.raises(asyncio.CancelledError):
            await scan

    asyncio.run(cancelled())
    assert graces == [0] and set(chain.cancelled) == {f"{base}3", f"{base}4"}

    class Refused(Chain):
        async def fetch(self, url: str) -> Page:
            if url.endswith("page=3"):
                raise RuntimeError("HTTP 400 on page 3")
            return await super().fetch(url)

    graces.clear()
    chain = Refused(counter(6), block={f"{base}{n}" for n in range(4, 7)})
    with pytest.raises(RuntimeError, match="HTTP 400 on page 3"):
        asyncio.run(paginator.scan(_context(chain, f"{base}1")))
    assert graces == [0] and chain.cancelled == [f"{base}4"]


def test_a_scan_that_ends_normally_keeps_its_grace(monkeypatch: pytest.MonkeyPatch) -> None:
    graces: list[Any] = []
    close = Extrapolator.aclose

    async def recorded(self: Extrapolator, grace_s: float = 1.0) -> None:
        graces.append(grace_s)
        await close(self, grace_s)

    monkeypatch.setattr(Extrapolator, "aclose", recorded)
    paginator = NextLinkPaginator(next="_links.next", size=Place.query("limit"), total=None, extrapolate=True)
    chain = Chain(counter(2))
    assert asyncio.run(paginator.scan(_context(chain, "https://x/v2/contacts?limit=5&page=1"))) is True
    assert graces == [1.0] and chain.asked == list(chain.links)
