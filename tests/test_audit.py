"""The auditor across reports (archive/audit.py): cross-year checks across two ingested reports, copied
sections, re-evaluation when either year's report changes, and the scorecard — on real SQLite files written
through the real write path (archive/store.py)."""

from __future__ import annotations

import json
from pathlib import Path

import sqlite_utils

from archive import store
from archive.audit import agency_key, deadline_rule
from archive.db import open_db
from pipelines.checks import evaluate
from pipelines.report import Figure, Report

AGENCY = "示例县某某局"
PROBLEMS = (
    "一是政策解读形式较为单一，图解、视频等解读方式运用不足；二是依申请公开办理人员业务能力有待提高，"
    "答复文书的规范性还需加强。下一步，我局将丰富政策解读形式，加强业务培训，规范答复流程。"
)


def make(
    year: int, carried_over: int, carried_forward: int, in_force: int, problems: str, agency: str = AGENCY
) -> Report:
    cells = {
        ("applications", "new_received", "total"): 10,
        ("applications", "carried_over", "total"): carried_over,
        ("applications", "granted", "total"): 10 + carried_over - carried_forward,
        ("applications", "total_handled", "total"): 10 + carried_over - carried_forward,
        ("applications", "carried_forward", "total"): carried_forward,
        ("active", "normative_documents", "issued"): 3,
        ("active", "normative_documents", "repealed"): 1,
        ("active", "normative_documents", "in_force"): in_force,
        ("review_litigation", "review", "total"): 0,
    }
    rep = Report(
        agency=agency,
        year=year,
        title=f"{agency}{year}年政府信息公开工作年度报告",
        template="2021",
        status="complete",
        sections={
            "overview": f"{year}年，{agency}认真贯彻《条例》，收到政府信息公开申请10件。",
            "active": "表二",
            "applications": "表三",
            "review_litigation": "表四",
            "problems": problems,
            "other": "本年度未收取信息处理费。",
        },
        figures=[Figure(t, r, c, v, raw=str(v)) for (t, r, c), v in cells.items()],
    )
    rep.checks, _ = evaluate(rep)
    return rep


def ingest(db: sqlite_utils.Database, url: str, rep: Report, published: str | None = None) -> int:
    body = json.dumps(rep.to_json(), ensure_ascii=False).encode()
    meta = store.FetchMeta(url=url, kind="report", published_date=published)
    result = store.store(db, body, meta, read=lambda: rep)
    assert result.report_id is not None
    return result.report_id


def checks_of(db: sqlite_utils.Database, report_id: int, prefix: str) -> list[dict]:
    return [
        dict(zip(("rule", "row", "column", "ok", "detail", "severity", "cells", "compared"), r, strict=True))
        for r in db.execute(
            'SELECT rule, "row", "column", ok, detail, severity, cells, compared_report_id FROM checks'
            ' WHERE report_id = ? AND rule LIKE ? ORDER BY rule, "column"',
            [report_id, prefix + "%"],
        )
    ]


def test_cross_year_carry_over_and_in_force_pass(tmp_path: Path) -> None:
    db = open_db(tmp_path / "a.db")
    r23 = ingest(db, "https://x.gov.cn/2023.html", make(2023, 0, 2, 20, PROBLEMS))
    r24 = ingest(db, "https://x.gov.cn/2024.html", make(2024, 2, 0, 22, "整改：" + PROBLEMS[::-1]))
    [carry] = checks_of(db, r24, "cross_year.carried_over")
    assert carry["ok"] == 1 and carry["severity"] == "soft" and carry["compared"] == r23
    assert carry["detail"] == f"2024 上年结转 2 = 2023 结转下年度 2（报告 #{r23}）"
    assert json.loads(carry["cells"]) == [
        "applications.carried_over.total",
        f"#{r23}:applications.carried_forward.total",
    ]
    [law] = checks_of(db, r24, "cross_year.in_force")
    assert law["ok"] == 1 and law["row"] == "normative_documents"
    # Attached to the later report only.
    assert checks_of(db, r23, "cross_year.") == []


