"""The result of a finished asynchronous call, and which step of the call an error came from.

A status that is done hands over its result inline (``Result``) or as a link (``ResultUrl``: a
large result commonly goes out as a presigned storage URL, as AWS API Gateway backends do). The link
is fetched with GET and **no credentials** (a presigned URL carries its own signature and may be
on any origin: the session must never go there): a separate short-lived client with no auth, no
headers and no cookies, the connection's timeout, retries and body bound, and the same strict JSON
decoding; its signature is registered as a secret, and errors show the URL without its query.

An error reading the link is about the link, not about the vendor's endpoint: an HTTP status is
"reading the result of asynchronous request r-1 from https://bucket.test/r-1 failed [HTTP 403]"
with the hint that the link may have expired, and a redirect names its target through
:func:`~crmql.redaction.safe_url` (a presigned ``Location`` carries a signature), never a
``base_url`` hint. Every error an asynchronous call raises carries :func:`async_stage`, so a
connector words only the errors of its own request as such (Voyzu's 400 "malformed search" and
404 "check base_url" are about ``POST /api/contacts/search``, not about a status poll or a link).

>>> e = VendorHTTPError("forbidden", status=403)
>>> async_stage(tag(e, "link")), async_stage(tag(e, "status")), async_stage(VendorHTTPError("x"))
('link', 'link', None)
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any, Literal

import httpx

from ...errors import ConnectorError, VendorHTTPError, VendorResponseError
from ...redaction import SENSITIVE_PARAM, redact, register_secret, safe_url

if TYPE_CHECKING:
    from ...http.client import HttpClient

__all__ = ["STAGES", "Stage", "async_stage", "fetch_link", "tag"]

log = logging.getLogger(__name__)

#: the steps of an asynchronous call: the ``?async=true`` request itself, a status poll (also the
#: job's failure and the deadline), a declared result path, the result link
Stage = Literal["submit", "status", "result", "link"]
STAGES: tuple[Stage, ...] = ("submit", "status", "result", "link")
#: statuses that redirect (the client follows no redirect: a link's is an error naming its target)
_REDIRECTS = (301, 302, 303, 307, 308)


def tag(error: ConnectorError, stage: Stage) -> ConnectorError:
    """Mark ``error`` as raised at ``stage`` of an asynchronous call (a mark already there stays).

    >>> async_stage(tag(ConnectorError("x"), "submit"))
    'submit'
    """
    if getattr(error, "async_stage", None) is None:
        error.async_stage = stage  # type: ignore[attr-defined]
    return error


def async_stage(error: BaseException) -> str | None:
    """The step of an asynchronous call ``error`` came from (see :data:`STAGES`), None if no such call.

    >>> async_stage(ValueError("x")) is None
    True
    """
    stage = getattr(error, "async_stage", None)
    return stage if stage in STAGES else None


def _bare(error: ConnectorError) -> str:
    """``error``'s own words: without its "vendor (table): " prefix, status and vendor message."""
    text = error.message
    if error.vendor_message and text.endswith(f": {error.vendor_message}"):
        text = text[: -len(error.vendor_message) - 2]
    if error.status is not None and text.endswith(f" [HTTP {error.status}]"):
        text = text[: -len(f" [HTTP {error.status}]")]
    where = " ".join(p for p in (error.vendor, f"({error.table})" if error.table else None) if p)
    return text[len(where) + 2:] if where and text.startswith(f"{where}: ") else text


async def fetch_link(client: HttpClient, request_id: str, link: Any, field_name: str | None,
                     table: str | None) -> Any:
    """GET the result ``link`` of request ``request_id`` with no credentials, on a client of its own
    like ``client`` (see the module docstring); every error is tagged ``"link"``.

    >>> from crmql.http import HttpClient, run_sync
    >>> t = httpx.MockTransport(lambda r: httpx.Response(403, json={"message": "SignatureDoesNotMatch"}))
    >>> try:
    ...     run_sync(fetch_link(HttpClient(vendor="Voyzu", base_url="http://v.test", transport=t), "r-1",
    ...                         "https://bucket.test/r-1?X-Amz-Signature=0a1b2c3d", "ResultUrl", "voyzu.contacts"))
    ... except VendorHTTPError as e:
    ...     print(e, async_stage(e))
    Voyzu (voyzu.contacts): reading the result of asynchronous request r-1 from https://bucket.test/r-1 failed [HTTP 403]: SignatureDoesNotMatch
      hint: the result link may have expired; run the statement again link
    """
    from ...http.client import HttpClient  # (the connection's client class, un-authenticated)

    try:
        url = httpx.URL(link) if isinstance(link, str) and len(link) <= 8192 else None
    except (httpx.InvalidURL, TypeError):
        url = None
    if url is None or url.scheme not in ("http", "https") or not url.host:
        raise tag(VendorResponseError(f"the asynchronous request {request_id} finished with a {field_name} that is "
                                      f"not an http(s) URL", vendor=client.vendor, table=table), "link")
    for name, value in url.params.multi_items():  # a presigned URL's signature is a credential
        if SENSITIVE_PARAM.search(name) or "credential" in name.lower() or len(value) >= 24:
            register_secret(value)
    origin = f"{url.scheme}://{url.netloc.decode('ascii', 'replace')}"
    where = redact(origin + url.path)  # (no query: the signature)
    log.debug("%s: reading the result of request %s from %s", client.vendor, request_id, safe_url(str(url)))
    fetcher = HttpClient(vendor=client.vendor, base_url=origin, timeout_s=client.timeout_s, concurrency=1,
                         retry=client.retry, transport=client._transport, max_response_mb=client.max_response_mb,
                         max_requests=100)
    what = f"reading the result of asynchronous request {request_id} from {where} failed"
    hint = "the result link may have expired; run the statement again"
    try:
        response = await fetcher.request("GET", str(url), table=table, idempotent=True, allow_status=_REDIRECTS)
        body = None if response.status_code in _REDIRECTS else fetcher.decode_json(response, table)
    except VendorResponseError as e:  # the body: it says so itself, with the URL shown safely
        raise tag(e, "link") from None
    except ConnectorError as e:
        if e.status is None:  # a transport error, the request budget...: its class, its words
            raise tag(type(e)(f"{what}: {_bare(e)}", vendor=e.vendor, table=e.table, hint=e.hint), "link") from None
        raise tag(VendorHTTPError(what, vendor=e.vendor, table=e.table, status=e.status,
                                  vendor_message=e.vendor_message, hint=hint), "link") from None
    finally:
        await fetcher.aclose()
    if response.status_code in _REDIRECTS:
        target = response.headers.get("Location")
        moved = f": it redirects to {safe_url(target)}" if target else ": it answered with a redirect"
        raise tag(VendorHTTPError(what + moved, vendor=client.vendor, table=table, status=response.status_code,
                                  hint="crmql follows no redirect of a result link; run the statement again"), "link")
    return body
