"""Fictional reports, one per layout or template quirk, and extractor grids."""

from __future__ import annotations

from pathlib import Path

from pipelines.codes import APPLICANT_CODES
from pipelines.extract.base import Extracted, Grid
from pipelines.parse import parse_extracted, parse_text
from pipelines.report import Report
from pipelines.sections import find_headings

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "text"
COLS7 = [*APPLICANT_CODES, "total"]
REVIEW_COLS = ["upheld", "corrected", "other_result", "pending", "total"]


def parse(name: str) -> Report:
    return parse_text((FIXTURES / name).read_text(encoding="utf-8"))


def row(report: Report, table: str, name: str) -> dict[str, object]:
    return {f.column: f.value for f in report.figures if f.table == table and f.row == name}


def nonzero_rows(report: Report, table: str) -> dict[str, list[object]]:
    rows: dict[str, list[object]] = {}
    for f in report.figures:
        if f.table == table:
            rows.setdefault(f.row, []).append(f.value)
    return {r: v for r, v in rows.items() if any(v)}


# ---------------------------------------------------------------- 2021 template, tab rows


def test_2021_tabs() -> None:
    r = parse("2021_tabs.txt")
    assert (r.status, r.template, r.agency, r.year) == ("complete", "2021", "示例市某某局", 2023)
    assert row(r, "active", "normative_documents") == {"issued": 2, "repealed": 1, "in_force": 15}
    assert row(r, "active", "licensing") == {"decisions": 1234}
    assert row(r, "active", "fees") == {"amount_10k_yuan": 12.5}
    assert nonzero_rows(r, "applications") == {
        "new_received": [10, 2, 0, 0, 1, 0, 13],
        "carried_over": [1, 0, 0, 0, 0, 0, 1],
        "granted": [5, 1, 0, 0, 0, 0, 6],
        "partly_granted": [2, 0, 0, 0, 0, 0, 2],
        "denied_third_party": [1, 0, 0, 0, 0, 0, 1],
        "unable_not_held": [1, 1, 0, 0, 1, 0, 3],
        "rejected_duplicate": [1, 0, 0, 0, 0, 0, 1],
        "other_no_correction": [1, 0, 0, 0, 0, 0, 1],
        "total_handled": [11, 2, 0, 0, 1, 0, 14],
    }
    assert len([f for f in r.figures if f.table == "applications"]) == 25 * 7
    assert row(r, "review_litigation", "review") == dict(zip(REVIEW_COLS, [1, 1, 0, 0, 2], strict=True))
    assert row(r, "review_litigation", "litigation_direct") == dict(
        zip(REVIEW_COLS, [0, 0, 0, 1, 1], strict=True)
    )
    assert all(c.ok for c in r.checks) and len(r.checks) == 7 + 7 + 25 + 3


# ---------------------------------------------------------------- 2021 template, one cell per line (docx → text)


def test_2021_one_cell_per_line_with_wrapped_headers() -> None:
    r = parse("2021_one_cell_per_line.txt")
    assert (r.status, r.template, r.agency, r.year) == ("complete", "2021", "示例县某某镇人民政府", 2022)
    assert row(r, "active", "regulations") == {"issued": 1, "repealed": 0, "in_force": 1}
    assert row(r, "active", "normative_documents") == {"issued": 0, "repealed": 2, "in_force": 7}
    assert row(r, "active", "licensing") == {"decisions": 45}  # behind a [bookmark: …]
    assert row(r, "active", "fees") == {"amount_10k_yuan": 0.8}
    # "商业\n企业", "科研\n机构": wrapped header cells still give the 7 columns in order
    assert nonzero_rows(r, "applications") == {
        "new_received": [7, 1, 0, 0, 0, 1, 9],
        "granted": [4, 0, 0, 0, 0, 1, 5],
        "partly_granted": [1, 0, 0, 0, 0, 0, 1],
        "denied_process_info": [1, 0, 0, 0, 0, 0, 1],
        "unable_needs_creation": [0, 1, 0, 0, 0, 0, 1],
        "rejected_petition_complaint": [1, 0, 0, 0, 0, 0, 1],
        "total_handled": [7, 1, 0, 0, 0, 1, 9],
    }
    assert nonzero_rows(r, "review_litigation") == {
        "review": [0, 0, 1, 0, 1],
        "litigation_after_review": [1, 0, 0, 0, 1],
    }
    assert r.figure("applications", "new_received", "other_org").source == {"line": 81}
    assert all(c.ok for c in r.checks)


