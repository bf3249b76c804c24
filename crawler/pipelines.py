"""Item pipelines — the crawl's data flow, in ITEM_PIPELINES order:

1. `ArchiveStage` (300): every fetched body goes into the archive (blob + document + version) before
   anything else can fail; 304/404/blocked events update their documents; the `crawls` row is opened and
   closed here.
2. `ReadStage` (400): new versions of reports and attachments are read (`pipelines.read.read_report`) in a
   process pool, off the reactor thread, and their reports written.

Both stages write through the process's `ArchiveWriter` (archive/write_thread.py): one thread owns the SQLite
connection and commits writes in groups; an item moves on only once its write has committed.

Items that are not `DocumentItem`s (another spider, `scrapy shell`, `scrapy bench`) pass through untouched.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from scrapy import signals

from archive.crawls import (
    close_crawl,
    mark_gone,
    mark_gone_unseen,
    mark_seen_unchanged,
    open_crawl,
    portal_report_urls,
    portal_row,
    record_error,
    register_portal,
)
from archive.health import record_health
from archive.store import FetchMeta, StoreResult, attach_report, write_version
from archive.write_thread import ArchiveWriter, SharedWriters
from pipelines.pool import ReaderPool
from pipelines.read import ReadHints, read_report

from .items import DocumentItem
from .outcome import CrawlFacts, decide, safe_filename

if TYPE_CHECKING:
    import sqlite_utils
    from scrapy.crawler import Crawler

log = logging.getLogger(__name__)
READ_KINDS = ("report", "attachment")
T = TypeVar("T")


async def _written(writer: ArchiveWriter, fn: Callable[[sqlite_utils.Database], T]) -> T:
    """`fn(db)` run by the archive's writer thread, awaited until its transaction has committed."""
    return await asyncio.wrap_future(writer.submit(fn))


async def warc_written(item: DocumentItem) -> str | None:
    """Wait until the response's WARC record is written (the warc thread writes it while the spider parses
    the page) and put its place in `item.warc`; why it could not be written, or None."""
    pending, item.warc_written = item.warc_written, None
    if pending is None:
        return None
    try:
        place = await asyncio.wrap_future(pending)
    except Exception as exc:  # disk full, file closed: the bytes still go into the archive
        log.error("WARC record of %s not written: %s", item.url, exc)
        return f"WARC record not written: {type(exc).__name__}: {exc}"
    item.warc = place
    return None


def _portal_of(crawler: Crawler) -> Any:
    """The spider's registry entry, or None for spiders that do not archive (shell, bench, check, others)."""
    if not getattr(crawler.spider, "archiving", False):
        return None
    return getattr(crawler.spider, "portal", None)


def _jobdir_reused(jobdir: str | None) -> bool:
    """A Scrapy JOBDIR that already held a crawl (`scrapy crawl -s JOBDIR=…` run again): what this run
    did not fetch may have been fetched by the earlier one, so absence proves nothing."""
    return jobdir is not None and jobdir != "" and (Path(jobdir) / "spider.state").exists()


def stored_kind(kind: str) -> str:
    """The kind a document is stored under: a 详见附件 landing page stays the report's page (its attachment
    is read, not it); another place's report is a report document naming its place in `foreign_place`.
    Neither is read as this portal's report (READ_KINDS holds the item kinds that are read)."""
    return {"landing": "report", "foreign": "report"}.get(kind, kind)


