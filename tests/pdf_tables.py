"""Ruled-table report PDFs for the PDF reader's tests (fictional agencies, the real shapes).

Drawn with reportlab (STSong-Light CID font, no font file): the three 2021-template tables as fully ruled
grids with merged cells (the vertical 三、本年度办理结果 label, group labels spanning their items), in the
variants the real reports show:

- ``split``: the applications table runs over a page break, its header repeated on the next page or not;
- ``drawn``: the 主动公开 table ruled with thin *filled* rectangles under a scaled, translated matrix (as
  Word's PDF export and some CMS converters draw borders), amounts like ``62.336`` 万元;
- ``boxed``: prose paragraphs framed in ruled boxes (one- and two-column) that are not tables.
"""

from __future__ import annotations

import io
from typing import Any

from reportlab.platypus import Flowable

from crawler.demo.reports import APPLICANT_COLS, RESULT_ROWS, REVIEW_HEAD, ReportData, make_report, overview

FONT = "STSong-Light"
_WIDTH, _HEIGHT = 595.0, 842.0


def _register() -> None:
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.cidfonts import UnicodeCIDFont

    pdfmetrics.registerFont(UnicodeCIDFont(FONT))


def report(agency: str, year: int, seed: int, fees: float) -> ReportData:
    d = make_report(agency, year, seed)
    d.active["行政事业性收费"] = [fees]
    return d


def _num(v: float) -> str:
    return f"{v:g}" if isinstance(v, float) else str(v)


def active_rows(d: ReportData) -> list[list[str]]:
    a = d.active
    return [
        ["第二十条第（一）项", "", "", ""],
        ["信息内容", "本年制发件数", "本年废止件数", "现行有效件数"],
        ["规章", *map(_num, a["规章"])],
        ["行政规范性文件", *map(_num, a["行政规范性文件"])],
        ["第二十条第（五）项", "", "", ""],
        ["信息内容", "本年处理决定数量", "", ""],
        ["行政许可", _num(a["行政许可"][0]), "", ""],
        ["第二十条第（六）项", "", "", ""],
        ["信息内容", "本年处理决定数量", "", ""],
        ["行政处罚", _num(a["行政处罚"][0]), "", ""],
        ["行政强制", _num(a["行政强制"][0]), "", ""],
        ["第二十条第（八）项", "", "", ""],
        ["信息内容", "本年收费金额（单位：万元）", "", ""],
        ["行政事业性收费", _num(a["行政事业性收费"][0]), "", ""],
    ]


# (first row, last row) of the 主动公开 table's merged stretches: section headings over 4 columns,
# single-value rows over the last 3
def _active_spans() -> list[tuple[int, int, int, int]]:
    """(row, col0, col1) spans as (row, c0, c1, rows) over `active_rows`."""
    out = []
    for r in (0, 4, 7, 11):
        out.append((r, 0, 3, 1))
    for r in (5, 6, 8, 9, 10, 12, 13):
        out.append((r, 1, 3, 1))
    return out


def application_rows(d: ReportData) -> tuple[list[list[str]], list[tuple[int, int, int, int]]]:
    """The applications table (10 columns) and its spans as (row, col, rowspan, colspan)."""
    rows: list[list[str]] = [
        [
            "（本列数据的勾稽关系为：第一项加第二项之和，等于第三项加第四项之和）",
            "",
            "",
            "申请人情况",
            *[""] * 6,
        ],
        ["", "", "", *APPLICANT_COLS],
        ["一、本年新收政府信息公开申请数量", "", "", *map(str, d.new_received)],
        ["二、上年结转政府信息公开申请数量", "", "", *map(str, d.carried_over)],
    ]
    spans = [(0, 0, 2, 3), (0, 3, 1, 7), (2, 0, 1, 3), (3, 0, 1, 3)]
    first = len(rows)
    group_start: dict[str, int] = {}
    for (label, group), values in zip(RESULT_ROWS, d.results, strict=True):
        r = len(rows)
        if group is None:
            rows.append(["三、本年度办理结果", label, "", *map(str, values)])
            spans.append((r, 1, 1, 2))
        else:
            shown = group if group not in group_start else ""
            group_start.setdefault(group, r)
            rows.append(["三、本年度办理结果", shown, label, *map(str, values)])
    for group, start in group_start.items():
        n = sum(1 for _, g in RESULT_ROWS if g == group)
        spans.append((start, 1, n, 1))
    r = len(rows)
    rows.append(["三、本年度办理结果", "（七）总计", "", *map(str, d.total_handled)])
    spans.append((r, 1, 1, 2))
    spans.append((first, 0, len(rows) - first, 1))
    r = len(rows)
    rows.append(["四、结转下年度继续办理", "", "", *map(str, d.carried_forward)])
    spans.append((r, 0, 1, 3))
    for row in rows[first:]:  # the merged label is printed once, in its first cell
        row[0] = ""
    rows[first][0] = "三、本年度办理结果"
    return rows, spans


