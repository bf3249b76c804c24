"""`nianbao detect URL`: what the crawler would see on a portal, before it goes into the registry.

Fetches the home page and a few column pages (same origin, redirect pages followed as a browser would, at most
`max_pages` fetches, one at a time), and reports the CMS families on them, the disclosure, catalogue and
annual-report columns found, and for each annual-report column its report links and the pagination the
spider would walk. It uses the spider's own rules (crawler/classify.py, crawler/cms, crawler/pages.py).
"""

from __future__ import annotations

import urllib.request
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from scrapy.http import HtmlResponse, TextResponse

from .classify import classify_title, column_kind, is_agency_name, is_catalogue_text
from .cms import detect as detect_families
from .cms import families_for
from .cms.base import anchors
from .pages import detect_block, fix_encoding, redirect_target, site_name


@dataclass
class Probe:
    """What `detect` found: each list holds (text, url) or per-column dicts, in the order met."""

    url: str
    site: str | None = None
    families: list[str] = field(default_factory=list)
    redirects: list[tuple[str, str]] = field(default_factory=list)
    challenged: list[str] = field(default_factory=list)
    disclosure: list[tuple[str, str]] = field(default_factory=list)
    catalogues: list[tuple[str, str]] = field(default_factory=list)
    agencies: list[tuple[str, str]] = field(default_factory=list)
    annual: list[dict[str, Any]] = field(default_factory=list)
    fetched: int = 0


def _fetch(url: str, user_agent: str, timeout: float) -> TextResponse | None:
    req = urllib.request.Request(url, headers={"User-Agent": user_agent})
    try:
        with urllib.request.urlopen(req, timeout=timeout) as resp:  # follows HTTP redirects
            body = resp.read(5_000_000)
            headers = {k: v for k, v in resp.headers.items()}
            return fix_encoding(HtmlResponse(resp.geturl(), body=body, headers=headers, status=resp.status))
    except OSError:
        return None


def _origin(url: str) -> tuple[str, str, int | None]:
    p = urlsplit(url)
    return p.scheme, (p.hostname or "").lower(), p.port


def probe(url: str, *, user_agent: str = "nianbao-detect", max_pages: int = 25, timeout: float = 15) -> Probe:
    """Walk the portal's columns breadth-first from `url`, up to `max_pages` fetches."""
    out = Probe(url)
    origin = _origin(url)
    queue: list[tuple[str, str, str]] = [(url, "home", "")]
    seen = {url}
    while queue and out.fetched < max_pages:
        target, role, text = queue.pop(0)
        page = _fetch(target, user_agent, timeout)
        out.fetched += 1
        if page is None:
            continue
        if detect_block(page):
            out.challenged.append(target)
            continue
        hop = redirect_target(page)
        if hop:
            out.redirects.append((target, hop))
            if hop not in seen and _origin(hop) == origin:
                seen.add(hop)
                queue.insert(0, (hop, role, text))
            continue
        if role == "home":
            out.site = site_name(page)
            out.families = detect_families(page)
        if role == "annual":
            fams = families_for(page)
            links = [link for fam in fams for link in fam.links(page)]
            out.annual.append(
                {
                    "text": text,
                    "url": page.url,
                    "families": detect_families(page),
                    "reports": sorted(
                        {link.label for link in links if classify_title(link.label, in_report_column=True)}
                    ),
                    "pagination": sorted({u for fam in fams for u in fam.pagination(page)})[:10],
                    "data": [d.url for fam in fams for d in fam.data_requests(page)][:5],
                }
            )
        for link in anchors(page.selector, page.url):
            if link.url in seen or _origin(link.url) != origin:
                continue
            label = link.label
            if classify_title(label):
                continue
            kind = column_kind(label, link.url)
            if is_catalogue_text(label):
                kind = "catalogue"
            elif role == "catalogue" and is_agency_name(label):
                kind = "agency"
            if kind is None:
                continue
            seen.add(link.url)
            {"disclosure": out.disclosure, "catalogue": out.catalogues, "agency": out.agencies}.get(
                kind, []
            ).append((label, link.url))
            queue.append((link.url, kind, label))
    return out


def render(p: Probe) -> str:
    """The probe as text for an operator."""
    lines = [f"portal: {p.url}  ({p.site or 'no site name'}); {p.fetched} pages fetched"]
    lines.append(f"CMS families on the home page: {', '.join(p.families) or 'none (generic)'}")
    for src, dst in p.redirects:
        lines.append(f"redirect page: {src} -> {dst}")
    for url in p.challenged:
        lines.append(f"challenge page (skipped): {url}")
    for title, rows in (
        ("disclosure columns", p.disclosure),
        ("catalogues of agencies", p.catalogues),
        ("agencies", p.agencies),
    ):
        lines.append(f"{title}: {len(rows)}")
        lines += [f"  {text} {url}" for text, url in rows]
    lines.append(f"annual-report columns: {len(p.annual)}")
    for col in p.annual:
        lines.append(f"  {col['text']} {col['url']}  families: {', '.join(col['families']) or 'generic'}")
        lines.append(f"    {len(col['reports'])} report links on its first page")
        lines += [f"      {t}" for t in col["reports"][:5]]
        if col["pagination"]:
            lines.append(f"    pagination (walked lazily): {', '.join(col['pagination'][:4])} …")
        if col["data"]:
            lines.append(f"    data endpoints: {', '.join(col['data'])}")
    return "\n".join(lines)
