"""Scanned tables: deskew, number cells read as digits and judged by agreement and the table's sums; a cell
not confirmed is flagged `ocr_uncertain` and named in a problem, never presented as read."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from pipelines.extract import numbers, scan
from pipelines.read import read_report
from tests.helpers_scan import PROFILES, Degradation, degrade, render_pages, score, to_pdf

FIX = Path(__file__).parent / "fixtures" / "formats"


@pytest.fixture(scope="module")
def r2021_pages() -> list:
    return render_pages(FIX / "r2021_ok.pdf")


def test_skew_angle_found_from_the_page(r2021_pages: list) -> None:
    page = r2021_pages[1]
    for tilt in (1.3, -0.7):
        tilted = scan.to_array(page.rotate(tilt, fillcolor=255))
        assert abs(scan.skew_angle(tilted) - tilt) <= 0.15
        straight = scan.rotate(tilted, scan.skew_angle(tilted))
        assert abs(scan.skew_angle(straight)) <= 0.1


def _cell(key: tuple[int, int], *readings: str) -> numbers.NumberCell:
    c = numbers.NumberCell(key, None, [(t, 90.0) for t in readings])
    c.text = c.candidates()[0]
    c.confirmed = len(set(readings)) == 1
    return c


def test_total_columns_group_the_numbers_before_them() -> None:
    header = ["", "自然人", "商业企业", "科研机构", "其他", "总计", "维持", "纠正", "合 计"]
    assert numbers.total_groups(header, list(range(1, 9))) == [([1, 2, 3, 4], 5), ([6, 7], 8)]
    assert numbers.total_groups(["", "a", "b"], [1, 2]) == []


def test_row_sum_picks_the_reading_that_makes_it_hold() -> None:
    # 3 + 1 + 0 = 4: the cell read 8 by one preprocessing and 3 by another takes 3
    row = {1: _cell((0, 1), "8", "3", "8"), 2: _cell((0, 2), "1", "1"), 3: _cell((0, 3), "0", "0")}
    row[4] = _cell((0, 4), "4", "4")
    numbers._settle_row(row, [([1, 2, 3], 4)])
    assert [row[c].text for c in (1, 2, 3, 4)] == ["3", "1", "0", "4"]
    assert all(row[c].confirmed for c in row)


def test_row_sum_that_cannot_be_settled_leaves_cells_unconfirmed() -> None:
    # every cell agreed, the sum fails, no reading fixes it: nobody can tell which cell is wrong
    row = {1: _cell((0, 1), "5", "5"), 2: _cell((0, 2), "1", "1"), 3: _cell((0, 3), "9", "9")}
    numbers._settle_row(row, [([1, 2], 3)])
    assert not any(c.confirmed for c in row.values())


def test_spaced_sets_glyphs_apart() -> None:
    bw = np.full((20, 12), 255, np.uint8)
    bw[2:18, 2:4] = 0
    bw[2:18, 7:9] = 0  # "11" two pixels apart
    out = scan.spaced(bw)
    ink_cols = np.flatnonzero((out < 128).any(axis=0))
    assert len(ink_cols) == 4 and ink_cols[2] - ink_cols[1] > 6


@pytest.mark.slow
def test_scanned_report_read_right_or_flagged(r2021_pages: list) -> None:
    """The whole path on a tilted, blurred, JPEG-40 scan of the three statistical tables' pages: most
    figures exact, the rest flagged or absent, none silently wrong."""
    exp = json.loads((FIX / "r2021_ok.expected.json").read_text(encoding="utf-8"))
    d: Degradation = PROFILES["blur-q40"]
    pages = [degrade(p, d, seed=i) for i, p in enumerate(r2021_pages)]
    report = read_report(to_pdf(pages), filename="scan.pdf")
    s = score(report, exp)
    assert s["wrong"] == []
    assert s["right"] >= 0.95 * s["expected"], s  # bench/bench_scan.py measures the rest
    flagged = [f for f in report.figures if "ocr_uncertain" in f.flags]
    # a flagged figure carries the cell's flag and every reading made of it (pdf.py does not yet copy the
    # OCR problems naming these cells into the report: OcrResult.problems)
    assert all(f.source and f.source.get("ocr_uncertain") and f.source.get("ocr_readings") for f in flagged)
    read = [f for f in report.figures if f.source and f.source.get("ocr_pass") == "digits"]
    assert read and all(f.source and f.source.get("ocr_readings") is not None for f in read)


def _glyphs(*parts: tuple[int, int, int, int]) -> np.ndarray:
    """A cell's ink on white: each part a black box (x, y, width, height)."""
    img = np.full((30, 60), 255, np.uint8)
    for x, y, w, h in parts:
        img[y : y + h, x : x + w] = 0
    return img


def test_minus_sign_is_taken_from_the_geometry() -> None:
    digit = (14, 4, 7, 20)  # a glyph 20 px tall
    assert scan.sign_mark(_glyphs((3, 13, 8, 2), digit)) == "dash"  # "-3": a flat stroke at mid height
    # blurred into the digit: perhaps a minus, perhaps a 4's bar — doubted, never guessed
    assert scan.sign_mark(_glyphs((6, 13, 8, 3), digit)) == "unsure"
    assert scan.sign_mark(_glyphs((10, 18, 12, 3), (19, 4, 3, 20))) == "none"  # a 4: its bar left of the stem
    assert scan.sign_mark(_glyphs(digit)) == "none"
    assert scan.sign_mark(_glyphs((3, 4, 3, 20), digit)) == "none"  # "13": two tall glyphs
    assert scan.sign_mark(_glyphs((4, 11, 5, 6), digit)) == "unsure"  # a blot before the digit: not a sign
    assert not scan.leading_dash(_glyphs((3, 13, 8, 2)))  # "-" alone: a dash cell (0), not a sign
    cell = numbers.NumberCell((0, 0), None, dash=True)
    assert numbers._signed(cell, "3") == "-3" and numbers._signed(cell, "-") == "-"
    assert numbers._signed(numbers.NumberCell((0, 0), None), "-3") == "3"