def review_rows(d: ReportData) -> tuple[list[list[str]], list[tuple[int, int, int, int]]]:
    rows = [
        ["行政复议", "", "", "", "", "行政诉讼", *[""] * 9],
        ["", "", "", "", "", "未经复议直接起诉", "", "", "", "", "复议后起诉", "", "", "", ""],
        [*REVIEW_HEAD, *REVIEW_HEAD, *REVIEW_HEAD],
        [*map(str, d.review + d.litigation_direct + d.litigation_after)],
    ]
    spans = [(0, 0, 2, 5), (0, 5, 1, 10), (1, 5, 1, 5), (1, 10, 1, 5)]
    return rows, spans


def _style(spans: list[tuple[int, int, int, int]], size: float) -> Any:
    from reportlab.platypus import TableStyle

    cmds: list[tuple[Any, ...]] = [
        ("FONT", (0, 0), (-1, -1), FONT, size),
        ("GRID", (0, 0), (-1, -1), 0.5, "black"),
        ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
        ("ALIGN", (0, 0), (-1, -1), "CENTER"),
        ("LEFTPADDING", (0, 0), (-1, -1), 2),
        ("RIGHTPADDING", (0, 0), (-1, -1), 2),
    ]
    for r, c, rs, cs in spans:
        cmds.append(("SPAN", (c, r), (c + cs - 1, r + rs - 1)))
    return TableStyle(cmds)


def _cells(rows: list[list[str]], width: float, size: float) -> list[list[Any]]:
    """Long labels as wrapping paragraphs (a label cell wraps inside its column, as in the reports)."""
    from reportlab.lib.styles import ParagraphStyle
    from reportlab.platypus import Paragraph

    style = ParagraphStyle("cell", fontName=FONT, fontSize=size, leading=size * 1.25, wordWrap="CJK")
    return [[Paragraph(t, style) if len(t) * size > width else t for t in row] for row in rows]


def _paragraph(text: str, size: float = 10.5) -> Any:
    from reportlab.lib.styles import ParagraphStyle
    from reportlab.platypus import Paragraph

    style = ParagraphStyle("body", fontName=FONT, fontSize=size, leading=size * 1.6, wordWrap="CJK")
    return Paragraph(text, style)


def _prose_box(rows: list[list[str]], widths: list[float]) -> Any:
    """Paragraphs framed by ruling lines: a box of prose, not a table."""
    from reportlab.platypus import Table, TableStyle

    cells = [[_paragraph(t) for t in row] for row in rows]
    t = Table(cells, colWidths=widths)
    t.setStyle(
        TableStyle([("BOX", (0, 0), (-1, -1), 0.75, "black"), ("INNERGRID", (0, 0), (-1, -1), 0.5, "black")])
    )
    return t


