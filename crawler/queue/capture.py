"""The crawl child's item pipeline in queue mode: bodies to the spool, small capture messages to the writer.

Selected by the crawl worker (`ITEM_PIPELINES = {"crawler.queue.capture.CaptureStage": 300}`), in place of
ArchiveStage and ReadStage: the child never opens the archive. Every item becomes one numbered capture
message; at spider close one `close_run` message says how many captures were sent, what the crawl saw and
linked (for the writer's gone pass), the crawl's facts (crawler/outcome.py, counted exactly as ArchiveStage
counts them: the writer completes them and decides the status) and its stats. NIANBAO_RUN_STATE names a file written once
the close is sent, so the crawl worker can tell a finished child from a crashed one.
"""

from __future__ import annotations

import json
import logging
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from scrapy import signals

from archive.spool import Spool
from archive.store import now_iso

from ..items import DocumentItem
from ..outcome import CrawlFacts, safe_filename
from ..pipelines import (
    READ_KINDS,
    _portal_of,
    closing_facts,
    read_hints,
    read_name,
    stored_kind,
    warc_written,
)
from .broker import make_broker, send

if TYPE_CHECKING:
    from dramatiq.brokers.redis import RedisBroker
    from scrapy.crawler import Crawler

log = logging.getLogger(__name__)


class CaptureStage:
    def __init__(self, crawler: Crawler):
        self.crawler = crawler
        settings = crawler.settings
        self.run: dict[str, Any] = {
            "run_key": settings.get("NIANBAO_RUN_KEY"),
            "job_id": settings.get("NIANBAO_JOB_ID"),
            "started_at": now_iso(),
        }
        self.spool = Spool(settings.get("NIANBAO_SPOOL"))
        self.state = settings.get("NIANBAO_RUN_STATE")
        self.url = settings.get("NIANBAO_QUEUE")
        self.broker: RedisBroker | None = None
        self.portal: dict[str, Any] | None = None
        self.seq = 0
        self.seen: set[str] = set()
        self.facts = CrawlFacts()
        self.started = time.monotonic()
        crawler.signals.connect(self.spider_closed, signal=signals.spider_closed)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> CaptureStage:
        return cls(crawler)

    def open_spider(self) -> None:
        portal = _portal_of(self.crawler)
        if portal is None:
            return
        if not self.url or not self.run["run_key"]:
            raise ValueError("CaptureStage needs NIANBAO_QUEUE and NIANBAO_RUN_KEY")
        self.broker = make_broker(self.url)
        self.portal = {**portal.as_dict(), "name": portal.name}

    def _send(self, actor: str, body: dict[str, Any]) -> None:
        assert self.broker is not None
        send(self.broker, actor, {**self.run, "portal": self.portal, **body})

    async def process_item(self, item: Any) -> Any:
        if self.broker is None or not isinstance(item, DocumentItem):
            return item
        # A record that could not be written leaves `warc` empty: the writer records why (a `store` row).
        warc_problem = await warc_written(item)
        if item.event != "error":
            self.seen.add(item.url)
        self.facts.note(item)
        msg: dict[str, Any] = {
            "seq": self.seq,
            "event": item.event,
            "url": item.url,
            "kind": stored_kind(item.kind),
            "read": item.kind in READ_KINDS,  # read as this portal's report (not a landing or foreign page)
            "foreign_place": item.foreign_place,
            "http_status": item.http_status,
            "content_type": item.content_type,
            "fetched_at": item.fetched_at,
            "filename": safe_filename(item.filename),
            "read_name": read_name(item),
            "hints": read_hints(self.crawler, item).to_dict(),
            "title": item.title,
            "link_text": item.link_text,
            "discovered_from": item.discovered_from,
            "etag": item.etag,
            "last_modified": item.last_modified,
            "warc": dict(item.warc),
            "evidence": item.evidence,
            "stage": item.stage,
            "attempts": item.attempts,
            "warc_problem": warc_problem,
        }
        try:
            if item.event == "fetched":
                msg["sha256"] = self.spool.put(item.body)  # the bytes first, then the message that names them
            self._send("store_capture", msg)
        except Exception:  # Redis or the spool disk failing: counted (the crawl ends partial), never dropped
            log.exception("could not send the capture of %s", item.url)
            self.facts.store_errors += 1
            assert self.crawler.stats is not None
            self.crawler.stats.inc_value("nianbao/store_errors")
        else:
            self.seq += 1  # only sent captures are numbered: the close counts what the writer must wait for
        item.body = b""
        return item

    def spider_closed(self, spider: Any, reason: str) -> None:
        if self.broker is None:
            return
        stats = self.crawler.stats
        assert stats is not None
        elapsed = time.monotonic() - self.started
        stats.set_value("nianbao/elapsed_seconds", round(elapsed, 3))
        writer = getattr(spider, "warc_writer", None)
        closing_facts(self.facts, self.crawler, spider, reason)
        facts = {**self.facts.__dict__, "reasons": dict(self.facts.reasons)}
        self._send(
            "close_run",
            {
                "captures": self.seq,
                "facts": facts,  # the writer adds what only the archive knows, then decides the outcome
                "present": sorted(self.seen | spider.linked),
                # the pages whose lists were read completely: only what they listed can be gone by absence
                "completely_read": sorted(spider.completely_read_pages())
                if hasattr(spider, "completely_read_pages")
                else [],
                "pages": stats.get_value("response_received_count", 0),
                "reports_found": len(spider.reports),
                "warc_files": [str(p) for p in writer.paths()] if writer else [],
                "evidence": spider.blocked_evidence,
                "stats": json.loads(
                    json.dumps(
                        {**stats.get_stats(), "finish_reason": reason}, default=str, ensure_ascii=False
                    )
                ),
            },
        )
        if self.state:
            Path(self.state).write_text(
                json.dumps({"captures": self.seq, "finish_reason": reason}), encoding="utf-8"
            )
        log.info("run %s: %d captures sent, %s", self.run["run_key"], self.seq, reason)
        self.broker.close()
