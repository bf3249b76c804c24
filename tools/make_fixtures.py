"""Make the format fixtures: fictional reports as data, rendered into every format a portal publishes.

    python tools/make_fixtures.py [--out tests/fixtures/formats]

Each report (made-up agencies 示例市某某局 …, both templates, figures that do and do not add up) becomes:
HTML as portals lay it out (layout table around the article, rowspan/colspan, inline styles, Word-export
debris; one page in GBK declaring utf-8, one in GB18030 declaring nothing), DOCX (python-docx, merged cells),
PDF / DOC / WPS (LibreOffice from the DOCX; LibreOffice has no Kingsoft WPS export filter: `--convert-to wps`
writes a Word 97 binary, which is also what most real .wps files are inside), XLSX (openpyxl, merged cells)
and XLS (LibreOffice), a scanned PDF (pages rendered by pdftoppm, noise added, re-wrapped as JPEG-in-PDF by
Pillow) and a JPG of the page holding table 3. `<id>.expected.json` holds the figures every format must give.
Needs: LibreOffice (soffice), poppler-utils (pdftoppm), fonts-noto-cjk.
"""

from __future__ import annotations

import argparse
import html
import io
import json
import random
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from pipelines.codes import APPLICANT_CODES  # noqa: E402

APPLICANT_LABELS = ("自然人", "商业企业", "科研机构", "社会公益组织", "法律服务机构", "其他")
APP_COLS = (*APPLICANT_CODES, "total")
REVIEW_COLS = ("upheld", "corrected", "other_result", "pending", "total")

# the rows of table 3: (code, level-1 label, level-2 label, level-3 label)
ROWS_2021 = [
    ("granted", "（一）予以公开", None),
    ("partly_granted", "（二）部分公开（区分处理的，只计这一情形，不计其他情形）", None),
    ("denied_state_secret", "（三）不予公开", "1.属于国家秘密"),
    ("denied_prohibited_by_law", "（三）不予公开", "2.其他法律行政法规禁止公开"),
    ("denied_three_safety_one_stability", "（三）不予公开", "3.危及“三安全一稳定”"),
    ("denied_third_party", "（三）不予公开", "4.保护第三方合法权益"),
    ("denied_internal_affairs", "（三）不予公开", "5.属于三类内部事务信息"),
    ("denied_process_info", "（三）不予公开", "6.属于四类过程性信息"),
    ("denied_enforcement_file", "（三）不予公开", "7.属于行政执法案卷"),
    ("denied_inquiry_matter", "（三）不予公开", "8.属于行政查询事项"),
    ("unable_not_held", "（四）无法提供", "1.本机关不掌握相关政府信息"),
    ("unable_needs_creation", "（四）无法提供", "2.没有现成信息需要另行制作"),
    ("unable_unclear_after_correction", "（四）无法提供", "3.补正后申请内容仍不明确"),
    ("rejected_petition_complaint", "（五）不予处理", "1.信访举报投诉类申请"),
    ("rejected_duplicate", "（五）不予处理", "2.重复申请"),
    ("rejected_publication", "（五）不予处理", "3.要求提供公开出版物"),
    ("rejected_mass_repeated", "（五）不予处理", "4.无正当理由大量反复申请"),
    ("rejected_confirm_or_reissue", "（五）不予处理", "5.要求行政机关确认或重新出具已获取信息"),
    (
        "other_no_correction",
        "（六）其他处理",
        "1.申请人无正当理由逾期不补正、行政机关不再处理其政府信息公开申请",
    ),
    (
        "other_unpaid_fee",
        "（六）其他处理",
        "2.申请人逾期未按收费通知要求缴纳费用、行政机关不再处理其政府信息公开申请",
    ),
    ("other_other", "（六）其他处理", "3.其他"),
    ("total_handled", "（七）总计", None),
]
ROWS_2019 = [r for r in ROWS_2021 if not r[0].startswith("other_")]
ROWS_2019.insert(-1, ("other", "（六）其他处理", None))


