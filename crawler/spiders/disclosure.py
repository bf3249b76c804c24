"""The discovery spider: portal home → 信息公开 column → 年报 column → list pages → reports → attachments.

One spider for every portal: a registry entry (or `-a url=`) is data, the CMS families in crawler/cms find
lists and pagination, crawler/classify.py decides what is a report. Depth counts discovery steps only
(a list's page 7 is as deep as its page 1); a page budget bounds each portal.

    scrapy crawl disclosure -a portal=shanghai
    scrapy crawl disclosure -a url=https://www.example.gov.cn/ -a agency=示例市人民政府
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any, ClassVar
from urllib.parse import unquote, urlsplit

import scrapy
from scrapy.http import HtmlResponse, Request, Response, TextResponse

from archive.crawls import ArchiveView

from ..classify import classify_title, column_kind, is_attachment_url, url_extension
from ..cms import families_for
from ..cms.base import Link, anchors, clean
from ..faults import error_item_fields, http_reason
from ..items import DocumentItem
from ..portals import Portal, is_loopback, load_registry, portal_for_url, same_site
from ..urls import normalize_url

CHALLENGE_WORDS = (
    "验证码",
    "请开启javascript",
    "请启用javascript",
    "enable javascript",
    "安全验证",
    "访问验证",
    "人机验证",
    "滑动验证",
    "captcha",
    "__jsl_clearance",
    "acw_sc__v2",
    "_waf_",
    "安全狗",
    "创宇盾",
    "加速乐",
    "访问频率",
    "访问过于频繁",
    "please wait while we verify",
)
_SCRIPT_RE = re.compile(rb"<script\b.*?</script>", re.S | re.I)
_TAG_RE = re.compile(rb"<[^>]+>")
_CONTENT_IMAGES = (
    "//div[contains(@class,'TRS_Editor') or contains(@class,'trs_editor') or @id='zoom'"
    " or contains(@class,'article') or contains(@class,'content') or @id='content'"
    " or contains(@class,'bt-content') or contains(@class,'main-txt')]//img/@src"
)
CONTRACTS_PORTAL = "https://www.example.gov.cn/"
PRIORITY = {"annual": 40, "page_annual": 40, "report": 30, "attachment": 25, "disclosure": 10, "page": 5}


def now_iso() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def detect_block(response: Response) -> str | None:
    """Evidence (status + first 500 characters) when the answer is an anti-bot challenge, else None."""
    status = response.status
    if status not in (200, 202, 403, 412, 429, 503, 521):
        return None
    body = response.body[:50000]
    low = body.lower()
    words = any(w.encode("utf-8") in low or w.encode("gb18030") in low for w in CHALLENGE_WORDS)
    visible = _TAG_RE.sub(b"", _SCRIPT_RE.sub(b"", body)).strip()
    script_only = b"<script" in low and len(visible) < 80
    blocked = (
        (status in (412, 521) and (script_only or words or b"<script" in low))
        or (status in (403, 429, 503) and (words or script_only))
        or (status in (200, 202) and len(body) < 8000 and b"<a " not in low and (words or script_only))
    )
    if not blocked:
        return None
    text = body.decode("utf-8", "replace") if _is_utf8(body) else body.decode("gb18030", "replace")
    return f"HTTP {status} {response.url}: {text[:500]}"


def _is_utf8(data: bytes) -> bool:
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def best_encoding(body: bytes, declared: str | None) -> str:
    """The encoding that really decodes `body`: strict UTF-8 wins, then a declared non-UTF-8 charset, then
    GB18030 (superset of GBK/GB2312) — pages that declare nothing or declare wrongly are common."""
    if _is_utf8(body):
        return "utf-8"
    candidates = [declared] if declared and declared.lower().replace("-", "") not in ("utf8",) else []
    for enc in [*candidates, "gb18030"]:
        try:
            body.decode(enc)
            return enc
        except (UnicodeDecodeError, LookupError):
            continue
    return "gb18030"


def fix_encoding(response: Response) -> TextResponse:
    if not isinstance(response, TextResponse):
        return HtmlResponse(
            response.url,
            body=response.body,
            headers=response.headers,
            status=response.status,
            request=response.request,
            encoding=best_encoding(response.body, None),
        )
    enc = best_encoding(response.body, response.encoding)
    if enc.replace("-", "").lower() == (response.encoding or "").replace("-", "").lower():
        return response
    return response.replace(encoding=enc)


def is_html(response: Response) -> bool:
    ctype = (response.headers.get(b"Content-Type") or b"").decode("latin-1").lower()
    if "html" in ctype:
        return True
    if any(
        t in ctype
        for t in (
            "pdf",
            "msword",
            "officedocument",
            "excel",
            "image/",
            "octet-stream",
            "zip",
            "json",
            "xml",
            "wps",
        )
    ):
        return False
    head = response.body[:1024].lstrip().lower()
    return head.startswith((b"<!doctype html", b"<html", b"<head", b"<meta", b"<!--", b"<body", b"<div"))


def filename_of(response: Response) -> str:
    disp = (response.headers.get(b"Content-Disposition") or b"").decode("latin-1")
    m = re.search(r"filename\*=(?:UTF-8|utf-8)''([^;]+)", disp)
    if m:
        return unquote(m.group(1))
    m = re.search(r'filename="?([^";]+)"?', disp)
    if m:
        raw = m.group(1).encode("latin-1")
        for enc in ("utf-8", "gb18030"):
            try:
                return unquote(raw.decode(enc))
            except UnicodeDecodeError:
                continue
    return unquote(urlsplit(response.url).path.rsplit("/", 1)[-1]) or "index.html"


class DisclosureSpider(scrapy.Spider):
    """Find and archive every annual report of one portal."""

    name = "disclosure"
    # Answers the spider itself interprets: 304 (unchanged), 404/410 (gone), challenges (blocked).
    handle_httpstatus_list: ClassVar[list[int]] = [304, 403, 404, 410, 412, 429, 503, 521]

    portal: Portal
    portal_name: str

    def __init__(
        self,
        portal: str | None = None,
        url: str | None = None,
        agency: str | None = None,
        registry: str | None = None,
        **kwargs: Any,
    ):
        super().__init__(**kwargs)
        self._portal_arg, self._url_arg, self._agency_arg, self._registry_arg = portal, url, agency, registry
        self.seen_requests: set[str] = set()
        self.linked: set[str] = set()
        self.reports: set[str] = set()
        self.decoys: set[str] = set()
        self.budget_exhausted = False
        self.blocked_evidence: str | None = None
        self.archiving = True  # False only for `scrapy check` (no portal given)

    @classmethod
    def from_crawler(cls, crawler: Any, *args: Any, **kwargs: Any) -> DisclosureSpider:
        spider: DisclosureSpider = super().from_crawler(crawler, *args, **kwargs)
        spider._configure(crawler.settings)
        return spider

    def _configure(self, settings: Any) -> None:
        if self._url_arg:
            self.portal = portal_for_url(self._url_arg, self._agency_arg, name=self._portal_arg)
        elif not self._portal_arg:
            # No portal: `scrapy check` runs the callbacks' contracts on saved pages of a fictional portal.
            # Nothing is archived and start() refuses to crawl.
            self.archiving = False
            self.portal = portal_for_url(CONTRACTS_PORTAL, "示例县人民政府", name="contracts")
        else:
            registry = load_registry(self._registry_arg or settings.get("NIANBAO_PORTAL_REGISTRY") or None)
            if self._portal_arg not in registry:
                raise ValueError(f"no portal {self._portal_arg!r} in the registry")
            self.portal = registry[self._portal_arg]
        self.portal_name = self.portal.name
        self.allowed_domains = list(self.portal.allowed_domains)
        self.start_urls = list(self.portal.start_urls)
        self.max_depth = int(self.portal.hints.get("max_depth") or settings.getint("NIANBAO_MAX_DEPTH", 6))
        self.page_budget = int(
            self.portal.hints.get("page_budget") or settings.getint("NIANBAO_PAGE_BUDGET", 3000)
        )
        self.archive_state = ArchiveView(settings.get("NIANBAO_DB"))
        self._warn_without_contact(settings)

    _contact_warned: ClassVar[bool] = False

    def _warn_without_contact(self, settings: Any) -> None:
        """Once per process: a public portal should be able to reach whoever crawls it."""
        public = self.archiving and not all(is_loopback(u) for u in self.start_urls)
        if public and not settings.get("CONTACT_URL") and not DisclosureSpider._contact_warned:
            DisclosureSpider._contact_warned = True
            self.logger.warning(
                "crawling %s without a contact: set NIANBAO_CONTACT_URL to a page where the portal's"
                " operators can reach you (it goes into the User-Agent)",
                self.portal_name,
            )

    # -- requests --------------------------------------------------------------------------------------
    def allowed(self, url: str) -> bool:
        """Same site: an allowed host on the scheme and port of a start URL (crawler/portals same_site)."""
        return same_site(url, self.allowed_domains, self.start_urls)

    def follow(
        self,
        url: str,
        kind: str,
        *,
        depth: int,
        ctx: str | None = None,
        text: str = "",
        source: str | None = None,
        priority_key: str | None = None,
    ) -> Request | None:
        """A request for `url` unless it was already requested, is off-domain, too deep or over budget."""
        url = normalize_url(url)
        self.linked.add(url)
        if not self.allowed(url):
            self.crawler.stats.inc_value("nianbao/offsite_skipped")
            return None
        if url in self.seen_requests:
            return None
        if depth > self.max_depth:
            self.crawler.stats.inc_value("nianbao/too_deep")
            return None
        if len(self.seen_requests) >= self.page_budget:
            if not self.budget_exhausted:
                self.logger.warning("page budget %d exhausted for %s", self.page_budget, self.portal_name)
                self.crawler.stats.set_value("nianbao/budget_exhausted", 1)
            self.budget_exhausted = True
            return None
        self.seen_requests.add(url)
        meta = {"nb_kind": kind, "nb_depth": depth, "nb_ctx": ctx, "nb_text": text, "nb_from": source}
        return Request(
            url,
            callback=self.parse_report if kind == "report" else self.parse_response,
            errback=self.on_error,
            meta=meta,
            priority=PRIORITY.get(priority_key or kind, 0),
        )

    async def start(self) -> Any:
        if not self.archiving:
            raise ValueError("give -a portal=NAME (a registry entry) or -a url=URL [-a agency=NAME]")
        for url in self.start_urls:
            req = self.follow(url, "page", depth=0, priority_key="page")
            if req:
                yield req
        for url in self.portal.hints.get("report_columns", []):
            req = self.follow(url, "list", depth=1, ctx="annual", priority_key="annual")
            if req:
                yield req
        for url in self.portal.hints.get("disclosure_columns", []):
            req = self.follow(url, "list", depth=1, priority_key="disclosure")
            if req:
                yield req

    def on_error(self, failure: Any) -> Iterator[DocumentItem]:
        """A request that got no usable answer (refused, reset, timeout, 5xx after retries, off-site,
        robots.txt): one `error` item, so the fault is on record in `crawl_errors`."""
        self.crawler.stats.inc_value("nianbao/fetch_errors")
        self.logger.info(
            "fetch failed: %s", failure.getErrorMessage() if hasattr(failure, "getErrorMessage") else failure
        )
        request = getattr(failure, "request", None)
        if request is None:
            return
        yield DocumentItem(
            portal_id=self.portal_name, fetched_at=now_iso(), event="error", **error_item_fields(failure)
        )

    # -- responses -------------------------------------------------------------------------------------
    def _item(self, response: Response, kind: str, **extra: Any) -> DocumentItem:
        meta = response.meta
        headers = response.headers
        return DocumentItem(
            url=response.url,
            kind=kind,
            portal_id=self.portal_name,
            http_status=response.status,
            content_type=(headers.get(b"Content-Type") or b"").decode("latin-1") or None,
            fetched_at=now_iso(),
            title=meta.get("nb_text") or None,
            link_text=meta.get("nb_text") or None,
            discovered_from=meta.get("nb_from"),
            etag=(headers.get(b"ETag") or b"").decode("latin-1") or None,
            last_modified=(headers.get(b"Last-Modified") or b"").decode("latin-1") or None,
            warc=dict(meta.get("nb_warc") or {}),
            **extra,
        )

    def parse_response(self, response: Response) -> Iterator[Any]:
        """A portal page or list page: archive it, follow columns, pagination and report links.

        @saved annual_list.html https://www.example.gov.cn/xxgk/ndbg/index.html
        @returns items 1 1
        @returns requests 4 5
        """
        yield from self._handle(self._as_served(response))

    def parse_report(self, response: Response) -> Iterator[Any]:
        """A report page (or a report file): archive it and follow its attachments.

        @saved report_with_attachment.html https://www.example.gov.cn/xxgk/ndbg/202103/t20210330_1.html
        @returns items 1 1
        @returns requests 1 1
        @scrapes url kind body attachments
        """
        response.meta.setdefault("nb_kind", "report")
        yield from self._handle(self._as_served(response))

    @staticmethod
    def _as_served(response: Response) -> Response:
        """A saved page (`@saved` contracts, file:// URLs) read as the URL it was saved from."""
        served_as = response.meta.get("nb_served_as")
        if served_as and response.url.startswith("file:"):
            return response.replace(url=served_as)
        return response

    def _handle(self, response: Response) -> Iterator[Any]:
        kind = response.meta.get("nb_kind", "page")
        stats = self.crawler.stats
        evidence = detect_block(response)
        if evidence:
            self.logger.error("blocked: %s", evidence[:200])
            stats.inc_value("nianbao/blocked")
            self.blocked_evidence = self.blocked_evidence or evidence
            yield self._item(response, kind, event="blocked", evidence=evidence)
            return
        if response.status == 304:
            stats.inc_value("nianbao/not_modified")
            yield self._item(response, kind, event="not_modified")
            if kind == "report":
                self._count_report(response.url, kind)
                stored = self.archive_state.latest_body(response.url)
                if stored:
                    old = HtmlResponse(
                        response.url,
                        body=stored[0],
                        request=response.request,
                        headers={"Content-Type": stored[1] or "text/html"},
                    )
                    if is_html(old):
                        yield from self.report_links(fix_encoding(old), response.meta)
            return
        if response.status >= 400:
            yield self._item(
                response,
                kind,
                event="error",
                stage="http",
                evidence=http_reason(response.status, response.meta),
                attempts=response.meta.get("retry_times", 0) + 1,
            )
        if response.status in (404, 410):
            if kind in ("report", "attachment"):
                yield self._item(response, kind, event="gone")
            return
        if response.status >= 400:
            return
        if kind == "api":
            yield self._item(response, "list", body=response.body, filename=filename_of(response))
            yield from self.data_links(response)
            return
        if not is_html(response):
            self._count_report(response.url, kind)
            yield self._item(
                response,
                kind if kind in ("report", "attachment") else "attachment",
                body=response.body,
                filename=filename_of(response),
            )
            return
        page = fix_encoding(response)
        if kind == "report" and self._looks_like_list(page):
            kind = "list"
            response.meta["nb_ctx"] = "annual"
            stats.inc_value("nianbao/report_links_that_were_lists")
        if kind == "report":
            self._count_report(response.url, kind)
            attachments = [
                link.url
                for link in anchors(page.selector, page.url)
                if is_attachment_url(link.url) and link.url != page.url
            ]
            yield self._item(
                page, "report", body=response.body, filename=filename_of(response), attachments=attachments
            )
            yield from self.report_links(page, response.meta)
        else:
            yield self._item(page, kind, body=response.body, filename=filename_of(response))
            yield from self.list_links(page, response.meta)

    def _count_report(self, url: str, kind: str) -> None:
        if kind == "report" and url not in self.reports:
            self.reports.add(url)
            self.crawler.stats.inc_value("nianbao/reports_found")
        elif kind == "attachment":
            self.crawler.stats.inc_value("nianbao/attachments")

    def _looks_like_list(self, page: TextResponse) -> bool:
        """A "report" link that opens a list of reports (per-year or per-department sub-columns)."""
        hits = {
            link.url
            for link in anchors(page.selector, page.url)
            if classify_title(link.label).is_report and link.url != page.url
        }
        return len(hits) >= 3

    def _links(self, page: TextResponse) -> tuple[list[Link], list[Any]]:
        families = families_for(page, self.portal.cms)
        seen: dict[str, Link] = {}
        for fam in families:
            for link in fam.links(page):
                prev = seen.get(link.url)
                if prev is None or len(link.label) > len(prev.label):
                    seen[link.url] = link
        return list(seen.values()), families

    def list_links(self, page: TextResponse, meta: dict[str, Any]) -> Iterator[Request]:
        depth = meta.get("nb_depth", 0)
        ctx = meta.get("nb_ctx")
        links, families = self._links(page)
        for fam in families:
            for url in fam.pagination(page):
                req = self.follow(
                    url,
                    "list",
                    depth=depth,
                    ctx=ctx,
                    source=page.url,
                    priority_key="annual" if ctx == "annual" else "disclosure",
                )
                if req:
                    self.crawler.stats.inc_value(f"nianbao/pagination/{fam.name}")
                    yield req
            for url in fam.data_requests(page):
                req = self.follow(url, "api", depth=depth, ctx=ctx, source=page.url, priority_key="annual")
                if req:
                    req.meta["nb_family"] = fam.name
                    self.crawler.stats.inc_value(f"nianbao/data_requests/{fam.name}")
                    yield req
        yield from self._classify_links(links, depth, ctx, page.url)

    def _classify_links(
        self, links: list[Link], depth: int, ctx: str | None, source: str
    ) -> Iterator[Request]:
        for link in links:
            verdict = classify_title(link.label, in_report_column=ctx == "annual")
            if not verdict and link.text and link.title:
                other = link.text if link.label == link.title else link.title
                verdict = classify_title(other, in_report_column=ctx == "annual")
            if verdict:
                req = self.follow(
                    link.url, "report", depth=depth + 1, ctx=ctx, text=link.label, source=source
                )
                if req:
                    yield req
                continue
            if verdict.decoy:
                if link.url not in self.decoys:
                    self.decoys.add(link.url)
                    self.crawler.stats.inc_value("nianbao/decoys_rejected")
                    self.logger.debug("decoy (%s): %s", verdict.reason, link.label)
                continue
            if is_attachment_url(link.url):
                continue
            col = column_kind(link.label, link.url)
            if col:
                req = self.follow(
                    link.url,
                    "list",
                    depth=depth + 1,
                    ctx="annual" if col == "annual" else ctx,
                    text=link.label,
                    source=source,
                    priority_key=col,
                )
                if req:
                    yield req

    def report_links(self, page: TextResponse, meta: dict[str, Any]) -> Iterator[Request]:
        """From a report page: its attachments (the report's content when the page is a wrapper) and any
        other report it links to."""
        depth = meta.get("nb_depth", 0)
        for link in anchors(page.selector, page.url):
            if link.url == page.url:
                continue
            if is_attachment_url(link.url) and url_extension(link.url) not in ("zip", "rar", "7z"):
                req = self.follow(
                    link.url, "attachment", depth=depth + 1, text=link.label or None or "", source=page.url
                )
                if req:
                    yield req
            elif classify_title(link.label):
                req = self.follow(
                    link.url,
                    "report",
                    depth=depth + 1,
                    ctx=meta.get("nb_ctx"),
                    text=link.label,
                    source=page.url,
                )
                if req:
                    yield req
        for src in page.xpath(_CONTENT_IMAGES).getall():
            url = page.urljoin(src)
            if url_extension(url) in ("jpg", "jpeg", "png", "gif", "tif", "tiff", "bmp"):
                req = self.follow(url, "attachment", depth=depth + 1, text=clean(""), source=page.url)
                if req:
                    yield req

    def data_links(self, response: Response) -> Iterator[Request]:
        meta = response.meta
        depth = meta.get("nb_depth", 0)
        ctx = meta.get("nb_ctx")
        from ..cms import family

        fam = family(
            meta.get("nb_family") or ("json_list" if response.body.lstrip()[:1] in (b"{", b"[") else "hanweb")
        )
        links, more = fam.parse_data(response)
        for url in more:
            req = self.follow(url, "api", depth=depth, ctx=ctx, source=response.url, priority_key="annual")
            if req:
                req.meta["nb_family"] = fam.name
                self.crawler.stats.inc_value(f"nianbao/pagination/{fam.name}")
                yield req
        yield from self._classify_links(links, depth, ctx, response.url)

    def closed(self, reason: str) -> None:
        self.archive_state.close()
