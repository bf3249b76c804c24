"""What a page says about the document it carries (PATTERNS A5, A6, B3, B4): title, publishing agency,
publication date, column and index number, from its <meta> tags and its labelled fields.

Sources, each recorded with the value: `page_meta` (TRS WCM's ArticleTitle / PubDate / ContentSource /
ColumnName and common variants), `page_field` (标题 / 名称 / 发布机构 / 公开日期 … in a metadata table, a strip
`发布日期：2024-03-29 来源：… 字号：`, or a JSON API's fields). A capture wrapper's time (采集时间, 抓取时间 …)
is recorded as such and never becomes a publication date. Which source wins over the report's own text is
decided in pipelines/meta.py (`settle`), not here.
"""

from __future__ import annotations

import itertools
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from typing import Any

from lxml import etree

# Labels of the fields a page or an archiver prints, by what they give. Order inside a kind = precedence.
_TITLE_LABELS = ("标题", "文章标题", "名称", "文件名称", "题名", "信息名称")
_AGENCY_LABELS = ("发布机构", "发文机关", "发文单位", "发布单位", "公开主体", "信息来源", "文章来源", "来源")
_DATE_LABELS = (
    "公开日期",
    "发布日期",
    "发布时间",
    "公开时间",
    "发文日期",
    "成文日期",
    "生成日期",
    "日期",
    "更新时间",
)
_CAPTURE_LABELS = (
    "采集时间",
    "抓取时间",
    "采集日期",
    "抓取日期",
    "存档时间",
    "归档时间",
    "保存时间",
    "快照时间",
)
_OTHER_LABELS = (
    "索引号",
    "分类",
    "主题分类",
    "信息分类",
    "字号",
    "文号",
    "发文字号",
    "浏览次数",
    "点击数",
    "有效性",
)
_ALL_LABELS = sorted(
    {*_TITLE_LABELS, *_AGENCY_LABELS, *_DATE_LABELS, *_CAPTURE_LABELS, *_OTHER_LABELS}, key=len, reverse=True
)
_LABEL_SET = frozenset(_ALL_LABELS)
# A label is a field label only where a field starts: line start, after a tab/space/separator, then ':'.
# Labels may be spaced out to a column's width ("名　　称", "索 引 号").
_FIELD = re.compile(
    r"(?:^|(?<=[\s|｜/]))(?P<label>" + "|".join(r"\s*".join(lb) for lb in _ALL_LABELS) + r")\s*[:：]\s*", re.M
)
# A value also ends where a field this module does not know starts ("来源：示例县人民政府 作者：办公室").
_UNKNOWN_LABEL = re.compile(r"\s+(?=[\u4e00-\u9fffA-Za-z]{1,8}\s*[:：])")
_DATE = re.compile(r"((?:19|20)\d{2})\s*[-年/.]\s*(\d{1,2})\s*[-月/.]\s*(\d{1,2})")
_META_TITLE = ("ArticleTitle", "articletitle", "title", "og:title", "twitter:title", "DC.Title")
_META_DATE = (
    "PubDate",
    "pubdate",
    "publishdate",
    "PublishDate",
    "firstpublishedtime",
    "article:published_time",
    "DC.Date",
    "dcterms.created",
    "date",
)
_META_AGENCY = ("ContentSource", "contentsource", "source", "Author", "author", "DC.Publisher", "publisher")
_META_COLUMN = ("ColumnName", "columnname", "column", "ColumnDescription")
# JSON API field names (lower-cased, without _ and -) for the same things.
_JSON = {
    "title": ("title", "articletitle", "doctitle", "name", "infoname", "xxmc"),
    "agency": ("source", "publisher", "orgname", "deptname", "fbjg", "publishorg", "contentsource", "author"),
    "date": ("publishdate", "pubdate", "publishtime", "releasetime", "pubtime", "fbrq", "fbsj", "docreltime"),
    "column": ("channelname", "columnname", "catalogname"),
}
# An agency value must end like an organ's name: a site's name ("示例县人民政府网"), "本网" or a person is not.
_ORGAN = re.compile(
    r"(?:委员会|管委会|办事处|办公室|办公厅|人民政府|政府|中心|局|委|厅|院|署|办|街道|镇|乡|所|队|站|馆|会)$"
)


@dataclass
class PageMeta:
    """One page's statements about its document; each value with the source kind and the label it had."""

    title: str | None = None
    title_source: str | None = None
    title_label: str | None = None
    agency: str | None = None
    agency_source: str | None = None
    agency_label: str | None = None
    published_date: str | None = None
    published_date_source: str | None = None
    published_date_label: str | None = None
    column: str | None = None
    index_no: str | None = None
    capture_time: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {k: v for k, v in asdict(self).items() if v is not None}

    def merge(self, other: PageMeta) -> PageMeta:
        """Fill what this one lacks from `other` (a lower-precedence source)."""
        for key, value in asdict(other).items():
            if getattr(self, key) is None and value is not None:
                setattr(self, key, value)
        return self


def _norm(value: str) -> str:
    return re.sub(r"\s+", " ", unicodedata.normalize("NFKC", value)).strip()


def iso_date(value: str | None) -> str | None:
    """The first plausible date in `value` as YYYY-MM-DD."""
    m = _DATE.search(value or "")
    if not m:
        return None
    y, mo, d = (int(g) for g in m.groups())
    return f"{y:04d}-{mo:02d}-{d:02d}" if 1990 <= y <= 2100 and 1 <= mo <= 12 and 1 <= d <= 31 else None