def _row_values(rng: random.Random, total_new: int) -> dict[str, list[int]]:
    return {}


# Cell values drawn for table 3: (自然人, the other applicant columns). `big`: a busy agency — four-digit
# figures beside many zeros (the scan hold-out, tests/fixtures/scan).
_DRAWS = {
    False: ([0, 0, 0, 1, 2, 3, 5, 8, 12, 27], [0, 0, 0, 0, 1, 2]),
    True: ([0, 0, 0, 0, 0, 0, 1, 19, 118, 406, 1043, 2387], [0, 0, 0, 0, 0, 0, 0, 7, 31, 160]),
}


def make_report(
    rid: str, agency: str, year: int, template: str, seed: int, balanced: bool, big: bool = False
) -> dict:
    """A fictional report whose table 3 adds up (or, when not `balanced`, whose balance is broken)."""
    rng = random.Random(seed)
    rows = ROWS_2021 if template == "2021" else ROWS_2019
    result_codes = [r[0] for r in rows if r[0] != "total_handled"]
    app: dict[str, list[int]] = {}
    first, others = _DRAWS[big]
    for code in result_codes:
        vals = [rng.choice(first) if i == 0 else rng.choice(others) for i in range(6)]
        app[code] = vals
    handled = [sum(app[c][i] for c in result_codes) for i in range(6)]
    carried_over = [rng.choice([0, 1, 2, 3]) if i == 0 else 0 for i in range(6)]
    carried_forward = [rng.choice([0, 1, 2]) if i == 0 else 0 for i in range(6)]
    new = [handled[i] + carried_forward[i] - carried_over[i] for i in range(6)]
    new = [max(v, 0) for v in new]
    carried_over = [handled[i] + carried_forward[i] - new[i] for i in range(6)]
    app["new_received"], app["carried_over"] = new, carried_over
    app["total_handled"], app["carried_forward"] = handled, carried_forward
    if not balanced:
        app["carried_forward"] = [
            v + (3 if i == 0 else 0) for i, v in enumerate(carried_forward)
        ]  # 结转 counted twice
    table3 = {code: [*vals, sum(vals)] for code, vals in app.items()}
    review = {}
    for code in ("review", "litigation_direct", "litigation_after_review"):
        vals = [rng.choice([0, 0, 1, 2, 4] + ([17, 38, 0, 0] if big else [])) for _ in range(4)]
        review[code] = [*vals, sum(vals)]
    if template == "2021":
        active = {
            "regulations": {"issued": 0, "repealed": 0, "in_force": 0},
            "normative_documents": {
                "issued": rng.randint(1, 9),
                "repealed": rng.randint(0, 4),
                "in_force": rng.randint(10, 40),
            },
            "licensing": {"decisions": rng.randint(100, 9000) * (37 if big else 1)},
            "penalty": {"decisions": rng.randint(10, 900)},
            "coercion": {"decisions": rng.randint(0, 50)},
            "fees": {"amount_10k_yuan": round(rng.uniform(1, 900), 2)},
        }
    else:
        active = {
            "regulations": {"new_made": 0, "new_published": 0, "total_published": 0},
            "normative_documents": {
                "new_made": 3,
                "new_published": 3,
                "total_published": rng.randint(10, 40),
            },
            "licensing": {
                "items_last_year": rng.randint(20, 90),
                "items_change": 2,
                "decisions": rng.randint(100, 900),
            },
            "other_services": {"items_last_year": 4, "items_change": 0, "decisions": rng.randint(0, 30)},
            "penalty": {
                "items_last_year": rng.randint(100, 300),
                "items_change": -3,
                "decisions": rng.randint(10, 90),
            },
            "coercion": {"items_last_year": 12, "items_change": 0, "decisions": rng.randint(0, 9)},
            "fees": {"items_last_year": 2, "items_change": 0},
            "procurement": {"projects": rng.randint(1, 20), "amount": rng.randint(10, 500)},
        }
    return {
        "id": rid,
        "agency": agency,
        "year": year,
        "template": template,
        "balanced": balanced,
        "applications": table3,
        "review_litigation": review,
        "active": active,
        "rows": [list(r) for r in rows],
    }


