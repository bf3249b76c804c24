"""Title, agency and reporting year, taken only from where the report states them.

A wrong agency or year silently misfiles a report in the archive, so every rule here is conservative:
the title line first, then explicit statements in the opening paragraphs; None when nothing says it.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from typing import Any

from .agency_names import full_name
from .extract.page_meta import PageMeta, fields_from_lines, from_fields
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
    """Title, agency, year and publication date, each with where it came from (docs/architecture.md)."""

    title: str | None = None
    agency: str | None = None
    year: int | None = None
    title_source: str | None = None
    agency_source: str | None = None
    year_source: str | None = None
    published_date: str | None = None
    published_date_source: str | None = None
    agency_aliases: list[str] = field(default_factory=list)
    page: PageMeta = field(default_factory=PageMeta)

    def sources(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "title_source": self.title_source,
            "agency_source": self.agency_source,
            "year_source": self.year_source,
            "published_date_source": self.published_date_source,
            "agency_aliases": self.agency_aliases,
        }
        return {k: v for k, v in out.items() if v}


def _year(token: str) -> int | None:
    digits = "".join(_CN_DIGITS.get(ch, ch) for ch in token)
    year = int(digits) if digits.isdigit() else 0
    return year if 2000 <= year <= 2100 else None


def _squash(text: str) -> str:
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", text))


# Field labels and markup other tools put before a title (PATTERNS A5): "标题: …", "名称 …", "# …".
_FIELD_LABEL = re.compile(
    r"^(?:#+\s*|>\s*)?(?:(?:文\s*章\s*)?标\s*题|名\s*称|题\s*名|文件名称|主\s*题|title)\s*[:：]?\s*", re.I
)
# Layout spaces inside a title (a PDF's "X局 2025 年…", a cell's <br>): none sits next to a Chinese character.
_TITLE_SPACE = re.compile(r"(?<=[\u4e00-\u9fff\d（）()《》“”])\s+|\s+(?=[\u4e00-\u9fff\d（）()《》“”])")
_MARKUP = re.compile(r"^(?:#+|>)\s*|\*\*")
# A metadata strip (发文日期: … 分类: … 索引号: …) is not a title even when it names the report.
_STRIP_FIELDS = re.compile(
    r"(?:发文日期|发布日期|公开日期|成文日期|来源|分类|索引号|字号|文号|发布机构|浏览次数|采集时间)\s*[:：]"
)


def title_line(line: str) -> str:
    """A line as a title candidate: markup and a leading field label stripped, 附件N removed."""
    text = _MARKUP.sub("", clean(line)).strip()
    text = _FIELD_LABEL.sub("", text).strip()
    return _TITLE_SPACE.sub("", _ATTACHMENT.sub("", text))


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
            return previous + text if starts_with_year and _AGENCY_LINE.match(previous) else text
        if text:
            before, previous = previous, text
    return None


_CRUMB = re.compile(r"^(?:当前位置|您现在的位置|您的位置|所在位置|位置)\s*[:：]|\S\s*(?:>|»|›|＞)\s*\S")


def _strip_only(line: str) -> bool:
    """A metadata strip (two or more labelled fields on one line, or a line that opens with a field label)
    or a breadcrumb (当前位置：首页 > … > 信息公开年报): never a title."""
    text = clean(line)
    return (
        len(_STRIP_FIELDS.findall(text)) >= 2 or bool(_STRIP_FIELDS.match(text)) or bool(_CRUMB.search(text))
    )


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


def title_candidate(value: str | None) -> str | None:
    """A statement of the title, cleaned (labels, markup, a site's name after `_`/`|`), or None when it does
    not name a report."""
    if not value or _strip_only(value):
        return None
    for part in re.split(r"\s*(?:_|\||｜|——|(?<!\d)-+(?!\d))\s*", value):
        text = title_line(part)
        if text and any(m in text for m in _TITLE_MARKS) and len(text) <= 80 and not _PROSE.search(text):
            return text
    return None


def _fuller(chosen: str, candidates: list[tuple[str, str]]) -> tuple[str, str] | None:
    """A lower-precedence statement of the same title that adds to its start (the agency a page meta left
    out of "2023年政府信息公开工作年度报告")."""
    short = _squash(chosen)
    for text, source in candidates:
        if _squash(text).endswith(short) and len(_squash(text)) > len(short):
            return text, source
    return None


_DATE_LINE = re.compile(r"^\s*((?:19|20)\d{2})\s*[年\-/.]\s*(\d{1,2})\s*[月\-/.]\s*(\d{1,2})\s*日?\s*$")


def date_line(lines: list[str]) -> str | None:
    """The report's own date line (the date under the signature, among its last lines), as YYYY-MM-DD."""
    tail = [ln for ln in lines if ln.strip()][-12:]
    for line in reversed(tail):
        m = _DATE_LINE.match(unicodedata.normalize("NFKC", line))
        if m:
            y, mo, d = (int(g) for g in m.groups())
            if 1 <= mo <= 12 and 1 <= d <= 31:
                return f"{y:04d}-{mo:02d}-{d:02d}"
    return None


def describe(
    lines: list[str],
    opening: list[str],
    overview: list[str],
    title_hint: str | None = None,
    page: PageMeta | None = None,
) -> Meta:
    """Title, agency, year and publication date, each with its source, in the documented precedence.

    `opening` = lines before the first section heading (or the first lines), `overview` = lines of section
    一; `title_hint` = a title the extractor found (a page's headline or <title>, a file's metadata); `page` =
    what the page around the document states (meta tags, labelled fields), merged with the labelled fields
    of the document's own opening lines. Registry and link text are applied later (pipelines/read.py).
    """
    page = (page or PageMeta()).merge(from_fields(fields_from_lines(opening)))
    meta = Meta()
    statements = [
        (title_candidate(page.title), page.title_source or "page_field"),
        (find_title(opening), "document"),
        (title_candidate(title_hint), "extractor"),
    ]
    titles = [(t, src) for t, src in statements if t]
    if titles:
        meta.title, meta.title_source = titles[0]
        fuller = _fuller(meta.title, titles[1:])
        if fuller:
            meta.title, meta.title_source = fuller
    for text, _source in titles:
        agency, year = from_title(text)
        if meta.agency is None and agency:
            meta.agency, meta.agency_source = agency, "title"
        if meta.year is None and year:
            meta.year, meta.year_source = year, "title"
    if meta.agency is None:
        meta.agency = agency_from_text([ln for ln in [*opening, *overview] if ln.strip()][:6])
        meta.agency_source = "text" if meta.agency else None
    if meta.agency is None and page.agency:
        meta.agency, meta.agency_source = page.agency, page.agency_source
    if meta.agency:
        stated = _squash("\n".join([*lines, page.agency or "", page.title or ""]))
        meta.agency = _organ_of_place(meta.agency, stated)
        meta.agency, meta.agency_aliases = full_name(meta.agency, stated)
    if meta.year is None:
        meta.year = year_from_text("\n".join(lines), overview)
        meta.year_source = "text" if meta.year else None
    meta.published_date, meta.published_date_source = page.published_date, page.published_date_source
    guessed = meta.published_date_source in (None, "page_guess")
    own = date_line(lines)
    if guessed and own and _after_year(own, meta.year):
        meta.published_date, meta.published_date_source = own, "document"
    if meta.published_date_source in ("page_guess", "document") and not _after_year(
        meta.published_date, meta.year
    ):
        meta.published_date = meta.published_date_source = None  # a date inside the year reported on
    if meta.year is None and meta.published_date:
        meta.year, meta.year_source = int(meta.published_date[:4]) - 1, "published_date"
    meta.page = page
    return meta


# A character of a place name: not one of the function words prose puts before a name (本报告由…, 在…).
_PLACE_CHAR = r"[^\W\d_a-zA-Z由在对本报告于的为是和与将按经从向以及据根年月日,，。；：]"
_TOWNSHIP = re.compile(r"^[\u4e00-\u9fff]{1,8}(?:乡|镇)(?:人民政府|政府)$|^[\u4e00-\u9fff]{1,8}街道办事处$")
_BARE_PLACE = re.compile(r"^[\u4e00-\u9fff]{1,12}(?:省|市|区|县|州|盟|旗|镇|乡)$")


def _organ_of_place(agency: str, stated: str) -> str:
    """A title naming only a place ("溪林县2017年…", "石桥镇2023年…") is that place's government's report:
    place + 人民政府. A township's organ (many counties have a 石桥镇) takes the places above it when a
    statement opens with them ("溪林县石桥镇人民政府")."""
    if _BARE_PLACE.match(agency):
        agency += "人民政府"
    elif not _TOWNSHIP.match(agency):
        return agency
    # the places above it ("溪林县" before "石桥镇") only where a statement starts with them
    found = re.findall(
        rf"(?:^|[\s，。；：:,;、（(“\"])((?:{_PLACE_CHAR}{{1,6}}?(?:省|市|区|县|州|盟|旗)){{1,3}}){re.escape(agency)}",
        stated,
    )
    return (max(found, key=len) if found else "") + agency


def _after_year(iso: str | None, year: int | None) -> bool:
    """A report on `year` is published after that year ends; a date inside it is another date."""
    return iso is not None and (year is None or iso[:4] > str(year))
