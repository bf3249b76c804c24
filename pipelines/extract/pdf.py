"""PDF: text by pypdfium2 for every page; tables by position (pdfplumber) only where the tables are; OCR for scans.

Plain text extraction scrambles the column order of these tables and interleaves vertical merged cells
(三、本年度办理结果, one character per line) with the rows, so a statistical table's cells come from
pdfplumber's `find_tables` (lines strategy: the reports' tables are fully ruled), with merged cells expanded
from the cell bounding boxes. pdfplumber costs ≈ 50 ms a page (pdfminer interpreting the page; the table
finder itself is ≈ 3 ms) against ≈ 4 ms for pypdfium2 text, so `PdfReader` reads every page's text with
pypdfium2 first and runs pdfplumber only on the pages whose text names a table row (本年制发件数, 予以公开,
行政复议 …) and on a page that continues a table reaching the bottom of the previous page. `text_only()`
is the cheaper still path (no table finder at all) that `pipelines.read.read_report` tries first.

Quality signals: ``cid_garbage`` (count of ``(cid:N)`` tokens pdfminer produced for fonts without a usable
ToUnicode map; such cells are re-read with pdfium, and pages where pdfium fails too are OCR'd), ``kangxi``
(Kangxi radicals folded by NFKC), ``ocr`` / ``ocr_confidence`` / ``ocr_pages`` for scanned pages,
``table_pages`` (the pages the table finder ran on).
"""

from __future__ import annotations

import io
import re
from dataclasses import dataclass
from typing import Any

from . import limits, rulings
from .base import Cell, Extracted, ExtractionError, Grid
from .continuation import Piece, column_rules, merge_continuations
from .grids import clean_cell, count_kangxi, is_data_table, join_lines, nfkc, spans

__all__ = [
    "PdfReader",
    "extract_pdf",
    "is_data_table",
    "join_lines",
    "merge_continuations",
    "nfkc",
    "table_to_grid",
]

Bbox = tuple[float, float, float, float]
_CID = re.compile(r"\(cid:\d+\)")
TABLE_SETTINGS = {
    "vertical_strategy": "lines",
    "horizontal_strategy": "lines",
    "snap_tolerance": 3,
    "join_tolerance": 3,
    "intersection_tolerance": 3,
}
OCR_DPI = 200


def table_to_grid(table: Any, page_no: int, index: int, pdfium_page: Any, stats: dict[str, int]) -> Grid:
    """A pdfplumber table → Grid with merged cells expanded and provenance on every cell. Cells where
    pdfminer produced (cid:N) garbage are re-read with pdfium from the same bounding box."""
    src = {"page": page_no, "table": index}
    texts = table.extract()
    nrows, ncols = len(table.rows), len(table.columns)
    grid: list[list[Cell | None]] = [[None] * ncols for _ in range(nrows)]
    height = pdfium_page.get_height() if pdfium_page is not None else None
    textpage = None
    for r, c, rs, cs, bbox in spans(table):
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


# Words printed in the row/column labels of the three statistical tables (2019 and 2021 formats). A page
# with none of them on a table-like line holds no part of a table, except a continuation without labels (a
# numbers row pushed over the page break), which the table finder's own geometry catches (`_continues`).
TABLE_LABELS = re.compile(
    "规章|规范性文件|制发件数|新制作数量|废止件数|现行有效件数|处理决定数量|收费金额|行政许可|行政处罚|行政强制|行政事业性收费"
    "|采购项目|新收政府信息公开申请|上年结转|办理结果|予以公开|部分公开|不予公开|无法提供|不予处理"
    "|其他处理|结转下年度|自然人|商业企业|科研机构|社会公益组织|法律服务机构|行政复议|行政诉讼"
    "|复议后起诉|未经复议|尚未审结"
)
_VISIBLE_MIN = 10  # fewer visible characters than this: an image-only (scanned) page, sent to OCR
_SENTENCE = re.compile(r"[，。；！？]")
_NUMBER_TOKEN = re.compile(r"(?<![\d.])\d+(?:\.\d+)?(?![\d.])")
_LABEL_CELL_MAX = 16  # a label cell wraps inside a narrow column; a prose line is wider
_TAIL_MAX = 15  # visible characters allowed below a table that runs on (a page number, a footnote mark)


def is_table_line(line: str) -> bool:
    """A line of pdfium text that is (part of) a table row: it names a table label, is not a sentence, and
    is either as short as a label cell or carries the row's numbers. Prose that mentions 行政复议 or 予以公开
    (the overview does) does not make its page a table page."""
    if not TABLE_LABELS.search(line) or _SENTENCE.search(line):
        return False
    return len(re.sub(r"\s+", "", line)) <= _LABEL_CELL_MAX or len(_NUMBER_TOKEN.findall(line)) >= 2


@dataclass
class PdfPage:
    """One page as pypdfium2 reads it (text layer only)."""

    number: int
    page: Any
    textpage: Any
    width: float
    height: float
    text: str  # the whole page, NFKC not yet applied

    @property
    def image_only(self) -> bool:
        return len(re.sub(r"\s+", "", self.text)) < _VISIBLE_MIN

    @property
    def has_table_labels(self) -> bool:
        return any(is_table_line(line) for line in self.text.splitlines())