REPORTS = [
    make_report("r2021_ok", "示例市某某局", 2024, "2021", 7, True),
    make_report("r2019_ok", "示例县某某委员会", 2020, "2019", 11, True),
    make_report("r2021_bad", "示例区某某办公室", 2023, "2021", 23, False),
]
# Never tuned on: the scan benchmark reports its accuracy apart (bench/bench_scan.py --holdout).
HOLDOUT = [
    make_report("h2022_big", "示例州某某厅", 2022, "2021", 41, True, big=True),
    make_report("h2019_town", "示例镇人民政府", 2019, "2019", 53, True),
    # added after the two above had been looked at (their misreads led to the faint-dash and 元-unit rules)
    make_report("h2023_fresh", "示例市某某管理委员会", 2023, "2021", 67, True, big=True),
]


# ------------------------------------------------------------------ the document as a list of blocks
# a table spec is a list of rows; a row is a list of (text, rowspan, colspan)


def _fmt(v) -> str:
    if isinstance(v, float):
        return f"{v:.2f}".rstrip("0").rstrip(".") if v != int(v) else str(int(v))
    return str(v)


def table2_spec(rep: dict) -> list[list[tuple[str, int, int]]]:
    a = rep["active"]
    if rep["template"] == "2021":
        return [
            [("第二十条第（一）项", 1, 4)],
            [("信息内容", 1, 1), ("本年制发件数", 1, 1), ("本年废止件数", 1, 1), ("现行有效件数", 1, 1)],
            [
                ("规章", 1, 1),
                *[(_fmt(a["regulations"][k]), 1, 1) for k in ("issued", "repealed", "in_force")],
            ],
            [
                ("行政规范性文件", 1, 1),
                *[(_fmt(a["normative_documents"][k]), 1, 1) for k in ("issued", "repealed", "in_force")],
            ],
            [("第二十条第（五）项", 1, 4)],
            [("信息内容", 1, 1), ("本年处理决定数量", 1, 3)],
            [("行政许可", 1, 1), (_fmt(a["licensing"]["decisions"]), 1, 3)],
            [("第二十条第（六）项", 1, 4)],
            [("信息内容", 1, 1), ("本年处理决定数量", 1, 3)],
            [("行政处罚", 1, 1), (_fmt(a["penalty"]["decisions"]), 1, 3)],
            [("行政强制", 1, 1), (_fmt(a["coercion"]["decisions"]), 1, 3)],
            [("第二十条第（八）项", 1, 4)],
            [("信息内容", 1, 1), ("本年收费金额（单位：万元）", 1, 3)],
            [("行政事业性收费", 1, 1), (_fmt(a["fees"]["amount_10k_yuan"]), 1, 3)],
        ]

    def r3(label, code, keys):
        return [(label, 1, 1), *[(_fmt(a[code][k]), 1, 1) for k in keys]]

    k1 = ("new_made", "new_published", "total_published")
    k5 = ("items_last_year", "items_change", "decisions")
    return [
        [("第二十条第（一）项", 1, 4)],
        [("信息内容", 1, 1), ("本年新制作数量", 1, 1), ("本年新公开数量", 1, 1), ("对外公开总数量", 1, 1)],
        r3("规章", "regulations", k1),
        r3("规范性文件", "normative_documents", k1),
        [("第二十条第（五）项", 1, 4)],
        [("信息内容", 1, 1), ("上一年项目数量", 1, 1), ("本年增/减", 1, 1), ("处理决定数量", 1, 1)],
        r3("行政许可", "licensing", k5),
        r3("其他对外管理服务事项", "other_services", k5),
        [("第二十条第（六）项", 1, 4)],
        [("信息内容", 1, 1), ("上一年项目数量", 1, 1), ("本年增/减", 1, 1), ("处理决定数量", 1, 1)],
        r3("行政处罚", "penalty", k5),
        r3("行政强制", "coercion", k5),
        [("第二十条第（八）项", 1, 4)],
        [("信息内容", 1, 1), ("上一年项目数量", 1, 1), ("本年增/减", 1, 2)],
        [
            ("行政事业性收费", 1, 1),
            (_fmt(a["fees"]["items_last_year"]), 1, 1),
            (_fmt(a["fees"]["items_change"]), 1, 2),
        ],
        [("第二十条第（九）项", 1, 4)],
        [("信息内容", 1, 1), ("采购项目数量", 1, 1), ("采购总金额", 1, 2)],
        [
            ("政府集中采购", 1, 1),
            (_fmt(a["procurement"]["projects"]), 1, 1),
            (_fmt(a["procurement"]["amount"]) + "万元", 1, 2),
        ],
    ]


