"""`nianbao reparse`: stored originals of reports and attachments re-read, list pages left alone (and the
false `failed` reports earlier versions wrote for them removed), through the process pool or inline."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from click.testing import CliRunner

from archive.db import open_db
from archive.reparse import drop_non_report_rows, readable_versions, reparse_versions
from archive.store import FetchMeta, attach_report, store, write_version
from crawler.cli import main
from pipelines.read import read_report

FORMATS = Path(__file__).parent / "fixtures" / "formats"
LIST_PAGE = (
    '<html><head><meta charset="utf-8"><title>政府信息公开年报</title></head><body><ul>'
    '<li><a href="/a.html">示例县某某局2023年政府信息公开工作年度报告</a></li></ul></body></html>'
).encode()


def _archive(path: Path) -> dict[str, int]:
    """A report page, a PDF attachment and a list page; the list page carries a false `failed` report, as
    archives written before reading was limited to reports do."""
    db = open_db(path)
    ids = {}
    for name, kind in (("r2021_ok.html", "report"), ("r2019_ok.pdf", "attachment")):
        body = (FORMATS / name).read_bytes()
        meta = FetchMeta(url=f"http://127.0.0.1/{name}", kind=kind, filename=name)
        ids[name] = store(
            db, body, meta, read=lambda body=body, name=name: read_report(body, name)
        ).version_id
    listed = write_version(db, LIST_PAGE, FetchMeta(url="http://127.0.0.1/list.html", kind="list"))
    attach_report(db, listed, read_report(LIST_PAGE, "list.html"))
    ids["list"] = listed.version_id
    db.close()
    return ids


def _reports(path: Path) -> dict[int, tuple[str, int]]:
    conn = sqlite3.connect(path)
    rows = conn.execute(
        "SELECT version_id, status, (SELECT count(*) FROM figures f WHERE f.report_id = r.id) FROM reports r"
    ).fetchall()
    conn.close()
    return {v: (s, n) for v, s, n in rows}


def test_only_reports_and_attachments_are_reread_and_list_rows_are_dropped(tmp_path: Path) -> None:
    path = tmp_path / "a.db"
    ids = _archive(path)
    before = _reports(path)
    assert before[ids["list"]][0] == "failed"  # the false row this reparse must remove
    db = open_db(path)
    assert readable_versions(db) == sorted([ids["r2021_ok.html"], ids["r2019_ok.pdf"]])
    db.execute("UPDATE reports SET status = 'partial' WHERE version_id = ?", [ids["r2021_ok.html"]])
    db.execute(
        "DELETE FROM figures WHERE report_id = (SELECT id FROM reports WHERE version_id = ?)",
        [ids["r2019_ok.pdf"]],
    )
    db.conn.commit()
    assert drop_non_report_rows(db) == 1
    done: list[tuple[int, str]] = []
    reparse_versions(db, readable_versions(db), workers=2, on_done=lambda v, s: done.append((v, s)))
    db.close()
    after = _reports(path)
    assert ids["list"] not in after
    assert after[ids["r2021_ok.html"]] == before[ids["r2021_ok.html"]]  # status complete again
    assert after[ids["r2019_ok.pdf"]] == before[ids["r2019_ok.pdf"]]  # figures back
    assert sorted(done) == sorted((v, after[v][0]) for v in after)


@pytest.mark.parametrize("workers", ["0", "1"])
def test_reparse_command_reports_what_it_did(tmp_path: Path, workers: str) -> None:
    path = tmp_path / "a.db"
    _archive(path)
    result = CliRunner().invoke(main, ["reparse", "--db", str(path), "--workers", workers])
    assert result.exit_code == 0, result.output
    assert "reparsed 2 versions (complete 2); removed 1 reports of list pages" in result.output
    again = CliRunner().invoke(main, ["reparse", "--db", str(path), "--workers", workers])
    assert "reparsed 2 versions (complete 2)" in again.output and "removed" not in again.output