class PdfReader:
    """One PDF opened once: pypdfium2 text of every page up front (cheap), pdfplumber only when asked for
    tables and only on the pages that hold them, so the caller can try the text alone first."""

    def __init__(self, data: bytes, deadline: limits.Deadline | None = None) -> None:
        import pypdfium2 as pdfium

        self.data = data
        self.deadline = deadline or limits.Deadline()
        try:
            self.doc = pdfium.PdfDocument(data)
        except pdfium.PdfiumError as exc:
            raise ExtractionError(f"unreadable pdf: {exc}") from exc
        npages = len(self.doc)
        if npages > limits.MAX_PAGES:
            raise limits.over("pdf pages", npages, limits.MAX_PAGES)
        if npages == 0:
            raise ExtractionError("pdf has no pages")
        self.pages = [self._read_page(i) for i in range(npages)]

    def _read_page(self, i: int) -> PdfPage:
        self.deadline.check()
        page = self.doc[i]
        width, height = page.get_size()
        textpage = page.get_textpage()
        text = _band_text(textpage, width, height, 0.0, height)
        return PdfPage(i + 1, page, textpage, width, height, text)

    def image_pages(self) -> list[int]:
        return [p.number for p in self.pages if p.image_only]

    def label_pages(self) -> list[int]:
        """Pages whose text names a table row or column; every page when none does (a text layer whose
        labels pdfium cannot decode must not lose its tables)."""
        found = [p.number for p in self.pages if not p.image_only and p.has_table_labels]
        return found or [p.number for p in self.pages if not p.image_only]

    def text_only(self) -> Extracted | None:
        """The page texts alone, no table finder; None when a page has no text layer (it needs OCR)."""
        if self.image_pages():
            return None
        texts = [nfkc(p.text.strip("\n")) for p in self.pages]
        quality: dict[str, Any] = {"table_pages": []}
        kangxi = sum(count_kangxi(p.text) for p in self.pages)
        if kangxi:
            quality["kangxi_folded"] = kangxi
        return Extracted(
            format="pdf",
            extractor="pdf/pdfium-text",
            text="\n".join(t for t in texts if t),
            quality=quality,
            meta={"pages": len(self.pages)},
        )

    def with_tables(self, ocr: bool = True) -> Extracted:
        """Text of every page with the statistical tables read by position (pdfplumber) and inserted as
        tab-separated rows; image-only pages OCR'd."""
        run = _TableRun(self, ocr)
        run.read_all()
        return run.result()


