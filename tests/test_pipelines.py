"""The item pipelines as Scrapy tests its own: `get_crawler`, the stage by `from_crawler`, real SQLite
archives, real report files, and ReadStage's coroutine driven by asyncio (inline and with real workers)."""

from __future__ import annotations

import asyncio
import hashlib
import sqlite3
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import scrapy
from scrapy.crawler import Crawler
from scrapy.utils.test import get_crawler

from crawler.items import DocumentItem
from crawler.pipelines import ArchiveStage, ReadStage, _SharedPool
from crawler.spiders.disclosure import DisclosureSpider
from pipelines.read import ReadHints, read_report

PORTAL = "https://www.example.gov.cn/"
REPORT_URL = "https://www.example.gov.cn/xxgk/ndbg/202503/t20250328_1.html"
LIST_URL = "https://www.example.gov.cn/xxgk/ndbg/index.html"
REPORT_FILE = Path(__file__).parent / "fixtures" / "formats" / "r2021_ok.html"
HTML = "text/html; charset=utf-8"


def archiving_crawler(db: Path, **settings: Any) -> Crawler:
    """The disclosure spider for one portal, archiving into `db`."""
    crawler = get_crawler(DisclosureSpider, {"NIANBAO_DB": str(db), **settings})
    crawler.spider = crawler._create_spider(url=PORTAL, agency="示例市某某局")
    return crawler


def plain_crawler(db: Path, **settings: Any) -> Crawler:
    """A spider that is not ours (another project, `scrapy shell`): the stages must ignore it."""
    crawler = get_crawler(scrapy.Spider, {"NIANBAO_DB": str(db), **settings})
    crawler.spider = crawler._create_spider(name="plain")
    return crawler


def item(crawler: Crawler, body: bytes, url: str = REPORT_URL, kind: str = "report") -> DocumentItem:
    return DocumentItem(
        url=url,
        kind=kind,
        portal_id=crawler.spider.portal_name,
        body=body,
        http_status=200,
        content_type=HTML,
        fetched_at="2025-03-28T08:00:00Z",
        filename=url.rsplit("/", 1)[-1],
        link_text="示例市某某局2024年政府信息公开工作年度报告",
        etag='"e1"',
        last_modified="Fri, 28 Mar 2025 08:00:00 GMT",
    )


def archive(stage: ArchiveStage, doc: Any) -> Any:
    """The archive stage's coroutine for one item, driven by asyncio as Scrapy's reactor drives it."""
    return asyncio.run(stage.process_item(doc))


def rows(db: Path, sql: str, *params: object) -> list[tuple]:
    conn = sqlite3.connect(db)
    try:
        return conn.execute(sql, params).fetchall()
    finally:
        conn.close()


# ------------------------------------------------------------------ ArchiveStage


def test_archive_stage_stores_the_bytes_once(tmp_path: Path) -> None:
    """Every fetched body lands in blobs/versions/documents; the same bytes again add no version."""
    db = tmp_path / "a.db"
    crawler = archiving_crawler(db)
    stage = ArchiveStage.from_crawler(crawler)
    stage.open_spider()
    body = REPORT_FILE.read_bytes()
    first = item(crawler, body)
    assert archive(stage, first) is first
    assert first.stored is not None and first.stored.new_version
    again = item(crawler, body)
    archive(stage, again)
    assert again.stored is not None and not again.stored.new_version
    assert again.stored.version_id == first.stored.version_id

    sha = hashlib.sha256(body).hexdigest()
    assert rows(db, "SELECT url, kind, portal_id, etag FROM documents") == [
        (REPORT_URL, "report", crawler.spider.portal_name, '"e1"')
    ]
    assert rows(db, "SELECT sha256, content_type, http_status, crawl_id FROM versions") == [
        (sha, HTML, 200, stage.crawl_id)
    ]
    assert rows(db, "SELECT sha256, size, content FROM blobs") == [(sha, len(body), body)]
    assert crawler.stats.get_value("nianbao/new_versions") == 1
    assert crawler.stats.get_value("nianbao/unchanged") == 1


