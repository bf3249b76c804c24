"""Queue-mode figures (prints them; not a test): reads/s with 1 and 2 read workers on the same corpus, a
portal set crawled by 1 and 2 crawl workers with the per-host request rate measured from the WARC request
records, and the writer's captures/s. Everything on loopback, with its own redis-server on a free port.

    python bench/bench_queue.py [--reads 24] [--repeat 1] [--captures 2000] [--delay 0.2] [--only reads]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from datetime import datetime
from itertools import pairwise
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from dramatiq.brokers.redis import RedisBroker  # noqa: E402

from archive.spool import Spool  # noqa: E402
from crawler.demo import generate_demo  # noqa: E402
from crawler.demo.server import SiteServer  # noqa: E402
from crawler.queue.broker import make_broker, pending, send  # noqa: E402
from crawler.queue.local_redis import LocalRedis  # noqa: E402

PY = [sys.executable, "-m", "crawler"]


def env_for(url: str, spool: Path) -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(ROOT), "NIANBAO_REDIS_URL": url, "NIANBAO_SPOOL": str(spool)}


def wait_drained(url: str, queues: tuple[str, ...], timeout: float = 1800) -> float:
    broker = make_broker(url)
    start = time.monotonic()
    try:
        while any(pending(broker, queues).values()):
            if time.monotonic() - start > timeout:
                raise TimeoutError(queues)
            time.sleep(0.05)
    finally:
        broker.close()
    return time.monotonic() - start


def drained_after_first(url: str, queue: str, n: int) -> tuple[int, float]:
    """Messages done and seconds taken from the first message done until the queue drained, so the
    workers' start-up (imports, reader pool) is not counted as throughput."""
    broker = make_broker(url)
    try:
        while pending(broker, (queue,))[queue] >= n:
            time.sleep(0.01)
        left = pending(broker, (queue,))[queue]
    finally:
        broker.close()
    return left, wait_drained(url, (queue,))


def corpus_bodies(n: int) -> list[tuple[str, bytes]]:
    """Report files to read: ../shared/corpus when present, else the demo's generated reports."""
    found = sorted(p for p in (ROOT.parent / "shared" / "corpus").glob("*") if p.suffix in (".pdf", ".docx"))
    if not found:
        tmp = Path(tempfile.mkdtemp())
        generate_demo(tmp, base_port=1)
        found = sorted(p for p in tmp.rglob("*") if p.suffix in (".pdf", ".docx", ".html") and "nb" in str(p))
    files = [(p.name, p.read_bytes()) for p in found]
    return [files[i % len(files)] for i in range(n)]


def bench_reads(tmp: Path, n: int, repeat: int = 1) -> dict[str, float]:
    """Reads/s with 1 and 2 read workers, `repeat` times alternating which goes first; medians."""
    runs: list[dict[str, float]] = []
    for i in range(repeat):
        runs.append(_reads_once(tmp / f"r{i}", n, (1, 2) if i % 2 == 0 else (2, 1)))
    out = {k: statistics.median(r[k] for r in runs) for k in runs[0]}
    out["read_ratio"] = round(statistics.median(r["reads_per_s_2"] / r["reads_per_s_1"] for r in runs), 2)
    return out


def enqueue_reads(broker: RedisBroker, spool: Spool, batch: list[tuple[str, bytes]]) -> None:
    for i, (name, body) in enumerate(batch):
        req = {
            "version_id": i,
            "document_id": i,
            "sha256": spool.put(body),
            "filename": name,
            "content_type": None,
            "hints": {"url": f"http://example.invalid/{name}"},
            "mode": "reparse",
        }
        send(broker, "read_version", req)


def _reads_once(tmp: Path, n: int, order: tuple[int, ...]) -> dict[str, float]:
    """The workers start and read a warm-up batch first (imports, reader pools), then `n` documents are
    enqueued and timed from enqueue to drained: start-up never counts as reading."""
    out: dict[str, float] = {}
    bodies = corpus_bodies(n)
    for workers in order:
        with LocalRedis(tmp / f"redis-r{workers}") as r:
            spool = Spool(tmp / "spool")
            broker = make_broker(r.url)
            beats = "dramatiq:__heartbeats__"  # one entry per consumer polling (and per producer)
            before = int(broker.client.zcard(beats))
            env = env_for(r.url, spool.root)
            procs = [
                subprocess.Popen([*PY, "worker", "read", "--processes", "1"], env=env) for _ in range(workers)
            ]
            while int(broker.client.zcard(beats)) < before + workers:  # every worker consuming
                time.sleep(0.1)
            enqueue_reads(broker, spool, bodies[: 2 * workers])
            wait_drained(r.url, ("read",))
            t = time.monotonic()
            enqueue_reads(broker, spool, bodies)
            wait_drained(r.url, ("read",))
            took = time.monotonic() - t
            broker.close()
            for p in procs:
                p.terminate()
                p.wait(timeout=60)
            out[f"reads_per_s_{workers}"] = round(n / took, 2)
            print(
                f"reads: {workers} worker(s): {n} documents in {took:.1f} s = {n / took:.2f}/s"
                " (after a warm-up batch: start-up left out)",
                flush=True,
            )
    return out


