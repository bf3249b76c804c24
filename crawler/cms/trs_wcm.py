"""TRS WCM (拓尔思): lists are static index.html, index_1.html … named by createPageHTML(...) in a script.

Fingerprints: `createPageHTML(total, current, "index", "html")` (older) or
`createPageHTML("page_div", total, current, "index", "html", count)` (newer), article URLs
`/<yyyymm>/t<yyyymmdd>_<id>.html`, body in `div.TRS_Editor`. Arguments may be variables
(`var countPage = 5`), resolved from the same script.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from urllib.parse import urljoin

from scrapy.http import TextResponse

from .base import MAX_LIST_PAGES, CMSFamily, scripts

_CALL = re.compile(r"createPageHTML\s*\(([^)]*)\)")
_ARTICLE = re.compile(r"/t\d{8}_\d+\.s?html?")


def _resolve(arg: str, script: str) -> str:
    arg = arg.strip()
    if re.fullmatch(r"[A-Za-z_$][\w$]*", arg):
        m = re.search(rf"\b{re.escape(arg)}\s*=\s*['\"]?([\w.]+)['\"]?", script)
        return m.group(1) if m else arg
    return arg.strip("'\" ")


def parse_create_page_html(script: str) -> tuple[int, int, str, str] | None:
    """(total pages, current page, file prefix, extension) from a createPageHTML call in `script`."""
    for m in _CALL.finditer(script):
        args = [_resolve(a, script) for a in m.group(1).split(",")]
        nums = [int(a) for a in args if a.isdigit()]
        words = [a for a in args if a and not a.isdigit()]
        if len(nums) < 2 or len(words) < 2:
            continue
        if len(words) >= 3:  # newer form: element id first
            words = words[1:]
        prefix, ext = words[0], words[1]
        return nums[0], nums[1], prefix, ext
    return None


class TrsWcmFamily(CMSFamily):
    """TRS WCM lists: page 0 is `index.html`, page i is `index_i.html`, up to total-1."""

    name = "trs_wcm"

    @classmethod
    def detect(cls, response: TextResponse) -> bool:
        text = response.text
        return "createPageHTML" in text or "TRS_Editor" in text or bool(_ARTICLE.search(text))

    def pagination(self, response: TextResponse) -> Iterable[str]:
        for script in scripts(response):
            found = parse_create_page_html(script)
            if found:
                total, _current, prefix, ext = found
                urls = [urljoin(response.url, f"{prefix}.{ext}")]
                urls += [
                    urljoin(response.url, f"{prefix}_{i}.{ext}") for i in range(1, min(total, MAX_LIST_PAGES))
                ]
                return urls
        return []
