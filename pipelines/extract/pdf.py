"""PDF: tables by position (pdfplumber's ruling-line table finder), text by pypdfium2, OCR for scanned pages.

Plain text extraction scrambles the column order of these tables and interleaves vertical merged cells
(三、本年度办理结果, one character per line) with the rows, so each page's tables come from pdfplumber's
`find_tables` (lines strategy: the reports' tables are fully ruled), with merged cells expanded from the cell
bounding boxes. The text between tables comes from pypdfium2 (≈ 20× faster than pdfminer's layout), one band
per gap, so `text` is the page in reading order with each table inserted as tab-separated rows.

Quality signals: ``cid_garbage`` (count of ``(cid:N)`` tokens pdfminer produced for fonts without a usable
ToUnicode map; such cells are re-read with pdfium, and pages where pdfium fails too are OCR'd), ``kangxi``
(Kangxi radicals folded by NFKC), ``ocr`` / ``ocr_confidence`` / ``ocr_pages`` for scanned pages.
"""

from __future__ import annotations

import io
import re
import unicodedata
from typing import Any

from . import limits
from .base import Cell, Extracted, ExtractionError, Grid

_CID = re.compile(r"\(cid:\d+\)")
_CJK_END = re.compile(r"[\u2e80-\u9fff\uff00-\uffef（）、，。：；“”]$")
_CJK_START = re.compile(r"^[\u2e80-\u9fff\uff00-\uffef（）、，。：；“”]")
_NUMERIC = re.compile(r"^[\d.,\s\-—/]*$")
TABLE_SETTINGS = {
    "vertical_strategy": "lines",
    "horizontal_strategy": "lines",
    "snap_tolerance": 3,
    "join_tolerance": 3,
    "intersection_tolerance": 3,
}
OCR_DPI = 200


def nfkc(s: str) -> str:
    return unicodedata.normalize("NFKC", s)


def count_kangxi(s: str) -> int:
    return sum(1 for ch in s if "\u2f00" <= ch <= "\u2fdf" or "\u2e80" <= ch <= "\u2eff")


def join_lines(s: str) -> str:
    """Join the wrapped lines of a cell: no separator between Chinese characters (a vertical label printed
    one character per line becomes one word), a space between Latin words."""
    lines = [ln.strip() for ln in s.replace("\r", "\n").split("\n")]
    out = ""
    for ln in lines:
        if not ln:
            continue
        if out and not (_CJK_END.search(out) or _CJK_START.search(ln)):
            out += " "
        out += ln
    return out


def clean_cell(s: str | None) -> str:
    return join_lines(nfkc(s or ""))


def _spans(table: Any) -> list[tuple[int, int, int, int, tuple[float, float, float, float]]]:
    """(row, col, rowspan, colspan, bbox) of every real cell of a pdfplumber table."""
    rows = table.rows
    cols = table.columns
    out = []
    for r, row in enumerate(rows):
        for c, bbox in enumerate(row.cells):
            if bbox is None:
                continue
            _x0, _top, x1, bottom = bbox
            rs = 1
            while r + rs < len(rows) and rows[r + rs].bbox[3] <= bottom + 1.5:
                rs += 1
            cs = 1
            while c + cs < len(cols) and cols[c + cs].bbox[2] <= x1 + 1.5:
                cs += 1
            out.append((r, c, rs, cs, bbox))
    return out


def table_to_grid(table: Any, page_no: int, index: int, pdfium_page: Any, stats: dict[str, int]) -> Grid:
    """A pdfplumber table → Grid with merged cells expanded and provenance on every cell. Cells where
    pdfminer produced (cid:N) garbage are re-read with pdfium from the same bounding box."""
    src = {"page": page_no, "table": index}
    texts = table.extract()
    nrows, ncols = len(table.rows), len(table.columns)
    grid: list[list[Cell | None]] = [[None] * ncols for _ in range(nrows)]
    height = pdfium_page.get_height() if pdfium_page is not None else None
    textpage = None
    for r, c, rs, cs, bbox in _spans(table):
        raw = texts[r][c] if r < len(texts) and c < len(texts[r]) else ""
        raw = raw or ""
        if "(cid:" in raw:
            stats["cid_garbage"] = stats.get("cid_garbage", 0) + len(_CID.findall(raw))
            if pdfium_page is not None and height is not None:
                textpage = textpage or pdfium_page.get_textpage()
                x0, top, x1, bottom = bbox
                raw = textpage.get_text_bounded(left=x0, bottom=height - bottom, right=x1, top=height - top)
                stats["cid_cells_reread"] = stats.get("cid_cells_reread", 0) + 1
        stats["kangxi"] = stats.get("kangxi", 0) + count_kangxi(raw)
        text = clean_cell(raw)
        for dr in range(rs):
            for dc in range(cs):
                rr, cc = r + dr, c + dc
                if rr >= nrows or cc >= ncols or grid[rr][cc] is not None:
                    continue
                source: dict[str, Any] = {**src, "cell": [rr, cc]}
                if dr or dc:
                    source["merged"] = True
                    source["origin"] = [r, c]
                grid[rr][cc] = Cell(text, source)
    rows = [
        [cell or Cell("", {**src, "cell": [r, c], "missing": True}) for c, cell in enumerate(row)]
        for r, row in enumerate(grid)
    ]
    return Grid(rows=rows, source=dict(src))


