"""Asynchronous calls: submit with ``?async=true``, poll the job's status, hand back its result.

Voyzu runs any call asynchronously when ``async=true`` is in its query string (its API Gateway
cuts synchronous calls at 30 s). Its docs say how to poll, twice and differently: the API doc
names ``/request/get/{requestId}``, the later front-end doc (with code) names
``{baseUrl}/api/request-status/get/{requestId}``. A status looks like
``{"RequestId", "Commentary", "PercentComplete", "ProcessStatus": "PROCESSED", ...}``; the front
end's poller has ``onFail``, so some failure status exists, but its name is not documented, and
neither is how the submit answers with the request id or how the final result is read. Those
readings are therefore declared (:class:`AsyncJob`), with Voyzu's documented names as defaults:

* the submit's answer carries the id at ``id_field`` (``RequestId``, the name the status uses);
* the front-end doc's status path first (``/api/request-status/get/{id}``, with code), then on a
  404 the API doc's read with the ``/api`` prefix its headings and prose use (``/api/request/get/{id}``),
  then the API doc's path literally (``/request/get/{id}``); the one that answers is remembered
  per connection (vendor-notes ambiguities 16 and 18);
* ``ProcessStatus`` in ``done`` finishes, in ``failed`` is a clear error; anything else is still
  running, so an unknown status never ends the wait early, and the deadline ends it at last;
* the result is the body of ``result_path`` when declared, else the status's ``result_field``
  (``Result``: the output class's instance, the plainest reading of a status that "returns" the
  call), else the link at ``result_link_field`` (``ResultUrl``), fetched with no credentials
  (:mod:`.async_result`, which also tags every error with the step it came from: :func:`async_stage`).

Waits: a status with a percent ``p`` between 0 and 100 after ``t`` seconds waits about the time
left, ``t * (100 - p) / p`` and a tenth more (a 3.5 s job is polled three times, not at 0.25, 0.5,
1, 2 and 4 s), else the waits grow exponentially (``first_wait_s`` times ``factor`` per poll); either
way between ``first_wait_s`` and ``max_wait_s``, all within ``deadline_s`` from the submit, and each
poll bounded by what is left of it (at least ``first_wait_s``: a slow poll does not overrun it by
more): nothing waits forever.
``on_progress`` gets the submit's status and every poll's as a :class:`JobStatus` (a broken
progress display never breaks the call). The waits are ``asyncio.sleep``: a cancelled task (Ctrl-C,
a kernel interrupt) stops at once, and nothing polls again on the way out (no cancel endpoint is
documented, so the vendor's job, a read, is left to finish).

>>> import httpx
>>> from crmql.http import HttpClient, run_sync
>>> polls = iter([{"ProcessStatus": "RUNNING", "PercentComplete": 50},
...               {"ProcessStatus": "PROCESSED", "Result": {"rows": [{"Id": "c1"}]}}])
>>> def vendor(request):
...     if request.url.params.get("async") == "true":
...         return httpx.Response(200, json={"RequestId": "r-1"})
...     return httpx.Response(200, json=next(polls))
>>> client = HttpClient(vendor="Voyzu", base_url="http://voyzu.test", transport=httpx.MockTransport(vendor))
>>> calls = AsyncCalls(client, AsyncJob(first_wait_s=0.001))
>>> run_sync(calls.call("POST", "/api/contacts/search", json={}))
{'rows': [{'Id': 'c1'}]}
"""

from __future__ import annotations

import asyncio
import logging
import math
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ...errors import ConnectorError, VendorHTTPError, VendorResponseError
from ...redaction import redact
from .async_result import Stage, async_stage, fetch_link, tag
from .support import addressable, cut, path_id, shown

if TYPE_CHECKING:
    from ...http.client import HttpClient
    from ...stats import QueryStats

__all__ = ["AsyncCalls", "AsyncJob", "JobStatus", "async_stage"]

log = logging.getLogger(__name__)

#: query parameters: a mapping, or pairs (a repeated name is kept)
Params = Mapping[str, str] | Sequence[tuple[str, str]]