# ---------------------------------------------------------------- 2019 template


def test_2019_template_tabs() -> None:
    r = parse("2019_template_tabs.txt")
    assert (r.status, r.template, r.agency, r.year) == ("complete", "2019", "示例市某某区某某局", 2020)
    assert r.meta["table_templates"] == {"active": "2019", "applications": "2019"}
    assert row(r, "active", "normative_documents") == {
        "new_made": 3,
        "new_published": 3,
        "total_published": 20,
    }
    assert row(r, "active", "licensing") == {"items_last_year": 12, "items_change": 4, "decisions": 300}
    assert row(r, "active", "other_services") == {"items_last_year": 5, "items_change": -2, "decisions": 40}
    assert row(r, "active", "coercion") == {"items_last_year": 2, "items_change": -1, "decisions": 3}
    assert row(r, "active", "fees") == {"items_last_year": 4, "items_change": 1}
    assert row(r, "active", "procurement") == {"projects": 3, "amount": 25.1}
    amount = r.figure("active", "procurement", "amount")
    assert amount.raw == "251000元" and "yuan_to_10k_yuan" in amount.flags
    assert row(r, "applications", "other") == dict(zip(COLS7, [1, 0, 0, 0, 0, 0, 1], strict=True))
    assert not any(f.row.startswith("other_") for f in r.figures if f.table == "applications")
    assert row(r, "applications", "total_handled") == dict(zip(COLS7, [5, 0, 1, 0, 0, 0, 6], strict=True))
    handled = next(c for c in r.checks if c.rule == "applications.total_handled" and c.column == "total")
    assert handled.ok and handled.detail == "6 = 4+1+1"


def test_mixed_templates_are_named() -> None:
    old = (FIXTURES / "2019_template_tabs.txt").read_text(encoding="utf-8")
    new = (FIXTURES / "2021_tabs.txt").read_text(encoding="utf-8")
    mixed = old[: old.index("三、收到和处理")] + new[new.index("三、收到和处理") :]
    r = parse_text(mixed)
    assert r.template == "2021"  # the applications table decides
    assert r.meta["table_templates"] == {"active": "2019", "applications": "2021"}
    assert any(p.startswith("mixed templates") for p in r.problems)


# ---------------------------------------------------------------- cell values


def test_fullwidth_digits_dashes_units() -> None:
    r = parse("fullwidth_digits_and_dashes.txt")
    assert (r.status, r.year, r.title) == ("complete", 2023, "示例市某某局 2023年政府信息公开工作年度报告")
    assert row(r, "active", "normative_documents") == {"issued": 2, "repealed": 1, "in_force": 15}
    lic = r.figure("active", "licensing", "decisions")
    assert (lic.value, lic.raw, lic.flags) == (1234, "１，２３４件", ["thousands_separator", "unit_stripped"])
    coercion = r.figure("active", "coercion", "decisions")
    assert (coercion.value, coercion.raw, coercion.flags) == (0, "－", ["dash_as_zero"])
    fees = r.figure("active", "fees", "amount_10k_yuan")
    assert fees.value == 12.5 and "yuan_to_10k_yuan" in fees.flags
    assert row(r, "applications", "granted") == dict(zip(COLS7, [5, 1, 0, 0, 0, 0, 6], strict=True))
    blank = r.figure("applications", "granted", "other_org")
    assert (blank.value, blank.raw, blank.flags) == (0, "", ["blank", "derived"])
    assert [r.figure("applications", "denied_state_secret", c).raw for c in COLS7] == [
        "-",
        "--",
        "－",
        "—",
        "/",
        "无",
        "-",
    ]
    assert all(
        f.flags == ["dash_as_zero"] and f.value == 0 for f in r.figures if f.row == "denied_state_secret"
    )
    assert row(r, "review_litigation", "review") == dict(zip(REVIEW_COLS, [1, 1, 0, 0, 2], strict=True))
    assert r.figure("review_litigation", "litigation_direct", "upheld").flags == ["blank", "derived"]
    assert all(c.ok for c in r.checks)


