"""Report pages, version history, canned queries, feeds, dashboard and downloads, over HTTP."""

from __future__ import annotations

import hashlib
import json
import re
import sqlite3
import urllib.parse
from pathlib import Path

import pytest

from archive.publish import take_snapshot
from tests.helpers_archive import datasette_server, fetch, get_json


@pytest.fixture
def archive(sample_archive: tuple[Path, dict[str, list[int]]]) -> tuple[Path, dict[str, list[int]]]:
    """The session's sample archive (conftest), read-only."""
    return sample_archive


@pytest.fixture
def site(sample_site: str, sample_archive) -> tuple[str, dict[str, list[int]]]:
    """The session's Datasette over HTTP on the sample archive (conftest)."""
    return sample_site, sample_archive[1]


def page(url: str) -> str:
    status, body, _ = fetch(url)
    assert status == 200, (url, status, body[:300])
    return body.decode()


def test_report_page_shows_report_tables_and_failed_checks(site, archive) -> None:
    base, ids = site
    html = page(f"{base}/nb/-/report/{ids['xicheng'][0]}")
    assert '<h1 id="report-title">北京市西城区人民政府2023年政府信息公开工作年度报告</h1>' in html
    assert "北京市西城区人民政府" in html and ">2023<" in html
    assert 'href="https://www.bjxch.gov.cn/xxgk/202402/t20240125_3501.html"' in html
    assert "complete" in html and "（非最新版本" in html  # version 1 is no longer the latest
    for label in (
        "收到和处理政府信息公开申请情况",
        "本年新收政府信息公开申请数量",
        "（一）予以公开",
        "自然人",
        "法人或其他组织",
        "行政事业性收费",
        "未经复议直接起诉",
        "结果维持",
    ):
        assert label in html, label
    assert 'id="failed-checks"' in html and "applications.balance" in html
    # The failed column is highlighted; each figure links to the original (PDF page when known).
    assert 'class="num failed"' in html
    version_id = (
        sqlite3.connect(archive[0])
        .execute("SELECT version_id FROM reports WHERE id = ?", [ids["xicheng"][0]])
        .fetchone()[0]
    )
    assert f'href="/nb/-/original/{version_id}#page=3">26</a>' in html
    assert "出处 source" in html
    assert "本机关全年办理行政许可事项" in html


def test_report_page_escapes_everything(site) -> None:
    base, ids = site
    html = page(f"{base}/nb/-/report/{ids['hostile'][0]}")
    assert "<script>alert" not in html and "<img src=x" not in html
    assert "&lt;script&gt;alert(" in html and "&lt;img src=x onerror=alert(1)&gt;" in html


def test_history_of_a_changed_document(site) -> None:
    base, ids = site
    html = page(f"{base}/nb/-/report/{ids['xicheng'][1]}")
    assert html.count('class="nb-blob"') == 2  # both versions, each with its bytes
    assert "crawl-0001.warc.gz @ 1234" in html and "&lt;urn:uuid:0000-xicheng-0&gt;" in html
    assert "version 1 → 2" in html
    assert "4 figures changed" in html
    assert "本年新收政府信息公开申请数量" in html and ">26<" in html and ">30<" in html  # old → new
    assert '<div class="del">-全年收到政府信息公开申请26件' in html
    assert '<div class="add">+全年收到政府信息公开申请30件' in html
    # Character-level: only the changed number is marked, not its paragraph.
    assert "<del>26</del><ins>30</ins>" in html
    assert "<del>全年" not in html
    # The original bytes download.
    blob = html.split('class="nb-blob" href="')[1].split('"')[0].replace("&amp;", "&")
    status, body, _ = fetch(base + blob)
    assert status == 200 and json.loads(body)["agency"] == "北京市西城区人民政府"
    data = get_json(f"{base}/nb/-/report/{ids['xicheng'][1]}.json")
    assert [v["id"] for v in data["versions"]] == [1, 2]


def test_report_titles_link_to_report_pages(site) -> None:
    base, ids = site
    html = page(f"{base}/nb/reports")
    assert f'href="/nb/-/report/{ids["health_2022"][0]}"' in html


def canned(base: str, name: str, **params: str) -> list[dict]:
    from urllib.parse import urlencode

    qs = urlencode({"_shape": "objects", **params})
    return get_json(f"{base}/nb/{name}.json?{qs}")["rows"]