def build(
    d: ReportData, *, split: str | None = None, drawn_active: bool = False, boxed_prose: bool = False
) -> bytes:
    """The whole report. `split`: None (no page break inside a table), "repeat" (the applications table
    breaks after its 予以公开 rows and repeats its two header rows on the next page) or "bare" (breaks with
    no repeated header)."""
    from reportlab.platypus import CondPageBreak, PageBreak, SimpleDocTemplate, Spacer, Table

    _register()
    out = io.BytesIO()
    doc = SimpleDocTemplate(
        out,
        pagesize=(_WIDTH, _HEIGHT),
        leftMargin=40,
        rightMargin=40,
        topMargin=40,
        bottomMargin=40,
        title=d.title,
        invariant=1,
    )
    story: list[Any] = [_paragraph(d.title, 16), Spacer(1, 8)]
    if boxed_prose:
        story.append(_prose_box([["一、总体情况"], [overview(d)]], [515]))
        story.append(Spacer(1, 6))
        story.append(
            _prose_box(
                [
                    [
                        "（一）主动公开",
                        "本机关通过门户网站主动公开各类信息，及时更新机构职能、政策文件等栏目内容。",
                    ],
                    ["（二）依申请公开", "进一步规范依申请公开的受理、办理、答复流程，按时答复。"],
                    ["（三）平台建设", "优化政府网站栏目设置，提升平台的便民服务水平。"],
                ],
                [110, 405],
            )
        )
    else:
        story += [_paragraph("一、总体情况"), _paragraph(overview(d))]
    story.append(_paragraph("二、主动公开政府信息情况"))
    if drawn_active:
        story.append(_DrawnTable(active_rows(d), _active_spans()))
    else:
        rows = active_rows(d)
        spans = [(r, c0, rs, c1 - c0 + 1) for r, c0, c1, rs in _active_spans()]
        story.append(Table(rows, colWidths=[140, 125, 125, 125], style=_style(spans, 9)))
    story.append(PageBreak() if split else CondPageBreak(300))
    story.append(_paragraph("三、收到和处理政府信息公开申请情况"))
    rows, spans = application_rows(d)
    widths = [34, 60, 150, 38, 38, 38, 38, 38, 38, 38]
    table_style = _style(spans, 7.5)
    cells = _cells(rows, 140, 7.5)
    if split:
        cut = 6  # after 一、二 and (一) 予以公开, (二) 部分公开: a page break inside 三、本年度办理结果
        head = 2 if split == "repeat" else 0
        first = Table(cells[:cut], colWidths=widths, style=_style(_clip(spans, 0, cut), 7.5))
        rest_rows = cells[:head] + cells[cut:]
        rest_spans = _clip(spans, 0, head) + [
            (r - cut + head, c, rs, cs) for r, c, rs, cs in _clip(spans, cut, len(rows))
        ]
        rest_rows[head][0] = "三、本年度办理结果" if split == "repeat" else ""
        story += [first, PageBreak(), Table(rest_rows, colWidths=widths, style=_style(rest_spans, 7.5))]
    else:
        story.append(Table(cells, colWidths=widths, style=table_style))
    story.append(_paragraph("四、政府信息公开行政复议、行政诉讼情况"))
    rows, spans = review_rows(d)
    story.append(Table(rows, colWidths=[34.3] * 15, style=_style(spans, 6.5)))
    story += [
        _paragraph("五、存在的主要问题及改进情况"),
        _paragraph("政府信息公开的主动性还需增强，下一步将进一步完善制度。"),
        _paragraph("六、其他需要报告的事项"),
        _paragraph("本年度未收取信息处理费。"),
    ]
    doc.build(story)
    return out.getvalue()


def _clip(spans: list[tuple[int, int, int, int]], start: int, end: int) -> list[tuple[int, int, int, int]]:
    """Spans cut to rows [start, end) (a merged label split by the page break is a merge on each page)."""
    out = []
    for r, c, rs, cs in spans:
        lo, hi = max(r, start), min(r + rs, end)
        if lo < hi:
            out.append((lo - start if start else lo, c, hi - lo, cs))
    return out


class _DrawnTable(Flowable):  # type: ignore[misc]
    """The 主动公开 table drawn directly: borders as thin filled rectangles, the whole grid under a
    translate + scale matrix (coordinates in 1/10 pt), text centred in each cell."""

    COLS = (140.0, 125.0, 125.0, 125.0)
    ROW_H = 18.0

    def __init__(self, rows: list[list[str]], spans: list[tuple[int, int, int, int]]) -> None:
        super().__init__()
        self.rows = rows
        self.spans = {(r, c0): (c1, rs) for r, c0, c1, rs in spans}
        self.covered = {(r, c) for r, c0, c1, _ in spans for c in range(c0 + 1, c1 + 1)}
        self.width = sum(self.COLS)
        self.height = self.ROW_H * len(rows)

    def wrap(self, aw: float, ah: float) -> tuple[float, float]:
        return self.width, self.height

    def draw(self) -> None:
        c = self.canv
        c.saveState()
        c.translate(0, self.height)
        c.scale(0.1, -0.1)  # 1/10 pt units, y downwards
        xs = [0.0]
        for w in self.COLS:
            xs.append(xs[-1] + w * 10)
        h = self.ROW_H * 10
        t = 6.0  # 0.6 pt rulings as filled rectangles
        c.setFillColorRGB(0, 0, 0)
        c.rect(0, -t / 2, xs[-1], t, stroke=0, fill=1)
        for r, row in enumerate(self.rows):
            y = r * h
            c.rect(0, y + h - t / 2, xs[-1], t, stroke=0, fill=1)  # the line under the row
            col = 0
            while col < len(self.COLS):
                end, _ = self.spans.get((r, col), (col, 1))
                c.rect(xs[col] - t / 2, y, t, h, stroke=0, fill=1)  # the line left of the cell
                text = row[col]
                if text:
                    c.saveState()
                    c.translate((xs[col] + xs[end + 1]) / 2, y + h * 0.68)
                    c.scale(10, -10)
                    c.setFont(FONT, 8)
                    c.drawCentredString(0, 0, text)
                    c.restoreState()
                col = end + 1
            c.rect(xs[-1] - t / 2, y, t, h, stroke=0, fill=1)
        c.restoreState()