def test_archive_stage_waits_for_the_warc_record_the_spider_did_not(tmp_path: Path) -> None:
    """The WARC thread writes a response's record while the spider parses it; the version row must still
    get the record's place, so the archive stage waits for it before writing."""
    db = tmp_path / "a.db"
    crawler = archiving_crawler(db)
    stage = ArchiveStage.from_crawler(crawler)
    stage.open_spider()
    doc = item(crawler, REPORT_FILE.read_bytes())

    def write_record() -> dict[str, Any]:
        time.sleep(0.3)  # still being written when the item reaches the stage
        return {"warc_file": "nianbao-x-00000.warc.gz", "warc_offset": 4321, "warc_record_id": "<urn:uuid:1>"}

    with ThreadPoolExecutor(1) as warc_thread:
        doc.warc_written = warc_thread.submit(write_record)
        archive(stage, doc)
    assert doc.warc_written is None
    assert rows(db, "SELECT warc_file, warc_offset, warc_record_id FROM versions") == [
        ("nianbao-x-00000.warc.gz", 4321, "<urn:uuid:1>")
    ]


def test_an_item_the_spider_made_before_its_record_was_written_gets_the_place(tmp_path: Path) -> None:
    """The race CI once lost: the spider builds its item while the WARC thread still writes; the version row
    must still point at the record (the place comes from the record's future, written after the item)."""
    db = tmp_path / "a.db"
    crawler = archiving_crawler(db)
    stage = ArchiveStage.from_crawler(crawler)
    stage.open_spider()
    started, release = threading.Event(), threading.Event()

    def write_record() -> dict[str, Any]:
        started.set()
        release.wait(10)  # not written until the item exists
        return {"warc_file": "nianbao-x-00007.warc.gz", "warc_offset": 99, "warc_record_id": "<urn:uuid:7>"}

    with ThreadPoolExecutor(1) as warc_thread:
        request = scrapy.Request(REPORT_URL)
        request.meta["nb_warc_written"] = warc_thread.submit(write_record)
        started.wait(10)
        response = scrapy.http.HtmlResponse(
            REPORT_URL, body=REPORT_FILE.read_bytes(), headers={"Content-Type": HTML}, request=request
        )
        doc = crawler.spider._item(response, "report", body=response.body)
        assert doc.warc == {}  # still being written
        release.set()
        archive(stage, doc)
    assert rows(db, "SELECT warc_file, warc_offset, warc_record_id FROM versions") == [
        ("nianbao-x-00007.warc.gz", 99, "<urn:uuid:7>")
    ]


def test_a_warc_record_that_failed_is_on_record_and_the_bytes_still_archived(tmp_path: Path) -> None:
    db = tmp_path / "a.db"
    crawler = archiving_crawler(db)
    stage = ArchiveStage.from_crawler(crawler)
    stage.open_spider()
    doc = item(crawler, REPORT_FILE.read_bytes())

    def disk_full() -> dict[str, Any]:
        raise OSError(28, "No space left on device")

    with ThreadPoolExecutor(1) as warc_thread:
        doc.warc_written = warc_thread.submit(disk_full)
        archive(stage, doc)
    assert doc.stored is not None and doc.stored.new_version
    assert rows(db, "SELECT warc_file FROM versions") == [(None,)]
    [(stage_name, reason)] = rows(db, "SELECT stage, reason FROM crawl_errors WHERE url = ?", REPORT_URL)
    assert stage_name == "store" and reason.startswith("WARC record not written: OSError")
    assert "No space left on device" in reason
    assert stage.facts.store_errors == 1  # the crawl closes partial: a record is missing from the WARC


def test_archive_stage_opens_and_closes_the_crawl_row(tmp_path: Path) -> None:
    """The portal is registered and its crawl row says how the crawl ended."""
    db = tmp_path / "a.db"
    crawler = archiving_crawler(db)
    stage = ArchiveStage.from_crawler(crawler)
    stage.open_spider()
    assert crawler.spider.crawl_id == stage.crawl_id
    assert rows(db, "SELECT status FROM crawls") == [("running",)]
    archive(stage, item(crawler, b"<html>list</html>", url=LIST_URL, kind="list"))
    stage.spider_closed(crawler.spider, "finished")
    assert rows(db, "SELECT id, agency FROM portals") == [(crawler.spider.portal_name, "示例市某某局")]
    ((status, finished),) = rows(db, "SELECT status, finished_at FROM crawls")
    assert status == "finished" and finished


