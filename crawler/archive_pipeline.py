"""The item pipeline: every DocumentItem into the archive through archive.store (one transaction each).

It also keeps the `portals` and `crawls` rows: a crawl row is opened when the spider opens and closed
with its status (finished / blocked / truncated / failed), stats JSON and WARC files. After a crawl that
finished normally (not blocked, not budget-truncated), reports and attachments of the portal that were
neither fetched nor linked this time are marked gone.
"""

from __future__ import annotations

import importlib.util
import json
import logging
import time
from pathlib import Path
from typing import Any

from scrapy import signals

from archive.db import open_db
from archive.store import mark_gone, mark_seen_unchanged, now_iso, store_document

from .items import DocumentItem

log = logging.getLogger(__name__)


class ArchivePipeline:
    def __init__(self, crawler: Any):
        self.crawler = crawler
        self.db: Any = None
        self.crawl_id: int | None = None
        self.seen: set[str] = set()
        self.started = time.monotonic()
        self.can_parse = importlib.util.find_spec("pipelines.parse") is not None
        crawler.signals.connect(self.spider_closed, signal=signals.spider_closed)

    @classmethod
    def from_crawler(cls, crawler: Any) -> ArchivePipeline:
        return cls(crawler)

    def open_spider(self, spider: Any = None) -> None:
        spider = spider or self.crawler.spider
        self.db = open_db(self.crawler.settings.get("NIANBAO_DB"))
        portal = spider.portal
        self.db["portals"].upsert(
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
                "registered_at": now_iso(),
            },
            pk="id",
        )
        self.crawl_id = (
            self.db["crawls"]
            .insert({"portal_id": portal.name, "started_at": now_iso(), "status": "running"})
            .last_pk
        )
        spider.crawl_id = self.crawl_id
        if not self.can_parse:
            log.warning("pipelines.parse is not available: documents are archived without parsing")

    def process_item(self, item: DocumentItem, spider: Any = None) -> DocumentItem:
        spider = spider or self.crawler.spider
        stats = self.crawler.stats
        self.seen.add(item.url)
        portal = spider.portal
        try:
            if item.event == "fetched":
                parse = self.can_parse and item.kind in ("report", "attachment")
                result = store_document(
                    self.db,
                    url=item.url,
                    body=item.body,
                    kind=item.kind,
                    portal_id=item.portal_id,
                    fetched_at=item.fetched_at,
                    http_status=item.http_status,
                    content_type=item.content_type,
                    filename=item.filename,
                    title=item.title,
                    link_text=item.link_text,
                    discovered_from=item.discovered_from,
                    etag=item.etag,
                    last_modified=item.last_modified,
                    warc_file=item.warc.get("warc_file"),
                    warc_offset=item.warc.get("warc_offset"),
                    warc_record_id=item.warc.get("warc_record_id"),
                    crawl_id=self.crawl_id,
                    parse=parse,
                    report_overrides={"region": portal.region, "level": portal.level},
                    attachments=item.attachments,
                )
                stats.inc_value("nianbao/new_versions" if result.new_version else "nianbao/unchanged")
                if result.new_version and item.kind in ("report", "attachment"):
                    stats.inc_value("nianbao/new_report_versions")
            elif item.event == "not_modified":
                mark_seen_unchanged(self.db, item.url, when=item.fetched_at)
            elif item.event == "gone":
                if mark_gone(self.db, item.url, when=item.fetched_at, http_status=item.http_status):
                    stats.inc_value("nianbao/gone")
            elif item.event == "blocked":
                self.db["crawls"].update(
                    self.crawl_id, {"status": "blocked", "blocked_evidence": item.evidence}
                )
        except Exception as exc:  # never let one document stop the crawl: the WARC still has the bytes
            log.exception("could not archive %s: %s", item.url, exc)
            stats.inc_value("nianbao/store_errors")
        item.body = b""  # the bytes are archived; do not keep them in memory or feeds
        return item

    def close_spider(self, spider: Any = None) -> None:
        """Finalised in spider_closed, where the close reason is known."""

    def spider_closed(self, spider: Any, reason: str) -> None:
        if self.db is None:
            return
        stats = self.crawler.stats
        blocked = spider.blocked_evidence is not None
        truncated = spider.budget_exhausted
        if blocked:
            status = "blocked"
        elif reason != "finished":
            status = "failed" if reason not in ("shutdown", "closespider_pagecount") else "interrupted"
        elif truncated:
            status = "truncated"
        else:
            status = "finished"
        gone = 0
        if status == "finished":
            present = self.seen | spider.linked
            rows = self.db.execute(
                "SELECT url FROM documents WHERE portal_id = ? AND kind IN ('report', 'attachment')"
                " AND gone_since IS NULL",
                [spider.portal_name],
            ).fetchall()
            for (url,) in rows:
                if url not in present and mark_gone(self.db, url):
                    gone += 1
            stats.set_value("nianbao/marked_gone", gone)
        elapsed = time.monotonic() - self.started
        pages = stats.get_value("response_received_count", 0)
        stats.set_value("nianbao/elapsed_seconds", round(elapsed, 3))
        stats.set_value("nianbao/pages_per_second", round(pages / elapsed, 2) if elapsed else None)
        writer = getattr(spider, "warc_writer", None)
        warc_files = [str(p) for p in writer.paths()] if writer else []
        row = {
            "finished_at": now_iso(),
            "status": status,
            "pages": pages,
            "reports_found": len(spider.reports),
            "bytes_received": stats.get_value("nianbao/bytes_received", 0),
            "warc_files": json.dumps(warc_files),
            "stats": json.dumps(
                {**stats.get_stats(), "finish_reason": reason}, default=str, ensure_ascii=False
            ),
        }
        if blocked:
            row["blocked_evidence"] = spider.blocked_evidence
        self.db["crawls"].update(self.crawl_id, row)
        log.info(
            "crawl %s of %s: %s, %d pages, %d reports, %d marked gone",
            self.crawl_id,
            spider.portal_name,
            status,
            pages,
            len(spider.reports),
            gone,
        )
        self.db.close()
        self.db = None


def warc_dir(settings: Any) -> Path:
    return Path(settings.get("NIANBAO_WARC_DIR"))