def table3_spec(rep: dict) -> list[list[tuple[str, int, int]]]:
    t = rep["applications"]
    rows = rep["rows"]
    vals = lambda code: [(_fmt(v), 1, 1) for v in t[code]]  # noqa: E731
    spec = [
        [
            ("（本列数据的勾稽关系为：第一项加第二项之和，等于第三项加第四项之和）", 3, 3),
            ("申请人情况", 1, 7),
        ],
        [("自然人", 2, 1), ("法人或其他组织", 1, 5), ("总计", 2, 1)],
        [(lab, 1, 1) for lab in APPLICANT_LABELS[1:]],
        [("一、本年新收政府信息公开申请数量", 1, 3), *vals("new_received")],
        [("二、上年结转政府信息公开申请数量", 1, 3), *vals("carried_over")],
    ]
    group_sizes: dict[str, int] = {}
    for _code, l1, l2 in rows:
        if l2:
            group_sizes[l1] = group_sizes.get(l1, 0) + 1
    seen: set[str] = set()
    for i, (code, l1, l2) in enumerate(rows):
        row = []
        if i == 0:
            row.append(("三、本年度办理结果", len(rows), 1))
        if l2 is None:
            row.append((l1, 1, 2))
        else:
            if l1 not in seen:
                row.append((l1, group_sizes[l1], 1))
                seen.add(l1)
            row.append((l2, 1, 1))
        row.extend(vals(code))
        spec.append(row)
    spec.append([("四、结转下年度继续办理", 1, 3), *vals("carried_forward")])
    return spec


def table4_spec(rep: dict) -> list[list[tuple[str, int, int]]]:
    rv = rep["review_litigation"]
    five = ["结果维持", "结果纠正", "其他结果", "尚未审结", "总计"]
    return [
        [("行政复议", 1, 5), ("行政诉讼", 1, 10)],
        [*[(x, 2, 1) for x in five], ("未经复议直接起诉", 1, 5), ("复议后起诉", 1, 5)],
        [(x, 1, 1) for x in five * 2],
        [
            (_fmt(v), 1, 1)
            for code in ("review", "litigation_direct", "litigation_after_review")
            for v in rv[code]
        ],
    ]


def positions(spec):
    """(r, c, rowspan, colspan, text) of each spec cell, HTML placement rules."""
    occ: set[tuple[int, int]] = set()
    out = []
    for r, row in enumerate(spec):
        c = 0
        for text, rs, cs in row:
            while (r, c) in occ:
                c += 1
            out.append((r, c, rs, cs, text))
            for dr in range(rs):
                for dc in range(cs):
                    occ.add((r + dr, c + dc))
            c += cs
    width = max(c + cs for (_, c, _, cs, _) in out)
    return out, width


