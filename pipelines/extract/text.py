"""Plain-text reports (as pasted by users or saved by portals): decode the bytes, nothing more."""

from __future__ import annotations

import codecs

from charset_normalizer import from_bytes

from .base import Extracted, ExtractionError
from .embedded import from_json_document
from .page_meta import PageMeta, from_json_fields

_BOMS = ((codecs.BOM_UTF8, "utf-8-sig"), (codecs.BOM_UTF16_LE, "utf-16"), (codecs.BOM_UTF16_BE, "utf-16"))


def decode_text(data: bytes) -> tuple[str, str]:
    """Decode text bytes; return (text, encoding). UTF-8 first, then GB18030 (a superset of GBK/GB2312),
    then charset detection. Raises ExtractionError for bytes that are not text."""
    for bom, enc in _BOMS:
        if data.startswith(bom):
            return data.decode(enc), enc
    if b"\x00" in data[:4096]:
        raise ExtractionError("binary data (NUL bytes), not a text file")
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("gb18030"), "gb18030"
    except UnicodeDecodeError:
        pass
    best = from_bytes(data).best()
    if best is None:
        raise ExtractionError("undecodable bytes: not UTF-8, not GB18030 and no charset detected")
    return str(best), best.encoding


def extract_text(data: bytes) -> Extracted:
    """Plain text; a JSON document whose field holds the report's HTML (an API's answer) is read as that
    page (PATTERNS A4), its scalar fields kept for the page metadata."""
    text, encoding = decode_text(data)
    found = from_json_document(text)
    if found is not None:
        from .html import extract_html

        markup, fields = found
        ex = extract_html(markup.encode("utf-8"), "text/html; charset=utf-8", nested=True)
        ex.format, ex.extractor = "json", "json+html/lxml"
        ex.meta.update(encoding=encoding, json_fields=fields)
        ex.page = from_json_fields(fields).merge(ex.page or PageMeta())
        ex.published_date = ex.page.published_date
        ex.title = ex.page.title or ex.title
        return ex
    return Extracted(format="text", extractor="text", text=text, meta={"encoding": encoding})
