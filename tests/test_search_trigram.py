"""The folded trigram index `sections_tri` (m015, archive/search.py): routing by term length, folding,
rare and absent phrases of frequent characters, upkeep on edit/delete, the published copy, and the
`sections` table search box against a plain substring scan of the folded text."""

from __future__ import annotations

import sqlite3
import urllib.parse
from pathlib import Path

import pytest

from archive import store
from archive.db import memory_db, open_db
from archive.publish import lean_copy
from archive.search import (
    flush_pending,
    has_terms,
    hits_query,
    index_report,
    plan,
    query_terms,
    register_functions,
    trigram_needle,
    trigram_text,
)
from archive.search_reports import SearchQuery, search_reports
from pipelines.report import Report
from pipelines.segment import REPORT_KEY, fold, report_streams, streams
from tests.conftest import DatasetteClient
from tests.helpers_search import add_version

# Every character of 公开申请信息 is in every section; the orders differ. Fictional agencies, real shapes.
TEXTS = {
    "a": "本机关依法公开政府信息，收到信息公开申请十二件。",
    "b": "申请人要求公开其个人信息，已按时答复。",
    "c": "公开申请信息的处理情况：全年申请公开信息三件。",  # 申请公开 only here (and 公开申请 in c too)
    "d": "政府資訊公開工作年度報告，行政許可與處罰。",  # traditional: folds to 政府资讯公开 …
    "e": "平台编号ＡＢＣ１２３，网址 abc.gov.cn。政府 信息 公开",  # full width; spaces inside a phrase
    "f": "申请公，另见请公开；申请与公开。",  # every trigram of 申请公开 but never the phrase
}


def _report(i: int, sections: dict[str, str]) -> Report:
    agency = f"示例县第{i}局"
    return Report(
        agency=agency,
        year=2023,
        title=f"{agency}2023年政府信息公开工作年度报告",
        template="free",
        status="partial",
        sections=sections,
        text="\n".join(sections.values()),
    )


def _write_report(db, i: int, report: Report) -> int:
    return store.write_report(db, add_version(db, f"https://example-{i}.gov.cn/{i}.html", i), report)


def _write(db, i: int, sections: dict[str, str]) -> int:
    return _write_report(db, i, _report(i, sections))


def _sections(db, q: str) -> set[int]:
    register_functions(db.conn)
    return {r[0] for r in db.execute(*hits_query(plan(q))).fetchall()}


def _truth(texts: dict[int, str], q: str) -> set[int]:
    """Sections whose folded text (spaces dropped) holds every term: what any search must return."""
    return {
        sid
        for sid, text in texts.items()
        if all("".join(fold(t).split()) in "".join(fold(text).split()) for t in query_terms(q))
    }


@pytest.fixture
def small():
    db = memory_db()
    ids = {key: _write(db, i, {"overview": text}) for i, (key, text) in enumerate(TEXTS.items())}
    sections = dict(db.execute("SELECT report_id, id FROM sections").fetchall())
    return db, {k: sections[v] for k, v in ids.items()}


def test_trigram_text_keeps_han_adjacency_only() -> None:
    assert trigram_text(fold("政府 信息，公开ABC申请")) == "政府信息 公开 申请"
    assert trigram_needle("政府 信息") == "政府信息"
    assert trigram_needle("資訊公開") == "资讯公开"
    assert trigram_needle("许可") is None  # 1-2 characters: sections_seg
    assert trigram_needle("ＡＢＣ") is None  # letters and digits stay tokens of sections_seg
    assert trigram_needle("2023年度") is None


def test_trigram_text_equals_the_character_rule() -> None:
    """The regular expressions of trigram_text against the rule spelled out one character at a time."""
    import random

    from pipelines.segment import _HAN

    def rule(folded: str) -> str:
        out: list[str] = []
        for ch in folded:
            if _HAN.match(ch):
                out.append(ch)
            elif not ch.isspace() and out and out[-1] != " ":
                out.append(" ")
        return "".join(out).strip()

    rng = random.Random(5)
    alphabet = list("政府信息公开〇\U00020000 ，。、；ab12\n\t\u3000ＡＢ-")
    for _ in range(3000):
        text = fold("".join(rng.choice(alphabet) for _ in range(rng.randint(0, 40))))
        assert trigram_text(text) == rule(text), repr(text)


def test_terms_are_routed_by_length() -> None:
    p = plan("许可 政府信息公开")
    assert p.seg is not None and "许" in p.seg and "政" not in p.seg
    assert p.tri == '"政府信" AND "息公开"'  # every third trigram covers each character
    assert p.confirm == "政府信息公开"
    three = plan("公开申")
    assert three.seg is None and three.tri == '"公开申"' and three.confirm is None  # one trigram: exact


