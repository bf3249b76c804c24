"""What one fetched page is, before discovery reads its links: a challenge, a redirect page, a wrapper around an
attachment, its real encoding, its date in a list, the site's name.

Pure functions over Scrapy responses (no spider state), so they are tested on their own and reused by
`nianbao detect`. Each page is parsed once: these take the response's selector, not regexes over the body.
"""

from __future__ import annotations

import re
from urllib.parse import unquote, urljoin, urlsplit

from parsel import Selector
from scrapy.http import HtmlResponse, Response, TextResponse

from pipelines.extract.html import page_statements

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
        # A 200 script-only page is a challenge only when it sets a cookie or names a challenge: a
        # JavaScript list shell that fetches its records (JSON list APIs) is an ordinary page.
        or (
            status in (200, 202)
            and len(body) < 8000
            and b"<a " not in low
            and (words or (script_only and b"document.cookie" in low))
        )
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


# A page that only sends the browser elsewhere: `location.href = '…'`, `location.replace('…')`,
# `window.location = '…'`, `top.location.href = '…'`, `window.open('…')` with a literal target.
_JS_REDIRECT = re.compile(
    r"""(?:(?:window|top|self|parent|document)\.)?location(?:\.href)?\s*=\s*(['"])(?P<a>[^'"]+)\1"""
    r"""|location\.(?:replace|assign)\(\s*(['"])(?P<b>[^'"]+)\3\s*\)"""
    r"""|window\.open\(\s*(['"])(?P<c>[^'"]+)\5"""
)
_REFRESH_URL = re.compile(r"""^\s*\d*(?:\.\d+)?\s*[;,]?\s*(?:url\s*=\s*)?(['"]?)(?P<u>[^'"]+)\1\s*$""", re.I)
# Set by cookie challenges (acw_sc__v2, __jsl_clearance): such a page is a challenge even when it reloads.
_COOKIE_CHALLENGE = ("document.cookie", "acw_sc__v2", "__jsl_clearance", "eval(function(p,a,c,k,e")
REDIRECT_MAX_TEXT = 200


def visible_text(sel: Selector) -> str:
    """The page's text as a reader sees it (no scripts, styles or noscript)."""
    parts = sel.xpath(
        "//body//text()[not(ancestor::script) and not(ancestor::style) and not(ancestor::noscript)]"
    )
    return " ".join(t.strip() for t in parts.getall() if t.strip())


def redirect_target(page: TextResponse) -> str | None:
    """Where a benign redirect page sends the browser (meta refresh, or a small page whose script only sets
    location / opens a window), as an absolute URL; None for an ordinary page or a challenge.

    A meta refresh is followed whatever the page holds, as a browser does. A script redirect counts only on a
    small page (little visible text, at most two links) with a literal target other than itself and no
    cookie-setting code (a challenge that reloads the page after setting a cookie is not a redirect).
    """
    if page.status not in (200, 202, 203):
        return None
    sel = page.selector
    base = base_url(sel, page.url)
    for content in sel.xpath("//meta[translate(@http-equiv,'REFSH','refsh')='refresh']/@content").getall():
        m = _REFRESH_URL.match(content)
        if m and not m.group("u").strip().isdigit():
            return _target(base, m.group("u"), page.url)
    scripts = "\n".join(sel.xpath("//script[not(@src)]/text()").getall())
    if not scripts or any(w in scripts for w in _COOKIE_CHALLENGE):
        return None
    if _links_over(sel, 2) or len(visible_text(sel)) > REDIRECT_MAX_TEXT:
        return None
    m = _JS_REDIRECT.search(scripts)
    if not m:
        return None
    return _target(base, m.group("a") or m.group("b") or m.group("c"), page.url)


def _links_over(sel: Selector, n: int) -> bool:
    """More than `n` `<a href>` on the page, counted on the lxml tree (a selector per link cost ~3 ms on an
    ordinary page with its menus, on the reactor thread)."""
    root = sel.root
    if not hasattr(root, "iter"):
        return len(sel.xpath("//a[@href]")) > n
    count = 0
    for a in root.iter("a"):
        if a.get("href") is not None:
            count += 1
            if count > n:
                return True
    return False


def _target(base: str, href: str, here: str) -> str | None:
    href = href.strip()
    if not href or href.lower().startswith(("javascript:", "#", "about:")):
        return None
    url = urljoin(base, href).split("#", 1)[0]
    if urlsplit(url).scheme not in ("http", "https") or url == here:
        return None
    return url


def base_url(sel: Selector, url: str) -> str:
    """The URL relative links resolve against: the page's `<base href>` when it has one."""
    href = sel.xpath("//base/@href").get()
    return urljoin(url, href.strip()) if href and href.strip() else url


def frame_sources(sel: Selector, url: str) -> list[str]:
    """The documents a browser loads into the page's frames and iframes (absolute URLs)."""
    base = base_url(sel, url)
    out = []
    for src in sel.xpath("//frame/@src | //iframe/@src").getall():
        target = _target(base, src, url)
        if target:
            out.append(target)
    return out


_DATE = re.compile(r"((?:19|20)\d{2})[-/.年](\d{1,2})[-/.月](\d{1,2})")


def list_date(text: str | None) -> str | None:
    """An ISO date (YYYY-MM-DD) written next to a list item, if any."""
    m = _DATE.search(text or "")
    if not m:
        return None
    y, mo, d = (int(g) for g in m.groups())
    if not (1 <= mo <= 12 and 1 <= d <= 31):
        return None
    return f"{y:04d}-{mo:02d}-{d:02d}"


# Words any annual report's own text holds (its tables or its prose); a 详见附件 page holds none of them.
_REPORT_WORDS = ("行政复议", "依申请", "申请人", "主动公开情况", "收到和处理", "本年新收")
WRAPPER_MAX_TEXT = 3000


def is_wrapper(page: TextResponse, attachments: list[str]) -> bool:
    """A report page that only points at its attachment (详见附件): short, none of a report's own words."""
    if not attachments:
        return False
    text = visible_text(page.selector)
    return len(text) < WRAPPER_MAX_TEXT and not any(w in text for w in _REPORT_WORDS)


def page_date(page: TextResponse) -> tuple[str, str] | None:
    """(date, source) a report page states for itself in its <meta> tags (`landing_page_meta`) or a labelled
    field (发布日期 …: `landing_page_field`): the date its attachments are published with."""
    stated = page_statements(page.text)
    if stated.published_date and stated.published_date_source in ("page_meta", "page_field"):
        return stated.published_date, f"landing_{stated.published_date_source}"
    return None


_SITE_META = (
    "//meta[@name='SiteName']/@content",
    "//meta[@property='og:site_name']/@content",
    "//meta[@name='sitename']/@content",
)
_TITLE_SPLIT = re.compile(r"\s*[-_|｜—–·]+\s*")


def site_name(page: TextResponse) -> str | None:
    """The portal's own name: its SiteName meta, else the part of its <title> that names a government."""
    for xp in _SITE_META:
        v = (page.xpath(xp).get() or "").strip()
        if v:
            return v
    title = (page.xpath("//title/text()").get() or "").strip()
    parts = [p for p in _TITLE_SPLIT.split(title) if p]
    for p in parts:
        if "政府" in p or p.endswith(("县", "市", "区", "旗")):
            return p
    return parts[-1] if parts else None
