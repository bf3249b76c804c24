"""Downloader middlewares: same-site guard, WARC capture, conditional requests, retry backoff (Retry-After
honoured); the `*.localhost` resolver."""

from __future__ import annotations

import email.utils
import functools
import logging
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from http.client import responses as REASONS
from pathlib import Path
from typing import TYPE_CHECKING, Any

from scrapy import signals
from scrapy.downloadermiddlewares.retry import RetryMiddleware
from scrapy.exceptions import IgnoreRequest
from scrapy.http import Request, Response
from scrapy.resolver import CachingThreadedResolver
from scrapy.utils.defer import maybe_deferred_to_future
from twisted.internet import defer, task

from archive.crawls import ArchiveView

from .portals import same_site
from .urls import normalize_url
from .warc import WarcWriter, warc_date

if TYPE_CHECKING:
    from scrapy.crawler import Crawler

log = logging.getLogger(__name__)


class LocalhostResolver(CachingThreadedResolver):
    """Resolve `localhost` and `*.localhost` to 127.0.0.1 without asking DNS (RFC 6761 §6.3).

    The demo portal and the test fixtures are virtual hosts (`shili.localhost`, …) of one loopback server,
    so each portal has its own host name for allowed_domains and robots.txt.
    """

    def getHostByName(self, name: str, timeout: Any = ()) -> defer.Deferred:
        if name == "localhost" or name.endswith(".localhost"):
            return defer.succeed("127.0.0.1")
        return super().getHostByName(name, timeout)


def _headers(headers: Any) -> list[tuple[str, str]]:
    out = []
    for key, values in headers.items():
        k = key.decode("latin-1") if isinstance(key, bytes) else str(key)
        for v in values:
            out.append((k, v.decode("latin-1") if isinstance(v, bytes) else str(v)))
    return out


class WarcMiddleware:
    """Write every request/response pair to WARC/1.1 as exchanged on the wire.

    Placed downloader-side of HttpCompressionMiddleware, so the body is still compressed and the headers
    (Content-Encoding included) are those received. Scrapy has already undone chunked framing and
    normalised header-name case; that is as close to the wire as an in-process writer gets. The written
    record's place is the result of `request.meta['nb_warc_written']`. Only archiving spiders are
    recorded: `scrapy shell`, `bench` and `check` (no portal) leave no WARC file behind.

    The records are written by one thread of their own, in arrival order (gzip, hashing and the file write
    release the GIL: they run beside the reactor). The response does not wait for its record: the spider
    parses it while the thread writes (a list walk would otherwise wait on every record in turn), and
    `request.meta['nb_warc_written']` (a future of the record's place) is what the archive stage awaits
    before it writes the version. Closing the spider waits for every record queued.
    """

    def __init__(self, crawler: Crawler):
        self.crawler = crawler
        self.writer: WarcWriter | None = None
        self.thread: ThreadPoolExecutor | None = None
        crawler.signals.connect(self.spider_opened, signal=signals.spider_opened)
        crawler.signals.connect(self.spider_closed, signal=signals.spider_closed)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> WarcMiddleware:
        return cls(crawler)

    def spider_opened(self, spider: Any) -> None:
        if not getattr(spider, "archiving", False):
            return
        s = self.crawler.settings
        prefix = f"nianbao-{getattr(spider, 'portal_name', spider.name)}"
        self.writer = WarcWriter(
            Path(s.get("NIANBAO_WARC_DIR")),
            prefix=prefix,
            max_size=s.getint("NIANBAO_WARC_MAX_SIZE"),
            software=s.get("USER_AGENT"),
            operator=s.get("CONTACT_URL"),
            robots="obey" if s.getbool("ROBOTSTXT_OBEY") else "ignore",
        )
        spider.warc_writer = self.writer
        self.thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="warc")

    def spider_closed(self, spider: Any) -> None:
        if self.thread is not None:
            self.thread.shutdown(wait=True)  # every record queued is written before the file closes
            self.thread = None
        if self.writer is not None:
            self.writer.close()

    def process_response(self, request: Request, response: Response) -> Response:
        if self.writer is None or self.thread is None:
            return response
        status = response.status
        write = functools.partial(
            self.writer.write_exchange,
            url=request.url,
            method=request.method,
            request_headers=_headers(request.headers),
            request_body=request.body or b"",
            status=status,
            reason=REASONS.get(status, ""),
            protocol=getattr(response, "protocol", None) or "HTTP/1.1",
            response_headers=_headers(response.headers),
            body=response.body,
            ip_address=str(response.ip_address) if getattr(response, "ip_address", None) else None,
            date=warc_date(),
        )
        request.meta["nb_warc_written"] = self.thread.submit(self._write, write, len(response.body))
        return response

    def _write(self, write: Callable[[], Any], size: int) -> dict[str, Any]:
        """On the warc thread: write one exchange and say where it went (its stats keys are this thread's)."""
        record = write()
        place = dict(
            warc_file=record.warc_file,
            warc_offset=record.offset,
            warc_record_id=record.record_id,
            record_type=record.record_type,
        )
        stats = self.crawler.stats
        assert stats is not None
        stats.inc_value("nianbao/warc_records")
        stats.inc_value("nianbao/bytes_received", size)
        if record.record_type == "revisit":
            stats.inc_value("nianbao/warc_revisits")
        return place