def test_no_other_column() -> None:
    r = parse("no_other_column.txt")
    assert r.status == "complete" and r.agency == "示例市某某区某某委员会"
    assert r.figure("applications", "new_received", "other_org") is None
    cols6 = [c for c in COLS7 if c != "other_org"]
    assert row(r, "applications", "new_received") == dict(zip(cols6, [10, 2, 0, 0, 1, 13], strict=True))
    assert row(r, "applications", "unable_not_held") == dict(zip(cols6, [1, 1, 0, 0, 1, 3], strict=True))
    assert sorted(c.column for c in r.checks if c.rule == "applications.balance") == sorted(cols6)
    assert all(c.ok for c in r.checks) and r.problems == []


# ---------------------------------------------------------------- sections


def test_renumbered_headings() -> None:
    r = parse("renumbered_headings.txt")
    assert r.status == "complete" and r.agency == "示例市某某街道办事处"
    assert list(r.sections) == [
        "preamble",
        "overview",
        "active",
        "applications",
        "review_litigation",
        "problems",
        "other",
    ]
    assert "（2） 依申请公开" in r.sections["overview"]
    assert "本节之后报告主动公开政府信息情况。" in r.sections["overview"]  # prose, not a heading
    assert r.sections["active"].startswith("第二十条")
    assert r.sections["problems"].startswith("存在问题")
    assert "一、总体情况" in r.sections["problems"]  # a later, earlier-numbered heading does not restart 一
    assert r.sections["other"] == "本年度未收取信息处理费。"


def test_heading_rules() -> None:
    lines = [
        "一、 概述",
        "（3） 政府信息管理",
        "二 、主动公开政府信息情况",
        "三、收到和处理政府信息公开申请情况",
        "本单位在主动公开政府信息情况方面做了大量工作，取得了明显成效，得到群众好评，今后继续努力推进相关工作。",
        "四、因政府信息公开工作被申请行政复议和提起行政诉讼情况",
        "伍",
        "５、存在的主要问题及改进情况",
        "其他需要报告的事项",
    ]
    assert [(h.code, h.line) for h in find_headings(lines)] == [
        ("overview", 0),
        ("active", 2),
        ("applications", 3),
        ("review_litigation", 5),
        ("problems", 7),
        ("other", 8),
    ]


def test_free_pre2019() -> None:
    r = parse("free_pre2019.txt")
    assert (r.status, r.template, r.agency, r.year) == ("complete", "free", "示例市某某局", 2016)
    assert r.figures == [] and r.checks == []
    assert set(r.sections) == {
        "preamble",
        "overview",
        "active",
        "applications",
        "review_litigation",
        "problems",
        "other",
    }
    assert (
        "依申请公开" not in r.sections["applications"]
        and "受理政府信息公开申请12件" in r.sections["applications"]
    )
    assert any(p.startswith("no standard tables found") for p in r.problems)


# ---------------------------------------------------------------- grids


def merged(grid: Grid, *cells: tuple[int, int]) -> Grid:
    for r, c in cells:
        grid.rows[r][c].source["merged"] = True
    return grid


