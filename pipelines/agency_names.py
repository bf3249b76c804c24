"""Agency names as users search them: the full name an organ's report states, its short forms as aliases.

Reports and pages name the same organ in full (北关区卫生健康委员会) and in standard abbreviations (北关区卫健委);
a journalist filters by agency, so the full name is kept when the report or its page states it and the short
form becomes an alias. `ABBREVIATIONS` is the small documented table of standard short forms (the office
names of the 2018 institutional reform and their common predecessors); docs/archive.md lists it.
"""

from __future__ import annotations

import re

# short office name → full office name, as the end of an agency name (longest short forms first).
ABBREVIATIONS: dict[str, str] = {
    "卫健委": "卫生健康委员会",
    "卫健局": "卫生健康局",
    "卫计委": "卫生和计划生育委员会",
    "卫计局": "卫生和计划生育局",
    "人社局": "人力资源和社会保障局",
    "人社厅": "人力资源和社会保障厅",
    "住建局": "住房和城乡建设局",
    "住建委": "住房和城乡建设委员会",
    "住建厅": "住房和城乡建设厅",
    "发改委": "发展和改革委员会",
    "发改局": "发展和改革局",
    "市监局": "市场监督管理局",
    "市场监管局": "市场监督管理局",
    "交通局": "交通运输局",
    "教体局": "教育和体育局",
    "文旅局": "文化和旅游局",
    "文广旅局": "文化广电和旅游局",
    "文广新局": "文化广电新闻出版局",
    "退役军人局": "退役军人事务局",
    "医保局": "医疗保障局",
    "应急局": "应急管理局",
    "审批局": "行政审批服务局",
    "行政审批局": "行政审批服务局",
    "城管局": "城市管理局",
    "城管执法局": "城市管理综合行政执法局",
    "工信局": "工业和信息化局",
    "经信局": "经济和信息化局",
    "科技局": "科学技术局",
    "民宗局": "民族宗教事务局",
    "林草局": "林业和草原局",
    "国资委": "国有资产监督管理委员会",
    "人防办": "人民防空办公室",
    "编办": "机构编制委员会办公室",
    "残联": "残疾人联合会",
    "政府办": "人民政府办公室",
    "管委会": "管理委员会",
    "区政府": "区人民政府",
    "县政府": "县人民政府",
    "市政府": "市人民政府",
    "镇政府": "镇人民政府",
    "乡政府": "乡人民政府",
}
_SHORT = re.compile("(" + "|".join(sorted(map(re.escape, ABBREVIATIONS), key=len, reverse=True)) + ")$")


def expand(name: str) -> str:
    """The full form of `name` by the table of standard abbreviations (unchanged when none applies)."""
    m = _SHORT.search(name)
    if not m:
        return name
    return name[: m.start()] + ABBREVIATIONS[m.group(1)]


def full_name(agency: str, statements: str) -> tuple[str, list[str]]:
    """(the name to file `agency` under, its aliases): the full form when `statements` (the report's text,
    its page's fields) state it, with the short form kept as an alias; else `agency` unchanged."""
    full = expand(agency)
    if full != agency and full in statements:
        return full, [agency]
    return agency, []


def canonical_key(name: str) -> str:
    """The key that links one organ's names across years: the full form, spaces and brackets dropped."""
    return re.sub(r"[\s()（）]", "", expand(name))
