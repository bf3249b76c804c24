"""One progress line for a whole crawl, however many portals it runs: portals done / running / blocked,
pages and reports — on stderr, so `nianbao crawl --json` keeps stdout for its JSON lines.

A Scrapy extension (enabled by `nianbao crawl` with NIANBAO_PROGRESS); the counts are shared by every
crawler of the process, so a 50-portal crawl prints one line, not 50 Scrapy banners.
"""

from __future__ import annotations

import sys
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar

from scrapy import signals
from scrapy.exceptions import NotConfigured
from twisted.internet import task

if TYPE_CHECKING:
    from scrapy.crawler import Crawler


@dataclass
class _Counts:
    running: set[str] = field(default_factory=set)
    done: dict[str, str] = field(default_factory=dict)  # portal → how it ended
    total: int = 0
    pages: int = 0
    reports: int = 0
    started: float = field(default_factory=time.monotonic)

    def line(self) -> str:
        blocked = sum(1 for s in self.done.values() if s == "blocked")
        elapsed = time.monotonic() - self.started
        return (
            f"portals {len(self.done)}/{self.total} done, {len(self.running)} running, {blocked} blocked"
            f" · {self.pages} pages · {self.reports} reports · {elapsed:.0f} s"
        )


class CrawlProgress:
    """Counts responses and reports of every crawler in the process and prints one line now and then."""

    counts: ClassVar[_Counts | None] = None
    loop: ClassVar[Any] = None

    def __init__(self, crawler: Crawler, interval: float):
        self.crawler = crawler
        self.interval = interval
        self.tty = sys.stderr.isatty()
        crawler.signals.connect(self.spider_opened, signal=signals.spider_opened)
        crawler.signals.connect(self.spider_closed, signal=signals.spider_closed)
        crawler.signals.connect(self.response_received, signal=signals.response_received)
        crawler.signals.connect(self.item_scraped, signal=signals.item_scraped)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> CrawlProgress:
        if not crawler.settings.getbool("NIANBAO_PROGRESS"):
            raise NotConfigured
        if cls.counts is None:
            cls.counts = _Counts(total=crawler.settings.getint("NIANBAO_PROGRESS_PORTALS", 1))
        tty = sys.stderr.isatty()
        return cls(crawler, crawler.settings.getfloat("NIANBAO_PROGRESS_INTERVAL", 1.0 if tty else 10.0))

    def spider_opened(self, spider: Any) -> None:
        assert self.counts is not None
        self.counts.running.add(getattr(spider, "portal_name", spider.name))
        if CrawlProgress.loop is None:
            CrawlProgress.loop = task.LoopingCall(self.print_line)
            CrawlProgress.loop.start(self.interval, now=False)

    def spider_closed(self, spider: Any, reason: str) -> None:
        assert self.counts is not None
        name = getattr(spider, "portal_name", spider.name)
        self.counts.running.discard(name)
        self.counts.done[name] = "blocked" if getattr(spider, "blocked_evidence", None) else reason
        if not self.counts.running:
            if CrawlProgress.loop is not None and CrawlProgress.loop.running:
                CrawlProgress.loop.stop()
            CrawlProgress.loop = None
            self.print_line(final=True)

    def response_received(self) -> None:
        assert self.counts is not None
        self.counts.pages += 1

    def item_scraped(self, item: Any) -> None:
        assert self.counts is not None
        if getattr(item, "kind", None) == "report" and getattr(item, "event", None) in (
            "fetched",
            "not_modified",
        ):
            self.counts.reports += 1

    def print_line(self, final: bool = False) -> None:
        assert self.counts is not None
        text = f"crawl: {self.counts.line()}"
        if self.tty:
            sys.stderr.write("\r\x1b[K" + text + ("\n" if final else ""))
        else:
            sys.stderr.write(text + "\n")
        sys.stderr.flush()