def blocks(rep: dict) -> list:
    """The report in reading order: ("title", s) / ("h", s) / ("p", s) / ("table", key, spec)."""
    y, ag = rep["year"], rep["agency"]
    new_total = rep["applications"]["new_received"][-1]
    return [
        ("title", f"{ag}{y}年政府信息公开工作年度报告"),
        (
            "p",
            f"本报告由{ag}根据《中华人民共和国政府信息公开条例》（以下简称《条例》）和有关规定编制。"
            f"报告中所列数据的统计期限自{y}年1月1日起至{y}年12月31日止。",
        ),
        ("h", "一、总体情况"),
        (
            "p",
            f"{y}年，{ag}认真贯彻落实《条例》，全年共收到政府信息公开申请{new_total}件，均在法定期限内答复。",
        ),
        ("h", "二、主动公开政府信息情况"),
        ("table", "active", table2_spec(rep)),
        ("h", "三、收到和处理政府信息公开申请情况"),
        ("table", "applications", table3_spec(rep)),
        ("h", "四、政府信息公开行政复议、行政诉讼情况"),
        ("table", "review_litigation", table4_spec(rep)),
        ("h", "五、存在的主要问题及改进情况"),
        ("p", "政府信息公开的深度和广度有待提升。下一步，我局将加强培训，规范依申请公开办理流程。"),
        ("h", "六、其他需要报告的事项"),
        ("p", f"本年度未收取信息处理费。{ag}联系电话：0000-12345678。"),
    ]


def expected(rep: dict) -> dict:
    figs = []
    for code, vals in rep["applications"].items():
        for col, v in zip(APP_COLS, vals, strict=True):
            figs.append({"table": "applications", "row": code, "column": col, "value": v})
    for code, vals in rep["review_litigation"].items():
        for col, v in zip(REVIEW_COLS, vals, strict=True):
            figs.append({"table": "review_litigation", "row": code, "column": col, "value": v})
    for code, cols in rep["active"].items():
        for col, v in cols.items():
            figs.append({"table": "active", "row": code, "column": col, "value": v})
    return {
        "id": rep["id"],
        "agency": rep["agency"],
        "year": rep["year"],
        "template": rep["template"],
        "balanced": rep["balanced"],
        "figures": figs,
    }


# ------------------------------------------------------------------ renderers


