"""Tables that run over a page break, joined back into one grid by their column rulings and row labels.

A report's table cut by a page break leaves a piece at the foot of one page and the rest at the top of the
next, sometimes with the header rows repeated, sometimes with one row split (the tail of a wrapped label, or
of a merged label such as the vertical 三、本年度办理结果 or （三）不予公开, at the top of the next page), and
often with fewer column rulings on one side (on the first page every row may merge the three label columns,
so the rule between them is never drawn there). The pieces are the same table when the page break is all
that separates them and one piece's column rulings are a subset of the other's; they are joined on the union
of the rulings, the repeated header dropped, split labels and rows put back together.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from .base import Cell, Grid
from .grids import join_lines

_NUMERIC = re.compile(r"^[\d.,\s\-—/]*$")
# A label that starts a row or a group rather than continuing one: （四）, 四、, 4., 第二十条.
_ENUMERATED = re.compile(
    r"^\s*(?:[（(][一二三四五六七八九十\d]+[)）]|[一二三四五六七八九十]+、|\d+[.、．]|第)"
)
_RULE_TOLERANCE = 3.0  # pt: the same column rule drawn on two pages


@dataclass
class Piece:
    """One table as read on one page: where it sits (for the page-break test) and its column rulings."""

    page: int
    top: float
    bottom: float
    height: float  # the page's height, in the unit of top/bottom (1.0 for OCR fractions)
    grid: Grid
    columns: list[float] | None = None  # x of every column rule, left to right; None when unknown (OCR)
    joined: list[int] = field(default_factory=list)


def column_rules(table: Any) -> list[float]:
    """The x positions of a pdfplumber table's column rules (left edge of each column, then the right edge)."""
    return [col.bbox[0] for col in table.columns] + [table.bbox[2]]


def merge_continuations(pieces: list[Piece]) -> list[Grid]:
    """Join a table that runs over a page break: the last table of page p (reaching the bottom) and the
    first of page p+1 (starting at the top) whose column rulings agree become one grid. Cells keep the page
    they were read on; the join is recorded in the grid's ``continued_on``."""
    out: list[Piece] = []
    for piece in pieces:
        if out and _continues(out[-1], piece, first_on_page=not any(o.page == piece.page for o in out)):
            prev = out[-1]
            _join(prev, piece)
            prev.page, prev.bottom, prev.height = piece.page, piece.bottom, piece.height
            continue
        out.append(piece)
    return [o.grid for o in out]


def _continues(prev: Piece, nxt: Piece, first_on_page: bool) -> bool:
    if not (
        nxt.page == prev.page + 1
        and first_on_page
        and nxt.top < 0.25 * nxt.height
        and prev.bottom > 0.6 * prev.height
        and prev.grid.rows
        and nxt.grid.rows
    ):
        return False
    if prev.columns is None or nxt.columns is None:
        return len(prev.grid.rows[0]) == len(nxt.grid.rows[0]) >= 3
    return len(_union(prev.columns, nxt.columns)) >= 4 and (
        _subset(prev.columns, nxt.columns) or _subset(nxt.columns, prev.columns)
    )


def _subset(a: list[float], b: list[float]) -> bool:
    """Every rule of `a` is a rule of `b`, and both share the outer edges."""
    return (
        abs(a[0] - b[0]) <= _RULE_TOLERANCE
        and abs(a[-1] - b[-1]) <= _RULE_TOLERANCE
        and all(any(abs(x - y) <= _RULE_TOLERANCE for y in b) for x in a)
    )


def _union(a: list[float], b: list[float]) -> list[float]:
    out: list[float] = []
    for x in sorted(a + b):
        if not out or x - out[-1] > _RULE_TOLERANCE:
            out.append(x)
    return out


def _widen(grid: Grid, rules: list[float], union: list[float]) -> None:
    """Re-cut a grid on the union of both pieces' column rules: a cell spanning a rule it does not have
    becomes the cell plus merged copies, as the table finder gives a merged cell."""
    if len(rules) == len(union):
        return
    owner = [max(i for i, x in enumerate(rules[:-1]) if x <= u + _RULE_TOLERANCE) for u in union[:-1]]
    for r, row in enumerate(grid.rows):
        new: list[Cell] = []
        for k, c in enumerate(owner):
            cell = row[c] if c < len(row) else Cell("", {**grid.source, "cell": [r, c], "missing": True})
            if k and owner[k - 1] == c:
                origin = cell.source.get("origin", cell.source.get("cell"))
                cell = Cell(cell.text, {**cell.source, "merged": True, "origin": origin})
            new.append(cell)
        grid.rows[r] = new