def test_rare_phrase_of_frequent_characters_and_absent_phrase(small) -> None:
    db, s = small
    assert _sections(db, "申请公开") == {s["c"]}
    assert _sections(db, "信息公开申请") == {s["a"]}
    assert _sections(db, "请申开公") == set()  # absent: 0 results
    # f holds every trigram the query is looked up by, never the phrase: the text check drops it.
    assert s["f"] not in _sections(db, "申请公开")
    assert has_terms(TEXTS["f"], "申请公开") == 0


def test_folding_through_the_trigram_index(small) -> None:
    db, s = small
    assert plan("政府资讯公开").seg is None  # answered by sections_tri alone
    assert _sections(db, "政府资讯公开") == {s["d"]}  # simplified query, traditional text
    assert _sections(db, "政府資訊公開") == {s["d"]}
    assert _sections(db, "许可与处罚") == {s["d"]}
    assert _sections(db, "政府信息公开") == {s["e"]}  # layout spaces inside the phrase
    assert _sections(db, "abc") == {s["e"]} == _sections(db, "ＡＢＣ")  # via sections_seg, folded


def test_each_query_matches_a_substring_scan(small) -> None:
    db, _ = small
    texts = dict(db.execute("SELECT id, text FROM sections").fetchall())
    for q in (
        "公",
        "申请",
        "公开申请",
        "申请公开",
        "信息 公开申",
        "公开 资讯公开",
        '"申请 公开"',
        "请申开公",
    ):
        assert _sections(db, q) == _truth(texts, q), q


def test_index_follows_edit_and_delete(small) -> None:
    db, s = small
    db.execute("UPDATE sections SET text = '行政复议决定书' WHERE id = ?", [s["c"]])
    rid = db.execute("SELECT report_id FROM sections WHERE id = ?", [s["c"]]).fetchone()[0]
    index_report(db, rid)
    assert _sections(db, "申请公开") == set()
    assert _sections(db, "复议决定") == {s["c"]}
    db.execute("DELETE FROM sections WHERE id = ?", [s["a"]])
    flush_pending(db)
    assert _sections(db, "信息公开申请") == set()
    assert db.execute("SELECT count(*) FROM sections_tri_docsize").fetchone()[0] == len(TEXTS) - 1
    db.execute("INSERT INTO sections_tri (sections_tri) VALUES ('integrity-check')")
    # The old text's trigrams are really gone (contentless: un-indexed with 'delete').
    assert (
        db.execute("SELECT count(*) FROM sections_tri WHERE sections_tri MATCH '\"申请十\"'").fetchone()[0]
        == 0
    )


def test_published_copy_searches_every_length(tmp_path: Path) -> None:
    db = open_db(tmp_path / "live.db")
    for i, text in enumerate(TEXTS.values()):
        _write(db, i, {"overview": text})
    db.close()
    lean = lean_copy(tmp_path / "live.db", tmp_path / "pub.db", tmp_path / "originals")
    conn = sqlite3.connect(lean.path)
    try:
        names = {r[0] for r in conn.execute("SELECT name FROM sqlite_master")}
        assert "sections_tri" in names and "sections_fts" not in names
        found = {
            q: {r["agency"] for r in search_reports(conn, SearchQuery(q=q)).reports}
            for q in ("罚", "处罚", "申请公开", "政府资讯公开", "请申开公")
        }
    finally:
        conn.close()
    assert found == {
        "罚": {"示例县第3局"},
        "处罚": {"示例县第3局"},
        "申请公开": {"示例县第2局"},
        "政府资讯公开": {"示例县第3局"},
        "请申开公": set(),
    }


@pytest.fixture(scope="module")
def box(tmp_path_factory: pytest.TempPathFactory):
    path = tmp_path_factory.mktemp("box") / "box.db"
    db = open_db(path)
    texts = list(TEXTS.values())
    for i in range(30):  # enough rows for several pages of 4
        _write(db, i, {"overview": texts[i % len(texts)], "other": f"第{i}号：{texts[(i + 1) % len(texts)]}"})
    all_texts = dict(db.execute("SELECT id, text FROM sections").fetchall())
    db.close()
    client = DatasetteClient(path)
    yield client, all_texts
    client.close()


