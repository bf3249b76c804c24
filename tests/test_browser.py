"""A real browser (Debian's Chromium, headless) types a Chinese query, opens a report and its history.

Screenshots are saved under artifacts/ (gitignored) as test artifacts.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = Path(__file__).parent.parent / "artifacts"
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="/usr/bin/chromium is not installed"),
]


def test_search_report_and_history_in_a_browser(
    sample_archive: tuple[Path, dict[str, list[int]]], sample_site: str
) -> None:
    sync_api = pytest.importorskip("playwright.sync_api")
    ids = sample_archive[1]
    base = sample_site
    ARTIFACTS.mkdir(exist_ok=True)
    with sync_api.sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=ARGS, headless=True)
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            page.set_default_timeout(15000)
            # The home page's search box: one box across all tables.
            page.goto(f"{base}/")
            page.fill("#nb-home-q", "复议")
            page.press("#nb-home-q", "Enter")
            page.wait_for_selector(".nb-report-hits li")
            hits = page.locator(".nb-report-hits li").all_inner_texts()
            assert len(hits) == 2 and all("复议" in h for h in hits), hits
            assert page.locator(".nb-report-hits mark").count() == 2
            page.screenshot(path=str(ARTIFACTS / "browser-search.png"), full_page=True)

            # The table page's own search box (Datasette's ?_search=), with a 2-character query.
            page.goto(f"{base}/nb/sections")
            page.fill('input[name="_search"]', "许可")
            page.press('input[name="_search"]', "Enter")
            page.wait_for_url("**_search=*")
            assert "3 条匹配" in page.content()

            # Open the latest 西城区 report from the search results, then its history.
            page.goto(f"{base}/-/search?q=西城区")
            page.click(f'.nb-title-hits a[href="/nb/-/report/{ids["xicheng"][1]}"]')
            page.wait_for_selector("#report-title")
            assert page.inner_text("#report-agency") == "北京市西城区人民政府"
            assert page.locator("#table-applications").is_visible()
            page.click('a[href="#history"]')
            assert page.locator("#versions .nb-blob").count() == 2
            assert "4 figures changed" in page.inner_text("#change-1")
            page.screenshot(path=str(ARTIFACTS / "browser-report.png"), full_page=True)
            # The dashboard draws its charts (datasette-dashboards, Vega-Lite) from the archive.
            page.goto(f"{base}/-/dashboards/overview")
            page.wait_for_selector("#chart-applications-by-year canvas, #chart-applications-by-year svg")
            page.wait_for_selector("#chart-outcome-mix canvas, #chart-outcome-mix svg")
            page.screenshot(path=str(ARTIFACTS / "browser-dashboard.png"), full_page=True)
            # No script from a report ever runs.
            dialogs: list[str] = []
            page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
            page.goto(f"{base}/nb/-/report/{ids['hostile'][0]}")
            page.wait_for_selector("#report-title")
            assert "<script>" in page.inner_text("#report-title") and dialogs == []
        finally:
            browser.close()
    assert (ARTIFACTS / "browser-report.png").stat().st_size > 10_000


def agency_path(db_path: Path, report_id: int) -> str:
    """The agency page of the report's agency, as the report page links it (Datasette's tilde encoding)."""
    from datasette.utils import tilde_encode

    conn = sqlite3.connect(db_path)
    try:
        (agency,) = conn.execute("SELECT agency FROM reports WHERE id = ?", [report_id]).fetchone()
    finally:
        conn.close()
    return "/nb/-/agency/" + tilde_encode("".join(agency.split()))


def test_pages_fit_a_phone_and_a_desktop(tmp_path: Path) -> None:
    """At 400 px no page scrolls sideways (wide tables scroll in their own box); long report texts are cut on
    table pages; every page (report, agency, compare, table, database, row, SQL, home) is `lang="zh-CN"`. Screenshots at 1400
    and 400 px go to artifacts/."""
    from tests.helpers_archive import build_sample_archive, datasette_server

    sync_api = pytest.importorskip("playwright.sync_api")
    db_path = tmp_path / "nb.db"
    ids = build_sample_archive(db_path)
    ARTIFACTS.mkdir(exist_ok=True)
    pages = {
        "report": f"/nb/-/report/{ids['xicheng'][1]}",
        "reports": "/nb/reports",
        "sections": "/nb/sections",
        "figures": "/nb/figures",
        "home": "/",
        "database": "/nb",
        "row": f"/nb/reports/{ids['xicheng'][1]}",
        "query": "/nb?sql=select+*+from+reports_latest",
        "agency": agency_path(db_path, ids["xicheng"][1]),
        "compare": "/nb/-/compare?year=",
    }
    with datasette_server(db_path) as base, sync_api.sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=ARGS, headless=True)
        try:
            for width in (1400, 400):
                page = browser.new_page(viewport={"width": width, "height": 900})
                for name, path in pages.items():
                    page.goto(base + path)
                    scroll_w, view_w, lang = page.evaluate(
                        "[document.documentElement.scrollWidth, window.innerWidth, document.documentElement.lang]"
                    )
                    page.screenshot(path=str(ARTIFACTS / f"{name}-{width}.png"), full_page=True)
                    assert scroll_w <= view_w, (name, width, scroll_w, view_w)
                    assert lang == "zh-CN", (name, lang)
                page.close()
        finally:
            browser.close()


def test_search_page_filters_pages_and_highlights_in_a_browser(tmp_path: Path) -> None:
    """The search page as a journalist uses it: type a query, pick a year from the filter, page on; every
    query term is marked; a report's hostile text stays text."""
    from tests.helpers_archive import datasette_server
    from tests.helpers_search import build_search_archive

    sync_api = pytest.importorskip("playwright.sync_api")
    db_path = tmp_path / "sp.db"
    build_search_archive(db_path)
    ARTIFACTS.mkdir(exist_ok=True)
    with datasette_server(db_path) as base, sync_api.sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=ARGS, headless=True)
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            page.set_default_timeout(15000)
            dialogs: list[str] = []
            page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
            page.goto(f"{base}/-/search")
            page.fill("#nb-q", "年度报告")
            page.press("#nb-q", "Enter")
            page.wait_for_selector(".nb-report-hit")
            first = page.locator(".nb-report-hit").evaluate_all("els => els.map(e => e.dataset.reportId)")
            assert len(first) == 20 and page.inner_text("#nb-total") == "45"
            page.click("a.nb-next")
            page.wait_for_url("**page=2*")
            second = page.locator(".nb-report-hit").evaluate_all("els => els.map(e => e.dataset.reportId)")
            assert len(second) == 20 and not set(first) & set(second)
            # The year filter (a select listing counts) keeps the query and starts again at page 1.
            page.select_option("#nb-filter-year", "2021")
            page.click('input[type="submit"]')
            page.wait_for_url("**year=2021*")
            assert page.input_value("#nb-q") == "年度报告" and "page=" not in page.url
            years = page.locator(".nb-report-hit .nb-meta").all_inner_texts()
            assert years and all("2021年" in y for y in years)
            # Two terms far apart in one section: both marked.
            page.goto(f"{base}/-/search?q=许可 复议")
            marks = page.locator(".nb-report-hit mark").all_inner_texts()
            assert "许可" in marks and "复议" in marks
            page.goto(f"{base}/-/search?q=恶意脚本测试")
            assert "<script>" in page.inner_text(".nb-snippet") and dialogs == []
            page.screenshot(path=str(ARTIFACTS / "browser-search-page.png"), full_page=True)
        finally:
            browser.close()
