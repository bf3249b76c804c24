"""Recognise annual-report titles, disclosure/annual-report columns, pagination and attachment links.

All decisions are made on normalised text (no spaces, ASCII digits, 二〇二三 → 2023). A report title needs
a year, an information-disclosure phrase and an annual-report phrase; look-alikes (工作要点, 月报, 统计年报,
企业年报, 法治政府建设年度报告, 决算 …) are rejected first, so a decoy can never pass on a lucky match.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from urllib.parse import parse_qsl, unquote, urlsplit

_CN_DIGITS = str.maketrans("〇零一二三四五六七八九○Ｏ", "001234567890" + "0")
_FULLWIDTH = str.maketrans("０１２３４５６７８９（）［］【】", "0123456789()[][]")

YEAR_RE = re.compile(r"(?<!\d)((?:19|20)\d{2})(?!\d)")
_CN_YEAR_RE = re.compile(r"[〇零一二三四五六七八九○Ｏ]{4}(?=年)")

# A report: (政府|政务)信息公开 … 年度报告/年报/工作报告, or 政务公开 … 年度报告/年报.
_REPORT_RE = re.compile(
    r"(?:(?:政府|政务)?信息公开.{0,10}?(?:年度报告|年报|工作报告|工作情况报告|年度工作报告)"
    r"|政务公开.{0,6}?(?:年度报告|年报)"
    r"|信息公开年报|公开年报)"
)
# Under an annual-report column a bare "2023年度报告" / "2023年年报" is enough.
_COLUMN_REPORT_RE = re.compile(r"(?:年度报告|年报|年度工作报告)")

# Look-alikes that must never be taken for a report, checked before anything else.
_REJECT = [
    ("工作要点", "work plan (工作要点)"),
    ("要点", "work plan (要点)"),
    ("月报", "monthly report"),
    ("季报", "quarterly report"),
    ("工作总结", "work summary (工作总结)"),
    ("工作计划", "work plan (工作计划)"),
    ("工作方案", "work plan (工作方案)"),
    ("政府工作报告", "government work report"),
    ("统计年报", "statistical yearbook"),
    ("统计公报", "statistical bulletin"),
    ("统计年鉴", "statistical yearbook"),
    ("决算", "final accounts"),
    ("预算", "budget"),
    ("企业年报", "enterprise annual report"),
    ("工商年报", "enterprise annual report"),
    ("年报公示", "enterprise annual report"),
    ("年度报告公示", "enterprise annual report"),
    ("法治政府建设", "rule-of-law report"),
    ("依法行政", "rule-of-law report"),
    ("通知", "notice about reports"),
    ("报送", "notice about reports"),
    ("编制", "notice about reports"),
    ("评估", "evaluation"),
    ("测评", "evaluation"),
    ("考核", "evaluation"),
    ("解读", "interpretation"),
    ("图解", "interpretation"),
    ("社会信用", "credit report"),
    ("环境信息", "environmental disclosure"),
    ("网站工作年度报告", "website annual report"),
    ("政府网站", "website annual report"),
    ("新媒体", "website annual report"),
]

# Columns worth entering from a portal page, by link text and by URL token.
_ANNUAL_COLUMN_TEXT = re.compile(r"(?:信息公开年报|公开年报|年度报告|年报|工作年度报告)")
_DISCLOSURE_COLUMN_TEXT = re.compile(
    r"(?:政府信息公开|信息公开|政务公开|法定主动公开|主动公开|公开目录|信息公开目录|部门信息公开|乡镇信息公开|街道信息公开)"
)
_ANNUAL_URL_TOKENS = {"gknb", "zfxxgknb", "xxgknb", "ndbg", "zfxxgkndbg", "nb", "gknb1", "xxgkndbg", "ndbb"}
_DISCLOSURE_URL_TOKENS = {
    "zfxxgk",
    "xxgk",
    "zwgk",
    "xxgkml",
    "gkml",
    "zfxxgkml",
    "fdzdgknr",
    "zdgk",
    "zwxxgk",
    "govinfo",
    "xxgkzl",
    "zfxxgkzl",
    "public",
}
_TOKEN_SPLIT = re.compile(r"[/_\-.?=&]+")
# Never follow these as columns even if a token matches (forms, searches, feedback).
_COLUMN_DENY_TEXT = re.compile(r"(?:申请|指南|制度|意见箱|留言|登录|注册|检索|搜索|纠错|企业年报)")

PAGINATION_TEXT = re.compile(
    r"^(?:下一页|下页|后页|尾页|末页|最后一页|上一页|上页|前页|首页|第一页|>|>>|»|›|\d{1,4}|\[\d{1,4}\])$"
)
LAST_PAGE_TEXT = re.compile(r"^(?:尾页|末页|最后一页)$")
PAGE_PARAMS = (
    "page",
    "pageindex",
    "pageno",
    "pagenum",
    "pagenumber",
    "curpage",
    "currentpage",
    "p",
    "pn",
    "cpage",
    "pageidx",
    "page_no",
    "page_num",
    "startpage",
)
TRS_PAGE_RE = re.compile(r"/(?:index|default|list|index_\w+?)_(\d+)\.s?html?$", re.I)

ATTACHMENT_EXT = {
    "pdf",
    "doc",
    "docx",
    "wps",
    "xls",
    "xlsx",
    "et",
    "ofd",
    "jpg",
    "jpeg",
    "png",
    "gif",
    "tif",
    "tiff",
    "bmp",
    "zip",
    "rar",
    "7z",
    "txt",
    "rtf",
    "odt",
    "ods",
    "csv",
    "pptx",
    "ppt",
}
_DOWNLOAD_TOKENS = re.compile(
    r"(?:download|downfile|downloadfile|getfile|filedown|attachment|fujian|/attach|"
    r"showfile|fileview|file\.jsp|filedownload)",
    re.I,
)
HTML_EXT = {"html", "htm", "shtml", "jsp", "asp", "aspx", "php", "do", "action", "xhtml"}


@lru_cache(maxsize=1 << 14)
def normalize(text: str | None) -> str:
    """Fold spacing, full-width digits/brackets and Chinese-numeral years, for matching.

    This module's pure functions are cached: a portal repeats its menus, footers and list links on every
    page, and the spider asks about each of them on every page it parses."""
    if not text:
        return ""
    t = text.translate(_FULLWIDTH)
    t = _CN_YEAR_RE.sub(lambda m: m.group(0).translate(_CN_DIGITS), t)
    return re.sub(r"\s+", "", t)


def find_year(text: str | None) -> int | None:
    """The report year named in a title (the first plausible 4-digit year)."""
    for m in YEAR_RE.finditer(normalize(text)):
        year = int(m.group(1))
        if 2000 <= year <= 2099:
            return year
    return None


@dataclass(frozen=True)
class Verdict:
    """Why a title is or is not an annual report: `reason` names the rule, for logs and stats."""

    is_report: bool
    year: int | None
    reason: str
    decoy: bool = False

    def __bool__(self) -> bool:
        return self.is_report


# A document about reports (关于…的通知/函/批复), not a report.
_ABOUT_RE = re.compile(r"^关于|的(?:函|通知|批复|请示|意见|复函)$")


@lru_cache(maxsize=1 << 14)
def classify_title(title: str | None, *, in_report_column: bool = False) -> Verdict:
    """Is `title` (link text or title attribute) a 政府信息公开工作年度报告?

    `in_report_column`: the link sits on a list under an annual-report column, where "2023年度报告" alone is
    accepted. Decoys are only flagged (`decoy=True`) when the title looks like a yearly disclosure document.
    """
    t = normalize(title)
    if not t or len(t) > 120:
        return Verdict(False, None, "empty or too long")
    year = find_year(t)
    looks_annual = bool(
        _REPORT_RE.search(t)
        or (in_report_column and _COLUMN_REPORT_RE.search(t))
        or ("公开" in t and year is not None)
        or "年报" in t
    )
    for word, why in _REJECT:
        if word in t:
            return Verdict(False, year, why, decoy=looks_annual)
    if _ABOUT_RE.search(t):
        return Verdict(False, year, "a document about reports (关于…/…的函)", decoy=looks_annual)
    if year is None:
        return Verdict(False, None, "no year")
    if _REPORT_RE.search(t):
        return Verdict(True, year, "title")
    if in_report_column and _COLUMN_REPORT_RE.search(t):
        return Verdict(True, year, "title under annual-report column")
    return Verdict(False, year, "not a report title", decoy=looks_annual)


def url_tokens(url: str) -> set[str]:
    path = urlsplit(url).path.lower()
    return {tok for tok in _TOKEN_SPLIT.split(path) if tok}


@lru_cache(maxsize=1 << 14)
def column_kind(text: str | None, url: str) -> str | None:
    """'annual' for an annual-report column link, 'disclosure' for a disclosure column, else None."""
    t = normalize(text)
    if t and (_COLUMN_DENY_TEXT.search(t) or len(t) > 30):
        return None
    if t and classify_title(t).decoy:
        return None
    toks = url_tokens(url)
    if t and _ANNUAL_COLUMN_TEXT.search(t) and find_year(t) is None:
        return "annual"
    if t and _DISCLOSURE_COLUMN_TEXT.search(t):
        return "disclosure"
    # A bare URL token only counts for index-like pages, not for every article filed under /zfxxgknb/.
    last = urlsplit(url).path.rsplit("/", 1)[-1].lower()
    index_like = last in (
        "",
        "index.html",
        "index.htm",
        "index.shtml",
        "index.jsp",
        "default.html",
        "index.php",
        "list.html",
        "list.htm",
        "list.shtml",
        "list.jsp",
        "index.aspx",
        "default.aspx",
    )
    if not index_like or (t and find_year(t) is not None):
        return None
    if toks & _ANNUAL_URL_TOKENS:
        return "annual"
    if toks & _DISCLOSURE_URL_TOKENS:
        return "disclosure"
    return None


@lru_cache(maxsize=1 << 14)
def url_extension(url: str) -> str:
    name = unquote(urlsplit(url).path.rsplit("/", 1)[-1])
    return name.rsplit(".", 1)[-1].lower() if "." in name else ""


@lru_cache(maxsize=1 << 14)
def is_attachment_url(url: str) -> bool:
    """A file (pdf/doc/docx/wps/xls/xlsx/et/images/…) rather than a page, by extension or download-ish path."""
    ext = url_extension(url)
    if ext in ATTACHMENT_EXT:
        return True
    if ext in HTML_EXT:
        return bool(_DOWNLOAD_TOKENS.search(urlsplit(url).path))
    parts = urlsplit(url)
    return bool(
        _DOWNLOAD_TOKENS.search(parts.path)
        or any(k.lower() in ("fileid", "attachid", "filename", "file") for k, _ in parse_qsl(parts.query))
    )


@lru_cache(maxsize=1 << 14)
def page_param(url: str) -> tuple[str, int] | None:
    """The pagination query parameter of `url` and its value, e.g. ('page', 3)."""
    for key, value in parse_qsl(urlsplit(url).query, keep_blank_values=True):
        if key.lower() in PAGE_PARAMS and value.isdigit():
            return key, int(value)
    return None


# An agency's own name as link text, in a department or township catalogue (县教育局, 石桥镇, 某某街道办事处).
_AGENCY_NAME = re.compile(
    r"^[\u4e00-\u9fff（）()·]{1,18}?"
    r"(?:局|委|委员会|办|办公室|中心|院|署|所|站|队|馆|会|镇|乡|街道|街道办事处|管委会|管理委员会|人民政府|政府|公司)$"
)
# Link text of a catalogue of agencies: entering it, the agency links on the page are columns.
_CATALOGUE_TEXT = re.compile(
    r"^(?:县直|市直|区直|县级|市级|区级)?(?:部门|乡镇|镇街|街道|乡镇\(街道\)|镇\(街道\)|单位|区县|县区|县市区|市县)"
    r"(?:政府)?(?:信息公开|政务公开|公开|目录|导航|列表)?$"
)
# A year sub-column under an annual-report column: 2024年, 2024年度, 2024, 2024年年报.
_YEAR_COLUMN = re.compile(r"^(?:19|20)\d{2}(?:年度?|年度?(?:政府信息公开)?(?:工作)?(?:年度报告|年报))?$")
# Places named in a title: the county/city/district that publishes it (社区, 园区 … are not places).
_PLACE = re.compile(r"([\u4e00-\u9fff]{1,6}?(?:自治县|自治州|县|市|区|旗|盟))")
_NOT_PLACE = (
    "社区",
    "小区",
    "园区",
    "景区",
    "开发区",
    "新区",
    "高新区",
    "城区",
    "辖区",
    "市区",
    "市场",
    "县区",
    "市县",
)


def is_agency_name(text: str | None) -> bool:
    """A link text that is just an agency's name (a department or township catalogue entry)."""
    t = normalize(text)
    return bool(t) and len(t) <= 20 and find_year(t) is None and bool(_AGENCY_NAME.match(t))


