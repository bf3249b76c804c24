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
    assert s["right"] >= 0.8 * s["expected"], s  # bench/bench_scan.py measures the rest
    flagged = [f for f in report.figures if "ocr_uncertain" in f.flags]
    # a flagged figure carries the cell's flag and every reading made of it (pdf.py does not yet copy the
    # OCR problems naming these cells into the report: OcrResult.problems)
    assert all(f.source and f.source.get("ocr_uncertain") and f.source.get("ocr_readings") for f in flagged)
    read = [f for f in report.figures if f.source and f.source.get("ocr_pass") == "digits"]
    assert read and all(f.source and f.source.get("ocr_readings") is not None for f in read)
