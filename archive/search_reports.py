"""Report-level search for the search page (`/-/search`): one row per report, filtered, ranked, paged.

The section index (`sections_seg`, archive/search.py) answers any query length, folded; what makes a search
box slow on a million sections is work proportional to *every* hit of a frequent term (一 or 公开 occurs in
most sections): ranking all of them, counting all of them, faceting all of them. Here the work is bounded:

- hits are read newest first (FTS5 walks its doclists by rowid descending and stops at a LIMIT) in chunks
  (`CHUNK`, then twice as many each step); each chunk is a *tier*: a report belongs to the tier where its first hit is read, and reports
  are ranked by their best section's term-frequency score within their tier (`_scored`). A query with fewer hits than a chunk is ranked over all of them;
  a frequent term is ranked over the newest chunk first, then the next — so the order is the same whatever
  page is asked for, and page N only reads as many chunks as it needs;
- a selective filter (an agency, a small region) is applied first: the hits are looked up among the
  sections of those reports only, so a filter never makes a frequent term walk the whole index;
- the count stops at `COUNT_CAP` reports ("1,000+") or after `COUNT_SCAN` more hits ("N+": at least N), and
  filter values are counted only when every hit was read; otherwise the page offers each filter's values
  without counts (from the archive, cached).
"""

from __future__ import annotations

import json
import re
import sqlite3
from dataclasses import dataclass, field
from typing import Any

from archive.search import (
    Plan,
    has_trigram,
    hits_query,
    match_expression,
    plan,
    query_terms,
    register_functions,
)
from pipelines.segment import fold

FILTERS = ("agency", "year", "region", "level", "status")
PER_PAGE = 20
MAX_PAGE = 500
CHUNK = 500  # section hits read by the first step (one ranking tier); each next step reads twice as many
MAX_CHUNK = 16_000
COUNT_CAP = 1000  # reports counted exactly up to this
COUNT_SCAN = 3_000  # section hits read at most to count them
FILTER_FIRST_MAX = 400  # a filter matching at most this many reports is applied before the index
RARE_CANDIDATES = 2000  # fewer trigram candidates than this: the filtered lookup uses sections_tri
SNIPPETS_PER_REPORT = 2
SNIPPET_WIDTH = 50


class SearchError(ValueError):
    """A request the search cannot answer as asked (a malformed filter value); the message says why."""


@dataclass(frozen=True)
class SearchQuery:
    q: str
    filters: dict[str, str] = field(default_factory=dict)
    all_versions: bool = False
    page: int = 1
    per_page: int = PER_PAGE

    @classmethod
    def from_args(cls, args: Any) -> SearchQuery:
        """From request arguments (a mapping with .get): q, agency, year, region, level, status, versions, page."""
        filters = {k: (args.get(k) or "").strip() for k in FILTERS}
        filters = {k: v for k, v in filters.items() if v}
        if "year" in filters and not re.fullmatch(r"\d{4}", filters["year"]):
            raise SearchError(f"年度应为四位数字 / year must be four digits: {filters['year']!r}")
        try:
            page = int(args.get("page") or 1)
        except ValueError:
            raise SearchError(
                f"页码应为正整数 / page must be a positive integer: {args.get('page')!r}"
            ) from None
        if not 1 <= page <= MAX_PAGE:
            raise SearchError(f"页码应在 1 到 {MAX_PAGE} 之间 / page must be 1 to {MAX_PAGE}")
        return cls(
            q=(args.get("q") or "").strip(),
            filters=filters,
            all_versions=(args.get("versions") or "") == "all",
            page=page,
        )


@dataclass
class SearchResult:
    query: SearchQuery
    match: str
    reports: list[dict[str, Any]]
    total: int  # reports found (exact when `exact`, else a lower bound)
    exact: bool
    has_next: bool
    facets: dict[str, list[tuple[Any, int | None]]]
    title_hits: list[dict[str, Any]]

    @property
    def total_label(self) -> str:
        return f"{self.total:,}" if self.exact else f"{self.total:,}+"


