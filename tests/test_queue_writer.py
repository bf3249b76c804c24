"""The queue writer's side without Redis: a capture or report the archive refuses is a record, never an
endless retry (after the queue-mode merge, one such capture kept `worker write --until-idle` waiting for ever);
a close waits for its captures, then gives up with the gap on record; reports cross the queue losslessly."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import archive.writer as writer_module
from archive.db import open_db
from archive.spool import Spool
from archive.writer import (
    CapturesMissing,
    apply_capture,
    apply_report,
    finish_run,
    report_from_message,
    report_to_message,
)
from crawler.queue.workers import decide_outcome
from pipelines.report import Check, Fact, Figure, Report

PORTAL = {
    "name": "qingshan",
    "agency": "青山县人民政府",
    "level": "县级",
    "start_urls": ["http://qingshan.localhost/zfxxgk/"],
    "allowed_domains": ["qingshan.localhost"],
}
LIST = "<html><body><a href='/nb/2024.html'>青山县人民政府2024年政府信息公开工作年度报告</a></body></html>"


def capture(seq: int, url: str, kind: str, event: str = "fetched", **extra: object) -> dict:
    return {
        "run_key": "run-1",
        "job_id": "job-1",
        "portal": PORTAL,
        "seq": seq,
        "event": event,
        "url": url,
        "kind": kind,
        "read": kind == "report",
        "http_status": 200,
        "content_type": "text/html; charset=utf-8",
        "read_name": url.rsplit("/", 1)[-1],
        "hints": {"url": url, "agency": PORTAL["agency"]},
        **extra,
    }


def facts(**over: object) -> dict:
    base = {"pages_ok": 1, "fetched": 2, "reports_found": 1, "finish_reason": "finished", "reasons": {}}
    return {**base, **over}


@pytest.fixture
def archive(tmp_path: Path):
    db = open_db(tmp_path / "archive.db")
    yield db, Spool(tmp_path / "spool")
    db.close()


def test_refused_capture_is_a_store_error_and_the_crawl_closes_partial(archive):
    db, spool = archive
    sha_list = spool.put(LIST.encode())
    assert (
        apply_capture(db, capture(0, "http://qingshan.localhost/zfxxgk/", "list", sha256=sha_list), spool)
        is None
    )
    # The report's body never reached this spool (another machine's, or pruned): recorded, counted as in.
    missing = "0" * 64
    report_cap = capture(1, "http://qingshan.localhost/nb/2024.html", "report", sha256=missing)
    assert apply_capture(db, report_cap, spool) is None
    # A failed fetch travels as an event and lands in crawl_errors as in a single-process crawl.
    err = capture(2, "http://qingshan.localhost/nb/2023.pdf", "report", event="error", stage="http")
    apply_capture(db, {**err, "http_status": 500, "evidence": "HTTP 500", "attempts": 3}, spool)
    errors = db.execute("SELECT stage, url, reason FROM crawl_errors ORDER BY id").fetchall()
    assert [e[0] for e in errors] == ["store", "http"]
    assert "SpoolMissing" in errors[0][2] and errors[0][1].endswith("2024.html")
    # A redelivered capture changes nothing.
    apply_capture(db, report_cap, spool)
    assert db.execute("SELECT count(*) FROM crawl_errors").fetchone()[0] == 2

    close = {
        "run_key": "run-1",
        "job_id": "job-1",
        "portal": PORTAL,
        "captures": 4,  # one capture never arrives
        "facts": facts(errors=1, reasons={"http: HTTP 500": 1}),
        "present": ["http://qingshan.localhost/zfxxgk/", "http://qingshan.localhost/nb/2024.html"],
        "pages": 2,
        "reports_found": 1,
        "stats": {"downloader/request_count": 3},
    }
    with pytest.raises(CapturesMissing, match="3 of 4"):
        finish_run(db, close, decide_outcome)
    crawl_id = finish_run(db, close, decide_outcome, give_up=True)
    status, reason, finished = db.execute(
        "SELECT status, reason, finished_at FROM crawls WHERE id = ?", [crawl_id]
    ).fetchone()
    assert status == "partial" and finished
    assert "2 archive write errors" in reason and "1 failed fetches" in reason
    queue_err = db.execute("SELECT reason FROM crawl_errors WHERE stage = 'queue'").fetchone()[0]
    assert queue_err == "1 of 4 capture messages never reached the writer"
    # store, http, queue: every crawl_errors row but evidence (the HTTP 500 was not counted before)
    assert db.execute("SELECT errors FROM crawls WHERE id = ?", [crawl_id]).fetchone()[0] == 3
    health = json.loads(db.execute("SELECT health FROM crawls WHERE id = ?", [crawl_id]).fetchone()[0])
    assert {h["check"] for h in health} >= {"not_blocked", "budget_left", "error_ratio"}


def test_a_failed_read_is_a_read_error_and_a_refused_report_a_store_error(archive):
    db, spool = archive
    body = b"<html><body><p>\xe6\x97\xa0\xe6\xb3\x95\xe8\xaf\xbb\xe5\x8f\x96</p></body></html>"
    cap = capture(0, "http://qingshan.localhost/nb/2024.html", "report", sha256=spool.put(body))
    request = apply_capture(db, cap, spool)
    assert request is not None
    failed = Report(status="failed", problems=["2024.html: no statistical table found"])
    msg = {"request": request.to_message(), "report": report_to_message(failed)}
    assert apply_report(db, msg) is not None
    assert db.execute("SELECT stage, reason FROM crawl_errors").fetchall() == [
        ("read", "2024.html: no statistical table found")
    ]
    assert apply_report(db, msg) is None  # a redelivery: the report is already there
    # A report the archive refuses (a figure without its table) becomes a store error, not a retried message.
    cap2 = capture(1, "http://qingshan.localhost/nb/2023.html", "report", sha256=spool.put(body + b" "))
    request2 = apply_capture(db, cap2, spool)
    assert request2 is not None
    bad = report_to_message(Report(status="complete", year=2023))
    bad["figures"] = [{"table": None, "row": "x", "column": "y", "value": 1}]
    assert apply_report(db, {"request": request2.to_message(), "report": bad}) is None
    stages = [r[0] for r in db.execute("SELECT stage FROM crawl_errors ORDER BY id").fetchall()]
    assert stages == ["read", "store"]
    assert db.execute("SELECT count(*) FROM reports").fetchone()[0] == 1


def test_report_crosses_the_queue_unchanged():
    report = Report(
        agency="青山县人民政府",
        year=2024,
        title="青山县人民政府2024年政府信息公开工作年度报告",
        template="2021",
        status="partial",
        sections={"overview": "一、总体情况"},
        figures=[Figure("applications", "new_received", "total", 12, "12", ["dash_as_zero"], {"page": 2})],
        checks=[Check("applications.sum", "total", False, "12 ≠ 11", "granted", "hard", ["a.b.c"])],
        problems=["第3页表格不完整"],
        facts=[Fact("e0_applications", "收到申请", 7, "件", "共收到申请7件。", "year", {"line": 4})],
        meta={"format": "pdf", "ocr": False},
        text="全文",
        search_streams={"body": ("青山 县", "qingshan", "青山县")},
    )
    back = report_from_message(json.loads(json.dumps(report_to_message(report))))
    assert back == report and back.search_streams == report.search_streams
    # An older worker's (words, chars) pairs: left for the writer to compute, never half used.
    old = report_to_message(report) | {"search_streams": {"body": ["青山 县", "qingshan"]}}
    assert report_from_message(old).search_streams == {}


def test_queued_reparse_reads_what_nianbao_reparse_reads_and_replaces_in_place(archive, tmp_path):
    from archive.reparse import hints_for
    from crawler.queue.reparse import reparse_requests
    from pipelines.read import ReadHints, read_report

    db, spool = archive
    own = capture(0, "http://qingshan.localhost/nb/2024.html", "report", sha256=spool.put(LIST.encode()))
    foreign = capture(
        1,
        "http://qingshan.localhost/nb/other.html",
        "report",
        sha256=spool.put(LIST.encode() + b"<p>\xe9\x9d\x92\xe5\xb2\xad\xe5\x8e\xbf</p>"),
        foreign_place="青岭县",
        read=False,
    )
    request = apply_capture(db, own, spool)
    assert request is not None and apply_capture(db, foreign, spool) is None
    first = read_report(LIST.encode(), "2024.html", None, ReadHints(**request.hints))
    report_id = apply_report(db, {"request": request.to_message(), "report": report_to_message(first)})
    db.conn.commit()

    other = Spool(tmp_path / "other-spool")  # another machine's spool: the bodies are copied there
    requests = reparse_requests(tmp_path / "archive.db", other, None, None, None)
    assert [r["version_id"] for r in requests] == [request.version_id]  # never another place's report
    (req,) = requests
    assert req["hints"] == hints_for(db, own["url"], "qingshan").to_dict() and other.has(req["sha256"])
    again = read_report(other.get(req["sha256"]), req["filename"], None, ReadHints(**req["hints"]))
    assert apply_report(db, {"request": req, "report": report_to_message(again)}) == report_id
    assert db.execute("SELECT count(*) FROM reports").fetchone()[0] == 1
    fmt = db.execute("SELECT format FROM versions WHERE id = ?", [request.version_id]).fetchone()[0]
    assert fmt == again.meta.get("format")
    assert reparse_requests(tmp_path / "archive.db", other, "pdf", None, None) == []


def test_a_busy_archive_is_retried_not_recorded(archive, tmp_path, monkeypatch):
    """'database is locked' is the moment, not the capture: the message is retried (raised), nothing recorded."""
    import sqlite3

    db, spool = archive
    cap = capture(0, "http://qingshan.localhost/zfxxgk/", "list", sha256=spool.put(LIST.encode()))
    apply_capture(
        db, capture(9, "http://qingshan.localhost/", "page", sha256=spool.put(b"<html></html>")), spool
    )
    other = sqlite3.connect(tmp_path / "archive.db")
    other.execute("BEGIN IMMEDIATE")  # another writer holds the file
    db.execute("PRAGMA busy_timeout = 0")
    recorded: list[str] = []
    monkeypatch.setattr(writer_module, "_record", lambda *a, **k: recorded.append(a[-1]))
    with pytest.raises(sqlite3.OperationalError, match="locked"):
        apply_capture(db, cap, spool)
    assert recorded == []  # raised for a retry, not taken for a refused capture
    monkeypatch.undo()
    other.rollback()
    other.close()
    assert db.execute("SELECT count(*) FROM crawl_errors").fetchone()[0] == 0
    apply_capture(db, cap, spool)  # the retry
    assert db.execute("SELECT count(*) FROM documents WHERE url = ?", [cap["url"]]).fetchone()[0] == 1
    assert db.execute("SELECT count(*) FROM queue_captures").fetchone()[0] == 2


def test_a_redelivered_capture_still_records_what_the_new_version_changed(archive):
    """The writer died after storing a new version and before its read was queued: the capture comes again,
    and the read it asks for still knows the version before it, so the `changes` row is written."""
    from pipelines.read import ReadHints, read_report

    db, spool = archive
    url = "http://qingshan.localhost/nb/2024.html"

    def body(n: int) -> bytes:
        return f"<html><body><p>青山县人民政府2024年政府信息公开工作年度报告 受理申请{n}件</p></body></html>".encode()

    def report_msg(data: bytes, request) -> dict:
        report = read_report(data, "2024.html", None, ReadHints(**request.hints))
        return {"request": request.to_message(), "report": report_to_message(report)}

    first = apply_capture(db, capture(0, url, "report", sha256=spool.put(body(1))), spool)
    assert first is not None
    apply_report(db, report_msg(body(1), first))
    second = capture(1, url, "report", sha256=spool.put(body(2)))
    assert apply_capture(db, second, spool) is not None
    again = apply_capture(db, second, spool)  # redelivered: already stored, never read
    assert again is not None and again.previous_version_id == first.version_id
    apply_report(db, report_msg(body(2), again))
    assert db.execute("SELECT old_version_id, new_version_id FROM changes").fetchall() == [
        (first.version_id, again.version_id)
    ]


def test_a_skipped_gone_pass_is_on_record_as_in_single_process_mode(archive):
    """A crawl whose lists were not all read completely marks nothing gone and says so: the `gone` row
    ArchiveStage writes at close (its start URL, kind page), written by the queue writer too."""
    db, spool = archive
    report_url = "http://qingshan.localhost/nb/2024.html"
    start = PORTAL["start_urls"][0]
    apply_capture(
        db, capture(0, report_url, "report", sha256=spool.put(LIST.encode()), run_key="run-0"), spool
    )
    first = {"run_key": "run-0", "job_id": "job-0", "portal": PORTAL, "captures": 1, "present": [report_url]}
    finish_run(db, {**first, "facts": facts()}, decide_outcome)
    apply_capture(db, capture(0, start, "list", sha256=spool.put(LIST.encode())), spool)
    incomplete = f"{start}: page 2 failed"
    close = {
        "run_key": "run-1",
        "job_id": "job-1",
        "portal": PORTAL,
        "captures": 1,
        "facts": facts(incomplete_lists=[incomplete]),
        "present": [start, report_url],
    }
    crawl_id = finish_run(db, close, decide_outcome)
    rows = db.execute(
        "SELECT stage, url, kind, reason FROM crawl_errors WHERE crawl_id = ? ORDER BY id", [crawl_id]
    ).fetchall()
    assert rows == [
        ("list", start, "list", "list not read completely: page 2 failed"),
        ("gone", start, "page", f"gone pass skipped: 1 lists not read completely ({incomplete})"),
    ]


def test_a_warc_problem_is_a_store_row_and_the_childs_failures_are_counted(archive):
    """A capture whose WARC record was not written is a `store` row (as ArchiveStage records it); a capture the
    child could not send at all never reaches the archive, so the close's count of them is added to the rows."""
    db, spool = archive
    problem = "WARC record not written: OSError: [Errno 28] No space left on device"
    cap = capture(0, PORTAL["start_urls"][0], "list", sha256=spool.put(LIST.encode()), warc_problem=problem)
    apply_capture(db, cap, spool)
    assert db.execute("SELECT stage, url, reason FROM crawl_errors").fetchall() == [
        ("store", cap["url"], problem)
    ]
    assert db.execute("SELECT count(*) FROM documents").fetchone()[0] == 1  # the bytes are archived anyway
    close = {
        "run_key": "run-1",
        "job_id": "job-1",
        "portal": PORTAL,
        "captures": 1,
        "facts": facts(store_errors=1),  # one capture the child could not send
        "present": [cap["url"]],
    }
    crawl_id = finish_run(db, close, decide_outcome)
    status, reason = db.execute("SELECT status, reason FROM crawls WHERE id = ?", [crawl_id]).fetchone()
    assert status == "partial" and "2 archive write errors" in reason
