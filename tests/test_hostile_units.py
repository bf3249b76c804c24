"""Issue 11's rules one by one: zip members inflated as a stream with a cap (lying directories), the crawl
outcome and exit codes, same-site = scheme + host + port, dot segments, stored file names, Retry-After,
Datasette read-only (405, never 500) and empty feeds (200), Scrapy's telnet console off."""

from __future__ import annotations

import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from archive.db import open_db
from crawler.middlewares import retry_after_seconds
from crawler.outcome import CrawlFacts, decide, safe_filename, worst_exit_code
from crawler.portals import portal_for_url, same_site
from crawler.urls import normalize_url
from pipelines.read import read_report

from .fault_files import docx_bomb, xlsx_bomb
from .helpers_archive import free_port, running_server


@pytest.mark.parametrize(
    ("name", "make"),
    [
        ("lying.docx", lambda: docx_bomb(200_000_000, declared=1024)),
        ("lying.xlsx", lambda: xlsx_bomb(200_000_000, declared=1024)),
        ("honest.docx", lambda: docx_bomb(300_000_000)),
    ],
)
def test_zip_bombs_refused_before_any_reader(name: str, make) -> None:
    report = read_report(make(), name, None, None)
    assert report.status == "failed"
    assert any("over limit" in p for p in report.problems), report.problems


def test_small_lie_about_sizes_is_caught() -> None:
    """A member that inflates past what its directory declares is refused even under the caps."""
    report = read_report(docx_bomb(5_000_000, declared=1024), "small-lie.docx", None, None)
    assert report.status == "failed"
    assert any("declares 1024 bytes" in p for p in report.problems), report.problems


def test_outcome_rules() -> None:
    refused = CrawlFacts(archived_reports=8)
    refused.reasons["fetch: connection refused"] = 4
    out = decide(refused)
    assert (out.status, out.exit_code, out.gone_pass) == ("failed", 1, False)
    assert "connection refused" in (out.reason or "")
    no_report = decide(CrawlFacts(pages_ok=3, archived_reports=5))
    assert no_report.status == "failed" and not no_report.gone_pass
    clean = decide(CrawlFacts(pages_ok=3, reports_found=5, archived_reports=5, reached_reports=4))
    assert (clean.status, clean.gone_pass) == ("finished", True)
    # A walk that ended early for a reason nobody saw: 12 of 40 known reports reached → no gone pass.
    short = decide(CrawlFacts(pages_ok=3, reports_found=12, archived_reports=40, reached_reports=12))
    assert (short.status, short.exit_code, short.gone_pass) == ("partial", 5, False)
    assert short.gone_skipped and "reached 12 of 40 known reports" in short.gone_skipped
    lists = decide(
        CrawlFacts(
            pages_ok=3, reports_found=5, archived_reports=5, reached_reports=5, incomplete_lists=["a: b"]
        )
    )
    assert (lists.status, lists.gone_pass) == ("finished", False) and "a: b" in (lists.reason or "")
    challenged = decide(CrawlFacts(pages_ok=3, reports_found=5, challenged=1))
    assert (challenged.status, challenged.exit_code, challenged.gone_pass) == ("partial", 5, False)
    budget = decide(CrawlFacts(pages_ok=3, reports_found=5, budget_exhausted=True))
    assert budget.status == "partial" and not budget.gone_pass
    resumed = decide(CrawlFacts(pages_ok=3, reports_found=5, resumed=True))
    assert resumed.status == "finished" and not resumed.gone_pass
    assert decide(CrawlFacts(finish_reason="shutdown", pages_ok=3)).status == "interrupted"
    blocked = decide(CrawlFacts(pages_ok=1, blocked_evidence="HTTP 412"))
    assert (blocked.status, blocked.exit_code) == ("blocked", 3)
    assert worst_exit_code(["finished", "partial", "failed"]) == 1
    assert worst_exit_code(["finished", "finished"]) == 0


