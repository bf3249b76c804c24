"""Demo crawl benchmark: pages/s of a first crawl, bytes and records saved on a recrawl (prints; no asserts).

    python bench/bench_crawl.py [--runs 3]

Each crawl is a `nianbao crawl` child process over the four demo portals on loopback (no delays).
"crawl-only" pages/s uses the spiders' own elapsed time; "wall" includes interpreter and Scrapy start-up.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from crawler.demo import generate_demo
from crawler.demo.server import SiteServer


def crawl(tmp: Path) -> tuple[list[dict], float]:
    cmd = [
        sys.executable,
        "-m",
        "archive",
        "crawl",
        "--json",
        "--registry",
        str(tmp / "portals"),
        "--db",
        str(tmp / "bench.db"),
        "--warc-dir",
        str(tmp / "warc"),
    ]
    start = time.monotonic()
    proc = subprocess.run(cmd, capture_output=True, text=True, check=True)
    return [
        json.loads(line) for line in proc.stdout.splitlines() if line.startswith("{")
    ], time.monotonic() - start


def warc_bytes(tmp: Path, before: set[Path]) -> int:
    return sum(p.stat().st_size for p in (tmp / "warc").glob("*.warc.gz") if p not in before)


def one_run() -> dict[str, float]:
    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        with SiteServer(tmp / "site") as server:
            generate_demo(tmp / "site", server.port, registry_dir=tmp / "portals")
            rows1, wall1 = crawl(tmp)
            files1 = set((tmp / "warc").glob("*.warc.gz"))
            w1 = warc_bytes(tmp, set())
            server.set_variant(2)
            rows2, wall2 = crawl(tmp)
            w2 = warc_bytes(tmp, files1)
    pages1 = sum(r["pages"] for r in rows1)
    return {
        "pages": pages1,
        "reports": sum(r["reports"] for r in rows1),
        "wall_s": wall1,
        "pages_per_s_wall": pages1 / wall1,
        "pages_per_s_crawl": rows1[0]["pages_per_second_all"],
        "bytes_1": sum(r["bytes"] for r in rows1),
        "bytes_2": sum(r["bytes"] for r in rows2),
        "warc_bytes_1": w1,
        "warc_bytes_2": w2,
        "not_modified_2": sum(r["not_modified"] for r in rows2),
        "revisits_2": sum(r["revisits"] for r in rows2),
        "new_report_versions_2": sum(r["new_report_versions"] for r in rows2),
        "wall_2_s": wall2,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    runs = [one_run() for _ in range(args.runs)]
    med = {k: statistics.median(r[k] for r in runs) for k in runs[0]}
    print(f"demo crawl, {args.runs} runs (medians): {med['pages']:.0f} pages, {med['reports']:.0f} reports")
    print(
        f"  crawl 1: {med['pages_per_s_crawl']:.1f} pages/s crawl-only, {med['pages_per_s_wall']:.1f} pages/s wall "
        f"({med['wall_s']:.1f} s incl. start-up); {med['bytes_1']:.0f} bytes received, WARC {med['warc_bytes_1']:.0f} B"
    )
    saved = med["bytes_1"] - med["bytes_2"]
    print(
        f"  recrawl: {med['bytes_2']:.0f} bytes received ({saved:.0f} saved, {100 * saved / med['bytes_1']:.0f}%), "
        f"{med['not_modified_2']:.0f} × 304, {med['revisits_2']:.0f} revisit records, "
        f"{med['new_report_versions_2']:.0f} new report version(s); WARC {med['warc_bytes_2']:.0f} B "
        f"({100 * (1 - med['warc_bytes_2'] / med['warc_bytes_1']):.0f}% smaller); {med['wall_2_s']:.1f} s wall"
    )


if __name__ == "__main__":
    main()
