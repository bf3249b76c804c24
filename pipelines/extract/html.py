"""HTML report pages: tables from the raw markup (lxml, rowspan/colspan expanded), text and metadata.

One lxml tree per page serves every step. The grids come from it: innermost tables only (a layout table
holding the data table is skipped), spans expanded into a true grid, Word-export debris handled (a number
split across <span>s, <p class=MsoNormal> in cells, &nbsp;). `text` is the main content (the smallest element
holding every data table and the section headings) linearised in reading order, table rows tab-separated.
Title and date come from the <meta> tags, the headline and the 发布时间 line of the same tree.

trafilatura (≈ 30-70 ms a page, several times the rest of this module) is called only for what the tree does
not give: htmldate (the date step of trafilatura's metadata) when no date is stated, and trafilatura's main
text when the tree's main element holds no text at all, both on the already-parsed tree.
"""

from __future__ import annotations

import copy
import re
import unicodedata
from datetime import date
from typing import Any

import lxml.html
from lxml import etree
from w3lib.encoding import html_body_declared_encoding, html_to_unicode, http_content_type_encoding

from . import embedded, limits, page_meta
from .base import Cell, Extracted, ExtractionError, Grid

_BLOCK = {
    "p",
    "div",
    "br",
    "tr",
    "li",
    "ul",
    "ol",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "table",
    "section",
    "article",
    "blockquote",
    "pre",
    "dd",
    "dt",
    "dl",
    "header",
    "footer",
    "center",
    "form",
    "hr",
    "caption",
    "tbody",
}
_DROP = (
    "script",
    "style",
    "noscript",
    "template",
    "iframe",
    "object",
    "embed",
    "svg",
    "head",
    "select",
    "button",
)
_WS = re.compile(r"[ \t\r\f\v\u00a0\u3000\u2002\u2003\u2009\u200b\ufeff]+")
_CELL_END = re.compile(r"\s*\x1f[\s\x1f]*")
_NUMERIC_SPACED = re.compile(r"^[\d.,，\s]+$")
_DATE_META = re.compile(r"(\d{4})\s*[-年/.]\s*(\d{1,2})\s*[-月/.]\s*(\d{1,2})")
_HEADING_HINT = re.compile(r"^\s*[一二三四五六][、.．]")


def decode_html(data: bytes, content_type: str | None = None) -> tuple[str, str, list[str]]:
    """Decode HTML bytes by w3lib's (Scrapy's) rules: BOM, HTTP header charset, <meta> charset, then detection.

    A page that declares one charset but is written in another (a GBK page saying utf-8) decodes with
    replacement characters under those rules; then the bytes are decoded strictly as UTF-8 or GB18030 (the
    superset browsers use for every gbk/gb2312 label) and the wrong declaration is recorded as a problem."""
    problems: list[str] = []
    header = content_type if content_type and "charset" in content_type.lower() else None
    enc, text = html_to_unicode(header, data, auto_detect_fun=_detect)
    bad = text.count("\ufffd")
    if bad:
        for cand in ("utf-8", "gb18030"):
            try:
                strict = data.decode(cand)
            except UnicodeDecodeError:
                continue
            if strict.count("\ufffd") < bad:
                declared = http_content_type_encoding(header) if header else None
                declared = declared or html_body_declared_encoding(data) or "none"
                problems.append(f"html declares charset {declared} but is {cand}; decoded as {cand}")
                return strict.lstrip("\ufeff"), cand, problems
    return text, enc, problems


def _detect(data: bytes) -> str | None:
    for cand in ("utf-8", "gb18030"):
        try:
            data.decode(cand)
            return cand
        except UnicodeDecodeError:
            continue
    try:
        from charset_normalizer import from_bytes

        best = from_bytes(data[:200_000]).best()
        return best.encoding if best else None
    except Exception:  # detection is best effort
        return None


def _norm(s: str) -> str:
    return unicodedata.normalize("NFKC", s)


