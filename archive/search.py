"""Chinese full-text search: folding, the segmented index and query rewriting (docs/archive.md, "Search").

SQLite's default tokenizer indexes a run of Han characters as one token and the trigram tokenizer cannot
match fewer than 3 characters, so neither answers 许可 or 税. The archive keeps, next to the trigram
`sections_fts` (raw text, for SQL users), a second FTS5 table per searchable table — `sections_seg` and
`reports_seg` — tokenised by unicode61 over two prepared columns of *folded* text:

- ``words``: jieba ``cut_for_search`` tokens (复议, 行政复议 …) — word-level hits, which bm25 ranks first;
- ``chars``: one token per Han character (ASCII/digit runs kept whole, punctuation as a break token) —
  a query of any length becomes a phrase of single characters, which matches exactly where the folded
  text contains that substring: full recall for 1-, 2- and longer-character queries, through an index.

Folding (NFKC: full-width → half-width, Kangxi radicals → ordinary characters; traditional → simplified,
character by character with OpenCC's t2s table; lower case) is applied to the text when it is indexed and to
the query when it is searched. Datasette's own ``?_search=`` runs ``<table>_seg MATCH escape_fts(:search)``
(metadata ``fts_table``); the plugin replaces ``escape_fts`` with `escape_fts_cjk`, which rewrites a query
containing Han characters and leaves any other query exactly as Datasette would.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable

import sqlite_utils

from pipelines.segment import _HAN, REPORT_KEY, chars_stream, fold, has_han, streams

_ESCAPE_FTS = re.compile(r'\s+|(".*?")')


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


# ---------------------------------------------------------------- index maintenance


def _indexed(db: sqlite_utils.Database, section_id: int) -> bool:
    return db.execute("SELECT 1 FROM sections_seg_docsize WHERE id = ?", [section_id]).fetchone() is not None


def _unindex_section(db: sqlite_utils.Database, section_id: int, text: str) -> None:
    """Remove one section from the contentless index; `text` must be the text that was indexed."""
    if _indexed(db, section_id):
        words, chars = streams(text)
        db.execute(
            "INSERT INTO sections_seg (sections_seg, rowid, words, chars) VALUES ('delete', ?, ?, ?)",
            [section_id, words, chars],
        )


def flush_pending(db: sqlite_utils.Database) -> int:
    """Un-index sections deleted or edited since the last call (queued by the m004 triggers)."""
    pending = db.execute("SELECT rowid, section_id, text FROM search_pending ORDER BY rowid").fetchall()
    for _, section_id, text in pending:
        _unindex_section(db, section_id, text)
    if pending:
        db.execute("DELETE FROM search_pending WHERE rowid <= ?", [pending[-1][0]])
    return len(pending)


Prepared = dict[str, tuple[str, str]]  # section name (or REPORT_KEY) → (words, chars) streams


def index_sections(
    db: sqlite_utils.Database,
    rows: Iterable[tuple[int, str]],
    prepared: dict[int, tuple[str, str]] | None = None,
) -> int:
    """(Re)index (section id, text) pairs into sections_seg; `prepared` streams by section id are used as is."""
    n = 0
    for section_id, text in rows:
        _unindex_section(db, section_id, text)
        words, chars = (prepared or {}).get(section_id) or streams(text)
        db.execute(
            "INSERT INTO sections_seg (rowid, words, chars) VALUES (?, ?, ?)", [section_id, words, chars]
        )
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
        ready = {report_id: prepared[REPORT_KEY]} if REPORT_KEY in prepared else None
        index_rows(db, "reports_seg", [(report_id, row[0])], ready)


def rebuild_index(db: sqlite_utils.Database, progress=None) -> int:
    """Rebuild both *_seg tables from scratch (after a folding or segmentation change)."""
    db.execute("INSERT INTO sections_seg (sections_seg) VALUES ('delete-all')")
    db.execute("DELETE FROM reports_seg")
    db.execute("DELETE FROM search_pending")
    n = 0
    for (rid,) in db.execute("SELECT id FROM reports ORDER BY id").fetchall():
        index_report(db, rid)
        n += 1
        if progress:
            progress(rid)
    return n
