"""Crawl the saved fixture portals (tests/fixtures/portals) on loopback: discovery, politeness, blocked
portals, GBK, gone documents. Each crawl runs in a child process (a Twisted reactor cannot restart)."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from crawler.demo.server import SiteServer

from .helpers_crawl import query, run_crawl

FIXTURES = Path(__file__).parent / "fixtures" / "portals"


def registry(folder: Path, port: int, names: list[str]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name in names:
        start = f"http://{name}.localhost:{port}/" + ("index.html" if name != "blocked" else "")
        (folder / f"{name}.toml").write_text(
            f'name = "{name}"\nagency = "测试{name}"\nlevel = "县级"\nstart_urls = ["{start}"]\n'
            f'allowed_domains = ["{name}.localhost"]\n',
            encoding="utf-8",
        )
    return folder


@pytest.fixture(scope="module")
def crawled(tmp_path_factory: pytest.TempPathFactory, site_server: Callable[[Path], SiteServer]):
    tmp = tmp_path_factory.mktemp("fixture-crawl")
    site = tmp / "site"
    shutil.copytree(FIXTURES, site)
    server = site_server(site)  # its own copy: this module switches the variant
    reg = registry(tmp / "portals", server.port, ["nextpage", "blocked", "gbkfix"])
    db = tmp / "a.db"
    first = run_crawl("--registry", str(reg), "--db", str(db), "--warc-dir", str(tmp / "warc"))
    server.set_variant(2)
    second = run_crawl("nextpage", "--registry", str(reg), "--db", str(db), "--warc-dir", str(tmp / "warc"))
    return {"server": server, "db": db, "first": first, "second": second, "tmp": tmp}


def test_exit_code_names_the_blocked_portal(crawled):
    assert crawled["first"].returncode == 3, crawled["first"].stderr[
        -2000:
    ]  # 3: blocked (crawler/outcome.py)
    assert "blocked" in crawled["first"].stderr
    summary = {
        json.loads(line)["portal"]: json.loads(line)
        for line in crawled["first"].stdout.splitlines()
        if line.startswith("{")
    }
    assert summary["nextpage"]["status"] == "finished"
    assert summary["blocked"]["status"] == "blocked"


def test_generic_next_page_reports_exact(crawled):
    port = crawled["server"].port
    base = f"http://nextpage.localhost:{port}/xxgk/ndbg/"
    found = {
        u
        for (u,) in query(
            crawled["db"], "SELECT url FROM documents WHERE portal_id = 'nextpage' AND kind = 'report'"
        )
    }
    assert found == {
        base + "2024/report-a.html",
        base + "2024/report-b.html",
        base + "2023/report-c.html",
        base + "2023/report-d.html",
    }
    lists = {
        u
        for (u,) in query(
            crawled["db"], "SELECT url FROM documents WHERE kind = 'list' AND portal_id = 'nextpage'"
        )
    }
    assert {base + "list.html", base + "list2.html", base + "list3.html"} <= lists


def test_decoys_not_fetched(crawled):
    urls = {u for (u,) in query(crawled["db"], "SELECT url FROM documents")}
    assert not any(u.endswith(("yd.html", "yb.html", "zj.html", "fz.html")) for u in urls)


def test_robots_disallow_obeyed(crawled):
    urls = {u for (u,) in query(crawled["db"], "SELECT url FROM documents")}
    assert not any("/private/" in u for u in urls)
    stats = json.loads(
        query(crawled["db"], "SELECT stats FROM crawls WHERE portal_id = 'nextpage' ORDER BY id LIMIT 1")[0][
            0
        ]
    )
    assert stats.get("robotstxt/forbidden", 0) >= 1


def test_offsite_link_not_followed(crawled):
    urls = {u for (u,) in query(crawled["db"], "SELECT url FROM documents")}
    assert not any("elsewhere" in u for u in urls)


def test_chinese_urlencoded_attachment(crawled):
    port = crawled["server"].port
    found = query(
        crawled["db"],
        "SELECT d.url, v.filename FROM documents d JOIN versions v ON v.document_id = d.id"
        " WHERE d.kind = 'attachment'",
    )
    assert found == [
        (
            f"http://nextpage.localhost:{port}/files/%E6%B5%8B%E8%AF%95%E5%8E%BF2024%E5%B9%B4%E6%8A%A5.pdf",
            "测试县2024年报.pdf",
        )
    ]


def test_blocked_portal_recorded_with_evidence(crawled):
    status, evidence, reports = query(
        crawled["db"],
        "SELECT status, blocked_evidence, reports_found FROM crawls WHERE portal_id = 'blocked'",
    )[0]
    assert status == "blocked"
    assert evidence.startswith("HTTP 412 ") and "acw_sc__v2" in evidence
    assert reports == 0


def test_gbk_portal_decoded(crawled):
    port = crawled["server"].port
    found = query(
        crawled["db"], "SELECT url, link_text FROM documents WHERE portal_id = 'gbkfix' AND kind = 'report'"
    )
    assert found == [
        (f"http://gbkfix.localhost:{port}/nb/2023.html", "测试镇人民政府2023年政府信息公开工作年度报告")
    ]
    agency = query(
        crawled["db"],
        "SELECT r.agency FROM reports r JOIN documents d ON d.id = r.document_id"
        " WHERE d.portal_id = 'gbkfix'",
    )
    assert agency and "测试镇" in (agency[0][0] or "测试镇")


def test_recrawl_marks_gone_and_not_modified(crawled):
    assert crawled["second"].returncode == 0, crawled["second"].stderr[-2000:]
    port = crawled["server"].port
    base = f"http://nextpage.localhost:{port}/xxgk/ndbg/"
    gone = {u for (u,) in query(crawled["db"], "SELECT url FROM documents WHERE gone_since IS NOT NULL")}
    # report-b answers 404; report-c is no longer listed (gone after a complete crawl)
    assert gone == {base + "2024/report-b.html", base + "2023/report-c.html"}
    summary = json.loads(crawled["second"].stdout.splitlines()[0])
    assert summary["not_modified"] >= 3  # report-a, report-d and the attachment answered 304
    assert summary["new_report_versions"] == 0


def test_crawl_url_of_unregistered_portal(tmp_path, crawled):
    port = crawled["server"].port
    db = tmp_path / "u.db"
    proc = run_crawl(
        "--url", f"http://gbkfix.localhost:{port}/", "--agency", "测试镇人民政府", "--db", str(db)
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert query(db, "SELECT count(*) FROM documents WHERE kind = 'report'") == [(1,)]
    assert query(db, "SELECT agency FROM portals") == [("测试镇人民政府",)]
