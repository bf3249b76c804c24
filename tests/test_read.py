"""read_report on PDFs: the pypdfium2 text alone when it reads complete and clean, pdfplumber's table finder
otherwise and then only on the pages holding the statistical tables."""

from __future__ import annotations

import io
import json
import textwrap
from pathlib import Path

import pytest

from pipelines.extract.pdf import PdfReader, extract_pdf, is_table_line
from pipelines.parse import parse_extracted
from pipelines.read import read_report
from tests.helpers_shared import require_shared

FIX = Path(__file__).parent / "fixtures" / "formats"


def _rows_as_lines(seed: str) -> str:
    """A seed's tables (one cell per tab-indented line, rows split by blank lines) as one line per row, the
    way pypdfium2 prints a ruled table's row."""
    out: list[str] = []
    row: list[str] = []
    for line in seed.splitlines():
        if line.startswith("\t"):
            row.append(line.strip())
        elif row and not line.strip():
            out.append("  ".join(row))
            row = []
        elif row:
            row[-1] += line.strip()
        else:
            out.append(line)
    if row:
        out.append("  ".join(row))
    return "\n".join(out)


def _text_pdf(text: str) -> bytes:
    """An unruled text-layer PDF of `text` (reportlab's built-in STSong-Light CID font, no font file)."""
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.cidfonts import UnicodeCIDFont
    from reportlab.pdfgen import canvas

    pdfmetrics.registerFont(UnicodeCIDFont("STSong-Light"))
    buf = io.BytesIO()
    c = canvas.Canvas(buf, pagesize=(595, 842))
    y = 800
    for line in text.splitlines():
        parts = [line.strip()] if "  " in line else textwrap.wrap(line.strip(), 40)
        for part in parts:
            c.setFont("STSong-Light", 7 if "  " in part else 10)
            c.drawString(40, y, part)
            y -= 13
            if y < 40:
                c.showPage()
                y = 800
    c.save()
    return buf.getvalue()


def test_text_pdf_that_parses_complete_skips_the_table_finder(monkeypatch: pytest.MonkeyPatch) -> None:
    seed = require_shared("seeds", "004_*.txt")
    data = _text_pdf(_rows_as_lines(seed.read_text(encoding="utf-8")))
    table_path = parse_extracted(extract_pdf(data))
    import pdfplumber

    def refuse(*_a: object, **_k: object) -> None:
        raise AssertionError("pdfplumber opened on the cheap path")

    monkeypatch.setattr(pdfplumber, "open", refuse)
    report = read_report(data, "r.pdf")
    assert report.meta["extractor"] == "pdf/pdfium-text"
    assert report.meta["quality"]["table_pages"] == []
    assert report.status == "complete" and report.checks and all(c.ok for c in report.checks)
    cheap = {(f.table, f.row, f.column): f.value for f in report.figures}
    assert cheap == {(f.table, f.row, f.column): f.value for f in table_path.figures}
    assert len(cheap) > 150


def test_table_split_across_pages_gets_every_cell() -> None:
    report = read_report((FIX / "r2021_ok.pdf").read_bytes(), "r2021_ok.pdf")
    assert report.meta["extractor"] == "pdf/pdfplumber+pdfium"
    assert report.meta["text_only_rejected"].startswith("status")  # pdfium text alone scrambles the tables
    exp = json.loads((FIX / "r2021_ok.expected.json").read_text(encoding="utf-8"))
    wrong = [f for f in exp["figures"] if report.value(f["table"], f["row"], f["column"]) != f["value"]]
    assert not wrong and len(exp["figures"]) > 150
    assert report.meta["quality"]["table_pages"] == [1, 2, 3]  # page 4 holds prose only


@pytest.mark.parametrize(
    ("name", "pages"),
    [
        ("huaian-hongzequ_2023.pdf", [2, 3, 4]),  # pages 1 and 5: prose (page 1 in ruled boxes)
        ("huaian-hongzequ_2024.pdf", [2, 3, 4]),  # page 5's prose names 行政复议 and 不予公开
        ("huaian-shizhengfu_2024.pdf", [3, 4, 5]),  # page 2's overview names 行政复议 and 尚未审结
    ],
)
def test_table_finder_runs_on_table_pages_only(name: str, pages: list[int]) -> None:
    report = read_report(require_shared("corpus", name).read_bytes(), name)
    assert report.meta["quality"]["table_pages"] == pages
    assert report.status == "complete"


def test_table_lines_from_pdfium_text() -> None:
    assert is_table_line("规章 0 0 0")
    assert is_table_line("（四）无法提供")
    assert is_table_line("二、上年结转政府信息公开申请数量 0 0 0 0 0 0 0")
    assert not is_table_line("2023 年，全区共办理行政复议案件 10 件，予以公开 5 件。")
    assert not is_table_line("一、总体情况")
    assert not is_table_line("进一步规范依申请公开流程和行政复议应诉工作机制的建设与完善")


def test_scanned_pdf_has_no_text_only_reading() -> None:
    reader = PdfReader((FIX / "r2021_ok.scan.pdf").read_bytes())
    assert reader.image_pages() and reader.text_only() is None


def test_a_hinted_date_fills_what_the_document_leaves_empty() -> None:
    """The crawler's date for a document (its landing page's, or the list's) is the publication date of a
    report that states none itself, with its source; a date inside the year reported on is not one."""
    from pipelines.read import ReadHints

    body = (FIX / "r2021_ok.docx").read_bytes()  # a 2024 report with no date line
    hinted = read_report(
        body, "r.docx", hints=ReadHints(published="2025-01-18", published_source="landing_page_meta")
    )
    assert hinted.meta["published_date"] == "2025-01-18"
    assert hinted.meta["published_date_source"] == "landing_page_meta"
    listed = read_report(body, "r.docx", hints=ReadHints(published="2025-01-20"))
    assert listed.meta["published_date_source"] == "list"
    inside = read_report(body, "r.docx", hints=ReadHints(published="2024-06-30"))
    assert "published_date" not in inside.meta and inside.meta["published_date_hint"] == "2024-06-30"
