"""Crawl benchmark: nianbao's full crawl against plain Scrapy on the same generated portal, same run.

    python bench/bench_crawl.py [--pages 2000] [--runs 1] [--keep DIR]
    python bench/bench_crawl.py --demo [--runs 3]     # the demo portals: first crawl and recrawl savings

A county portal (bench/portal_gen.py: 信息公开 → 年报 lists with 下一页, department sub-portals, news, report
pages with the three tables, PDF-only reports) is served from memory on 127.0.0.1. Each crawl is a child
process, measured from outside:

- plain:      a minimal Scrapy spider following every same-host link, keeping nothing (no items, no
              pipeline), with nianbao's loopback concurrency (crawler/cli.py crawl_settings), no delays,
              no AutoThrottle, robots.txt as nianbao;
- nianbao:    `python -m crawler crawl --url … --json`: discovery, WARC, store, read (extract/parse/check)
              and SQLite, i.e. what a real crawl costs;
- plain/urls: plain Scrapy fetching exactly the URLs nianbao fetched, no link following: how fast the
              same pages come off the wire when nothing is done with them.

Figures: pages (responses received, robots.txt included, as Scrapy counts them), crawl seconds (spider
open → close, Scrapy's own stats), wall seconds (process start → exit, start-up included), CPU seconds
(user+sys of the child and the children it waited for, from wait4), CPU utilisation (CPU s ÷ wall s: 2.0 =
both cores busy), peak RSS (largest sum over the child's process tree, sampled every 0.2 s, or the
largest single process if bigger). The headline is nianbao pages/s ÷ plain pages/s (target ≥ 0.70).
The page sets differ (nianbao skips the news columns a plain crawler fetches, and fetches mostly
reports); the plain/urls row is the comparison on nianbao's own pages.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from datetime import datetime
from pathlib import Path
from typing import Any, ClassVar

if __package__ in (None, ""):  # run as a script: make `bench` and the project importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.portal_gen import AGENCY, Portal, PortalServer, generate

# Settings the plain spider copies from nianbao's loopback crawl settings.
SHARED_SETTINGS = (
    "CONCURRENT_REQUESTS",
    "CONCURRENT_REQUESTS_PER_DOMAIN",
    "DOWNLOAD_DELAY",
    "DOWNLOAD_DELAY_JITTER",
    "ROBOTSTXT_OBEY",
    "DOWNLOAD_TIMEOUT",
    "COOKIES_ENABLED",
    "USER_AGENT",
)
ROWS = ("plain", "nianbao", "plain/urls")


# -- the plain spider (runs in a child process: `bench_crawl.py --plain-child SPEC.json`) -----------------
def plain_child(spec_path: str) -> None:
    """Crawl with a minimal spider and write Scrapy's stats as JSON: the baseline nianbao is compared to."""
    import scrapy
    from scrapy.crawler import CrawlerProcess
    from scrapy.http import TextResponse

    spec = json.loads(Path(spec_path).read_text())

    class PlainSpider(scrapy.Spider):
        name = "plain"
        allowed_domains: ClassVar[list[str]] = ["127.0.0.1"]

        async def start(self) -> Any:
            for url in spec["urls"]:
                yield scrapy.Request(url)

        def parse(self, response: Any) -> Any:
            if spec["follow"] and isinstance(response, TextResponse):
                for href in response.css("a::attr(href)").getall():
                    yield response.follow(href, callback=self.parse)

    settings = {
        "AUTOTHROTTLE_ENABLED": False,
        "LOG_LEVEL": "INFO",
        "TELNETCONSOLE_ENABLED": False,
        **spec["settings"],
    }
    process = CrawlerProcess(settings)
    crawler = process.create_crawler(PlainSpider)
    process.crawl(crawler)
    process.start()
    stats = crawler.stats.get_stats() if crawler.stats else {}
    Path(spec["out"]).write_text(json.dumps(stats, default=str))


