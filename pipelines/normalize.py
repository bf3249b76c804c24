"""Text normalisation for matching labels and reading cells: the one place that knows how reports spell things.

Reports come from Word, WPS, PDF and HTML exports, so the same label arrives with full-width digits,
U+3000 spaces, curly quotes, Word bookmark debris and line breaks inside cells. Every comparison in the
parser goes through `compact`; every number goes through `parse_value`.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache

_BOOKMARK = re.compile(r"\[bookmark:[^\]]*\]")
_WS = re.compile(r"\s+")
# NFKC already folds （）：，． to ASCII; these are the marks it leaves alone.
_UNIFY = str.maketrans(
    {
        "【": "[",
        "】": "]",
        "〔": "[",
        "〕": "]",
        "“": '"',
        "”": '"',
        "‘": "'",
        "’": "'",
        "「": '"',
        "」": '"',
        "『": '"',
        "』": '"',
        "、": ".",
        "。": ".",
    }
)
_CIRCLED = re.compile(r"[\u2460-\u2473\u2776-\u277f]")  # ①… footnote marks; NFKC would turn them into digits
_DASHES = frozenset({"-", "--", "—", "——", "–", "―", "―――", "/", "无", "N/A", "n/a", "NA", "\\"})
_NUMBER = re.compile(
    r"^(?P<sign>[+-]|增加|减少|增|减)?"
    r"(?P<int>\d{1,3}(?:,\d{3})+|\d+)(?P<frac>\.\d+)?"
    r"(?P<unit>万元|元|人次|件|条|个|项|次|篇|份|家|起|户)?"
    r"(?P<note>\*+|\(注\d*\))?$"
)


def strip_artifacts(text: str) -> str:
    """Remove Word export debris (``[bookmark: OLE_LINK1]``) that sits inside cells and prose."""
    return _BOOKMARK.sub("", text)


def clean(text: str) -> str:
    """Readable form: NFKC, artefacts removed, whitespace runs collapsed to one space."""
    return _WS.sub(" ", unicodedata.normalize("NFKC", strip_artifacts(text))).strip()


@lru_cache(maxsize=1 << 16)
def compact(text: str) -> str:
    """Matching form: NFKC, no whitespace at all, one spelling of brackets, quotes and list marks.
    Cached: the table readers ask for the same cell's form many times while they try each layout."""
    return _WS.sub("", unicodedata.normalize("NFKC", strip_artifacts(text))).translate(_UNIFY)


@dataclass(frozen=True)
class Parsed:
    """A cell read as a number. `value` keeps the sign and decimals as printed; `unit` is the stripped unit."""

    value: int | float
    flags: tuple[str, ...] = ()
    unit: str | None = None
    decimal: bool = False


def is_blank(text: str) -> bool:
    return compact(text) == ""


@lru_cache(maxsize=1 << 16)
def parse_value(text: str) -> Parsed | None:
    """Read one cell as a number, a dash meaning 0, or nothing (None: the cell is a label or prose).
    Cached like `compact` (`Parsed` is frozen, so sharing one is safe)."""
    flags: list[str] = []
    if _CIRCLED.search(text):
        text = _CIRCLED.sub("", text)
        flags.append("footnote_stripped")
    s = compact(text)
    if not s:
        return None
    if s in _DASHES:
        return Parsed(0, ("dash_as_zero",))
    m = _NUMBER.match(s)
    if not m:
        return None
    digits = m["int"]
    if "," in digits:
        flags.append("thousands_separator")
        digits = digits.replace(",", "")
    if m["unit"]:
        flags.append("unit_stripped")
    if m["note"]:
        flags.append("footnote_stripped")
    sign = m["sign"] or ""
    negative = sign in ("-", "减", "减少")
    if sign and sign not in "+-":
        flags.append("signed_word")
    value: int | float = float(digits + m["frac"]) if m["frac"] else int(digits)
    return Parsed(-value if negative else value, tuple(flags), m["unit"], bool(m["frac"]))
