"""Item pipelines — the crawl's data flow, in ITEM_PIPELINES order:

1. `ArchiveStage` (300): every fetched body goes into the archive (blob + document + version) before
   anything else can fail; 304/404/blocked events update their documents; the `crawls` row is opened and
   closed here.
2. `ReadStage` (400): new versions of reports and attachments are read (`pipelines.read.read_report`) in a
   process pool, off the reactor thread; only the short write of the report stays on the reactor.

Items that are not `DocumentItem`s (another spider, `scrapy shell`, `scrapy bench`) pass through untouched.
"""

from __future__ import annotations

import json
import logging
import os
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from scrapy import signals

from archive.crawls import (
    close_crawl,
    mark_gone,
    mark_seen_unchanged,
    open_crawl,
    portal_report_count,
    record_error,
    register_portal,
    unseen_documents,
)
from archive.db import open_db
from archive.store import FetchMeta, StoreResult, attach_report, write_version
from pipelines.pool import ReaderPool
from pipelines.read import ReadHints, read_report

from .items import DocumentItem
from .outcome import CrawlFacts, decide, safe_filename

if TYPE_CHECKING:
    import sqlite_utils
    from scrapy.crawler import Crawler

log = logging.getLogger(__name__)
READ_KINDS = ("report", "attachment")


def _portal_of(crawler: Crawler) -> Any:
    """The spider's registry entry, or None for spiders that do not archive (shell, bench, check, others)."""
    if not getattr(crawler.spider, "archiving", False):
        return None
    return getattr(crawler.spider, "portal", None)


def _jobdir_reused(jobdir: str | None) -> bool:
    """A Scrapy JOBDIR that already held a crawl (`scrapy crawl -s JOBDIR=…` run again): what this run
    did not fetch may have been fetched by the earlier one, so absence proves nothing."""
    return jobdir is not None and jobdir != "" and (Path(jobdir) / "spider.state").exists()


