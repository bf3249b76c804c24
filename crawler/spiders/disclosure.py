"""The discovery spider: portal home → 信息公开 column → 年报 column → list pages → reports → attachments.

One spider for every portal: a registry entry (or `-a url=`) is data, the CMS families in crawler/cms find
lists and pagination, crawler/classify.py decides what is a report, crawler/pages.py what a page is (a
redirect, a challenge, a wrapper). Depth counts discovery steps only (a list's page 7, a year sub-column and a
redirect's target are as deep as the list itself); a page budget bounds each portal and each list.

It follows what a browser follows: meta refresh and script redirects, `<base href>`, frames, `title=` over
truncated text, jpage POSTs, JSON records resolved against the page that renders them, department and
township catalogues wherever their links point on the site. A challenge is recorded per page
(`challenged`); the portal is blocked only when its entry pages or a run of consecutive pages are challenges.
Pagination is walked lazily: the next pages of a list are requested while its pages keep yielding new links.

    scrapy crawl disclosure -a portal=shanghai
    scrapy crawl disclosure -a url=https://www.example.gov.cn/ -a agency=示例市人民政府
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, ClassVar
from urllib.parse import urlsplit

import scrapy
from scrapy.http import FormRequest, HtmlResponse, Request, Response, TextResponse
from w3lib.url import url_query_cleaner

from archive.crawls import ArchiveView

from ..classify import (
    classify_title,
    column_kind,
    is_agency_name,
    is_attachment_url,
    is_catalogue_text,
    is_foreign_title,
    locality,
    title_places,
    url_extension,
    year_column,
)
from ..cms import families_for, family
from ..cms.base import DataRequest, Link, anchors, clean
from ..faults import error_item_fields, http_reason
from ..items import DocumentItem
from ..pages import (
    CHALLENGE_WORDS,
    best_encoding,
    detect_block,
    filename_of,
    fix_encoding,
    frame_sources,
    is_html,
    is_wrapper,
    list_date,
    page_date,
    redirect_target,
    site_name,
)
from ..portals import Portal, is_loopback, load_registry, portal_for_url, same_site
from ..urls import normalize_url

__all__ = ["CHALLENGE_WORDS", "DisclosureSpider", "best_encoding", "detect_block", "filename_of"]

_CONTENT_IMAGES = (
    "//div[contains(@class,'TRS_Editor') or contains(@class,'trs_editor') or @id='zoom'"
    " or contains(@class,'article') or contains(@class,'content') or @id='content'"
    " or contains(@class,'bt-content') or contains(@class,'main-txt')]//img/@src"
)
CONTRACTS_PORTAL = "https://www.example.gov.cn/"
PRIORITY = {"annual": 40, "page_annual": 40, "report": 30, "attachment": 25, "disclosure": 10, "page": 5}
# Query parameters that only say where a link was clicked: the same document either way.
TRACKING_PARAMS = ("from", "source", "src", "spm", "share", "shareid", "isappinstalled", "wfr", "tracking")
# How many next pages of a list are requested at once, while its pages keep yielding new links.
LOOKAHEAD = 2


def now_iso() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def canonical(url: str) -> str:
    """`url` without click-tracking parameters (`?from=zl`, `utm_*`), so one document is one URL."""
    parts = urlsplit(url)
    if not parts.query:
        return url
    keys = [k for k in (p.split("=", 1)[0] for p in parts.query.split("&")) if k]
    drop = [k for k in keys if k.lower() in TRACKING_PARAMS or k.lower().startswith("utm_")]
    if not drop:
        return url
    return url_query_cleaner(url, drop, remove=True)


@dataclass
class ListWalk:
    """One list's pagination: pages found but not yet requested, in the order found, and pages spent."""

    queue: list[str | DataRequest] = field(default_factory=list)
    queued: set[str] = field(default_factory=set)
    pages: int = 1
    stopped: bool = False
    seen: set[str] = field(default_factory=set)  # links this list's pages showed so far
    ended: str | None = None  # why the walk stopped early: "no news", "budget", "redirect", "failed"
    failed: list[str] = field(default_factory=list)  # pages of this list that got no usable answer

    def complete(self) -> bool:
        """Every page the list named was read (or it ended on the portal's own redirect past its end): only
        then does a link missing from it say something about the document."""
        if self.failed or self.ended == "budget":
            return False
        return not self.queue or self.ended == "redirect"


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
        self.foreign: set[str] = set()  # reports another place published, posted on this portal
        self.budget_exhausted = False
        self.blocked_evidence: str | None = None
        self.challenged: list[dict[str, Any]] = []  # one record per challenge page: url, status, evidence
        self.truncated_lists: list[str] = []  # lists whose own page budget ran out
        self.pages_read: dict[str, set[str]] = {}  # page read in this crawl → the list walks it belongs to
        self.archiving = True  # False only for `scrapy check` (no portal given)
        self.home: str | None = None  # the portal's place (溪林县), to tell another county's report
        self._challenge_run = 0
        self._entries_challenged = 0
        self._walks: dict[str, ListWalk] = {}

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
        self.list_budget = int(
            self.portal.hints.get("list_page_budget") or settings.getint("NIANBAO_LIST_PAGE_BUDGET", 200)
        )
        self.block_run = settings.getint("NIANBAO_BLOCK_RUN", 5)
        agency = self.portal.agency or ""
        self.home = locality(agency) if agency and agency != urlsplit(self.start_urls[0]).hostname else None

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
        data: DataRequest | None = None,
        extra: dict[str, Any] | None = None,
    ) -> Request | None:
        """A request for `url` unless it was already requested, is off-site, too deep or over budget."""
        url = normalize_url(canonical(url))
        self.linked.add(url)
        if self.blocked_evidence is not None:
            return None
        if not self.allowed(url):
            self.crawler.stats.inc_value("nianbao/offsite_skipped")
            return None
        key = data.key if data is not None else url
        if key in self.seen_requests:
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
        self.seen_requests.add(key)
        meta = {"nb_kind": kind, "nb_depth": depth, "nb_ctx": ctx, "nb_text": text, "nb_from": source}
        meta.update(extra or {})
        callback = self.parse_report if kind in ("report", "foreign") else self.parse_response
        priority = PRIORITY.get(priority_key or kind, 0)
        if data is not None and data.method == "POST":
            return FormRequest(
                data.url,
                formdata=list(data.form),
                callback=callback,
                errback=self.on_error,
                meta=meta,
                priority=priority,
                dont_filter=True,  # the URL repeats across columns; the form makes it another request
            )
        return Request(url, callback=callback, errback=self.on_error, meta=meta, priority=priority)

    async def start(self) -> Any:
        if not self.archiving:
            raise ValueError("give -a portal=NAME (a registry entry) or -a url=URL [-a agency=NAME]")
        for url in self.start_urls:
            req = self.follow(url, "page", depth=0, priority_key="page", extra={"nb_entry": True})
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
        self._list_page_failed(request.meta, request.url)
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
            title=meta.get("nb_title") or meta.get("nb_text") or None,
            link_text=meta.get("nb_text") or None,
            discovered_from=meta.get("nb_from"),
            etag=(headers.get(b"ETag") or b"").decode("latin-1") or None,
            last_modified=(headers.get(b"Last-Modified") or b"").decode("latin-1") or None,
            warc_written=meta.get("nb_warc_written"),  # `warc` is filled from it once the record is written
            published=meta.get("nb_date"),
            published_source=(meta.get("nb_date_source") or "list") if meta.get("nb_date") else None,
            column=meta.get("nb_column"),
            foreign_place=meta.get("nb_foreign"),
            **extra,
        )

    def parse_response(self, response: Response) -> Iterator[Any]:
        """A portal page or list page: archive it, follow columns, pagination and report links.

        The saved list page has 3 report links, 1 decoy (not followed) and 2 further list pages.
        @saved annual_list.html https://www.example.gov.cn/xxgk/ndbg/index.html
        @returns items 1 1
        @returns requests 5 5
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

    def _challenge(self, response: Response, kind: str, evidence: str) -> Iterator[Any]:
        """Record one challenge page; call the portal blocked only for its entry pages or a run of them."""
        stats = self.crawler.stats
        stats.inc_value("nianbao/challenged")
        self.challenged.append({"url": response.url, "status": response.status, "evidence": evidence})
        self._challenge_run += 1
        if response.meta.get("nb_entry"):
            self._entries_challenged += 1
        self.logger.warning("challenge page: %s", evidence[:200])
        yield self._item(response, kind, event="challenged", evidence=evidence)
        entries_blocked = self._entries_challenged >= len(self.start_urls)
        if self.blocked_evidence is None and (entries_blocked or self._challenge_run >= self.block_run):
            why = "entry pages" if entries_blocked else f"{self._challenge_run} consecutive pages"
            self.blocked_evidence = f"{evidence}\n(blocked: the {why} were challenges)"
            self.logger.error("blocked: %s", self.blocked_evidence[:200])
            stats.inc_value("nianbao/blocked")
            yield self._item(response, kind, event="blocked", evidence=self.blocked_evidence)

    def _handle(self, response: Response) -> Iterator[Any]:
        kind = response.meta.get("nb_kind", "page")
        stats = self.crawler.stats
        page = fix_encoding(response) if is_html(response) else None
        target = redirect_target(page) if page is not None else None
        evidence = None if target else detect_block(response)
        if evidence:
            self._list_page_failed(response.meta, response.url)
            yield from self._challenge(response, kind, evidence)
            return
        if response.status < 400 or response.status in (404, 410):
            self._challenge_run = 0
        if target:
            yield from self._redirect(page or response, kind, target)
            return
        if response.status == 304:
            stats.inc_value("nianbao/not_modified")
            yield self._item(response, kind, event="not_modified")
            yield from self._from_stored(response, kind)
            return
        if response.status >= 400:
            self._list_page_failed(response.meta, response.url)
            yield self._item(
                response,
                kind,
                event="error",
                stage="http",
                evidence=http_reason(response.status, response.meta),
                attempts=response.meta.get("retry_times", 0) + 1,
            )
        if response.status in (404, 410):
            if kind in ("report", "attachment", "foreign"):
                yield self._item(response, kind, event="gone")
            return
        if response.status >= 400:
            return
        if kind == "api":
            yield self._item(response, "list", body=response.body, filename=filename_of(response))
            yield from self.data_links(response)
            return
        if page is None:
            self._count_report(response.url, kind)
            yield self._item(
                response,
                kind if kind in ("report", "attachment", "foreign") else "attachment",
                body=response.body,
                filename=filename_of(response),
            )
            return
        yield from self._page(page, response.body, kind)

    def _page(self, page: TextResponse, body: bytes, kind: str) -> Iterator[Any]:
        """An HTML page already decoded: a report page, or a page whose links lead on."""
        meta = page.meta
        if meta.get("nb_entry") and self.home is None:
            self.home = locality(site_name(page))
        if kind == "report" and self._looks_like_list(page):
            kind = "list"
            meta["nb_ctx"] = "annual"
            meta["nb_kind"] = "list"
            self.crawler.stats.inc_value("nianbao/report_links_that_were_lists")
        if kind in ("report", "foreign"):
            attachments = [
                link.url
                for link in anchors(page.selector, page.url)
                if is_attachment_url(link.url) and link.url != page.url
            ]
            if kind == "report" and is_wrapper(page, attachments):
                # 详见附件: the page only points at the report; the attachment is read, the page is kept.
                kind = "landing"
                meta["nb_landing"] = True
                self.crawler.stats.inc_value("nianbao/landing_pages")
            self._count_report(page.url, "report" if kind == "landing" else kind)
            self.pages_read.setdefault(
                page.url, set()
            )  # read whole: an attachment it no longer links is dropped
            yield self._item(page, kind, body=body, filename=filename_of(page), attachments=attachments)
            yield from self.report_links(page, meta)
        else:
            yield self._item(page, kind, body=body, filename=filename_of(page))
            yield from self.list_links(page, meta)

    def _redirect(self, page: Response, kind: str, target: str) -> Iterator[Any]:
        """A benign redirect page: archived as a page, its target followed as the same kind at the same
        depth. Past a list's last page (a refresh back to the list), the list simply ends."""
        meta = page.meta
        self.crawler.stats.inc_value("nianbao/redirect_pages")
        yield self._item(page, "page", body=page.body, filename=filename_of(page))
        if meta.get("nb_pageno"):
            self._stop_walk(meta.get("nb_list"))
            return
        req = self.follow(
            target,
            kind,
            depth=meta.get("nb_depth", 0),
            ctx=meta.get("nb_ctx"),
            text=meta.get("nb_text") or "",
            source=page.url,
            priority_key=kind if kind in PRIORITY else "page",
            extra={
                k: v for k, v in meta.items() if k in ("nb_entry", "nb_date", "nb_date_source", "nb_column")
            },
        )
        if req:
            yield req

    def _from_stored(self, response: Response, kind: str) -> Iterator[Any]:
        """A 304: the unchanged page's links (or redirect) come from its archived copy."""
        if kind == "report":
            self._count_report(response.url, kind)
        if kind in ("attachment", "foreign", "landing"):
            return
        stored = self.archive_state.latest_body(response.url)
        if not stored:
            return
        old = HtmlResponse(
            response.url,
            body=stored[0],
            request=response.request,
            headers={"Content-Type": stored[1] or "text/html"},
        )
        if kind == "api":
            yield from self.data_links(old)
            return
        if not is_html(old):
            return
        page = fix_encoding(old)
        target = redirect_target(page)
        if target:
            yield from (r for r in self._redirect(page, kind, target) if isinstance(r, Request))
        elif kind in ("report", "landing"):
            self.pages_read.setdefault(page.url, set())
            yield from self.report_links(page, response.meta)
        else:
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
        """A list or column page: its links are classified first, then its frames, data endpoints and the
        next pages of its list (only while its pages bring links not seen before)."""
        depth = meta.get("nb_depth", 0)
        ctx = meta.get("nb_ctx")
        links, families = self._links(page)
        dates = self._dates(page)
        yield from self._classify_links(links, depth, ctx, page.url, meta, dates)
        for src in frame_sources(page.selector, page.url):
            req = self.follow(src, "list", depth=depth, ctx=ctx, source=page.url, priority_key="disclosure")
            if req:
                self.crawler.stats.inc_value("nianbao/frames")
                yield req
        key = meta.get("nb_list") or page.url
        candidates: list[str | DataRequest] = []
        for fam in families:
            for url in fam.pagination(page):
                candidates.append(url)
                self.crawler.stats.inc_value(f"nianbao/pagination/{fam.name}")
            for data in fam.data_requests(page):
                req = self.follow(
                    data.url,
                    "api",
                    depth=depth,
                    ctx=ctx,
                    source=page.url,
                    priority_key="annual",
                    data=data,
                    extra={"nb_family": fam.name, "nb_base": page.url, "nb_list": f"api {data.key}"},
                )
                if req:
                    self.crawler.stats.inc_value(f"nianbao/data_requests/{fam.name}")
                    yield req
        yield from self._walk(key, candidates, [link.url for link in links], meta, page.url, "list")

    def _walk(
        self,
        key: str,
        candidates: list[str | DataRequest],
        shown: list[str],
        meta: dict[str, Any],
        source: str,
        kind: str,
    ) -> Iterator[Request]:
        """Lazy pagination: queue the pages a list page names (a 尾页 number is only a hint), and request the
        next ones only while the list's pages bring new links, within the list's own page budget.

        "New" is per list: a page whose links this list has not shown yet (items also shown elsewhere on the
        site, a home page's latest reports, still count), so the walk does not depend on the order in which
        other pages happened to arrive."""
        walk = self._walks.setdefault(key, ListWalk())
        self.pages_read.setdefault(source, set()).add(key)
        # News are links to something other than the list's own pages: a trap's endless pager (下一页 →
        # page n+1 on every page, 尾页 → page 1,000,000) shows a new page link on every page and nothing else.
        pager = {c.url if isinstance(c, DataRequest) else c for c in candidates}
        fresh = len(set(shown) - walk.seen - pager - walk.queued)
        walk.seen.update(shown)
        for cand in candidates:
            ckey = cand.key if isinstance(cand, DataRequest) else canonical(cand)
            if ckey not in walk.queued and ckey not in self.seen_requests:
                walk.queued.add(ckey)
                walk.queue.append(cand)
        pageno = meta.get("nb_pageno")
        if walk.stopped:
            return
        if pageno and fresh == 0:
            # Only the last page sent may end the walk: an earlier one answering late with nothing new (a
            # `&page=1` alias of the first page) must not, or the walk would depend on arrival order.
            if pageno == walk.pages - 1:
                self.crawler.stats.inc_value("nianbao/lists_ended_without_news")
                walk.stopped = True
                walk.ended = "no news"
            return
        sent = 0
        while walk.queue and sent < LOOKAHEAD:
            if walk.pages >= self.list_budget:
                walk.stopped = True
                walk.ended = "budget"
                self.truncated_lists.append(key)
                self.crawler.stats.inc_value("nianbao/list_budget_exhausted")
                self.logger.warning("list page budget %d spent on %s", self.list_budget, key)
                return
            cand = walk.queue.pop(0)
            data = cand if isinstance(cand, DataRequest) else None
            url = cand.url if isinstance(cand, DataRequest) else cand
            extra = {
                "nb_list": key,
                "nb_pageno": walk.pages,
                "nb_column": meta.get("nb_column"),
            }
            for k in ("nb_family", "nb_base"):
                if k in meta:
                    extra[k] = meta[k]
            req = self.follow(
                url,
                kind,
                depth=meta.get("nb_depth", 0),
                ctx=meta.get("nb_ctx"),
                source=source,
                priority_key="annual" if meta.get("nb_ctx") == "annual" or kind == "api" else "disclosure",
                data=data,
                extra=extra,
            )
            if req:
                walk.pages += 1
                sent += 1
                yield req

    def _stop_walk(self, key: str | None) -> None:
        """Past a list's last page the portal redirects back: the list ends there, read completely."""
        if key and key in self._walks:
            self._walks[key].stopped = True
            self._walks[key].ended = "redirect"

    def _list_page_failed(self, meta: dict[str, Any], url: str) -> None:
        """A page of a list got no usable answer (error, 5xx, 404): that list was not read completely."""
        key = meta.get("nb_list")
        if key:
            self._walks.setdefault(key, ListWalk()).failed.append(url)

    def incomplete_lists(self) -> list[tuple[str, str]]:
        """(list, why) for every list whose walk did not read every page it named: evidence for the crawl's
        record, and the lists whose missing links prove nothing."""
        out = []
        for key, walk in self._walks.items():
            if walk.complete():
                continue
            if walk.failed:
                why = f"{len(walk.failed)} of its pages got no usable answer (first: {walk.failed[0]})"
            elif walk.ended == "budget":
                why = (
                    f"the list page budget ({self.list_budget}) was spent; {len(walk.queue)} named pages left"
                )
            else:
                last = walk.queue[-1]
                why = (
                    f"the walk stopped after {walk.pages} pages at a page without new links;"
                    f" {len(walk.queue)} pages it names were not requested (the last: "
                    f"{last.url if isinstance(last, DataRequest) else last})"
                )
            out.append((key, why))
        return out

    def completely_read_pages(self) -> set[str]:
        """Pages read in this crawl whose every list walk is complete (report pages: read whole), i.e. the
        pages on which a missing link is evidence that the portal dropped it."""
        done = {key for key, walk in self._walks.items() if walk.complete()}
        return {page for page, keys in self.pages_read.items() if keys <= done}

    @staticmethod
    def _dates(page: TextResponse) -> dict[str, str]:
        """The date printed beside each link of a list (`<li><a …>…</a><span>2024-01-25</span></li>`).

        Every `<li>` with a linked `<a>` child and every `<tr>` holding one link, walked on the lxml tree (an
        XPath per row cost ~40 ms on a list page with the site's menus, all of it on the reactor thread)."""
        root = page.selector.root
        if not hasattr(root, "iter"):  # a text or JSON selector: no rows
            return {}
        out: dict[str, str] = {}
        for row in root.iter("li", "tr"):
            if row.tag == "li" and not any(a.get("href") is not None for a in row.iterchildren("a")):
                continue
            hrefs = [h for h in (a.get("href") for a in row.iter("a")) if h is not None]
            if len(hrefs) != 1:
                continue
            date = list_date(" ".join(row.itertext()))
            if date:
                out[page.urljoin(hrefs[0])] = date
        return out

    def _classify_links(
        self,
        links: list[Link],
        depth: int,
        ctx: str | None,
        source: str,
        meta: dict[str, Any],
        dates: dict[str, str] | None = None,
    ) -> Iterator[Request]:
        dates = dates or {}
        column = meta.get("nb_column")
        for link in links:
            verdict = classify_title(link.label, in_report_column=ctx == "annual")
            if not verdict and link.text and link.title:
                other = link.text if link.label == link.title else link.title
                verdict = classify_title(other, in_report_column=ctx == "annual")
            if verdict:
                place = self._foreign_place(link)
                req = self.follow(
                    link.url,
                    "foreign" if place else "report",
                    depth=depth + 1,
                    ctx=ctx,
                    text=link.label,
                    source=source,
                    priority_key="report",
                    extra={
                        "nb_date": link.date or dates.get(link.url),
                        "nb_column": column,
                        "nb_foreign": place,
                    },
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
            req = self._column(link, depth, ctx, source)
            if req:
                yield req

    def _column(self, link: Link, depth: int, ctx: str | None, source: str) -> Request | None:
        """A column worth entering: a disclosure or annual-report column, a catalogue of agencies, an agency
        in such a catalogue (wherever on the site its link points), or a year sub-column of a 年报 column."""
        label = link.label
        col = column_kind(label, link.url)
        year = year_column(label) if ctx == "annual" else None
        if year is not None:
            # A year sub-column partitions the annual list: as deep as the list itself.
            return self.follow(
                link.url,
                "list",
                depth=depth,
                ctx="annual",
                text=label,
                source=source,
                priority_key="annual",
                extra={"nb_column": label},
            )
        if ctx == "catalogue" and is_agency_name(label):
            return self.follow(
                link.url,
                "list",
                depth=depth + 1,
                ctx=None,
                text=label,
                source=source,
                priority_key="disclosure",
                extra={"nb_column": label},
            )
        if is_catalogue_text(label):
            col = "catalogue"
        if not col:
            return None
        return self.follow(
            link.url,
            "list",
            depth=depth + 1,
            ctx={"annual": "annual", "catalogue": "catalogue"}.get(col, ctx if ctx != "catalogue" else None),
            text=label,
            source=source,
            priority_key="annual" if col == "annual" else "disclosure",
            extra={"nb_column": label},
        )

    def _foreign_place(self, link: Link) -> str | None:
        """The place named by a report title that another place published (recorded, never read)."""
        if not is_foreign_title(link.label, self.home):
            return None
        url = canonical(link.url)
        if url not in self.foreign:
            self.foreign.add(url)
            self.crawler.stats.inc_value("nianbao/foreign_reports")
            self.logger.info("another place's report: %s (%s)", link.label, url)
        return title_places(link.label)[0]

    def report_links(self, page: TextResponse, meta: dict[str, Any]) -> Iterator[Request]:
        """From a report page: its attachments (the report's content when the page is a wrapper) and any
        other report it links to. Attachments of another place's report are that place's too."""
        depth = meta.get("nb_depth", 0)
        attachment_kind = "foreign" if meta.get("nb_kind") == "foreign" else "attachment"
        # The page's own date (its <meta>, its 发布日期 field) beats the list's for its attachments: an
        # attachment-only report has no other (the document's own date line, when it has one, still wins).
        links = anchors(page.selector, page.url)
        stated = page_date(page) if any(is_attachment_url(link.url) for link in links) else None
        inherited = {
            "nb_date": stated[0] if stated else meta.get("nb_date"),
            "nb_date_source": stated[1] if stated else meta.get("nb_date_source"),
            "nb_column": meta.get("nb_column"),
            "nb_title": meta.get("nb_title") or meta.get("nb_text"),
            "nb_foreign": meta.get("nb_foreign"),
        }
        for link in links:
            if link.url == page.url:
                continue
            if is_attachment_url(link.url) and url_extension(link.url) not in ("zip", "rar", "7z"):
                # An attachment is a leaf: it may sit one step below the deepest report.
                req = self.follow(
                    link.url,
                    attachment_kind,
                    depth=min(depth + 1, self.max_depth),
                    text=link.label or meta.get("nb_text") or "",
                    source=page.url,
                    priority_key="attachment",
                    extra=inherited,
                )
                if req:
                    yield req
            elif classify_title(link.label):
                place = self._foreign_place(link)
                req = self.follow(
                    link.url,
                    "foreign" if place else "report",
                    depth=depth + 1,
                    ctx=meta.get("nb_ctx"),
                    text=link.label,
                    source=page.url,
                    priority_key="report",
                    extra={"nb_foreign": place},
                )
                if req:
                    yield req
        for src in page.xpath(_CONTENT_IMAGES).getall():
            url = page.urljoin(src)
            if url_extension(url) in ("jpg", "jpeg", "png", "gif", "tif", "tiff", "bmp"):
                req = self.follow(
                    url,
                    attachment_kind,
                    depth=min(depth + 1, self.max_depth),
                    text=clean(""),
                    source=page.url,
                    priority_key="attachment",
                )
                if req:
                    yield req

    def data_links(self, response: Response) -> Iterator[Request]:
        """A data endpoint's answer (JSON, jpage XML): its records, resolved against the page that renders
        them, and the next data pages, walked lazily like a list's pages."""
        meta = response.meta
        depth = meta.get("nb_depth", 0)
        ctx = meta.get("nb_ctx")
        fam = family(
            meta.get("nb_family") or ("json_list" if response.body.lstrip()[:1] in (b"{", b"[") else "hanweb")
        )
        base = meta.get("nb_base") or response.url
        links, more = fam.parse_data(response, base)
        yield from self._classify_links(links, depth, ctx, base, meta)
        key = meta.get("nb_list") or f"api {response.url}"
        yield from self._walk(key, list(more), [link.url for link in links], meta, base, "api")

    def closed(self, reason: str) -> None:
        self.archive_state.close()
