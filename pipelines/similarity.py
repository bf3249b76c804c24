"""How much of a section is the same text as the same section of the agency's previous report (内容雷同).

The 2021 format invokes 条例 第四十七条 against reports copied from elsewhere. Texts are compared as sets of
character 4-grams after folding what changes every year anyway (digits, whitespace, punctuation), so a
section copied with only its year and figures updated still scores near 1.
"""

from __future__ import annotations

import re
import unicodedata

NEAR_IDENTICAL = 0.9  # Jaccard of 4-gram sets at or above which a section counts as copied
MIN_CHARS = 60  # shorter sections (本年度未收取信息处理费。) are boilerplate, not copying
_N = 4
_DROP = re.compile(r"[\s\W_]+", re.UNICODE)


def fold(text: str) -> str:
    """NFKC, digits → 0, without whitespace and punctuation."""
    t = unicodedata.normalize("NFKC", text)
    t = re.sub(r"\d+", "0", t)
    return _DROP.sub("", t)


def shingles(text: str) -> set[str]:
    t = fold(text)
    return {t[i : i + _N] for i in range(max(1, len(t) - _N + 1))} if t else set()


def similarity(a: str, b: str) -> float:
    """Jaccard similarity of the two texts' 4-gram sets (1.0 = the same text up to figures and layout)."""
    sa, sb = shingles(a), shingles(b)
    if not sa or not sb:
        return 0.0
    return len(sa & sb) / len(sa | sb)


def copied(a: str, b: str) -> tuple[float, bool]:
    """The similarity and whether it counts as copied (long enough and near-identical)."""
    score = similarity(a, b)
    return score, score >= NEAR_IDENTICAL and min(len(fold(a)), len(fold(b))) >= MIN_CHARS