def cell_text(el: etree._Element) -> str:
    """Text of a table cell: block children and <br> become spaces, inline <span>s join without a space,
    &nbsp; is a space, whitespace runs collapse; a number Word split across spans and lines ("2 7") is joined."""
    parts: list[str] = []
    _collect(el, parts)
    text = _WS.sub(" ", "".join(parts).replace("\n", " ")).strip()
    text = re.sub(r" {2,}", " ", text)
    if " " in text and _NUMERIC_SPACED.match(text):
        text = re.sub(r"\s+", "", text)
    return _norm(text)


def _collect(el: etree._Element, parts: list[str]) -> None:
    tag = el.tag if isinstance(el.tag, str) else ""
    if tag in _DROP:
        if el.tail:
            parts.append(el.tail)
        return
    if tag in _BLOCK:
        parts.append("\n")
    if el.text and tag:
        parts.append(el.text)
    for child in el:
        _collect(child, parts)
    if tag in _BLOCK:
        parts.append("\n")
    if el.tail:
        parts.append(el.tail)


def _rows_of(table: etree._Element) -> list[etree._Element]:
    return [tr for tr in table.iter("tr") if _owner_table(tr) is table]


def _owner_table(el: etree._Element) -> etree._Element | None:
    p = el.getparent()
    while p is not None and p.tag != "table":
        p = p.getparent()
    return p


def _span(el: etree._Element, attr: str) -> int:
    m = re.match(r"\s*(\d+)", el.get(attr) or "")
    n = int(m.group(1)) if m else 1
    return max(1, min(n, limits.MAX_SPAN))


def table_grid(table: etree._Element, index: int) -> Grid:
    """Expand one <table> into a rectangular grid: a cell spanning r×c positions is repeated into each, the
    copies marked source["merged"] = True. Row lengths are padded to the widest row."""
    src = {"table": index}
    occupied: dict[tuple[int, int], Cell] = {}
    trs = _rows_of(table)
    width = 0
    for r, tr in enumerate(trs):
        c = 0
        for td in tr:
            if td.tag not in ("td", "th"):
                continue
            while (r, c) in occupied:
                c += 1
            rs, cs = _span(td, "rowspan"), _span(td, "colspan")
            rs = min(rs, len(trs) - r) if rs > 1 else 1
            text = cell_text(td)
            for dr in range(rs):
                for dc in range(cs):
                    pos = (r + dr, c + dc)
                    if pos in occupied:
                        continue
                    source: dict[str, Any] = {**src, "cell": [pos[0], pos[1]]}
                    if dr or dc:
                        source["merged"] = True
                        source["origin"] = [r, c]
                    occupied[pos] = Cell(text, source)
            if len(occupied) > limits.MAX_TABLE_CELLS:
                raise limits.over("html table cells", len(occupied), limits.MAX_TABLE_CELLS)
            c += cs
            width = max(width, c)
    nrows = len(trs)
    rows: list[list[Cell]] = []
    for r in range(nrows):
        row = []
        for c in range(width):
            cell = occupied.get((r, c))
            row.append(cell if cell is not None else Cell("", {**src, "cell": [r, c], "missing": True}))
        rows.append(row)
    return Grid(rows=rows, source=src)


def _is_data_table(table: etree._Element) -> bool:
    """Innermost tables with at least two rows and two columns hold data; a table containing another table
    is layout."""
    if table.find(".//table") is not None:
        return False
    trs = _rows_of(table)
    if len(trs) < 2:
        return False
    return max((len([td for td in tr if td.tag in ("td", "th")]) for tr in trs), default=0) >= 2 or any(
        _span(td, "colspan") > 1 for tr in trs for td in tr if td.tag in ("td", "th")
    )


