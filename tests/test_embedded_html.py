"""Report HTML carried as data (PATTERNS A4): a script's string literal, entity-escaped HTML in a JSON
<script>, a JSON API answer. Fixtures: tests/fixtures/embedded (fictional agencies, real shapes; regenerated
by make_fixtures.py from ../formats/r2021_ok.html), every cell checked against r2021_ok.expected.json."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from pipelines.extract.detect import detect_format
from pipelines.extract.embedded import from_json_document, unescape_js
from pipelines.read import read_report
from pipelines.report import Report

HERE = Path(__file__).resolve().parent / "fixtures"
EXPECTED = json.loads((HERE / "formats" / "r2021_ok.expected.json").read_text(encoding="utf-8"))


def wrong_cells(report: Report) -> list[tuple[str, str, str]]:
    got = {(f.table, f.row, f.column): f.value for f in report.figures}
    return [
        (f["table"], f["row"], f["column"])
        for f in EXPECTED["figures"]
        if got.get((f["table"], f["row"], f["column"])) != f["value"]
    ]


@pytest.mark.parametrize(
    ("name", "agency", "extractor", "published"),
    [
        ("script_content_string.html", "示例县林业局", "html/lxml+embedded", "2025-01-22"),
        ("json_state_entities.html", "示例县水利局", "html/lxml+embedded", None),
        ("api_answer.json", "示例县审计局", "json+html/lxml", "2025-01-24"),
    ],
)
def test_report_html_carried_as_data_is_read_as_the_page(
    name: str, agency: str, extractor: str, published: str | None
) -> None:
    body = (HERE / "embedded" / name).read_bytes()
    r = read_report(body, name)
    assert (r.status, r.template, r.year, r.agency) == ("complete", "2021", 2024, agency), r.problems
    assert r.title == f"{agency}2024年政府信息公开工作年度报告"
    assert r.meta["extractor"] == extractor
    assert len(EXPECTED["figures"]) == 200 and wrong_cells(r) == []
    assert all(c.ok for c in r.checks) and r.problems == []
    # the statistics period's 2024年1月1日 is never taken for a publication date; the page's or the
    # API's is (PubDate meta, publishDate field)
    assert r.meta.get("published_date") == published
    if published:
        assert r.meta["published_date_source"] == ("page_meta" if name.endswith("html") else "page_field")


def test_js_unescape_and_json_detection() -> None:
    assert unescape_js(r"<p class=\"a\">\u5e74\u62a5<\/p>\n\x41") == '<p class="a">年报</p>\nA'
    doc = json.dumps({"data": {"title": "t", "content": "<p>" + "政府信息公开" * 40 + "</p>"}})
    assert detect_format(doc.encode()) == "text"
    found = from_json_document(doc)
    assert found is not None and found[0].startswith("<p>") and found[1]["title"] == "t"
    # a JSON document without a report's HTML stays text; a widget's markup is not a report
    assert from_json_document(json.dumps({"menu": "<li>首页</li>" * 50})) is None


def test_page_with_its_own_tables_ignores_script_markup() -> None:
    body = (HERE / "formats" / "r2021_ok.html").read_bytes()  # carries document.write("<table>…")
    r = read_report(body, "r2021_ok.html")
    assert r.meta["extractor"] == "html/lxml" and wrong_cells(r) == []
