"""The search page `/-/search` (archive/search_reports.py) over HTTP through Datasette's in-process client.

Its own archive (tests/helpers_search.py): 45 fictional reports, two versions of one, a hostile one.
"""

from __future__ import annotations

import html
import re
import time
import urllib.parse
from collections.abc import Iterator

import pytest

from archive.search_reports import highlight
from tests.conftest import DatasetteClient
from tests.helpers_search import build_search_archive


@pytest.fixture(scope="module")
def searched(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[tuple[DatasetteClient, dict[str, list[int]]]]:
    path = tmp_path_factory.mktemp("search-page") / "sp.db"
    ids = build_search_archive(path)
    client = DatasetteClient(path)
    yield client, ids
    client.close()


def search(client: DatasetteClient, q: str, **args: str) -> dict:
    query = urllib.parse.urlencode({"q": q, **args})
    data = client.get_json(f"/-/search.json?{query}")
    assert data["ok"] is True
    return data


def ids_of(data: dict) -> list[int]:
    return [r["id"] for r in data["reports"]]


def test_results_are_reports_one_row_each(searched) -> None:
    client, ids = searched
    data = search(client, "版本测试")
    assert ids_of(data) == [ids["versions"][1]]  # latest only, one row for the report
    assert data["total"] == 1 and data["total_exact"] and data["total_label"] == "1"
    (row,) = data["reports"]
    assert row["agency"] == "示例市修订局" and row["year"] == 2022 and row["is_latest"] == 1


def test_older_versions_on_request_and_marked(searched) -> None:
    client, ids = searched
    assert ids_of(search(client, "旧稿独有词语")) == []
    older = search(client, "旧稿独有词语", versions="all")
    assert ids_of(older) == [ids["versions"][0]] and older["reports"][0]["is_latest"] == 0
    both = search(client, "版本测试", versions="all")
    assert sorted(ids_of(both)) == sorted(ids["versions"])
    page = client.get("/-/search?" + urllib.parse.urlencode({"q": "旧稿独有词语", "versions": "all"})).text
    assert "旧版本 / older version" in page and 'id="nb-versions" checked' in page


@pytest.mark.parametrize("path", ["filter_first", "chunked"])
@pytest.mark.parametrize(
    ("key", "value", "expect"),
    [
        ("year", "2021", lambda i: 2019 + i % 5 == 2021),
        ("region", "样本市", lambda i: i % 2 == 1),
        ("level", "县级", lambda i: i % 3 == 2),
        ("status", "partial", lambda i: i % 3 == 0),
        ("agency", "示例市第7局", lambda i: i == 7),
    ],
)
def test_each_filter(searched, monkeypatch, path: str, key: str, value: str, expect) -> None:
    """Both ways a filter is applied: before the index (a selective filter, the only kind this archive has)
    and on each chunk of hits (`_chunk`) and in the count (`_count_more`), as a broad filter is."""
    import archive.search_reports as sr

    if path == "chunked":
        monkeypatch.setattr(sr, "FILTER_FIRST_MAX", 0)
        monkeypatch.setattr(sr, "CHUNK", 7)
        monkeypatch.setattr(sr, "MAX_CHUNK", 7)  # a region's page 1 ends before the hits do: counted on
    client, ids = searched
    data = search(client, "年度报告", **{key: value}, page="1")
    wanted = {ids[f"r{i}"][0] for i in range(45) if expect(i)}
    got: set[int] = set()
    page = 1
    while True:
        assert data["total"] == len(wanted) and data["total_exact"], page
        got |= set(ids_of(data))
        if not data["has_next"]:
            break
        page += 1
        data = search(client, "年度报告", **{key: value}, page=str(page))
    assert got == wanted and data["total"] == len(wanted)
    html_page = client.get("/-/search?" + urllib.parse.urlencode({"q": "年度报告", key: value})).text
    assert f"{html.escape(value)} <a" in html_page  # the active filter, with its remove link


def test_filter_values_are_counted_and_keep_the_query(searched) -> None:
    client, _ = searched
    data = search(client, "复议")
    years = dict(data["facets"]["year"])
    assert sum(years.values()) == data["total"] == 24  # 23 even reports + the far one
    page = client.get("/-/search?q=" + urllib.parse.quote("复议")).text
    assert re.search(r'<option value="2019">2019 \(\d+\)</option>', page)
    # A result's agency links back to the same query with that filter.
    assert "?q=%E5%A4%8D%E8%AE%AE&amp;agency=" in page


def test_paging_past_20_is_stable_and_continues(searched) -> None:
    client, ids = searched
    pages = [search(client, "年度报告", page=str(p)) for p in (1, 2, 3)]
    assert [len(p["reports"]) for p in pages] == [20, 20, 5]
    assert [p["has_next"] for p in pages] == [True, True, False]
    seen = [i for p in pages for i in ids_of(p)]
    assert len(seen) == len(set(seen)) == 45
    assert set(seen) == {ids[f"r{i}"][0] for i in range(45)}
    assert ids_of(search(client, "年度报告", page="2")) == ids_of(pages[1])  # same order when asked again
    page2 = client.get("/-/search?" + urllib.parse.urlencode({"q": "年度报告", "page": "2"})).text
    assert 'rel="prev"' in page2 and 'rel="next"' in page2 and 'start="21"' in page2


def test_phrase_against_the_same_words_apart(searched) -> None:
    client, ids = searched
    assert ids_of(search(client, '"申请公开"')) == [ids["phrase"][0]]
    both = set(ids_of(search(client, "申请 公开")))
    assert {ids["phrase"][0], ids["apart"][0]} <= both
    # A quoted phrase with a space inside is still one phrase.
    assert ids_of(search(client, '"依申请 公开"')) == [ids["phrase"][0]]


def test_one_and_two_character_terms(searched) -> None:
    client, ids = searched
    assert ids_of(search(client, "税")) == [ids["one_two"][0]]  # text has the traditional 稅
    assert ids_of(search(client, "罚款")) == [ids["one_two"][0]]
    data = search(client, "稅")
    assert data["reports"][0]["snippets"][0]["marks"] == ["稅"]


def test_every_term_is_highlighted(searched) -> None:
    client, ids = searched
    data = search(client, "许可 复议")
    (row,) = [r for r in data["reports"] if r["id"] == ids["far"][0]]
    marks = row["snippets"][0]["marks"]
    assert "许可" in marks and "复议" in marks
    page = client.get("/-/search?q=" + urllib.parse.quote("许可 复议")).text
    assert "<mark>许可</mark>" in page and "<mark>复议</mark>" in page


def test_highlight_parts() -> None:
    parts = highlight("个人所得稅，行政 许可。", "税 许可")
    assert [t for t, m in parts if m] == ["稅", "许可"]
    far = highlight("甲" * 200 + "许可" + "乙" * 200 + "复议" + "丙" * 200, "许可 复议")
    assert [t for t, m in far if m] == ["许可", "复议"] and far[0] == ("…", False)
    assert highlight("没有命中", "复议") == [("没有命中", False)]


def test_hostile_text_is_never_markup(searched) -> None:
    client, _ = searched
    for q in ("恶意脚本测试", "恶意标题", "script"):
        page = client.get("/-/search?q=" + urllib.parse.quote(q)).text
        assert "<script>alert" not in page and "<b>粗体" not in page and "<img src=x" not in page
        assert "<i>斜体" not in page
    page = client.get("/-/search?q=" + urllib.parse.quote("恶意脚本测试")).text
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;" in page
    assert "&lt;b&gt;粗体&lt;/b&gt;" in page
    hostile_q = '<script>alert(1)</script>"'
    page = client.get("/-/search?q=" + urllib.parse.quote(hostile_q)).text
    assert "<script>alert(1)" not in page


def test_bad_arguments_are_clear_errors(searched) -> None:
    client, _ = searched
    r = client.get("/-/search.json?q=%E5%A4%8D&year=20x1")
    assert r.status_code == 400 and "year" in r.json()["error"]
    r = client.get("/-/search?q=%E5%A4%8D&page=0")
    assert r.status_code == 400 and "页码" in r.text


def test_sections_table_search_has_a_capped_count_and_no_facet_suggestions(searched) -> None:
    client, _ = searched
    data = client.get_json("/sp/sections.json?_search=" + urllib.parse.quote("年度报告"))
    assert data["filtered_table_rows_count"] is None and data["suggested_facets"] == []
    assert len(data["rows"]) == 45
    page = client.get("/sp/sections?_search=" + urllib.parse.quote("年度报告")).text
    assert "45 条匹配" in page
    exact = client.get_json("/sp/sections.json?_count=1&_search=" + urllib.parse.quote("年度报告"))
    assert exact["filtered_table_rows_count"] == 45


def test_frequent_terms_page_through_tiers_with_a_capped_count(searched, monkeypatch) -> None:
    """With tiny tiers and caps (the same code path a frequent term takes on a million sections): pages
    never repeat or skip a report, the count says "at least", and filter values come without counts."""
    import archive.search_reports as sr

    client, ids = searched
    monkeypatch.setattr(sr, "CHUNK", 7)
    monkeypatch.setattr(sr, "COUNT_CAP", 12)
    first = search(client, "年度报告")
    assert first["total_exact"] is False and first["total_label"] == "12+"
    seen: list[int] = []
    page, data = 1, first
    while True:
        seen += ids_of(data)
        if not data["has_next"]:
            break
        page += 1
        data = search(client, "年度报告", page=str(page))
    assert len(seen) == len(set(seen)) == 45 and page == 3
    html_page = client.get("/-/search?q=" + urllib.parse.quote("年度报告")).text
    assert "至少 12 份" in html_page and '<option value="2021">2021</option>' in html_page
    # A selective filter is applied first: exact, whatever the tiers.
    one = search(client, "年度报告", agency="示例市第7局")
    assert one["total_exact"] and ids_of(one) == [ids["r7"][0]]


def test_a_search_over_the_time_limit_is_a_clear_error(searched, monkeypatch) -> None:
    """The search runs under Datasette's sql_time_limit_ms: past it, a 400 saying so, not a 500 or a result."""
    import archive.search as search_module

    client, _ = searched
    confirm = search_module.has_terms  # nianbao_has: called per candidate section of a 4-character term

    def slow(text: str | None, needles: str) -> int:
        time.sleep(0.005)
        return confirm(text, needles)

    monkeypatch.setattr(search_module, "has_terms", slow)
    monkeypatch.setitem(client.ds._settings, "sql_time_limit_ms", 1)
    r = client.get("/-/search.json?q=" + urllib.parse.quote("年度报告"))
    assert r.status_code == 400
    assert r.json() == {"ok": False, "error": r.json()["error"]}
    assert "检索超时" in r.json()["error"] and "took longer than 1 ms" in r.json()["error"]
    page = client.get("/-/search?q=" + urllib.parse.quote("年度报告"))
    assert page.status_code == 400 and "took longer than 1 ms" in page.text
    monkeypatch.undo()
    assert len(ids_of(search(client, "年度报告"))) == 20  # the same search within the limit


def test_clearing_the_sections_search_box_counts_rows_again(searched) -> None:
    """The cleared form keeps the hidden inputs the search added (`_nianbao_search`, `_nocount`,
    `_nosuggest`): they are dropped, so the table is counted as without a search."""
    client, _ = searched
    plain = client.get_json("/sp/sections.json")
    cleared = client.get_json(
        "/sp/sections.json?_search=&_nianbao_search="
        + urllib.parse.quote("年度报告")
        + "&_nocount=1&_nosuggest=1"
    )
    assert plain["filtered_table_rows_count"] is not None
    assert cleared["filtered_table_rows_count"] == plain["filtered_table_rows_count"]
    assert cleared["rows"] == plain["rows"]
