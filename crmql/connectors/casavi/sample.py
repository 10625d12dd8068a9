"""The custom-field sample's bookkeeping: which statement it belongs to, what it counts, and the
answer it leaves for that statement's own scan.

casavi's custom fields are learned from ONE sample request (the unfiltered list's first page at
the biggest size, :mod:`.custom_fields`). That page is also the first page of a whole-table read,
so ``SELECT * FROM casavi.contacts`` need not ask for it twice: the sample leaves its answer in
the connector's early store (:mod:`crmql.connectors.rest.early`) for the scan to take. Rules that
keep this from ever serving a stale or foreign page:

* **Only while a statement runs, only for that statement.** The answer is kept under a key that
  names the request AND the running statement (:func:`statement`: the root of the statement's
  counters, which every scan of it counts into). A sample taken outside a statement (the Python
  API's ``Session.describe``) leaves nothing; a scan of another statement (another thread, a
  later query) never matches the key. The session also discards what no scan took when a
  statement (or ``describe``) ends.
* **A refused size**: a first page refused with HTTP 400 for its size is asked again without it;
  the answer to that retried request is kept too, under that request (a scan that sends it, or
  learned to send it, takes it).
* **Counted once**: the sample's requests (and retries) are the statement's; its page and rows
  are not a page of any scan (:class:`SampleStats`): the scan that takes the answer counts them,
  so ``SELECT *`` over 64 pages says ``pages=64``, not 65.

>>> statement() is None      # no statement running
True
>>> from crmql.plan.connector import NativeRequest
>>> with sampling(NativeRequest("GET", "/v2/units", [("limit", "100")]), Place.query("limit")) as answers:
...     keep(NativeRequest("GET", "/v2/units"), {"list": []})
>>> [(request.render(), data) for request, data in answers]
[('GET /v2/units', {'list': []})]
"""

from __future__ import annotations

import contextlib
import contextvars
import dataclasses
import logging
from collections.abc import Iterator
from typing import Any

from ... import stats
from ...plan.connector import NativeRequest
from ..rest import Place

__all__ = ["SampleStats", "answer", "keep", "sampling", "statement"]

log = logging.getLogger(__name__)

#: the counters the sample passes on to its statement
PASSED = ("requests", "retries")


@dataclasses.dataclass
class _Sampling:
    """The sample being read in this task: the requests whose answers it keeps, and those answers."""

    requests: tuple[str, ...]
    answers: list[tuple[NativeRequest, Any]]


_SAMPLING: contextvars.ContextVar[_Sampling | None] = contextvars.ContextVar("casavi_sampling", default=None)


def statement() -> int | None:
    """The running statement (the identity of its root counters), or None outside a statement.

    Every scan counts into counters whose parents lead to the statement's own (see
    :class:`crmql.stats.QueryStats`), so the sample (read while binding) and the scans (read by
    the executor) name the same statement.
    """
    node = stats._current.get()
    for _ in range(100):  # parents form a short chain
        if node is None or node.parent is None:
            break
        node = node.parent
    return None if node is None else id(node)


class SampleStats(stats.QueryStats):
    """The sample's counters: its requests and retries count for the statement (they were sent);
    its page and rows do not (no scan read them; the scan that takes the answer counts them).

    >>> parent = stats.QueryStats()
    >>> SampleStats(parent=parent).add(requests=1, pages=1, rows_fetched=100)
    >>> parent.requests, parent.pages, parent.rows_fetched
    (1, 0, 0)
    """

    def add(self, **counts: int) -> None:
        with self._lock:
            for name, value in counts.items():
                setattr(self, name, getattr(self, name) + value)
        passed = {name: value for name, value in counts.items() if name in PASSED}
        if passed and self.parent is not None:
            self.parent.add(**passed)

    def set_total_pages(self, pages: int) -> None:
        self.total_pages = pages


@contextlib.contextmanager
def sampling(request: NativeRequest, size: Place | None) -> Iterator[list[tuple[NativeRequest, Any]]]:
    """Within the block, this task's answers to ``request`` (or to it without the page ``size``: a
    refused size's retry) are collected (``(request, answer)``), and its counters are
    :class:`SampleStats` under the statement's."""
    unsized = size.remove(request) if size is not None else request
    state = _Sampling((request.render(), unsized.render()), [])
    token = _SAMPLING.set(state)
    counting = stats._current.set(SampleStats(parent=stats._current.get()))
    try:
        yield state.answers
    finally:
        stats._current.reset(counting)
        _SAMPLING.reset(token)


def keep(request: NativeRequest, data: Any) -> None:
    """Keep ``data`` when it answers the sample being read in this task (see :func:`sampling`)."""
    state = _SAMPLING.get()
    if state is not None and request.render() in state.requests:
        state.answers.append((request, data))


async def answer(data: Any) -> Any:
    """An answer already received, as a request started early hands it over."""
    return data

