"""Queue mode's one writer: captures, reports and crawl closes from messages into the archive.

Exactly one process owns the SQLite file (`nianbao worker write`); crawl workers and read workers anywhere
send it small JSON messages. This module is the archive side only (no Redis, no Scrapy): every function
takes one decoded message, writes through `archive/store.py` and `archive/crawls.py`, and is idempotent —
a message redelivered after a kill -9 changes nothing the first delivery already wrote:

- `apply_capture`: one fetch (or 304 / gone / blocked event) of a crawl run; the body comes from the spool by
  sha256. Returns what a reader must read (a report or attachment version without a report), or None.
- `apply_report`: a Report read by a read worker, attached to its version (crawl) or replacing it (reparse).
- `finish_run`: a crawl run's close. Refuses (`CapturesMissing`) until every capture the run sent is in,
  so the gone pass never sees half a crawl; marks earlier runs of the same job (a killed worker's) interrupted.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

import sqlite_utils

from pipelines.report import Check, Figure, Report

from .crawls import close_crawl, mark_gone, mark_seen_unchanged, open_crawl, register_portal, unseen_documents
from .health import record_health
from .spool import Spool
from .store import FetchMeta, StoreResult, attach_report, now_iso, write_report, write_version

READ_KINDS = ("report", "attachment")


class CapturesMissing(RuntimeError):
    """A crawl close arrived before all of its captures: retried later by the queue."""


@dataclass
class ReadRequest:
    """What a read worker needs: the body's address and the hints; sent back with the report."""

    version_id: int
    document_id: int
    sha256: str
    filename: str | None
    content_type: str | None
    hints: dict[str, Any] = field(default_factory=dict)
    previous_version_id: int | None = None
    mode: str = "crawl"  # crawl: attach once; reparse: replace

    def to_message(self) -> dict[str, Any]:
        return dict(self.__dict__)


def report_to_message(report: Report) -> dict[str, Any]:
    """The Report's JSON plus what the JSON contract leaves out but the archive stores (text, search streams)."""
    return {
        **report.to_json(),
        "text": report.text,
        "search_streams": {k: list(v) for k, v in report.search_streams.items()},
    }


def report_from_message(data: dict[str, Any]) -> Report:
    return Report(
        agency=data.get("agency"),
        year=data.get("year"),
        title=data.get("title"),
        template=data.get("template") or "free",
        status=data.get("status") or "failed",
        sections=dict(data.get("sections") or {}),
        figures=[
            Figure(
                f["table"],
                f["row"],
                f["column"],
                f.get("value"),
                f.get("raw"),
                list(f.get("flags") or []),
                f.get("source"),
            )
            for f in data.get("figures") or []
        ],
        checks=[
            Check(c["rule"], c["column"], bool(c["ok"]), c.get("detail") or "", c.get("row"))
            for c in data.get("checks") or []
        ],
        problems=list(data.get("problems") or []),
        meta=dict(data.get("meta") or {}),
        text=data.get("text") or "",
        search_streams={k: (v[0], v[1]) for k, v in (data.get("search_streams") or {}).items()},
    )


def ensure_run(db: sqlite_utils.Database, msg: dict[str, Any]) -> int:
    """The `crawls` row of a crawl-job execution (`run_key`), opened on its first message."""
    row = db.execute("SELECT id FROM crawls WHERE run_key = ?", [msg["run_key"]]).fetchone()
    if row is not None:
        return int(row[0])
    portal = msg["portal"]
    register_portal(
        db,
        {
            "id": portal["name"],
            "name": portal.get("title") or portal["agency"],
            "agency": portal["agency"],
            "region": portal.get("region"),
            "level": portal.get("level"),
            "cms": portal.get("cms"),
            "start_urls": json.dumps(portal.get("start_urls", []), ensure_ascii=False),
            "allowed_domains": json.dumps(portal.get("allowed_domains", [])),
            "hints": json.dumps(portal.get("hints", {}), ensure_ascii=False),
        },
    )
    crawl_id = open_crawl(db, portal["name"])
    db.table("crawls").update(
        crawl_id,
        {
            "run_key": msg["run_key"],
            "job_id": msg.get("job_id"),
            "started_at": msg.get("started_at") or now_iso(),
        },
    )
    return crawl_id


def _meta(cap: dict[str, Any], crawl_id: int) -> FetchMeta:
    warc = cap.get("warc") or {}
    return FetchMeta(
        url=cap["url"],
        kind=cap["kind"],
        portal_id=cap["portal"]["name"],
        fetched_at=cap.get("fetched_at"),
        http_status=cap.get("http_status"),
        content_type=cap.get("content_type"),
        filename=cap.get("filename"),
        title=cap.get("title"),
        link_text=cap.get("link_text"),
        discovered_from=cap.get("discovered_from"),
        etag=cap.get("etag"),
        last_modified=cap.get("last_modified"),
        warc_file=warc.get("warc_file"),
        warc_offset=warc.get("warc_offset"),
        warc_record_id=warc.get("warc_record_id"),
        crawl_id=crawl_id,
    )