class _TableRun:
    """The state of one table-path read: grids found so far, page texts, quality signals."""

    def __init__(self, reader: PdfReader, ocr: bool) -> None:
        self.reader = reader
        self.ocr = ocr
        self.wanted = set(reader.label_pages())
        self.stats: dict[str, int] = {}
        self.problems: list[str] = []
        self.items: list[Piece] = []
        self.page_texts: list[str] = []
        self.ocr_pages: list[int] = []
        self.ocr_conf: list[float] = []
        self.table_pages: list[int] = []
        self.plumber_pages: list[
            int
        ] = []  # table pages pdfium found no grid on: pdfplumber's layout read them
        self.table_index = 0
        self.runs_on: int | None = None  # the page whose last table runs on to the next page
        self._plumber: Any = None

    def plumber(self) -> Any:
        """pdfplumber's document, opened on first use (a PDF without table pages never pays for it)."""
        if self._plumber is None:
            import pdfplumber
            from pdfminer.pdfparser import PDFSyntaxError

            try:
                self._plumber = pdfplumber.open(io.BytesIO(self.reader.data))
            except (PDFSyntaxError, Exception) as exc:
                raise ExtractionError(f"unreadable pdf: {exc}") from exc
        return self._plumber

    def read_all(self) -> None:
        try:
            for page in self.reader.pages:
                self.reader.deadline.check()
                if page.image_only:
                    self._ocr(page)
                elif page.number in self.wanted or self._continues(page):
                    self._tables(page)
                else:
                    self._plain(page)
        finally:
            if self._plumber is not None:
                self._plumber.close()

    def _continues(self, page: PdfPage) -> bool:
        """The previous page ends inside a table: its last table reaches the bottom (the condition
        `merge_continuations` joins on) with no prose below it, so this page may hold the rest."""
        return self.runs_on == page.number - 1

    def _ocr(self, page: PdfPage) -> None:
        if not self.ocr:
            self.page_texts.append("")
            return
        self.ocr_pages.append(page.number)
        res = _ocr_page(page.page, page.number, self.table_index)
        for g in res.grids:
            self.items.append(
                Piece(page.number, g.source.get("top", 0.0), g.source.get("bottom", 0.0), 1.0, g)
            )
            g.source.pop("top", None)
            g.source.pop("bottom", None)
        self.table_index += len(res.grids)
        if res.grids and self.items[-1].bottom > 0.6:  # OCR grids carry top/bottom as page fractions
            self.runs_on = page.number
        self.page_texts.append(res.text)
        self.problems.extend(f"page {page.number}: {p}" for p in getattr(res, "problems", []))
        if res.confidence is not None:
            self.ocr_conf.append(res.confidence)

    def _plain(self, page: PdfPage) -> None:
        self._add_text(page.text.strip("\n"))

    def _tables(self, page: PdfPage) -> None:
        self.table_pages.append(page.number)
        grids = self._pdfium_grids(page)
        if grids is None or (not grids and page.number in self.wanted):
            grids = self._plumber_grids(page)
        tables = grids
        self.table_index += len(tables)
        parts: list[str] = []
        cursor = 0.0
        for bbox, rules, g in tables:
            parts.append(_band_text(page.textpage, page.width, page.height, cursor, bbox[1]))
            parts.append("\n".join(_grid_lines(g)))
            self.items.append(Piece(page.number, bbox[1], bbox[3], page.height, g, rules))
            cursor = bbox[3]
        tail = _band_text(page.textpage, page.width, page.height, cursor, page.height)
        parts.append(tail)
        if tables and cursor > 0.6 * page.height and len(re.sub(r"\s+", "", tail)) <= _TAIL_MAX:
            self.runs_on = page.number
        self._add_text("\n".join(p.strip("\n") for p in parts if p.strip()))

    def _pdfium_grids(self, page: PdfPage) -> list[tuple[Bbox, list[float], Grid]] | None:
        """The page's data tables from pdfium's ruling segments and characters; None where pdfium cannot
        say (a rotated page, a page of vector art)."""
        try:
            found = rulings.find_tables(page.page, TABLE_SETTINGS)
        except rulings.TooComplex as exc:
            self.problems.append(f"page {page.number}: {exc}; tables read with pdfplumber")
            return None
        if found is None:
            return None
        chars = rulings.page_chars(page.page, page.textpage) if found else []
        return self._data_tables([rulings.with_chars(t, chars) for t in found], page)

    def _plumber_grids(self, page: PdfPage) -> list[tuple[Bbox, list[float], Grid]]:
        """pdfplumber's own table finder on pdfminer's layout of the page (≈ 50 ms): the fallback."""
        self.plumber_pages.append(page.number)
        ppage = self.plumber().pages[page.number - 1]
        found = []
        if ppage.edges:
            try:
                found = ppage.find_tables(TABLE_SETTINGS)
            except Exception as exc:  # pdfminer raises a variety of errors on broken content streams
                self.problems.append(f"page {page.number}: table finder failed: {exc}")
        return self._data_tables(found, page)

    def _data_tables(self, found: list[Any], page: PdfPage) -> list[tuple[Bbox, list[float], Grid]]:
        out: list[tuple[Bbox, list[float], Grid]] = []
        for t in sorted(found, key=lambda t: t.bbox[1]):
            g = table_to_grid(t, page.number, self.table_index + len(out), page.page, self.stats)
            if is_data_table(g):
                out.append((t.bbox, column_rules(t), g))
        return out

    def _add_text(self, page_text: str) -> None:
        cid_in_page = len(_CID.findall(page_text))
        self.stats["kangxi"] = self.stats.get("kangxi", 0) + count_kangxi(page_text)
        self.page_texts.append(nfkc(page_text))
        if cid_in_page:
            self.stats["cid_garbage"] = self.stats.get("cid_garbage", 0) + cid_in_page

    def result(self) -> Extracted:
        stats, problems = self.stats, self.problems
        npages = len(self.reader.pages)
        grids = merge_continuations(self.items)
        text = "\n".join(t for t in self.page_texts if t)
        quality: dict[str, Any] = {}
        if stats.get("cid_garbage"):
            quality["cid_garbage"] = stats["cid_garbage"]
            quality["cid_cells_reread"] = stats.get("cid_cells_reread", 0)
            problems.append(
                f"(cid:N) garbage from pdfminer: {stats['cid_garbage']} tokens; cells re-read with pdfium"
            )
        if stats.get("kangxi"):
            quality["kangxi_folded"] = stats["kangxi"]
        quality["table_pages"] = self.table_pages
        if self.plumber_pages:
            quality["plumber_pages"] = self.plumber_pages
        extractor = "pdf/pdfplumber+pdfium"
        if self.ocr_pages:
            quality["ocr"] = "tesseract"
            quality["ocr_pages"] = self.ocr_pages
            if self.ocr_conf:
                quality["ocr_confidence"] = round(sum(self.ocr_conf) / len(self.ocr_conf), 1)
            extractor = (
                "pdf/ocr-tesseract"
                if len(self.ocr_pages) == npages
                else "pdf/pdfplumber+pdfium+ocr-tesseract"
            )
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


def extract_pdf(data: bytes, deadline: limits.Deadline | None = None, ocr: bool = True) -> Extracted:
    """The table path for every PDF (what `extract` returns); `read_report` tries `PdfReader.text_only` first."""
    return PdfReader(data, deadline).with_tables(ocr=ocr)


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
