"""Made-up but arithmetically consistent 2021-template annual reports (three tables) for fictional agencies.

`make_report(agency, year, seed)` gives the figures; `report_html`, `report_text`, `write_docx`,
`write_pdf`, `write_xlsx` render them. Labels follow the 国办公开办函〔2021〕30号 template (FORMAT.md).
"""

from __future__ import annotations

import io
import random
import zlib
from dataclasses import dataclass, field
from html import escape

APPLICANT_COLS = ["自然人", "商业企业", "科研机构", "社会公益组织", "法律服务机构", "其他", "总计"]
RESULT_ROWS = [
    ("（一）予以公开", None),
    ("（二）部分公开（区分处理的，只计这一情形，不计其他情形）", None),
    ("1.属于国家秘密", "（三）不予公开"),
    ("2.其他法律行政法规禁止公开", "（三）不予公开"),
    ("3.危及“三安全一稳定”", "（三）不予公开"),
    ("4.保护第三方合法权益", "（三）不予公开"),
    ("5.属于三类内部事务信息", "（三）不予公开"),
    ("6.属于四类过程性信息", "（三）不予公开"),
    ("7.属于行政执法案卷", "（三）不予公开"),
    ("8.属于行政查询事项", "（三）不予公开"),
    ("1.本机关不掌握相关政府信息", "（四）无法提供"),
    ("2.没有现成信息需要另行制作", "（四）无法提供"),
    ("3.补正后申请内容仍不明确", "（四）无法提供"),
    ("1.信访举报投诉类申请", "（五）不予处理"),
    ("2.重复申请", "（五）不予处理"),
    ("3.要求提供公开出版物", "（五）不予处理"),
    ("4.无正当理由大量反复申请", "（五）不予处理"),
    ("5.要求行政机关确认或重新出具已获取信息", "（五）不予处理"),
    ("1.申请人无正当理由逾期不补正、行政机关不再处理其政府信息公开申请", "（六）其他处理"),
    ("2.申请人逾期未按收费通知要求缴纳费用、行政机关不再处理其政府信息公开申请", "（六）其他处理"),
    ("3.其他", "（六）其他处理"),
]
REVIEW_HEAD = ["结果维持", "结果纠正", "其他结果", "尚未审结", "总计"]


@dataclass
class ReportData:
    agency: str
    year: int
    active: dict[str, list[float]] = field(default_factory=dict)
    new_received: list[int] = field(default_factory=list)
    carried_over: list[int] = field(default_factory=list)
    results: list[list[int]] = field(default_factory=list)  # one row per RESULT_ROWS, 7 columns
    total_handled: list[int] = field(default_factory=list)
    carried_forward: list[int] = field(default_factory=list)
    review: list[int] = field(default_factory=list)
    litigation_direct: list[int] = field(default_factory=list)
    litigation_after: list[int] = field(default_factory=list)

    @property
    def title(self) -> str:
        return f"{self.agency}{self.year}年政府信息公开工作年度报告"


def _with_total(values: list[int]) -> list[int]:
    return [*values, sum(values)]


