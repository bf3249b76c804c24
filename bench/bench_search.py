"""Search latency through Datasette's JSON API on a large synthetic archive, and export time.

    python bench/bench_search.py                      # 1,000,000 sections (generation takes a while)
    python bench/bench_search.py --sections 100000 --db /tmp/b100k.db
    python bench/bench_search.py --db /tmp/b100k.db --reuse   # re-measure an archive built before

Sections are ~300 characters of clauses cut from the seed reports (../shared/seeds beside the checkout, else a built-in
sample), shuffled, 7 sections per report; the search indexes are built by the same code as the archive's
(sections_fts trigram by its triggers, sections_seg and sections_tri as archive.search builds them). Reports get regions, levels and
statuses, and one in ten an older version (`vary`), so the filters and `versions=all` have work to do.

Latency is measured over HTTP on a warm server, p50/p95 per query set: random 1-, 2- and 4-character terms
taken from the text (frequent: most occur in thousands of sections), rare and absent terms of common
characters (`rare_terms`: planted in 1-96 sections, or nowhere), phrases of two terms, two-term AND queries; for the search page `/-/search` (HTML, as a browser
asks for it) without and with filters (a year; a level; one agency), page 5, `versions=all`; and for the
`sections` table's own search box (`/<db>/sections?_search=`, HTML and JSON). The anchor is
`/-/versions.json` (no database work), measured in the same run. Prints figures only; never asserts timings.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import random
import re
import shutil
import sqlite3
import statistics
import sys
import tempfile
import time
import urllib.parse
import urllib.request
from collections.abc import Callable
from pathlib import Path

SEEDS = Path(__file__).resolve().parents[2] / "shared" / "seeds"
FALLBACK = (
    "本机关认真贯彻落实政府信息公开条例，坚持以公开为常态、不公开为例外。全年主动公开政府信息，"
    "及时回应社会关切。收到政府信息公开申请，均在法定期限内予以答复。行政复议和行政诉讼案件依法办理。"
    "行政许可、行政处罚、行政强制决定按规定公开。存在的主要问题是政策解读形式较为单一，下一步将加强培训。"
)
SECTIONS_PER_REPORT = 7
SECTION_NAMES = ("preamble", "overview", "active", "applications", "review_litigation", "problems", "other")


def clauses() -> list[str]:
    text = (
        "".join(p.read_text(encoding="utf-8") for p in sorted(SEEDS.glob("*.txt"))) if SEEDS.is_dir() else ""
    )
    parts = [c.strip() for c in re.split(r"[，。；！？、\n]", text or FALLBACK) if len(c.strip()) >= 4]
    return parts


def make_section(rng: random.Random, pool: list[str], size: int = 300) -> str:
    out, n = [], 0
    while n < size:
        c = rng.choice(pool)
        out.append(c)
        n += len(c) + 1
    return "，".join(out) + "。"


def _streams(item: tuple[int, str]) -> tuple[int, str, str]:
    from pipelines.segment import chars_stream, fold, words_stream

    sid, text = item
    folded = fold(text)
    return sid, words_stream(folded), chars_stream(folded)


def build(db_path: Path, n_sections: int, workers: int, seed: int = 1, distinct: int = 0) -> None:
    """`distinct` > 0: sections are drawn from that many distinct texts, segmented once each (a 1M archive in
    minutes instead of an hour of jieba; the index holds the same kind of text, each text many times)."""
    from archive.db import open_db

    if db_path.exists():
        db_path.unlink()
    db = open_db(db_path)
    db.close()
    conn = sqlite3.connect(db_path)
    conn.execute("PRAGMA synchronous = OFF")
    conn.execute("PRAGMA journal_mode = OFF")
    rng = random.Random(seed)
    pool = clauses()
    agencies = [
        f"第{i}区{kind}" for i in range(200) for kind in ("人民政府", "卫生健康委员会", "财政局", "教育局")
    ]
    n_reports = max(1, n_sections // SECTIONS_PER_REPORT)
    texts = [make_section(rng, pool) for _ in range(distinct)]
    t0 = time.perf_counter()
    sid = 0
    with conn:
        for rid in range(1, n_reports + 1):
            agency = agencies[rid % len(agencies)]
            year = 2019 + (rid // len(agencies)) % 7
            url = f"https://example.gov.cn/{rid}/t{year + 1}0120_{rid}.html"
            sha = f"{rid:064x}"
            conn.execute(
                "INSERT INTO documents (id, url, kind, first_seen, last_seen) VALUES (?, ?, 'report', 'x', 'x')",
                [rid, url],
            )
            conn.execute("INSERT INTO blobs VALUES (?, 1, x'00')", [sha])
            conn.execute(
                "INSERT INTO versions (id, document_id, sha256, fetched_at, size, first_seen, last_seen)"
                " VALUES (?, ?, ?, 'x', 1, 'x', 'x')",
                [rid, rid, sha],
            )
            conn.execute(
                "INSERT INTO reports (id, version_id, document_id, agency, year, title, template, status,"
                " is_latest, parsed_at) VALUES (?, ?, ?, ?, ?, ?, '2021', 'complete', 1, 'x')",
                [rid, rid, rid, agency, year, f"{agency}{year}年政府信息公开工作年度报告"],
            )
            for pos, name in enumerate(SECTION_NAMES):
                sid += 1
                conn.execute(
                    "INSERT INTO sections (id, report_id, section, position, text) VALUES (?, ?, ?, ?, ?)",
                    [sid, rid, name, pos, rng.choice(texts) if texts else make_section(rng, pool)],
                )
                if sid >= n_sections:
                    break
            if sid >= n_sections:
                break
    t1 = time.perf_counter()
    print(f"generated {sid:,} sections in {n_reports:,} reports + trigram index: {t1 - t0:.1f} s", flush=True)
    step = 20000
    with multiprocessing.Pool(workers) as pool_:
        if texts:
            streams = {
                t: (w, c)
                for (_, w, c), t in zip(pool_.map(_streams, enumerate(texts), 256), texts, strict=True)
            }
            with conn:
                conn.executemany(
                    "INSERT INTO sections_seg (rowid, words, chars) VALUES (?, ?, ?)",
                    ((i, *streams[t]) for i, t in conn.execute("SELECT id, text FROM sections").fetchall()),
                )
        for start in range(1, sid + 1 if not texts else 1, step):
            rows = conn.execute(
                "SELECT id, text FROM sections WHERE id >= ? AND id < ?", [start, start + step]
            ).fetchall()
            with conn:
                conn.executemany(
                    "INSERT INTO sections_seg (rowid, words, chars) VALUES (?, ?, ?)",
                    pool_.map(_streams, rows, chunksize=256),
                )
    t2 = time.perf_counter()
    print(f"segmented index (jieba + characters, {workers} workers): {t2 - t1:.1f} s", flush=True)
    from archive.search import has_trigram, trigram_text
    from pipelines.segment import fold

    if has_trigram(conn):
        tri = {t: trigram_text(fold(t)) for t in texts}
        for start in range(1, sid + 1, step):
            rows = conn.execute(
                "SELECT id, text FROM sections WHERE id >= ? AND id < ?", [start, start + step]
            ).fetchall()
            with conn:
                conn.executemany(
                    "INSERT INTO sections_tri (rowid, text) VALUES (?, ?)",
                    ((i, tri[t] if t in tri else trigram_text(fold(t))) for i, t in rows),
                )
        t3 = time.perf_counter()
        print(f"folded trigram index (sections_tri): {t3 - t2:.1f} s", flush=True)
        t2 = t3
    from archive.db import open_db as _open
    from archive.search import index_rows

    db = _open(db_path)
    with db.conn:
        index_rows(db, "reports_seg", db.execute("SELECT id, title || ' ' || agency FROM reports").fetchall())
    db.close()
    conn.execute("PRAGMA journal_mode = WAL")
    conn.close()
    print(f"report title index: {time.perf_counter() - t2:.1f} s", flush=True)


REGIONS = ("示例省", "样本省", "测试市", "虚构市", "假设县")
LEVELS = ("省级", "市级", "县级", "乡级")


def vary(db_path: Path) -> None:
    """Give reports regions, levels and statuses, and mark one in ten an older version (idempotent); bring
    the schema up to date (an archive built by an older checkout)."""
    from archive.db import open_db

    open_db(db_path).close()
    conn = sqlite3.connect(db_path)
    with conn:
        conn.execute(
            "UPDATE reports SET region = (SELECT value FROM json_each(?) WHERE key = reports.id % 5),"
            " level = (SELECT value FROM json_each(?) WHERE key = reports.id % 4),"
            " status = CASE WHEN id % 7 = 0 THEN 'partial' ELSE 'complete' END,"
            " is_latest = CASE WHEN id % 10 = 3 THEN 0 ELSE 1 END WHERE region IS NULL",
            [json.dumps(REGIONS, ensure_ascii=False), json.dumps(LEVELS, ensure_ascii=False)],
        )
    conn.close()


def rare_terms(db_path: Path, n: int, seed: int = 11) -> tuple[list[str], list[str]]:
    """(rare, absent): terms of common characters in an order the text never has (a clause's 4 characters
    reversed); the rare ones are planted in 1-96 new sections of random reports (once: kept in `bench_rare`),
    so the index must intersect long doclists to find a few hits. Absent ones are not planted (0 hits)."""
    from archive.db import open_db
    from archive.search import index_sections

    db = open_db(db_path)
    db.execute("CREATE TABLE IF NOT EXISTS bench_rare (term TEXT PRIMARY KEY, planted INTEGER)")
    have = db.execute("SELECT term, planted FROM bench_rare ORDER BY rowid").fetchall()
    if not have:
        rng = random.Random(seed)
        han = sorted({c for c in clauses() if re.fullmatch(r"[\u4e00-\u9fff]+", c) and len(c) >= 4})
        pool = clauses()
        candidates: list[str] = []
        while len(candidates) < 2 * n:
            c = rng.choice(han)
            i = rng.randrange(0, len(c) - 3)
            term = c[i : i + 4][::-1]
            if term not in candidates and not any(term in x for x in han):
                candidates.append(term)
        n_reports = db.execute("SELECT max(id) FROM reports").fetchone()[0]
        next_id = db.execute("SELECT max(id) FROM sections").fetchone()[0] + 1
        with db.conn:
            for k, term in enumerate(candidates):
                planted = 1 + (k * 5) % 96 if k < n else 0
                rows = []
                for _ in range(planted):
                    text = make_section(rng, pool, 150) + term + make_section(rng, pool, 150)
                    db.execute(
                        "INSERT INTO sections (id, report_id, section, position, text) VALUES (?, ?, 'other', 9, ?)",
                        [next_id, rng.randint(1, n_reports), text],
                    )
                    rows.append((next_id, text))
                    next_id += 1
                index_sections(db, rows)
                db.execute("INSERT INTO bench_rare VALUES (?, ?)", [term, planted])
        have = db.execute("SELECT term, planted FROM bench_rare ORDER BY rowid").fetchall()
    db.close()
    return [t for t, k in have if k][:n], [t for t, k in have if not k][:n]


def queries(n: int, length: int, seed: int = 7) -> list[str]:
    rng = random.Random(seed + length)
    han = [c for c in clauses() if re.fullmatch(r"[\u4e00-\u9fff]+", c) and len(c) >= length]
    out = []
    while len(out) < n:
        c = rng.choice(han)
        i = rng.randrange(0, len(c) - length + 1)
        out.append(c[i : i + length])
    return out


def timed_get(url: str) -> float:
    t = time.perf_counter()
    with urllib.request.urlopen(url, timeout=120) as r:
        r.read()
    return (time.perf_counter() - t) * 1000


def pct(values: list[float], p: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, round(p / 100 * (len(values) - 1)))]


def measure(db_path: Path, n: int, quick: bool = False) -> None:
    import subprocess

    from archive.cli import datasette_command

    sys.path.insert(0, str(Path(__file__).parent.parent))
    from tests.helpers_archive import free_port

    conn = sqlite3.connect(db_path)
    agency = conn.execute("SELECT agency FROM reports WHERE is_latest = 1 LIMIT 1 OFFSET 17").fetchone()[0]
    conn.close()
    rare, absent = rare_terms(db_path, n)  # before the server starts: it plants sections the first time
    port = free_port()
    proc = subprocess.Popen(
        datasette_command(db_path, port=port), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    base = f"http://127.0.0.1:{port}"
    name = db_path.stem
    quote = urllib.parse.quote
    sets = {
        "1 char": queries(n, 1),
        "2 chars": queries(n, 2),
        "4 chars": queries(n, 4),
        "rare (1-96 hits)": rare,
        "absent (0 hits)": absent,
        '"phrase" (2 terms)': [f'"{a} {b}"' for a, b in zip(queries(n, 2, 3), queries(n, 2, 4), strict=True)],
        "AND (2+2 chars)": [f"{a} {b}" for a, b in zip(queries(n, 2, 5), queries(n, 2, 6), strict=True)],
    }
    page = f"{base}/-/search?q="
    modes: dict[str, tuple[Callable[[str], str], tuple[str, ...]]] = {
        "search page": (lambda q: page + quote(q), tuple(sets)),
        "search page, year=2023": (
            lambda q: page + quote(q) + "&year=2023",
            ("1 char", "4 chars", "rare (1-96 hits)"),
        ),
        "search page, level=县级": (
            lambda q: page + quote(q) + "&level=" + quote("县级"),
            ("1 char", "4 chars"),
        ),
        "search page, one agency": (
            lambda q: page + quote(q) + "&agency=" + quote(agency),
            ("1 char", "4 chars", "rare (1-96 hits)"),
        ),
        "search page, page 5": (lambda q: page + quote(q) + "&page=5", ("1 char", "2 chars")),
        "search page, versions=all": (lambda q: page + quote(q) + "&versions=all", ("2 chars",)),
        "sections table search box (HTML)": (
            lambda q: f"{base}/{name}/sections?_search={quote(q)}",
            ("1 char", "2 chars", "4 chars", "rare (1-96 hits)"),
        ),
        "sections table JSON": (
            lambda q: f"{base}/{name}/sections.json?_search={quote(q)}",
            ("1 char", "2 chars", "4 chars", "rare (1-96 hits)"),
        ),
    }
    if quick:
        modes = {k: v for k, v in modes.items() if k in ("search page", "sections table search box (HTML)")}
    try:
        for _ in range(300):
            try:
                urllib.request.urlopen(f"{base}/-/versions.json", timeout=2).read()
                break
            except OSError:
                time.sleep(0.2)
        anchor = [timed_get(f"{base}/-/versions.json") for _ in range(n)]
        print(
            f"\nanchor /-/versions.json: p50 {statistics.median(anchor):.1f} ms, p95 {pct(anchor, 95):.1f} ms"
        )
        print(f"latency over HTTP, {n} queries per set (ms):")
        print(f"{'mode':36} {'queries':20} {'p50':>8} {'p95':>8} {'max':>8}")
        for label, (make, which) in modes.items():
            for set_name in which:
                qs = sets[set_name]
                if not qs:
                    continue
                timed_get(make(qs[0]))  # warm
                times = [timed_get(make(q)) for q in qs]
                print(
                    f"{label:36} {set_name:20} {statistics.median(times):8.1f} {pct(times, 95):8.1f} "
                    f"{max(times):8.1f}",
                    flush=True,
                )
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sections", type=int, default=1_000_000)
    ap.add_argument("--db", type=Path, default=None, help="archive path (default: a temporary file)")
    ap.add_argument("--reuse", action="store_true", help="measure an existing --db without rebuilding")
    ap.add_argument("--queries", type=int, default=50, help="queries per length")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument(
        "--distinct", type=int, default=0, help="draw sections from this many distinct texts (faster build)"
    )
    ap.add_argument("--no-export", action="store_true")
    ap.add_argument("--quick", action="store_true", help="only the search page and the table search box")
    args = ap.parse_args()
    tmp = None
    if args.db is None:
        tmp = Path(tempfile.mkdtemp(prefix="nianbao-bench-"))
        args.db = tmp / "bench.db"
    if not args.reuse:
        build(args.db, args.sections, args.workers, distinct=args.distinct)
    vary(args.db)
    conn = sqlite3.connect(args.db)
    n_sections = conn.execute("SELECT count(*) FROM sections").fetchone()[0]
    n_reports = conn.execute("SELECT count(*) FROM reports").fetchone()[0]
    seg_bytes = (
        conn.execute("SELECT sum(pgsize) FROM dbstat WHERE name LIKE 'sections_seg%'").fetchone()[0]
        if _has_dbstat(conn)
        else None
    )
    fts_bytes = (
        conn.execute("SELECT sum(pgsize) FROM dbstat WHERE name LIKE 'sections_fts%'").fetchone()[0]
        if _has_dbstat(conn)
        else None
    )
    tri_bytes = (
        conn.execute("SELECT sum(pgsize) FROM dbstat WHERE name LIKE 'sections_tri%'").fetchone()[0]
        if _has_dbstat(conn)
        else None
    )
    conn.close()
    size = args.db.stat().st_size
    print(
        f"\narchive: {n_sections:,} sections, {n_reports:,} reports, {size / 1e6:,.1f} MB "
        f"({size / n_reports * 1000 / 1e6:,.2f} MB per 1,000 synthetic reports of 7 × 300 characters)"
    )
    if seg_bytes:
        print(
            f"  sections_seg (jieba words + characters): {seg_bytes / 1e6:,.1f} MB; "
            f"sections_fts (trigram): {(fts_bytes or 0) / 1e6:,.1f} MB; "
            f"sections_tri (folded trigram, detail=none): {(tri_bytes or 0) / 1e6:,.1f} MB"
        )
    measure(args.db, args.queries, args.quick)
    if not args.no_export:
        from archive.export import export

        out = Path(tempfile.mkdtemp(prefix="nianbao-export-"))
        t = time.perf_counter()
        result = export(args.db, out)
        print(
            f"\nexport: {time.perf_counter() - t:.1f} s ({sum(result.rows.values()):,} CSV rows, "
            f"{len(result.csv_files)} files)"
        )
        shutil.rmtree(out, ignore_errors=True)
    if tmp:
        shutil.rmtree(tmp, ignore_errors=True)
    return 0


def _has_dbstat(conn: sqlite3.Connection) -> bool:
    try:
        conn.execute("SELECT 1 FROM dbstat LIMIT 1")
        return True
    except sqlite3.Error:
        return False


if __name__ == "__main__":
    sys.exit(main())