def test_canned_queries(site) -> None:
    base, ids = site
    changed = canned(base, "changed_after_publication")
    assert [r["report_id"] for r in changed] == [ids["xicheng"][1]]
    figs = json.loads(changed[0]["changed_figures"])
    assert {"table": "applications", "row": "new_received", "column": "total", "old": 26, "new": 30} in figs

    assert canned(base, "failing_reports") == []  # the failing version was corrected by version 2
    rows = canned(base, "applications_by_agency_year", agency="", year="")
    assert rows[0]["agency"] == "北京市西城区人民政府" and rows[0]["applications_received"] == 30
    assert [r["year"] for r in canned(base, "applications_by_agency_year", agency="卫生", year="2022")] == [
        2022
    ]

    yoy = {(r["agency"], r["year"]): r for r in canned(base, "year_over_year", agency="卫生")}
    assert yoy[("某区卫生健康委员会", 2022)]["previous_year"] is None  # 2021 is missing, not 2020
    history = canned(base, "agency_history", agency="西城区")
    assert [(r["year"], r["applications_received"]) for r in history] == [(2023, 30)]

    missing = {(r["agency"], r["year"]) for r in canned(base, "missing_reports")}
    assert ("某区卫生健康委员会", 2021) in missing and ("某区卫生健康委员会", 2022) not in missing
    late = canned(base, "late_reports")
    assert [(r["agency"], r["days_late"], r["published_date_source"]) for r in late] == [
        ("某区卫生健康委员会", 10, "url")
    ]
    mix = canned(base, "outcome_mix_by_region")
    assert sum(r["granted"] for r in mix) == 19 + 2 + 1 + 7
    assert [r["denied"] for r in mix if r["year"] == 2023] == [2]  # two 2023 reports, one region


def test_facets_on_timeliness_and_coverage(site) -> None:
    base, _ = site
    facets = get_json(f"{base}/nb/timeliness.json")["facet_results"]
    assert {i["value"] for i in facets["timeliness"]["results"]} >= {"late", "on_time", "unknown"}
    facets = get_json(f"{base}/nb/coverage.json")["facet_results"]
    assert {i["value"] for i in facets["missing"]["results"]} == {0, 1}


def test_atom_feeds(site) -> None:
    base, ids = site
    status, body, _headers = fetch(f"{base}/nb/feed_changed_reports.atom")
    xml = body.decode()
    assert status == 200 and "<feed" in xml
    assert f"/nb/-/report/{ids['xicheng'][1]}#change-1" in xml and "4 figures changed" in xml
    status, body, _ = fetch(f"{base}/nb/feed_new_reports.atom")
    assert body.decode().count("<entry>") == 4  # one per document (the changed one counts once)
    # No public address configured: entry links are absolute on the address the feed was fetched from.
    entry_links = [h for h in re.findall(r'<link href="([^"]+)"/>', body.decode())]
    assert len(entry_links) == 4 and all(h.startswith(f"{base}/nb/-/report/") for h in entry_links), (
        entry_links
    )


def test_home_page_links_search_dashboard_and_feeds(site) -> None:
    base, _ = site
    html = page(f"{base}/")
    for href in (
        "/-/search",
        "/-/dashboards/overview",
        "/nb/feed_new_reports.atom",
        "/nb/changed_after_publication",
    ):
        assert f'href="{href}' in html, href
    dash = page(f"{base}/-/dashboards/overview")
    assert "年报档案概览" in dash
    chart = get_json(
        f"{base}/nb.json?sql="
        + urllib.parse.quote(
            "SELECT CAST(year AS TEXT) AS year, sum(applications_received) AS received FROM reports_latest"
            " WHERE year IS NOT NULL GROUP BY year ORDER BY year"
        )
        + "&_shape=objects"
    )
    assert chart["rows"][0]["received"] is not None


def test_csv_and_json_of_every_table(site) -> None:
    base, _ = site
    status, body, _headers = fetch(f"{base}/nb/figures.csv?_stream=on&_size=max")
    assert status == 200 and body.decode().splitlines()[0].startswith("id,report_id,table,row,column,value")
    assert len(body.decode().splitlines()) == 1 + 13 * 5
    status, body, _ = fetch(f"{base}/nb/reports.json?_shape=array")
    assert status == 200 and len(json.loads(body)) == 5


def test_snapshot_is_downloadable_when_served_immutable(archive, tmp_path: Path) -> None:
    db_path, _ = archive
    snap = take_snapshot(db_path, tmp_path / "snaps", day="2026-01-02")
    assert snap.path == tmp_path / "snaps" / "2026-01-02" / "nianbao.db"
    assert take_snapshot(db_path, tmp_path / "snaps", day="2026-01-02").path.parent.name == "2026-01-02.2"
    with datasette_server(snap.path, immutable=True) as base:
        status, body, _headers = fetch(f"{base}/nianbao.db")
        assert status == 200 and body[:16] == b"SQLite format 3\x00"
        assert hashlib.sha256(body).hexdigest() == snap.sha256
        # Everything else works on the snapshot too.
        assert get_json(f"{base}/nianbao/sections.json?_search=%E7%A8%8E")["rows"]
    assert hashlib.sha256(snap.path.read_bytes()).hexdigest() == snap.sha256  # serving never rewrote it
    assert (snap.path.parent / "nianbao.db.sha256").read_text().startswith(snap.sha256)


def test_mutable_archive_offers_no_database_download(site) -> None:
    base, _ = site
    status, _, _ = fetch(f"{base}/nb.db")
    assert status in (403, 404)
