"""The CMS family interface: how a family finds list links, pagination and data endpoints on a page.

A family is stateless; the discovery spider asks every family that recognises a page (plus the generic
one) and merges the answers, so a portal that mixes products (a TRS list with a JSON search box) still works.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from urllib.parse import urljoin, urlsplit

from parsel import Selector
from scrapy.http import Response, TextResponse

_WS = re.compile(r"\s+")
_SKIP_SCHEMES = ("javascript:", "mailto:", "tel:", "#", "data:")
# The most pages a family enumerates from a page count it reads (尾页 → index_N, 共N页, totalRecord): a pager
# that claims 1,000,000 pages is a trap, and the spider's per-list budget (200) is lower anyway.
MAX_LIST_PAGES = 500


@dataclass(frozen=True)
class Link:
    """A candidate link: absolute URL, its visible text and its title attribute (either may hold the title)."""

    url: str
    text: str = ""
    title: str = ""
    date: str = ""  # the publication date a list or data record shows beside the link (YYYY-MM-DD)

    @property
    def label(self) -> str:
        """The longer of text and title: lists truncate text ("2023年政府信息公开…") but keep the title."""
        return self.title if len(self.title) > len(self.text) else self.text


@dataclass(frozen=True)
class DataRequest:
    """A data endpoint holding list records: a GET URL, or a POST of form fields (Hanweb jpage)."""

    url: str
    method: str = "GET"
    form: tuple[tuple[str, str], ...] = ()

    @property
    def key(self) -> str:
        """What makes two data requests the same one (the URL, plus the form of a POST)."""
        if self.method == "GET":
            return self.url
        return f"{self.method} {self.url} " + "&".join(f"{k}={v}" for k, v in self.form)


def clean(text: str | None) -> str:
    return _WS.sub(" ", text or "").strip()


def absolute(base: str, href: str | None) -> str | None:
    href = (href or "").strip()
    if not href or href.lower().startswith(_SKIP_SCHEMES):
        return None
    url = urljoin(base, href)
    if urlsplit(url).scheme not in ("http", "https"):
        return None
    return url.split("#", 1)[0]


def anchors(selector: Selector, base: str) -> list[Link]:
    """Every <a href> of an HTML document or fragment as a Link, resolved as a browser would (against the
    page's `<base href>` when it has one).

    Walks the lxml tree directly (a parsel selector per anchor cost ~50 µs each, 5 ms on a portal page with
    its menus), and remembers the last page's answer: the spider asks for the same page's anchors several
    times (list links, report links, the is-it-a-list test)."""
    root = selector.root
    if _last_anchors[0] is root and _last_anchors[1] == base:
        return list(_last_anchors[2])
    if not hasattr(root, "iter"):  # a text or JSON selector: no anchors
        return []
    page_base = base
    for el in root.iter("base"):
        href = (el.get("href") or "").strip()
        if href:
            page_base = urljoin(base, href)
        break
    out = []
    for a in root.iter("a"):
        url = absolute(page_base, a.get("href"))
        if url:
            out.append(Link(url, clean(a.text_content()), clean(a.get("title"))))
    _last_anchors[:] = [root, base, out]
    return list(out)


_last_anchors: list = [None, None, []]


def scripts(response: TextResponse) -> list[str]:
    return response.xpath("//script/text()").getall()


class CMSFamily:
    """Base class of a CMS family (alltheplaces' storefinders, for government portals).

    Override, as needed:
    - `detect(response)`: does this page (always a text response) come from the family? (cheap tests)
    - `links(response)`: candidate item links on a list page (default: every <a href>)
    - `pagination(response)`: URLs of the other pages of the same list
    - `data_requests(response)`: data endpoints (XML/JSON, GET or POST) that hold the list, fetched with
      the kind 'api' — their responses come back to `parse_data`
    - `parse_data(response, base)`: (links, more data requests) from such a response; `base` is the page
      that renders the records, against which their relative URLs resolve as the browser's would
    """

    name = "base"

    @classmethod
    def detect(cls, response: TextResponse) -> bool:
        return False

    def links(self, response: TextResponse) -> Iterable[Link]:
        return anchors(response.selector, response.url)

    def pagination(self, response: TextResponse) -> Iterable[str]:
        return []

    def data_requests(self, response: TextResponse) -> Iterable[DataRequest]:
        return []

    def parse_data(self, response: Response, base: str) -> tuple[list[Link], list[DataRequest]]:
        return [], []
