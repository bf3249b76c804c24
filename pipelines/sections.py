"""Find the six sections (一 … 六) by their headings, tolerating renumbering and lost numbering.

Word often rewrites "二、" as "2、" and sub-headings as "（3）", and some exports lose the numbering
entirely, so headings are recognised by keywords (codes.SECTIONS) on short lines, in order.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from .codes import PREAMBLE, SECTIONS, SectionCode
from .normalize import compact, strip_artifacts

MAX_HEADING_CHARS = 40
MAX_UNNUMBERED_CHARS = 30
# 一、 2、 3. 第三部分 — but never "(3)" or "（一）", which number sub-headings.
_NUMBERED = re.compile(r"^(?:第?[一二三四五六七八九十]{1,2}(?:部分)?|\d{1,2})[.,:]?(?=\D)")
_SENTENCE = re.compile(r"[,.;:!?]$|[,;!?]")


@dataclass(frozen=True)
class Heading:
    code: str
    number: int
    line: int  # 0-based index into the text's lines


_KEYWORDS = {s.code: tuple(compact(k) for k in s.keywords) for s in SECTIONS}


def _match(section: SectionCode, body: str) -> bool:
    return any(k in body for k in _KEYWORDS[section.code])


def heading_of(line: str) -> SectionCode | None:
    """The section a line is a heading of, or None. A heading is short and starts the line."""
    if "\t" in line.strip():
        return None
    s = compact(line)
    if not s or len(s) > MAX_HEADING_CHARS or s.startswith("("):
        return None
    m = _NUMBERED.match(s)
    body = s[m.end() :] if m else s
    if not m and (len(s) > MAX_UNNUMBERED_CHARS or _SENTENCE.search(s)):
        return None
    if not body or body.startswith("("):
        return None
    for section in SECTIONS:
        if _match(section, body):
            return section
    return None


def find_headings(lines: list[str]) -> list[Heading]:
    """Headings in document order; a section is only accepted after every earlier-numbered one."""
    found: list[Heading] = []
    current = 0
    for i, line in enumerate(lines):
        section = heading_of(line)
        if section is not None and section.number > current:
            found.append(Heading(section.code, section.number, i))
            current = section.number
    return found


def spans(lines: list[str], headings: list[Heading]) -> dict[str, tuple[int, int]]:
    """Line range [start, end) of each section's body; text before the first heading is the preamble."""
    out: dict[str, tuple[int, int]] = {}
    first = headings[0].line if headings else len(lines)
    if first > 0:
        out[PREAMBLE] = (0, first)
    ends = [h.line for h in headings[1:]] + ([len(lines)] if headings else [])
    for h, end in zip(headings, ends, strict=True):
        out[h.code] = (h.line + 1, end)
    return out


def section_texts(lines: list[str], ranges: dict[str, tuple[int, int]]) -> dict[str, str]:
    """Each section's text as printed, less Word debris ([bookmark: …]) that readers should not see."""
    return {code: strip_artifacts("\n".join(lines[a:b])).strip() for code, (a, b) in ranges.items()}
