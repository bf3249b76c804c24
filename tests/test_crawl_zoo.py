"""The portal zoo (tests/fixtures/zoo): PATTERNS §B patterns the demo and the practice portal do not show, each
crawled with `nianbao crawl --url` over loopback and held to the exact set of reports it must find.
Plus the page-level rules those crawls rest on (redirect pages, challenges, another place's report)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest
from scrapy.http import HtmlResponse

from crawler.classify import is_agency_name, is_catalogue_text, is_foreign_title, locality, year_column
from crawler.demo.server import SiteServer
from crawler.pages import detect_block, redirect_target

from .helpers_crawl import query, run_crawl

ZOO = Path(__file__).parent / "fixtures" / "zoo"
PORTALS = ("jumpy", "walls", "jsonzh")


@pytest.fixture(scope="module")
def zoo(tmp_path_factory: pytest.TempPathFactory):
    tmp = tmp_path_factory.mktemp("zoo")
    shutil.copytree(ZOO, tmp / "site")
    server = SiteServer(tmp / "site").start()
    shutil.copytree(tmp / "site" / "jsonzh", tmp / "site" / "_default")  # 127.0.0.1 (urllib needs no DNS)
    runs: dict[str, Any] = {"port": server.port}
    for name in PORTALS:
        db = tmp / f"{name}.db"
        proc = run_crawl("--url", server.url(name), "--db", str(db), "--warc-dir", str(tmp / f"{name}-warc"))
        runs[name] = {"db": db, "proc": proc, "base": server.url(name).rstrip("/")}
    yield runs
    server.stop()


def reports(run: dict[str, Any]) -> dict[str, tuple[str | None, int | None]]:
    """Read reports of the portal: path → (agency, year)."""
    rows = query(
        run["db"],
        "SELECT d.url, r.agency, r.year FROM reports r JOIN documents d ON d.id = r.document_id"
        " WHERE r.is_latest",
    )
    return {url[len(run["base"]) :]: (agency, year) for url, agency, year in rows}


def crawl_row(run: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    status, stats = query(run["db"], "SELECT status, stats FROM crawls")[0]
    return status, json.loads(stats)


def test_redirects_base_href_iframe_window_open(zoo):
    run = zoo["jumpy"]
    assert run["proc"].returncode == 0, run["proc"].stderr[-1500:]
    assert reports(run) == {
        "/doc/2024/a.html": ("甲县人民政府", 2024),
        "/doc/2023/b.html": ("甲县人民政府", 2023),
    }
    status, stats = crawl_row(run)
    assert status == "finished" and stats.get("nianbao/challenged", 0) == 0
    # the neighbouring county's report is archived and named, not read as this portal's
    assert query(run["db"], "SELECT foreign_place FROM documents WHERE url LIKE '%/doc/2024/other.html'") == [
        ("乙县",)
    ]
    # the window.open page and the location.href page are kept as pages
    pages = {
        u[len(run["base"]) :] for (u,) in query(run["db"], "SELECT url FROM documents WHERE kind = 'page'")
    }
    assert {"/gov/", "/go/2023.html"} <= pages


def test_one_challenge_is_skipped_not_a_blocked_portal(zoo):
    """One challenged report page: skipped and on record; the crawl is `partial` (exit 5), not blocked."""
    run = zoo["walls"]
    assert run["proc"].returncode == 5, run["proc"].stderr[-1500:]
    assert reports(run) == {
        "/nb/r1.html": ("丙市人民政府", 2024),
        "/nb/r2.html": ("丙市人民政府", 2023),
        "/nb/r4.html": ("丙市人民政府", 2021),
        "/nb/r5.html": ("丙市人民政府", 2020),
        "/nb/r6.html": ("丙市人民政府", 2019),
    }
    status, stats = crawl_row(run)
    assert status == "partial"
    assert stats["nianbao/challenged"] == 1
    challenges = query(run["db"], "SELECT url FROM crawl_errors WHERE stage = 'challenge'")
    assert [url[len(run["base"]) :] for (url,) in challenges] == ["/nb/r3.html"]
    # 尾页 said 1,000,000 pages: the walk stopped at the first page without new links (+ one lookahead)
    lists = query(run["db"], "SELECT count(*) FROM documents WHERE url LIKE '%list.php%'")[0][0]
    assert lists == 4
    assert stats["downloader/request_count"] < 25


def test_json_records_resolve_against_the_list_page(zoo):
    run = zoo["jsonzh"]
    assert run["proc"].returncode == 0, run["proc"].stderr[-1500:]
    assert reports(run) == {
        "/xxgk/nb/%E6%8A%A5%E5%91%8A/2024%E5%B9%B4%E6%8A%A5.html": ("丁区人民政府", 2024),
        "/xxgk/nb/c/2023.html": ("丁区人民政府", 2023),
    }
    assert crawl_row(run)[0] == "finished"


def test_nianbao_detect_names_columns_and_pagination(zoo):
    import subprocess
    import sys

    base = f"http://127.0.0.1:{zoo['port']}"
    proc = subprocess.run(
        [sys.executable, "-m", "crawler", "detect", base + "/"], capture_output=True, text=True, timeout=60
    )
    assert proc.returncode == 0, proc.stderr
    assert "annual-report columns: 1" in proc.stdout
    assert f"data endpoints: {base}/api/list.json?channelId=88&pageIndex=1" in proc.stdout


def html(url: str, body: str, status: int = 200) -> HtmlResponse:
    return HtmlResponse(url, body=body.encode("utf-8"), encoding="utf-8", status=status)


@pytest.mark.parametrize(
    "body,target",
    [
        ("<script>window.location.href='/a/b.html';</script>", "http://x/a/b.html"),
        ('<script type="text/javascript">location.replace("./list.html")</script>', "http://x/c/list.html"),
        ("<script>top.location = 'https://x/z.html'</script>", "https://x/z.html"),
        ("<script>window.open('/w.html','_self')</script>", "http://x/w.html"),
        ('<meta http-equiv="Refresh" content="0; URL=\'../up.html\'">', "http://x/up.html"),
        ('<meta http-equiv="refresh" content="3;url=./">', "http://x/c/"),
    ],
)
def test_redirect_pages_are_followed_and_never_challenges(body, target):
    page = html("http://x/c/index.html", f"<html><head>{body}</head><body></body></html>")
    assert redirect_target(page) == target
    assert detect_block(page) is None or redirect_target(page)  # the spider checks redirects first


def test_cookie_challenge_is_not_a_redirect_and_a_js_shell_is_not_a_challenge():
    challenge = html(
        "http://x/",
        "<html><head><script>document.cookie='acw_sc__v2=1';location.href='/';</script></head></html>",
        status=412,
    )
    assert redirect_target(challenge) is None and detect_block(challenge)
    shell = html(
        "http://x/nb/", "<html><head><script>fetch('/api/list?page=1')</script></head><body></body></html>"
    )
    assert detect_block(shell) is None
    long_page = html(
        "http://x/a.html",
        "<p>" + "正文" * 200 + "</p><a href='/1'>1</a><a href='/2'>2</a><a href='/3'>3</a>"
        "<script>if (mobile) location.href='/m/a.html'</script>",
    )
    assert redirect_target(long_page) is None


def test_catalogues_agencies_years_and_other_places():
    assert is_catalogue_text("部门信息公开") and is_catalogue_text("乡镇信息公开")
    assert is_catalogue_text("县直部门") and is_catalogue_text("镇街公开")
    assert not is_catalogue_text("政府信息公开年报") and not is_catalogue_text("石桥镇")
    assert is_agency_name("县教育局") and is_agency_name("石桥镇") and is_agency_name("某某街道办事处")
    assert not is_agency_name("政府信息公开年报") and not is_agency_name("2024年")
    assert (
        year_column("2024年") == 2024
        and year_column("2023年度") == 2023
        and year_column("2023年工作") is None
    )
    assert locality("溪林县人民政府") == "溪林县" and locality("桐江市溪林县教育局") == "桐江市溪林县"
    home = "溪林县"
    assert is_foreign_title("青岚县人民政府2023年政府信息公开工作年度报告", home)
    assert not is_foreign_title("溪林县教育局2023年政府信息公开工作年度报告", home)
    assert not is_foreign_title("石桥镇2023年政府信息公开工作年度报告", home)
    assert not is_foreign_title("溪林2023年政府信息公开工作年度报告", home)
    assert not is_foreign_title("青岚县人民政府2023年政府信息公开工作年度报告", None)
