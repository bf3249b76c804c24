"""Report-title recognition and link classification (crawler/classify.py)."""

from __future__ import annotations

import pytest

from crawler.classify import classify_title, column_kind, find_year, is_attachment_url, page_param

ACCEPT = [
    ("2024年政府信息公开工作年度报告", 2024),
    ("XX局2023年度政府信息公开工作报告", 2023),
    ("2022年政府信息公开年报", 2022),
    ("政府信息公开工作年度报告（2021年）", 2021),
    ("北关区卫健委 2025 年政府信息公开工作年度报告", 2025),
    ("示例市人民政府２０２０年政府信息公开工作年度报告", 2020),
    ("二〇二三年政府信息公开工作年度报告", 2023),
    ("样本县2019年度政务公开工作年度报告", 2019),
]
REJECT = [
    "2024年政务公开工作要点",
    "示例市2023年12月政府信息公开工作月报",
    "2023年政务公开工作总结",
    "2024年度政府信息公开工作计划",
    "2024年政府工作报告",
    "2023年统计年报",
    "2023年国民经济和社会发展统计公报",
    "2023年部门决算报告",
    "2024年部门预算",
    "2023年度企业年报公示",
    "企业年报",
    "2023年法治政府建设年度报告",
    "关于做好2023年政府信息公开工作年度报告编制发布工作的通知",
    "2023年政府信息公开工作年度报告解读",
    "政府信息公开工作年度报告",
    "政府信息公开指南",
]


@pytest.mark.parametrize(("title", "year"), ACCEPT)
def test_accepts_report_titles(title, year):
    verdict = classify_title(title)
    assert verdict.is_report, verdict.reason
    assert verdict.year == year


@pytest.mark.parametrize("title", REJECT)
def test_rejects_look_alikes(title):
    assert not classify_title(title)


def test_decoys_are_flagged():
    assert classify_title("2024年政务公开工作要点").decoy
    assert not classify_title("示例市召开会议").decoy


def test_bare_year_accepted_only_under_annual_column():
    assert not classify_title("2023年度报告")
    assert classify_title("2023年度报告", in_report_column=True)


def test_column_kinds():
    assert column_kind("政府信息公开年报", "http://x/col/col12/index.html") == "annual"
    assert column_kind("政府信息公开", "http://x/a.html") == "disclosure"
    assert column_kind("法定主动公开内容", "http://x/b/") == "disclosure"
    assert column_kind("", "http://x/zfxxgk/zfxxgknb/index.html") == "annual"
    assert column_kind("政府信息公开指南", "http://x/zfxxgk/zn/index.html") is None
    # an article filed under the annual-report folder is not a column
    assert column_kind("2023年统计公报", "http://x/zfxxgk/zfxxgknb/202403/t20240328_1.html") is None
    assert column_kind("新闻中心", "http://x/xwzx/index.html") is None


def test_attachments_and_pages():
    assert is_attachment_url("http://x/files/%E6%8A%A5%E5%91%8A.pdf")
    assert is_attachment_url("http://x/a/b.WPS")
    assert is_attachment_url("http://x/module/download/downfile.jsp?classid=0&filename=1.docx")
    assert not is_attachment_url("http://x/art/2024/3/28/art_1_2.html")
    assert page_param("http://x/list.php?catid=12&page=3") == ("page", 3)
    assert page_param("http://x/list?pageIndex=2") == ("pageIndex", 2)
    assert page_param("http://x/list?id=2") is None
    assert find_year("报告（2021年）") == 2021