# ---------------------------------------------------------------- SQL pieces


def _where(query: SearchQuery) -> tuple[str, list[Any]]:
    clauses = [] if query.all_versions else ["r.is_latest = 1"]
    params: list[Any] = []
    for key in FILTERS:
        if key in query.filters:
            clauses.append(f"r.[{key}] = ?")
            params.append(int(query.filters[key]) if key == "year" else query.filters[key])
    return (" AND ".join(clauses) or "1"), params


def _filtered_reports(conn: sqlite3.Connection, query: SearchQuery) -> list[int] | None:
    """The report ids a selective filter leaves (at most FILTER_FIRST_MAX), or None if it leaves more."""
    if not query.filters:
        return None
    where, params = _where(query)
    ids = [
        r[0]
        for r in conn.execute(
            f"SELECT r.id FROM reports r WHERE {where} LIMIT {FILTER_FIRST_MAX + 1}", params
        ).fetchall()
    ]
    return ids if len(ids) <= FILTER_FIRST_MAX else None


def _subset_plan(conn: sqlite3.Connection, p: Plan, q: str) -> Plan:
    """The plan for looking a query up run by run among a few reports' sections. FTS5 seeks per run of ids:
    sections_tri is fast for rare terms (sections_seg took seconds there: a phrase of frequent characters
    walks their co-occurrences), sections_seg for frequent ones (47 vs 64 ms at 1M sections for 4
    characters and one agency). A term is rare if its trigrams' candidates are fewer than RARE_CANDIDATES."""
    if p.tri is None:
        return p
    n = conn.execute(
        f"SELECT count(*) FROM (SELECT rowid FROM sections_tri WHERE sections_tri MATCH ? LIMIT {RARE_CANDIDATES})",
        [p.tri],
    ).fetchone()[0]
    return p if n < RARE_CANDIDATES else plan(q, trigram=False)


def _hits_in_reports(
    conn: sqlite3.Connection, p: Plan, report_ids: list[int], q: str
) -> list[tuple[int, float, int]]:
    """(section id, score, report id) of every hit among the sections of `report_ids`.

    A report's sections have consecutive ids (written together), so the sections of the subset are a few
    runs of ids, each of which FTS5 seeks to (`rowid BETWEEN`); `rowid IN (…)` instead made FTS5 walk the
    whole doclist once per id."""
    ids = [
        r[0]
        for r in conn.execute(
            "SELECT s.id FROM json_each(?) j CROSS JOIN sections s ON s.report_id = j.value ORDER BY s.id",
            [json.dumps(report_ids)],
        ).fetchall()
    ]
    runs: list[list[int]] = []
    for sid in ids:
        if runs and sid == runs[-1][1] + 1:
            runs[-1][1] = sid
        else:
            runs.append([sid, sid])
    found: list[int] = []
    for lo, hi in runs:
        found += [r[0] for r in conn.execute(*hits_query(p, "rowid BETWEEN ? AND ?", [lo, hi])).fetchall()]
    rows = conn.execute(
        "SELECT s.id, s.report_id, s.text FROM json_each(?) j CROSS JOIN sections s ON s.id = j.value",
        [json.dumps(found)],
    ).fetchall()
    return _scored(rows, q)


def _chunk(
    conn: sqlite3.Connection, p: Plan, before: int | None, query: SearchQuery, size: int
) -> tuple[list[tuple[int, float, int]], int | None]:
    """One tier: the next `size` hits below rowid `before`, kept if their report passes the filters, scored.
    Returns the kept hits and the rowid to continue below (None when the index has no more hits)."""
    below = ("rowid < ?", [before]) if before is not None else ("", [])
    raw = [
        r[0]
        for r in conn.execute(
            *hits_query(p, *below, tail=f"ORDER BY rowid DESC LIMIT {int(size)}")
        ).fetchall()
    ]
    if not raw:
        return [], None
    where, params = _where(query)
    rows = conn.execute(
        "SELECT s.id, s.report_id, s.text FROM json_each(?) j CROSS JOIN sections s ON s.id = j.value"
        f" CROSS JOIN reports r ON r.id = s.report_id WHERE {where}",
        [json.dumps(raw), *params],
    ).fetchall()
    return _scored(rows, query.q), (raw[-1] if len(raw) == size else None)