def clean_agency(value: str | None) -> str | None:
    """An agency value as a name: labels and site decorations dropped; None when it names no organ."""
    if not value:
        return None
    text = _norm(value).replace(" ", "")
    text = re.split(r"[,，;；|｜/、]", text)[0]
    text = re.sub(r"(?:网站|门户网站|网)$", "", text)
    if not (2 <= len(text) <= 40) or not _ORGAN.search(text) or _FIELD.search(text):
        return None
    if re.search(r"[:：\d]", text) or text in ("本网", "本站"):
        return None
    return text


def fields_from_lines(lines: Iterable[str]) -> dict[str, tuple[str, str]]:
    """Labelled fields in text lines: {label: (value, line)}; the first occurrence of each label.

    A line may hold several fields (`发布日期：2024-03-29 来源：示例县 字号：`, or a metadata table's row
    linearised with tabs); a value runs to the next field label, a tab or the line's end."""
    out: dict[str, tuple[str, str]] = {}
    for raw in lines:
        line = unicodedata.normalize("NFKC", raw)
        if len(line) > 400:
            continue  # prose, not a metadata field
        if "\t" in line:  # a metadata table's row: label cells without a colon, each before its value
            cells = [c.strip() for c in line.split("\t") if c.strip()]
            for label, value in itertools.pairwise(cells):
                label = re.sub(r"\s+", "", label.rstrip(":："))
                if (
                    label in _LABEL_SET
                    and value
                    and re.sub(r"\s+", "", value.rstrip(":：")) not in _LABEL_SET
                ):
                    out.setdefault(label, (_norm(value), raw))
        marks = list(_FIELD.finditer(line))
        for i, m in enumerate(marks):
            end = marks[i + 1].start() if i + 1 < len(marks) else len(line)
            value = _UNKNOWN_LABEL.split(line[m.end() : end].split("\t")[0].strip())[0]
            if not value and "\t" in line[m.end() : end]:
                value = line[m.end() : end].strip("\t ").split("\t")[0].strip()
            label = re.sub(r"\s+", "", m["label"])
            if value and label not in out:
                out[label] = (_norm(value), raw)
    return out


def from_fields(fields: dict[str, tuple[str, str]], source: str = "page_field") -> PageMeta:
    """A PageMeta from labelled fields, each kind taken from its best label."""
    page = PageMeta()
    for label in _TITLE_LABELS:
        if label in fields and page.title is None:
            page.title, page.title_source, page.title_label = fields[label][0], source, label
    for label in _AGENCY_LABELS:
        agency = clean_agency(fields[label][0]) if label in fields else None
        if agency and page.agency is None:
            page.agency, page.agency_source, page.agency_label = agency, source, label
    for label in _DATE_LABELS:
        found = iso_date(fields[label][0]) if label in fields else None
        if found and page.published_date is None:
            page.published_date, page.published_date_source, page.published_date_label = found, source, label
    for label in _CAPTURE_LABELS:
        if label in fields and page.capture_time is None:
            page.capture_time = fields[label][0]
    for label in ("分类", "主题分类", "信息分类"):
        if label in fields and page.column is None:
            page.column = fields[label][0]
    if "索引号" in fields:
        page.index_no = fields["索引号"][0]
    return page


def from_meta_tags(meta: dict[str, str]) -> PageMeta:
    """A PageMeta from <meta name|property=… content=…> tags (TRS WCM's and common variants)."""
    page = PageMeta()
    for name in _META_TITLE:
        value = _norm(meta.get(name, ""))
        if value:
            page.title, page.title_source, page.title_label = value, "page_meta", name
            break
    for name in _META_DATE:
        found = iso_date(meta.get(name))
        if found:
            page.published_date, page.published_date_source, page.published_date_label = (
                found,
                "page_meta",
                name,
            )
            break
    for name in _META_AGENCY:
        agency = clean_agency(meta.get(name))
        if agency:
            page.agency, page.agency_source, page.agency_label = agency, "page_meta", name
            break
    for name in _META_COLUMN:
        value = _norm(meta.get(name, ""))
        if value:
            page.column = value
            break
    return page


def from_json_fields(fields: dict[str, str]) -> PageMeta:
    """A PageMeta from a JSON API answer's scalar fields (title, publishDate, source, channelName …)."""
    keyed = {re.sub(r"[_\-]", "", k).lower(): v for k, v in fields.items()}
    page = PageMeta()
    for name in _JSON["title"]:
        if keyed.get(name, "").strip():
            page.title, page.title_source, page.title_label = _norm(keyed[name]), "page_field", name
            break
    for name in _JSON["agency"]:
        agency = clean_agency(keyed.get(name))
        if agency:
            page.agency, page.agency_source, page.agency_label = agency, "page_field", name
            break
    for name in _JSON["date"]:
        found = iso_date(keyed.get(name))
        if found:
            page.published_date, page.published_date_source, page.published_date_label = (
                found,
                "page_field",
                name,
            )
            break
    for name in _JSON["column"]:
        if keyed.get(name):
            page.column = _norm(keyed[name])
            break
    return page


def from_elements(root: etree._Element) -> PageMeta:
    """Dates in a platform's own elements (Jiangsu 集约化 pages' `<publishtime>`)."""
    page = PageMeta()
    for el in root.iter("publishtime", "pubtime", "publishdate"):
        found = iso_date(el.text_content() if hasattr(el, "text_content") else el.text)
        if found:
            label = str(el.tag)
            page.published_date, page.published_date_source, page.published_date_label = (
                found,
                "page_field",
                label,
            )
            break
    return page


def read_page(root: etree._Element, meta: dict[str, str], lines: Iterable[str]) -> PageMeta:
    """A page's metadata: its <meta> tags first, then its labelled fields and date elements."""
    return from_meta_tags(meta).merge(from_fields(fields_from_lines(lines))).merge(from_elements(root))