def closing_facts(facts: CrawlFacts, crawler: Crawler, spider: Any, reason: str) -> CrawlFacts:
    """What the spider knows at its close, added to the facts counted item by item (ArchiveStage and the
    queue's CaptureStage decide a crawl's outcome from the same facts)."""
    stats = crawler.stats
    assert stats is not None
    facts.finish_reason = reason
    facts.reports_found = len(spider.reports)
    facts.blocked_evidence = spider.blocked_evidence
    facts.challenged = len(getattr(spider, "challenged", None) or [])
    facts.budget_exhausted = bool(spider.budget_exhausted)
    facts.resumed = crawler.settings.getbool("NIANBAO_RESUMED") or _jobdir_reused(
        crawler.settings.get("JOBDIR")
    )
    facts.robots_forbidden = stats.get_value("robotstxt/forbidden", 0) or 0
    facts.min_reached = crawler.settings.getfloat("NIANBAO_GONE_MIN_REACHED", 0.8)
    facts.truncated_lists = len(getattr(spider, "truncated_lists", None) or [])
    incomplete = spider.incomplete_lists() if hasattr(spider, "incomplete_lists") else []
    facts.incomplete_lists = [f"{key}: {why}" for key, why in incomplete]
    return facts


def read_hints(crawler: Crawler, item: DocumentItem) -> ReadHints:
    """What the reader is told about a document besides its bytes (the same in both modes)."""
    portal = _portal_of(crawler)
    return ReadHints(
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


def read_name(item: DocumentItem) -> str:
    """The file name a document is read under (the served name, else the URL's last part)."""
    return safe_filename(item.filename) or safe_filename(item.url.rsplit("/", 1)[-1]) or "document"


class ArchiveStage:
    """Archive the bytes of every fetch, keep the `portals` and `crawls` rows."""

    def __init__(self, crawler: Crawler):
        self.crawler = crawler
        self.writer: ArchiveWriter | None = None
        self.crawl_id: int | None = None
        self.seen: set[str] = set()
        self.facts = CrawlFacts()
        # The portal's reports in the archive, not gone, before this crawl (what a full walk should reach).
        self.known_reports: set[str] = set()
        self.started = time.monotonic()
        self.reactor_cpu = time.thread_time()  # the reactor thread's CPU time at the start
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
        self.writer = SharedWriters.acquire(path)
        row = portal_row({**portal.as_dict(), "name": portal.name})

        def start(db: sqlite_utils.Database) -> tuple[set[str], int]:
            register_portal(db, row)
            return portal_report_urls(db, portal.name), open_crawl(db, portal.name)

        self.reactor_cpu = time.thread_time()
        self.known_reports, self.crawl_id = self.writer.call(start)
        self.facts.archived_reports = len(self.known_reports)
        self.crawler.spider.crawl_id = self.crawl_id  # type: ignore[union-attr]
        self.crawler.stats.set_value("nianbao/crawl_id", self.crawl_id)

    async def process_item(self, item: Any) -> Any:
        writer = self.writer
        if writer is None or not isinstance(item, DocumentItem):
            return item
        stats = self.crawler.stats
        assert stats is not None
        if item.event != "error":
            self.seen.add(item.url)
        self.facts.note(item)
        url, when, status = item.url, item.fetched_at, item.http_status
        try:
            warc_problem = await warc_written(item)
            if warc_problem is not None:  # the bytes still go into the archive; the crawl is partial
                stats.inc_value("nianbao/store_errors")
                self.facts.store_errors += 1
                await self.record(url, "store", warc_problem, item.kind, status, None)
            if item.event == "error":
                await self.record(
                    url, item.stage or "fetch", item.evidence or "", item.kind, status, item.attempts
                )
            elif item.event == "fetched":
                body, meta = item.body, self.fetch_meta(item)
                item.stored = await _written(writer, lambda db: write_version(db, body, meta))
                stats.inc_value("nianbao/new_versions" if item.stored.new_version else "nianbao/unchanged")
            elif item.event == "not_modified":
                await _written(writer, lambda db: mark_seen_unchanged(db, url, when=when))
            elif item.event == "gone":
                if await _written(writer, lambda db: mark_gone(db, url, when=when, http_status=status)):
                    stats.inc_value("nianbao/gone")
            elif item.event in ("challenged", "blocked"):  # one challenged page / the portal blocked
                await self.record(url, "challenge", item.evidence or "", item.kind, status, None)
        except Exception as exc:  # never let one document stop the crawl: the WARC still has the bytes
            log.exception("could not archive %s: %s", item.url, exc)
            stats.inc_value("nianbao/store_errors")
            self.facts.store_errors += 1
            try:
                await self.record(url, "store", f"{type(exc).__name__}: {exc}", item.kind, status, None)
            except Exception:  # the archive itself refuses writes (disk full, locked): the log has it
                log.exception("could not record the store error of %s", item.url)
        return item

    async def record(
        self,
        url: str,
        stage: str,
        reason: str,
        kind: str | None,
        http_status: int | None,
        attempts: int | None,
    ) -> None:
        """One fault of this crawl into `crawl_errors`."""
        assert self.writer is not None
        crawl_id = self.crawl_id
        await _written(
            self.writer,
            lambda db: record_error(
                db,
                crawl_id,
                url,
                stage=stage,
                reason=reason,
                kind=kind,
                http_status=http_status,
                attempts=attempts,
            ),
        )
        assert self.crawler.stats is not None
        self.crawler.stats.inc_value(f"nianbao/errors/{stage}")

    def record_at_close(self, url: str, stage: str, reason: str, kind: str | None = "list") -> None:
        """A fault found when the crawl closes (an incomplete list, a skipped gone pass) into `crawl_errors`,
        written in order behind every write still in flight."""
        assert self.writer is not None and self.crawler.stats is not None
        crawl_id = self.crawl_id
        self.writer.call(lambda db: record_error(db, crawl_id, url, stage=stage, reason=reason, kind=kind))
        self.crawler.stats.inc_value(f"nianbao/errors/{stage}")

    def fetch_meta(self, item: DocumentItem) -> FetchMeta:
        return FetchMeta(
            url=item.url,
            kind=stored_kind(item.kind),
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
        writer, crawl_id = self.writer, self.crawl_id
        if writer is None or crawl_id is None:
            return
        stats = self.crawler.stats
        assert stats is not None
        closing_facts(self.facts, self.crawler, spider, reason)
        present = self.seen | spider.linked
        self.facts.reached_reports = len(self.known_reports & present)
        incomplete = spider.incomplete_lists() if hasattr(spider, "incomplete_lists") else []
        for key, why in incomplete:  # the evidence: which list, and why its missing links prove nothing
            self.record_at_close(key, "list", f"list not read completely: {why}")
        outcome = decide(self.facts)
        status = outcome.status
        read = spider.completely_read_pages() if hasattr(spider, "completely_read_pages") else set()

        def gone_pass(db: sqlite_utils.Database) -> tuple[int, int]:
            # Queued behind every write still in flight: the pass sees the whole crawl.
            return mark_gone_unseen(db, spider.portal_name, present, read)

        gone, kept = writer.call(gone_pass) if outcome.gone_pass else (0, 0)
        if outcome.gone_skipped:
            self.record_at_close(spider.start_urls[0], "gone", outcome.gone_skipped, kind="page")
        stats.set_value("nianbao/marked_gone", gone)
        stats.set_value("nianbao/unseen_kept", kept)
        stats.set_value("nianbao/exit_code", outcome.exit_code)
        stats.set_value("nianbao/status", status)
        elapsed = time.monotonic() - self.started
        pages = stats.get_value("response_received_count", 0)
        stats.set_value("nianbao/elapsed_seconds", round(elapsed, 3))
        stats.set_value("nianbao/pages_per_second", round(pages / elapsed, 2) if elapsed else None)
        # Where the crawl process spent its CPU: the reactor thread (the one that caps pages/s) and the
        # archive's writer thread (bench/bench_crawl.py prints both per page). The writer is the process's,
        # shared by the portals crawled at once: its figures are the process's so far, not this portal's.
        stats.set_value("nianbao/reactor_cpu_seconds", round(time.thread_time() - self.reactor_cpu, 3))
        writer.flush()
        stats.set_value("nianbao/writer_cpu_seconds", round(writer.cpu_seconds, 3))
        stats.set_value("nianbao/writer_commits", writer.commits)
        stats.set_value("nianbao/writer_jobs", writer.jobs)
        warc = getattr(spider, "warc_writer", None)
        row: dict[str, Any] = {
            "status": status,
            "reason": outcome.reason,
            "pages": pages,
            "reports_found": len(spider.reports),
            "bytes_received": stats.get_value("nianbao/bytes_received", 0),
            "warc_files": json.dumps([str(p) for p in warc.paths()] if warc else []),
            "stats": json.dumps(
                {**stats.get_stats(), "finish_reason": reason}, default=str, ensure_ascii=False
            ),
        }
        if spider.blocked_evidence:
            row["blocked_evidence"] = spider.blocked_evidence

        def close(db: sqlite_utils.Database) -> None:
            close_crawl(db, crawl_id, row)
            record_health(db, crawl_id)  # crawl health columns and checks (archive/health.py)

        writer.call(close)
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
        self.writer = None
        SharedWriters.release(writer)


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
        self.writer: ArchiveWriter | None = None
        self.pool: ReaderPool | None = None
        self.workers = crawler.settings.getint("NIANBAO_READ_WORKERS", os.cpu_count() or 1)
        self.time_limit = crawler.settings.getfloat("NIANBAO_READ_TIME_LIMIT", 120.0)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> ReadStage:
        return cls(crawler)

    def open_spider(self) -> None:
        if _portal_of(self.crawler) is None:
            return
        self.writer = SharedWriters.acquire(self.crawler.settings.get("NIANBAO_DB"))
        if self.workers != 0:
            self.pool = _SharedPool.acquire(self.workers, self.time_limit)

    def close_spider(self) -> None:
        if self.pool is not None:
            _SharedPool.release()
            self.pool = None
        if self.writer is not None:
            SharedWriters.release(self.writer)
            self.writer = None

    async def process_item(self, item: Any) -> Any:
        if not isinstance(item, DocumentItem):
            return item
        stored: StoreResult | None = item.stored
        # A new version, or one an earlier crawl archived and was killed before reading (the same bytes are
        # never stored twice, so nothing else would ever read them).
        if (
            self.writer is not None
            and stored is not None
            and item.kind in READ_KINDS
            and (stored.new_version or stored.report_id is None)
        ):
            await self._read(item, stored)
        item.body = b""  # the bytes are archived; do not keep them in memory or feeds
        return item

    async def _record(self, crawl_id: int | None, item: DocumentItem, stage: str, reason: str) -> None:
        assert self.writer is not None and self.crawler.stats is not None
        url, kind, status = item.url, item.kind, item.http_status
        try:
            await _written(
                self.writer,
                lambda db: record_error(
                    db, crawl_id, url, stage=stage, reason=reason, kind=kind, http_status=status
                ),
            )
        except Exception:
            log.exception("could not record the %s error of %s", stage, item.url)
        self.crawler.stats.inc_value(f"nianbao/errors/{stage}")

    async def _read(self, item: DocumentItem, stored: StoreResult) -> None:
        writer = self.writer
        assert writer is not None
        stats = self.crawler.stats
        assert stats is not None
        hints = read_hints(self.crawler, item)
        name = read_name(item)
        if self.pool is not None:
            report = await self.pool.read_async(item.body, name, item.content_type, hints)
        else:
            report = read_report(item.body, name, item.content_type, hints)
        crawl_id = getattr(self.crawler.spider, "crawl_id", None)
        if report.status == "failed":
            await self._record(crawl_id, item, "read", "; ".join(report.problems) or "unreadable")
        try:
            await _written(writer, lambda db: attach_report(db, stored, report))
        except Exception as exc:
            log.exception("could not write the report of %s: %s", item.url, exc)
            stats.inc_value("nianbao/store_errors")
            await self._record(crawl_id, item, "store", f"{type(exc).__name__}: {exc}")
            return
        stats.inc_value("nianbao/new_report_versions")
        stats.inc_value(f"nianbao/reports_{report.status}")
