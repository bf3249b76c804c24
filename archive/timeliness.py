"""Legal publication deadlines (FORMAT.md §0.1) and how late a report was published."""

from __future__ import annotations

import re
from datetime import date

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