class ConditionalRequestMiddleware:
    """Send If-None-Match / If-Modified-Since for every GET of a document already archived.

    Unlike deltafetch, nothing is skipped: the portal decides (304 = unchanged, 200 = a possibly new
    version). List pages are revalidated too: the links of a 304 list are read from its archived copy, so
    a new report still shows up when its list changed, and an unchanged recrawl moves almost no bytes.
    """

    def __init__(self, crawler: Crawler):
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> ConditionalRequestMiddleware:
        return cls(crawler)

    def process_request(self, request: Request) -> None:
        spider = self.crawler.spider
        state: ArchiveView | None = getattr(spider, "archive_state", None)
        if state is None or request.method != "GET" or not request.meta.get("nb_kind"):
            return None
        etag, last_modified = state.validators.get(request.url, (None, None))
        if etag and b"If-None-Match" not in request.headers:
            request.headers[b"If-None-Match"] = etag
        if last_modified and b"If-Modified-Since" not in request.headers:
            request.headers[b"If-Modified-Since"] = last_modified
        if etag or last_modified:
            assert self.crawler.stats is not None
            self.crawler.stats.inc_value("nianbao/conditional_requests")
        return None


class OffSiteError(IgnoreRequest):
    """A request (a link or a redirect) to another site: another host, scheme or port than the portal's."""


class SameSiteMiddleware:
    """Refuse every request outside the portal's site (crawler/portals `same_site`: host, scheme and port),
    redirects included, before robots.txt or anything else is fetched there; resolve dot segments in paths.

    Scrapy's own OffsiteMiddleware compares host names only, so a link or a 302 to another port of the
    portal's host was fetched. Spiders without a `portal` (shell, bench) are not guarded.
    """

    def __init__(self, crawler: Crawler):
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> SameSiteMiddleware:
        return cls(crawler)

    def process_request(self, request: Request) -> Request | None:
        spider = self.crawler.spider
        portal = getattr(spider, "portal", None)
        if portal is None or not getattr(spider, "archiving", False):
            return None
        if not same_site(request.url, list(portal.allowed_domains), list(portal.start_urls)):
            assert self.crawler.stats is not None
            self.crawler.stats.inc_value("nianbao/offsite_refused")
            raise OffSiteError(f"off-site request refused: {request.url}")
        clean = normalize_url(request.url)
        if clean != request.url:
            assert self.crawler.stats is not None
            self.crawler.stats.inc_value("nianbao/dot_segments_resolved")
            return request.replace(url=clean, dont_filter=True)
        return None


class RedirectGuardMiddleware:
    """Catch a redirect that loops or leaves the site before RedirectMiddleware (600) follows it.

    A loop would otherwise end silently in the scheduler's duplicate filter, and an off-site target would
    be refused only as a new request: here both become a failed request with a reason (`crawl_errors`).
    """

    def __init__(self, crawler: Crawler):
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> RedirectGuardMiddleware:
        return cls(crawler)

    def process_response(self, request: Request, response: Response) -> Response:
        location = response.headers.get(b"Location")
        if response.status not in (301, 302, 303, 307, 308) or not location:
            return response
        target = normalize_url(response.urljoin(location.decode("latin-1")))
        chain = [*request.meta.get("redirect_urls", []), request.url]
        if target in chain:
            raise IgnoreRequest(f"redirect loop: {' → '.join([*chain, target])}")
        spider = self.crawler.spider
        portal = getattr(spider, "portal", None)
        if portal is None or not getattr(spider, "archiving", False):
            return response
        if not same_site(target, list(portal.allowed_domains), list(portal.start_urls)):
            raise OffSiteError(f"redirect to another site refused: {request.url} → {target}")
        return response


def retry_after_seconds(value: bytes | str | None, now: float | None = None) -> float | None:
    """Seconds asked for by a Retry-After header (delta-seconds or an HTTP date), None when absent/invalid."""
    if not value:
        return None
    text = value.decode("latin-1") if isinstance(value, bytes) else value
    text = text.strip()
    if text.isdigit():
        return float(text)
    try:
        when = email.utils.parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return None
    if when is None:
        return None
    return max(0.0, when.timestamp() - (now if now is not None else time.time()))


class BackoffRetryMiddleware(RetryMiddleware):
    """Scrapy's retry, waiting RETRY_BACKOFF_BASE × 2^(n-1) seconds (capped) before the n-th retry, or
    the answer's Retry-After when it asks for longer (capped by RETRY_AFTER_MAX: a portal asking for an
    hour does not stall a crawl for an hour; the URL is retried and, if it still fails, on record)."""

    def __init__(self, settings: Any):
        super().__init__(settings)
        self.base = settings.getfloat("RETRY_BACKOFF_BASE", 2.0)
        self.cap = settings.getfloat("RETRY_BACKOFF_MAX", 60.0)
        self.retry_after_cap = settings.getfloat("RETRY_AFTER_MAX", 120.0)

    async def _wait(self, result: Request, asked: float | None = None) -> Request:
        delay = min(self.cap, self.base * 2 ** (result.meta.get("retry_times", 1) - 1))
        if asked is not None:
            delay = max(delay, min(asked, self.retry_after_cap))
            result.meta["nb_retry_after"] = asked
        if delay > 0:
            from twisted.internet import reactor

            await maybe_deferred_to_future(task.deferLater(reactor, delay, lambda: None))
        return result

    async def process_response(self, request: Request, response: Response) -> Request | Response:  # type: ignore[override]
        result = super().process_response(request, response)
        if not isinstance(result, Request):
            return result
        return await self._wait(result, retry_after_seconds(response.headers.get(b"Retry-After")))

    async def process_exception(self, request: Request, exception: Exception) -> Request | Response | None:  # type: ignore[override]
        result = super().process_exception(request, exception)
        return await self._wait(result) if isinstance(result, Request) else result