#: the longest request id taken (a vendor's id is a short token: ``XkbeRjJDoAMEVrw=``)
MAX_ID_CHARS = 256


@dataclass(frozen=True)
class AsyncJob:
    """How a vendor runs a call asynchronously; the defaults are Voyzu's documented names.

    Field names may be dotted paths into the body (``"Status.Code"``). ``status_paths`` are tried
    in order, the next one only when the one before answers 404.

    >>> AsyncJob().status_paths[0]
    '/api/request-status/get/{id}'
    """

    async_param: tuple[str, str] = ("async", "true")
    id_field: str = "RequestId"
    status_paths: tuple[str, ...] = ("/api/request-status/get/{id}", "/api/request/get/{id}", "/request/get/{id}")
    #: Voyzu: every call but ``/class`` is a POST
    status_method: str = "POST"
    status_field: str = "ProcessStatus"
    percent_field: str = "PercentComplete"
    commentary_field: str = "Commentary"
    done: frozenset[str] = frozenset({"PROCESSED"})
    failed: frozenset[str] = frozenset({"FAILED", "FAILURE", "ERROR", "ERRORED", "CANCELLED", "CANCELED"})
    #: where the finished status carries the result (None: only ``result_path``)
    result_field: str | None = "Result"
    #: a path (with ``{id}``) to read the result from once the job is done; None: ``result_field``
    result_path: str | None = None
    #: where the finished status carries an absolute URL of the result instead (fetched with no credentials)
    result_link_field: str | None = "ResultUrl"
    first_wait_s: float = 0.25
    factor: float = 2.0
    max_wait_s: float = 5.0
    deadline_s: float = 300.0

    def __post_init__(self) -> None:
        waits = (self.first_wait_s, self.max_wait_s, self.deadline_s)
        if not all(math.isfinite(w) and w > 0 for w in waits) or not self.factor >= 1 or not self.status_paths:
            raise ValueError("waits and deadline must be positive, factor at least 1, and a status path given")
        if any("{id}" not in p for p in (*self.status_paths, *([self.result_path] if self.result_path else []))):
            raise ValueError("status_paths and result_path must contain {id}")

    def wait(self, polls: int) -> float:
        """Seconds to wait before poll number ``polls + 1`` (the first poll is ``polls == 0``).

        >>> [AsyncJob(first_wait_s=0.5, factor=2, max_wait_s=3).wait(n) for n in range(5)]
        [0.5, 1.0, 2.0, 3, 3]
        """
        return min(self.max_wait_s, self.first_wait_s * self.factor ** min(polls, 64))

    def next_wait(self, polls: int, percent: float | None, running_s: float) -> float:
        """Seconds to wait after poll ``polls`` (0 the first) said ``percent`` after ``running_s``
        seconds: the time left at that pace and a tenth more (to land just after the end, not just
        before it), between ``first_wait_s`` and ``max_wait_s``; without a percent between 0 and
        100, :meth:`wait`.

        >>> job = AsyncJob(first_wait_s=0.25, max_wait_s=5)
        >>> round(job.next_wait(0, 25.0, 1.0), 2), job.next_wait(1, 90.0, 0.9), job.next_wait(2, None, 3.0)
        (3.3, 0.25, 1.0)
        """
        if percent is not None and 0 < percent < 100 and running_s > 0:
            return min(self.max_wait_s, max(self.first_wait_s, 1.1 * running_s * (100 - percent) / percent))
        return self.wait(polls)


@dataclass(frozen=True)
class JobStatus:
    """One status of an asynchronous request, as ``on_progress`` gets it.

    >>> JobStatus("r-1", "RUNNING", 40.0, "Searching").line()
    'request r-1: RUNNING, 40%: Searching'
    """

    request_id: str
    status: str | None
    percent: float | None = None
    commentary: str | None = None

    def line(self) -> str:
        parts = [self.status or "no status", f"{self.percent:g}%" if self.percent is not None else None]
        text = f"request {self.request_id}: " + ", ".join(p for p in parts if p)
        return f"{text}: {self.commentary}" if self.commentary else text

    def brief(self) -> str:
        """The status without its request id, for an error that names the request already.

        >>> JobStatus("r-1", "QUEUED", 0.0, "Queued").brief()
        'QUEUED, 0%, "Queued"'
        """
        parts = [self.status or "no status", f"{self.percent:g}%" if self.percent is not None else None,
                 f'"{self.commentary}"' if self.commentary else None]
        return ", ".join(p for p in parts if p)