def to_html(rep: dict, rng: random.Random) -> str:
    def cell_html(text: str, tag="td") -> str:
        t = html.escape(text)
        if text.isdigit() and len(text) > 1 and rng.random() < 0.5:
            # Word splits a number into runs: <span>2</span><span>7</span>, sometimes across source lines
            mid = len(text) // 2
            t = (
                f'<span style="font-family:仿宋_GB2312;font-size:12pt">{text[:mid]}</span>\n'
                f'<span style="font-family:仿宋_GB2312;font-size:12pt">{text[mid:]}</span>'
            )
        elif len(text) in (4, 5) and not text.isdigit() and rng.random() < 0.5:
            t = html.escape(text[:2]) + "<br>" + html.escape(text[2:])
        return (
            f'<p class="MsoNormal" align="center" style="text-align:center"><span lang="EN-US">{t}</span></p>'
        )

    out = []
    for b in blocks(rep):
        if b[0] == "title":
            out.append(
                f'<p class="MsoNormal" align="center" style="text-align:center;font-size:22pt"><b>{html.escape(b[1])}</b></p>'
            )
        elif b[0] == "h":
            out.append(
                f'<p class="MsoNormal" style="text-indent:32pt"><b><span style="font-family:黑体">{html.escape(b[1])}</span></b></p>'
            )
        elif b[0] == "p":
            out.append(
                f'<p class="MsoNormal" style="text-indent:32pt"><span style="font-family:仿宋_GB2312">{html.escape(b[1])}</span></p>'
            )
        else:
            cells, _w = positions(b[2])
            rows: dict[int, list[str]] = {}
            for r, _c, rs, cs, text in cells:
                attrs = (f' rowspan="{rs}"' if rs > 1 else "") + (f' colspan="{cs}"' if cs > 1 else "")
                inner = cell_html(text) if text else "&nbsp;"
                rows.setdefault(r, []).append(
                    f'<td{attrs} style="border:solid windowtext 1.0pt;padding:0cm 5.4pt" valign="center">{inner}</td>'
                )
            trs = "\n".join(f'<tr style="height:20pt">{"".join(v)}</tr>' for _, v in sorted(rows.items()))
            out.append(
                f'<div align="center"><table class="MsoNormalTable" border="1" cellspacing="0" cellpadding="0" '
                f'style="border-collapse:collapse;border:none" width="600"><tbody>\n{trs}\n</tbody></table></div>'
            )
    title = blocks(rep)[0][1]
    pub = f"{rep['year'] + 1}-01-20"
    nav = "".join(
        f'<td><a href="/col/{i}/index.html">{n}</a></td>'
        for i, n in enumerate(["首页", "政务公开", "政务服务", "互动交流"])
    )
    return f"""<!DOCTYPE html>
<html><head><meta http-equiv="Content-Type" content="text/html; charset=CHARSET">
<title>{html.escape(title)}_示例市人民政府</title>
<meta name="ArticleTitle" content="{html.escape(title)}">
<meta name="PubDate" content="{pub} 09:30">
<meta name="ContentSource" content="{html.escape(rep["agency"])}">
<style>.nav td{{padding:4px}} .xxgk td{{font-size:12px}}</style>
<script>var _hmt = _hmt || []; document.write("<table><tr><td>x</td></tr></table>");</script>
</head><body>
<table class="nav" width="100%"><tr>{nav}</tr></table>
<table width="1000" align="center" border="0" cellspacing="0" cellpadding="0"><tr>
<td width="200" valign="top"><div class="sidebar"><ul><li><a href="/gknb/">政府信息公开年报</a></li><li><a href="/zn/">政府信息公开指南</a></li></ul></div></td>
<td width="800" valign="top">
<table class="xxgk" width="100%" border="1"><tr><td>索引号：</td><td>000000000/{rep["year"] + 1}-00001</td><td>发布机构：</td><td>{html.escape(rep["agency"])}</td></tr>
<tr><td>发文日期：</td><td>{pub}</td><td>分类：</td><td>政府信息公开年报</td></tr></table>
<div class="article"><h1 class="title">{html.escape(title)}</h1>
<div class="info">发布时间：{pub}&nbsp;&nbsp;来源：{html.escape(rep["agency"])}&nbsp;&nbsp;浏览次数：<span id="hits">123</span></div>
<div class="TRS_Editor" id="zoom">
{chr(10).join(out)}
</div></div>
</td></tr></table>
<div class="footer">主办：示例市人民政府办公室&nbsp;&nbsp;网站标识码：0000000000&nbsp;&nbsp;备案号：示ICP备00000000号</div>
</body></html>
"""


def to_docx(rep: dict) -> bytes:
    import docx
    from docx.oxml.ns import qn
    from docx.shared import Pt

    d = docx.Document()
    style = d.styles["Normal"]
    style.font.size = Pt(10.5)
    style.font.name = "Noto Serif CJK SC"
    style.element.rPr.rFonts.set(qn("w:eastAsia"), "Noto Serif CJK SC")
    d.core_properties.title = blocks(rep)[0][1]
    for b in blocks(rep):
        if b[0] == "title":
            p = d.add_paragraph()
            p.add_run(b[1]).bold = True
        elif b[0] in ("h", "p"):
            p = d.add_paragraph(b[1])
        else:
            cells, width = positions(b[2])
            nrows = max(r + rs for r, _c, rs, _cs, _t in cells)
            t = d.add_table(rows=nrows, cols=width)
            t.style = "Table Grid"
            for r, c, rs, cs, text in cells:
                cell = t.cell(r, c)
                if rs > 1 or cs > 1:
                    cell = cell.merge(t.cell(r + rs - 1, c + cs - 1))
                cell.text = text
                for para in cell.paragraphs:
                    for run in para.runs:
                        run.font.size = Pt(8 if width > 10 else 9)
    buf = io.BytesIO()
    d.save(buf)
    return buf.getvalue()