def _linearise(
    el: etree._Element, table_ids: dict[int, Grid], out: list[str], cell_tabs: bool = False
) -> None:
    """Text of `el` in reading order: blocks on their own lines, data tables as tab-separated rows
    (merged copies left out, so a spanning label appears once); every table cell ends with a
    tab (a metadata table's label and value stay apart): `cell_tabs`."""
    buf: list[str] = []

    def flush() -> None:
        line = _WS.sub(" ", "".join(buf)).strip()
        if cell_tabs:
            line = _CELL_END.sub("\t", line).strip("\t ")
        if line:
            out.append(_norm(line))
        buf.clear()

    def walk(node: etree._Element) -> None:
        tag = node.tag if isinstance(node.tag, str) else ""
        if tag in _DROP:
            if node.tail:
                buf.append(node.tail)
            return
        if tag == "table" and id(node) in table_ids:
            flush()
            for row in table_ids[id(node)].rows:
                cells = [c.text for c in row if not c.source.get("merged") and not c.source.get("missing")]
                if any(cells):
                    out.append("\t".join(cells))
        else:
            if tag in _BLOCK:
                flush()
            if node.text and tag:
                buf.append(node.text)
            for child in node:
                walk(child)
            if tag in _BLOCK:
                flush()
            elif cell_tabs and tag in ("td", "th"):
                buf.append("\x1f")
        if node.tail:
            buf.append(node.tail.replace("\n", " "))

    walk(el)
    flush()


def _main_element(root: etree._Element, tables: list[etree._Element]) -> etree._Element:
    """The smallest element holding every data table and the most section headings (一、… 六、)."""
    body = root.find("body")
    body = body if body is not None else root

    def headings(el: etree._Element) -> int:
        return sum(1 for t in el.itertext() if _HEADING_HINT.match(t))

    best, best_h = body, headings(body)
    if best_h == 0 and not tables:
        return body
    node = body
    while True:
        cands = [c for c in node if isinstance(c.tag, str) and c.tag not in _DROP]
        nxt = None
        for c in cands:
            if all(_contains(c, t) for t in tables) and headings(c) >= best_h:
                nxt = c
                break
        if nxt is None:
            return best
        node = best = nxt


def _contains(el: etree._Element, t: etree._Element) -> bool:
    p = t
    while p is not None:
        if p is el:
            return True
        p = p.getparent()
    return False


def _meta_tags(root: etree._Element) -> dict[str, str]:
    """<meta name|property=… content=…> of the page, first occurrence of each name (one pass)."""
    out: dict[str, str] = {}
    for m in root.iter("meta"):
        name = m.get("name") or m.get("property")
        content = m.get("content")
        if name and content is not None and name not in out:
            out[name] = content
    return out


def page_statements(text: str) -> page_meta.PageMeta:
    """What a decoded page states about its document (<meta> tags, labelled fields, date elements), without
    reading it as a report: the crawler hands a landing page's date to the attachment it points at. No
    guessed (htmldate) date: a landing page's unlabelled date is no better than the list's."""
    try:
        root = lxml.html.document_fromstring(text)
    except (etree.ParserError, ValueError):
        return page_meta.PageMeta()
    meta = _meta_tags(root)
    for bad in root.xpath("//script|//style|//noscript|//template"):
        bad.drop_tree()
    return page_meta.read_page(root, meta, _linearise_all(root))


