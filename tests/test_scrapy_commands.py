"""Scrapy's own commands from the project root (scrapy.cfg → crawler.settings), each in a child process,
loopback only: list, check (the contracts, and that a broken saved page fails them), bench, shell, crawl.

The archive and WARC locations are pointed at a temporary folder through the environment, so the tests
also see that commands which do not archive leave nothing there.
"""

from __future__ import annotations

import os
import re
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from crawler.demo.server import SiteServer

ROOT = Path(__file__).resolve().parent.parent
CONTRACT_PAGES = ROOT / "crawler" / "contracts_fixtures"


@pytest.fixture
def outputs(tmp_path: Path) -> dict[str, Path]:
    """Where an archive and WARC files would go if a command wrote any."""
    return {"db": tmp_path / "out" / "nb.db", "warc": tmp_path / "out" / "warc"}


def scrapy(
    *args: str, outputs: dict[str, Path], cwd: Path = ROOT, pythonpath: list[Path] | None = None
) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "NIANBAO_DB": str(outputs["db"]),
        "NIANBAO_WARC_DIR": str(outputs["warc"]),
        "NIANBAO_READ_WORKERS": "1",
    }
    paths = [str(p) for p in pythonpath or []] + [str(ROOT)]
    env["PYTHONPATH"] = os.pathsep.join([*paths, env.get("PYTHONPATH", "")]).rstrip(os.pathsep)
    env.pop("SCRAPY_SETTINGS_MODULE", None)
    return subprocess.run(
        [sys.executable, "-m", "scrapy", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
    )


def assert_clean(proc: subprocess.CompletedProcess[str], outputs: dict[str, Path]) -> None:
    """Exit 0, no traceback, and nothing archived."""
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "Traceback" not in proc.stderr, proc.stderr[-3000:]
    assert not outputs["db"].exists()
    assert not outputs["warc"].exists()


def test_list_names_the_spider(outputs: dict[str, Path]) -> None:
    """scrapy.cfg finds crawler.settings, and SPIDER_MODULES holds exactly one spider."""
    proc = scrapy("list", outputs=outputs)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert proc.stdout.split() == ["disclosure"]


def test_check_runs_every_contract_offline(outputs: dict[str, Path]) -> None:
    """`scrapy check` runs the callbacks' contracts on the saved pages and archives nothing."""
    proc = scrapy("check", outputs=outputs)
    assert_clean(proc, outputs)
    assert "Ran 5 contracts" in proc.stderr and proc.stderr.rstrip().endswith("OK")


def test_check_fails_on_a_list_page_that_lost_a_link(tmp_path: Path, outputs: dict[str, Path]) -> None:
    """The contract bounds are exact: a list page whose last-page link is gone (4 requests, not 5) fails.

    A throwaway project serves the contracts' saved pages from its own folder, with that link removed."""
    project = tmp_path / "project"
    saved = project / "saved"
    shutil.copytree(CONTRACT_PAGES, saved)
    page = saved / "annual_list.html"
    html = page.read_text(encoding="utf-8")
    broken = html.replace(' <a href="index_2.html">尾页</a>', "")
    assert broken != html
    page.write_text(broken, encoding="utf-8")
    (project / "scrapy.cfg").write_text("[settings]\ndefault = nbcheck_settings\n")
    (project / "nbcheck_contracts.py").write_text(
        "from pathlib import Path\n"
        "from crawler.contracts import SavedPageContract\n\n\n"
        "class SavedHere(SavedPageContract):\n"
        "    def adjust_request_args(self, args):\n"
        "        args = super().adjust_request_args(args)\n"
        "        args['url'] = (Path(__file__).parent / 'saved' / self.args[0]).resolve().as_uri()\n"
        "        return args\n"
    )
    (project / "nbcheck_settings.py").write_text(
        "from crawler.settings import *  # noqa: F403\n\n"
        "SPIDER_CONTRACTS = {'crawler.contracts.SavedPageContract': None, 'nbcheck_contracts.SavedHere': 10}\n"
    )
    proc = scrapy("check", "disclosure", outputs=outputs, cwd=project, pythonpath=[project])
    assert proc.returncode != 0, proc.stderr[-3000:]
    assert "Ran 5 contracts" in proc.stderr
    assert "FAILED (failures=1)" in proc.stderr, proc.stderr[-3000:]
    failed = re.findall(r"^FAIL: \[disclosure\] (\w+)", proc.stderr, re.M)
    assert failed == ["parse_response"], proc.stderr[-3000:]
    assert "Returned 4 requests, expected 5" in proc.stderr


def test_bench_runs_and_archives_nothing(outputs: dict[str, Path]) -> None:
    """`scrapy bench` (its own loopback server, its own spider) works with the project's middlewares and
    pipelines, and writes no archive or WARC."""
    proc = scrapy("bench", "-s", "CLOSESPIDER_TIMEOUT=2", "-s", "LOG_LEVEL=INFO", outputs=outputs)
    assert_clean(proc, outputs)
    assert "'finish_reason': 'closespider_timeout'" in proc.stderr
    pages = re.search(r"'response_received_count': (\d+)", proc.stderr)
    assert pages and int(pages.group(1)) > 0, proc.stderr[-3000:]


def test_shell_fetches_a_loopback_page(portal_site: SiteServer, outputs: dict[str, Path]) -> None:
    """`scrapy shell URL -c …` goes through the project's downloader middlewares and archives nothing."""
    url = portal_site.url("nextpage", "/index.html")
    proc = scrapy("shell", url, "-c", "(response.status, response.url)", outputs=outputs)
    assert_clean(proc, outputs)
    assert proc.stdout.strip().splitlines()[-1] == repr((200, url))


def test_crawl_archives_a_small_portal(portal_site: SiteServer, outputs: dict[str, Path]) -> None:
    """`scrapy crawl disclosure -a url=…` archives the fixture portal served at 127.0.0.1 (the nextpage
    portal as the server's default host): its four reports, its list pages, a finished crawl row."""
    base = f"http://127.0.0.1:{portal_site.port}/"
    proc = scrapy(
        "crawl",
        "disclosure",
        "-a",
        f"url={base}",
        "-a",
        "agency=测试县人民政府",
        "-s",
        f"NIANBAO_DB={outputs['db']}",
        "-s",
        "DOWNLOAD_DELAY=0",
        "-s",
        "AUTOTHROTTLE_ENABLED=False",
        outputs=outputs,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "Traceback" not in proc.stderr, proc.stderr[-3000:]
    conn = sqlite3.connect(outputs["db"])
    try:
        reports = {u for (u,) in conn.execute("SELECT url FROM documents WHERE kind = 'report'")}
        lists = {u for (u,) in conn.execute("SELECT url FROM documents WHERE kind = 'list'")}
        crawls = conn.execute("SELECT status, reports_found FROM crawls").fetchall()
        read = conn.execute("SELECT count(*) FROM reports").fetchone()[0]
        elsewhere = conn.execute(
            "SELECT count(*) FROM documents WHERE url LIKE '%elsewhere.localhost%'"
        ).fetchone()
    finally:
        conn.close()
    ndbg = base + "xxgk/ndbg/"
    assert reports == {
        ndbg + "2024/report-a.html",
        ndbg + "2024/report-b.html",
        ndbg + "2023/report-c.html",
        ndbg + "2023/report-d.html",
    }
    assert {ndbg + "list.html", ndbg + "list2.html", ndbg + "list3.html"} <= lists
    assert crawls == [("finished", 4)]
    # The portal's link to http://elsewhere.localhost/ (another loopback portal) is off-site: not fetched.
    assert elsewhere == (0,) and "Crawled (200) <GET http://elsewhere" not in proc.stderr
    assert re.search(r"'nianbao/offsite_skipped': [1-9]", proc.stderr), proc.stderr[-3000:]
    assert read >= 4  # every report version was read (and the PDF attachment)
    warcs = list(outputs["warc"].glob("*.warc.gz"))
    assert warcs, "the crawl wrote no WARC file"