class ArchiveStage:
    """Archive the bytes of every fetch, keep the `portals` and `crawls` rows."""

    def __init__(self, crawler: Crawler):
        self.crawler = crawler
        self.db: sqlite_utils.Database | None = None
        self.crawl_id: int | None = None
        self.seen: set[str] = set()
        self.facts = CrawlFacts()
        self.started = time.monotonic()
        crawler.signals.connect(self.spider_closed, signal=signals.spider_closed)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> ArchiveStage:
        return cls(crawler)

    def open_spider(self) -> None:
        portal = _portal_of(self.crawler)
        if portal is None:
            return
        path = Path(self.crawler.settings.get("NIANBAO_DB"))
        # Created like the WARC folder: a fresh deployment has neither.
        path.parent.mkdir(parents=True, exist_ok=True)
        self.db = open_db(path)
        register_portal(
            self.db,
            {
                "id": portal.name,
                "name": portal.title or portal.agency,
                "agency": portal.agency,
                "region": portal.region,
                "level": portal.level,
                "cms": portal.cms,
                "start_urls": json.dumps(portal.start_urls, ensure_ascii=False),
                "allowed_domains": json.dumps(portal.allowed_domains),
                "hints": json.dumps(portal.hints, ensure_ascii=False),
            },
        )
        self.facts.archived_reports = portal_report_count(self.db, portal.name)
        self.crawl_id = open_crawl(self.db, portal.name)
        self.crawler.spider.crawl_id = self.crawl_id  # type: ignore[union-attr]
        self.crawler.stats.set_value("nianbao/crawl_id", self.crawl_id)

    def process_item(self, item: Any) -> Any:
        if self.db is None or not isinstance(item, DocumentItem):
            return item
        stats = self.crawler.stats
        assert stats is not None
        if item.event != "error":
            self.seen.add(item.url)
        self.facts.note(item)
        try:
            if item.event == "error":
                self.record(
                    item.url,
                    item.stage or "fetch",
                    item.evidence or "",
                    item.kind,
                    item.http_status,
                    item.attempts,
                )
            elif item.event == "fetched":
                item.stored = write_version(self.db, item.body, self.fetch_meta(item))
                stats.inc_value("nianbao/new_versions" if item.stored.new_version else "nianbao/unchanged")
            elif item.event == "not_modified":
                mark_seen_unchanged(self.db, item.url, when=item.fetched_at)
            elif item.event == "gone":
                if mark_gone(self.db, item.url, when=item.fetched_at, http_status=item.http_status):
                    stats.inc_value("nianbao/gone")
            elif item.event in ("challenged", "blocked"):  # one challenged page / the portal blocked
                self.record(item.url, "challenge", item.evidence or "", item.kind, item.http_status, None)
        except Exception as exc:  # never let one document stop the crawl: the WARC still has the bytes
            log.exception("could not archive %s: %s", item.url, exc)
            stats.inc_value("nianbao/store_errors")
            self.facts.store_errors += 1
            try:
                self.record(
                    item.url, "store", f"{type(exc).__name__}: {exc}", item.kind, item.http_status, None
                )
            except Exception:  # the archive itself refuses writes (disk full, locked): the log has it
                log.exception("could not record the store error of %s", item.url)
        return item

    def record(
        self,
        url: str,
        stage: str,
        reason: str,
        kind: str | None,
        http_status: int | None,
        attempts: int | None,
    ) -> None:
        """One fault of this crawl into `crawl_errors`."""
        assert self.db is not None
        record_error(
            self.db,
            self.crawl_id,
            url,
            stage=stage,
            reason=reason,
            kind=kind,
            http_status=http_status,
            attempts=attempts,
        )
        assert self.crawler.stats is not None
        self.crawler.stats.inc_value(f"nianbao/errors/{stage}")

    def fetch_meta(self, item: DocumentItem) -> FetchMeta:
        return FetchMeta(
            url=item.url,
            # Stored kinds: a 详见附件 landing page stays the report's page (its attachment is read, not it);
            # another place's report is a report document naming its place in `foreign_place`. Neither is
            # read as this portal's report (READ_KINDS).
            kind={"landing": "report", "foreign": "report"}.get(item.kind, item.kind),
            foreign_place=item.foreign_place,
            portal_id=item.portal_id,
            fetched_at=item.fetched_at,
            http_status=item.http_status,
            content_type=item.content_type,
            filename=safe_filename(item.filename),
            title=item.title,
            link_text=item.link_text,
            discovered_from=item.discovered_from,
            etag=item.etag,
            last_modified=item.last_modified,
            warc_file=item.warc.get("warc_file"),
            warc_offset=item.warc.get("warc_offset"),
            warc_record_id=item.warc.get("warc_record_id"),
            crawl_id=self.crawl_id,
        )

    def spider_closed(self, spider: Any, reason: str) -> None:
        """Close the crawl row with its status and reason (crawler/outcome.py decides); mark unseen documents
        gone only when the crawl read the portal's lists completely."""
        if self.db is None or self.crawl_id is None:
            return
        stats = self.crawler.stats
        assert stats is not None
        self.facts.finish_reason = reason
        self.facts.reports_found = len(spider.reports)
        self.facts.blocked_evidence = spider.blocked_evidence
        self.facts.challenged = len(getattr(spider, "challenged", None) or [])
        self.facts.budget_exhausted = bool(spider.budget_exhausted)
        self.facts.resumed = self.crawler.settings.getbool("NIANBAO_RESUMED") or _jobdir_reused(
            self.crawler.settings.get("JOBDIR")
        )
        self.facts.robots_forbidden = stats.get_value("robotstxt/forbidden", 0) or 0
        outcome = decide(self.facts)
        status = outcome.status
        gone = 0
        if outcome.gone_pass:
            for url in unseen_documents(self.db, spider.portal_name, self.seen | spider.linked):
                gone += mark_gone(self.db, url)
        stats.set_value("nianbao/marked_gone", gone)
        stats.set_value("nianbao/exit_code", outcome.exit_code)
        stats.set_value("nianbao/status", status)
        elapsed = time.monotonic() - self.started
        pages = stats.get_value("response_received_count", 0)
        stats.set_value("nianbao/elapsed_seconds", round(elapsed, 3))
        stats.set_value("nianbao/pages_per_second", round(pages / elapsed, 2) if elapsed else None)
        writer = getattr(spider, "warc_writer", None)
        row: dict[str, Any] = {
            "status": status,
            "reason": outcome.reason,
            "pages": pages,
            "reports_found": len(spider.reports),
            "bytes_received": stats.get_value("nianbao/bytes_received", 0),
            "warc_files": json.dumps([str(p) for p in writer.paths()] if writer else []),
            "stats": json.dumps(
                {**stats.get_stats(), "finish_reason": reason}, default=str, ensure_ascii=False
            ),
        }
        if spider.blocked_evidence:
            row["blocked_evidence"] = spider.blocked_evidence
        close_crawl(self.db, self.crawl_id, row)
        log.info(
            "crawl %s of %s: %s (%s), %d pages, %d reports, %d marked gone",
            self.crawl_id,
            spider.portal_name,
            status,
            outcome.reason or "",
            pages,
            len(spider.reports),
            gone,
        )
        self.db.close()
        self.db = None