def per_host_rate(warc_dir: Path) -> dict[str, dict[str, float]]:
    from warcio.archiveiterator import ArchiveIterator

    times: dict[str, list[float]] = defaultdict(list)
    for f in warc_dir.rglob("*.warc.gz"):
        with open(f, "rb") as fh:
            for rec in ArchiveIterator(fh):
                if rec.rec_type == "request":
                    host = urlsplit(rec.rec_headers.get_header("WARC-Target-URI")).hostname or ""
                    date = rec.rec_headers.get_header("WARC-Date")
                    times[host].append(datetime.strptime(date, "%Y-%m-%dT%H:%M:%S.%fZ").timestamp())
    out: dict[str, dict[str, float]] = {}
    every = sorted(t for ts in times.values() for t in ts)
    if every:
        out[""] = {"requests": len(every), "span": round(every[-1] - every[0], 2)}
    for host, ts in times.items():
        ts.sort()
        gaps = [b - a for a, b in pairwise(ts)]
        span = ts[-1] - ts[0] if len(ts) > 1 else 0
        max_in_1s = max(sum(1 for u in ts if t <= u < t + 1) for t in ts)
        out[host] = {
            "requests": len(ts),
            "rate": round((len(ts) - 1) / span, 2) if span else 0,
            "min_gap": round(min(gaps), 3) if gaps else 0,
            "max_in_1s": max_in_1s,
        }
    return out


def bench_crawl(tmp: Path, delay: float) -> dict[str, object]:
    out: dict[str, object] = {}
    site = tmp / "site"
    site.mkdir()
    server = SiteServer(site).start()
    reg = tmp / "registry"
    generate_demo(site, base_port=server.port, registry_dir=reg)
    try:
        for workers in (1, 2):
            with LocalRedis(tmp / f"redis-c{workers}") as r:
                spool, warc, db = tmp / f"spool-c{workers}", tmp / f"warc-c{workers}", tmp / f"c{workers}.db"
                env = env_for(r.url, spool)
                subprocess.run(
                    [*PY, "schedule", "--registry", str(reg)], env=env, check=True, capture_output=True
                )
                settings = ["-s", f"DOWNLOAD_DELAY={delay}", "-s", "CONCURRENT_REQUESTS_PER_DOMAIN=1"]
                t = time.monotonic()
                crawlers = [
                    subprocess.Popen(
                        [*PY, "worker", "crawl", "--warc-dir", str(warc), "--until-idle", *settings], env=env
                    )
                    for _ in range(workers)
                ]
                writer = subprocess.Popen([*PY, "worker", "write", "--db", str(db), "--until-idle"], env=env)
                reader = subprocess.Popen(
                    [*PY, "worker", "read", "--processes", "1", "--until-idle"], env=env
                )
                for p in crawlers:
                    p.wait()
                crawl_s = time.monotonic() - t - 1.5  # less the idle checks
                writer.wait()
                reader.wait()
                rates = per_host_rate(warc)
                span = rates.pop("", {}).get("span", 0.0)
                limit = 1 / delay
                worst = max(v["rate"] for v in rates.values())
                print(
                    f"crawl: {workers} worker(s): {len(rates)} portals, {sum(v['requests'] for v in rates.values())}"
                    f" requests in {crawl_s:.1f} s wall ({span:.1f} s first to last request);"
                    f" per-host rate max {worst}/s (limit {limit:.1f}/s)",
                    flush=True,
                )
                for host, v in sorted(rates.items()):
                    print(f"    {host}: {v}")
                out[f"crawl_s_{workers}"] = round(crawl_s, 1)
                out[f"crawl_span_s_{workers}"] = span
                out[f"max_host_rate_{workers}"] = worst
                out[f"max_in_1s_{workers}"] = max(v["max_in_1s"] for v in rates.values())
    finally:
        server.stop()
    if out.get("crawl_span_s_2"):
        out["crawl_span_ratio_1_to_2"] = round(float(out["crawl_span_s_1"]) / float(out["crawl_span_s_2"]), 2)
    return out


def bench_writer(tmp: Path, n: int) -> dict[str, float]:
    with LocalRedis(tmp / "redis-w") as r:
        spool = Spool(tmp / "spool-w")
        broker = make_broker(r.url)
        portal = {
            "name": "bench",
            "agency": "测试县",
            "start_urls": ["http://bench.localhost/"],
            "allowed_domains": ["bench.localhost"],
        }
        for i in range(n):
            body = (f"<html><body>page {i} " + "政府信息公开" * 200 + "</body></html>").encode()
            send(
                broker,
                "store_capture",
                {
                    "run_key": "bench-run",
                    "job_id": "bench",
                    "portal": portal,
                    "seq": i,
                    "event": "fetched",
                    "url": f"http://bench.localhost/p{i}.html",
                    "kind": "page",
                    "http_status": 200,
                    "content_type": "text/html",
                    "sha256": spool.put(body),
                    "warc": {},
                },
            )
        broker.close()
        env = env_for(r.url, spool.root)
        writer = subprocess.Popen([*PY, "worker", "write", "--db", str(tmp / "w.db")], env=env)
        done, took = drained_after_first(r.url, "write", n)
        writer.terminate()
        writer.wait(timeout=60)
    print(
        f"writer: {done} captures in {took:.1f} s = {done / took:.0f} captures/s (after start-up)", flush=True
    )
    return {"captures_per_s": round(done / took, 1)}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--reads", type=int, default=24)
    ap.add_argument("--repeat", type=int, default=1, help="read runs (1 and 2 workers each); medians")
    ap.add_argument("--captures", type=int, default=2000)
    ap.add_argument("--delay", type=float, default=0.2, help="DOWNLOAD_DELAY per host (s)")
    ap.add_argument("--only", choices=("reads", "crawl", "writer"))
    args = ap.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="bench-queue-"))
    figures: dict[str, object] = {}
    try:
        if args.only in (None, "reads"):
            figures.update(bench_reads(tmp, args.reads, args.repeat))
        if args.only in (None, "crawl"):
            figures.update(bench_crawl(tmp, args.delay))
        if args.only in (None, "writer"):
            figures.update(bench_writer(tmp, args.captures))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