def to_xlsx(rep: dict) -> bytes:
    import openpyxl
    from openpyxl.styles import Alignment, Border, Side

    wb = openpyxl.Workbook()
    wb.remove(wb.active)
    thin = Side(style="thin")
    names = {"active": "主动公开", "applications": "收到和处理申请", "review_litigation": "行政复议行政诉讼"}
    heads = {
        "active": "二、主动公开政府信息情况",
        "applications": "三、收到和处理政府信息公开申请情况",
        "review_litigation": "四、政府信息公开行政复议、行政诉讼情况",
    }
    for b in blocks(rep):
        if b[0] != "table":
            continue
        ws = wb.create_sheet(names[b[1]])
        ws.cell(1, 1, heads[b[1]])
        cells, _w = positions(b[2])
        for r, c, rs, cs, text in cells:
            v: object = text
            if text.replace(".", "", 1).lstrip("-").isdigit():
                v = float(text) if "." in text else int(text)
            cell = ws.cell(r + 2, c + 1, v)
            cell.alignment = Alignment(wrap_text=True, vertical="center")
            cell.border = Border(left=thin, right=thin, top=thin, bottom=thin)
            if rs > 1 or cs > 1:
                ws.merge_cells(start_row=r + 2, start_column=c + 1, end_row=r + rs + 1, end_column=c + cs)
    wb.properties.title = blocks(rep)[0][1]
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def soffice(src: Path, target: str, outdir: Path) -> Path:
    with tempfile.TemporaryDirectory(prefix="nianbao-fixture-profile-") as prof:
        subprocess.run(
            [
                "soffice",
                f"-env:UserInstallation=file://{prof}",
                "--headless",
                "--convert-to",
                target,
                "--outdir",
                str(outdir),
                str(src),
            ],
            check=True,
            timeout=180,
            capture_output=True,
        )
    return outdir / (src.stem + "." + target.split(":")[0])


