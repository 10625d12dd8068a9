"""Voyzu's asynchronous requests in the sandbox (``?async=true``): submission, the RequestStatus
of each poll, the result inline or behind a presigned-style link, and the test hooks.

Documented (api-documentation.md "Asynchronous Invocation", front-end-development.md "Asynchronous
requests (polling)"): add ``async=true`` to the query string, poll the request by its id; the
RequestStatus example is ``{RequestId, Commentary, PercentComplete, ProcessStatus: "PROCESSED",
CreatedDate, UpdatedDate}``; the poller has onFail / onProcessed / onTick. Undocumented, CHOSEN
(the issue #13 contract; vendor-notes section 3 "Async", ambiguity 16):

* The submission answers 200 with the RequestStatus at once (``QUEUED``, 0%, "Queued"): the only
  place a client can learn the RequestId. The request's input is checked first: a bad body is
  the same 400 a sync call gets (the job never starts).
* A job runs ``async_base_ms`` + ``async_ms_per_1000`` per 1,000 contacts searched (300 + 400 by
  default: an 8,000-contact search takes 3.5 s). ProcessStatus is QUEUED for its first 10%, then
  PROCESSING ("Searching contacts", from 70% "Preparing results", or "Reading contact", "Listing
  spreadsheets"), PercentComplete the share of its time gone, then PROCESSED at 100%
  ("Workflow complete"). A failed job (hook :meth:`Jobs.fail_next`) stops at half its time:
  ``FAILED`` (``voyzu.failure_status=ERROR``: ``ERROR``), its PercentComplete where it stopped,
  the reason as Commentary. :attr:`Jobs.stalled` keeps every unfinished job at 90% for ever.
* The result (``voyzu.async_result``): ``inline`` (DEFAULT) puts the output class instance in the
  PROCESSED status as ``Result``; ``link`` puts ``ResultUrl``, an absolute URL on another path
  (``<root>/voyzu-results/<id>?sig=<hex>``, an AWS presigned URL's shape), served by
  :func:`result_response` with no session: a ``voyzu-session-id`` cookie or parameter, or an
  Authorization header, is answered 400 ``{"message": "presigned URLs take no credentials"}``
  (as S3 refuses a second credential), a wrong signature 403.
* A job, and its link, is forgotten 10 minutes after it was submitted: polling it then is 400
  ``{"ErrorMessage": "request not found"}`` (the documented 400 for an id that is not valid).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import logging
import secrets
import threading
import time
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any

from ..core.data_util import utc_ms

__all__ = ["JOB_TTL_S", "Job", "Jobs"]

logger = logging.getLogger(__name__)

#: seconds a job (and its result link) is kept after submission
JOB_TTL_S = 600.0
_WORK = {"search": "Searching contacts", "get": "Reading contact", "list": "Listing spreadsheets"}


@dataclass
class Job:
    """One asynchronous request: what it does, when it started, how long it runs, its answer."""

    id: str
    kind: str
    started: float
    created: datetime
    duration_ms: float
    result: Any
    failure: str | None = None

    def at(self, elapsed_ms: float) -> str:
        """The job's UpdatedDate after ``elapsed_ms``."""
        moment = self.created + timedelta(milliseconds=elapsed_ms)
        return utc_ms(moment.replace(microsecond=moment.microsecond // 1000 * 1000))


class Jobs:
    """The asynchronous requests of one server's Voyzu simulator (thread-safe)."""

    def __init__(self, base_ms: float = 300, ms_per_1000: float = 400) -> None:
        #: fixed time every job takes, in milliseconds
        self.async_base_ms = base_ms
        #: time per 1,000 contacts searched, in milliseconds
        self.async_ms_per_1000 = ms_per_1000
        #: test hook: unfinished jobs stay at 90% for ever
        self.stalled = False
        self._fail: str | None = None
        self._lock = threading.Lock()
        self._jobs: dict[str, Job] = {}
        self._key = secrets.token_bytes(16)
        #: every fetch of a result link: (request id, whether it carried credentials)
        self.link_fetches: list[tuple[str, bool]] = []

    def fail_next(self, reason: str) -> None:
        """Test hook: the next job submitted fails with ``reason`` as its Commentary."""
        self._fail = reason

    def reset(self) -> None:
        """Test hook: forget every job, the failure to come, the stall and the link fetches."""
        with self._lock:
            self._jobs.clear()
            self._fail = None
            self.stalled = False
            self.link_fetches.clear()

    def submit(self, kind: str, result: Any, searched: int) -> Job:
        """Start a job whose answer will be ``result`` (``searched``: the contacts it reads)."""
        request_id = base64.urlsafe_b64encode(secrets.token_bytes(10)).decode()
        duration = max(1.0, self.async_base_ms + self.async_ms_per_1000 * searched / 1000)
        job = Job(request_id, kind, time.monotonic(), datetime.now(timezone.utc), duration, result, self._fail)
        self._fail = None
        with self._lock:
            self._purge()
            self._jobs[request_id] = job
        logger.debug("voyzu: async %s %s runs %.0f ms", kind, request_id, duration)
        return job

    def get(self, request_id: str) -> Job | None:
        """The job, or None when there is none (or it was forgotten)."""
        with self._lock:
            self._purge()
            return self._jobs.get(request_id)

    def _purge(self) -> None:
        horizon = time.monotonic() - JOB_TTL_S
        for key in [k for k, job in self._jobs.items() if job.started < horizon]:
            del self._jobs[key]

    def signature(self, request_id: str) -> str:
        """The ``sig`` of a job's result link."""
        return hmac.new(self._key, request_id.encode(), hashlib.sha256).hexdigest()

    def status(self, job: Job, failure_status: str, result_url: str | None) -> dict[str, Any]:
        """The job's RequestStatus now; a PROCESSED one carries ``Result``, or ``ResultUrl`` when
        ``result_url`` is given (the ``link`` reading)."""
        elapsed = (time.monotonic() - job.started) * 1000
        share = elapsed / job.duration_ms
        answer: dict[str, Any] = {"RequestId": job.id, "CreatedDate": job.at(0)}
        if job.failure is not None and share >= 0.5:
            state, percent, note, elapsed = failure_status, 50, job.failure, job.duration_ms / 2
        elif self.stalled and share >= 0.9:
            state, percent, note = "PROCESSING", 90, "Preparing results"
        elif share < 0.1:
            state, percent, note = "QUEUED", 0, "Queued"
        elif share < 1:
            state, percent = "PROCESSING", min(99, max(1, int(share * 100)))
            note = _WORK.get(job.kind, "Processing") if share < 0.7 else "Preparing results"
        else:
            state, percent, note, elapsed = "PROCESSED", 100, "Workflow complete", job.duration_ms
        answer.update({"ProcessStatus": state, "PercentComplete": percent, "Commentary": note,
                       "UpdatedDate": job.at(elapsed)})
        if state == "PROCESSED":
            if result_url is None:
                answer["Result"] = job.result
            else:
                answer["ResultUrl"] = result_url
        return answer
