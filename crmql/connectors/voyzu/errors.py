"""Voyzu's errors worded for the user, its ``ErrorMessage`` logged instead of shown.

The API doc: an ``ErrorMessage`` "should never be presented to the user (i.e. shown to the UI)";
"console.error out any ErrorMessages returned". So the vendor's message of an error (the kit puts
it after the status for other vendors) is logged on the logger ``crmql.connectors.voyzu`` at INFO,
redacted (``--debug`` shows it), and the error text carries none of it:

* 400 on a search: "Voyzu refused the search as malformed", hinting at ``search_reading``;
* 402: "this operation needs a paid Voyzu subscription";
* 404: "Voyzu has no POST <path> (Voyzu also answers 404 to a wrong HTTP verb)", hint: check
  ``base_url`` (it ends before ``/api``);
* the 400 and 404 wordings only for the resource's own path (sync, or an async job's submit): an
  error of a job's status poll or result link (the kit's ``async_stage``: "status", "link") keeps
  the kit's wording (a result link that expired is no wrong base_url); a 504 answering the async
  submit itself: "the asynchronous submit of <path> met Voyzu's gateway limit too";
* 540 and 541 (retried like a 503): "Voyzu reported an internal error" / "a router error", "on
  every one of N attempts" when the retries were used up, hint: ``--debug`` logs the ErrorMessage;
* 401 with no login configured: the session flow's "the session was refused: it has expired or
  was signed out";
* anything else: the kit's wording, without the vendor's message.

>>> e = VendorHTTPError("bad request", vendor="Voyzu CRM", table="v.contacts", status=400,
...                     vendor_message="ValidationError at line 3")
>>> print(reword(e, None, None, path="/api/contacts/search"))
Voyzu CRM (v.contacts): Voyzu refused the search as malformed [HTTP 400]
  hint: the search input class may differ from what crmql sends: set search_reading (datatable, page, none) to match your server's GET /api/contacts/class
"""

from __future__ import annotations

import logging
import re
from typing import Any

from ...errors import AuthenticationError, ConnectorError, VendorHTTPError, VendorResponseError
from ...redaction import redact

__all__ = ["VENDOR_LOG", "reword"]

#: Voyzu's own error codes (API doc: "a voyzu error", "a voyzu router error" occurred fulfilling the request)
VOYZU_ERRORS = {540: "an internal error", 541: "a router error"}
#: where Voyzu's ErrorMessages go (never into an error's text)
VENDOR_LOG = logging.getLogger("crmql.connectors.voyzu")


def _bare(e: ConnectorError) -> str:
    """The error's own message: without the "vendor (table): " prefix, the status and the vendor's message."""
    text = e.message
    if e.vendor_message and text.endswith(f": {e.vendor_message}"):
        text = text[: -len(e.vendor_message) - 2]
    if e.status is not None and text.endswith(f" [HTTP {e.status}]"):
        text = text[: -len(f" [HTTP {e.status}]")]
    where = " ".join(p for p in (e.vendor, f"({e.table})" if e.table else None) if p)
    return text[len(where) + 2:] if where and text.startswith(f"{where}: ") else text


def reword(e: ConnectorError, connector: Any, res: Any, *, path: str | None = None) -> ConnectorError:
    """``e`` without Voyzu's ErrorMessage (logged), worded by status (see the module docstring);
    a new error keeps the kit's ``async_stage`` mark."""
    out = _reword(e, connector, res, path)
    stage = getattr(e, "async_stage", None)
    if out is not e and stage is not None:
        out.async_stage = stage  # type: ignore[attr-defined]
    return out


def _reword(e: ConnectorError, connector: Any, res: Any, path: str | None) -> ConnectorError:
    if isinstance(e, VendorResponseError):
        return e
    if e.vendor_message:
        VENDOR_LOG.info("%s%s: Voyzu's ErrorMessage (HTTP %s): %s", e.vendor or "Voyzu CRM",
                        f" ({e.table})" if e.table else "", e.status, redact(e.vendor_message)[:500])
    path = path or getattr(res, "path", None) or "the endpoint"
    method = getattr(res, "method", "POST")
    common = dict(vendor=e.vendor, table=e.table, status=e.status)
    # the kit marks the errors of an async job's requests: its submit (the resource's own path with
    # ?async=true), a status poll, the result link; only the resource's own path is worded by it
    stage = getattr(e, "async_stage", None)
    own = stage in (None, "submit") and "no status path" not in e.message
    if stage == "submit" and e.status == 504:
        return VendorHTTPError(f"the asynchronous submit of {path} met Voyzu's gateway limit too", **common,
                               hint="narrow the query (a condition on a name or e-mail column is sent as a search "
                                    "text), or try again later: Voyzu may be busy")
    if own and e.status == 400 and path.endswith("/search"):
        return VendorHTTPError("Voyzu refused the search as malformed", **common,
                               hint="the search input class may differ from what crmql sends: set search_reading "
                                    "(datatable, page, none) to match your server's GET /api/contacts/class")
    if e.status == 402:
        return VendorHTTPError("this operation needs a paid Voyzu subscription", **common)
    if e.status in VOYZU_ERRORS and isinstance(e, VendorHTTPError):
        tries = re.search(r"gave up after (\d+) attempts", e.message)
        times = "" if tries is None else " on its only attempt" if tries[1] == "1" else \
            f" on every one of {tries[1]} attempts"
        return VendorHTTPError(f"Voyzu reported {VOYZU_ERRORS[e.status]}{times}", **common,
                               hint="try again later; --debug logs Voyzu's ErrorMessage")
    if own and e.status == 404:
        return VendorHTTPError(f"Voyzu has no {method} {path} (Voyzu also answers 404 to a wrong HTTP verb)",
                               **common, hint="check base_url (it ends before /api)")
    if isinstance(e, AuthenticationError) and e.status == 401 and stage != "link":  # (a link takes no session)
        auth = getattr(getattr(connector, "_http", None), "auth", None)
        if auth is not None and not getattr(auth, "can_refresh", True) and hasattr(auth, "rejected"):
            return auth.rejected(AuthenticationError("refused", vendor=e.vendor, table=e.table, status=401))
    if not e.vendor_message:
        return e
    out = type(e)(_bare(e), **common, hint=e.hint)
    return out
