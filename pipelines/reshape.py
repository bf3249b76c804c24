"""Text as other tools hand it over, put back into lines a reader of the format expects (PATTERNS A1–A3).

Archivers and browsers' copy dump a page with no separators, sometimes a whole report on one line; PDF →
markdown converters add `#` heading marks and `**` emphasis. The parser reads by lines, so this step only
re-breaks lines where the report's own numbering or row labels start, and strips markup. It never changes
a digit: splitting runs of digits into cells is the job of `runs.py`, guided by the arithmetic.
"""

from __future__ import annotations

import re

from .codes import SECTIONS

_MD_HEADING = re.compile(r"^\s{0,3}#{1,6}\s*")
_MD_EMPHASIS = re.compile(r"\*\*|__")
# Where a row or heading of the report starts inside a run-together line.
_BREAKS = re.compile(
    r"(?=[一二三四五六七八九十][、.](?!\d))"  # 一、 二、 (section headings, table-3 rows 一–四)
    r"|(?<!第)(?=[（(][一二三四五六七][）)])"  # （一）… but never 第（一）项
    r"|(?=信息内容|申请人情况)"
    r"|(?<=[\d数量额)）])(?=第二十条|规章|行政规范性文件|规范性文件|行政许可|行政处罚|行政强制|行政事业性收费"
    r"|其他对外管理服务|政府集中采购|行政复议|本年度办理结果)"
)
# 1.属于国家秘密 … 8.属于行政查询事项: the item number may be glued to the previous row's digits.
_ITEM = re.compile(r"(?=\d[.．、][\u4e00-\u9fff])")
_ROW_MARKERS = (
    "本年新收",
    "上年结转",
    "予以公开",
    "国家秘密",
    "不予处理",
    "结转下年度",
    "本年制发",
    "行政许可",
    "结果维持",
    "总体情况",
)
_SECTION_KEYS = "|".join(re.escape(k) for s in SECTIONS for k in s.keywords)
_SECTION_HEAD = re.compile(rf"^([一二三四五六][、.].{{0,16}}?(?:{_SECTION_KEYS})(?:及改进)?(?:情况|事项)?)")


def _breaks(line: str) -> list[str]:
    marked = _BREAKS.sub("\n", _ITEM.sub("\n", line))
    pieces: list[str] = []
    for piece in marked.split("\n"):
        m = _SECTION_HEAD.match(piece)
        pieces.extend([m[1], piece[m.end() :]] if m else [piece])
    return [p for p in (p.strip() for p in pieces) if p]


def run_together(line: str) -> bool:
    """A line holding several rows or headings of the format: two or more distinct row markers."""
    return sum(m in line for m in _ROW_MARKERS) >= 2 and "\t" not in line


def reshape(text: str) -> tuple[str, list[str]]:
    """The text with markdown marks stripped and run-together lines re-broken; notes say what was done."""
    out: list[str] = []
    notes: list[str] = []
    relined = markdown = 0
    for line in text.splitlines():
        if _MD_HEADING.match(line) or "**" in line:
            stripped = _MD_EMPHASIS.sub("", _MD_HEADING.sub("", line))
            markdown += stripped != line
            line = stripped
        if run_together(line):
            relined += 1
            out.extend(_breaks(line))
        else:
            out.append(line)
    if relined:
        notes.append(f"text: {relined} run-together line(s) re-broken at the report's row and heading marks")
    if markdown:
        notes.append(f"text: markdown marks stripped from {markdown} line(s)")
    return "\n".join(out), notes
