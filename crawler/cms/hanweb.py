"""大汉 Hanweb (jcms): `/col/colNNN/index.html` columns whose lists come from `dataproxy.jsp` as XML.

The column page carries the first records inline (`<datastore>…<record><![CDATA[<li><a …>]]></record>`) and a
jpage script with `proxyUrl`, `perPage`, `totalRecord` and its `ajaxParam` form fields (col, appid, webid,
path, columnid, unitid, webname, permissiontype…). jpage POSTs those fields to
`dataproxy.jsp?startrecord=&endrecord=&perpage=`, three pages per request; nianbao sends the same POST (real
sites reject a GET). The proxy answers `<datastore><totalrecord>…</totalrecord><recordset><record>…`. Records
resolve against the column page that renders them.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterable
from urllib.parse import parse_qsl, urlencode, urljoin, urlsplit

from parsel import Selector
from scrapy.http import Response, TextResponse

from ..pages import list_date
from .base import MAX_LIST_PAGES, CMSFamily, DataRequest, Link, anchors

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
_AJAX_PARAM = re.compile(r"ajaxParam\s*:\s*\{(.*?)\}", re.S)
_PAIR = re.compile(r"""['"]?([A-Za-z_]\w*)['"]?\s*:\s*(?:'([^']*)'|"([^"]*)"|([^,}\s]+))""")
PAGES_PER_REQUEST = 3


def dataproxy_request(
    base: str, proxy: str, start: int, end: int, perpage: int, params: dict[str, str]
) -> DataRequest:
    """jpage's request: the paging fields in the query, the ajaxParam form fields in a POST body."""
    query = urlencode([("startrecord", str(start)), ("endrecord", str(end)), ("perpage", str(perpage))])
    url = urljoin(base, proxy.split("?", 1)[0]) + "?" + query
    return DataRequest(url, "POST", tuple((k, v) for k, v in params.items() if v is not None))


def ajax_params(text: str) -> dict[str, str]:
    """The jpage form fields: the `ajaxParam: {…}` object literal, else the known field names anywhere."""
    m = _AJAX_PARAM.search(text)
    if m:
        pairs = {
            p.group(1): next(g for g in p.groups()[1:] if g is not None) for p in _PAIR.finditer(m.group(1))
        }
        if pairs:
            return pairs
    return {k: m.group(1) for k, rx in _PARAM_RE.items() if (m := rx.search(text))}


def record_links(text: str, base: str) -> list[Link]:
    """The links of the records; a record holding one link and a date (`<span>2024-01-25</span>`) gives the
    link that date, as a list's line does (the only date a file linked straight from the list has)."""
    links: list[Link] = []
    for fragment in _RECORD.findall(text):
        sel = Selector(text=f"<div>{fragment}</div>")
        found = anchors(sel, base)
        if len(found) == 1:
            date = list_date(" ".join(sel.xpath("//text()").getall()))
            if date:
                found = [dataclasses.replace(found[0], date=date)]
        links.extend(found)
    return links


def _groups(
    base: str, proxy: str, total: int, perpage: int, params: dict[str, str], have: int
) -> list[DataRequest]:
    """Requests for the groups (three pages each, aligned as jpage aligns them) that hold records
    have+1 … total: the first `have` records are already in hand."""
    step = perpage * PAGES_PER_REQUEST
    first = (have // step) * step + 1
    return [
        dataproxy_request(base, proxy, s, min(s + step - 1, total), perpage, params)
        for s in range(first, min(total, step * MAX_LIST_PAGES) + 1, step)
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

    def data_requests(self, response: TextResponse) -> Iterable[DataRequest]:
        text = response.text
        if "dataproxy.jsp" not in text:
            return []
        proxy_m = _PROXY.search(text)
        proxy = proxy_m.group(1) if proxy_m else DATAPROXY
        perpage = int(m.group(1)) if (m := _NUM["perPage"].search(text)) else 15
        params = ajax_params(text)
        total_m = _NUM["totalRecord"].search(text)
        inline = len(_RECORD.findall(text))
        if total_m:
            total = int(total_m.group(1))
            # The column page already holds its first records inline: ask for the rest only.
            return _groups(response.url, proxy, total, perpage, params, have=inline)
        return [dataproxy_request(response.url, proxy, 1, perpage * PAGES_PER_REQUEST, perpage, params)]

    def parse_data(self, response: Response, base: str) -> tuple[list[Link], list[DataRequest]]:
        text = (
            response.body.decode("utf-8", "replace")
            if not isinstance(response, TextResponse)
            else response.text
        )
        links = record_links(text, base)
        more: list[DataRequest] = []
        for fragment in _NEXTGROUP.findall(text):
            more.extend(
                DataRequest(link.url)
                for link in anchors(Selector(text=f"<div>{fragment}</div>"), response.url)
            )
        total_m = re.search(r"<totalrecord>\s*(\d+)\s*</totalrecord>", text)
        query = dict(parse_qsl(urlsplit(response.url).query))
        if total_m and query.get("startrecord") == "1":  # the first group asks for the others
            perpage = int(query.get("perpage") or 15)
            form = (
                dict(parse_qsl((response.request.body or b"").decode("utf-8", "replace")))
                if response.request
                else {}
            )
            params = form or {k: v for k, v in query.items() if k in _PARAMS}
            more.extend(
                _groups(
                    response.url,
                    urlsplit(response.url).path,
                    int(total_m.group(1)),
                    perpage,
                    params,
                    have=int(query.get("endrecord") or perpage * PAGES_PER_REQUEST),
                )
            )
        return links, more