def test_grids_are_read_with_merged_headers_and_sources() -> None:
    text = (FIXTURES / "2021_tabs.txt").read_text(encoding="utf-8")
    active = merged(
        Grid.from_strings(
            [
                ["第二十条第（一）项"] * 4,
                ["信息内容", "本年制发件数", "本年废止件数", "现行有效件数"],
                ["规章", "0", "0", "0"],
                ["行政规范性文件", "9", "8", "7"],
                ["第二十条第（五）项"] * 4,
                ["信息内容", "本年处理决定数量", "本年处理决定数量", "本年处理决定数量"],
                ["行政许可", "77", "77", "77"],
                ["第二十条第（六）项"] * 4,
                ["信息内容", "本年处理决定数量", "本年处理决定数量", "本年处理决定数量"],
                ["行政处罚", "5", "5", "5"],
                ["行政强制", "1", "1", "1"],
                ["第二十条第（八）项"] * 4,
                [
                    "信息内容",
                    "本年收费金额（单位：万元）",
                    "本年收费金额（单位：万元）",
                    "本年收费金额（单位：万元）",
                ],
                ["行政事业性收费", "2.25", "2.25", "2.25"],
            ],
            {"table": 1},
        ),
        (0, 1),
        (0, 2),
        (0, 3),
        (4, 1),
        (4, 2),
        (4, 3),
        (5, 2),
        (5, 3),
        (6, 2),
        (6, 3),
        (7, 1),
        (7, 2),
        (7, 3),
        (8, 2),
        (8, 3),
        (9, 2),
        (9, 3),
        (10, 2),
        (10, 3),
        (11, 1),
        (11, 2),
        (11, 3),
        (12, 2),
        (12, 3),
        (13, 2),
        (13, 3),
    )
    note = "（本列数据的勾稽关系为：第一项加第二项之和，等于第三项加第四项之和）"
    org = "法人或其他组织"
    apps_rows = [
        [
            note,
            note,
            note,
            "申请人情况",
            "申请人情况",
            "申请人情况",
            "申请人情况",
            "申请人情况",
            "申请人情况",
            "申请人情况",
        ],
        [note, note, note, "自然人", org, org, org, org, org, "总计"],
        [note, note, note, "自然人", "商业企业", "科研机构", "社会公益组织", "法律服务机构", "其他", "总计"],
        ["一、本年新收政府信息公开申请数量"] * 3 + ["3", "1", "0", "0", "0", "0", "4"],
        ["二、上年结转政府信息公开申请数量"] * 3 + ["1", "0", "0", "0", "0", "0", "1"],
        ["三、本年度办理结果", "（一）予以公开", "（一）予以公开", "2", "1", "0", "0", "0", "0", "3"],
        [
            "三、本年度办理结果",
            "（二）部分公开（区分处理的，只计这一情形，不计其他情形）",
            "（二）部分公开",
            "1",
            "",
            "0",
            "0",
            "0",
            "0",
            "1",
        ],
    ]
    subitems = [
        ("（三）不予公开", s)
        for s in (
            "1.属于国家秘密",
            "2.其他法律行政法规禁止公开",
            "3.危及“三安全一稳定”",
            "4.保护第三方合法权益",
            "5.属于三类内部事务信息",
            "6.属于四类过程性信息",
            "7.属于行政执法案卷",
            "8.属于行政查询事项",
        )
    ]
    subitems += [
        ("（四）无法提供", s)
        for s in ("1.本机关不掌握相关政府信息", "2.没有现成信息需要另行制作", "3.补正后申请内容仍不明确")
    ]
    subitems += [
        ("（五）不予处理", s)
        for s in (
            "1.信访举报投诉类申请",
            "2.重复申请",
            "3.要求提供公开出版物",
            "4.无正当理由大量反复申请",
            "5.要求行政机关确认或重新出具已获取信息",
        )
    ]
    subitems += [
        ("（六）其他处理", s)
        for s in (
            "1.申请人无正当理由逾期不补正、行政机关不再处理其政府信息公开申请",
            "2.申请人逾期未按收费通知要求缴纳费用、行政机关不再处理其政府信息公开申请",
            "3.其他",
        )
    ]
    apps_rows += [
        ["三、本年度办理结果", group, item]
        + ["1" if item == "3.其他" else "0"]
        + ["0"] * 5
        + ["1" if item == "3.其他" else "0"]
        for group, item in subitems
    ]
    apps_rows += [
        ["三、本年度办理结果", "（七）总计", "（七）总计", "4", "1", "0", "0", "0", "0", "5"],
        ["四、结转下年度继续办理"] * 3 + ["0", "0", "0", "0", "0", "0", "0"],
    ]
    apps = Grid.from_strings(apps_rows, {"table": 2})
    review = Grid.from_strings(
        [
            ["行政复议"] * 5 + ["行政诉讼"] * 10,
            ["结果维持", "结果纠正", "其他结果", "尚未审结", "总计"]
            + ["未经复议直接起诉"] * 5
            + ["复议后起诉"] * 5,
            ["结果维持", "结果纠正", "其他结果", "尚未审结", "总计"] * 3,
            ["0", "0", "0", "2", "2", "0", "1", "0", "0", "1", "0", "0", "0", "0", "0"],
        ],
        {"table": 3},
    )
    ex = Extracted(
        format="html", extractor="test", text=text, grids=[active, apps, review], quality={"ocr": False}
    )
    r = parse_extracted(ex)
    assert r.status == "complete", r.problems
    assert r.meta["table_sources"] == {"active": "grid", "applications": "grid", "review_litigation": "grid"}
    assert (r.meta["extractor"], r.meta["format"], r.meta["quality"]) == ("test", "html", {"ocr": False})
    assert r.text == text and r.agency == "示例市某某局"
    assert row(r, "active", "normative_documents") == {"issued": 9, "repealed": 8, "in_force": 7}
    assert row(r, "active", "licensing") == {"decisions": 77}
    assert row(r, "active", "fees") == {"amount_10k_yuan": 2.25}
    assert row(r, "applications", "new_received") == dict(zip(COLS7, [3, 1, 0, 0, 0, 0, 4], strict=True))
    assert row(r, "applications", "other_other") == dict(zip(COLS7, [1, 0, 0, 0, 0, 0, 1], strict=True))
    assert row(r, "applications", "partly_granted")["commercial_enterprise"] == 0
    assert r.figure("applications", "partly_granted", "commercial_enterprise").flags == ["blank", "derived"]
    assert r.figure("applications", "new_received", "total").source == {"table": 2, "cell": [3, 9]}
    assert r.figure("active", "licensing", "decisions").source == {"table": 1, "cell": [6, 1]}
    assert row(r, "review_litigation", "review") == dict(zip(REVIEW_COLS, [0, 0, 0, 2, 2], strict=True))
    assert row(r, "review_litigation", "litigation_direct") == dict(
        zip(REVIEW_COLS, [0, 1, 0, 0, 1], strict=True)
    )
    assert all(c.ok for c in r.checks)