def _scored(rows: list[tuple[int, int, str]], q: str) -> list[tuple[int, float, int]]:
    """(section id, score, report id), score lower = better: minus a BM25-like term-frequency score,
    saturated per term and normalised by length against these rows' mean length.

    FTS5's bm25() is not used: its IDF counts every hit of each term once per statement, which for a
    frequent character is most of the index. Within one query every section is scored with the same terms,
    so term frequency and length carry the ranking. Occurrences are counted with str.count on the raw text
    (folding every hit costs more than the rest of the search); a hit whose text spells the term another way
    (traditional, full width, spaced) counts once — the index says it is there."""
    forms = []
    for term in query_terms(q):
        folded = "".join(c for c in fold(term) if not c.isspace())
        if folded:
            forms.append({folded, "".join(c for c in term if not c.isspace())})
    if not rows:
        return []
    mean = sum(len(text) for _, _, text in rows) / len(rows) or 1.0
    out = []
    for sid, rid, text in rows:
        norm = 1.2 * (0.25 + 0.75 * len(text) / mean)
        score = 0.0
        for variants in forms:
            tf = max(1, max(text.count(v) for v in variants))
            score += tf * 2.2 / (tf + norm)
        out.append((sid, -round(score, 6), rid))
    return out


def _rank(hits: list[tuple[int, float, int]], seen: set[int]) -> list[tuple[int, float, list[int]]]:
    """Reports of one tier, best score first, then newer report id; their hit sections best first."""
    best: dict[int, float] = {}
    sections: dict[int, list[tuple[float, int]]] = {}
    for sid, score, rid in hits:
        if rid in seen:
            continue
        best[rid] = min(score, best.get(rid, score))
        sections.setdefault(rid, []).append((score, sid))
    order = sorted(best, key=lambda rid: (best[rid], -rid))
    return [(rid, best[rid], [sid for _, sid in sorted(sections[rid])]) for rid in order]


def _count_more(
    conn: sqlite3.Connection, p: Plan, before: int, query: SearchQuery, have: set[int]
) -> tuple[int, bool]:
    """Filtered reports with hits below rowid `before` not in `have`, read until the count reaches COUNT_CAP
    or COUNT_SCAN more hits were read. Returns (how many, whether that is all of them)."""
    limit = COUNT_CAP + 1  # distinct reports, some of which may be in `have` (a report straddles chunks)
    where, params = _where(query)
    # One pass over the hits, stopped as soon as enough reports are counted (a second pass to learn how
    # many hits were read cost as much as the first).
    below, below_params = hits_query(p, "rowid < ?", [before], f"ORDER BY rowid DESC LIMIT {COUNT_SCAN}")
    cursor = conn.execute(
        f"SELECT CASE WHEN {where} THEN s.report_id END FROM ({below}) h CROSS JOIN sections s"
        " ON s.id = h.rowid CROSS JOIN reports r ON r.id = s.report_id",
        [*params, *below_params],
    )
    found: set[int] = set()
    scanned = 0
    for (rid,) in cursor:
        scanned += 1
        if rid is not None:
            found.add(rid)
            if len(found) == limit:
                cursor.close()
                return len(found - have), False
    return len(found - have), scanned < COUNT_SCAN


# ---------------------------------------------------------------- the search