def nianbao_settings(url: str) -> dict[str, Any]:
    """nianbao's own settings for a loopback crawl of `url`, as the plain spider should copy them."""
    from crawler.cli import crawl_settings
    from crawler.portals import portal_for_url

    settings = crawl_settings(Path("unused.db"), Path("unused-warc"), [portal_for_url(url, AGENCY)], {})
    return {key: settings.get(key) for key in (*SHARED_SETTINGS, "AUTOTHROTTLE_ENABLED")}


# -- measuring a child process ----------------------------------------------------------------------------
def _tree_rss(root: int) -> int:
    """Resident bytes of `root` and all its descendants (a process pool counts too)."""
    parents: dict[int, int] = {}
    rss: dict[int, int] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", "rb") as f:
                fields = f.read().rsplit(b")", 1)[1].split()
        except OSError:
            continue
        pid = int(entry)
        parents[pid] = int(fields[1])
        rss[pid] = int(fields[21]) * os.sysconf("SC_PAGE_SIZE")
    total, todo = 0, [root]
    while todo:
        pid = todo.pop()
        total += rss.get(pid, 0)
        todo.extend(p for p, pp in parents.items() if pp == pid)
    return total


def run_measured(cmd: list[str], log: Path, env: dict[str, str] | None = None) -> dict[str, float]:
    """Run `cmd`; wall seconds, CPU seconds (user+sys via wait4), peak RSS MB, and this process's CPU
    seconds meanwhile (the portal server's share)."""
    self_before = resource.getrusage(resource.RUSAGE_SELF)
    start = time.monotonic()
    with open(log, "wb") as err:
        proc = subprocess.Popen(cmd, stdout=err, stderr=subprocess.STDOUT, env=env)
    peak = 0
    done = threading.Event()

    def sample() -> None:
        nonlocal peak
        while not done.is_set():
            peak = max(peak, _tree_rss(proc.pid))
            done.wait(0.2)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.monotonic() - start
    done.set()
    sampler.join()
    proc.returncode = os.waitstatus_to_exitcode(status)
    self_after = resource.getrusage(resource.RUSAGE_SELF)
    if proc.returncode != 0:
        tail = log.read_text(errors="replace")[-3000:]
        raise RuntimeError(f"{cmd[:4]} exited with {proc.returncode}:\n{tail}")
    return {
        "wall_s": wall,
        "cpu_s": usage.ru_utime + usage.ru_stime,
        "peak_rss_mb": max(peak, usage.ru_maxrss * 1024) / 2**20,
        "server_cpu_s": (self_after.ru_utime + self_after.ru_stime)
        - (self_before.ru_utime + self_before.ru_stime),
    }


def _crawl_seconds(stats: dict[str, Any]) -> float | None:
    """Spider open → close from Scrapy's stats (start_time / finish_time, or elapsed_time_seconds)."""
    if stats.get("elapsed_time_seconds"):
        return float(stats["elapsed_time_seconds"])
    if stats.get("start_time") and stats.get("finish_time"):
        start = datetime.fromisoformat(str(stats["start_time"]))
        end = datetime.fromisoformat(str(stats["finish_time"]))
        return (end - start).total_seconds()
    return None


def _figures(m: dict[str, float], stats: dict[str, Any]) -> dict[str, float]:
    pages = float(stats.get("response_received_count", 0))
    crawl_s = _crawl_seconds(stats) or m["wall_s"]
    return {
        **m,
        "pages": pages,
        "crawl_s": crawl_s,
        "pages_per_s": pages / crawl_s if crawl_s else 0.0,
        "pages_per_s_wall": pages / m["wall_s"],
        "cpu_util": m["cpu_s"] / m["wall_s"],
        # nianbao only (its stats): CPU ms per page of the reactor thread and of the archive's writer thread
        "reactor_ms": 1000 * float(stats.get("nianbao/reactor_cpu_seconds", 0)) / pages if pages else 0.0,
        "writer_ms": 1000 * float(stats.get("nianbao/writer_cpu_seconds", 0)) / pages if pages else 0.0,
        "commits": float(stats.get("nianbao/writer_commits", 0)),
        "writes": float(stats.get("nianbao/writer_jobs", 0)),
    }


