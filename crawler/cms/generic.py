"""The fallback family: pagination by link text (下一页/尾页/末页…) and by TRS-like index_N names."""

from __future__ import annotations

from collections.abc import Iterable
from urllib.parse import urlsplit

from scrapy.http import TextResponse

from ..classify import LAST_PAGE_TEXT, PAGINATION_TEXT, TRS_PAGE_RE, normalize
from .base import MAX_LIST_PAGES, CMSFamily, anchors


def _dir(url: str) -> str:
    path = urlsplit(url).path
    return path.rsplit("/", 1)[0]


class GenericFamily(CMSFamily):
    """Any portal: follow pager links found by their text, or by an index_N file name in the same folder."""

    name = "generic"

    @classmethod
    def detect(cls, response: TextResponse) -> bool:
        return True

    def pagination(self, response: TextResponse) -> Iterable[str]:
        here = urlsplit(response.url)
        out: list[str] = []
        last_index: tuple[str, int] | None = None
        for link in anchors(response.selector, response.url):
            target = urlsplit(link.url)
            if target.netloc != here.netloc or link.url == response.url:
                continue
            text = normalize(link.text)
            same_dir = _dir(link.url) == _dir(response.url)
            m = TRS_PAGE_RE.search(target.path)
            if m and same_dir:
                out.append(link.url)
                if LAST_PAGE_TEXT.match(text):
                    last_index = (link.url, int(m.group(1)))
            elif (text and PAGINATION_TEXT.match(text) and same_dir and not text.isdigit()) or (
                text.isdigit() and same_dir and (target.query or m)
            ):
                out.append(link.url)
        if last_index:  # 尾页 → index_N.html: every page up to N (at most MAX_LIST_PAGES)
            url, n = last_index
            stem = url.rsplit("_", 1)[0]
            ext = url.rsplit(".", 1)[1]
            out.extend(f"{stem}_{i}.{ext}" for i in range(1, min(n, MAX_LIST_PAGES) + 1))
        return out
