"""Detection by content, limits, and each extractor's grids (merged cells, provenance) on the fixtures."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import pytest

from pipelines.extract import ExtractionError, dispatch, extract, limits
from pipelines.extract.detect import detect_format, ole_streams
from pipelines.extract.html import cell_text, decode_html, extract_html
from pipelines.read import read_report

from .helpers_shared import require_shared

FIX = Path(__file__).parent / "fixtures" / "formats"


def read(name: str) -> bytes:
    return (FIX / name).read_bytes()


# ------------------------------------------------------------------ detection


@pytest.mark.parametrize(
    ("name", "fmt"),
    [
        ("r2021_ok.html", "html"),
        ("r2019_ok.html", "html"),
        ("r2021_ok.pdf", "pdf"),
        ("r2021_ok.scan.pdf", "pdf"),
        ("r2021_ok.docx", "docx"),
        ("r2021_ok.doc", "doc"),
        ("r2021_ok.xlsx", "xlsx"),
        ("r2021_ok.xls", "xls"),
        ("r2021_ok.table.jpg", "jpeg"),
    ],
)
def test_detect_by_content_not_name(name: str, fmt: str) -> None:
    assert detect_format(read(name)) == fmt
    assert detect_format(read(name), filename="report.txt") == fmt or fmt == "doc"


def test_detect_wps_and_ole_streams() -> None:
    data = read("r2021_ok.wps")
    assert "WordDocument" in ole_streams(data)
    assert detect_format(data, "年报.wps") == "wps"
    assert detect_format(data) == "doc"  # a Word binary whatever its name; converted the same way
    assert "Workbook" in ole_streams(read("r2021_ok.xls")) or "Book" in ole_streams(read("r2021_ok.xls"))


def test_detect_misc() -> None:
    assert detect_format("一、总体情况\n本年度".encode("gbk")) == "text"
    assert detect_format(b"\x89PNG\r\n\x1a\n" + b"\x00" * 20) == "png"
    assert detect_format(b"\x00\x01\x02\x03" * 100) == "unknown"
    assert detect_format(b"  \n<!DOCTYPE html><html><body>x</body></html>") == "html"
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("a.txt", "x")
    assert detect_format(buf.getvalue()) == "zip"


def test_unknown_format_is_a_clear_error() -> None:
    with pytest.raises(ExtractionError, match="unsupported format"):
        extract(b"\x00\x01\x02\x03" * 100, filename="x.pdf")
    with pytest.raises(ExtractionError, match="empty"):
        extract(b"")


# ------------------------------------------------------------------ limits


def test_size_limit(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(dispatch, "MAX_BYTES", 1000)
    with pytest.raises(ExtractionError, match="over limit"):
        extract(read("r2021_ok.pdf"))
    report = read_report(read("r2021_ok.pdf"), "big.pdf")
    assert report.status == "failed"
    assert any("over limit" in p for p in report.problems)


def test_zip_bomb_refused_before_inflating() -> None:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("[Content_Types].xml", "<Types/>")
        z.writestr("word/document.xml", b"\x00" * 50_000_000)
    data = buf.getvalue()
    assert len(data) < 200_000
    with pytest.raises(ExtractionError, match="over limit"):
        extract(data, filename="bomb.docx")


def test_page_limit(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(limits, "MAX_PAGES", 2)
    with pytest.raises(ExtractionError, match="pdf pages over limit"):
        extract(read("r2021_ok.pdf"))


def test_pixel_limit(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(limits, "MAX_IMAGE_PIXELS", 10_000)
    with pytest.raises(ExtractionError, match="over limit"):
        extract(read("r2021_ok.table.jpg"))


def test_time_limit() -> None:
    d = limits.Deadline(seconds=-1)
    with pytest.raises(ExtractionError, match="over limit"):
        d.check()


def test_soffice_timeout_kills_and_reports() -> None:
    from pipelines.extract import legacy

    if legacy.soffice_binary() is None:
        pytest.skip("LibreOffice not installed")
    with pytest.raises(ExtractionError, match="over limit"):
        legacy.convert(read("r2021_ok.doc"), "doc", "docx", timeout=0.05)


# ------------------------------------------------------------------ HTML


def test_html_gbk_page_declaring_utf8() -> None:
    data = read("r2019_ok.html")
    assert b"charset=utf-8" in data
    text, enc, problems = decode_html(data)
    assert enc == "gb18030"
    assert "示例县某某委员会" in text
    assert problems and "declares charset utf-8" in problems[0]


def test_html_gb18030_without_charset_and_header_charset() -> None:
    data = read("r2021_bad.html")
    assert b"charset" not in data[:2000].lower()
    text, _enc, _ = decode_html(data)
    assert "示例区某某办公室" in text
    # a correct HTTP header wins; a wrong one is survived
    text2, enc2, _ = decode_html(data, "text/html; charset=GBK")
    assert "示例区某某办公室" in text2 and enc2.lower() in ("gb18030", "gbk")
    text3, _, problems = decode_html(data, "text/html; charset=utf-8")
    assert "示例区某某办公室" in text3 and problems
    ex = extract(data, filename="x", content_type="text/html; charset=utf-8")
    assert ex.format == "html" and ex.problems


def test_html_grid_spans_and_word_debris() -> None:
    import lxml.html

    page = """<html><body><table><tr><td>x</td></tr><tr><td>
      <table border=1>
        <tr><td rowspan="2" colspan="2"><p class=MsoNormal>三、本年度<br>办理结果</p></td><td>自然<br>人</td></tr>
        <tr><td><p class=MsoNormal><span style="x">2</span>
            <span style="y">7</span></p></td></tr>
        <tr><td>&nbsp;</td><td colspan=2>a&nbsp;&nbsp;b</td></tr>
      </table></td></tr></table>
      <p>一、总体情况</p></body></html>"""
    ex = extract_html(page.encode())
    assert len(ex.grids) == 1  # the layout table around it is not data
    g = ex.grids[0]
    assert g.texts() == [
        ["三、本年度 办理结果", "三、本年度 办理结果", "自然 人"],
        ["三、本年度 办理结果", "三、本年度 办理结果", "27"],
        ["", "a b", "a b"],
    ]
    assert g.rows[1][0].source == {"table": 0, "cell": [1, 0], "merged": True, "origin": [0, 0]}
    assert g.rows[0][0].source == {"table": 0, "cell": [0, 0]}
    assert "一、总体情况" in ex.text
    td = lxml.html.fragment_fromstring("<td><span>1</span><span>2</span><span>3</span></td>")
    assert cell_text(td) == "123"


def test_html_fixture_text_meta_and_grids() -> None:
    ex = extract(read("r2021_ok.html"), filename="r.html")
    assert ex.extractor == "html/lxml"  # the tree gave text, title and date: trafilatura not called
    assert "trafilatura_chars" not in ex.meta
    assert ex.title == "示例市某某局2024年政府信息公开工作年度报告"
    assert ex.published_date == "2025-01-20"
    for h in (
        "一、总体情况",
        "二、主动公开政府信息情况",
        "三、收到和处理政府信息公开申请情况",
        "六、其他需要报告的事项",
    ):
        assert h in ex.text.splitlines()
    assert "主办：示例市人民政府办公室" not in ex.text  # boilerplate outside the article
    # the 索引号/发布机构 metadata table is an innermost table too; then tables 2, 3, 4
    assert ex.grids[0].rows[0][0].text == "索引号:" and len(ex.grids) == 4
    assert len(ex.grids[2].rows[0]) == 10 and len(ex.grids[3].rows[0]) == 15


# ------------------------------------------------------------------ DOCX / sheets / PDF grids


def test_docx_merged_cells() -> None:
    ex = extract(read("r2021_ok.docx"))
    g = ex.grids[1]
    col0 = [r[0] for r in g.rows]
    results = [c for c in col0 if c.text == "三、本年度办理结果"]
    assert len(results) == 22  # vMerge: repeated into all 22 result rows
    assert sum(1 for c in results if c.source.get("merged")) == 21
    assert g.rows[0][1].source.get("merged") and g.rows[0][1].text.startswith("(本列数据")  # gridSpan
    assert all("cell" in c.source and "table" in c.source for r in g.rows for c in r)


@pytest.mark.parametrize("name", ["r2021_ok.xlsx", "r2021_ok.xls"])
def test_sheet_merged_cells(name: str) -> None:
    ex = extract(read(name))
    assert [g.source["sheet"] for g in ex.grids] == ["主动公开", "收到和处理申请", "行政复议行政诉讼"]
    g = ex.grids[1]
    labels = [r[0].text for r in g.rows]
    assert labels.count("三、本年度办理结果") == 22
    assert ex.extractor.endswith("/calamine")


def test_pdf_fixture_grid_across_pages() -> None:
    ex = extract(read("r2021_ok.pdf"))
    assert ex.extractor == "pdf/pdfplumber+pdfium"
    table3 = [g for g in ex.grids if len(g.rows[0]) == 10]
    assert len(table3) == 1 and table3[0].source.get("continued_on")
    labels = [r[2].text for r in table3[0].rows]
    assert "2.其他法律行政法规禁止公开" in labels  # a row broken over the page is joined back
    pages = {c.source["page"] for r in table3[0].rows for c in r}
    assert len(pages) >= 2
    assert "三、收到和处理政府信息公开申请情况" in ex.text


def test_pdf_cid_garbage_reread_with_pdfium() -> None:
    from pipelines.extract.pdf import table_to_grid

    class Row:
        def __init__(self, cells, bbox):
            self.cells, self.bbox = cells, bbox

    class FakeTable:
        def __init__(self):
            self.rows = [Row([(0, 0, 50, 10), (50, 0, 100, 10)], (0, 0, 100, 10))]
            self.columns = [Row([], (0, 0, 50, 10)), Row([], (50, 0, 100, 10))]

        def extract(self):
            return [["(cid:12)(cid:34)", "5"]]

    class FakeTextPage:
        def get_text_bounded(self, **kw):
            return "⼲部"

    class FakePage:
        def get_height(self):
            return 100

        def get_textpage(self):
            return FakeTextPage()

    stats: dict = {}
    g = table_to_grid(FakeTable(), 1, 0, FakePage(), stats)
    assert g.texts() == [["干部", "5"]]  # re-read and NFKC-folded (Kangxi radical ⼲ → 干)
    assert stats["cid_garbage"] == 2 and stats["cid_cells_reread"] == 1


# ------------------------------------------------------------------ real PDFs (../shared/corpus)


@pytest.mark.corpus
@pytest.mark.parametrize(
    ("name", "figures"),
    [
        (
            "huaian-hongzequ_2023.pdf",
            {
                ("applications", "new_received", "total"): 21,
                ("applications", "total_handled", "total"): 21,
                ("applications", "unable_not_held", "natural_person"): 10,
                ("active", "licensing", "decisions"): 550,
                ("active", "fees", "amount_10k_yuan"): 7730.28,
                ("review_litigation", "review", "upheld"): 10,
            },
        ),
        # the prose says 受理申请17件 (the office alone); the table's total for the district is 95
        (
            "huaian-hongzequ_2024.pdf",
            {
                ("applications", "new_received", "total"): 95,
                ("applications", "total_handled", "total"): 95,
                ("active", "licensing", "decisions"): 9487,
            },
        ),
        (
            "huaian-shizhengfu_2024.pdf",
            {
                ("applications", "new_received", "total"): 3119,
                ("applications", "carried_over", "total"): 34,
                ("applications", "total_handled", "total"): 3050,
                ("applications", "carried_forward", "total"): 103,
                ("applications", "other_other", "total"): 110,
                ("active", "penalty", "decisions"): 3985758,
                ("review_litigation", "review", "total"): 351,
                ("review_litigation", "litigation_after_review", "total"): 20,
            },
        ),
    ],
)
def test_real_pdfs(name: str, figures: dict) -> None:
    report = read_report(require_shared("corpus", name).read_bytes(), name)
    for (table, row, col), value in figures.items():
        assert report.value(table, row, col) == value, (table, row, col)
    assert report.meta["extractor"] == "pdf/pdfplumber+pdfium"
    assert (report.status, report.template) == ("complete", "2021"), report.problems
    failed = sorted((c.rule, c.row) for c in report.checks if not c.ok)
    if name == "huaian-hongzequ_2023.pdf":
        # the report prints 行政复议 总计 0 beside 维持 10 / 纠正 1, and 复议后起诉 总计 0 beside 维持 5
        assert failed == [
            ("review_litigation.total", "litigation_after_review"),
            ("review_litigation.total", "review"),
        ]
    else:
        assert failed == []
    if name.startswith("huaian-hongzequ"):
        # Table 3 keeps the 2019 single (六)其他处理 row; "2.其他法律行政止公开" lacks 法规禁 in the PDF itself
        assert report.meta["table_templates"] == {"active": "2021", "applications": "2019"}
        assert report.value("applications", "other", "total") == 0
        assert report.value("applications", "denied_prohibited_by_law", "total") == 0
        assert any("recognised by its number only" in p for p in report.problems)


# ------------------------------------------------------------------ OCR


@pytest.mark.slow
def test_ocr_image_table_grid() -> None:
    ex = extract(read("r2021_ok.table.jpg"), filename="x.jpg")
    assert ex.extractor == "image/ocr-tesseract"
    assert ex.quality["ocr"] == "tesseract" and ex.quality["ocr_confidence"] > 50
    shapes = [(len(g.rows[0])) for g in ex.grids]
    assert 10 in shapes
    g = ex.grids[shapes.index(10)]
    assert any(c.source.get("ocr") for r in g.rows for c in r)
