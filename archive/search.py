"""Chinese full-text search: folding, the segmented index and query rewriting (docs/archive.md, "Search").

SQLite's default tokenizer indexes a run of Han characters as one token and the trigram tokenizer cannot
match fewer than 3 characters, so neither answers 许可 or 税. The archive keeps, next to the trigram
`sections_fts` (raw text, for SQL users), a second FTS5 table per searchable table — `sections_seg` and
`reports_seg` — tokenised by unicode61 over two prepared columns of *folded* text:

- ``words``: jieba ``cut_for_search`` tokens (复议, 行政复议 …) — word-level hits, which bm25 ranks first;
- ``chars``: one token per Han character (ASCII/digit runs kept whole, punctuation as a break token) —
  a query of any length becomes a phrase of single characters, which matches exactly where the folded
  text contains that substring: full recall for 1-, 2- and longer-character queries, through an index.

Terms of 3 or more Han characters are answered by a third index, `sections_tri` (m015): FTS5 trigram over
the folded text reduced to its Han characters (`trigram_text`: whitespace dropped, anything else a break),
contentless with ``detail=none`` — it only says which sections hold every trigram of a term, so a term of
4+ characters is confirmed on the section's text (`has_terms`, SQL ``nianbao_has``). Single characters of
common words have doclists as long as the archive; their trigrams have short ones, so a rare or absent
phrase of frequent characters is found without intersecting those (`hits_query` routes each term).

Folding (NFKC: full-width → half-width, Kangxi radicals → ordinary characters; traditional → simplified,
character by character with OpenCC's t2s table; lower case) is applied to the text when it is indexed and to
the query when it is searched. Datasette's own ``?_search=`` on ``reports`` runs ``reports_seg MATCH
escape_fts(:search)`` (metadata ``fts_table``); the plugin replaces ``escape_fts`` with `escape_fts_cjk`, which
rewrites a query containing Han characters and leaves any other query exactly as Datasette would. A search
of ``sections`` (the table page and the search page) goes through `plan` and `hits_query`.
"""

from __future__ import annotations

import re
import sqlite3
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import sqlite_utils

from pipelines.segment import (
    _HAN,
    REPORT_KEY,
    Streams,
    chars_stream,
    fold,
    has_han,
    section_streams,
    streams,
    trigram_text,
)

_ESCAPE_FTS = re.compile(r'\s+|(".*?")')
TRIGRAM_MIN = 3  # terms of this many Han characters or more are looked up in sections_tri


# ---------------------------------------------------------------- queries


def _quote(s: str) -> str:
    return '"' + s.replace('"', '""') + '"'


def query_terms(query: str) -> list[str]:
    """Split like Datasette's escape_fts: whitespace separates terms, "double quotes" keep a phrase."""
    if query.count('"') % 2:
        query += '"'
    bits = [b for b in _ESCAPE_FTS.split(query) if b and b != '""']
    return [b[1:-1] if len(b) > 1 and b.startswith('"') and b.endswith('"') else b for b in bits]


def term_expression(term: str) -> str | None:
    """The FTS5 expression (for a *_seg table) that finds `term` as a substring of the folded text."""
    folded = fold(term).strip()
    stream = chars_stream(folded)
    if not stream:
        return None
    phrase = _quote(stream)
    if " " in stream and 2 <= len(folded) <= 4 and all(_HAN.match(c) for c in folded):
        # Also offer the whole term as a jieba word token: no extra rows (the phrase already finds every
        # occurrence), but bm25 ranks sections where it is a word (复议 in 行政复议) first.
        return f"({_quote(folded)} OR {phrase})"
    return phrase


def match_expression(query: str) -> str:
    """The query as an FTS5 MATCH expression for a *_seg table: every term must occur (AND)."""
    parts = [e for e in (term_expression(t) for t in query_terms(query)) if e]
    return " AND ".join(parts) if parts else '""'


def escape_fts_cjk(query: str) -> str:
    """Drop-in for Datasette's escape_fts: queries with Han characters are rewritten for *_seg tables."""
    if not has_han(query) and unicodedata.normalize("NFKC", query) == query:
        from datasette.utils import escape_fts

        return escape_fts(query)
    return match_expression(query)


def trigram_expression(query: str) -> str | None:
    """For ``sections_fts`` (trigram over raw text): an AND of phrases, or None if any term is under 3
    characters (trigram cannot match those; use the *_seg table)."""
    terms = [unicodedata.normalize("NFKC", t).strip() for t in query_terms(query)]
    terms = [t for t in terms if t]
    if not terms or any(len(t) < 3 for t in terms):
        return None
    return " AND ".join(_quote(t) for t in terms)


