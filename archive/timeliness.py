"""Legal publication deadlines (FORMAT.md §0.1) and how late a report was published."""

from __future__ import annotations

import re
from datetime import date
from typing import Any

# A county-or-higher people's government's own consolidated report is due 31 March; its departments',
# 31 January (条例 第四十九条, reports for 2019 on). Before the 2019 条例 every report was due 31 March.
_GOVERNMENT = re.compile(r"人民政府$|人民政府办公室$|政府$")
_NOT_COUNTY_OR_HIGHER = re.compile(r"(乡|镇|街道)")


def is_government_report(agency: str | None) -> bool:
    """True for a people's government's own report (not a department's, not a township's)."""
    if not agency:
        return False
    name = agency.strip()
    return bool(_GOVERNMENT.search(name)) and not _NOT_COUNTY_OR_HIGHER.search(name[-8:])


def deadline_for(year: int | None, agency: str | None = None, level: str | None = None) -> date | None:
    """The statutory publication deadline for the report on `year`, or None when the year is unknown."""
    if not year:
        return None
    if year < 2019 or is_government_report(agency) or level == "政府":
        return date(year + 1, 3, 31)
    return date(year + 1, 1, 31)


def parse_date(value: str | None) -> date | None:
    """The first date in `value` (2025-01-20, 2025/1/20, 2025年1月20日, 20250120)."""
    if not value:
        return None
    m = re.search(r"(20\d\d|19\d\d)\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})", value)
    if not m:
        m = re.search(r"(20\d\d)(\d\d)(\d\d)", value)
    if not m:
        return None
    try:
        return date(int(m.group(1)), int(m.group(2)), int(m.group(3)))
    except ValueError:
        return None


def days_late(published: str | None, deadline: date | None) -> int | None:
    """Days after the deadline (0 or negative when on time); None when either date is unknown."""
    pub = parse_date(published)
    if pub is None or deadline is None:
        return None
    return (pub - deadline).days


# URL date tokens that CMSs put in article paths: TRS WCM `/202501/t20250120_123.html`, Hanweb
# `/art/2025/1/20/art_…`, and plain `/2025/01/20/`, `/2025-01-20/` or an 8-digit `20250120` token.
_URL_DATES = (
    re.compile(r"/t(20\d\d)(\d\d)(\d\d)_"),
    re.compile(r"/art/(20\d\d)/(\d{1,2})/(\d{1,2})/"),
    re.compile(r"/(20\d\d)[/-](\d{1,2})[/-](\d{1,2})(?:/|\.|_|$)"),
    re.compile(r"(?<!\d)(20\d\d)(0[1-9]|1[0-2])(0[1-9]|[12]\d|3[01])(?!\d)"),
)


def date_from_url(url: str | None, year: int | None = None) -> date | None:
    """The publication date a CMS wrote into an http(s) URL, or None.

    With the report `year`, a date not after 31 December of that year is ignored (it cannot be the
    publication of the report on that year: it is a column's or an older article's date).
    """
    if not url or not url.lower().startswith(("http://", "https://")):
        return None
    path = url.split("://", 1)[1]
    path = path[path.find("/") :] if "/" in path else ""
    for pattern in _URL_DATES:
        for m in pattern.finditer(path):
            try:
                found = date(int(m.group(1)), int(m.group(2)), int(m.group(3)))
            except ValueError:
                continue
            if year and found <= date(year, 12, 31):
                continue
            return found
    return None


def report_dates(
    version_date: str | None,
    document_date: str | None,
    url: str | None,
    year: int | None,
    agency: str | None,
    level: str | None,
) -> dict[str, Any]:
    """A report's publication date, where it came from, its statutory deadline and days late.

    Sources, best first: `page` (the page's or the HTTP metadata, kept on the version), `document` (a date
    the extractor found in the document), `url` (a date token the CMS wrote into the URL).
    """
    published, source = version_date, "page" if version_date else None
    if not published and document_date:
        published, source = document_date, "document"
    if not published:
        found = date_from_url(url, year)
        if found is not None:
            published, source = found.isoformat(), "url"
    deadline = deadline_for(year, agency, level)
    return {
        "published_date": published,
        "published_date_source": source,
        "deadline": deadline.isoformat() if deadline else None,
        "days_late": days_late(published, deadline),
    }