def scan(pdf: Path, out_pdf: Path, out_jpg: Path | None, seed: int, dpi: int = 150) -> None:
    """Render pages, add scanner noise (speckles, blur, slight tilt), wrap the JPEGs back into a PDF."""
    from PIL import Image, ImageFilter

    rng = random.Random(seed)
    with tempfile.TemporaryDirectory() as tmp:
        subprocess.run(
            ["pdftoppm", "-r", str(dpi), "-gray", "-png", str(pdf), f"{tmp}/p"], check=True, timeout=120
        )
        pages = []
        for f in sorted(Path(tmp).glob("p*.png")):
            im = Image.open(f).convert("L")
            noise = Image.effect_noise(im.size, 18).convert("L")
            im = Image.blend(im, noise, 0.12)
            im = im.rotate(rng.uniform(-0.25, 0.25), fillcolor=255, resample=Image.Resampling.BICUBIC)
            im = im.filter(ImageFilter.GaussianBlur(0.5))
            px = im.load()
            for _ in range(im.size[0] * im.size[1] // 2500):
                px[rng.randrange(im.size[0]), rng.randrange(im.size[1])] = rng.choice((0, 60, 200))
            pages.append(im)
        jpegs = []
        for im in pages:
            b = io.BytesIO()
            im.save(b, "JPEG", quality=55)
            jpegs.append(Image.open(io.BytesIO(b.getvalue())))
        jpegs[0].save(out_pdf, "PDF", save_all=True, append_images=jpegs[1:], resolution=dpi)
        if out_jpg is not None:
            # the page that holds most of table 3
            best = max(range(len(pages)), key=lambda i: _dark(pages[i]))
            pages[best].save(out_jpg, "JPEG", quality=60)


def _dark(im) -> int:
    return sum(im.resize((100, 140)).histogram()[:128])


def make_holdout(out: Path) -> int:
    """The hold-out reports as PDF (the scan benchmark renders and spoils them) with their figures."""
    out.mkdir(parents=True, exist_ok=True)
    for rep in HOLDOUT:
        rid = rep["id"]
        (out / f"{rid}.expected.json").write_text(
            json.dumps(expected(rep), ensure_ascii=False, indent=1) + "\n"
        )
        with tempfile.TemporaryDirectory() as tmp:
            docx_path = Path(tmp) / f"{rid}.docx"
            docx_path.write_bytes(to_docx(rep))
            (out / f"{rid}.pdf").write_bytes(soffice(docx_path, "pdf", Path(tmp)).read_bytes())
        print(rid, "done", file=sys.stderr)
    return 0


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", default=str(ROOT / "tests" / "fixtures" / "formats"))
    ap.add_argument("--no-scan", action="store_true", help="skip the scanned PDF and JPG")
    ap.add_argument("--holdout", action="store_true", help="only the scan hold-out reports' PDFs")
    args = ap.parse_args(argv)
    if args.holdout:
        return make_holdout(ROOT / "tests" / "fixtures" / "scan")
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    for i, rep in enumerate(REPORTS):
        rid = rep["id"]
        rng = random.Random(100 + i)
        (out / f"{rid}.expected.json").write_text(
            json.dumps(expected(rep), ensure_ascii=False, indent=1) + "\n"
        )
        page = to_html(rep, rng)
        if rid == "r2019_ok":  # GBK bytes that declare utf-8 (a real portal misconfiguration)
            (out / f"{rid}.html").write_bytes(page.replace("CHARSET", "utf-8").encode("gbk"))
        elif rid == "r2021_bad":  # GB18030 bytes with no charset declared at all
            (out / f"{rid}.html").write_bytes(page.replace("; charset=CHARSET", "").encode("gb18030"))
        else:
            (out / f"{rid}.html").write_bytes(page.replace("CHARSET", "utf-8").encode("utf-8"))
        docx_path = out / f"{rid}.docx"
        docx_path.write_bytes(to_docx(rep))
        (out / f"{rid}.xlsx").write_bytes(to_xlsx(rep))
        with tempfile.TemporaryDirectory() as tmp:
            t = Path(tmp)
            pdf = soffice(docx_path, "pdf", t)
            (out / f"{rid}.pdf").write_bytes(pdf.read_bytes())
            doc = soffice(docx_path, "doc:MS Word 97", t)
            (out / f"{rid}.doc").write_bytes(doc.read_bytes())
            if rid == "r2021_ok":
                # no Kingsoft export filter exists in LibreOffice: --convert-to wps writes a Word 97 binary
                wps = soffice(docx_path, "wps", t)
                (out / f"{rid}.wps").write_bytes(wps.read_bytes())
            xls = soffice(out / f"{rid}.xlsx", "xls", t)
            (out / f"{rid}.xls").write_bytes(xls.read_bytes())
            if not args.no_scan and rid in ("r2021_ok", "r2019_ok"):
                scan(
                    out / f"{rid}.pdf",
                    out / f"{rid}.scan.pdf",
                    out / f"{rid}.table.jpg" if rid == "r2021_ok" else None,
                    seed=i,
                )
        print(rid, "done", file=sys.stderr)
    total = sum(f.stat().st_size for f in out.iterdir())
    print(f"{len(list(out.iterdir()))} files, {total / 1024:.0f} KiB in {out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