def is_catalogue_text(text: str | None) -> bool:
    """A link text naming a catalogue of agencies (部门信息公开, 乡镇信息公开, 镇街公开 …)."""
    t = normalize(text)
    return bool(t) and len(t) <= 12 and bool(_CATALOGUE_TEXT.match(t)) and not _COLUMN_DENY_TEXT.search(t)


def year_column(text: str | None) -> int | None:
    """The year of a year sub-column link (`2024年`, `2023年度`) under an annual-report column."""
    t = normalize(text)
    return find_year(t) if t and _YEAR_COLUMN.match(t) else None


def locality(name: str | None) -> str | None:
    """The county/city/district a name starts with: 溪林县人民政府 → 溪林县, 某市某区教育局 → 某市某区."""
    t = normalize(name)
    out = ""
    pos = 0
    while True:
        m = _PLACE.match(t, pos)
        if not m or any(m.group(1).endswith(w) for w in _NOT_PLACE):
            break
        out += m.group(1)
        pos = m.end()
    return out or None


def title_places(title: str | None) -> list[str]:
    """Every place name in a title before its year (the publisher's place), e.g. ['青岚县']."""
    t = normalize(title)
    year = YEAR_RE.search(t)
    head = t[: year.start()] if year else t
    return [p for p in _PLACE.findall(head) if not any(p.endswith(w) for w in _NOT_PLACE) and len(p) >= 2]


def is_foreign_title(title: str | None, home: str | None) -> bool:
    """A report title published by another place than the portal's `home` locality (青岚县… on 溪林县's portal).

    Only a named place that neither contains nor is contained in the home locality counts; a title naming no
    place (石桥镇2023年…, 2023年度报告) is the portal's own.
    """
    if not home:
        return False
    places = title_places(title)
    if not places:
        return False
    return not any(p in home or home in p or _short(p) in home for p in places)


def _short(place: str) -> str:
    """溪林县 → 溪林: a title may drop the 县/市 suffix."""
    return place[:-1] if len(place) > 2 else place