def test_total_column_inferred_from_the_rows_arithmetic() -> None:
    # a table piece continued from the previous page: no header row names its 总计 column
    ink = np.zeros((2, 2), np.uint8)
    rows = {}
    for r, vals in enumerate([(1, 2, 3), (4, 0, 4), (0, 0, 0), (7, 5, 12)]):
        rows[r] = {}
        for c, v in enumerate(vals):
            cell = numbers.NumberCell((r, c), ink, [(str(v), 90.0)], text=str(v), confirmed=True)
            rows[r][c] = cell
    assert numbers.inferred_total(rows, [0, 1, 2]) == [([0, 1], 2)]
    rows[3][2].text = "13"  # one row in four misread: the other three still show the total
    assert numbers.inferred_total(rows, [0, 1, 2]) == [([0, 1], 2)]
    rows[2][2].text = "5"  # two of four: no total is assumed
    assert numbers.inferred_total(rows, [0, 1, 2]) == []


def _scanned_table3(labels: list[str]) -> list:
    from pipelines.tables import Row, RowCell

    src = {"ocr": True, "page": 1}
    out = [Row([RowCell("", src), RowCell("自然人", src), RowCell("总计", src)], from_grid=True)]
    for i, label in enumerate(labels):
        values = [RowCell(str(i), src) for _ in range(6)] + [RowCell(str(6 * i), src)]
        out.append(Row([RowCell(label, src), *values], from_grid=True))
    return out


def test_scanned_table3_rows_by_their_position_in_the_template() -> None:
    from pipelines.codes import RESULT_ROWS_2021
    from pipelines.tables import Row, RowCell, read_applications, rows_by_position

    labels = ["一、本年新收", "二、上年结转", "(一)予以公开", "(二)部分公开", "1.属于国家秘"]
    labels += ["2.其他法律行政法规禁止公开", "3.危人实生一定", "4.保护第三方合法权益"]
    labels += ["5.属于三类内部事务信息", "6.属于四类过程性信息", "7.属于行政执法案卷", "8.属于行政查询事项"]
    labels += ["1.本机关不党握相关政府信", "2.没有现成信息需要另行制作", "3.补正后申请内容仍不明确"]
    labels += ["1.信访举报投诉类申请", "2.重复申请", "3.要求提供AN开出版", "4.无正当理由大量反复申请"]
    labels += [
        "5.要求行政机关确认或重新出具",
        "1.逾期不补正",
        "2.缴纳费用",
        "3.其他",
        "(七)总计",
        "四、结转下年度",
    ]
    rows = _scanned_table3(labels)
    codes = rows_by_position(rows)
    expected = ["new_received", "carried_over", *RESULT_ROWS_2021, "total_handled", "carried_forward"]
    assert [codes[i] for i in sorted(codes)] == expected
    read = read_applications(rows)
    secret = [f for f in read.figures if f.row == "denied_state_secret"]
    assert [f.value for f in secret] == [4] * 6 + [24]  # the 5th value row, though its label is cut short
    # one value row too few: positions no longer name the rows
    assert rows_by_position(rows[:-1]) == {}
    # one too many: the piece of a row cut by a page break, specks read as digits, every one unconfirmed
    src = {"ocr": True, "ocr_uncertain": True}
    cut = Row(
        [RowCell("当理由大量反复申请", {"ocr": True}), *(RowCell("7", dict(src)) for _ in range(7))], True
    )
    with_cut = [*rows[:20], cut, *rows[20:]]
    codes = rows_by_position(with_cut)
    assert 20 not in codes and [codes[i] for i in sorted(codes)] == expected
    # labels that contradict the positions (rows in another order): not by position either
    assert rows_by_position([rows[0], *reversed(rows[1:])]) == {}


def test_scanned_table3_columns_are_the_templates_whatever_the_header_reads() -> None:
    from pipelines.tables import Row, RowCell, read_applications

    src = {"ocr": True, "page": 1}
    # the super-header read short (its 其他 must not become a column before 商业企业), the real 其他 garbled
    header = [
        "",
        "自然人",
        "人或其他",
        "商业企业",
        "科研机构",
        "社会公益组织",
        "法律服务机构",
        "具他",
        "总计",
    ]
    rows = [Row([RowCell(t, src) for t in header], from_grid=True)]
    for label in ("一、本年新收政府信息公开申请数量", "二、上年结转政府信息公开申请数量", "(一)予以公开"):
        rows.append(Row([RowCell(label, src), *(RowCell(v, src) for v in "1234567")], from_grid=True))
    read = read_applications(rows)
    got = {f.column: f.value for f in read.figures if f.row == "new_received"}
    assert got == {
        "natural_person": 1,
        "commercial_enterprise": 2,
        "research_institution": 3,
        "social_welfare_org": 4,
        "legal_service_org": 5,
        "other_org": 6,
        "total": 7,
    }