# ---------------------------------------------------------------- the trigram index (sections_tri)


def trigram_needle(term: str) -> str | None:
    """The folded form of `term` if sections_tri answers it (3+ Han characters, nothing else), else None.

    Such a term matches exactly where the `chars` phrase of sections_seg would: consecutive Han characters
    of the folded text with only whitespace between them."""
    folded = "".join(c for c in fold(term) if not c.isspace())
    if len(folded) >= TRIGRAM_MIN and all(_HAN.match(c) for c in folded):
        return folded
    return None


def _trigrams(needle: str) -> list[str]:
    """Trigrams covering every character of `needle` (every third one, and the last)."""
    starts = sorted({*range(0, len(needle) - 2, 3), len(needle) - 3})
    return list(dict.fromkeys(needle[i : i + 3] for i in starts))


def has_terms(text: str | None, needles: str) -> int:
    """1 if the folded text holds every needle (newline-separated) as a substring (SQL ``nianbao_has``).

    The raw text is tried first: a folded needle found there verbatim is in the folded text too (folding
    maps a Han character to one Han character); only a candidate that spells it otherwise is folded."""
    if not text:
        return 0
    folded: str | None = None
    for needle in needles.split("\n"):
        if needle in text:
            continue
        if folded is None:
            folded = trigram_text(fold(text))
        if needle not in folded:
            return 0
    return 1


def register_functions(conn: Any) -> None:
    """SQL functions the hit queries use (a sqlite3 connection; Datasette's get them from the plugin)."""
    conn.create_function("nianbao_has", 2, has_terms, deterministic=True)


@dataclass(frozen=True)
class Plan:
    """How a query is looked up: `tri` (FTS5 expression on sections_tri) with `confirm` needles checked on
    the text, and `seg` (expression on sections_seg) for the terms the trigram index cannot answer."""

    seg: str | None
    tri: str | None
    confirm: str | None

    @property
    def empty(self) -> bool:
        return self.seg is None and self.tri is None


def plan(query: str, trigram: bool = True) -> Plan:
    """Route each term: 3+ Han characters to sections_tri (when `trigram`), the rest to sections_seg."""
    seg_parts: list[str] = []
    needles: list[str] = []
    for term in query_terms(query):
        needle = trigram_needle(term) if trigram else None
        if needle:
            needles.append(needle)
        else:
            expr = term_expression(term)
            if expr:
                seg_parts.append(expr)
    tri = " AND ".join(_quote(t) for n in needles for t in _trigrams(n)) or None
    confirm = "\n".join(n for n in needles if len(n) > TRIGRAM_MIN) or None
    return Plan(" AND ".join(seg_parts) or None, tri, confirm)


def hits_query(
    p: Plan, where: str = "", where_params: Sequence[Any] = (), tail: str = ""
) -> tuple[str, list[Any]]:
    """``SELECT rowid`` of the sections matching plan `p`, with an extra condition `where` on ``rowid``
    and a `tail` (ORDER BY / LIMIT). FTS5 walks its doclist in rowid order and the other conditions are
    checked per row, so ``ORDER BY rowid LIMIT n`` stops early."""
    extra = f" AND {where}" if where else ""
    if p.tri is None:
        sql = f"SELECT rowid FROM sections_seg WHERE sections_seg MATCH ?{extra} {tail}"
        return sql, [p.seg or '""', *where_params]
    sql = f"SELECT rowid FROM sections_tri WHERE sections_tri MATCH ?{extra}"
    params: list[Any] = [p.tri, *where_params]
    if p.confirm:
        sql += " AND nianbao_has((SELECT text FROM sections WHERE id = sections_tri.rowid), ?)"
        params.append(p.confirm)
    if p.seg:
        sql += (
            " AND EXISTS (SELECT 1 FROM sections_seg WHERE sections_seg MATCH ?"
            " AND sections_seg.rowid = sections_tri.rowid)"
        )
        params.append(p.seg)
    return f"{sql} {tail}", params


# ---------------------------------------------------------------- index maintenance


def _indexed(db: sqlite_utils.Database, section_id: int, table: str = "sections_seg") -> bool:
    return db.execute(f"SELECT 1 FROM {table}_docsize WHERE id = ?", [section_id]).fetchone() is not None


def has_trigram(db: sqlite_utils.Database | sqlite3.Connection) -> bool:
    """Whether the archive has sections_tri (m015; m004's data step runs before it exists; a published copy
    made before it has only sections_seg). Also on a plain sqlite3 connection (the search page's)."""
    return bool(
        db.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'sections_tri'").fetchone()
    )


