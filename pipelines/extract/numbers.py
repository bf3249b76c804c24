"""Number cells of a scanned table read as digits, each reading checked before it is believed.

A cell is read twice in batch (two preprocessings of its own image, one cell per line of a strip, Tesseract
`--psm 6` restricted to digits); readings that agree with good confidence confirm it. Otherwise it is read
three times more, still in batch (other thresholds and scales; a strip, or the cells side by side on one
line read with `--psm 7`), and the readings vote; a cell no sum checks needs a third agreeing reading. Then
the table's own arithmetic has the last word: a column headed 总计/合计 (or, in a piece continued without its
header, the last column when the confident rows add up to it) is the sum of the number columns before it
(back to the previous total column). A row whose sums hold confirms its cells; a row whose sums fail is re-read and
settled by the one alternative reading that makes them hold, or else its unconfirmed cells are flagged
`ocr_uncertain`. A guess is never presented as read.
"""

from __future__ import annotations

import collections
import itertools
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from . import limits
from .scan import Gray, line_up, prepare, sign_mark, stack

WHITELIST = "0123456789.-"
STRONG = 60.0  # word confidence below which a lone reading does not count as confirmed
_TOTAL = re.compile(r"[总合]\s*计")


@dataclass
class NumberCell:
    """One number cell: its ink (None = blank), every reading (text, confidence) and the verdict."""

    key: tuple[int, int]
    ink: Gray | None
    readings: list[tuple[str, float]] = field(default_factory=list)
    text: str = ""
    confirmed: bool = False
    how: str = ""
    dash: bool = False  # the ink starts with a minus sign (scan.sign_mark)
    sign_unsure: bool = False  # something stands before the digits that is not clearly a minus

    def votes(self) -> collections.Counter[str]:
        return collections.Counter(t for t, _ in self.readings)

    def candidates(self) -> list[str]:
        """Readings, most votes first (then summed confidence); nothing-read never wins over digits."""
        conf: dict[str, float] = collections.defaultdict(float)
        for t, c in self.readings:
            conf[t] += c
        v = self.votes()
        return sorted(v, key=lambda t: (t != "", v[t], conf[t]), reverse=True)


def _clean(text: str) -> str:
    t = re.sub(r"\s+", "", text)
    return t.strip(".") if t not in ("-", ".") else t


def _signed(c: NumberCell, text: str) -> str:
    """A reading with the sign the cell's geometry shows: Tesseract drops a short minus before a digit and
    now and then reads a speck as one."""
    digits = text.lstrip("-")
    if not digits:
        return text
    return f"-{digits}" if c.dash else digits


def _tesseract(img: Gray, psm: int) -> list[tuple[str, float, int, int, int, int]]:
    """(text, confidence, top, bottom, left, right) of every word Tesseract finds, digits only."""
    import pytesseract

    try:
        d = pytesseract.image_to_data(
            img,
            lang="eng",
            config=f"--psm {psm} -c tessedit_char_whitelist={WHITELIST}",
            output_type=pytesseract.Output.DICT,
            timeout=limits.OCR_PAGE_TIMEOUT,
        )
    except pytesseract.TesseractError:
        return []  # an unreadable cell stays unconfirmed, never crashes the page
    except RuntimeError as exc:
        raise limits.over("OCR time for one page", "timeout", f"{limits.OCR_PAGE_TIMEOUT:.0f} s") from exc
    out = []
    for i, t in enumerate(d["text"]):
        t = (t or "").strip()
        if t and float(d["conf"][i]) >= 0:
            top, left = int(d["top"][i]), int(d["left"][i])
            out.append(
                (t, float(d["conf"][i]), top, top + int(d["height"][i]), left, left + int(d["width"][i]))
            )
    return out


def _read_strip(cells: list[NumberCell], variant: int) -> None:
    """One batch reading of every cell: prepared images stacked a line each (`--psm 6`); a word belongs to
    the line its middle falls in."""
    _read_batch(cells, variant, stack, per_call=80, psm=6, across=False, slack=12)


def _read_line(cells: list[NumberCell], variant: int) -> None:
    """One batch reading of cells set side by side on one line (`--psm 7`: another segmentation than the
    stacked strip's); a word belongs to the cell its middle falls in."""
    _read_batch(cells, variant, line_up, per_call=30, psm=7, across=True, slack=25)