def is_data_table(grid: Grid) -> bool:
    """A ruled box around prose (some reports frame every paragraph) is not a table: a data table has two or
    more columns and at least two rows with two or more distinct texts."""
    if not grid.rows or len(grid.rows[0]) < 2:
        return False
    multi = 0
    for row in grid.rows:
        distinct = {c.text for c in row if c.text and not c.source.get("merged")}
        if len(distinct) >= 2:
            multi += 1
    return multi >= 2


def merge_continuations(items: list[tuple[int, float, float, float, Grid]]) -> list[Grid]:
    """Join a table that runs over a page break: the last table of page p (reaching the bottom) and the
    first of page p+1 (starting at the top) with the same number of columns become one grid. Cells keep the
    page they were read on; a label cell merged across the break (empty at the top of the next page) is
    filled from the cell above, marked merged."""
    out: list[tuple[int, float, float, float, Grid]] = []
    for item in items:
        page, top, bottom, height, grid = item
        if out:
            ppage, ptop, pbottom, pheight, prev = out[-1]
            first_on_page = not any(o[0] == page for o in out)
            if (
                page == ppage + 1
                and first_on_page
                and top < 0.25 * height
                and pbottom > 0.6 * pheight
                and len(prev.rows[0]) == len(grid.rows[0]) >= 3
            ):
                _join_split_row(prev, grid)
                if grid.rows:
                    _fill_broken_merge(prev, grid)
                prev.rows.extend(grid.rows)
                prev.source.setdefault("continued_on", []).append(
                    {"page": page, "table": grid.source["table"]}
                )
                out[-1] = (page, ptop, bottom, height, prev)
                continue
        out.append(item)
    return [o[4] for o in out]


def _join_split_row(prev: Grid, nxt: Grid) -> None:
    """A row allowed to break across pages leaves its tail (the end of a wrapped label, or the numbers
    when they are vertically centred) as the first row of the next page's table: join it back."""
    a, b = prev.rows[-1], nxt.rows[0]

    def is_num(cell: Cell) -> bool:
        return bool(cell.text) and bool(_NUMERIC.match(cell.text))

    if not any(c.text for c in b):
        nxt.rows.pop(0)
        return
    if any(is_num(x) and is_num(y) for x, y in zip(a, b, strict=False)):
        return
    if any(is_num(x) for x in a) and any(is_num(y) for y in b):
        return
    if any(x.text and y.text and (is_num(x) or is_num(y)) for x, y in zip(a, b, strict=False)):
        return
    for x, y in zip(a, b, strict=False):
        if not y.text or y.source.get("merged"):
            continue
        x.text = join_lines(x.text + "\n" + y.text) if x.text else y.text
        x.source["continued"] = {k: y.source[k] for k in ("page", "table", "cell") if k in y.source}
        origin = x.source.get("origin", x.source.get("cell"))
        for z in a:  # the merged copies of the same cell in this row
            if z is not x and z.source.get("origin") == origin:
                z.text = x.text
    nxt.rows.pop(0)


def _fill_broken_merge(prev: Grid, nxt: Grid) -> None:
    last = prev.rows[-1]
    for c, b0 in enumerate(nxt.rows[0]):
        above = last[c]
        if b0.text or not above.text or _NUMERIC.match(above.text):
            continue
        origin = b0.source.get("origin", b0.source["cell"])
        for row in nxt.rows:
            cell = row[c]
            if cell.source.get("origin", cell.source["cell"]) == origin and not cell.text:
                cell.text = above.text
                cell.source["merged"] = True
                cell.source["continued_from"] = {
                    k: above.source[k] for k in ("page", "table", "cell") if k in above.source
                }


def _band_text(textpage: Any, width: float, height: float, top: float, bottom: float) -> str:
    if bottom - top < 1:
        return ""
    t = textpage.get_text_bounded(left=0, bottom=height - bottom, right=width, top=height - top)
    return t.replace("\r\n", "\n").replace("\r", "\n")


def _grid_lines(grid: Grid) -> list[str]:
    out = []
    for row in grid.rows:
        cells = [c.text for c in row if not c.source.get("merged") and not c.source.get("missing")]
        if any(cells):
            out.append("\t".join(cells))
    return out