def test_breaks_are_attached_to_the_later_report_and_reevaluated_when_either_year_changes(
    tmp_path: Path,
) -> None:
    db = open_db(tmp_path / "a.db")
    r23 = ingest(db, "https://x.gov.cn/2023.html", make(2023, 0, 2, 20, PROBLEMS))
    r24 = ingest(db, "https://x.gov.cn/2024.html", make(2024, 5, 0, 30, PROBLEMS))
    carry = checks_of(db, r24, "cross_year.carried_over")
    assert [c["ok"] for c in carry] == [0] and "2024 上年结转 5 ≠ 2023 结转下年度 2" in carry[0]["detail"]
    [law] = checks_of(db, r24, "cross_year.in_force")
    assert law["ok"] == 0 and "现行有效 30 ≠ 2023 现行有效 20 + 本年制发 3 − 本年废止 1 = 22" in law["detail"]
    [copied] = checks_of(db, r24, "copied.problems")
    assert copied["ok"] == 0 and "相似度 1.00" in copied["detail"]
    failed = db.execute("SELECT failed_checks FROM reports WHERE id = ?", [r24]).fetchone()[0]
    assert failed == 3
    # The 2023 report is corrected on its portal (a new version): the 2024 report's check is re-evaluated.
    fixed = ingest(db, "https://x.gov.cn/2023.html", make(2023, 0, 5, 27, PROBLEMS))
    assert fixed != r23
    [carry] = checks_of(db, r24, "cross_year.carried_over")
    assert carry["ok"] == 1 and carry["compared"] == fixed
    assert [c["ok"] for c in checks_of(db, r24, "cross_year.in_force")] == [0]
    # Now the 2024 report changes and matches: nothing is left failing but the copied section.
    r24b = ingest(db, "https://x.gov.cn/2024.html", make(2024, 5, 0, 29, "本年度已完成上年问题整改。" * 6))
    rows = db.execute(
        "SELECT rule, ok FROM checks WHERE report_id = ? AND (rule LIKE 'cross%' OR rule LIKE 'copied%')",
        [r24b],
    ).fetchall()
    assert sorted(rows) == [
        ("copied.other", 1),
        ("copied.overview", 1),
        ("copied.problems", 1),
        ("cross_year.carried_over", 1),
        ("cross_year.in_force", 1),
    ]
    # The superseded 2024 version keeps no stale cross-year rows.
    assert checks_of(db, r24, "cross_year.") == []


def test_other_agencies_and_gaps_are_not_compared(tmp_path: Path) -> None:
    db = open_db(tmp_path / "a.db")
    ingest(db, "https://x.gov.cn/a2023.html", make(2023, 0, 2, 20, PROBLEMS, agency="示例县另一局"))
    r22 = ingest(db, "https://x.gov.cn/2022.html", make(2022, 0, 2, 20, PROBLEMS))
    r24 = ingest(db, "https://x.gov.cn/2024.html", make(2024, 5, 0, 30, PROBLEMS))
    assert checks_of(db, r24, "cross_year.") == [] and checks_of(db, r24, "copied.") == []
    assert agency_key(db, r22) == AGENCY


def test_scorecard_columns(tmp_path: Path) -> None:
    db = open_db(tmp_path / "a.db")
    r23 = ingest(db, "https://x.gov.cn/2023.html", make(2023, 0, 2, 20, PROBLEMS), published="2024-01-20")
    r24 = ingest(db, "https://x.gov.cn/2024.html", make(2024, 5, 0, 30, PROBLEMS), published="2025-03-02")
    good = db["scorecards"].get(r23)
    assert good["on_time"] == 1 and good["sections_present"] == 6 and good["tables_present"] == 3
    assert good["hard_failed"] == 0 and good["score"] == 100
    assert good["deadline_rule"] == "部门：次年1月31日（第四十九条）"
    bad = db["scorecards"].get(r24)
    assert bad["on_time"] == 0 and bad["days_late"] == 30
    assert bad["cross_year_failed"] == 2 and bad["copied_sections"] == 1 and bad["copied_which"] == "problems"
    assert bad["score"] == 100 - 20 - 10 - 10
    latest = db.execute("SELECT report_id, timeliness FROM scorecards_latest ORDER BY year").fetchall()
    assert latest == [(r23, "on_time"), (r24, "late")]


