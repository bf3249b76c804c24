"""Page heights and sideways scrolling of the archive's pages at 1400 and 400 px, in headless Chromium.

    python bench/page_heights.py [--reports 54]

Builds an archive of N real-like reports (the seed texts of ../shared/seeds, read by the real reader), serves
it as `nianbao serve` does, and prints for each page and width: document height, and whether the page
scrolls sideways (scrollWidth > viewport) and its `lang`. Screenshots go to artifacts/pages/. Prints figures only.
Run it with PYTHONPATH set to another checkout to measure that code (before/after).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

CHROMIUM = "/usr/bin/chromium"
SEEDS = Path(__file__).resolve().parents[2] / "shared" / "seeds"
ARTIFACTS = Path(__file__).resolve().parents[1] / "artifacts" / "pages"


def build(db_path: Path, n: int) -> None:
    from archive import store
    from archive.db import open_db
    from pipelines.read import read_report

    db = open_db(db_path)
    seeds = sorted(SEEDS.glob("*.txt"))
    reports = [(p.name, p.read_bytes(), read_report(p.read_bytes(), p.name, None, {})) for p in seeds]
    for i in range(n):
        name, body, report = reports[i % len(reports)]
        report.agency = f"某某县第{i}局"
        meta = store.FetchMeta(url=f"http://xxgk.example.gov.cn/{i}/{name}", kind="report", filename=name)
        store.store(db, body + f"\n{i}".encode(), meta, read=lambda r=report: r)
    db.close()


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--reports", type=int, default=54)
    ap.add_argument("--label", default="now")
    args = ap.parse_args()
    from playwright.sync_api import sync_playwright

    from tests.helpers_archive import datasette_server

    db_path = Path(tempfile.mkdtemp()) / "nianbao.db"
    build(db_path, args.reports)
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    pages = {
        "report": "/nianbao/-/report/1",
        "reports": "/nianbao/reports",
        "figures": "/nianbao/figures",
        "sections": "/nianbao/sections",
        "home": "/",
        "database": "/nianbao",
        "row": "/nianbao/reports/1",
        "query": "/nianbao?sql=select+*+from+reports_latest",
    }
    with datasette_server(db_path) as base, sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"], headless=True)
        for width in (1400, 400):
            page = browser.new_page(viewport={"width": width, "height": 900})
            for name, path in pages.items():
                page.goto(base + path)
                height, scroll_w, view_w, lang = page.evaluate(
                    "[document.documentElement.scrollHeight, document.documentElement.scrollWidth, innerWidth,"
                    " document.documentElement.lang]"
                )
                shot = ARTIFACTS / f"{args.label}-{name}-{width}.png"
                page.screenshot(path=str(shot), full_page=height < 20000)
                print(
                    f"{args.label:6s} {name:8s} lang={lang or '-':5s} {width:5d}px  height {height:7d}px  "
                    f"sideways {'yes' if scroll_w > view_w else 'no'} ({scroll_w}/{view_w})  {shot.name}"
                )
            page.close()
        browser.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
