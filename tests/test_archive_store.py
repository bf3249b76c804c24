"""The archive's write path: documents, versions, reports, changes — and one transaction per document."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import Any

import pytest

from archive import store
from archive.db import memory_db, open_db
from archive.ingest import ingest_paths
from archive.reparse import reparse_version
from archive.store import FetchMeta
from pipelines.read import ReadHints, read_report
from pipelines.report import Report

FIXTURES = Path(__file__).parent / "fixtures" / "archive"


def put(
    db: Any, url: str, body: bytes, attachments: list[str] | None = None, **meta: Any
) -> store.StoreResult:
    """Archive `body` at `url` through the real write path, read by the real reader."""
    fetch = FetchMeta(url=url, **meta)
    hints = ReadHints(url=url, attachments=attachments or [])
    return store.store(
        db, body, fetch, read=lambda: read_report(body, fetch.filename, fetch.content_type, hints)
    )


def counts(db) -> dict[str, int]:
    return {
        t: db.execute(f"SELECT count(*) FROM {t}").fetchone()[0]
        for t in ("documents", "versions", "blobs", "reports", "sections", "figures", "checks", "changes")
    }


def test_schema_has_every_table_and_view_of_the_design() -> None:
    db = memory_db()
    tables = set(db.table_names())
    for name in (
        "portals",
        "crawls",
        "documents",
        "versions",
        "blobs",
        "reports",
        "sections",
        "figures",
        "checks",
        "changes",
        "sections_fts",
    ):
        assert name in tables, name
    views = set(db.view_names())
    for name in (
        "failed_checks",
        "applications_wide",
        "active_wide",
        "review_litigation_wide",
        "reports_latest",
    ):
        assert name in views, name


def test_migrations_are_recorded_and_rerunnable(tmp_path: Path) -> None:
    path = tmp_path / "a.db"
    open_db(path).close()
    db = open_db(path)  # second open applies nothing new and does not fail
    applied = [r[0] for r in db.execute("SELECT name FROM _sqlite_migrations ORDER BY rowid")]
    assert applied[:3] == ["m001_core_tables", "m002_sections_fts", "m003_views"]
    assert len(applied) == len(set(applied))


def test_per_crawl_counts_read_an_index_not_every_version() -> None:
    """A crawl's counts (health at close; queue mode's writer after every report) must not scan `versions`."""
    from archive.health import crawl_reports_by_status

    db = memory_db()
    ran: list[str] = []
    db.conn.set_trace_callback(ran.append)  # the statements as run, parameters filled in
    crawl_reports_by_status(db, 1)
    db.conn.set_trace_callback(None)
    assert ran
    for sql in ran:
        plan = " | ".join(row[3] for row in db.execute("EXPLAIN QUERY PLAN " + sql).fetchall())
        assert "idx_versions_crawl" in plan and "SCAN v" not in plan, plan


def test_crawl_health_counts_each_error_once() -> None:
    """A fetch that failed after retries is one error, not its retries plus Scrapy's log lines; a list not
    read completely is evidence, not an error (the error ratio once exceeded 1 on such counts)."""
    from archive.crawls import record_error
    from archive.health import crawl_health

    db = memory_db()
    db.table("portals").insert({"id": "p", "name": "示例县", "agency": "示例县人民政府"})
    stats = {"downloader/request_count": 10, "downloader/exception_count": 3, "log_count/ERROR": 4}
    crawl_id = (
        db.table("crawls")
        .insert(
            {
                "portal_id": "p",
                "started_at": "2026-01-01T00:00:00Z",
                "status": "partial",
                "stats": json.dumps(stats),
            }
        )
        .last_pk
    )
    record_error(db, crawl_id, "https://x.gov.cn/a.pdf", stage="fetch", reason="TimeoutError after 3 tries")
    record_error(db, crawl_id, "https://x.gov.cn/list.html", stage="list", reason="list not read completely")
    health = crawl_health(db, crawl_id)
    assert health["errors"] == 1
    assert {c["check"]: c["detail"] for c in json.loads(health["health"])}["error_ratio"] == "1/10 = 0.10"


def test_same_bytes_twice_adds_nothing_and_changed_bytes_add_a_version() -> None:
    db = memory_db()
    v1 = (FIXTURES / "report_v1.txt").read_bytes()
    v2 = (FIXTURES / "report_v2.txt").read_bytes()
    first = put(db, url="file:///r.txt", body=v1, filename="r.txt")
    assert first.new_version and first.status == "complete"
    again = put(db, url="file:///r.txt", body=v1, filename="r.txt")
    assert not again.new_version and again.version_id == first.version_id
    before = counts(db)
    assert before["documents"] == 1 and before["versions"] == 1 and before["reports"] == 1
    changed = put(db, url="file:///r.txt", body=v2, filename="r.txt")
    assert changed.new_version and changed.change_id is not None
    after = counts(db)
    assert (
        after["documents"] == 1 and after["versions"] == 2 and after["reports"] == 2 and after["changes"] == 1
    )
    latest = db.execute("SELECT version_id FROM reports WHERE is_latest = 1").fetchall()
    assert latest == [(changed.version_id,)]
    change = db.execute("SELECT changed_figures, text_diff, summary FROM changes").fetchone()
    figs = {(f["table"], f["row"], f["column"]): (f["old"], f["new"]) for f in json.loads(change[0])}
    # v2 corrects new_received from 12 to 13 for natural persons and the total
    assert figs[("applications", "new_received", "natural_person")] == (12, 13)
    assert figs[("applications", "new_received", "total")] == (12, 13)
    assert "+" in change[1] and "figures changed" in change[2]


def test_reverting_to_earlier_bytes_is_a_change_back_to_the_old_version() -> None:
    db = memory_db()
    v1 = (FIXTURES / "report_v1.txt").read_bytes()
    v2 = (FIXTURES / "report_v2.txt").read_bytes()
    first, second, reverted = (
        put(db, url="file:///r.txt", body=body, filename="r.txt") for body in (v1, v2, v1)
    )
    assert not reverted.new_version and reverted.version_id == first.version_id
    assert counts(db)["versions"] == 2 and counts(db)["blobs"] == 2  # versions are distinct contents
    changes = db.execute("SELECT old_version_id, new_version_id FROM changes ORDER BY id").fetchall()
    assert changes == [(first.version_id, second.version_id), (second.version_id, first.version_id)]
    latest = db.execute("SELECT version_id FROM reports WHERE is_latest = 1").fetchall()
    assert latest == [(first.version_id,)]
    assert db.execute("SELECT current_version_id FROM documents").fetchone()[0] == first.version_id


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (b"", "empty file"),
        (bytes(range(256)) * 8, "unsupported format: unrecognised bytes"),
    ],
    ids=["empty", "binary-junk"],
)
def test_unreadable_input_is_archived_with_the_reason(body: bytes, expected: str) -> None:
    db = memory_db()
    result = put(db, url="file:///bad.bin", body=body, filename="bad.bin")
    assert result.status == "failed"
    assert any(expected in p for p in result.problems), result.problems
    row = db.execute("SELECT status, problems FROM reports").fetchone()
    assert row[0] == "failed" and expected in row[1]
    assert db.execute("SELECT size FROM blobs").fetchone()[0] == len(body)


def test_a_failure_while_writing_leaves_no_half_written_document() -> None:
    db = memory_db()
    body = (FIXTURES / "report_v1.txt").read_bytes()
    # A report that violates the schema's CHECK constraint makes the write fail half-way.
    bogus = Report(template="bogus", status="complete")  # type: ignore[arg-type]
    with pytest.raises(sqlite3.IntegrityError):
        store.store(db, body, FetchMeta(url="file:///r.txt", filename="r.txt"), read=lambda: bogus)
    assert all(n == 0 for n in counts(db).values()), counts(db)


def test_reparse_replaces_the_report_in_place_and_keeps_history() -> None:
    db = memory_db()
    v1 = (FIXTURES / "report_v1.txt").read_bytes()
    v2 = (FIXTURES / "report_v2.txt").read_bytes()
    put(db, url="file:///r.txt", body=v1, filename="r.txt")
    second = put(db, url="file:///r.txt", body=v2, filename="r.txt")
    ids_before = [r[0] for r in db.execute("SELECT id FROM reports ORDER BY id")]
    db.execute("UPDATE reports SET agency = 'stale' WHERE version_id = ?", [second.version_id])
    report = reparse_version(db, second.version_id)
    ids_after = [r[0] for r in db.execute("SELECT id FROM reports ORDER BY id")]
    assert ids_before == ids_after
    assert (
        db.execute("SELECT agency FROM reports WHERE version_id = ?", [second.version_id]).fetchone()[0]
        == report.agency
    )
    assert counts(db)["changes"] == 1 and counts(db)["versions"] == 2


def test_ingest_folder_records_each_failure_by_name(tmp_path: Path) -> None:
    (tmp_path / "good.txt").write_bytes((FIXTURES / "report_v1.txt").read_bytes())
    (tmp_path / "empty.txt").write_bytes(b"")
    (tmp_path / ".hidden.txt").write_bytes(b"ignored")
    db = memory_db()
    summary = ingest_paths(db, [tmp_path])
    assert summary.files == 2
    assert [Path(p).name for p, _ in summary.failed] == ["empty.txt"]
    assert counts(db)["documents"] == 2


def test_timeliness_is_filled_from_year_and_publication_date() -> None:
    db = memory_db()
    body = (FIXTURES / "report_v1.txt").read_bytes()
    put(db, url="https://example.gov.cn/r.html", body=body, kind="report", published_date="2025-02-03")
    deadline, late = db.execute("SELECT deadline, days_late FROM reports").fetchone()
    assert deadline == "2025-01-31"  # a department's report for 2024
    assert late == 3


def test_wrapper_page_points_to_its_attachment() -> None:
    db = memory_db()
    page = (
        '<html><head><meta charset="utf-8"><title>示例市某某局2024年政府信息公开工作年度报告</title></head>'
        "<body><h1>示例市某某局2024年政府信息公开工作年度报告</h1><p>详见附件。</p>"
        '<a href="/files/report.pdf">附件：年度报告.pdf</a></body></html>'
    ).encode()
    result = put(
        db,
        url="https://example.gov.cn/r.html",
        body=page,
        kind="report",
        content_type="text/html; charset=utf-8",
        attachments=["https://example.gov.cn/files/report.pdf"],
    )
    assert result.status == "failed"
    assert any("https://example.gov.cn/files/report.pdf" in p for p in result.problems), result.problems


def test_publication_date_sources_in_order_page_document_url() -> None:
    from archive.timeliness import report_dates

    url = "https://www.example.gov.cn/zfxxgk/202502/t20250203_1.html"
    page = report_dates("2025-01-20", "2025-01-25", url, 2024, "示例市某某局", None)
    assert (page["published_date"], page["published_date_source"], page["days_late"]) == (
        "2025-01-20",
        "page",
        -11,
    )
    doc = report_dates(None, "2025-01-25", url, 2024, "示例市某某局", None)
    assert (doc["published_date"], doc["published_date_source"]) == ("2025-01-25", "document")
    from_url = report_dates(None, None, url, 2024, "示例市人民政府", None)
    assert (from_url["published_date"], from_url["published_date_source"]) == ("2025-02-03", "url")
    assert (from_url["deadline"], from_url["days_late"]) == ("2025-03-31", -56)  # a government's own report
    assert report_dates(None, None, None, 2024, None, None)["days_late"] is None