def test_same_site_is_scheme_host_and_port() -> None:
    portal = portal_for_url("http://127.0.0.1:8000/")
    assert portal.allowed_domains == ["127.0.0.1"]

    def ok(url: str) -> bool:
        return same_site(url, portal.allowed_domains, portal.start_urls)

    assert ok("http://127.0.0.1:8000/a")
    assert not ok("http://127.0.0.1:8001/a")
    assert not ok("http://localhost:8000/a")
    assert not ok("https://127.0.0.1:8000/a")
    assert not ok("http://127.0.0.1:notaport/a")
    gov = ["http://www.shili.gov.cn/"]
    assert same_site("https://www.shili.gov.cn/x", ["shili.gov.cn"], gov)  # http → https upgrade
    assert same_site("http://xxgk.shili.gov.cn/x", ["shili.gov.cn"], gov)
    assert not same_site("http://www.shili.gov.cn:8080/x", ["shili.gov.cn"], gov)


def test_dot_segments_and_file_names() -> None:
    assert normalize_url("http://h/a/../../etc/passwd") == "http://h/etc/passwd"
    assert normalize_url("http://h/a/./b/%2e%2e/c?x=../y") == "http://h/a/c?x=../y"
    assert safe_filename("../../etc/passwd.pdf") == "passwd.pdf"
    assert safe_filename("..\\..\\boot.ini") == "boot.ini"
    assert safe_filename("测试县2024年报.pdf") == "测试县2024年报.pdf"
    assert safe_filename("..") is None


def test_retry_after() -> None:
    assert retry_after_seconds(b"120") == 120
    assert retry_after_seconds("Wed, 21 Oct 2015 07:28:00 GMT", now=1445412470.0) == 10
    assert retry_after_seconds(b"soon") is None


def test_telnet_console_and_remote_control_off() -> None:
    """Neither of Scrapy's code-running servers (telnet console, remote control) starts in a crawl."""
    from scrapy.exceptions import NotConfigured
    from scrapy.utils.test import get_crawler

    from crawler import settings

    assert settings.TELNETCONSOLE_ENABLED is False
    ours = {k: getattr(settings, k) for k in dir(settings) if k.isupper()}
    remote_control = pytest.importorskip("scrapy.extensions.remote_control")
    with pytest.raises(NotConfigured):
        remote_control.RemoteControl.from_crawler(get_crawler(settings_dict=ours))


def _status(url: str, method: str = "GET") -> int:
    req = urllib.request.Request(url, method=method, data=b"x=1" if method == "POST" else None)
    try:
        with urllib.request.urlopen(req, timeout=10) as resp:
            return resp.status
    except urllib.error.HTTPError as exc:
        return exc.code


def test_datasette_read_only_and_empty_feeds(tmp_path: Path) -> None:
    db_path = tmp_path / "ro.db"
    open_db(db_path).close()
    port = free_port()
    cmd = [sys.executable, "-m", "crawler", "serve", "--db", str(db_path), "--port", str(port)]
    with running_server(cmd, port) as base:
        assert _status(f"{base}/ro/feed_changed_reports.atom") == 200
        assert _status(f"{base}/ro/feed_new_reports.atom") == 200
        assert _status(f"{base}/ro/failed_fetches") == 200
        for path in ("/ro/failed_fetches", "/ro/crawls/-/insert", "/ro/-/create", "/ro/crawls/1/-/delete"):
            assert _status(base + path, "POST") == 405, path
        assert _status(f"{base}/ro/crawls", "DELETE") == 405
        # A path no route matches, with or without `..`: 404, never 500 (and nothing outside is served).
        for path in ("/a/b/c/d", "/ro/-/original/1/../../../etc/passwd", "/ro/../../etc/passwd"):
            assert _status(base + path) == 404, path


def test_sigterm_stops_nianbao_serve(tmp_path: Path) -> None:
    """`nianbao serve` becomes Datasette (exec): SIGTERM to the pid an operator sees stops the server."""
    import signal
    import subprocess

    db_path = tmp_path / "s.db"
    open_db(db_path).close()
    port = free_port()
    cmd = [sys.executable, "-m", "crawler", "serve", "--db", str(db_path), "--port", str(port)]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        for _ in range(600):
            try:
                if _status(f"http://127.0.0.1:{port}/-/versions.json") == 200:
                    break
            except OSError:
                pass
            if proc.poll() is not None:
                break
            time.sleep(0.1)
        assert proc.poll() is None, "serve did not start"
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=20)
        with pytest.raises(OSError):
            _status(f"http://127.0.0.1:{port}/-/versions.json")
    finally:
        if proc.poll() is None:
            proc.kill()
