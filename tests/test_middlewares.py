"""Downloader middlewares as Scrapy tests its own: `get_crawler(Spider, settings)`, the spider built by the
crawler, the middleware by `from_crawler`, real archive files, real WARC files, the real reactor's clock."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest
import scrapy
from scrapy.crawler import Crawler
from scrapy.http import HtmlResponse, Request, Response
from scrapy.utils.test import get_crawler
from warcio.archiveiterator import ArchiveIterator

from archive.db import open_db
from archive.store import FetchMeta, attach_report, write_version
from crawler.middlewares import BackoffRetryMiddleware, ConditionalRequestMiddleware, WarcMiddleware
from crawler.spiders.disclosure import DisclosureSpider
from pipelines.report import Report

PORTAL = "https://www.example.gov.cn/"
REPORT = "https://www.example.gov.cn/xxgk/ndbg/2024/report.html"
ATTACHMENT = "https://www.example.gov.cn/files/2024.pdf"
LIST = "https://www.example.gov.cn/xxgk/ndbg/index.html"
ETAG = '"abc123"'
LAST_MODIFIED = "Fri, 28 Mar 2025 08:00:00 GMT"


def disclosure_crawler(settings: dict[str, Any] | None = None) -> Crawler:
    """A crawler whose spider is the archiving disclosure spider for one portal (no registry needed)."""
    crawler = get_crawler(DisclosureSpider, settings)
    crawler.spider = crawler._create_spider(url=PORTAL, agency="示例县人民政府")
    return crawler


def plain_crawler(settings: dict[str, Any] | None = None) -> Crawler:
    """A crawler for a spider that archives nothing (what `scrapy shell` or another project runs)."""
    crawler = get_crawler(scrapy.Spider, settings)
    crawler.spider = crawler._create_spider(name="plain")
    return crawler


# ------------------------------------------------------------------ ConditionalRequestMiddleware


@pytest.fixture
def archived(tmp_path: Path) -> Path:
    """A real archive holding a report (ETag + Last-Modified), an attachment (Last-Modified only) and a
    list page with an ETag (revalidated too: a 304 list's links are read from the stored copy)."""
    path = tmp_path / "a.db"
    db = open_db(path)
    report = FetchMeta(url=REPORT, kind="report", etag=ETAG, last_modified=LAST_MODIFIED)
    attach_report(db, write_version(db, b"<html>report</html>", report), Report(status="partial"))
    attachment = FetchMeta(url=ATTACHMENT, kind="attachment", last_modified=LAST_MODIFIED)
    attach_report(db, write_version(db, b"%PDF-1.4", attachment), Report(status="failed"))
    write_version(db, b"<html>list</html>", FetchMeta(url=LIST, kind="list", etag='"list"'))
    db.close()
    return path


def conditional(archived: Path) -> tuple[Crawler, ConditionalRequestMiddleware]:
    crawler = disclosure_crawler({"NIANBAO_DB": str(archived)})
    return crawler, ConditionalRequestMiddleware.from_crawler(crawler)


def test_known_report_gets_both_validators(archived: Path) -> None:
    """The portal can answer 304 only if it is told what we already hold."""
    crawler, mw = conditional(archived)
    request = Request(REPORT, meta={"nb_kind": "report"})
    assert mw.process_request(request) is None
    assert request.headers.get(b"If-None-Match") == ETAG.encode()
    assert request.headers.get(b"If-Modified-Since") == LAST_MODIFIED.encode()
    assert crawler.stats.get_value("nianbao/conditional_requests") == 1


def test_known_attachment_gets_only_the_validator_it_has(archived: Path) -> None:
    """No invented ETag: an attachment stored with Last-Modified only sends If-Modified-Since only."""
    _, mw = conditional(archived)
    request = Request(ATTACHMENT, meta={"nb_kind": "attachment"})
    mw.process_request(request)
    assert b"If-None-Match" not in request.headers
    assert request.headers.get(b"If-Modified-Since") == LAST_MODIFIED.encode()


def test_list_pages_are_revalidated_and_unknown_urls_fetched_in_full(archived: Path) -> None:
    """Every spider GET of an archived URL is conditional, lists included; unknown URLs and requests that
    are not the spider's (no kind) are fetched in full."""
    crawler, mw = conditional(archived)
    listed = Request(LIST, meta={"nb_kind": "list"})
    mw.process_request(listed)
    assert listed.headers.get(b"If-None-Match") == b'"list"'
    assert b"If-Modified-Since" not in listed.headers
    for request in (Request(REPORT + "?new", meta={"nb_kind": "report"}), Request(REPORT)):
        mw.process_request(request)
        assert b"If-None-Match" not in request.headers and b"If-Modified-Since" not in request.headers
    assert crawler.stats.get_value("nianbao/conditional_requests") == 1


def test_a_report_never_read_is_fetched_in_full(archived: Path) -> None:
    """A crawl killed between archiving a report and reading it: the next crawl must not be answered 304 (no
    bytes to read), so the request goes without validators; a 200 of the same bytes is read then. Another
    place's report (never read) keeps its validators."""
    unread, foreign = PORTAL + "xxgk/ndbg/2023/report.html", PORTAL + "xxgk/other-county-2024.html"
    db = open_db(archived)
    write_version(db, b"<html>2023</html>", FetchMeta(url=unread, kind="report", etag='"u"'))
    write_version(
        db, b"<html>x</html>", FetchMeta(url=foreign, kind="report", etag='"f"', foreign_place="青岚县")
    )
    db.close()
    _, mw = conditional(archived)
    requests = {url: Request(url, meta={"nb_kind": "report"}) for url in (unread, foreign, REPORT)}
    for request in requests.values():
        mw.process_request(request)
    assert b"If-None-Match" not in requests[unread].headers
    assert requests[foreign].headers.get(b"If-None-Match") == b'"f"'
    assert requests[REPORT].headers.get(b"If-None-Match") == ETAG.encode()


def test_validators_already_set_are_kept(archived: Path) -> None:
    """A request built with its own validators (a re-check) is not overwritten."""
    _, mw = conditional(archived)
    request = Request(REPORT, meta={"nb_kind": "report"}, headers={"If-None-Match": '"mine"'})
    mw.process_request(request)
    assert request.headers.getlist(b"If-None-Match") == [b'"mine"']


def test_spider_without_archive_is_left_alone(archived: Path) -> None:
    """Other spiders (no `archive_state`) pass through untouched."""
    crawler = plain_crawler({"NIANBAO_DB": str(archived)})
    mw = ConditionalRequestMiddleware.from_crawler(crawler)
    request = Request(REPORT, meta={"nb_kind": "report"})
    mw.process_request(request)
    assert b"If-None-Match" not in request.headers


# ------------------------------------------------------------------ BackoffRetryMiddleware


def run_on_reactor(coro: Any) -> Any:
    """Run a middleware coroutine on the asyncio loop of the installed reactor (conftest), so its
    `deferLater(reactor, …)` waits on a real clock."""
    from twisted.internet import reactor

    return reactor._asyncioEventloop.run_until_complete(coro)  # type: ignore[attr-defined]


def backoff(settings: dict[str, Any]) -> tuple[Crawler, BackoffRetryMiddleware]:
    crawler = disclosure_crawler(settings)
    return crawler, BackoffRetryMiddleware.from_crawler(crawler)


def timed(mw: BackoffRetryMiddleware, request: Request, status: int) -> tuple[Request | Response, float]:
    response = HtmlResponse(request.url, status=status, body=b"busy", request=request)
    started = time.monotonic()
    result = run_on_reactor(mw.process_response(request, response))
    return result, time.monotonic() - started


def test_503_is_retried_after_an_exponential_backoff() -> None:
    """A busy portal gets 0.2 s, then 0.4 s before the retries, not an immediate second hit."""
    crawler, mw = backoff({"RETRY_TIMES": 3, "RETRY_BACKOFF_BASE": 0.2, "RETRY_BACKOFF_MAX": 60})
    first, waited = timed(mw, Request(REPORT), 503)
    assert isinstance(first, Request) and first.meta["retry_times"] == 1
    assert first.dont_filter and first.url == REPORT
    assert 0.2 <= waited < 1.0
    second, waited = timed(mw, first, 503)
    assert isinstance(second, Request) and second.meta["retry_times"] == 2
    assert 0.4 <= waited < 1.2
    assert crawler.stats.get_value("retry/count") == 2
    assert crawler.stats.get_value("retry/reason_count/503 Service Unavailable") == 2


def test_backoff_is_capped() -> None:
    """RETRY_BACKOFF_MAX bounds the wait: the fourth try waits the cap, not base × 2³."""
    _, mw = backoff({"RETRY_TIMES": 5, "RETRY_BACKOFF_BASE": 0.25, "RETRY_BACKOFF_MAX": 0.3})
    request = Request(REPORT, meta={"retry_times": 2})
    retried, waited = timed(mw, request, 503)
    assert isinstance(retried, Request) and retried.meta["retry_times"] == 3
    assert 0.3 <= waited < 0.9  # uncapped it would be 1.0 s


def test_gives_up_after_retry_times_without_waiting() -> None:
    """The last 503 is returned to the spider at once (it may be a block page to record)."""
    crawler, mw = backoff({"RETRY_TIMES": 1, "RETRY_BACKOFF_BASE": 1.0})
    request = Request(REPORT, meta={"retry_times": 1})
    result, waited = timed(mw, request, 503)
    assert isinstance(result, Response) and result.status == 503
    assert waited < 0.5
    assert crawler.stats.get_value("retry/max_reached") == 1


def test_success_passes_through_without_waiting() -> None:
    """A 200 is the response itself, with no delay."""
    _, mw = backoff({"RETRY_BACKOFF_BASE": 1.0})
    request = Request(REPORT)
    result, waited = timed(mw, request, 200)
    assert isinstance(result, Response) and result.status == 200 and waited < 0.5


# ------------------------------------------------------------------ WarcMiddleware


def warc_settings(tmp_path: Path) -> dict[str, Any]:
    return {"NIANBAO_WARC_DIR": str(tmp_path / "warc"), "NIANBAO_WARC_MAX_SIZE": 10_000_000}


def test_warc_record_is_readable_at_its_offset(tmp_path: Path) -> None:
    """The archive stores (file, offset, record id): seeking there must give back the exchange."""
    crawler = disclosure_crawler(warc_settings(tmp_path))
    mw = WarcMiddleware.from_crawler(crawler)
    mw.spider_opened(crawler.spider)
    body = "<html><body>示例县人民政府2023年政府信息公开工作年度报告</body></html>".encode()
    request = Request(REPORT, headers={"Accept-Language": "zh-CN"})
    response = HtmlResponse(
        REPORT, status=200, body=body, headers={"Content-Type": "text/html; charset=utf-8"}, request=request
    )
    assert mw.process_response(request, response) is response
    mw.spider_closed(crawler.spider)

    where = request.meta["nb_warc_written"].result(timeout=10)
    assert where["record_type"] == "response"
    path = tmp_path / "warc" / where["warc_file"]
    assert path.name.startswith("nianbao-") and path.name.endswith(".warc.gz")
    with path.open("rb") as fh:
        fh.seek(where["warc_offset"])
        record = next(iter(ArchiveIterator(fh)))
        assert record.rec_type == "response"
        assert record.rec_headers.get_header("WARC-Target-URI") == REPORT
        assert record.rec_headers.get_header("WARC-Record-ID") == where["warc_record_id"]
        assert record.http_headers.get_statuscode() == "200"
        assert record.http_headers.get_header("Content-Type") == "text/html; charset=utf-8"
        assert record.content_stream().read() == body
    with path.open("rb") as fh:
        types = [r.rec_type for r in ArchiveIterator(fh)]
    assert types.count("request") == 1 and types.count("response") == 1 and types[0] == "warcinfo"
    assert crawler.stats.get_value("nianbao/warc_records") == 1
    assert crawler.stats.get_value("nianbao/bytes_received") == len(body)


def test_same_payload_again_is_a_revisit(tmp_path: Path) -> None:
    """Unchanged bytes are not stored twice: the second capture is a revisit record."""
    crawler = disclosure_crawler(warc_settings(tmp_path))
    mw = WarcMiddleware.from_crawler(crawler)
    mw.spider_opened(crawler.spider)
    kinds = []
    for _ in range(2):
        request = Request(REPORT)
        mw.process_response(request, HtmlResponse(REPORT, body=b"<html>same</html>", request=request))
        kinds.append(request.meta["nb_warc_written"].result(timeout=10)["record_type"])
    mw.spider_closed(crawler.spider)
    assert kinds == ["response", "revisit"]
    assert crawler.stats.get_value("nianbao/warc_revisits") == 1


def test_non_archiving_spider_writes_no_warc(tmp_path: Path) -> None:
    """`scrapy shell`, `bench` and other spiders must not leave WARC files (or a digest index) behind."""
    crawler = plain_crawler(warc_settings(tmp_path))
    mw = WarcMiddleware.from_crawler(crawler)
    mw.spider_opened(crawler.spider)
    request = Request(REPORT)
    response = HtmlResponse(REPORT, body=b"<html></html>", request=request)
    assert mw.process_response(request, response) is response
    mw.spider_closed(crawler.spider)
    assert "nb_warc_written" not in request.meta
    assert not (tmp_path / "warc").exists()
