"""SIGTERM / Ctrl-C stop a crawl within seconds, with its `crawls` row closed `interrupted`.

Scrapy's first signal stops gracefully: it waits for every download in flight (a slow drip can hold one
for DOWNLOAD_TIMEOUT), every retry backoff and every read in the pool. That can be minutes, and a
supervisor then sends SIGKILL and the row stays `running`. This extension lets Scrapy begin its graceful
stop and, NIANBAO_STOP_GRACE seconds (default 5) later, closes the rows still open (through the archive
stage, status `interrupted`) and stops the reactor. Everything archived before is committed (the archive's
writer thread commits what is queued before the row is closed).
"""

from __future__ import annotations

import logging
import signal
import threading
from typing import TYPE_CHECKING, Any

from scrapy import signals

if TYPE_CHECKING:
    from scrapy.crawler import Crawler

log = logging.getLogger(__name__)


class StopGuard:
    def __init__(self, crawler: Crawler):
        self.crawler = crawler
        self.grace = crawler.settings.getfloat("NIANBAO_STOP_GRACE", 5.0)
        self.armed = False
        crawler.signals.connect(self.engine_started, signal=signals.engine_started)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> StopGuard:
        return cls(crawler)

    def engine_started(self) -> None:
        if threading.current_thread() is not threading.main_thread():
            return  # `scrapy shell` runs the crawler in a thread: signals are the shell's business there
        for signum in (signal.SIGTERM, signal.SIGINT):
            previous = signal.getsignal(signum)
            signal.signal(signum, self._handler(previous))

    def _handler(self, previous: Any) -> Any:
        def handle(signum: int, frame: Any) -> None:
            from twisted.internet import reactor

            if callable(previous):
                previous(signum, frame)
            if not self.armed:
                self.armed = True
                reactor.callFromThread(reactor.callLater, self.grace, self.force)

        return handle

    def force(self) -> None:
        """Close what the graceful stop has not closed yet, then stop the reactor."""
        from twisted.internet import reactor

        from .pipelines import ArchiveStage

        engine = self.crawler.engine
        spider = self.crawler.spider
        if engine is not None and spider is not None:
            itemproc = getattr(getattr(engine, "scraper", None), "itemproc", None)
            for stage in getattr(itemproc, "middlewares", []):
                if isinstance(stage, ArchiveStage) and stage.writer is not None:
                    log.warning("stop grace of %.0f s over: closing the crawl row now", self.grace)
                    stage.spider_closed(spider, "shutdown")
        if reactor.running:
            reactor.stop()  # type: ignore[misc]