def test_grid_missing_table_falls_back_to_text() -> None:
    text = (FIXTURES / "2021_tabs.txt").read_text(encoding="utf-8")
    junk = Grid.from_strings([["导航", "首页"], ["联系我们", "网站地图"]])
    r = parse_extracted(
        Extracted(format="html", extractor="test", text=text, grids=[junk], problems=["one image skipped"])
    )
    assert r.status == "complete"
    assert r.meta["table_sources"] == {"active": "text", "applications": "text", "review_litigation": "text"}
    assert r.problems == ["extraction: one image skipped"]


# ---------------------------------------------------------------- title, agency, year


def test_title_broken_after_the_agency_is_joined() -> None:
    r = parse_text("　　示例市某某区人民政府\n    2024 年政府信息公开工作年度报告\n\n一、总体情况\n正文。\n")
    assert (r.title, r.agency, r.year) == (
        "示例市某某区人民政府 2024 年政府信息公开工作年度报告",
        "示例市某某区人民政府",
        2024,
    )


def test_agency_and_year_from_the_text_only_when_stated() -> None:
    stated = (
        "政府信息公开工作年度报告\n示例市某某区卫生健康委员会（以下简称区卫健委）根据条例编制本报告。"
        "本报告中所列数据统计期限自2023年1月1日起至2023年12月31日止。\n一、总体情况\n2024年，我委……\n"
    )
    r = parse_text(stated)
    assert (r.agency, r.year) == ("示例市某某区卫生健康委员会", 2023)
    vague = "政府信息公开工作年度报告\n一、总体情况\n我局高度重视。区政府认真部署。\n2022年，我局继续推进。\n"
    r = parse_text(vague)
    assert (r.agency, r.year) == (None, 2022)
    assert "agency not stated" in r.problems