def extract_pdf(data: bytes, deadline: limits.Deadline | None = None, ocr: bool = True) -> Extracted:
    import pdfplumber
    import pypdfium2 as pdfium
    from pdfminer.pdfparser import PDFSyntaxError

    deadline = deadline or limits.Deadline()
    try:
        pdoc = pdfium.PdfDocument(data)
    except pdfium.PdfiumError as exc:
        raise ExtractionError(f"unreadable pdf: {exc}") from exc
    npages = len(pdoc)
    if npages > limits.MAX_PAGES:
        raise limits.over("pdf pages", npages, limits.MAX_PAGES)
    if npages == 0:
        raise ExtractionError("pdf has no pages")
    stats: dict[str, int] = {}
    problems: list[str] = []
    quality: dict[str, Any] = {}
    items: list[tuple[int, float, float, float, Grid]] = []
    page_texts: list[str] = []
    ocr_pages: list[int] = []
    ocr_conf: list[float] = []
    table_index = 0
    try:
        plumber = pdfplumber.open(io.BytesIO(data))
    except (PDFSyntaxError, Exception) as exc:
        raise ExtractionError(f"unreadable pdf: {exc}") from exc
    with plumber:
        for i in range(npages):
            deadline.check()
            page_no = i + 1
            ppage = pdoc[i]
            width, height = ppage.get_size()
            textpage = ppage.get_textpage()
            full = textpage.get_text_bounded()
            visible = re.sub(r"\s+", "", full)
            cid_in_page = 0
            if len(visible) < 10:
                if ocr:
                    ocr_pages.append(page_no)
                    res = _ocr_page(ppage, page_no, table_index)
                    for g in res.grids:
                        items.append((page_no, g.source.get("top", 0.0), g.source.get("bottom", 0.0), 1.0, g))
                        g.source.pop("top", None)
                        g.source.pop("bottom", None)
                    table_index += len(res.grids)
                    page_texts.append(res.text)
                    if res.confidence is not None:
                        ocr_conf.append(res.confidence)
                else:
                    page_texts.append("")
                continue
            page = plumber.pages[i]
            found = []
            if page.edges:
                try:
                    found = page.find_tables(TABLE_SETTINGS)
                except Exception as exc:  # pdfminer raises a variety of errors on broken content streams
                    problems.append(f"page {page_no}: table finder failed: {exc}")
            tables = []
            for t in sorted(found, key=lambda t: t.bbox[1]):
                g = table_to_grid(t, page_no, table_index, ppage, stats)
                if is_data_table(g):
                    tables.append((t.bbox, g))
                    table_index += 1
            parts: list[str] = []
            cursor = 0.0
            for bbox, g in tables:
                parts.append(_band_text(textpage, width, height, cursor, bbox[1]))
                parts.append("\n".join(_grid_lines(g)))
                items.append((page_no, bbox[1], bbox[3], height, g))
                cursor = bbox[3]
            parts.append(_band_text(textpage, width, height, cursor, height))
            page_text = "\n".join(p.strip("\n") for p in parts if p.strip())
            cid_in_page = len(_CID.findall(page_text))
            stats["kangxi"] = stats.get("kangxi", 0) + count_kangxi(page_text)
            page_texts.append(nfkc(page_text))
            if cid_in_page:
                stats["cid_garbage"] = stats.get("cid_garbage", 0) + cid_in_page
    grids = merge_continuations(items)
    text = "\n".join(t for t in page_texts if t)
    if stats.get("cid_garbage"):
        quality["cid_garbage"] = stats["cid_garbage"]
        quality["cid_cells_reread"] = stats.get("cid_cells_reread", 0)
        problems.append(
            f"(cid:N) garbage from pdfminer: {stats['cid_garbage']} tokens; cells re-read with pdfium"
        )
    if stats.get("kangxi"):
        quality["kangxi_folded"] = stats["kangxi"]
    extractor = "pdf/pdfplumber+pdfium"
    if ocr_pages:
        quality["ocr"] = "tesseract"
        quality["ocr_pages"] = ocr_pages
        if ocr_conf:
            quality["ocr_confidence"] = round(sum(ocr_conf) / len(ocr_conf), 1)
        extractor = "pdf/ocr-tesseract" if len(ocr_pages) == npages else "pdf/pdfplumber+pdfium+ocr-tesseract"
    anomalies = _grid_anomalies(grids)
    if anomalies:
        quality["grid_anomalies"] = anomalies
    if not text.strip() and not grids:
        problems.append("no text layer and no OCR text")
    return Extracted(
        format="pdf",
        extractor=extractor,
        text=text,
        grids=grids,
        quality=quality,
        problems=problems,
        meta={"pages": npages},
    )


def _grid_anomalies(grids: list[Grid]) -> list[dict[str, Any]]:
    out = []
    for g in grids:
        widths = {len(r) for r in g.rows}
        missing = sum(1 for r in g.rows for c in r if c.source.get("missing"))
        if len(widths) > 1 or missing:
            out.append(
                {
                    **{k: v for k, v in g.source.items() if k in ("page", "table")},
                    "ragged_rows": len(widths) > 1,
                    "missing_cells": missing,
                }
            )
    return out


def _ocr_page(ppage: Any, page_no: int, table_index: int) -> Any:
    from .ocr import ocr_image

    w, h = ppage.get_size()
    scale = OCR_DPI / 72
    limits.check_pixels(int(w * scale), int(h * scale))
    image = ppage.render(scale=scale, grayscale=True).to_pil()
    return ocr_image(image, page=page_no, table_index=table_index)
