"""JSON list APIs: a column page that is a JavaScript shell fetching `/api/...?page=1` style endpoints.

The endpoint is found as a string literal in the page's scripts or a data-api/data-url attribute. The
answer is searched for the list (an array of objects with a title-like and a URL-like field) and for the
page count (pages/totalPage/pageCount, or total/totalCount with the page size); pages 2..N are requested
from page 1.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterable
from typing import Any
from urllib.parse import urlsplit

from scrapy.http import Response, TextResponse

from ..classify import page_param
from ..pages import list_date
from .base import MAX_LIST_PAGES, CMSFamily, DataRequest, Link, absolute, clean, scripts
from .query_string import with_page

_ENDPOINT = re.compile(
    r"""["'`]((?:https?://[^"'`\s]+|/[^"'`\s]*?)(?:/api/|\.json|[lL]ist[\w]*\.(?:do|action|jsp)|"""
    r"""/list\?|getList|queryList|/search/)[^"'`\s]*)["'`]"""
)
TITLE_KEYS = ("title", "name", "docTitle", "doctitle", "subject", "articleTitle", "bt", "text")
URL_KEYS = (
    "url",
    "link",
    "href",
    "docUrl",
    "docurl",
    "detailUrl",
    "pageUrl",
    "path",
    "articleUrl",
    "linkUrl",
)
PAGES_KEYS = ("pages", "totalPage", "totalPages", "pageCount", "page_count", "total_pages", "pagecount")
TOTAL_KEYS = ("total", "totalCount", "total_count", "totalRecord", "totalElements", "count", "recordCount")
DATE_KEYS = ("publishDate", "pubDate", "publish_date", "releaseDate", "date", "time", "createTime", "fbrq")
SIZE_KEYS = ("size", "pageSize", "page_size", "per_page", "perPage", "limit", "rows")


def _walk(node: Any) -> Iterable[Any]:
    yield node
    if isinstance(node, dict):
        for v in node.values():
            yield from _walk(v)
    elif isinstance(node, list):
        for v in node:
            yield from _walk(v)


def _first(d: dict[str, Any], keys: tuple[str, ...]) -> Any:
    for k in keys:
        if k in d and d[k] not in (None, ""):
            return d[k]
    return None


class JsonListFamily(CMSFamily):
    """List pages whose records arrive as JSON."""

    name = "json_list"

    @classmethod
    def detect(cls, response: TextResponse) -> bool:
        return any(_ENDPOINT.search(s) for s in scripts(response)) or bool(
            response.xpath("//*[@data-api or @data-url]")
        )

    def data_requests(self, response: TextResponse) -> Iterable[DataRequest]:
        found = []
        for s in scripts(response):
            found += _ENDPOINT.findall(s)
        found += response.xpath("//@data-api | //@data-url").getall()
        out = []
        for raw in found:
            url = absolute(response.url, raw)
            if not url or urlsplit(url).netloc != urlsplit(response.url).netloc:
                continue
            if url.endswith("="):  # '/api/list?page=' + page
                url += "1"
            if any(url.lower().endswith(ext) for ext in (".js", ".css")):
                continue
            out.append(DataRequest(url))
        return out

    def parse_data(self, response: Response, base: str) -> tuple[list[Link], list[DataRequest]]:
        """Records as links resolved against `base` (the page whose script renders them as <a href>)."""
        try:
            data = json.loads(response.body.decode(getattr(response, "encoding", None) or "utf-8", "replace"))
        except ValueError:
            return [], []
        links: list[Link] = []
        for node in _walk(data):
            if isinstance(node, dict):
                title, url = _first(node, TITLE_KEYS), _first(node, URL_KEYS)
                if isinstance(title, str) and isinstance(url, str):
                    target = absolute(base, url)
                    if target:
                        date = _first(node, DATE_KEYS)
                        links.append(
                            Link(target, clean(title), date=list_date(str(date)) or "" if date else "")
                        )
        more: list[DataRequest] = []
        found = page_param(response.url)
        if found is None:
            return links, more
        key, current = found
        if current > 1:
            return links, more
        pages = None
        for node in _walk(data):
            if isinstance(node, dict):
                p = _first(node, PAGES_KEYS)
                if isinstance(p, int):
                    pages = p
                    break
                total, size = _first(node, TOTAL_KEYS), _first(node, SIZE_KEYS)
                if isinstance(total, int) and (isinstance(size, int) or links):
                    per = size if isinstance(size, int) and size > 0 else max(len(links), 1)
                    pages = math.ceil(total / per)
                    break
        if pages:
            more = [
                DataRequest(with_page(response.url, key, n)) for n in range(2, min(pages, MAX_LIST_PAGES) + 1)
            ]
        return links, more