def test_garbled_subitem_label_is_read_by_its_number() -> None:
    """Real PDFs print "2.其他法律行政止公开" (characters missing in the document): the group and the item
    number still name the row, and the report says so."""
    r = parse("garbled_subitem_labels.txt")
    assert r.value("applications", "denied_prohibited_by_law", "natural_person") == 2
    assert r.value("applications", "denied_prohibited_by_law", "total") == 2
    assert r.value("applications", "denied_three_safety_one_stability", "total") == 0
    assert any("denied_prohibited_by_law recognised by its number only" in p for p in r.problems)
    assert all(c.ok for c in r.checks if c.rule.startswith("applications"))


def _ocr_like_application_grid() -> Grid:
    """Table 3 as OCR hands it over: a garbled header (自然人 read as 0, 商业企业 as 商业企.业) and a digit
    read as a Chinese character in one value cell."""
    head = "（本列数据的勾稽关系为：第一项加第二项之和，等于第三项加第四项之和）"
    rows = [
        [
            head,
            head,
            head,
            "申请人情况",
            "申请人情况",
            "申请人情况",
            "申请人情况",
            "申请人情况",
            "申请人情况",
            "申请人情况",
        ],
        [
            head,
            head,
            head,
            "0",
            "法人或其他组织",
            "法人或其他组织",
            "法人或其他组织",
            "法人或其他组织",
            "法人或其他组织",
            "总计",
        ],
        [head, head, head, "0", "商业企.业", "科研构机", "社心云公八益组织", "法律服务机构", "其他", "总计"],
        ["一、本年新收政府信息公开申请数量"] * 3 + ["3", "0", "0", "0", "0", "0", "3"],
        ["二、上年结转政府信息公开申请数量"] * 3 + ["0", "0", "0", "0", "0", "0", "0"],
        ["三、本年度办理结果", "（一）予以公开", "（一）予以公开", "2", "于", "0", "0", "0", "0", "2"],
    ]
    return Grid.from_strings(rows, {"page": 1, "table": 1})


def test_grid_with_garbled_header_and_junk_cell_is_read_by_position() -> None:
    ex = Extracted(
        format="pdf",
        extractor="test",
        text="三、收到和处理政府信息公开申请情况\n",
        grids=[_ocr_like_application_grid()],
    )
    r = parse_extracted(ex)
    assert r.value("applications", "new_received", "natural_person") == 3
    assert r.value("applications", "new_received", "total") == 3
    assert r.value("applications", "granted", "natural_person") == 2
    junk = r.figure("applications", "granted", "commercial_enterprise")
    assert junk is not None and junk.value is None and junk.raw == "于" and "invalid_number" in junk.flags
    assert r.value("applications", "granted", "total") == 2
    assert any("header read as" in p and "assumed the template's 7 columns" in p for p in r.problems)
    assert any("'于' is not a number" in p for p in r.problems)


def test_review_grid_row_with_junk_keeps_positions() -> None:
    header = ["行政复议"] * 5 + ["行政诉讼"] * 10
    sub = ["结果维持", "结果纠正", "其他结果", "尚未审结", "总计"] * 3
    data = ["1", "0", "于", "0", "1", "0", "0", "0", "1", "1", "0", "0", "2", "2", "4"]
    ex = Extracted(
        format="pdf",
        extractor="test",
        text="四、政府信息公开行政复议、行政诉讼情况\n",
        grids=[Grid.from_strings([header, sub, data], {"page": 3, "table": 4})],
    )
    r = parse_extracted(ex)
    assert r.value("review_litigation", "review", "upheld") == 1
    assert r.value("review_litigation", "review", "other_result") is None
    assert r.value("review_litigation", "litigation_after_review", "total") == 4
    assert r.value("review_litigation", "litigation_direct", "pending") == 1