class _SharedPool:
    """One reader pool per crawl process, shared by the crawlers of a multi-portal crawl."""

    pool: ReaderPool | None = None
    users = 0

    @classmethod
    def acquire(cls, workers: int, time_limit: float) -> ReaderPool:
        if cls.pool is None:
            cls.pool = ReaderPool(workers or None, time_limit)
            cls.pool.warm()
        cls.users += 1
        return cls.pool

    @classmethod
    def release(cls) -> None:
        cls.users -= 1
        if cls.users <= 0 and cls.pool is not None:
            cls.pool.close()
            cls.pool = None
            cls.users = 0


class ReadStage:
    """Read new report and attachment versions in worker processes and write their reports.

    NIANBAO_READ_WORKERS: pool size (default: the number of cores); 0 reads in the reactor thread (a debug
    aid: it stalls the crawl). NIANBAO_READ_TIME_LIMIT: seconds one document may take.
    """

    def __init__(self, crawler: Crawler):
        self.crawler = crawler
        self.db: sqlite_utils.Database | None = None
        self.pool: ReaderPool | None = None
        self.workers = crawler.settings.getint("NIANBAO_READ_WORKERS", os.cpu_count() or 1)
        self.time_limit = crawler.settings.getfloat("NIANBAO_READ_TIME_LIMIT", 120.0)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> ReadStage:
        return cls(crawler)

    def open_spider(self) -> None:
        if _portal_of(self.crawler) is None:
            return
        self.db = open_db(self.crawler.settings.get("NIANBAO_DB"))
        if self.workers != 0:
            self.pool = _SharedPool.acquire(self.workers, self.time_limit)

    def close_spider(self) -> None:
        if self.pool is not None:
            _SharedPool.release()
            self.pool = None
        if self.db is not None:
            self.db.close()
            self.db = None

    async def process_item(self, item: Any) -> Any:
        if not isinstance(item, DocumentItem):
            return item
        stored: StoreResult | None = item.stored
        if self.db is not None and stored is not None and stored.new_version and item.kind in READ_KINDS:
            await self._read(item, stored)
        item.body = b""  # the bytes are archived; do not keep them in memory or feeds
        return item

    def _record(self, crawl_id: int | None, item: DocumentItem, stage: str, reason: str) -> None:
        assert self.db is not None and self.crawler.stats is not None
        try:
            record_error(
                self.db,
                crawl_id,
                item.url,
                stage=stage,
                reason=reason,
                kind=item.kind,
                http_status=item.http_status,
            )
        except Exception:
            log.exception("could not record the %s error of %s", stage, item.url)
        self.crawler.stats.inc_value(f"nianbao/errors/{stage}")

    async def _read(self, item: DocumentItem, stored: StoreResult) -> None:
        assert self.db is not None
        stats = self.crawler.stats
        assert stats is not None
        portal = _portal_of(self.crawler)
        hints = ReadHints(
            url=item.url,
            agency=getattr(portal, "agency", None),
            region=getattr(portal, "region", None),
            level=getattr(portal, "level", None),
            link_text=item.link_text,
            attachments=list(item.attachments),
            title=item.title,
            published=item.published,
            published_source=item.published_source,
            column=item.column,
        )
        name = safe_filename(item.filename) or safe_filename(item.url.rsplit("/", 1)[-1]) or "document"
        if self.pool is not None:
            report = await self.pool.read_async(item.body, name, item.content_type, hints)
        else:
            report = read_report(item.body, name, item.content_type, hints)
        crawl_id = getattr(self.crawler.spider, "crawl_id", None)
        if report.status == "failed":
            self._record(crawl_id, item, "read", "; ".join(report.problems) or "unreadable")
        try:
            attach_report(self.db, stored, report)
        except Exception as exc:
            log.exception("could not write the report of %s: %s", item.url, exc)
            stats.inc_value("nianbao/store_errors")
            self._record(crawl_id, item, "store", f"{type(exc).__name__}: {exc}")
            return
        stats.inc_value("nianbao/new_report_versions")
        stats.inc_value(f"nianbao/reports_{report.status}")