def search_reports(conn: sqlite3.Connection, query: SearchQuery) -> SearchResult:
    """Run `query` against one archive connection (read-only use)."""
    match = match_expression(query.q) if query.q else ""
    empty = SearchResult(query, match, [], 0, True, False, {}, [])
    if not query.q or match == '""':
        return empty
    register_functions(conn)
    p = plan(query.q, trigram=has_trigram(conn))
    want = query.page * query.per_page + 1  # one more than the page's end tells whether a next page exists
    ranked: list[tuple[int, float, list[int]]] = []
    seen: set[int] = set()
    before: int | None = None
    exhausted = True
    subset = _filtered_reports(conn, query)
    if subset is not None:
        ranked = (
            _rank(_hits_in_reports(conn, _subset_plan(conn, p, query.q), subset, query.q), seen)
            if subset
            else []
        )
    else:
        size = CHUNK
        while True:
            hits, before = _chunk(conn, p, before, query, size)
            size = min(size * 2, MAX_CHUNK)  # a filter that skips most hits needs few, growing, steps
            tier = _rank(hits, seen)
            ranked += tier
            seen.update(rid for rid, _, _ in tier)
            if before is None:
                break
            if len(ranked) >= want:
                exhausted = False
                break
    total, exact = len(ranked), exhausted
    if not exhausted and before is not None:
        more, exact = _count_more(conn, p, before, query, seen)
        total += more
    if not exact:
        total = min(total, COUNT_CAP)
    start = (query.page - 1) * query.per_page
    page = ranked[start : start + query.per_page]
    reports = _page_rows(conn, page, query.q)
    facets = _facets(conn, [rid for rid, _, _ in ranked]) if exhausted and total <= COUNT_CAP else {}
    return SearchResult(
        query=query,
        match=match,
        reports=reports,
        total=total,
        exact=exact,
        has_next=len(ranked) > start + query.per_page,
        facets=facets,
        title_hits=_title_hits(conn, match, query) if query.page == 1 else [],
    )


def _page_rows(
    conn: sqlite3.Connection, page: list[tuple[int, float, list[int]]], q: str
) -> list[dict[str, Any]]:
    if not page:
        return []
    ids = [rid for rid, _, _ in page]
    cols = "id, agency, year, region, level, status, title, is_latest, document_id, published_date"
    rows = {
        r[0]: dict(zip([c.strip() for c in cols.split(",")], r, strict=True))
        for r in conn.execute(
            f"SELECT {cols} FROM reports WHERE id IN (SELECT value FROM json_each(?))", [json.dumps(ids)]
        ).fetchall()
    }
    wanted = [sid for _, _, sids in page for sid in sids[:SNIPPETS_PER_REPORT]]
    texts = {
        r[0]: (r[1], r[2])
        for r in conn.execute(
            "SELECT id, section, text FROM sections WHERE id IN (SELECT value FROM json_each(?))",
            [json.dumps(wanted)],
        ).fetchall()
    }
    out = []
    for rid, score, sids in page:
        row = rows.get(rid)
        if row is None:  # deleted between the two queries
            continue
        row["score"] = round(score, 3)
        row["hit_sections"] = len(sids)
        row["snippets"] = [
            {"section_id": sid, "section": texts[sid][0], "parts": highlight(texts[sid][1], q)}
            for sid in sids[:SNIPPETS_PER_REPORT]
            if sid in texts
        ]
        out.append(row)
    return out


def _facets(conn: sqlite3.Connection, report_ids: list[int]) -> dict[str, list[tuple[Any, int | None]]]:
    """Counts per filter value among the matching reports (only called when they are all known)."""
    if not report_ids:
        return {}
    out: dict[str, list[tuple[Any, int | None]]] = {}
    ids = json.dumps(report_ids)
    for key in FILTERS:
        rows = conn.execute(
            f"SELECT [{key}], count(*) AS n FROM reports WHERE id IN (SELECT value FROM json_each(?))"
            f" AND [{key}] IS NOT NULL GROUP BY [{key}] ORDER BY n DESC, [{key}] LIMIT 30",
            [ids],
        ).fetchall()
        out[key] = [(v, n) for v, n in rows]
    return out


def filter_values(conn: sqlite3.Connection) -> dict[str, list[tuple[Any, int | None]]]:
    """Each filter's values across the latest reports, without counts (for searches whose count is capped).

    Agencies are too many to list; the agency filter is typed or followed from a result."""
    out: dict[str, list[tuple[Any, int | None]]] = {}
    for key in ("year", "region", "level", "status"):
        rows = conn.execute(
            f"SELECT DISTINCT [{key}] FROM reports WHERE is_latest = 1 AND [{key}] IS NOT NULL"
            f" ORDER BY [{key}] {'DESC' if key == 'year' else ''} LIMIT 200"
        ).fetchall()
        out[key] = [(r[0], None) for r in rows]
    return out


