"""大汉 Hanweb (jcms): `/col/colNNN/index.html` columns whose lists come from `dataproxy.jsp` as XML.

The column page carries the first records inline (`<datastore>…<record><![CDATA[<li><a …>]]></record>`) and a
jpage script with `proxyUrl`, `perPage`, `totalRecord` and the form parameters (columnid, unitid, webid…).
The proxy answers `<datastore><totalrecord>…</totalrecord><totalpage>…</totalpage><recordset><record>…`.
jpage POSTs those parameters; nianbao sends them as a GET query (the JSP reads either), in the fixed order
of `dataproxy_url`, and asks for three pages per request like jpage does.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from urllib.parse import parse_qsl, urlencode, urljoin, urlsplit

from parsel import Selector
from scrapy.http import Response, TextResponse

from .base import CMSFamily, Link, anchors

DATAPROXY = "/module/web/jpage/dataproxy.jsp"
_RECORD = re.compile(r"<record>\s*<!\[CDATA\[(.*?)\]\]>\s*</record>", re.S)
_NEXTGROUP = re.compile(r"<nextgroup>\s*<!\[CDATA\[(.*?)\]\]>\s*</nextgroup>", re.S)
_PROXY = re.compile(r"""proxyUrl\s*[:=]\s*['"]([^'"]*dataproxy\.jsp[^'"]*)['"]""")
_NUM = {
    k: re.compile(rf"""\b{k}\s*[:=]\s*['"]?(\d+)""", re.I) for k in ("perPage", "totalRecord", "totalpage")
}
_PARAMS = (
    "col",
    "appid",
    "webid",
    "path",
    "columnid",
    "sourceContentType",
    "unitid",
    "webname",
    "permissiontype",
)
_PARAM_RE = {k: re.compile(rf"""['"]?\b{k}['"]?\s*[:=]\s*['"]?([^'",}}\s]*)""") for k in _PARAMS}
PAGES_PER_REQUEST = 3


def dataproxy_url(base: str, proxy: str, start: int, end: int, perpage: int, params: dict[str, str]) -> str:
    """The GET form of a jpage request: startrecord/endrecord/perpage, then the form fields in _PARAMS order."""
    query = [("startrecord", str(start)), ("endrecord", str(end)), ("perpage", str(perpage))]
    query += [(k, params[k]) for k in _PARAMS if params.get(k) not in (None, "")]
    return urljoin(base, proxy.split("?", 1)[0]) + "?" + urlencode(query)


def record_links(text: str, base: str) -> list[Link]:
    links: list[Link] = []
    for fragment in _RECORD.findall(text):
        links.extend(anchors(Selector(text=f"<div>{fragment}</div>"), base))
    return links


def _groups(
    base: str, proxy: str, total: int, perpage: int, params: dict[str, str], skip_first: bool
) -> list[str]:
    step = perpage * PAGES_PER_REQUEST
    starts = range(1, total + 1, step)
    return [
        dataproxy_url(base, proxy, s, min(s + step - 1, total), perpage, params)
        for i, s in enumerate(starts)
        if not (skip_first and i == 0)
    ]


class HanwebFamily(CMSFamily):
    """Hanweb columns: inline first records, then every dataproxy.jsp group up to totalRecord."""

    name = "hanweb"

    @classmethod
    def detect(cls, response: TextResponse) -> bool:
        text = response.text
        return "dataproxy.jsp" in text or "<datastore>" in text or "/col/col" in text or "jpage" in text

    def links(self, response: TextResponse) -> Iterable[Link]:
        return record_links(response.text, response.url)

    def data_requests(self, response: TextResponse) -> Iterable[str]:
        text = response.text
        if "dataproxy.jsp" not in text:
            return []
        proxy_m = _PROXY.search(text)
        proxy = proxy_m.group(1) if proxy_m else DATAPROXY
        perpage = int(m.group(1)) if (m := _NUM["perPage"].search(text)) else 15
        params = {k: m.group(1) for k, rx in _PARAM_RE.items() if (m := rx.search(text))}
        total_m = _NUM["totalRecord"].search(text)
        inline = len(_RECORD.findall(text))
        if total_m:
            total = int(total_m.group(1))
            # The column page already holds the first group inline when it has records.
            return _groups(response.url, proxy, total, perpage, params, skip_first=inline > 0)
        return [dataproxy_url(response.url, proxy, 1, perpage * PAGES_PER_REQUEST, perpage, params)]

    def parse_data(self, response: Response) -> tuple[list[Link], list[str]]:
        text = (
            response.body.decode("utf-8", "replace")
            if not isinstance(response, TextResponse)
            else response.text
        )
        links = record_links(text, response.url)
        more: list[str] = []
        for fragment in _NEXTGROUP.findall(text):
            more.extend(link.url for link in anchors(Selector(text=f"<div>{fragment}</div>"), response.url))
        total_m = re.search(r"<totalrecord>\s*(\d+)\s*</totalrecord>", text)
        query = dict(parse_qsl(urlsplit(response.url).query))
        if total_m and query.get("startrecord") == "1":
            perpage = int(query.get("perpage") or 15)
            params = {k: v for k, v in query.items() if k in _PARAMS}
            more.extend(
                _groups(
                    response.url,
                    urlsplit(response.url).path,
                    int(total_m.group(1)),
                    perpage,
                    params,
                    skip_first=True,
                )
            )
        return links, more