def run_plain(
    tmp: Path, urls: list[str], follow: bool, settings: dict[str, Any], tag: str
) -> dict[str, float]:
    spec = tmp / f"{tag}-spec.json"
    out = tmp / f"{tag}-stats.json"
    spec.write_text(json.dumps({"urls": urls, "follow": follow, "settings": settings, "out": str(out)}))
    m = run_measured([sys.executable, __file__, "--plain-child", str(spec)], tmp / f"{tag}.log")
    return _figures(m, json.loads(out.read_text()))


def run_nianbao(tmp: Path, url: str) -> tuple[dict[str, float], sqlite3.Connection]:
    db = tmp / "bench.db"
    for stale in (db, tmp / "bench.db-wal", tmp / "bench.db-shm"):  # a kept dir: crawl afresh, not a recrawl
        stale.unlink(missing_ok=True)
    shutil.rmtree(tmp / "warc", ignore_errors=True)
    cmd = [sys.executable, "-m", "crawler", "crawl", "--url", url, "--agency", AGENCY]
    cmd += ["--db", str(db), "--warc-dir", str(tmp / "warc"), "--json"]
    m = run_measured(cmd, tmp / "nianbao.log")
    conn = sqlite3.connect(str(db))
    (raw,) = conn.execute("SELECT stats FROM crawls ORDER BY id DESC LIMIT 1").fetchone()
    return _figures(m, json.loads(raw or "{}")), conn


# -- did nianbao really read the portal? ------------------------------------------------------------------
def archive_check(conn: sqlite3.Connection, portal: Portal, base: str) -> dict[str, Any]:
    """Reports in the db against the generated ones: table pages and PDF-only reports found and read."""
    base = base.rstrip("/")
    rows = conn.execute(
        "SELECT d.url, r.status, r.format FROM reports r JOIN documents d ON d.id = r.document_id"
    ).fetchall()
    by_url = {url: (status, fmt) for url, status, fmt in rows}
    by_status: dict[str, int] = {}
    for _, status, _fmt in rows:
        by_status[status or "none"] = by_status.get(status or "none", 0) + 1
    html = [base + p for p in portal.reports]
    pdfs = [base + p for p in portal.pdfs]
    decoys = [base + p for p in portal.decoys]
    fetched = {u for (u,) in conn.execute("SELECT url FROM documents")}
    return {
        "reports_rows": len(rows),
        "by_status": by_status,
        "generated": portal.report_count,
        "html_read": sum(u in by_url for u in html),
        "html_complete": sum(by_url.get(u, ("",))[0] == "complete" for u in html),
        "html_generated": len(html),
        "pdf_read": sum(u in by_url for u in pdfs),
        "pdf_complete": sum(by_url.get(u, ("",))[0] == "complete" for u in pdfs),
        "pdf_generated": len(pdfs),
        "decoys_as_reports": sum(u in by_url for u in decoys),
        "wrapper_rows": sum(base + p in by_url for p in portal.pdf_pages),
        "fetched_urls": sorted(fetched),
    }


# -- one run, all three crawls ----------------------------------------------------------------------------
def one_run(portal: Portal, tmp: Path, with_urls: bool) -> tuple[dict[str, dict[str, float]], dict[str, Any]]:
    tmp.mkdir(parents=True, exist_ok=True)
    load_before = os.getloadavg()[0]
    with PortalServer(portal) as server:
        settings = nianbao_settings(server.url)
        settings.pop("AUTOTHROTTLE_ENABLED")  # the plain spider runs without (shown in the report)
        results = {"plain": run_plain(tmp, [server.url], True, settings, "plain")}
        results["nianbao"], conn = run_nianbao(tmp, server.url)
        check = archive_check(conn, portal, server.url)
        conn.close()
        if with_urls:
            results["plain/urls"] = run_plain(tmp, check["fetched_urls"], False, settings, "plain-urls")
    check["settings"] = nianbao_settings(server.url)
    check["load"] = (load_before, os.getloadavg()[0])
    return results, check


def _median(runs: list[dict[str, dict[str, float]]], row: str, key: str) -> float:
    return statistics.median(r[row][key] for r in runs if row in r)


