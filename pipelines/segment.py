"""Folding and segmentation of Chinese text for the search index: pure functions of the text.

They live here, below the archive, so that a reader worker process can segment a report right after reading
it (jieba costs ~4 ms per thousand characters) and the archive's single writer only inserts the prepared
streams. `archive/search.py` explains the index they feed (docs/archive.md, "Search").
"""

from __future__ import annotations

import functools
import logging
import re
import unicodedata
from pathlib import Path
from typing import Any

BREAK = "qbrk"  # stands for punctuation in the `chars` stream, so a phrase never spans a sentence break
REPORT_KEY = "@report"  # the key of a report's title + agency among its section keys

_HAN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0002ffff〇]")


# ---------------------------------------------------------------- folding


@functools.lru_cache(maxsize=1)
def _t2s_table() -> dict[int, str]:
    """OpenCC's traditional → simplified character table (first candidate), as a str.translate map."""
    import opencc

    path = Path(opencc.__file__).parent / "dictionary" / "TSCharacters.txt"
    table: dict[int, str] = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        parts = line.split("\t")
        if len(parts) == 2 and len(parts[0]) == 1:
            target = parts[1].split(" ")[0]
            if target and target != parts[0]:
                table[ord(parts[0])] = target
    return table


def fold(text: str | None) -> str:
    """The searchable form of `text`: NFKC, traditional → simplified, lower case."""
    if not text:
        return ""
    return unicodedata.normalize("NFKC", text).translate(_t2s_table()).lower()


def has_han(text: str | None) -> bool:
    return bool(text and _HAN.search(text))


# ---------------------------------------------------------------- token streams


def chars_stream(folded: str) -> str:
    """One token per Han character, letter/digit runs whole, `BREAK` for punctuation (runs collapsed).

    Whitespace is not a break: layout spaces inside a sentence (政府 信息) must not stop a phrase.
    """
    out: list[str] = []
    word: list[str] = []
    for ch in folded:
        if _HAN.match(ch):
            if word:
                out.append("".join(word))
                word.clear()
            out.append(ch)
        elif ch.isalnum():
            word.append(ch)
        else:
            if word:
                out.append("".join(word))
                word.clear()
            if not ch.isspace() and out and out[-1] != BREAK:
                out.append(BREAK)
    if word:
        out.append("".join(word))
    while out and out[-1] == BREAK:
        out.pop()
    return " ".join(out)


@functools.lru_cache(maxsize=1)
def _jieba() -> Any:
    import jieba

    jieba.setLogLevel(logging.WARNING)
    jieba.initialize()
    return jieba


def words_stream(folded: str) -> str:
    """jieba ``cut_for_search`` tokens of the folded text (punctuation dropped).

    jieba segments each run of its block characters (Han, letters, digits) on its own, so the text is cut
    block by block through a cache: the same tokens as one call, but the boilerplate sentences that recur
    across reports (and the labels of the national format) are segmented once per worker."""
    if not folded:
        return ""
    blocks = _jieba().re_han_default.split(folded)
    return " ".join(token for block in blocks if block for token in _block_words(block))


@functools.lru_cache(maxsize=1 << 16)
def _block_words(block: str) -> tuple[str, ...]:
    return tuple(t for t in _jieba().cut_for_search(block) if t.strip() and not _only_punct(t))


def _only_punct(token: str) -> bool:
    return all(not ch.isalnum() for ch in token)


def warm() -> None:
    """Load jieba's dictionary and OpenCC's table now rather than on the first report."""
    _jieba()
    _t2s_table()


_NOT_HAN_OR_SPACE = re.compile(f"[^{_HAN.pattern[1:-1]}\\s]+")
_SPACE = re.compile(r"\s+")
_BREAKS = re.compile("\x00+")


def trigram_text(folded: str) -> str:
    """What sections_tri indexes (archive/search.py): the Han characters of folded text, whitespace dropped
    (as in the `chars` stream, layout spaces do not break a phrase), any other run of characters one space
    (a break). Regular expressions, not a loop over characters (3 times as fast): the archive's single
    writer runs this for what a reader worker did not prepare."""
    marked = _SPACE.sub("", _NOT_HAN_OR_SPACE.sub("\x00", folded))
    return _BREAKS.sub(" ", marked).strip()


Streams = tuple[str, str, str]  # (words, chars, trigram text) of folded text


def streams(text: str) -> tuple[str, str]:
    """(words, chars) index streams of `text`, folded."""
    folded = fold(text)
    return words_stream(folded), chars_stream(folded)


def section_streams(text: str) -> Streams:
    """(words, chars, trigram text) of `text`, folded once."""
    folded = fold(text)
    return words_stream(folded), chars_stream(folded), trigram_text(folded)


def report_streams(sections: dict[str, str], title: str | None, agency: str | None) -> dict[str, Streams]:
    """The streams of every section of a report, and of its title + agency under `REPORT_KEY`."""
    out = {name: section_streams(text) for name, text in sections.items()}
    out[REPORT_KEY] = section_streams(f"{title or ''} {agency or ''}")
    return out