def _read_batch(
    cells: list[NumberCell],
    variant: int,
    arrange: Callable[[list[Gray]], tuple[Gray, list[tuple[int, int]]]],
    *,
    per_call: int,
    psm: int,
    across: bool,
    slack: int,
) -> None:
    """Add one reading to every cell with ink: `per_call` prepared cells arranged into one image per
    Tesseract call, each word given to the cell whose span (plus `slack` pixels) holds the word's middle,
    measured across the line (`across`) or down the strip."""
    todo = [c for c in cells if c.ink is not None]
    for chunk in (todo[i : i + per_call] for i in range(0, len(todo), per_call)):
        image, spans = arrange([prepare(c.ink, variant) for c in chunk if c.ink is not None])
        found: dict[int, list[tuple[str, float]]] = collections.defaultdict(list)
        for t, conf, top, bottom, left, right in _tesseract(image, psm):
            mid = (left + right) / 2 if across else (top + bottom) / 2
            for k, (a, b) in enumerate(spans):
                if a - slack <= mid <= b + slack:
                    found[k].append((t, conf))
                    break
        for k, c in enumerate(chunk):
            words = found.get(k, [])
            text = _signed(c, _clean("".join(w for w, _ in words)))
            c.readings.append((text, min((x for _, x in words), default=0.0)))


def _read_more(cells: list[NumberCell]) -> None:
    """Three more readings of each cell, in three Tesseract calls whatever their number: other
    preprocessings (lighter threshold after a median filter; smaller and not spaced; Otsu), stacked or on
    one line. Tesseract's start-up and model load, not the reading, is most of a call's cost on a cell."""
    todo = [c for c in cells if c.ink is not None]
    if not todo:
        return
    _read_strip(todo, 2)
    _read_line(todo, 3)
    _read_line(todo, 0)


def _agreed(c: NumberCell) -> bool:
    """All readings the same digits, at least one of them confident, none confidently different."""
    v = c.votes()
    if len(v) != 1 or "" in v:
        return False
    return max(x for _, x in c.readings) >= STRONG


def _voted(c: NumberCell) -> bool:
    """After the lone readings: at least four agree (four of five), at least twice as many as any other
    reading, and no dissent is confident; or three or more confident readings give the only digits read at
    all (a reading of nothing is a failure to read — a thin 1 or 0 under blur — not another value)."""
    cands = c.candidates()
    if not cands or cands[0] == "":
        return False
    v = c.votes()
    read = [t for t in v if t]
    if len(read) == 1 and v[read[0]] >= 3 and max(x for t, x in c.readings if t) >= STRONG:
        return True
    second = max((n for t, n in v.items() if t != cands[0]), default=0)
    if v[cands[0]] < 4 or v[cands[0]] < 2 * second:
        return False
    return all(x < STRONG + 20 for t, x in c.readings if t != cands[0])


def _value(text: str) -> float | None:
    if text in ("", "-"):
        return 0.0
    try:
        return float(text)
    except ValueError:
        return None


def total_groups(header: list[str], numeric_cols: list[int]) -> list[tuple[list[int], int]]:
    """(part columns, total column) for each column headed 总计/合计: the number columns since the previous
    total column. `header` is the joined header text of each column."""
    groups = []
    parts: list[int] = []
    for col in numeric_cols:
        if _TOTAL.search(header[col]) and len(parts) >= 2:
            groups.append((parts, col))
            parts = []
        else:
            parts.append(col)
    return groups


def inferred_total(
    rows: dict[int, dict[int, NumberCell]], numeric_cols: list[int]
) -> list[tuple[list[int], int]]:
    """The last number column as the total of the others when most rows say so (at least 3, and more than
    half of the rows read in full; a misread seldom makes a 7-column sum hold by chance): the piece of a
    table continued from the previous page has no header row naming its 总计 column, but its arithmetic
    still shows it. The rows that fail are then settled or flagged like any other."""
    # the value columns: inked in most rows (a label column's stray mark, a "、" read as -, is not one)
    cols = [
        c
        for c in numeric_cols
        if sum(c in row and row[c].ink is not None for row in rows.values()) * 2 > len(rows)
    ]
    if len(cols) < 3:
        return []
    *parts, total = numeric_cols = cols
    holds = fails = 0
    for row in rows.values():
        if not all(c in row and row[c].ink is not None and row[c].text for c in numeric_cols):
            continue
        if _holds(row, [(parts, total)], {}):
            holds += 1
        else:
            fails += 1
    return [(parts, total)] if holds >= 3 and holds > fails else []


