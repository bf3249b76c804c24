"""What went wrong with a request, in words a person can query: a Twisted failure → `crawl_errors` fields.

Stages: `fetch` (no answer: refused, reset, timeout, short body), `http` (a non-2xx answer), `offsite`
(a link or redirect to another site, refused before sending), `robots` (robots.txt forbids it),
`read` and `store` (set by the item pipelines).
"""

from __future__ import annotations

from typing import Any

from scrapy.exceptions import IgnoreRequest
from scrapy.spidermiddlewares.httperror import HttpError


def _reason(value: BaseException) -> tuple[str, str]:
    """(stage, reason) for an exception raised by the download."""
    from twisted.internet import error as terr
    from twisted.web._newclient import ResponseFailed, ResponseNeverReceived

    from .middlewares import OffSiteError

    name = type(value).__name__
    if isinstance(value, OffSiteError):
        return "offsite", str(value)
    if isinstance(value, IgnoreRequest):
        msg = str(value) or name
        if "DOWNLOAD_MAXSIZE" in msg:
            return "fetch", f"over the download size limit (DOWNLOAD_MAXSIZE): {msg}"
        if "redirect" in msg.lower():
            return "redirect", msg
        return ("robots" if "robots.txt" in msg else "ignored"), msg
    if name == "DownloadCancelledError":
        return (
            "fetch",
            f"over the download size limit (DOWNLOAD_MAXSIZE){': ' + str(value) if str(value) else ''}",
        )
    if name == "ResponseDataLossError":
        return "fetch", "body cut short: the connection closed before Content-Length bytes arrived"
    if "ConnectionRefused" in name:  # Twisted's and Scrapy's (DownloadConnectionRefusedError)
        return "fetch", "connection refused"
    if "Timeout" in name and "Download" in name:
        return "fetch", f"timed out ({value})"
    if isinstance(value, terr.ConnectionRefusedError):
        return "fetch", "connection refused"
    if isinstance(value, terr.TimeoutError | terr.TCPTimedOutError):
        return "fetch", f"timed out ({value})"
    if isinstance(value, terr.DNSLookupError):
        return "fetch", "DNS lookup failed"
    if isinstance(value, ResponseFailed | ResponseNeverReceived):
        inner = "; ".join(
            f"{type(r.value).__name__}: {r.getErrorMessage()}" for r in getattr(value, "reasons", [])
        )
        short = (
            "body shorter than Content-Length" if "PotentialDataLoss" in inner or "_DataLoss" in inner else ""
        )
        lost = "connection lost mid-answer" if "ConnectionLost" in inner or "ConnectionDone" in inner else ""
        return "fetch", (short or lost or name) + (f" ({inner})" if inner else "")
    text = str(value)
    if "maxsize" in text.lower() or "Cancelling download" in text:
        return "fetch", f"over the download size limit: {text}"
    return "fetch", f"{name}: {text}" if text else name


def http_reason(status: int, meta: dict[str, Any]) -> str:
    """`HTTP 503 (Retry-After 3600 s)`: the status, and the wait the portal asked for if it did."""
    retry_after = meta.get("nb_retry_after")
    return f"HTTP {status}" + (f" (Retry-After {retry_after:g} s)" if retry_after is not None else "")


def error_item_fields(failure: Any) -> dict[str, Any]:
    """url, kind, stage, evidence (the reason), http_status, attempts for one failed request."""
    request = failure.request
    value = failure.value
    attempts = request.meta.get("retry_times", 0) + 1
    status = None
    if isinstance(value, HttpError):
        response = value.response
        status = response.status
        stage, reason = "http", http_reason(status, request.meta)
        attempts = response.meta.get("retry_times", 0) + 1 if response.meta else attempts
    else:
        stage, reason = _reason(value)
    return {
        "url": request.url,
        "kind": request.meta.get("nb_kind", "page"),
        "stage": stage,
        "evidence": reason,
        "http_status": status,
        "attempts": attempts,
    }