def _title_hits(
    conn: sqlite3.Connection, match: str, query: SearchQuery, limit: int = 5
) -> list[dict[str, Any]]:
    """Reports whose title or agency matches, newest first: a short list above the results."""
    where, params = _where(query)
    rows = conn.execute(
        "SELECT r.id, r.agency, r.year, r.title, r.is_latest FROM (SELECT rowid AS id FROM reports_seg"
        " WHERE reports_seg MATCH ? ORDER BY rowid DESC LIMIT 500) h"
        f" CROSS JOIN reports r ON r.id = h.id WHERE {where} LIMIT ?",
        [match, *params, limit],
    ).fetchall()
    return [dict(zip(("id", "agency", "year", "title", "is_latest"), r, strict=True)) for r in rows]


# ---------------------------------------------------------------- highlighting


def _folded_with_map(text: str) -> tuple[str, list[int] | range]:
    """`text` folded, and for each folded character the index of its source character (folding is one to
    one for almost every text; otherwise it is done one character at a time)."""
    folded = fold(text)
    if len(folded) == len(text):
        return folded, range(len(text))
    out: list[str] = []
    where: list[int] = []
    for i, ch in enumerate(text):
        f = fold(ch) or ch
        out.append(f)
        where.extend([i] * len(f))
    return "".join(out), where


def _term_pattern(term: str) -> re.Pattern[str] | None:
    chars = [c for c in fold(term) if not c.isspace()]
    if not chars:
        return None
    return re.compile(r"\s*".join(re.escape(c) for c in chars))


def highlight(text: str, q: str, width: int = SNIPPET_WIDTH, windows: int = 3) -> list[tuple[str, bool]]:
    """Snippet of `text` as (piece, is_match) parts: windows around the first occurrence of each query term,
    every occurrence of every term inside them marked. Parts are plain text: the page escapes them."""
    patterns = [p for p in (_term_pattern(t) for t in query_terms(q)) if p is not None]
    lowered = text.lower()
    where: list[int] | range
    if len(lowered) == len(text) and all(p.search(lowered) for p in patterns):
        folded, where = lowered, range(len(text))  # every term as written: no need to fold (the slow part)
    else:
        folded, where = _folded_with_map(text)
    spans: list[tuple[int, int]] = []
    firsts: list[int] = []
    for pattern in patterns:
        found = [
            (where[m.start()], where[m.end() - 1] + 1)
            for m in pattern.finditer(folded)
            if m.end() > m.start()
        ]
        spans += found
        if found:
            firsts.append(found[0][0])
    if not firsts:
        return [(text[: width * 2] + ("…" if len(text) > width * 2 else ""), False)]
    # Windows around each term's first occurrence, merged when they overlap.
    ranges: list[list[int]] = []
    for pos in sorted(set(firsts))[:windows]:
        lo, hi = max(0, pos - width), min(len(text), pos + width)
        if ranges and lo <= ranges[-1][1]:
            ranges[-1][1] = max(ranges[-1][1], hi)
        else:
            ranges.append([lo, hi])
    marks = sorted(spans)
    parts: list[tuple[str, bool]] = []
    for lo, hi in ranges:
        # widen to whole matches at the window's edges
        for a, b in marks:
            if a < lo < b:
                lo = a
            if a < hi < b:
                hi = b
        if parts or lo > 0:
            parts.append(("…", False))
        pos = lo
        for a, b in marks:
            if b <= pos or a >= hi:
                continue
            a = max(a, pos)
            if a > pos:
                parts.append((text[pos:a], False))
            parts.append((text[a:b], True))
            pos = b
        if pos < hi:
            parts.append((text[pos:hi], False))
    if ranges[-1][1] < len(text):
        parts.append(("…", False))
    return parts
