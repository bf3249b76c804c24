"""PDF tables that continue on the next page (PATTERNS A10): the applications table of a report cut by a
page break, with its header repeated, without it, or with one row and the merged labels (the vertical
三、本年度办理结果, （三）不予公开) split by the break, is read back as one grid, every cell right; ruled
boxes of prose are not tables."""

from __future__ import annotations

import unicodedata
from typing import Any

import pytest

from pipelines.extract.base import Cell, Grid
from pipelines.extract.continuation import Piece, merge_continuations
from pipelines.extract.pdf import extract_pdf
from pipelines.parse import parse_extracted
from tests import pdf_tables

AGENCY = "示例县测试局"
RESULT_LABEL = "三、本年度办理结果"


def _read(split: str | None, boxed: bool = False, fees: float = 62.336) -> tuple[Any, Any, Any]:
    d = pdf_tables.report(AGENCY, 2024, 7, fees)
    ex = extract_pdf(pdf_tables.build(d, split=split, boxed_prose=boxed), ocr=False)
    return d, ex, parse_extracted(ex)


def _wrong(d: Any, report: Any) -> list[tuple[Any, ...]]:
    got = {(f.table, f.row, f.column): f.value for f in report.figures}
    exp = pdf_tables.expected_figures(d)
    return [(k, v, got.get(k)) for k, v in exp.items() if got.get(k) != v] + [
        (k, None, v) for k, v in got.items() if k not in exp
    ]


def _applications_grid(ex: Any) -> Grid:
    (grid,) = [g for g in ex.grids if any("申请人情况" in c.text for c in g.rows[0])]
    return grid


@pytest.mark.parametrize("split", [None, *pdf_tables.SPLITS])
def test_every_cell_right_whatever_the_page_break(split: str | None) -> None:
    """All 200 cells of the three tables, the arithmetic holding, nothing flagged."""
    d, _ex, report = _read(split)
    assert len(pdf_tables.expected_figures(d)) == 200
    assert _wrong(d, report) == []
    assert report.status == "complete"
    assert report.problems == []
    assert [c for c in report.checks if not c.ok] == []
    assert not any(f.flags for f in report.figures)


@pytest.mark.parametrize("split", pdf_tables.SPLITS)
def test_the_pieces_join_into_one_grid(split: str) -> None:
    """One 10-column grid of 27 rows (two header rows, 一, 二, 21 results, 总计, 四) whatever the break:
    the first piece, whose rows all merge the three label columns, is re-cut on the continuation's rulings;
    a repeated header is dropped; every result row carries the whole vertical label and its group label."""
    _d, ex, _r = _read(split)
    grid = _applications_grid(ex)
    assert [len(r) for r in grid.rows] == [10] * 27
    note = grid.source["continued_on"]
    assert [n["page"] for n in note] == [3]
    assert note[0].get("repeated_header_rows") == (2 if split == "repeat" else None)
    labels = [[c.text for c in row[:3]] for row in grid.rows]
    results = labels[4:25]
    assert {row[0] for row in results} == {RESULT_LABEL}
    assert [row[1] for row in results[2:10]] == ["(三)不予公开"] * 8
    assert [row[1] for row in results[10:13]] == ["(四)无法提供"] * 3
    assert [row[2] for row in results[2:5]] == [
        "1.属于国家秘密",
        "2.其他法律行政法规禁止公开",
        "3.危及“三安全一稳定”",
    ]
    assert labels[26] == ["四、结转下年度继续办理"] * 3
    pages = [row[3].source["page"] for row in grid.rows]  # every cell keeps the page it was printed on
    assert pages == [2] * 6 + [3] * 21 if split != "row" else pages == [2] * 8 + [3] * 19