@pytest.mark.parametrize(
    "q", ["公", "罚", "申请", "处罚", "申请公开", "政府资讯公开", "信息 公开申", "请申开公", "abc"]
)
def test_sections_search_box_equals_substring_scan(box, q: str) -> None:
    client, texts = box
    truth = _truth(texts, q)
    quoted = urllib.parse.quote(q)
    rows = client.get_json(f"/box/sections.json?_search={quoted}&_shape=objects&_size=max")["rows"]
    assert {r["id"] for r in rows} == truth
    # Paged 4 at a time through `next`: every section once, in table order.
    seen: list[int] = []
    url: str | None = f"/box/sections.json?_search={quoted}&_shape=objects&_size=4"
    while url:
        data = client.get_json(url)
        seen += [r["id"] for r in data["rows"]]
        url = (
            data["next_url"]
            and urllib.parse.urlsplit(data["next_url"]).path
            + "?"
            + urllib.parse.urlsplit(data["next_url"]).query
        )
    assert seen == sorted(truth)
    # With a filter (the whole hit set is used, not one page of it) and with the exact count.
    filtered = client.get_json(f"/box/sections.json?_search={quoted}&section=other&_shape=objects&_size=max")
    assert {r["id"] for r in filtered["rows"]} == {
        sid for sid in truth if sid in {r["id"] for r in rows if r["section"] == "other"}
    }
    counted = client.get_json(f"/box/sections.json?_search={quoted}&_count=1")
    assert counted["filtered_table_rows_count"] == len(truth)


def test_sections_search_box_page_keeps_the_query(box) -> None:
    client, texts = box
    page = client.get("/box/sections?_search=" + urllib.parse.quote("申请公开")).text
    n = len(_truth(texts, "申请公开"))
    assert 'value="申请公开"' in page and f"{n} 条匹配" in page
    # A new query typed into the box replaces the one carried in the page's links.
    again = client.get_json(
        "/box/sections.json?_nianbao_search="
        + urllib.parse.quote("申请公开")
        + "&_search="
        + urllib.parse.quote("罚")
    )
    assert len(again["rows"]) == len(_truth(texts, "罚"))


@pytest.mark.parametrize("rare_candidates", [0, 2000])
def test_filtered_search_finds_the_same_either_index(small, monkeypatch, rare_candidates: int) -> None:
    """A filter leaving few reports looks hits up run by run: through sections_tri (rare terms) or
    sections_seg (frequent ones); both give the same reports."""
    import archive.search_reports as sr

    db, _ = small
    monkeypatch.setattr(sr, "RARE_CANDIDATES", rare_candidates)
    found = {
        (q, agency): [
            r["agency"] for r in search_reports(db.conn, SearchQuery(q=q, filters={"agency": agency})).reports
        ]
        for q in ("申请公开", "政府资讯公开", "请申开公")
        for agency in ("示例县第2局", "示例县第3局")
    }
    assert found == {
        ("申请公开", "示例县第2局"): ["示例县第2局"],
        ("申请公开", "示例县第3局"): [],
        ("政府资讯公开", "示例县第2局"): [],
        ("政府资讯公开", "示例县第3局"): ["示例县第3局"],
        ("请申开公", "示例县第2局"): [],
        ("请申开公", "示例县第3局"): [],
    }


def test_next_page_links_of_a_search_are_not_for_crawlers(box) -> None:
    from protego import Protego

    client, _ = box
    robots = Protego.parse(client.get("/robots.txt").text)
    for path in ("/box/sections?_nianbao_search=x&_next=4", "/box/sections?_size=4&_nianbao_search=x"):
        assert not robots.can_fetch("http://localhost" + path, "*"), path
    assert robots.can_fetch("http://localhost/box/sections", "*")


def test_reader_streams_carry_the_trigram_text() -> None:
    """A reader worker prepares what sections_tri indexes from the same fold as the other streams."""
    text = TEXTS["d"] + " " + TEXTS["e"]
    prepared = report_streams({"overview": text}, "標題", "示例县")
    assert prepared["overview"] == (*streams(text), trigram_text(fold(text)))
    assert prepared[REPORT_KEY][:2] == streams("標題 示例县")


def test_the_writer_indexes_the_prepared_trigram_text() -> None:
    """store.write_report takes sections_tri's text from the report's prepared streams, not by folding
    again; a report without them (ingest, migration) is folded on the writer."""
    db = memory_db()
    prepared = report_streams({"overview": TEXTS["a"]}, None, None)
    words, chars, _ = prepared["overview"]
    report = _report(1, {"overview": TEXTS["a"]})
    report.search_streams = {**prepared, "overview": (words, chars, "甲乙丙丁")}  # not in the text
    prepared_rid, plain_rid = _write_report(db, 1, report), _write(db, 2, {"overview": TEXTS["a"]})
    section = "SELECT id FROM sections WHERE report_id = ?"
    (sid,), (plain_sid,) = (db.execute(section, [rid]).fetchone() for rid in (prepared_rid, plain_rid))

    def tri(q: str) -> set[int]:
        return {r[0] for r in db.execute("SELECT rowid FROM sections_tri WHERE sections_tri MATCH ?", [q])}

    assert tri('"甲乙丙"') == {sid}
    assert tri('"收到信"') == {plain_sid}
