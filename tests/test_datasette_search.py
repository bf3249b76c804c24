"""Chinese search through Datasette's own `?_search=` and the cross-table `/-/search`, over HTTP."""

from __future__ import annotations

import urllib.parse
from pathlib import Path

import pytest

from tests.helpers_archive import fetch, get_json


@pytest.fixture
def site(
    sample_site: str, sample_archive: tuple[Path, dict[str, list[int]]]
) -> tuple[str, dict[str, list[int]]]:
    """The session's Datasette over HTTP on the sample archive (conftest), at its database."""
    return f"{sample_site}/nb", sample_archive[1]


def section_hits(base: str, query: str, table: str = "sections") -> set[int]:
    q = urllib.parse.quote(query)
    data = get_json(f"{base}/{table}.json?_search={q}&_shape=objects&_size=max")
    key = "report_id" if table == "sections" else "id"
    return {r[key] for r in data["rows"]}


# name → which sample reports' sections contain the query (xicheng has two versions: both are archived).
CASES = [
    ("税", ["health_2022"]),  # 1 character, traditional in the text (稅)
    ("罚", ["health_2022"]),
    ("许可", ["xicheng", "health_2022"]),  # 2 characters: 行政许可, 许可证
    ("复议", ["xicheng", "hostile"]),  # inside the longer word 行政复议
    ("处罚", ["health_2022"]),  # text is traditional: 處罰
    ("處罰", ["health_2022"]),  # traditional query
    ("行政复议", ["xicheng", "hostile"]),  # 4 characters
    ("政府信息公开申请", ["xicheng"]),  # long phrase
    ("2023年", ["hostile"]),  # text is full-width: ２０２３年
    ("许可 公开", ["xicheng"]),  # two terms, AND, in the same section
    ("公开申请", ["xicheng"]),  # not health_2020's 公开，申请 (punctuation between)
    ("30件", ["xicheng"]),  # only in the second version
    ("不存在的词", []),
]


@pytest.mark.parametrize(("query", "names"), CASES)
def test_search_finds_every_section_that_contains_the_query(site, query: str, names: list[str]) -> None:
    base, ids = site
    expected = {rid for n in names for rid in ids[n]}
    if query == "30件":
        expected = {ids["xicheng"][1]}
    assert section_hits(base, query) == expected


def test_search_on_report_titles(site) -> None:
    base, ids = site
    assert section_hits(base, "西城", table="reports") == set(ids["xicheng"])
    assert section_hits(base, "卫生健康", table="reports") == {*ids["health_2022"], *ids["health_2020"]}


def test_search_box_keeps_the_query_and_shows_results(site) -> None:
    base, _ids = site
    status, body, _ = fetch(f"{base}/sections?_search={urllib.parse.quote('复议')}")
    html = body.decode()
    assert status == 200
    assert 'name="_search"' in html and 'value="复议"' in html
    assert "3 条匹配" in html


def test_non_chinese_search_still_works(site) -> None:
    base, _ = site
    assert get_json(f"{base}/sections.json?_search=nothing-here")["rows"] == []


def test_search_page_lists_reports_and_links_them(site) -> None:
    base, ids = site
    root = base.rsplit("/", 1)[0]
    data = get_json(f"{root}/-/search.json?q={urllib.parse.quote('复议')}")
    assert data["database"] == "nb" and data["total"] == 2
    assert {r["id"] for r in data["reports"]} == {ids["xicheng"][1], *ids["hostile"]}
    assert all("复议" in s["marks"] for r in data["reports"] for s in r["snippets"])
    data = get_json(f"{root}/-/search.json?q={urllib.parse.quote('西城区')}")
    assert {r["id"] for r in data["title_hits"]} == {ids["xicheng"][1]}
    status, body, _ = fetch(f"{root}/-/search?q={urllib.parse.quote('许可')}")
    assert status == 200 and "/nb/-/report/" in body.decode()


def test_search_page_highlights_safely_and_marks_older_versions(site) -> None:
    base, _ids = site
    root = base.rsplit("/", 1)[0]
    data = get_json(f"{root}/-/search.json?versions=all&q={urllib.parse.quote('复议')}")
    assert sorted(r["is_latest"] for r in data["reports"]) == [0, 1, 1]
    status, body, _ = fetch(f"{root}/-/search?versions=all&q={urllib.parse.quote('复议')}")
    html = body.decode()
    assert status == 200
    assert html.count("<mark>复议</mark>") == 3 and html.count("旧版本 / older version") == 1
    assert "<img src=x" not in html and "&lt;img src=x onerror=alert(1)&gt;" in html
