"""Issue 11: a crawl of a hostile portal (tests/fault_portal.py) over real HTTP on loopback. Every good
report is archived with its figures, every fault is a `crawl_errors` row, nothing is fetched off-site,
memory stays bounded, and "gone" is said only on evidence (404 on the document, or absent from a list
read completely); a crawl that was refused, disallowed or saw no report ends `failed` (exit 1)."""

from __future__ import annotations

import json
import resource
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from .fault_portal import FAULTS, GOOD, FaultPortal
from .helpers_crawl import query, run_crawl
from .test_crawl_kill import count_documents

PEAK_RSS_LIMIT_KB = 1024 * 1024  # 1 GB for the whole crawl process tree


def crawl(portal: FaultPortal, db: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    return run_crawl(
        "--url", portal.url, "--agency", "故障县人民政府", "--db", str(db), "-s", "DOWNLOAD_TIMEOUT=3", *extra
    )


@pytest.fixture(scope="module")
def faulty(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict]:
    tmp = tmp_path_factory.mktemp("faults")
    portal = FaultPortal().prepare().start()
    db = tmp / "f.db"
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    start = time.monotonic()
    first = crawl(portal, db)
    elapsed = time.monotonic() - start
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    print(
        f"fault-portal crawl: {elapsed:.1f} s, peak RSS of a child {peak / 1024:.0f} MB (before {before / 1024:.0f})"
    )
    yield {"portal": portal, "db": db, "first": first, "peak_kb": peak, "tmp": tmp}
    portal.stop()


def base(faulty: dict) -> str:
    return faulty["portal"].url.rstrip("/")


def test_every_good_report_archived_with_its_figures(faulty: dict) -> None:
    rows = query(
        faulty["db"],
        "SELECT d.url, r.status, (SELECT count(*) FROM figures f WHERE f.report_id = r.id),"
        " (SELECT count(*) FROM checks c WHERE c.report_id = r.id AND c.ok = 0)"
        " FROM documents d JOIN reports r ON r.document_id = d.id WHERE r.status = 'complete'",
    )
    got = {url.removeprefix(base(faulty)): (status, n, bad) for url, status, n, bad in rows}
    assert set(GOOD) <= set(got), got
    for path in GOOD:
        assert got[path] == ("complete", 200, 0), (path, got[path])


def test_every_fault_is_on_record(faulty: dict) -> None:
    rows = query(faulty["db"], "SELECT url, stage, reason, http_status, attempts FROM crawl_errors")
    by_url: dict[str, list[tuple]] = {}
    for url, stage, reason, status, attempts in rows:
        by_url.setdefault(url.removeprefix(base(faulty)), []).append((stage, reason, status, attempts))
    for path, (what, stage) in FAULTS.items():
        if stage is None:
            continue
        recorded = by_url.get(path) or (by_url.get("/ndbg/loop2.html") if path == "/ndbg/loop.html" else None)
        assert recorded, f"{path} ({what}) left no crawl_errors row"
        assert stage in {r[0] for r in recorded} or (stage == "ignored" and recorded[0][0] == "redirect"), (
            path,
            recorded,
        )
    # retried faults say how often they were tried; Retry-After is in the reason
    assert by_url["/ndbg/e500.html"][0][2:] == (500, 4)
    assert "Retry-After 3600" in by_url["/ndbg/e503.html"][0][1]
    assert "inflated as a stream" in by_url["/files/lying.docx"][0][1]


def test_crawl_row_and_exit_code(faulty: dict) -> None:
    first = faulty["first"]
    (status, reason, finished) = query(faulty["db"], "SELECT status, reason, finished_at FROM crawls")[0]
    # The 412 challenge on one report page: `partial` once the discovery spider tells a challenged page
    # from a blocked portal (`challenged`), `blocked` while every challenge blocks the crawl.
    assert status in ("partial", "blocked"), (status, reason)
    assert first.returncode == {"partial": 5, "blocked": 3}[status], first.stderr[-2000:]
    assert reason and finished


def test_nothing_fetched_off_site(faulty: dict) -> None:
    assert faulty["portal"].canary_hits == []
    urls = [u for (u,) in query(faulty["db"], "SELECT url FROM documents")]
    assert all(u.startswith(base(faulty) + "/") for u in urls), urls
    assert not [u for u in urls if "/./" in u or "/../" in u]


def test_stored_file_names_are_sanitised(faulty: dict) -> None:
    names = [n for (n,) in query(faulty["db"], "SELECT filename FROM versions WHERE filename IS NOT NULL")]
    assert "passwd.pdf" in names
    assert not [n for n in names if "/" in n or "\\" in n or n.startswith(".")]


def test_peak_memory_bounded(faulty: dict) -> None:
    assert faulty["peak_kb"] < PEAK_RSS_LIMIT_KB, f"{faulty['peak_kb'] / 1024:.0f} MB"


def test_gone_only_on_evidence(faulty: dict) -> None:
    """Second crawl: good-b answers 404 (gone: evidence on the document); then a refused portal, robots.txt
    Disallow: / and an emptied list each end `failed` (exit 1) and mark nothing gone."""
    portal, db = faulty["portal"], faulty["db"]
    portal.variant = 2
    second = crawl(portal, db)
    gone = {
        u.removeprefix(base(faulty))
        for (u,) in query(db, "SELECT url FROM documents WHERE gone_since IS NOT NULL")
    }
    assert "/ndbg/good-b.html" in gone, second.stderr[-2000:]
    assert "/ndbg/good-a.html" not in gone
    n_gone = len(gone)

    portal.variant = 3  # the list is served, with no report on it
    emptied = crawl(portal, db)
    assert emptied.returncode == 1, emptied.stderr[-2000:]
    portal.variant = 1
    portal.robots = "User-agent: *\nDisallow: /\n"
    disallowed = crawl(portal, db)
    assert disallowed.returncode == 1, disallowed.stderr[-2000:]
    portal.robots = "User-agent: *\nDisallow: /private/\n"
    rows = query(db, "SELECT status, reason FROM crawls ORDER BY id DESC LIMIT 2")
    assert [r[0] for r in rows] == ["failed", "failed"]
    assert "robots.txt" in rows[0][1] and "saw no report" in rows[1][1], rows
    assert query(db, "SELECT count(*) FROM documents WHERE gone_since IS NOT NULL")[0][0] == n_gone


def test_refused_portal_fails_and_marks_nothing_gone(tmp_path: Path, faulty: dict) -> None:
    db = faulty["db"]
    gone_before = query(db, "SELECT count(*) FROM documents WHERE gone_since IS NOT NULL")[0][0]
    with socket.socket() as sock:  # a loopback port nobody listens on: connections are refused
        sock.bind(("127.0.0.1", 0))
        dead_port = sock.getsockname()[1]
    url = faulty["portal"].url
    # the same portal name (so the archive holds its reports), a port that refuses connections
    refused = run_crawl(
        "--url",
        f"http://127.0.0.1:{dead_port}/",
        "--agency",
        "故障县人民政府",
        "--db",
        str(db),
        portal_name(url),
    )
    assert refused.returncode == 1, refused.stderr[-2000:]
    status, reason = query(db, "SELECT status, reason FROM crawls ORDER BY id DESC LIMIT 1")[0]
    assert status == "failed" and "connection refused" in reason, reason
    assert query(db, "SELECT count(*) FROM documents WHERE gone_since IS NOT NULL")[0][0] == gone_before


def portal_name(url: str) -> str:
    from crawler.portals import portal_for_url

    return portal_for_url(url).name


def test_sigterm_stops_the_crawl_and_closes_its_row(tmp_path: Path, faulty: dict) -> None:
    """SIGTERM while the drip and the retries are in flight: the process ends within seconds, row closed."""
    db = tmp_path / "t.db"
    proc = subprocess.Popen(
        [sys.executable, "-m", "crawler", "crawl", "--json", "--url", faulty["portal"].url, "--db", str(db)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:  # wait until the crawl row exists and some pages are in
        if db.exists() and count_documents(db) >= 3:
            break
        time.sleep(0.2)
    proc.send_signal(signal.SIGTERM)
    try:
        _out, err = proc.communicate(timeout=30)
    except subprocess.TimeoutExpired:
        proc.kill()
        raise AssertionError("the crawl did not stop within 30 s of SIGTERM") from None
    status, finished, stats = query(db, "SELECT status, finished_at, stats FROM crawls")[0]
    assert status == "interrupted" and finished, (status, err[-2000:])
    assert proc.returncode == 4, err[-2000:]
    # Every version the crawl counted as archived (acknowledged by the writer thread) is on disk.
    acknowledged = json.loads(stats).get("nianbao/new_versions", 0)
    assert acknowledged > 0 and query(db, "SELECT count(*) FROM versions")[0][0] >= acknowledged