def extract_html(data: bytes, content_type: str | None = None, nested: bool = False) -> Extracted:
    text, encoding, problems = decode_html(data, content_type)
    if len(text) > limits.MAX_HTML_CHARS:
        raise limits.over("html size", f"{len(text)} chars", limits.MAX_HTML_CHARS)
    try:
        root = lxml.html.document_fromstring(text)
    except (etree.ParserError, ValueError) as exc:
        raise ExtractionError(f"unparseable html: {exc}") from exc
    meta = _meta_tags(root)
    inside = None if nested else embedded.from_scripts(root)
    for bad in root.xpath("//script|//style|//noscript|//template"):
        bad.drop_tree()
    all_tables = root.xpath("//table")
    data_tables = [t for t in all_tables if _is_data_table(t)]
    grids = [table_grid(t, i) for i, t in enumerate(data_tables)]
    quality: dict[str, Any] = {}
    shape = [g.source["table"] for g in grids if any(c.source.get("missing") for row in g.rows for c in row)]
    if shape:
        quality["ragged_tables"] = shape  # rows shorter than the widest row (padded with empty cells)
    lines: list[str] = []
    main = _main_element(root, data_tables)
    _linearise(main, {id(t): g for t, g in zip(data_tables, grids, strict=True)}, lines)
    body_text = "\n".join(lines)
    page = page_meta.read_page(root, meta, _linearise_all(root))
    title = _headline(root) or _html_title(root)  # the page's title statements are in `page`
    # A fragment carried as data has no page around it: htmldate would take a date of its text (the
    # statistics period's 1月1日) for the publication date; a capture wrapper's time is never one.
    published = page.published_date
    if published is None and not nested:
        published = _htmldate(root)
        if published and published == page_meta.iso_date(page.capture_time):
            published = None
        if published:
            page.published_date, page.published_date_source = published, "page_guess"
            page.published_date_label = "htmldate"
    extractor = "html/lxml"
    info: dict[str, Any] = {"encoding": encoding, "tables": len(all_tables), "data_tables": len(grids)}
    if inside is not None and not grids:
        inner = _embedded_page(inside, body_text)
        if inner is not None:  # the report is the page's script data (PATTERNS A4), read as the page
            inner.title, inner.published_date = title or inner.title, published or inner.published_date
            inner.page = page.merge(inner.page or page_meta.PageMeta())
            inner.problems[:0] = problems
            inner.meta.update(encoding=encoding, embedded_html=len(inside))
            return inner
    if not body_text.strip():
        traf_text = _trafilatura_text(root)
        info["trafilatura_chars"] = len(traf_text or "")
        if traf_text:
            body_text, extractor = traf_text, "html/lxml+trafilatura"
    return Extracted(
        format="html",
        extractor=extractor,
        text=body_text,
        grids=grids,
        title=title,
        published_date=published,
        page=page,
        quality=quality,
        problems=problems,
        meta=info,
    )


def _embedded_page(markup: str, page_text: str) -> Extracted | None:
    """The report HTML a script carries, read as a page, when it holds more of the report than the page."""
    inner = extract_html(markup.encode("utf-8"), "text/html; charset=utf-8", nested=True)
    if not inner.grids and len(inner.text) <= len(page_text):
        return None
    inner.extractor = "html/lxml+embedded"
    return inner


def _linearise_all(root: etree._Element) -> list[str]:
    """The whole page's lines, table cells tab-separated: where its labelled fields are read."""
    out: list[str] = []
    _linearise(root, {}, out, cell_tabs=True)
    return out


def _html_title(root: etree._Element) -> str | None:
    t = root.findtext(".//title")
    return _norm(t.strip()) if t and t.strip() else None


def _headline(root: etree._Element) -> str | None:
    """The page's one <h1> (the article headline on these CMS pages); None when there are several or none."""
    h1s = root.xpath("//body//h1")
    if len(h1s) != 1:
        return None
    t = _WS.sub(" ", h1s[0].text_content()).strip()
    return _norm(t) if t else None


def _htmldate(root: etree._Element) -> str | None:
    """A date the page does not label (no <meta>, no 发布时间): htmldate, as trafilatura's metadata step
    runs it, on the tree already parsed (htmldate copies it before pruning)."""
    try:
        from htmldate import find_date

        found = find_date(root, original_date=True, extensive_search=True, max_date=date.today().isoformat())
    except Exception:  # a date guess is best effort
        return None
    return found if found and _DATE_META.match(found) else None


def _trafilatura_text(root: etree._Element) -> str | None:
    """trafilatura's main text, for a page whose main element holds no text (metadata step off)."""
    try:
        import trafilatura

        doc = trafilatura.bare_extraction(
            copy.deepcopy(root), include_tables=False, with_metadata=False, favor_recall=True
        )
    except Exception:  # a helper only; the lxml path stands alone
        return None
    if doc is None:
        return None
    text = doc.get("text") if isinstance(doc, dict) else getattr(doc, "text", None)
    return text or None
