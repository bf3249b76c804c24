"""Query-string pagination (`?page=N`, `&pageIndex=N`, `pageNo`, `curpage`…), common on PHP/ASP/JSP portals.

From any pager link that differs from the current list only in its page parameter, and the largest page
number visible (尾页 link or "共N页"), every page 1..N is requested at once instead of walking 下一页.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from scrapy.http import TextResponse

from ..classify import page_param
from .base import MAX_LIST_PAGES, CMSFamily, anchors

_TOTAL_PAGES = re.compile(r"共\s*(\d{1,4})\s*页")
MAX_PAGES = MAX_LIST_PAGES


def with_page(url: str, key: str, n: int) -> str:
    parts = urlsplit(url)
    query = [(k, str(n) if k == key else v) for k, v in parse_qsl(parts.query, keep_blank_values=True)]
    if not any(k == key for k, _ in query):
        query.append((key, str(n)))
    return urlunsplit(parts._replace(query=urlencode(query)))


class QueryStringFamily(CMSFamily):
    """Lists paged by a query parameter on the same path."""

    name = "query_string"

    @classmethod
    def detect(cls, response: TextResponse) -> bool:
        return any(page_param(link.url) for link in anchors(response.selector, response.url))

    def pagination(self, response: TextResponse) -> Iterable[str]:
        here = urlsplit(response.url)
        pagers = []
        for link in anchors(response.selector, response.url):
            target = urlsplit(link.url)
            found = page_param(link.url)
            if found and target.netloc == here.netloc and target.path == here.path:
                pagers.append((link.url, found))
        if not pagers:
            return []
        key = pagers[0][1][0]
        highest = max(n for _, (k, n) in pagers if k == key)
        m = _TOTAL_PAGES.search(" ".join(response.xpath("//body//text()").getall()))
        if m:
            highest = max(highest, int(m.group(1)))
        template = pagers[0][0]
        return [with_page(template, key, n) for n in range(1, min(highest, MAX_PAGES) + 1)]
