"""The agency page and the comparison over HTTP on the demo archive (`nianbao demo --no-serve`), and in a
real browser (screenshots under artifacts/)."""

from __future__ import annotations

import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from .conftest import DatasetteClient
from .helpers_archive import datasette_server, fetch
from .test_browser import ARGS, ARTIFACTS, CHROMIUM


@pytest.fixture(scope="module")
def demo_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    tmp = tmp_path_factory.mktemp("demo-audit")
    db = tmp / "demo.db"
    subprocess.run(
        [sys.executable, "-m", "crawler", "demo", "--no-serve", "--db", str(db)],
        cwd=tmp,
        check=True,
        capture_output=True,
        timeout=600,
    )
    return db


@pytest.fixture(scope="module")
def demo_site(demo_db: Path) -> Iterator[str]:
    with datasette_server(demo_db) as base:
        yield base


def test_report_page_links_to_agency_page_with_every_year(demo_site: str) -> None:
    status, body, _ = fetch(f"{demo_site}/demo/-/report/1")
    html = body.decode()
    assert status == 200
    href = re.search(r'id="report-agency-page" href="([^"]+)"', html).group(1)  # type: ignore[union-attr]
    status, body, _ = fetch(demo_site + href)
    page = body.decode()
    assert status == 200 and 'id="agency-years"' in page
    table = page[page.index('id="agency-years"') :]
    years = re.findall(r"<tr>\s*<td>(\d{4})</td>", table[: table.index("</table>")])
    assert len(years) >= 2 and years == sorted(years)
    for chart in ("chart-received", "chart-outcomes", "chart-disputes"):
        assert f'id="{chart}"' in page
    assert page.count("<rect") >= len(years)


def test_agency_page_lists_failed_checks_and_scorecards(demo_db: Path) -> None:
    client = DatasetteClient(demo_db)
    try:
        data = client.get_json(
            "/demo/-/agency/样本县人民政府.json".replace(
                "样本县人民政府", "~E6~A0~B7~E6~9C~AC~E5~8E~BF~E4~BA~BA~E6~B0~91~E6~94~BF~E5~BA~9C"
            )
        )
        assert data["agency"] == "样本县人民政府"
        years = [r["year"] for r in data["latest"]]
        assert years == sorted(years) and len(years) >= 5
        assert all(
            r["score"] is not None and r["deadline_rule"].startswith("县级以上人民政府")
            for r in data["latest"]
        )
        rules = {c["rule"] for c in data["failed"]}
        assert any(r.startswith("cross_year.") for r in rules)
        assert client.get("/demo/-/agency/~E6~97~A0").status_code == 404
    finally:
        client.close()


def test_comparison_and_canned_queries(demo_site: str) -> None:
    status, body, _ = fetch(f"{demo_site}/demo/-/compare?region=&year=2024&figure=applications_received")
    page = body.decode()
    assert status == 200 and 'id="compare-chart"' in page
    rows = re.findall(r'<td class="num">(\d+)</td>', page)
    values = [int(v) for v in rows]
    assert len(values) >= 3 and values == sorted(values, reverse=True)
    for query in (
        "prose_contradictions",
        "carry_over_breaks?agency=",
        "copied_sections",
        "worst_scorecards?region=&year=",
        "compare_agencies?region=&year=2024&figure=",
    ):
        name, _, args = query.partition("?")
        status, body, _ = fetch(f"{demo_site}/demo/{name}.json?{args}&_shape=objects")
        assert status == 200, (query, body[:300])


@pytest.mark.slow
@pytest.mark.skipif(not CHROMIUM.exists(), reason="/usr/bin/chromium is not installed")
def test_agency_page_and_comparison_in_a_browser(demo_site: str) -> None:
    sync_api = pytest.importorskip("playwright.sync_api")
    ARTIFACTS.mkdir(exist_ok=True)
    with sync_api.sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=ARGS, headless=True)
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 900})
            page.set_default_timeout(15000)
            page.goto(f"{demo_site}/demo/-/report/1")
            page.click("#report-agency-page")
            page.wait_for_selector("#agency-years")
            assert page.locator("#chart-outcomes rect").count() > 0
            assert page.locator("#agency-failed li").count() >= 1
            page.screenshot(path=str(ARTIFACTS / "browser-agency.png"), full_page=True)
            page.goto(f"{demo_site}/demo/-/compare")
            page.select_option('select[name="year"]', "2024")
            page.click('#compare-form input[type="submit"]')
            page.wait_for_url("**year=2024*")
            assert page.locator("#compare-chart rect").count() >= 3
            page.screenshot(path=str(ARTIFACTS / "browser-compare.png"), full_page=True)
        finally:
            browser.close()
    assert (ARTIFACTS / "browser-agency.png").stat().st_size > 10_000
    assert (ARTIFACTS / "browser-compare.png").stat().st_size > 10_000