def report(runs: list[dict[str, dict[str, float]]], check: dict[str, Any], portal: Portal) -> None:
    n = len(runs)
    print(
        f"portal: {portal.pages} pages ({portal.report_count} reports: {len(portal.reports)} with tables, "
        f"{len(portal.pdfs)} PDF-only; {len(portal.news)} news/notice pages, {len(portal.list_pages)} list pages)"
    )
    s = check["settings"]
    print(
        f"settings: CONCURRENT_REQUESTS={s['CONCURRENT_REQUESTS']}, PER_DOMAIN={s['CONCURRENT_REQUESTS_PER_DOMAIN']}, "
        f"DOWNLOAD_DELAY={s['DOWNLOAD_DELAY']}, ROBOTSTXT_OBEY={s['ROBOTSTXT_OBEY']}; AutoThrottle: "
        f"nianbao {'on (start delay 0)' if s['AUTOTHROTTLE_ENABLED'] else 'off'}, plain off"
        + (f"; medians of {n} runs" if n > 1 else "")
    )
    load = check.get("load", (0.0, 0.0))
    print(
        f"load average (1 min) before/after the last run: {load[0]:.2f}/{load[1]:.2f} on {os.cpu_count()} CPUs"
        " (other work on the machine lowers CPU utilisation and pages/s: compare runs made alike)"
    )
    head = f"{'':12}{'pages':>7}{'crawl s':>9}{'wall s':>8}{'pages/s':>9}{'(wall)':>8}{'CPU s':>8}{'CPU util':>10}"
    print(head + f"{'peak RSS MB':>13}{'server CPU s':>14}")
    for row in ROWS:
        if not any(row in r for r in runs):
            continue

        def m(key: str, row: str = row) -> float:
            return _median(runs, row, key)

        print(
            f"{row:12}{m('pages'):>7.0f}{m('crawl_s'):>9.1f}{m('wall_s'):>8.1f}{m('pages_per_s'):>9.1f}"
            f"{m('pages_per_s_wall'):>8.1f}{m('cpu_s'):>8.1f}{m('cpu_util'):>10.2f}{m('peak_rss_mb'):>13.0f}"
            f"{m('server_cpu_s'):>14.1f}"
        )
    ratio = statistics.median(r["nianbao"]["pages_per_s"] / r["plain"]["pages_per_s"] for r in runs)

    def m_plain(key: str) -> float:
        return _median(runs, "plain", key)

    ratio_wall = statistics.median(
        r["nianbao"]["pages_per_s_wall"] / r["plain"]["pages_per_s_wall"] for r in runs
    )
    if any(r["nianbao"]["reactor_ms"] for r in runs):
        print(
            f"CPU per page: plain process {1000 * m_plain('cpu_s') / m_plain('pages'):.1f} ms; nianbao reactor "
            f"thread {_median(runs, 'nianbao', 'reactor_ms'):.1f} ms, archive writer thread "
            f"{_median(runs, 'nianbao', 'writer_ms'):.1f} ms ({_median(runs, 'nianbao', 'writes'):.0f} writes in "
            f"{_median(runs, 'nianbao', 'commits'):.0f} commits); load-independent: the reactor thread caps pages/s"
        )
    line = f"ratio nianbao ÷ plain pages/s: {ratio:.2f} (wall, start-up included: {ratio_wall:.2f}; target ≥ 0.70)"
    if all("plain/urls" in r for r in runs):
        same = statistics.median(r["nianbao"]["pages_per_s"] / r["plain/urls"]["pages_per_s"] for r in runs)
        line += f"; ÷ plain on nianbao's URLs: {same:.2f}"
    print(line)
    status = ", ".join(f"{k} {v}" for k, v in sorted(check["by_status"].items()))
    print(
        f"archived (last run): {check['html_read'] + check['pdf_read']}/{check['generated']} generated reports read "
        f"(tables {check['html_read']}/{check['html_generated']}, {check['html_complete']} complete; "
        f"PDF {check['pdf_read']}/{check['pdf_generated']}, {check['pdf_complete']} complete); "
        f"reports rows {check['reports_rows']} ({status}; {check['wrapper_rows']} of them the 详见附件 pages); "
        f"decoys taken as reports: {check['decoys_as_reports']}"
    )


