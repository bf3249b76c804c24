"""CMS families: one base class per product (TRS WCM, Hanweb, query-string lists, JSON list APIs, generic).

`families_for(response, hint)` returns the families that recognise a page, the generic one always last.
See README.md in this folder.
"""

from __future__ import annotations

from scrapy.http import Response, TextResponse

from .base import CMSFamily, Link
from .generic import GenericFamily
from .hanweb import HanwebFamily
from .json_list import JsonListFamily
from .query_string import QueryStringFamily
from .trs_wcm import TrsWcmFamily

FAMILIES: dict[str, type[CMSFamily]] = {
    "trs_wcm": TrsWcmFamily,
    "hanweb": HanwebFamily,
    "query_string": QueryStringFamily,
    "json_list": JsonListFamily,
    "generic": GenericFamily,
}
_INSTANCES = {name: cls() for name, cls in FAMILIES.items()}


def detect(response: Response) -> list[str]:
    """Names of the specific families whose fingerprints are on the page (may be empty; none for binary)."""
    if not isinstance(response, TextResponse):
        return []
    return [name for name, cls in FAMILIES.items() if name != "generic" and cls.detect(response)]


def families_for(response: Response, hint: str | None = None) -> list[CMSFamily]:
    names = detect(response)
    if hint and hint in FAMILIES and hint not in names:
        names.insert(0, hint)
    names = [n for n in names if n != "generic"] + ["generic"]
    return [_INSTANCES[n] for n in names]


def family(name: str) -> CMSFamily:
    return _INSTANCES[name]


__all__ = ["FAMILIES", "CMSFamily", "Link", "detect", "families_for", "family"]
