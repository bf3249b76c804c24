"""archive/search.py: folding, token streams, query rewriting, index maintenance and recall."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from archive.db import memory_db
from archive.search import (
    escape_fts_cjk,
    flush_pending,
    index_report,
    match_expression,
    query_terms,
    rebuild_index,
    trigram_expression,
)
from archive.store import write_report
from pipelines.report import Report
from pipelines.segment import BREAK, chars_stream, fold, words_stream
from tests.helpers_search import add_version


def test_fold_width_traditional_and_case() -> None:
    assert fold("２０２３年ＧＢ") == "2023年gb"
    assert fold("政府資訊公開 許可 復議 處罰") == "政府资讯公开 许可 复议 处罚"
    assert fold("⼴州") == "广州"  # Kangxi radical (PDF extraction debris) → ordinary character


def test_chars_stream_breaks_on_punctuation_not_on_spaces() -> None:
    assert chars_stream("公开，申请") == f"公 开 {BREAK} 申 请"
    assert chars_stream("政府 信息") == "政 府 信 息"
    assert chars_stream("gb-2312编码，") == f"gb {BREAK} 2312 编 码"


def test_words_stream_uses_jieba_search_mode() -> None:
    tokens = words_stream("本机关行政复议案件").split()
    assert "复议" in tokens and "行政复议" in tokens


def _jieba_in_one_call(folded: str) -> str:
    """What words_stream gave before it cut block by block through its cache: one jieba call, filtered."""
    import jieba

    return " ".join(t for t in jieba.cut_for_search(folded) if t.strip() and any(ch.isalnum() for ch in t))


WORDS_SAMPLES = (
    "本机关2023年度收到政府信息公开申请15件，其中：当面申请3件、网络申请12件。",
    "政府 信息\r\n公开　ＡＢＣ abc 123.45% 〇㐀𠀀 c++ a#b  x&y_z 一、二。（三）",
    "依申请公开政府信息情况（单位：件）：本年新收政府信息公开申请数量 本年新收政府信息公开申请数量",
    "",
    "。，、",
)


def assert_words_as_one_call(texts: list[str]) -> None:
    for text in texts:
        folded = fold(text)
        assert words_stream(folded) == _jieba_in_one_call(folded), text
        assert words_stream(folded) == _jieba_in_one_call(folded), text  # again, from the cache


def test_words_stream_cached_by_block_gives_the_tokens_of_one_jieba_call() -> None:
    """jieba cuts each run of block characters on its own, so cutting block by block (cached) must give
    exactly the tokens of one call: odd characters, spaces and line breaks, a repeated sentence."""
    assert_words_as_one_call(list(WORDS_SAMPLES))


@pytest.mark.corpus
def test_words_stream_by_block_on_every_line_of_the_seeds(seeds_dir: Path) -> None:
    texts = [t for p in sorted(seeds_dir.glob("*.txt")) for t in p.read_text(encoding="utf-8").splitlines()]
    assert len(texts) > 100
    assert_words_as_one_call(texts)


def test_query_rewriting() -> None:
    assert match_expression("税") == '"税"'
    assert match_expression("许可") == '("许可" OR "许 可")'
    assert match_expression("政府信息公开") == '"政 府 信 息 公 开"'
    assert match_expression("許可 復議") == '("许可" OR "许 可") AND ("复议" OR "复 议")'
    assert match_expression('"信息 公开"') == '"信 息 公 开"'
    assert query_terms('a "b c" d') == ["a", "b c", "d"]
    # Non-Chinese queries are escaped exactly as Datasette does.
    assert escape_fts_cjk("WARC record") == '"WARC" "record"'
    assert trigram_expression("行政复议") == '"行政复议"'
    assert trigram_expression("复议") is None


def _report(sections: dict[str, str], agency: str = "某局", year: int = 2023) -> Report:
    return Report(
        agency=agency,
        year=year,
        title=f"{agency}{year}年报",
        template="free",
        status="partial",
        sections=sections,
        text="\n".join(sections.values()),
    )


def _hits(db, query: str) -> set[int]:
    return {
        r[0]
        for r in db.execute(
            "SELECT s.report_id FROM sections s WHERE s.id IN"
            " (SELECT rowid FROM sections_seg WHERE sections_seg MATCH ?)",
            [match_expression(query)],
        )
    }


def test_write_report_indexes_and_reparse_replaces_rows() -> None:
    db = memory_db()
    v1 = add_version(db, "https://a.gov.cn/1.html", 1)
    rid = write_report(db, v1, _report({"overview": "行政許可与處罰。", "other": "其他事项"}))
    assert _hits(db, "许可") == {rid}
    assert _hits(db, "处罚") == {rid}
    assert _hits(db, "罚") == {rid}
    assert _hits(db, "复议") == set()
    # Re-writing the same version (reparse) replaces the sections; the old index rows go with them.
    write_report(db, v1, _report({"overview": "行政复议。"}))
    assert _hits(db, "许可") == set()
    assert _hits(db, "复议") == {rid}
    assert db.execute("SELECT count(*) FROM sections_seg_docsize").fetchone()[0] == 1
    db.execute("INSERT INTO sections_seg (sections_seg) VALUES ('integrity-check')")
    # The old tokens are really gone from the index (contentless table: un-indexed with 'delete').
    assert (
        db.execute("SELECT count(*) FROM sections_seg WHERE sections_seg MATCH '\"许\"'").fetchone()[0] == 0
    )
    assert (
        db.execute(
            "SELECT count(*) FROM reports_seg WHERE reports_seg MATCH ?", [match_expression("某局")]
        ).fetchone()[0]
        == 1
    )


def test_phrase_does_not_cross_punctuation() -> None:
    db = memory_db()
    a = write_report(
        db, add_version(db, "https://a.gov.cn/a", 1), _report({"overview": "依法公开，申请人提交。"})
    )
    b = write_report(db, add_version(db, "https://a.gov.cn/b", 2), _report({"overview": "收到公开申请。"}))
    assert _hits(db, "公开申请") == {b}
    assert _hits(db, "公开") == {a, b}


def test_index_report_is_idempotent_and_rebuild_matches() -> None:
    db = memory_db()
    rid = write_report(db, add_version(db, "https://a.gov.cn/a", 1), _report({"overview": "许可"}))
    index_report(db, rid)
    index_report(db, rid)
    assert db.execute("SELECT count(*) FROM sections_seg_docsize").fetchone()[0] == 1
    assert (
        db.execute("SELECT count(*) FROM sections_seg WHERE sections_seg MATCH '\"许 可\"'").fetchone()[0]
        == 1
    )
    assert rebuild_index(db) == 1
    assert _hits(db, "许可") == {rid}
    db.execute("DELETE FROM sections")
    flush_pending(db)
    assert _hits(db, "许可") == set()
    db.execute("INSERT INTO sections_seg (sections_seg) VALUES ('integrity-check')")


QUERIES = [
    "税",
    "费",
    "诉",
    "网",
    "许可",
    "复议",
    "处罚",
    "公开",
    "申请",
    "诉讼",
    "依法",
    "答复",
    "行政复议",
    "政府信息公开",
    "不予公开",
    "予以公开",
    "年度报告",
    "信息公开申请",
    "主动公开",
    "政务公开",
    "行政诉讼",
    "信访",
    "本机关",
    "规范性文件",
    "公开 申请",
    "行政 许可",
]


def recall_on(texts: dict[int, str], db) -> tuple[int, int, list[str]]:
    """(found, expected, misses) over QUERIES: expected = sections whose folded text holds every term."""
    found = expected = 0
    misses = []
    for q in QUERIES:
        truth = {sid for sid, t in texts.items() if all(fold(term) in fold(t) for term in q.split())}
        got = {
            r[0]
            for r in db.execute(
                "SELECT rowid FROM sections_seg WHERE sections_seg MATCH ?", [match_expression(q)]
            )
        }
        expected += len(truth)
        found += len(truth & got)
        if truth - got or got - truth:
            misses.append(f"{q}: missed {sorted(truth - got)} extra {sorted(got - truth)}")
    return found, expected, misses


@pytest.mark.corpus
def test_recall_on_seed_reports_is_complete(tmp_path: Path, seeds_dir: Path) -> None:
    from archive.db import open_db
    from archive.ingest import ingest_paths

    db = open_db(tmp_path / "seeds.db")
    ingest_paths(db, [seeds_dir])
    texts = dict(db.execute("SELECT id, text FROM sections").fetchall())
    assert texts
    found, expected, misses = recall_on(texts, db)
    assert expected > 100
    assert found == expected, misses
    # Extra hits may only come from layout (a phrase across a line break), never from different text.
    assert not misses, misses


def test_trigram_table_is_kept_for_sql_users() -> None:
    db = memory_db()
    rid = write_report(db, add_version(db, "https://a.gov.cn/a", 1), _report({"overview": "行政复议决定"}))
    rows = db.execute(
        "SELECT s.report_id FROM sections_fts f JOIN sections s ON s.id = f.rowid WHERE sections_fts MATCH ?",
        [trigram_expression("行政复议")],
    ).fetchall()
    assert rows == [(rid,)]
    assert isinstance(db.conn, sqlite3.Connection)