def main_portal(args: argparse.Namespace) -> None:
    portal = generate(args.pages, seed=args.seed)
    runs = []
    check: dict[str, Any] = {}
    for i in range(args.runs):
        if args.keep:
            tmp = Path(args.keep) / (f"run{i + 1}" if args.runs > 1 else ".")
            if i == 0:
                portal.write_to(Path(args.keep) / "site")
            result, check = one_run(portal, tmp, not args.no_urls)
        else:
            with tempfile.TemporaryDirectory(prefix="bench-crawl-") as d:
                result, check = one_run(portal, Path(d), not args.no_urls)
        runs.append(result)
        r = result
        print(
            f"run {i + 1}: plain {r['plain']['pages_per_s']:.1f} pages/s, nianbao {r['nianbao']['pages_per_s']:.1f} "
            f"pages/s ({r['nianbao']['pages'] / max(r['plain']['pages'], 1):.0%} of plain's pages)",
            file=sys.stderr,
        )
    report(runs, check, portal)
    if args.keep:
        print(f"kept: {args.keep} (site/, bench.db, warc/, *.log)")


# -- --demo: the four demo portals, first crawl and recrawl ------------------------------------------------
def _demo_crawl(tmp: Path) -> tuple[list[dict[str, Any]], float]:
    cmd = [sys.executable, "-m", "crawler", "crawl", "--json", "--registry", str(tmp / "portals")]
    cmd += ["--db", str(tmp / "bench.db"), "--warc-dir", str(tmp / "warc")]
    start = time.monotonic()
    proc = subprocess.run(cmd, capture_output=True, text=True, check=True)
    rows = [json.loads(line) for line in proc.stdout.splitlines() if line.startswith("{")]
    return rows, time.monotonic() - start


def _warc_bytes(tmp: Path, before: set[Path]) -> int:
    return sum(p.stat().st_size for p in (tmp / "warc").glob("*.warc.gz") if p not in before)


def _demo_run() -> dict[str, float]:
    from crawler.demo import generate_demo
    from crawler.demo.server import SiteServer

    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        with SiteServer(tmp / "site") as server:
            generate_demo(tmp / "site", server.port, registry_dir=tmp / "portals")
            rows1, wall1 = _demo_crawl(tmp)
            files1 = set((tmp / "warc").glob("*.warc.gz"))
            w1 = _warc_bytes(tmp, set())
            server.set_variant(2)
            rows2, wall2 = _demo_crawl(tmp)
            w2 = _warc_bytes(tmp, files1)
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


def main_demo(runs_n: int) -> None:
    """Pages/s of a first crawl of the demo portals, and bytes and records saved on a recrawl."""
    runs = [_demo_run() for _ in range(runs_n)]
    med = {k: statistics.median(r[k] for r in runs) for k in runs[0]}
    print(f"demo crawl, {runs_n} runs (medians): {med['pages']:.0f} pages, {med['reports']:.0f} reports")
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


def main() -> None:
    if len(sys.argv) == 3 and sys.argv[1] == "--plain-child":
        plain_child(sys.argv[2])
        return
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--pages", type=int, default=2000, help="size of the generated portal (default 2000)")
    parser.add_argument("--runs", type=int, default=1, help="repeat and print medians (default 1)")
    parser.add_argument("--seed", type=int, default=2024, help="portal generator seed")
    parser.add_argument("--keep", metavar="DIR", help="keep the generated portal, db, WARC and logs in DIR")
    parser.add_argument("--no-urls", action="store_true", help="skip the plain crawl of nianbao's URL list")
    parser.add_argument(
        "--demo", action="store_true", help="the demo portals: first crawl and recrawl savings"
    )
    args = parser.parse_args()
    if args.demo:
        main_demo(args.runs)
    else:
        main_portal(args)


if __name__ == "__main__":
    main()
