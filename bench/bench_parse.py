"""Time the parser on the five seed reports: median of N runs, in-process and per report.

python bench/bench_parse.py [N] [SEEDS_DIR]
"""

from __future__ import annotations

import statistics
import sys
import time
from pathlib import Path

from pipelines.parse import parse_text

ROOT = Path(__file__).resolve().parents[1]


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 20
    seeds = Path(sys.argv[2]) if len(sys.argv) > 2 else ROOT.parent / "shared" / "seeds"
    files = sorted(seeds.glob("*.txt"))
    if not files:
        sys.exit(f"no seed reports in {seeds}")
    texts = [f.read_text(encoding="utf-8") for f in files]
    parse_text(texts[0])  # warm imports and regex caches
    runs = []
    for _ in range(n):
        t0 = time.perf_counter()
        reports = [parse_text(t) for t in texts]
        runs.append(time.perf_counter() - t0)
    med = statistics.median(runs)
    print(
        f"{len(files)} reports, {n} runs: median {med * 1000:.1f} ms for all "
        f"({med / len(files) * 1000:.2f} ms/report, {len(files) / med:.0f} reports/s); "
        f"min {min(runs) * 1000:.1f} ms, max {max(runs) * 1000:.1f} ms"
    )
    for f, r in zip(files, reports, strict=True):
        failed = sum(not c.ok for c in r.checks)
        print(
            f"  {f.name}: {r.status} template={r.template} agency={r.agency} year={r.year} "
            f"figures={len(r.figures)} checks={len(r.checks)} failed={failed} problems={len(r.problems)}"
        )


if __name__ == "__main__":
    main()
