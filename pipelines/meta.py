"""Title, agency and reporting year, taken only from where the report states them.

A wrong agency or year silently misfiles a report in the archive, so every rule here is conservative:
the title line first, then explicit statements in the opening paragraphs; None when nothing says it.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from .normalize import clean

_TITLE_MARKS = ("年度报告", "年报", "公开工作报告")
_ATTACHMENT = re.compile(r"^附件\s*\d*\s*[:：]?\s*")
_CN_DIGITS = {
    "〇": "0",
    "零": "0",
    "○": "0",
    "一": "1",
    "二": "2",
    "三": "3",
    "四": "4",
    "五": "5",
    "六": "6",
    "七": "7",
    "八": "8",
    "九": "9",
}
_YEAR = r"((?:19|20)\d{2}|[〇零○一二三四五六七八九]{4})"
_TITLE = re.compile(rf"^(?P<before>.*?){_YEAR}年度?(?P<after>.*)$")
_SUFFIX = (
    r"(?:委员会|管理委员会|管委会|街道办事处|办事处|办公室|人民政府|政府|服务中心|中心|局|委|厅|院|署|办|"
    r"街道|镇|乡)"
)
_NAME = rf"([\u4e00-\u9fff]{{2,30}}?{_SUFFIX})"
_ALIAS = re.compile(rf"{_NAME}[(（]以下简称")
_ACTOR = re.compile(
    rf"(?:^|[，。；,;]|\d{{4}}年度?[，,]?){_NAME}(?:认真|坚持|深入|始终|严格|高度|紧紧|全面|积极|切实|在)"
)
_AGENCY_LINE = re.compile(rf"^[\u4e00-\u9fff()]{{2,30}}{_SUFFIX}$")
_PROSE = re.compile(r"[,;。]|如下")
# A name found in prose must carry a place before its office ("西城区卫生健康委员会"), not just "区政府".
_PLACED = re.compile(r"^[\u4e00-\u9fff]+?(?:省|市|区|县|州|盟|旗)[\u4e00-\u9fff]{2,}")
_NOT_NAME = re.compile(r"^(?:我|本|该|各|全|市委|区委|县委|省委)|党")
_PERIOD = re.compile(r"(\d{4})年1月1日起?(?:至|到|-|—|~)(?:(\d{4})年)?12月31日")
_YEAR_LEAD = re.compile(r"^(?:在)?(\d{4})年(?:度|以来)?[，,]")
_YEAR_WE = re.compile(
    r"(\d{4})年度?[，,]?(?:我|本)(?:局|委|办|厅|院|中心|单位|机关|街道|镇|乡|部|署|会|区|县|市)"
)


@dataclass
class Meta:
    title: str | None = None
    agency: str | None = None
    year: int | None = None


def _year(token: str) -> int | None:
    digits = "".join(_CN_DIGITS.get(ch, ch) for ch in token)
    year = int(digits) if digits.isdigit() else 0
    return year if 2000 <= year <= 2100 else None


def _squash(text: str) -> str:
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", text))


# Field labels and markup other tools put before a title (PATTERNS A5): "标题: …", "名称 …", "# …".
_FIELD_LABEL = re.compile(
    r"^(?:#+\s*|>\s*)?(?:(?:文章)?标题|名称|题名|文件名称|主题|title)\s*[:：]?\s*", re.I
)
_MARKUP = re.compile(r"^(?:#+|>)\s*|\*\*")
# A metadata strip (发文日期: … 分类: … 索引号: …) is not a title even when it names the report.
_STRIP_FIELDS = re.compile(
    r"(?:发文日期|发布日期|公开日期|成文日期|来源|分类|索引号|字号|文号|发布机构|浏览次数|采集时间)\s*[:：]"
)


def title_line(line: str) -> str:
    """A line as a title candidate: markup and a leading field label stripped, 附件N removed."""
    text = _MARKUP.sub("", clean(line)).strip()
    text = _FIELD_LABEL.sub("", text).strip()
    return _ATTACHMENT.sub("", text)


def find_title(lines: list[str]) -> str | None:
    """The first short line naming the report (…年度报告 / …年报), with 附件N stripped. A centred title
    broken after the agency ("X人民政府" / "2024年政府信息公开工作年度报告") is joined back."""
    previous = before = ""
    for line in lines:
        if _strip_only(line):
            continue
        text = title_line(line)
        if text and any(m in text for m in _TITLE_MARKS) and len(text) <= 80 and not _PROSE.search(text):
            if not re.search(rf"{_YEAR}\s*年", text) and re.search(rf"{_YEAR}\s*年", previous):
                # "…2023年政府信息公开" / "工作年度报告": one title broken over two lines
                text, previous = previous + text, before
            starts_with_year = re.match(rf"^{_YEAR}\s*年", text)
            return f"{previous} {text}" if starts_with_year and _AGENCY_LINE.match(previous) else text
        if text:
            before, previous = previous, text
    return None


def _strip_only(line: str) -> bool:
    """A metadata strip: two or more labelled fields on one line, or a line that opens with a field label."""
    text = clean(line)
    return len(_STRIP_FIELDS.findall(text)) >= 2 or bool(_STRIP_FIELDS.match(text))


def _name(candidate: str) -> str | None:
    name = candidate.removeprefix("关于").removesuffix("的")
    if len(name) < 2 or _NOT_NAME.search(name) or "政府信息公开" in name or "政务公开" in name:
        return None
    return name


def from_title(title: str) -> tuple[str | None, int | None]:
    """(agency, year) from "X2024年政府信息公开工作年度报告" or "2024年X政府信息公开工作年度报告"."""
    m = _TITLE.match(_squash(title))
    if not m:
        return None, None
    agency = _name(m["before"])
    if agency is None:
        rest = re.split(r"政府信息公开|政务公开|信息公开", m["after"])[0]
        agency = _name(rest) if rest else None
    return agency, _year(m[2])


def agency_from_text(paragraphs: list[str]) -> str | None:
    """An agency named explicitly in the opening paragraphs ("X（以下简称…）", "2024年，X认真贯彻…")."""
    for para in paragraphs:
        text = _squash(para)
        for pattern in (_ALIAS, _ACTOR):
            for m in pattern.finditer(text):
                name = _name(m.group(1))
                if name and _PLACED.match(name):
                    return name
    return None


def year_from_text(whole: str, overview: list[str]) -> int | None:
    """The reporting year from the statistics period, else from "2025年，我局…" in the first section."""
    for m in _PERIOD.finditer(_squash(whole)):
        if not m[2] or m[2] == m[1]:
            return _year(m[1])
    for line in overview:
        text = _squash(line)
        lead = _YEAR_LEAD.match(text) or _YEAR_WE.search(text)
        if lead:
            return _year(lead[1])
    return None


def describe(
    lines: list[str], opening: list[str], overview: list[str], title_hint: str | None = None
) -> Meta:
    """Title, agency and year. `opening` = lines before the first section heading (or the first lines),
    `overview` = lines of section 一; `title_hint` = a title the extractor found (HTML <title>, PDF metadata)."""
    title = find_title(opening) or (find_title([title_hint]) if title_hint else None)
    agency, year = from_title(title) if title else (None, None)
    if agency is None:
        agency = agency_from_text([ln for ln in [*opening, *overview] if ln.strip()][:6])
    if year is None:
        year = year_from_text("\n".join(lines), overview)
    return Meta(title, agency, year)