def _holds(row: dict[int, NumberCell], groups: list[tuple[list[int], int]], pick: dict[int, str]) -> bool:
    for parts, total in groups:
        vals = [_value(pick.get(c, row[c].text)) if c in row else 0.0 for c in parts]
        tv = _value(pick.get(total, row[total].text)) if total in row else None
        if tv is None or any(v is None for v in vals):
            return False
        if abs(sum(v for v in vals if v is not None) - tv) > 1e-6:
            return False
    return True


def _settle_row(row: dict[int, NumberCell], groups: list[tuple[list[int], int]]) -> None:
    """The row's sums decide between readings: the current best if the sums hold, else the single set of
    changes (one cell, or two) among the alternatives that makes them hold; otherwise every unconfirmed
    cell of a failing group, or all of them when each was confidently agreed, is left unconfirmed."""
    cols = [c for parts, t in groups for c in [*parts, t] if c in row]
    if _holds(row, groups, {}):
        for c in cols:
            if not row[c].confirmed:
                row[c].confirmed, row[c].how = True, "sum"
        return
    _read_more([row[c] for c in cols if len(row[c].readings) <= 2])  # more readings before choosing
    alts = {c: [t for t in row[c].candidates() if t != row[c].text] for c in cols}
    fixes = []
    for n in (1, 2):
        for combo in itertools.combinations([c for c in cols if alts[c]], n):
            for choice in itertools.product(*(alts[c] for c in combo)):
                pick = dict(zip(combo, choice, strict=True))
                if _holds(row, groups, pick):
                    fixes.append(pick)
        if fixes:
            break
    if len(fixes) == 1:
        for c, t in fixes[0].items():
            row[c].text = t
        for c in cols:
            row[c].confirmed, row[c].how = True, "sum"
        return
    for c in cols:
        row[c].confirmed = False


def read_cells(cells: list[NumberCell], header: list[str], numeric_cols: list[int]) -> None:
    """Read and judge every number cell of one table in place (`text`, `confirmed`, `how`)."""
    for c in cells:
        mark = sign_mark(c.ink) if c.ink is not None else "none"
        c.dash, c.sign_unsure = mark == "dash", mark == "unsure"
    _read_strip(cells, 0)
    _read_strip(cells, 1)
    doubtful = []
    for c in cells:
        if c.ink is None:
            c.text, c.confirmed, c.how = "", True, "blank"
        elif _agreed(c):
            c.text, c.confirmed, c.how = c.readings[0][0], True, "agreed"
        else:
            doubtful.append(c)
    _read_more(doubtful)
    for c in doubtful:
        c.text = c.candidates()[0] if c.candidates() else ""
        c.confirmed, c.how = _voted(c), "voted"
    rows: dict[int, dict[int, NumberCell]] = collections.defaultdict(dict)
    for c in cells:
        rows[c.key[0]][c.key[1]] = c
    groups = total_groups(header, numeric_cols) or inferred_total(rows, numeric_cols)
    checked: set[tuple[int, int]] = set()
    for row in rows.values():
        if any(t in row for _, t in groups):
            held = [(p, t) for p, t in groups if t in row]
            _settle_row(row, held)
            checked.update(row[c].key for p, t in held for c in [*p, t] if c in row)
    _unchecked(c for c in cells if c.how == "agreed" and c.key not in checked)


def _unchecked(agreed: Iterable[NumberCell]) -> None:
    """Cells no sum checks (table 2's figures, a row without a total) rest on agreement alone: a third
    preprocessing must agree as well, else the lone readings vote."""
    todo = list(agreed)
    _read_strip(todo, 2)
    doubtful = [c for c in todo if len(c.votes()) != 1]
    for c in todo:
        if len(c.votes()) == 1:
            c.how = "agreed3"
    _read_strip(doubtful, 3)
    _read_line(doubtful, 0)
    for c in doubtful:
        c.text = c.candidates()[0] if c.candidates() else ""
        c.confirmed, c.how = _voted(c), "voted"