def test_a_row_split_by_the_break_keeps_its_numbers_and_joins_its_label() -> None:
    """r2021-style: the numbers stay on the first page, the label's tail (禁止公开) opens the next page;
    the merged labels split as 三、本年度 | 办理结果 and （三）不 | 予公开 are one label on both pages."""
    d, ex, _r = _read("row")
    grid = _applications_grid(ex)
    row = next(r for r in grid.rows if r[2].text.startswith("2.其他法律"))
    assert [c.text for c in row] == [
        RESULT_LABEL,
        "(三)不予公开",
        "2.其他法律行政法规禁止公开",
        *map(str, d.results[3]),
    ]
    assert row[2].source["continued"]["page"] == 3
    assert grid.rows[8][0].source["continued_from"]["page"] == 2


# ------------------------------------------------------------------ the join rule on its own


def _grid(page: int, texts: list[list[str]]) -> Grid:
    """A grid as `table_to_grid` gives it (merged copies carry the text; the caller marks them merged)."""
    return Grid(
        rows=[
            [Cell(t, {"page": page, "table": page, "cell": [r, c]}) for c, t in enumerate(row)]
            for r, row in enumerate(texts)
        ],
        source={"page": page, "table": page},
    )


def test_a_different_table_at_the_top_of_the_next_page_is_not_joined() -> None:
    """The applications table ends at the foot of a page and the review table (15 equal columns, the same
    outer edges) opens the next: their rulings disagree, so they stay two grids."""
    apps = _grid(2, [["四、结转下年度继续办理", "0", "2", "2"]])
    review = _grid(3, [["行政复议", "", "行政诉讼", ""], ["1", "0", "2", "1"]])
    pieces = [
        Piece(2, 100.0, 800.0, 842.0, apps, [40.0, 244.0, 340.0, 450.0, 555.0]),
        Piece(3, 40.0, 120.0, 842.0, review, [40.0, 168.75, 297.5, 426.25, 555.0]),
    ]
    assert merge_continuations(pieces) == [apps, review]


def test_a_new_group_label_at_the_top_is_not_glued_to_the_last_one() -> None:
    """（四）无法提供 starting the next page is a group of its own, not the tail of （三）不予公开."""
    rules = [40.0, 100.0, 200.0, 300.0, 400.0]
    first = _grid(
        2,
        [["(三)不予公开", "7.属于行政执法案卷", "0", "0"], ["(三)不予公开", "8.属于行政查询事项", "1", "1"]],
    )
    first.rows[1][0].source.update(merged=True, origin=[0, 0])
    rest = _grid(
        3,
        [
            ["(四)无法提供", "1.本机关不掌握相关政府信息", "2", "2"],
            ["(四)无法提供", "2.没有现成信息需要另行制作", "0", "0"],
        ],
    )
    rest.rows[1][0].source.update(merged=True, origin=[0, 0])
    (grid,) = merge_continuations(
        [Piece(2, 500.0, 810.0, 842.0, first, rules), Piece(3, 40.0, 100.0, 842.0, rest, rules)]
    )
    assert [r[0].text for r in grid.rows] == ["(三)不予公开", "(三)不予公开", "(四)无法提供", "(四)无法提供"]


# ------------------------------------------------------------------ ruled prose is not a table


def test_ruled_prose_boxes_are_not_tables() -> None:
    """A one-column box, heading | paragraph boxes, and one cell as wide as the tables whose prose is full
    of numbers (申请10件，上年结转4件…): none becomes a grid, their text stays in the sections, and the
    figures are exactly the tables' 200."""
    d, ex, report = _read(None, boxed=True, fees=0.35)
    boxed = ("总体情况", "本机关通过门户网站", "按时答复", pdf_tables.NUMBERS_BOX[:12])
    assert [g for g in ex.grids if any(b in c.text for row in g.rows for c in row for b in boxed)] == []
    assert len(ex.grids) == 3
    text = "".join(report.sections.values())
    assert unicodedata.normalize("NFKC", pdf_tables.NUMBERS_BOX) in text.replace("\n", "")
    assert "提升平台的便民服务水平" in text
    assert _wrong(d, report) == []
    assert report.status == "complete"