def _join(prev: Piece, nxt: Piece) -> None:
    a, b = prev.grid, nxt.grid
    if prev.columns is not None and nxt.columns is not None:
        union = _union(prev.columns, nxt.columns)
        _widen(a, prev.columns, union)
        _widen(b, nxt.columns, union)
        prev.columns = union
    note: dict[str, Any] = {"page": nxt.page, "table": b.source.get("table")}
    header = _repeated_header(a, b)
    if header:
        del b.rows[:header]
        note["repeated_header_rows"] = header
    if b.rows:
        _join_split_labels(a, b)
        _join_split_row(a, b)
    if b.rows:
        _fill_broken_merge(a, b)
    a.rows.extend(b.rows)
    a.source.setdefault("continued_on", []).append(note)


def _is_num(cell: Cell) -> bool:
    return bool(cell.text) and bool(_NUMERIC.match(cell.text))


def _repeated_header(a: Grid, b: Grid) -> int:
    """How many rows at the top of the continuation repeat the table's first rows (a header printed again
    on every page): label rows only, the same texts column for column."""
    n = 0
    while n < min(len(a.rows), len(b.rows) - 1):
        top, again = a.rows[n], b.rows[n]
        texts = [c.text for c in again]
        if not any(texts) or any(_is_num(c) for c in again) or texts != [c.text for c in top]:
            break
        n += 1
    return n


def _origin(cell: Cell) -> Any:
    return cell.source.get("origin", cell.source.get("cell"))


def _spans_rows(grid: Grid, col: int, origin: Any) -> bool:
    """The cell is merged over more than one row of its piece."""
    return sum(1 for row in grid.rows if col < len(row) and _origin(row[col]) == origin) > 1


def _join_split_labels(a: Grid, b: Grid) -> None:
    """A merged label cut by the page break ("三、本年度" | "办理结果", "（三）不" | "予公开"): the cell reaching
    the foot of the first piece and the cell at the top of the next in the same column are one label when
    the lower part does not start a row of its own (（四）, 四、, 4.). Every copy on both pages gets the
    whole label."""
    last, first = a.rows[-1], b.rows[0]
    for c, (x, y) in enumerate(zip(last, first, strict=False)):
        if not x.text or not y.text or _is_num(x) or _is_num(y) or x.text == y.text:
            continue
        if _ENUMERATED.match(y.text) or not (_spans_rows(a, c, _origin(x)) or _spans_rows(b, c, _origin(y))):
            continue
        whole = join_lines(x.text + "\n" + y.text)
        above, below = _origin(x), _origin(y)
        for row in a.rows:
            if c < len(row) and _origin(row[c]) == above:
                row[c].text = whole
        for row in b.rows:
            if c < len(row) and _origin(row[c]) == below:
                row[c].text = whole
                row[c].source["continued_from"] = {
                    k: x.source[k] for k in ("page", "table", "cell") if k in x.source
                }


def _join_split_row(prev: Grid, nxt: Grid) -> None:
    """A row allowed to break across pages leaves its tail (the end of a wrapped label, or the numbers
    when they are vertically centred) as the first row of the next page's table: join it back."""
    a, b = prev.rows[-1], nxt.rows[0]
    if not any(c.text for c in b):
        nxt.rows.pop(0)
        return
    if any(_is_num(x) and _is_num(y) for x, y in zip(a, b, strict=False)):
        return
    if any(_is_num(x) for x in a) and any(_is_num(y) for y in b):
        return
    if any(x.text and y.text and (_is_num(x) or _is_num(y)) for x, y in zip(a, b, strict=False)):
        return
    if all(not y.text or y.text == x.text for x, y in zip(a, b, strict=False)):
        return  # the first row repeats labels (merged cells) and adds nothing: a row of its own
    for x, y in zip(a, b, strict=False):
        if not y.text or y.source.get("merged") or y.text == x.text:
            continue
        x.text = join_lines(x.text + "\n" + y.text) if x.text else y.text
        x.source["continued"] = {k: y.source[k] for k in ("page", "table", "cell") if k in y.source}
        origin = _origin(x)
        for z in a:  # the merged copies of the same cell in this row
            if z is not x and _origin(z) == origin:
                z.text = x.text
    nxt.rows.pop(0)


def _fill_broken_merge(prev: Grid, nxt: Grid) -> None:
    """A merged label whose text was printed once, on the first page: its empty part on the next page
    takes the text, marked merged."""
    last = prev.rows[-1]
    for c, b0 in enumerate(nxt.rows[0]):
        if c >= len(last):
            break
        above = last[c]
        if b0.text or not above.text or _NUMERIC.match(above.text):
            continue
        origin = _origin(b0)
        for row in nxt.rows:
            cell = row[c]
            if _origin(cell) == origin and not cell.text:
                cell.text = above.text
                cell.source["merged"] = True
                cell.source["continued_from"] = {
                    k: above.source[k] for k in ("page", "table", "cell") if k in above.source
                }