def _unindex_section(db: sqlite_utils.Database, section_id: int, text: str, trigram: bool) -> None:
    """Remove one section from the contentless indexes; `text` must be the text that was indexed."""
    if _indexed(db, section_id):
        words, chars = streams(text)
        db.execute(
            "INSERT INTO sections_seg (sections_seg, rowid, words, chars) VALUES ('delete', ?, ?, ?)",
            [section_id, words, chars],
        )
    if trigram and _indexed(db, section_id, "sections_tri"):
        db.execute(
            "INSERT INTO sections_tri (sections_tri, rowid, text) VALUES ('delete', ?, ?)",
            [section_id, trigram_text(fold(text))],
        )


def flush_pending(db: sqlite_utils.Database) -> int:
    """Un-index sections deleted or edited since the last call (queued by the m004 triggers)."""
    pending = db.execute("SELECT rowid, section_id, text FROM search_pending ORDER BY rowid").fetchall()
    trigram = bool(pending) and has_trigram(db)
    for _, section_id, text in pending:
        _unindex_section(db, section_id, text, trigram)
    if pending:
        db.execute("DELETE FROM search_pending WHERE rowid <= ?", [pending[-1][0]])
    return len(pending)


Prepared = dict[str, Streams]  # section name (or REPORT_KEY) → (words, chars, trigram text)


def index_sections(
    db: sqlite_utils.Database,
    rows: Iterable[tuple[int, str]],
    prepared: dict[int, Streams] | None = None,
) -> int:
    """(Re)index (section id, text) pairs into sections_seg and sections_tri; `prepared` streams by section
    id are used as is, the others are computed here (ingest and migration paths)."""
    n = 0
    trigram = has_trigram(db)
    for section_id, text in rows:
        _unindex_section(db, section_id, text, trigram)
        ready = (prepared or {}).get(section_id)
        words, chars, tri = ready or (section_streams(text) if trigram else (*streams(text), ""))
        db.execute(
            "INSERT INTO sections_seg (rowid, words, chars) VALUES (?, ?, ?)", [section_id, words, chars]
        )
        if trigram:
            db.execute("INSERT INTO sections_tri (rowid, text) VALUES (?, ?)", [section_id, tri])
        n += 1
    return n


def index_rows(
    db: sqlite_utils.Database,
    seg_table: str,
    rows: Iterable[tuple[int, str]],
    prepared: dict[int, tuple[str, str]] | None = None,
) -> int:
    """(Re)index (rowid, text) pairs into a regular (not contentless) *_seg table, e.g. reports_seg."""
    n = 0
    for rowid, text in rows:
        words, chars = (prepared or {}).get(rowid) or streams(text)
        db.execute(f"DELETE FROM [{seg_table}] WHERE rowid = ?", [rowid])
        db.execute(f"INSERT INTO [{seg_table}] (rowid, words, chars) VALUES (?, ?, ?)", [rowid, words, chars])
        n += 1
    return n


def index_report(db: sqlite_utils.Database, report_id: int, prepared: Prepared | None = None) -> None:
    """Refresh the search index rows (sections and title) of one written report.

    Called by archive/store.py's write_report inside its transaction, after the report's sections were
    (re)inserted; sections deleted or edited before are un-indexed first (search_pending). `prepared`
    holds streams a reader worker already computed (pipelines/segment.py report_streams), so the single
    writer does not segment on its hot path; whatever is missing is segmented here.
    """
    prepared = prepared or {}
    flush_pending(db)
    sections = db.execute(
        "SELECT id, section, text FROM sections WHERE report_id = ?", [report_id]
    ).fetchall()
    index_sections(
        db,
        [(sid, text) for sid, _, text in sections],
        {sid: prepared[name] for sid, name, _ in sections if name in prepared},
    )
    row = db.execute(
        "SELECT coalesce(title, '') || ' ' || coalesce(agency, '') FROM reports WHERE id = ?", [report_id]
    ).fetchone()
    if row is not None:
        ready = {report_id: prepared[REPORT_KEY][:2]} if REPORT_KEY in prepared else None
        index_rows(db, "reports_seg", [(report_id, row[0])], ready)


def rebuild_index(db: sqlite_utils.Database, progress=None) -> int:
    """Rebuild the search indexes from scratch (after a folding or segmentation change)."""
    db.execute("INSERT INTO sections_seg (sections_seg) VALUES ('delete-all')")
    if has_trigram(db):
        db.execute("INSERT INTO sections_tri (sections_tri) VALUES ('delete-all')")
    db.execute("DELETE FROM reports_seg")
    db.execute("DELETE FROM search_pending")
    n = 0
    for (rid,) in db.execute("SELECT id FROM reports ORDER BY id").fetchall():
        index_report(db, rid)
        n += 1
        if progress:
            progress(rid)
    return n