def test_archive_stage_creates_the_archive_folder(tmp_path: Path) -> None:
    """NIANBAO_DB in a folder that does not exist yet (a fresh deployment) is created, as the WARC one is."""
    db = tmp_path / "new" / "folder" / "a.db"
    stage = ArchiveStage.from_crawler(archiving_crawler(db))
    stage.open_spider()
    assert db.exists() and rows(db, "SELECT status FROM crawls") == [("running",)]


def test_archive_stage_passes_other_items_through(tmp_path: Path) -> None:
    """Items that are not DocumentItems (another pipeline's, a dict) come out as the same object."""
    crawler = archiving_crawler(tmp_path / "a.db")
    stage = ArchiveStage.from_crawler(crawler)
    stage.open_spider()
    other = {"url": REPORT_URL, "body": b"x"}
    assert archive(stage, other) is other and other == {"url": REPORT_URL, "body": b"x"}
    assert rows(tmp_path / "a.db", "SELECT count(*) FROM documents") == [(0,)]


def test_archive_stage_ignores_spiders_that_do_not_archive(tmp_path: Path) -> None:
    """A plain scrapy.Spider gets no archive: no file is created, its items are untouched."""
    db = tmp_path / "a.db"
    crawler = plain_crawler(db)
    stage = ArchiveStage.from_crawler(crawler)
    stage.open_spider()
    doc = DocumentItem(url=REPORT_URL, kind="report", portal_id="plain", body=b"<html></html>")
    assert archive(stage, doc) is doc
    assert doc.stored is None and doc.body == b"<html></html>"
    stage.spider_closed(crawler.spider, "finished")
    assert not db.exists()


# ------------------------------------------------------------------ ReadStage


def archived_item(crawler: Crawler, stage: ArchiveStage, body: bytes, **kwargs: Any) -> DocumentItem:
    """A DocumentItem as the archive stage hands it on: stored, with its version."""
    doc = item(crawler, body, **kwargs)
    archive(stage, doc)
    assert doc.stored is not None
    return doc


def expected_report() -> Any:
    hints = ReadHints(url=REPORT_URL, agency="示例市某某局", link_text=None)
    return read_report(REPORT_FILE.read_bytes(), "t20250328_1.html", HTML, hints)


def read_one(crawler: Crawler, doc: DocumentItem) -> DocumentItem:
    reader = ReadStage.from_crawler(crawler)
    reader.open_spider()
    try:
        return asyncio.run(reader.process_item(doc))
    finally:
        reader.close_spider()


def test_read_stage_reads_a_new_report_version_inline(tmp_path: Path) -> None:
    """NIANBAO_READ_WORKERS=0: the report is read in-process and written against its version."""
    db = tmp_path / "a.db"
    crawler = archiving_crawler(db, NIANBAO_READ_WORKERS=0)
    stage = ArchiveStage.from_crawler(crawler)
    stage.open_spider()
    doc = archived_item(crawler, stage, REPORT_FILE.read_bytes())
    assert read_one(crawler, doc) is doc
    assert doc.body == b""  # archived: not kept in memory or feeds
    expected = expected_report()
    assert rows(db, "SELECT version_id, status, year, template FROM reports") == [
        (doc.stored.version_id, expected.status, 2024, "2021")
    ]
    assert rows(db, "SELECT count(*) FROM figures") == [(len(expected.figures),)]
    assert crawler.stats.get_value("nianbao/new_report_versions") == 1
    assert crawler.stats.get_value(f"nianbao/reports_{expected.status}") == 1


def test_read_stage_reads_in_a_real_worker_process(tmp_path: Path) -> None:
    """NIANBAO_READ_WORKERS=1: the crawl's path, a forkserver worker; same report as inline."""
    db = tmp_path / "a.db"
    crawler = archiving_crawler(db, NIANBAO_READ_WORKERS=1, NIANBAO_READ_TIME_LIMIT=60)
    stage = ArchiveStage.from_crawler(crawler)
    stage.open_spider()
    doc = archived_item(crawler, stage, REPORT_FILE.read_bytes())
    reader = ReadStage.from_crawler(crawler)
    reader.open_spider()
    assert reader.pool is not None and _SharedPool.pool is reader.pool
    try:
        asyncio.run(reader.process_item(doc))
    finally:
        reader.close_spider()
    assert _SharedPool.pool is None  # released with the last user
    expected = expected_report()
    assert rows(db, "SELECT status, year, template FROM reports") == [(expected.status, 2024, "2021")]
    assert rows(db, "SELECT count(*) FROM figures") == [(len(expected.figures),)]