def make_report(agency: str, year: int, seed: int) -> ReportData:
    rng = random.Random(seed)
    d = ReportData(agency, year)
    d.active = {
        "规章": [rng.randint(0, 2), 0, rng.randint(3, 12)],
        "行政规范性文件": [rng.randint(1, 9), rng.randint(0, 3), rng.randint(20, 80)],
        "行政许可": [rng.randint(50, 900)],
        "行政处罚": [rng.randint(5, 300)],
        "行政强制": [rng.randint(0, 20)],
        "行政事业性收费": [round(rng.uniform(1, 500), 2)],
    }
    new = [rng.randint(3, 60), rng.randint(0, 6), 0, rng.randint(0, 2), rng.randint(0, 2), rng.randint(0, 3)]
    carried = [rng.randint(0, 4), rng.randint(0, 1), 0, 0, 0, 0]
    results = [[0] * 6 for _ in RESULT_ROWS]
    forward = [0] * 6
    for c in range(6):
        pool = new[c] + carried[c]
        forward[c] = rng.randint(0, min(2, pool))
        pool -= forward[c]
        for r in (0, 1, 3, 10, 14, 20):
            take = pool if r == 20 else rng.randint(0, pool)
            if r == 0:
                take = max(take, pool // 2)
            results[r][c] += take
            pool -= take
    d.new_received, d.carried_over = _with_total(new), _with_total(carried)
    d.results = [_with_total(row) for row in results]
    d.carried_forward = _with_total(forward)
    d.total_handled = [sum(row[c] for row in d.results) for c in range(7)]

    def review_row() -> list[int]:
        row = [rng.randint(0, 3), rng.randint(0, 1), rng.randint(0, 1), rng.randint(0, 1)]
        return _with_total(row)

    d.review, d.litigation_direct, d.litigation_after = review_row(), review_row(), review_row()
    return d


def overview(d: ReportData) -> str:
    return (
        f"{d.year}年，{d.agency}认真贯彻落实《中华人民共和国政府信息公开条例》，坚持以公开为常态、不公开为例外，"
        f"全年主动公开政府信息{d.active['行政许可'][0] + d.active['行政处罚'][0]}条，"
        f"收到政府信息公开申请{d.new_received[6]}件，办理完毕{d.total_handled[6]}件。现将本年度政府信息公开工作情况报告如下。"
    )


def _num(v: float) -> str:
    return f"{v:g}" if isinstance(v, float) else str(v)


def report_html(
    d: ReportData,
    *,
    wrapper_class: str = "TRS_Editor",
    meta_charset: str | None = "utf-8",
    chrome: str = "",
    note: str = "",
) -> str:
    a = d.active
    t2 = (
        "<table border='1'><tr><td colspan='4'>第二十条第（一）项</td></tr>"
        "<tr><td>信息内容</td><td>本年制发件数</td><td>本年废止件数</td><td>现行有效件数</td></tr>"
        + "".join(
            f"<tr><td>{k}</td>" + "".join(f"<td>{_num(v)}</td>" for v in a[k]) + "</tr>"
            for k in ("规章", "行政规范性文件")
        )
        + "<tr><td colspan='4'>第二十条第（五）项</td></tr><tr><td>信息内容</td><td colspan='3'>本年处理决定数量</td></tr>"
        f"<tr><td>行政许可</td><td colspan='3'>{a['行政许可'][0]}</td></tr>"
        "<tr><td colspan='4'>第二十条第（六）项</td></tr><tr><td>信息内容</td><td colspan='3'>本年处理决定数量</td></tr>"
        f"<tr><td>行政处罚</td><td colspan='3'>{a['行政处罚'][0]}</td></tr>"
        f"<tr><td>行政强制</td><td colspan='3'>{a['行政强制'][0]}</td></tr>"
        "<tr><td colspan='4'>第二十条第（八）项</td></tr><tr><td>信息内容</td><td colspan='3'>本年收费金额（单位：万元）</td></tr>"
        f"<tr><td>行政事业性收费</td><td colspan='3'>{_num(a['行政事业性收费'][0])}</td></tr></table>"
    )

    def cells(values: list[int]) -> str:
        return "".join(f"<td>{v}</td>" for v in values)

    rows = [
        "<tr><td colspan='3' rowspan='3'>（本列数据的勾稽关系为：第一项加第二项之和，等于第三项加第四项之和）</td>"
        "<td colspan='7'>申请人情况</td></tr>",
        "<tr><td rowspan='2'>自然人</td><td colspan='5'>法人或其他组织</td><td rowspan='2'>总计</td></tr>",
        "<tr><td>商业企业</td><td>科研机构</td><td>社会公益组织</td><td>法律服务机构</td><td>其他</td></tr>",
        f"<tr><td colspan='3'>一、本年新收政府信息公开申请数量</td>{cells(d.new_received)}</tr>",
        f"<tr><td colspan='3'>二、上年结转政府信息公开申请数量</td>{cells(d.carried_over)}</tr>",
    ]
    first = True
    previous_group = None
    group_sizes = {g: sum(1 for _, gg in RESULT_ROWS if gg == g) for _, g in RESULT_ROWS if g}
    for (label, group), values in zip(RESULT_ROWS, d.results, strict=True):
        head = "<td rowspan='22'>三、本年度办理结果</td>" if first else ""
        first = False
        if group is None:
            rows.append(f"<tr>{head}<td colspan='2'>{label}</td>{cells(values)}</tr>")
        else:
            gcell = f"<td rowspan='{group_sizes[group]}'>{group}</td>" if group != previous_group else ""
            rows.append(f"<tr>{head}{gcell}<td>{label}</td>{cells(values)}</tr>")
        previous_group = group
    rows.append(f"<tr><td colspan='2'>（七）总计</td>{cells(d.total_handled)}</tr>")
    rows.append(f"<tr><td colspan='3'>四、结转下年度继续办理</td>{cells(d.carried_forward)}</tr>")
    t3 = "<table border='1'>" + "".join(rows) + "</table>"
    t4 = (
        "<table border='1'><tr><td colspan='5'>行政复议</td><td colspan='5'>行政诉讼</td></tr>"
        "<tr>"
        + "".join(f"<td rowspan='2'>{h}</td>" for h in REVIEW_HEAD)
        + "<td colspan='5'>未经复议直接起诉</td><td colspan='5'>复议后起诉</td></tr>"
        "<tr>" + "".join(f"<td>{h}</td>" for h in REVIEW_HEAD * 2) + "</tr>"
        f"<tr>{cells(d.review)}{cells(d.litigation_direct)}{cells(d.litigation_after)}</tr></table>"
    )
    meta = f'<meta charset="{meta_charset}">' if meta_charset else ""
    return (
        f"<!DOCTYPE html><html><head>{meta}<title>{escape(d.title)}</title></head><body>{chrome}"
        f"<h1>{escape(d.title)}</h1><div class='{wrapper_class}' id='zoom'>"
        "<table class='meta'><tr><td>索引号：</td><td>"
        + f"{zlib.crc32(d.title.encode()) % 10**8:08d}/{d.year + 1}-00001</td>"
        f"<td>发布机构：</td><td>{escape(d.agency)}</td><td>分类：</td><td>政府信息公开年报</td>"
        f"<td>发文日期：</td><td>{d.year + 1}-03-28</td></tr></table>"
        f"{note}<p>{escape(overview(d))}</p><h2>一、总体情况</h2><p>{escape(overview(d))}</p>"
        f"<h2>二、主动公开政府信息情况</h2>{t2}<h2>三、收到和处理政府信息公开申请情况</h2>{t3}"
        f"<h2>四、政府信息公开行政复议、行政诉讼情况</h2>{t4}"
        "<h2>五、存在的主要问题及改进情况</h2><p>政府信息公开的主动性还需增强，下一步将进一步完善制度。</p>"
        "<h2>六、其他需要报告的事项</h2><p>本年度未收取信息处理费。</p></div></body></html>"
    )


def report_lines(d: ReportData) -> list[str]:
    """The report as text lines, tables tab-separated one row per line (like the seeds)."""
    a = d.active
    lines = [
        d.title,
        "",
        "一、总体情况",
        overview(d),
        "",
        "二、主动公开政府信息情况",
        "第二十条第（一）项",
        "信息内容\t本年制发件数\t本年废止件数\t现行有效件数",
    ]
    lines += [f"{k}\t" + "\t".join(_num(v) for v in a[k]) for k in ("规章", "行政规范性文件")]
    lines += [
        "第二十条第（五）项",
        "信息内容\t本年处理决定数量",
        f"行政许可\t{a['行政许可'][0]}",
        "第二十条第（六）项",
        "信息内容\t本年处理决定数量",
        f"行政处罚\t{a['行政处罚'][0]}",
        f"行政强制\t{a['行政强制'][0]}",
        "第二十条第（八）项",
        "信息内容\t本年收费金额（单位：万元）",
        f"行政事业性收费\t{_num(a['行政事业性收费'][0])}",
        "",
        "三、收到和处理政府信息公开申请情况",
        "\t\t申请人情况",
        "\t\t" + "\t".join(APPLICANT_COLS),
    ]
    lines.append("一、本年新收政府信息公开申请数量\t" + "\t".join(map(str, d.new_received)))
    lines.append("二、上年结转政府信息公开申请数量\t" + "\t".join(map(str, d.carried_over)))
    for (label, group), values in zip(RESULT_ROWS, d.results, strict=True):
        lines.append(f"三、本年度办理结果\t{group or ''}\t{label}\t" + "\t".join(map(str, values)))
    lines.append("（七）总计\t" + "\t".join(map(str, d.total_handled)))
    lines.append("四、结转下年度继续办理\t" + "\t".join(map(str, d.carried_forward)))
    lines += [
        "",
        "四、政府信息公开行政复议、行政诉讼情况",
        "行政复议\t\t\t\t\t行政诉讼",
        "\t".join(REVIEW_HEAD) + "\t未经复议直接起诉\t\t\t\t\t复议后起诉",
        "\t".join(map(str, d.review + d.litigation_direct + d.litigation_after)),
        "",
        "五、存在的主要问题及改进情况",
        "政府信息公开的主动性还需增强。",
        "",
        "六、其他需要报告的事项",
        "无。",
    ]
    return lines


def write_docx(d: ReportData) -> bytes:
    import docx

    doc = docx.Document()
    doc.add_heading(d.title, level=1)
    table_rows: list[list[str]] = []
    for line in report_lines(d)[1:]:
        if "\t" in line:
            table_rows.append(line.split("\t"))
            continue
        if table_rows:
            _docx_table(doc, table_rows)
            table_rows = []
        if line:
            doc.add_paragraph(line)
    if table_rows:
        _docx_table(doc, table_rows)
    out = io.BytesIO()
    doc.save(out)
    return out.getvalue()


def _docx_table(doc: object, rows: list[list[str]]) -> None:
    width = max(len(r) for r in rows)
    table = doc.add_table(rows=len(rows), cols=width)  # type: ignore[attr-defined]
    for i, row in enumerate(rows):
        for j, value in enumerate(row):
            table.cell(i, j).text = value


def write_xlsx(d: ReportData) -> bytes:
    import openpyxl

    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "收到和处理申请情况"
    for line in report_lines(d):
        ws.append(line.split("\t"))
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def write_pdf(d: ReportData) -> bytes:
    """A text PDF (reportlab's built-in STSong-Light CID font: no font file needed)."""
    from reportlab.lib.pagesizes import A4
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.cidfonts import UnicodeCIDFont
    from reportlab.pdfgen import canvas

    pdfmetrics.registerFont(UnicodeCIDFont("STSong-Light"))
    out = io.BytesIO()
    c = canvas.Canvas(out, pagesize=A4, invariant=1)
    c.setTitle(d.title)
    y = 800
    for line in report_lines(d):
        cells = line.split("\t")
        x: float = 40
        for cell in cells:
            c.setFont("STSong-Light", 8 if len(cells) > 1 else 10)
            c.drawString(x, y, cell[:40])
            x += 520 / max(len(cells), 1) if len(cells) > 1 else 0
        y -= 14
        if y < 40:
            c.showPage()
            y = 800
    c.save()
    return out.getvalue()
