"""Grid helpers shared by the PDF and OCR readers: cell text clean-up, merged-cell spans, data-table test.

They live here, not in pdf.py, so that ocr.py and pdf.py both import downwards from one module (pdf.py
calls OCR for scanned pages; OCR must not import pdf.py back).
"""

from __future__ import annotations

import re
import unicodedata
from typing import Any

from .base import Grid

_CJK_END = re.compile(r"[\u2e80-\u9fff\uff00-\uffef（）、，。：；“”]$")
_CJK_START = re.compile(r"^[\u2e80-\u9fff\uff00-\uffef（）、，。：；“”]")

Span = tuple[int, int, int, int, tuple[float, float, float, float]]


def nfkc(s: str) -> str:
    return unicodedata.normalize("NFKC", s)


def count_kangxi(s: str) -> int:
    return sum(1 for ch in s if "\u2f00" <= ch <= "\u2fdf" or "\u2e80" <= ch <= "\u2eff")


def join_lines(s: str) -> str:
    """Join the wrapped lines of a cell: no separator between Chinese characters (a vertical label printed
    one character per line becomes one word), a space between Latin words."""
    lines = [ln.strip() for ln in s.replace("\r", "\n").split("\n")]
    out = ""
    for ln in lines:
        if not ln:
            continue
        if out and not (_CJK_END.search(out) or _CJK_START.search(ln)):
            out += " "
        out += ln
    return out


def clean_cell(s: str | None) -> str:
    return join_lines(nfkc(s or ""))


def spans(table: Any) -> list[Span]:
    """(row, col, rowspan, colspan, bbox) of every real cell of a pdfplumber table."""
    rows = table.rows
    cols = table.columns
    out = []
    for r, row in enumerate(rows):
        for c, bbox in enumerate(row.cells):
            if bbox is None:
                continue
            _x0, _top, x1, bottom = bbox
            rs = 1
            while r + rs < len(rows) and rows[r + rs].bbox[3] <= bottom + 1.5:
                rs += 1
            cs = 1
            while c + cs < len(cols) and cols[c + cs].bbox[2] <= x1 + 1.5:
                cs += 1
            out.append((r, c, rs, cs, bbox))
    return out


def is_data_table(grid: Grid) -> bool:
    """A ruled box around prose (some reports frame every paragraph) is not a table: a data table has two or
    more columns and at least two rows with two or more distinct texts."""
    if not grid.rows or len(grid.rows[0]) < 2:
        return False
    multi = 0
    for row in grid.rows:
        distinct = {c.text for c in row if c.text and not c.source.get("merged")}
        if len(distinct) >= 2:
            multi += 1
    return multi >= 2