def test_deadline_rules() -> None:
    assert deadline_rule(2017, "示例县某某局", None).startswith("2019年以前")
    assert deadline_rule(2024, "示例县人民政府", None).startswith("县级以上人民政府本级报告")
    assert deadline_rule(2024, "示例县城关镇人民政府", None).startswith("乡镇、街道：次年1月31日")
    assert deadline_rule(2024, "示例县某某街道办事处", None).startswith("乡镇、街道")


def test_migration_backfills_an_archive_written_before_it(tmp_path: Path) -> None:
    from sqlite_utils.migrations import Migrations

    from archive import db as dbmod

    path = tmp_path / "old.db"
    old = Migrations("nianbao")
    for m in dbmod.migrations._migrations:  # the schema before m009_audit
        if m.name == "m009_audit":
            break
        old._migrations.append(m)
    legacy = sqlite_utils.Database(path)
    old.apply(legacy)
    doc = (
        legacy["documents"]
        .insert({"url": "u", "kind": "report", "first_seen": "t", "last_seen": "t"})
        .last_pk
    )
    legacy["blobs"].insert({"sha256": "s", "size": 1, "content": b"x"})
    ver = (
        legacy["versions"]
        .insert(
            {
                "document_id": doc,
                "sha256": "s",
                "fetched_at": "t",
                "size": 1,
                "first_seen": "t",
                "last_seen": "t",
            }
        )
        .last_pk
    )
    rid = (
        legacy["reports"]
        .insert(
            {
                "version_id": ver,
                "document_id": doc,
                "agency": AGENCY,
                "year": 2024,
                "template": "2021",
                "status": "complete",
                "is_latest": 1,
                "parsed_at": "t",
            }
        )
        .last_pk
    )
    legacy["checks"].insert(
        {"report_id": rid, "rule": "applications.balance", "column": "total", "ok": 0, "detail": "1 ≠ 2"}
    )
    legacy.conn.close()
    db = open_db(path)
    assert db.execute("SELECT severity FROM checks").fetchone()[0] == "hard"
    card = db["scorecards"].get(rid)
    assert card["hard_failed"] == 1 and card["on_time"] is None


def test_the_report_standing_for_a_year_does_not_depend_on_which_read_finished_last(tmp_path: Path) -> None:
    """A page and its attachment, both complete, for one agency and year: the archive must pick the same one
    (and hang the cross-year checks on it) whichever report was written first."""
    page = ("https://x.gov.cn/2024.html", make(2024, 2, 0, 22, PROBLEMS))
    attachment = ("https://x.gov.cn/2024.pdf", make(2024, 5, 0, 22, PROBLEMS))
    picked = []
    for name, order in (("a.db", (page, attachment)), ("b.db", (attachment, page))):
        db = open_db(tmp_path / name)
        ingest(db, "https://x.gov.cn/2023.html", make(2023, 0, 2, 20, PROBLEMS))
        for url, rep in order:
            ingest(db, url, rep)
        [latest] = db.execute(
            "SELECT source_url, applications_carried_over FROM reports_latest WHERE year = 2024"
        ).fetchall()
        failed = db.execute(
            "SELECT r.source_url FROM checks c JOIN reports r ON r.id = c.report_id"
            " WHERE c.rule = 'cross_year.carried_over' AND c.ok = 0"
        ).fetchall()
        picked.append((latest, failed))
    assert picked[0] == picked[1]
    assert picked[0][0] == ("https://x.gov.cn/2024.html", 2)  # same status and problems: the URL decides
