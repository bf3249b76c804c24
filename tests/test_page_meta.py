"""Title, agency, year and publication date from every source a page offers, in the documented precedence
(PATTERNS A5, A6, B3, B4; docs/architecture.md "Title, agency, year and date"). Fixtures in
tests/fixtures/pages: fictional agencies, real page shapes (TRS WCM meta tags, a Jiangsu 集约化 metadata
table with <publishtime>, a capture wrapper above a metadata strip, a pre-2019 page whose 来源 names the
county government, a page that names its agency only in ContentSource, a 成文日期 table)."""

from __future__ import annotations

from pathlib import Path

import pytest

from pipelines.extract.page_meta import fields_from_lines, from_fields
from pipelines.parse import parse_text
from pipelines.read import ReadHints, read_report
from pipelines.report import Report

PAGES = Path(__file__).resolve().parent / "fixtures" / "pages"
TEXT = Path(__file__).resolve().parent / "fixtures" / "text"
PORTAL = ReadHints(agency="示例县人民政府", url="https://www.example.gov.cn/zwgk/202402/t20240210_9.html")

# file: (title, title_source, agency, agency_source, year, published, published_source)
EXPECTED = {
    "trs_meta.html": (
        "示例县林业局2023年政府信息公开工作年度报告",
        "page_meta",
        "示例县林业局",
        "title",
        2023,
        "2024-01-26",  # PubDate, not the 发布时间 of the info line below it
        "page_meta",
    ),
    "jiangsu_table.shtml": (
        "示例市东岸区住房和城乡建设局2023年度政府信息公开工作年度报告",
        "page_field",
        "示例市东岸区住房和城乡建设局",
        "title",
        2023,
        "2024-01-29",
        "page_field",
    ),
    "strip_capture.html": (
        "示例县教育局2023年政府信息公开工作年度报告",  # joined across its line break
        "document",
        "示例县教育局",
        "title",
        2023,
        "2024-03-29",  # 发布日期, never the capture wrapper's 采集时间 2024-05-06
        "page_field",
    ),
    "agency_from_page_only.html": (
        "2023年政府信息公开工作年度报告",
        "page_meta",
        "示例县应急管理局",  # ContentSource; never the portal's 示例县人民政府
        "page_meta",
        2023,
        "2024-01-30",
        "page_meta",
    ),
    "pre2019_breadcrumb.html": (
        "示例县统计局2016年信息公开年度报告",  # <title>'s "-示例县人民政府" is the site, not the title
        "document",
        "示例县统计局",  # 来源：示例县人民政府 names another organ: the report's own title wins
        "title",
        2016,
        "2017-03-20",
        "page_field",
    ),
    "jiangsu_spaced_labels.shtml": (
        "示例县民政局2022年政府信息公开工作年度报告",  # 名　　称, never the breadcrumb 当前位置：首页 > 信息公开年报
        "page_field",
        "示例县民政局",
        "title",
        2022,
        "2023-01-17",
        "page_field",
    ),
    "written_date_only.html": (
        "示例县退役军人事务局2023年政府信息公开工作年度报告",
        "page_field",
        "示例县退役军人事务局",
        "title",
        2023,
        "2024-01-22",  # 成文日期 in the metadata table beats the signature's 2024年1月25日
        "page_field",
    ),
}


def described(r: Report) -> tuple[object, ...]:
    m = r.meta
    return (
        r.title,
        m.get("title_source"),
        r.agency,
        m.get("agency_source"),
        r.year,
        m.get("published_date"),
        m.get("published_date_source"),
    )


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_page_metadata_in_precedence(name: str) -> None:
    r = read_report((PAGES / name).read_bytes(), name, hints=PORTAL)
    assert described(r) == EXPECTED[name]
    assert r.meta["year_source"] == "title"
    assert r.status == ("complete" if name.startswith("pre2019") else "partial")
    for value in (r.title, r.agency):  # labels, markup and strips never end up in a title or agency
        assert value and not any(mark in value for mark in (":", "：", "#", "标题", "名称", "来源", "发布"))


def test_page_statements_are_kept_with_their_labels() -> None:
    r = read_report((PAGES / "jiangsu_table.shtml").read_bytes(), "jiangsu_table.shtml")
    assert r.meta["page"] == {
        "title": "示例市东岸区住房和城乡建设局2023年度政府信息公开工作年度报告",
        "title_source": "page_field",
        "title_label": "名称",
        "agency": "示例市东岸区住房和城乡建设局",
        "agency_source": "page_field",
        "agency_label": "发布机构",
        "published_date": "2024-01-29",
        "published_date_source": "page_field",
        "published_date_label": "公开日期",
        "column": "信息公开年报",
        "index_no": "014000000/2024-00031",
    }
    r = read_report((PAGES / "strip_capture.html").read_bytes(), "strip_capture.html")
    assert r.meta["page"]["capture_time"] == "2024-05-06 10:11:12"


def test_text_capture_wrapper_date_comes_from_the_strip() -> None:
    r = parse_text((TEXT / "capture_wrapper_metadata_strip.txt").read_text(encoding="utf-8"))
    assert (r.meta["published_date"], r.meta["published_date_source"]) == ("2024-01-20", "page_field")
    assert r.meta["page"]["published_date_label"] == "发文日期"


BODY = "一、总体情况\n2023年，我局全年主动公开信息33条。\n五、存在的主要问题及改进情况\n无。\n"


