"""Size of the live archive and of the lean published copy per 1,000 real-like reports.

    python bench/bench_publish_size.py                 # 1,000 reports
    python bench/bench_publish_size.py --reports 200

Sources: the real PDFs/DOCX of ../shared/corpus and the real report texts of ../shared/seeds, each read once
by the real reader (pipelines/read.py); every report is then written through archive/store.py with its own
original bytes (the source's bytes plus a unique trailer, so each is a distinct blob as on real portals),
under an agency with four years (2020–2023, so the auditor's cross-year checks are in). Prints sizes (total,
per report, per table via dbstat) for the archive and the lean copy (archive/publish.py lean_copy) and the
originals store beside it. Prints figures only; asserts nothing.
"""

from __future__ import annotations

import argparse
import sqlite3
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from archive import store
from archive.db import open_db
from archive.publish import lean_copy
from pipelines.read import read_report

SHARED = Path(__file__).resolve().parents[2] / "shared"
YEARS = 4  # reports per agency


def sources() -> list[tuple[str, bytes, object]]:
    out = []
    paths = sorted((SHARED / "corpus").glob("*.pdf")) + sorted((SHARED / "corpus").glob("*.docx"))
    paths += sorted((SHARED / "seeds").glob("*.txt"))
    for p in paths:
        body = p.read_bytes()
        started = time.perf_counter()
        report = read_report(body, p.name, None, {})
        print(f"read {p.name}: {report.status}, {len(body):,} bytes, {time.perf_counter() - started:.1f} s")
        out.append((p.name, body, report))
    if not out:
        raise SystemExit(f"no sources under {SHARED}")
    return out


def per_table(path: Path) -> list[tuple[str, int]]:
    """Bytes per table and index; an FTS5 table's shadow tables (_data, _idx, _docsize …) under its name."""
    conn = sqlite3.connect(path)
    try:
        rows = conn.execute("SELECT name, sum(pgsize) FROM dbstat GROUP BY name").fetchall()
        fts = [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE sql LIKE 'CREATE VIRTUAL%'")]
    except sqlite3.OperationalError:
        return []
    finally:
        conn.close()
    sizes: dict[str, int] = {}
    for name, size in rows:
        owner = next((f for f in fts if name.startswith(f + "_")), name)
        sizes[owner] = sizes.get(owner, 0) + size
    return sorted(sizes.items(), key=lambda kv: -kv[1])[:14]


def du(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--reports", type=int, default=1000)
    ap.add_argument("--dir", type=Path, default=None)
    args = ap.parse_args()
    work = args.dir or Path(tempfile.mkdtemp(prefix="nianbao-size-"))
    work.mkdir(parents=True, exist_ok=True)
    srcs = sources()
    db_path = work / "archive.db"
    db = open_db(db_path)
    started = time.perf_counter()
    for i in range(args.reports):
        name, body, report = srcs[i % len(srcs)]
        unique = body + f"\n%nianbao-bench {i}\n".encode()
        # Agencies with several years, as on real portals: the auditor's cross-year and copied-section
        # checks (kept whole in the published copy) are part of the size.
        report.agency = f"某某县第{i // YEARS}局"  # type: ignore[attr-defined]
        report.year = 2020 + i % YEARS  # type: ignore[attr-defined]
        meta = store.FetchMeta(url=f"http://xxgk.example.gov.cn/{i}/{name}", kind="report", filename=name)
        store.store(db, unique, meta, read=lambda r=report: r)
    db.close()
    print(f"wrote {args.reports} reports in {time.perf_counter() - started:.1f} s")
    lean = lean_copy(db_path, work / "nianbao.db", work / "originals")
    live, lean_size, originals = db_path.stat().st_size, lean.size, du(work / "originals")
    n = args.reports
    print(f"archive (live):   {live / 1e6:8.1f} MB  {live / n / 1024:7.1f} KB/report")
    print(f"published (lean): {lean_size / 1e6:8.1f} MB  {lean_size / n / 1024:7.1f} KB/report")
    print(f"originals beside: {originals / 1e6:8.1f} MB  {originals / n / 1024:7.1f} KB/report")
    for label, path in (("live", db_path), ("lean", lean.path)):
        print(f"largest objects ({label}):")
        for obj, size in per_table(path):
            print(f"  {obj:28s} {size / n / 1024:7.1f} KB/report")
    return 0


if __name__ == "__main__":
    sys.exit(main())