def test_read_stage_leaves_list_pages_and_known_versions_unread(tmp_path: Path) -> None:
    """Only new versions of reports and attachments are read: a list page, or bytes already read, are not."""
    db = tmp_path / "a.db"
    crawler = archiving_crawler(db, NIANBAO_READ_WORKERS=0)
    stage = ArchiveStage.from_crawler(crawler)
    stage.open_spider()
    listing = archived_item(crawler, stage, REPORT_FILE.read_bytes(), url=LIST_URL, kind="list")
    read_one(crawler, listing)
    assert listing.body == b""
    assert rows(db, "SELECT count(*) FROM reports") == [(0,)]

    read_one(crawler, archived_item(crawler, stage, REPORT_FILE.read_bytes()))
    unchanged = archived_item(crawler, stage, REPORT_FILE.read_bytes())
    assert not unchanged.stored.new_version
    read_one(crawler, unchanged)
    assert rows(db, "SELECT count(*) FROM reports") == [(1,)]
    assert crawler.stats.get_value("nianbao/new_report_versions") == 1


def test_read_stage_ignores_spiders_that_do_not_archive(tmp_path: Path) -> None:
    """A plain spider's items pass through with their bytes; no archive is opened, no pool started."""
    db = tmp_path / "a.db"
    crawler = plain_crawler(db, NIANBAO_READ_WORKERS=1)
    reader = ReadStage.from_crawler(crawler)
    reader.open_spider()
    assert reader.pool is None
    other = {"kind": "report"}
    assert asyncio.run(reader.process_item(other)) is other
    reader.close_spider()
    assert not db.exists()


def test_a_new_version_a_killed_crawl_left_unread_is_read_as_a_change(tmp_path: Path) -> None:
    """v1 read; v2 archived and the crawl killed before its read; the next crawl fetches v2's bytes again
    (no new version): reading it then records the change v1 → v2, as reading it the first time would have."""
    db = tmp_path / "a.db"
    crawler = archiving_crawler(db, NIANBAO_READ_WORKERS=0)
    stage = ArchiveStage.from_crawler(crawler)
    stage.open_spider()
    v1_body = REPORT_FILE.read_bytes()
    v2_body = v1_body.replace(b"</body>", "<p>（本报告于发布后更正）</p></body>".encode())
    assert v2_body != v1_body
    v1 = read_one(crawler, archived_item(crawler, stage, v1_body))
    v2 = archived_item(crawler, stage, v2_body)  # archived, never read (the process died)
    again = archived_item(crawler, stage, v2_body)
    assert not again.stored.new_version and again.stored.report_id is None
    assert again.stored.previous_version_id == v1.stored.version_id
    read_one(crawler, again)
    assert rows(db, "SELECT old_version_id, new_version_id FROM changes") == [
        (v1.stored.version_id, v2.stored.version_id)
    ]


def test_read_stage_reads_a_version_a_killed_crawl_left_unread(tmp_path: Path) -> None:
    """A crawl killed between archiving a report's bytes and writing its report: the next crawl fetches the
    same bytes (no new version) and still reads them, once, with no `changes` row against itself."""
    db = tmp_path / "a.db"
    crawler = archiving_crawler(db, NIANBAO_READ_WORKERS=0)
    stage = ArchiveStage.from_crawler(crawler)
    stage.open_spider()
    archived_item(crawler, stage, REPORT_FILE.read_bytes())  # archived, never read (the process died)
    assert rows(db, "SELECT count(*) FROM reports") == [(0,)]

    again = archived_item(crawler, stage, REPORT_FILE.read_bytes())
    assert not again.stored.new_version and again.stored.report_id is None
    read_one(crawler, again)
    assert rows(db, "SELECT version_id, is_latest FROM reports") == [(again.stored.version_id, 1)]
    assert rows(db, "SELECT count(*) FROM changes") == [(0,)]
    third = archived_item(crawler, stage, REPORT_FILE.read_bytes())
    assert third.stored.report_id is not None
    read_one(crawler, third)
    assert rows(db, "SELECT count(*) FROM reports") == [(1,)]
    assert crawler.stats.get_value("nianbao/new_report_versions") == 1