def test_document_date_line_and_the_year_reported_on() -> None:
    r = parse_text("示例县民政局2023年政府信息公开工作年度报告\n" + BODY + "示例县民政局\n2024年1月18日\n")
    assert (r.meta["published_date"], r.meta["published_date_source"]) == ("2024-01-18", "document")
    # a date inside the year reported on is not its publication (统计期限 2023年1月1日, a signature typo)
    r = parse_text("示例县民政局2023年政府信息公开工作年度报告\n" + BODY + "示例县民政局\n2023年1月1日\n")
    assert "published_date" not in r.meta


def test_registry_and_link_text_fill_only_what_the_document_leaves_empty() -> None:
    text = ("2023年政府信息公开工作年度报告\n" + BODY).encode()
    r = read_report(text, "r.txt", hints=ReadHints(agency="示例县审计局"))
    assert (r.agency, r.meta["agency_source"]) == ("示例县审计局", "text+portal")  # 我局 on a 局's portal
    assert "agency not stated in the report; taken from the text+portal" in r.problems
    r = read_report(text, "r.txt", hints=ReadHints(agency="示例县人民政府"))
    assert (r.agency, r.meta["agency_source"]) == ("示例县人民政府", "registry")
    untitled = ("一、总体情况\n本局全年主动公开信息33条。\n五、存在的主要问题及改进情况\n无。\n").encode()
    hints = ReadHints(agency="示例县人民政府", link_text="示例县财政局2023年政府信息公开工作年度报告")
    r = read_report(untitled, "r.txt", hints=hints)
    assert (r.title, r.meta["title_source"]) == ("示例县财政局2023年政府信息公开工作年度报告", "link_text")
    assert (r.agency, r.meta["agency_source"], r.year, r.meta["year_source"]) == (
        "示例县财政局",
        "link_text",
        2023,
        "link_text",
    )
    # the report's own statements always win over the hints
    own = ("示例县民政局2023年政府信息公开工作年度报告\n" + BODY).encode()
    r = read_report(own, "r.txt", hints=hints)
    assert (r.title, r.agency, r.meta["agency_source"]) == (
        "示例县民政局2023年政府信息公开工作年度报告",
        "示例县民政局",
        "title",
    )


def test_year_from_the_publication_date_only_when_nothing_else_states_it() -> None:
    page = (
        '<html><head><meta charset="utf-8"><meta name="PubDate" content="2024-02-01">'
        '<meta name="ContentSource" content="示例县司法局"></head><body><h1>政府信息公开工作年度报告</h1>'
        "<p>一、总体情况</p><p>本机关坚持公开为常态，全年主动公开信息12条，依申请公开2件。</p></body></html>"
    ).encode()
    r = read_report(page, "p.html")
    assert (r.year, r.meta["year_source"], r.agency) == (2023, "published_date", "示例县司法局")


def test_field_reader_shapes() -> None:
    fields = fields_from_lines(
        [
            "发布日期：2024-03-29 来源：示例县交通运输局 字号：[大 中 小]",
            "索引号\t114100/2024-0012\t发布机构\t示例县交通运输局网站",
            "数据来源：统计年鉴 2023年",  # prose with a label inside a word is no field
        ]
    )
    assert fields["发布日期"][0] == "2024-03-29" and fields["来源"][0] == "示例县交通运输局"
    assert fields["发布机构"][0] == "示例县交通运输局网站" and fields["索引号"][0] == "114100/2024-0012"
    page = from_fields(fields)
    assert (page.agency, page.agency_label) == ("示例县交通运输局", "发布机构")  # site suffix dropped
    assert "来源" in fields and len(fields) == 5 and "据来源" not in str(fields.keys())


def test_spaced_labels_layout_spaces_and_a_bare_place_in_the_title() -> None:
    """`标 题:` in a metadata row, a title broken by a <br> in its cell, a title naming only a place."""
    page = (
        '<html><head><meta charset="utf-8"><title>政府信息公开</title></head><body>'
        "<table><tr><td>标 题:</td><td>示例县文化广电和旅游局2022年政府信息公开<br/>工作年度报告</td></tr>"
        "<tr><td>发布日期:</td><td>2023-01-30</td></tr></table>"
        "<p>一、总体情况</p><p>2022年，我局全年主动公开信息33条。</p></body></html>"
    ).encode()
    r = read_report(page, "p.html")
    assert (r.title, r.agency) == (
        "示例县文化广电和旅游局2022年政府信息公开工作年度报告",
        "示例县文化广电和旅游局",
    )
    r = parse_text(
        "石桥镇2023年政府信息公开工作年度报告\n一、总体情况\n2023年，示例县石桥镇人民政府坚持公开。\n"
    )
    assert (r.agency, r.meta["agency_source"]) == ("示例县石桥镇人民政府", "title")
    r = parse_text("示例县2017年政府信息公开工作年度报告\n一、概述\n本报告由示例县人民政府办公室编制。\n")
    assert r.agency == "示例县人民政府"
    r = parse_text("石桥镇2023年政府信息公开工作年度报告\n一、总体情况\n本报告由示例县石桥镇人民政府编制。\n")
    assert r.agency == "石桥镇人民政府"  # a place above it only where a statement opens with it


def test_a_township_takes_the_county_a_statement_opens_with() -> None:
    text = (
        "云溪乡人民政府2024年政府信息公开工作年度报告\n一、总体情况\n2024年，示例县云溪乡人民政府坚持公开。\n"
    )
    r = parse_text(text)
    assert (r.agency, r.title) == ("示例县云溪乡人民政府", "云溪乡人民政府2024年政府信息公开工作年度报告")