def _field(body: Any, path: str) -> Any:
    """The value at a dotted ``path`` in ``body`` (None when any step is missing).

    >>> _field({"a": {"b": 1}}, "a.b"), _field({"a": 1}, "a.b"), _field([1], "a")
    (1, None, None)
    """
    for key in path.split("."):
        if not isinstance(body, dict):
            return None
        body = body.get(key)
    return body


class AsyncCalls:
    """Asynchronous calls on one connection's :class:`~crmql.http.client.HttpClient`.

    It remembers which status path the vendor answers (after a 404 on the first), so later calls
    poll the right one at once. ``query(path)``, when given, adds parameters to every request
    (submit, polls, result): a session id sent in the query string
    (:meth:`crmql.http.session_flow.SessionIdAuth.query_params`), as Voyzu's front end does for its polls.
    """

    def __init__(self, client: HttpClient, job: AsyncJob = AsyncJob(), *,
                 sleep: Callable[[float], Awaitable[Any]] = asyncio.sleep,
                 query: Callable[[str], Awaitable[Mapping[str, str]]] | None = None,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.client = client
        self.job = job
        self._sleep = sleep
        self._clock = clock
        self._query = query
        self._path = 0  # index into job.status_paths of the path that answers

    async def _params(self, path: str, params: Params | None = None) -> list[tuple[str, str]] | None:
        """``params`` as pairs (a repeated parameter stays repeated: a vendor's OR), plus ``query``'s."""
        pairs = list(params.items() if isinstance(params, Mapping) else params or ())
        extra = await self._query(path) if self._query is not None else {}
        names = set(extra)
        return [*(p for p in pairs if p[0] not in names), *extra.items()] or None

    async def call(self, method: str, path: str, *, json: Any = None, params: Params | None = None,
                   table: str | None = None, on_progress: Callable[[JobStatus], None] | None = None) -> Any:
        """Submit ``method path`` asynchronously, poll until the job is done, return its result.

        A failed job is a :class:`~crmql.errors.VendorHTTPError` with the vendor's commentary; a
        job still running at ``deadline_s`` a :class:`~crmql.errors.ConnectorError` saying how
        far it got; a submit or status answer that is not what was declared a
        :class:`~crmql.errors.VendorResponseError`. Every error carries the step it came from
        (:func:`async_stage`: ``"submit"``, ``"status"``, ``"result"`` or ``"link"``).
        """
        stage: Stage = "submit"
        try:
            started = self._clock()
            request_id, submitted = await self._submit(method, path, json=json, params=params, table=table)
            if submitted is not None:
                _tell(on_progress, submitted)
            stage = "status"
            body = await self._poll(request_id, started, table, on_progress)
            stage = "result" if self.job.result_path else "link"
            return await self._result(request_id, body, table)
        except ConnectorError as e:
            raise tag(e, stage)

    async def run(self, request: Any, table: str | None, stats: QueryStats) -> Any:
        """:meth:`call` for a planned request (``method``, ``path``, ``params``, ``body``), each status
        into ``stats`` as a job of its own (concurrent pages' jobs show their least percent), cleared
        however it ends."""
        key = object()
        try:
            return await self.call(request.method, request.path, json=request.body, table=table,
                                   params=list(request.params) if request.params else None,
                                   on_progress=lambda s: stats.job(s.percent, s.commentary or s.status, key=key))
        finally:
            stats.job_done(key)

    async def _poll(self, request_id: str, started: float, table: str | None,
                    on_progress: Callable[[JobStatus], None] | None) -> dict[str, Any]:
        """Poll until the job is done (its status body), failed or past the deadline (errors)."""
        polls = 0
        last: JobStatus | None = None
        while True:
            left = self.job.deadline_s - (self._clock() - started)
            try:  # bounded by what is left (the last, at the deadline, gets first_wait_s): no slow poll overruns it
                body, last = await asyncio.wait_for(self.status(request_id, table=table),
                                                    max(left, self.job.first_wait_s))
            except asyncio.TimeoutError:
                raise self._late(request_id, polls, last, table, unanswered=True) from None
            polls += 1
            _tell(on_progress, last)
            log.debug("%s: %s", self.client.vendor, last.line())
            if last.status in self.job.done:
                return body
            if last.status in self.job.failed:
                # the Commentary is the status's own words for the user (Voyzu's front end shows it as
                # progress), not an ErrorMessage: it goes into the message, where no connector strips it
                why = f": {redact(last.commentary[:300])}" if last.commentary else ""
                raise VendorHTTPError(f"the asynchronous request {request_id} failed ({self.job.status_field} "
                                      f"{last.status}){why}", vendor=self.client.vendor, table=table)
            running = self._clock() - started
            left = self.job.deadline_s - running
            if left <= 0:
                raise self._late(request_id, polls, last, table)
            await self._sleep(min(self.job.next_wait(polls - 1, last.percent, running), left))

    def _late(self, request_id: str, polls: int, last: JobStatus | None, table: str | None, *,
              unanswered: bool = False) -> ConnectorError:
        """The deadline's error: how many polls, and the last status."""
        said = f"last status: {last.brief()}" if last else "no status"
        if unanswered:
            said += f"; the {'next' if last else 'first'} poll did not answer in time"
        return ConnectorError(
            f"the asynchronous request {request_id} did not finish within {self.job.deadline_s:g} s "
            f"({polls} poll{'' if polls == 1 else 's'}; {said})", vendor=self.client.vendor, table=table,
            hint="narrow the query, or raise the connection's async_deadline_s if the vendor is just slow")

    async def submit(self, method: str, path: str, *, json: Any = None, params: Params | None = None,
                     table: str | None = None) -> str:
        """Send the call with the async parameter; return the request id from the answer.

        >>> import httpx
        >>> from crmql.http import HttpClient, run_sync
        >>> t = httpx.MockTransport(lambda r: httpx.Response(200, json={"RequestId": "XkbeRjJDoAMEVrw="}))
        >>> run_sync(AsyncCalls(HttpClient(vendor="Voyzu", base_url="http://v.test", transport=t))
        ...          .submit("POST", "/api/contacts/search"))
        'XkbeRjJDoAMEVrw='
        """
        return (await self._submit(method, path, json=json, params=params, table=table))[0]

    async def _submit(self, method: str, path: str, *, json: Any = None, params: Params | None = None,
                      table: str | None = None) -> tuple[str, JobStatus | None]:
        """:meth:`submit`, with the status the submit's answer gives, if any (Voyzu's: a RequestStatus)."""
        key, value = self.job.async_param
        pairs = list(params.items() if isinstance(params, Mapping) else params or ())
        if (key, value) not in pairs:  # (a planned request carries it already: EXPLAIN shows it)
            pairs.append((key, value))
        query = await self._params(path, pairs)
        body = await self.client.request_json(method, path, params=query, json=json, table=table)
        request_id = _field(body, self.job.id_field)
        shown_request = f"{method.upper()} {cut(path)}?{key}={value}"
        if isinstance(request_id, int) and not isinstance(request_id, bool):
            request_id = str(request_id)
        if not isinstance(request_id, str) or not request_id:
            what = "an object without" if isinstance(body, dict) else f"{shown(body, 40)}, not an object with"
            raise VendorResponseError(f"the asynchronous call answered {what} a {self.job.id_field}",
                                      vendor=self.client.vendor, table=table, request=shown_request)
        if (len(request_id) > MAX_ID_CHARS or not all("!" <= ch <= "~" for ch in request_id)
                or not addressable(request_id)):
            raise VendorResponseError(f"its {self.job.id_field} {shown(request_id)} cannot be a URL path segment",
                                      vendor=self.client.vendor, table=table, request=shown_request)
        try:  # (a submit need not answer a status; the polls are held to it)
            status = self._read(request_id, body, shown_request, table) if _field(body, self.job.status_field) else None
        except VendorResponseError:
            status = None
        return request_id, status

    async def status(self, request_id: str, *, table: str | None = None) -> tuple[dict[str, Any], JobStatus]:
        """One poll: the status body and what it says. A 404 moves on to the next status path."""
        tried: list[str] = []
        for index in range(self._path, len(self.job.status_paths)):
            path = self.job.status_paths[index].replace("{id}", path_id(request_id))
            tried.append(path)
            response = await self.client.request(self.job.status_method, path, table=table, idempotent=True,
                                                 params=await self._params(path),
                                                 allow_status=(404,))
            if response.status_code == 404:
                log.debug("%s: %s answered 404; trying the next status path", self.client.vendor, cut(path))
                continue
            if index != self._path:
                log.info("%s: polling asynchronous requests at %s", self.client.vendor,
                         self.job.status_paths[index])
                self._path = index
            body = self.client.decode_json(response, table)
            return body, self._read(request_id, body, f"{self.job.status_method} {cut(path)}", table)
        raise VendorHTTPError(f"no status path knows the asynchronous request {request_id} (tried "
                              f"{', '.join(tried)})", vendor=self.client.vendor, table=table, status=404,
                              hint="the request may have expired; run the statement again")

    def _read(self, request_id: str, body: Any, request: str, table: str | None) -> JobStatus:
        """The :class:`JobStatus` in a status body, which must be an object about this request."""
        if not isinstance(body, dict):
            raise VendorResponseError(f"the status is {shown(body, 40)}, not an object", vendor=self.client.vendor,
                                      table=table, request=request)
        echoed = _field(body, self.job.id_field)
        if echoed is not None and str(echoed) != request_id:
            raise VendorResponseError(f"the status is about request {shown(echoed)}, not {request_id}",
                                      vendor=self.client.vendor, table=table, request=request)
        raw_status = _field(body, self.job.status_field)
        status = raw_status.strip().upper() if isinstance(raw_status, str) and raw_status.strip() else None
        percent = _field(body, self.job.percent_field)
        ok = isinstance(percent, (int, float)) and not isinstance(percent, bool) and math.isfinite(percent)
        commentary = _field(body, self.job.commentary_field)
        return JobStatus(request_id, status[:64] if status else None,
                         float(min(max(percent, 0), 100)) if ok else None,
                         commentary[:300] if isinstance(commentary, str) and commentary else None)

    async def _result(self, request_id: str, body: dict[str, Any], table: str | None) -> Any:
        """The finished job's result: ``result_path``'s body, else the status's ``result_field``, else
        the body at its ``result_link_field`` (a null ``result_field`` beside a link is no result)."""
        if self.job.result_path:
            path = self.job.result_path.replace("{id}", path_id(request_id))
            return await self.client.request_json(self.job.status_method, path, table=table, idempotent=True,
                                                  params=await self._params(path))
        link = _field(body, self.job.result_link_field) if self.job.result_link_field else None
        if self.job.result_field and self.job.result_field.split(".")[0] in body:
            value = _field(body, self.job.result_field)
            if value is not None or link is None:
                return value
        if link is not None:
            return await fetch_link(self.client, request_id, link, self.job.result_link_field, table)
        carried = " or ".join(f for f in (self.job.result_field, self.job.result_link_field) if f) or "result"
        raise VendorResponseError(f"the asynchronous request {request_id} finished, but its status carries no "
                                  f"{carried} and no result path is declared",
                                  vendor=self.client.vendor, table=table)


def _tell(on_progress: Callable[[JobStatus], None] | None, status: JobStatus) -> None:
    """Hand ``status`` to the progress callback; a broken display must never break a query."""
    if on_progress is not None:
        try:
            on_progress(status)
        except Exception:
            log.debug("the progress callback failed", exc_info=True)