def apply_capture(db: sqlite_utils.Database, cap: dict[str, Any], spool: Spool) -> ReadRequest | None:
    """Archive one capture message; the read a new (or never read) report/attachment version needs."""
    crawl_id = ensure_run(db, cap)
    seen = db.execute(
        "SELECT 1 FROM queue_captures WHERE run_key = ? AND seq = ?", [cap["run_key"], cap["seq"]]
    ).fetchone()
    result: StoreResult | None = None
    event = cap["event"]
    if event == "fetched":
        if seen:
            row = db.execute(
                "SELECT v.document_id, v.id FROM versions v JOIN documents d ON d.id = v.document_id"
                " WHERE d.url = ? AND v.sha256 = ?",
                [cap["url"], cap["sha256"]],
            ).fetchone()
            result = StoreResult(row[0], row[1], False) if row else None
        else:
            result = write_version(db, spool.get(cap["sha256"]), _meta(cap, crawl_id))
    elif not seen and event == "not_modified":
        mark_seen_unchanged(db, cap["url"], when=cap.get("fetched_at"))
    elif not seen and event == "gone":
        mark_gone(db, cap["url"], when=cap.get("fetched_at"), http_status=cap.get("http_status"))
    elif not seen and event == "blocked":
        db.table("crawls").update(crawl_id, {"status": "blocked", "blocked_evidence": cap.get("evidence")})
    if not seen:
        db.execute(
            "INSERT OR IGNORE INTO queue_captures (run_key, seq, crawl_id) VALUES (?, ?, ?)",
            [cap["run_key"], cap["seq"], crawl_id],
        )
        db.conn.commit()
    if result is None or cap["kind"] not in READ_KINDS:
        return None
    if db.execute("SELECT 1 FROM reports WHERE version_id = ?", [result.version_id]).fetchone():
        return None
    portal = cap["portal"]
    return ReadRequest(
        version_id=result.version_id,
        document_id=result.document_id,
        sha256=cap["sha256"],
        filename=cap.get("filename") or cap["url"].rsplit("/", 1)[-1],
        content_type=cap.get("content_type"),
        hints={
            "url": cap["url"],
            "agency": portal.get("agency"),
            "region": portal.get("region"),
            "level": portal.get("level"),
            "link_text": cap.get("link_text"),
            "attachments": list(cap.get("attachments") or []),
        },
        previous_version_id=result.previous_version_id,
    )


def apply_report(db: sqlite_utils.Database, msg: dict[str, Any]) -> int | None:
    """Write a read worker's report; a crawl report already written (a redelivery) is left alone."""
    request, report = msg["request"], report_from_message(msg["report"])
    vid = request["version_id"]
    if request.get("mode") == "reparse":
        return write_report(db, vid, report)
    if db.execute("SELECT 1 FROM reports WHERE version_id = ?", [vid]).fetchone():
        return None
    result = StoreResult(
        request["document_id"], vid, True, previous_version_id=request.get("previous_version_id")
    )
    attach_report(db, result, report)
    crawl = db.execute("SELECT crawl_id FROM versions WHERE id = ?", [vid]).fetchone()
    if crawl and crawl[0] is not None:
        refresh_reports_by_status(db, crawl[0])
    return result.report_id


def refresh_reports_by_status(db: sqlite_utils.Database, crawl_id: int) -> None:
    """Reports arrive after a queue crawl closes: keep its `reports_by_status` up to date."""
    reports = dict(
        db.execute(
            "SELECT r.status, count(*) FROM reports r JOIN versions v ON v.id = r.version_id"
            " WHERE v.crawl_id = ? GROUP BY r.status",
            [crawl_id],
        ).fetchall()
    )
    db.table("crawls").update(crawl_id, {"reports_by_status": json.dumps(reports, sort_keys=True)})


def finish_run(db: sqlite_utils.Database, close: dict[str, Any]) -> int:
    """Close a crawl run once all its captures are in: earlier runs of its job interrupted, gone pass, health."""
    crawl_id = ensure_run(db, close)
    done = db.execute("SELECT finished_at FROM crawls WHERE id = ?", [crawl_id]).fetchone()
    if done and done[0]:
        return crawl_id  # a redelivered close
    expected = close.get("captures")
    have = db.execute("SELECT count(*) FROM queue_captures WHERE run_key = ?", [close["run_key"]]).fetchone()[
        0
    ]
    if expected is not None and have < expected:
        raise CapturesMissing(f"run {close['run_key']}: {have} of {expected} captures in")
    if close.get("job_id"):
        for (old,) in db.execute(
            "SELECT id FROM crawls WHERE job_id = ? AND run_key != ? AND finished_at IS NULL",
            [close["job_id"], close["run_key"]],
        ).fetchall():
            close_crawl(db, old, {"status": "interrupted"})
            record_health(db, old)
    status = close["status"]
    blocked = db.execute("SELECT status FROM crawls WHERE id = ?", [crawl_id]).fetchone()[0] == "blocked"
    if blocked:
        status = "blocked"
    gone = 0
    if status == "finished":
        for url in unseen_documents(db, close["portal"]["name"], set(close.get("present") or [])):
            gone += mark_gone(db, url)
    stats = dict(close.get("stats") or {})
    stats["nianbao/marked_gone"] = gone
    row: dict[str, Any] = {
        "status": status,
        "pages": close.get("pages", 0),
        "reports_found": close.get("reports_found", 0),
        "bytes_received": stats.get("nianbao/bytes_received", 0),
        "warc_files": json.dumps(close.get("warc_files") or []),
        "stats": json.dumps(stats, default=str, ensure_ascii=False),
    }
    if close.get("evidence"):
        row["blocked_evidence"] = close["evidence"]
    close_crawl(db, crawl_id, row)
    record_health(db, crawl_id)
    return crawl_id
