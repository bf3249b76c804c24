"""Scrapy settings for nianbao: polite by default, every exchange into WARC, everything into the archive.

Deployment values come from the environment (city-scrapers style): NIANBAO_CONTACT_URL (in the User-Agent),
NIANBAO_DOWNLOAD_DELAY, NIANBAO_CONCURRENCY_PER_DOMAIN, NIANBAO_DB, NIANBAO_WARC_DIR. A crawl of loopback
hosts (demo, tests) drops the delays: see crawler/cli.py.
"""

from __future__ import annotations

import os

BOT_NAME = "nianbao"
SPIDER_MODULES = ["crawler.spiders"]
NEWSPIDER_MODULE = "crawler.spiders"

# Where a portal's operators can reach whoever runs the crawl. Unset, the User-Agent names the project's page
# and a crawl of a public host warns once (crawler/spiders/disclosure.py).
CONTACT_URL = os.environ.get("NIANBAO_CONTACT_URL", "")
USER_AGENT = f"nianbao/0.1 (+{CONTACT_URL or 'https://github.com/nianbao/nianbao#contact'})"

# Politeness: robots.txt, one or two connections per portal, a delay AutoThrottle can only raise.
ROBOTSTXT_OBEY = True
CONCURRENT_REQUESTS = 16
CONCURRENT_REQUESTS_PER_DOMAIN = int(os.environ.get("NIANBAO_CONCURRENCY_PER_DOMAIN", "2"))
DOWNLOAD_DELAY = float(os.environ.get("NIANBAO_DOWNLOAD_DELAY", "1.0"))
DOWNLOAD_DELAY_JITTER = 0.5  # each delay drawn from 0.5–1.5 × DOWNLOAD_DELAY
AUTOTHROTTLE_ENABLED = True
AUTOTHROTTLE_START_DELAY = float(os.environ.get("NIANBAO_AUTOTHROTTLE_START_DELAY", "2.0"))
AUTOTHROTTLE_MAX_DELAY = 30.0
AUTOTHROTTLE_TARGET_CONCURRENCY = 1.0
DOWNLOAD_TIMEOUT = 60
# Scrapy starts CONCURRENT_ITEMS asyncio workers for every response's output; a page of ours yields one item
# and a few dozen requests, so 100 workers a page (the default) cost the reactor ~1.5 ms a page for nothing.
CONCURRENT_ITEMS = 8
DOWNLOAD_MAXSIZE = 200 * 1024 * 1024
DOWNLOAD_WARNSIZE = 50 * 1024 * 1024

# Retries with exponential backoff (BackoffRetryMiddleware): 2 s, 4 s, 8 s … capped.
RETRY_TIMES = 3
RETRY_BACKOFF_BASE = float(os.environ.get("NIANBAO_RETRY_BACKOFF", "2.0"))
RETRY_BACKOFF_MAX = 60.0
# A Retry-After longer than the backoff is honoured up to this many seconds (2 on loopback: crawler/cli.py).
RETRY_AFTER_MAX = float(os.environ.get("NIANBAO_RETRY_AFTER_MAX", "120"))

# Depth and budget are counted by the spider (pagination does not deepen a crawl): see spiders/disclosure.py.
DEPTH_LIMIT = 0
NIANBAO_MAX_DEPTH = 6
NIANBAO_PAGE_BUDGET = 3000
NIANBAO_LIST_PAGE_BUDGET = 200
# "Gone" by absence only when a crawl reached (fetched or saw linked) at least this share of the portal's
# reports the archive still holds; otherwise the gone pass is skipped, the evidence in `crawl_errors`.
NIANBAO_GONE_MIN_REACHED = float(os.environ.get("NIANBAO_GONE_MIN_REACHED", "0.8"))

NIANBAO_DB = os.environ.get("NIANBAO_DB", "nianbao.db")
NIANBAO_WARC_DIR = os.environ.get("NIANBAO_WARC_DIR", "warc")
NIANBAO_WARC_MAX_SIZE = 100 * 1024 * 1024
NIANBAO_PORTAL_REGISTRY = os.environ.get("NIANBAO_PORTAL_REGISTRY", "")
# Queue mode: the Redis URL of a crawl child, from its environment (a password in argv shows in `ps`).
NIANBAO_QUEUE = os.environ.get("NIANBAO_QUEUE", "")

# `*.localhost` names resolve to loopback without a DNS query (RFC 6761): the demo's virtual hosts.
TWISTED_DNS_RESOLVER = "crawler.middlewares.LocalhostResolver"

DOWNLOADER_MIDDLEWARES = {
    # Before robots.txt (100) and Scrapy's host-only offsite check (50): nothing is fetched off-site.
    "crawler.middlewares.SameSiteMiddleware": 40,
    # Sees 3xx answers before RedirectMiddleware (600): loops and off-site targets become recorded errors.
    "crawler.middlewares.RedirectGuardMiddleware": 610,
    "scrapy.downloadermiddlewares.retry.RetryMiddleware": None,
    "crawler.middlewares.BackoffRetryMiddleware": 550,
    "crawler.middlewares.ConditionalRequestMiddleware": 560,
    # Downloader side of HttpCompressionMiddleware (590) and every header-setting middleware: sees the
    # request as sent and the response as received (still compressed).
    "crawler.middlewares.WarcMiddleware": 950,
}
# The data flow: archive the bytes first, then read reports in a process pool (crawler/pipelines.py).
ITEM_PIPELINES = {"crawler.pipelines.ArchiveStage": 300, "crawler.pipelines.ReadStage": 400}
NIANBAO_READ_WORKERS = int(os.environ.get("NIANBAO_READ_WORKERS", os.cpu_count() or 1))
NIANBAO_READ_TIME_LIMIT = float(os.environ.get("NIANBAO_READ_TIME_LIMIT", "120"))

# One progress line for `nianbao crawl` (crawler/progress.py); off for plain `scrapy crawl`.
EXTENSIONS = {"crawler.progress.CrawlProgress": 900, "crawler.shutdown.StopGuard": 910}
NIANBAO_STOP_GRACE = 5.0  # seconds between SIGTERM and a forced stop with the crawl row closed
NIANBAO_PROGRESS = False

# `scrapy check`: callbacks' contracts run on saved pages (crawler/contracts.py).
SPIDER_CONTRACTS = {"crawler.contracts.SavedPageContract": 10}

TELNETCONSOLE_ENABLED = False  # Scrapy's remote console runs code sent to a local port: never on
REMOTE_CONTROL_ENABLED = False  # Scrapy 2.14+'s remote control (an HTTP server running Python sent to it)
COOKIES_ENABLED = True
LOG_LEVEL = os.environ.get("NIANBAO_LOG_LEVEL", "INFO")
FEED_EXPORT_ENCODING = "utf-8"
# Chinese portals: ask for Chinese pages (some serve an English shell otherwise).
DEFAULT_REQUEST_HEADERS = {
    "Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8",
    "Accept-Language": "zh-CN,zh;q=0.9",
}
