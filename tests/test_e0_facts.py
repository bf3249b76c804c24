"""Pre-2019 reports (PATTERNS A8, FORMAT.md §6): kept `complete` with template `free`, their old 统计表
(指标名称 / 计量单位 / 本年度 / 历年累计, as rows or flattened one cell per line) and the figures stated in
prose stored as e0_* facts with unit, period and source sentence; written to `e0_facts` with the report."""

from __future__ import annotations

from pathlib import Path

from archive import store
from archive.db import open_db
from archive.reparse import reparse_version
from archive.store import FetchMeta
from pipelines.facts import code_of
from pipelines.parse import parse_text
from pipelines.read import read_report
from pipelines.report import Report

TEXT = Path(__file__).resolve().parent / "fixtures" / "text"

# (code, value, unit, period) of the 统计表 in pre2019_stat_table*.txt, then the prose facts it leaves
TABLE = [
    ("e0_active_total", 356, "条", "year"),
    ("e0_active_total", 2841, "条", "cumulative"),
    ("e0_active_normative", 4, "条", "year"),
    ("e0_active_normative", 37, "条", "cumulative"),
    ("e0_active_by_channel_gazette", 12, "条", "year"),
    ("e0_active_by_channel_gazette", 96, "条", "cumulative"),
    ("e0_active_by_channel_website", 340, "条", "year"),
    ("e0_active_by_channel_website", 2701, "条", "cumulative"),
    ("e0_req_received", 8, "件", "year"),
    ("e0_req_received", 61, "件", "cumulative"),
    ("e0_req_by_channel_in_person", 0, "件", "year"),
    ("e0_req_by_channel_in_person", 9, "件", "cumulative"),
    ("e0_req_by_channel_online", 5, "件", "year"),
    ("e0_req_by_channel_online", 40, "件", "cumulative"),
    ("e0_req_closed", 8, "件", "year"),
    ("e0_req_closed", 61, "件", "cumulative"),
    # under a heading naming both 复议 and 诉讼 the result rows cannot be assigned: kept, not guessed
    ("e0_other", 0, "件", "year"),
    ("e0_other", 1, "件", "cumulative"),
    ("e0_other", 0, "件", "year"),
    ("e0_other", 0, "件", "cumulative"),
    ("e0_staff_bodies", 1, "个", "year"),
    ("e0_staff_bodies", 1, "个", "cumulative"),
    ("e0_budget_wan", 2.5, "万元", "year"),
    ("e0_budget_wan", 18.6, "万元", "cumulative"),
    ("e0_staff_reading_points", 2, "个", "year"),
    ("e0_staff_reading_points", 2, "个", "cumulative"),
]
PROSE_LEFT = [
    ("e0_resp_press_conferences", 2, "次", "year"),
    ("e0_req_by_channel_letter", 3, "件", "year"),
    ("e0_consult_on_site", 42, "人次", "year"),
    ("e0_consult_online", 120, "人次", "year"),
]


def facts(r: Report) -> list[tuple[object, ...]]:
    return [(f.code, f.value, f.unit, f.period) for f in r.facts]


def test_old_statistics_table_as_rows_and_flattened() -> None:
    for name, agency, year in (
        ("pre2019_stat_table.txt", "示例县档案局", 2015),
        ("pre2019_stat_table_flat.txt", "示例县气象局", 2014),
    ):
        r = parse_text((TEXT / name).read_text(encoding="utf-8"))
        assert (r.status, r.template, r.agency, r.year) == ("complete", "free", agency, year), r.problems
        assert r.figures == [] and r.checks == []  # the old table's 复议 rows are not the format's table
        assert facts(r) == TABLE + PROSE_LEFT
        assert r.problems == [
            "no standard tables found: sections and text kept (pre-2019 or non-standard report)"
        ]
    budget = next(f for f in r.facts if f.code == "e0_budget_wan")
    assert isinstance(budget.value, float) and budget.label == "(二)政府信息公开专项经费"
    r = parse_text((TEXT / "pre2019_stat_table.txt").read_text(encoding="utf-8"))
    row = next(f for f in r.facts if f.code == "e0_budget_wan")
    assert (row.sentence, row.source) == (
        "(二)政府信息公开专项经费\t万元\t2.5\t18.6",
        {"kind": "table", "line": 24},
    )
    said = next(f for f in r.facts if f.code == "e0_consult_online")
    assert said.sentence.startswith("现场咨询42人次,网上咨询120人次") and said.source == {
        "kind": "prose",
        "line": 3,
    }


def test_figures_stated_in_prose() -> None:
    r = parse_text((TEXT / "free_pre2019.txt").read_text(encoding="utf-8"))
    assert (r.status, r.template, r.year) == ("complete", "free", 2016)
    assert facts(r) == [
        ("e0_active_total", 1200, "条", "year"),
        ("e0_active_by_channel_website", 980, "条", "year"),
        ("e0_active_by_channel_weibo", 220, "条", "year"),
        ("e0_req_received", 12, "件", "year"),
        ("e0_reply_granted", 10, "件", "year"),
        ("e0_reply_denied", 2, "件", "year"),
    ]
    assert r.facts[3].sentence == "全年共受理政府信息公开申请12件,其中同意公开10件,不予公开2件。"
    assert r.to_json()["facts"][0] == {
        "code": "e0_active_total",
        "label": "全年主动公开政府信息",
        "value": 1200,
        "unit": "条",
        "period": "year",
        "sentence": "2016年,示例市某某局认真贯彻落实政府信息公开工作要求,全年主动公开政府信息1200条。",
        "source": {"kind": "prose", "line": 7},
    }


def test_codes_of_labels() -> None:
    assert code_of("通过网站提交申请数") == "e0_req_received"  # a 申请 clause is never an active channel
    assert code_of("网上咨询数") == "e0_consult_online"
    assert code_of("维持具体行政行为数", "e0_review") == "e0_review_upheld"
    assert code_of("被依法纠错数", "e0_lit") == "e0_lit_corrected"
    assert code_of("同意部分公开答复数") == "e0_reply_partly_granted"
    assert code_of("不同意公开答复数") == "e0_reply_denied"
    assert code_of("接受培训人员数") == "e0_training_trainees"
    assert code_of("本年度") is None


def test_standard_reports_carry_no_e0_facts(seeds_dir: Path) -> None:
    for path in sorted(seeds_dir.glob("*.txt")):
        assert parse_text(path.read_text(encoding="utf-8")).facts == []


def test_facts_are_written_with_their_report_and_replaced_on_reparse(tmp_path: Path) -> None:
    db = open_db(tmp_path / "e0.db")
    body = (TEXT / "pre2019_stat_table.txt").read_bytes()
    url = "https://www.example.gov.cn/xxgk/2016/0320/1.html"
    result = store.store(db, body, FetchMeta(url=url), read=lambda: read_report(body, "r.txt"))
    rows = db.execute(
        "SELECT agency, year, code, value, unit, period FROM e0_facts_latest ORDER BY rowid"
    ).fetchall()
    assert [r[2:] for r in rows] == [(c, v, u, p) for c, v, u, p in TABLE + PROSE_LEFT]
    assert {r[:2] for r in rows} == {("示例县档案局", 2015)}
    reparse_version(db, result.version_id)
    assert db.execute("SELECT count(*) FROM e0_facts").fetchone()[0] == len(TABLE + PROSE_LEFT)
