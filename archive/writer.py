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
import logging
import sqlite3
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, fields
from typing import Any

import sqlite_utils

from pipelines.report import Check, Fact, Figure, Report

from .crawls import (
    close_crawl,
    mark_gone,
    mark_gone_unseen,
    mark_seen_unchanged,
    open_crawl,
    portal_row,
    record_error,
    register_portal,
)
from .health import crawl_reports_by_status, record_health
from .reparse import replace_report
from .spool import Spool
from .store import FetchMeta, StoreResult, attach_report, now_iso, previous_version, write_version

log = logging.getLogger(__name__)


@dataclass
class Decision:
    """A crawl's outcome, as crawler/outcome.py `Outcome` says it (the archive does not import the crawler)."""

    status: str
    reason: str | None
    gone_pass: bool  # whether unseen documents may be marked gone
    gone_skipped: str | None = None  # why a crawl that ended normally marks nothing gone: a `gone` row


# The crawl's outcome from its facts (crawler/outcome.py `decide`, passed in by the write worker).
Decide = Callable[[dict[str, Any]], Decision]


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


def transient(exc: BaseException) -> bool:
    """A fault of the moment (the file busy or locked), retried by the queue; anything else about a message is
    recorded once, never retried for ever."""
    text = str(exc).lower()
    return isinstance(exc, sqlite3.OperationalError) and ("locked" in text or "busy" in text)


def report_to_message(report: Report) -> dict[str, Any]:
    """The whole Report as JSON-safe data, every field (the JSON contract leaves out text and search streams,
    which the archive stores): `report_from_message` gives back an equal Report."""
    data = asdict(report)
    data["search_streams"] = {k: list(v) for k, v in report.search_streams.items()}
    return data


def _build(cls: type[Any], data: dict[str, Any]) -> Any:
    """A dataclass from a dict, ignoring keys it does not know (a message from an older or newer worker)."""
    names = {f.name for f in fields(cls)}
    return cls(**{k: v for k, v in data.items() if k in names})


def report_from_message(data: dict[str, Any]) -> Report:
    report: Report = _build(Report, data)
    report.figures = [_build(Figure, f) for f in data.get("figures") or []]
    report.checks = [_build(Check, c) for c in data.get("checks") or []]
    report.facts = [_build(Fact, f) for f in data.get("facts") or []]
    # (words, chars, trigram text); an older worker's pair is left out: the writer computes those streams.
    streams = (data.get("search_streams") or {}).items()
    report.search_streams = {k: (v[0], v[1], v[2]) for k, v in streams if len(v) == 3}
    return report


def ensure_run(db: sqlite_utils.Database, msg: dict[str, Any]) -> int:
    """The `crawls` row of a crawl-job execution (`run_key`), opened on its first message."""
    row = db.execute("SELECT id FROM crawls WHERE run_key = ?", [msg["run_key"]]).fetchone()
    if row is not None:
        return int(row[0])
    portal = msg["portal"]
    register_portal(db, portal_row(portal))
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
        foreign_place=cap.get("foreign_place"),
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


def _record(
    db: sqlite_utils.Database, crawl_id: int | None, cap: dict[str, Any], stage: str, reason: str
) -> None:
    record_error(
        db,
        crawl_id,
        cap["url"],
        stage=stage,
        reason=reason,
        kind=cap.get("kind"),
        http_status=cap.get("http_status"),
        attempts=cap.get("attempts"),
    )


def _archive_event(
    db: sqlite_utils.Database, cap: dict[str, Any], crawl_id: int, spool: Spool
) -> StoreResult | None:
    """What ArchiveStage does with one item, from its capture message."""
    event = cap["event"]
    if event == "fetched":
        return write_version(db, spool.get(cap["sha256"]), _meta(cap, crawl_id))
    if event == "not_modified":
        mark_seen_unchanged(db, cap["url"], when=cap.get("fetched_at"))
    elif event == "gone":
        mark_gone(db, cap["url"], when=cap.get("fetched_at"), http_status=cap.get("http_status"))
    elif event == "error":
        _record(db, crawl_id, cap, cap.get("stage") or "fetch", cap.get("evidence") or "")
    elif event in ("challenged", "blocked"):
        _record(db, crawl_id, cap, "challenge", cap.get("evidence") or "")
    return None


def apply_capture(db: sqlite_utils.Database, cap: dict[str, Any], spool: Spool) -> ReadRequest | None:
    """Archive one capture message; the read a new (or never read) report/attachment version needs.

    A capture the archive refuses (bad bytes, a missing spool file, a constraint) is a `store` row in
    `crawl_errors`, counted as in, never an endless retry: the crawl closes `partial`, as in single-process
    mode (crawler/outcome.py).
    """
    crawl_id = ensure_run(db, cap)
    seen = db.execute(
        "SELECT 1 FROM queue_captures WHERE run_key = ? AND seq = ?", [cap["run_key"], cap["seq"]]
    ).fetchone()
    result: StoreResult | None = None
    if seen:
        if cap["event"] == "fetched":  # a redelivery: find what the first delivery stored
            row = db.execute(
                "SELECT v.document_id, v.id FROM versions v JOIN documents d ON d.id = v.document_id"
                " WHERE d.url = ? AND v.sha256 = ?",
                [cap["url"], cap["sha256"]],
            ).fetchone()
            result = StoreResult(row[0], row[1], False, previous_version(db, row[1])) if row else None
    else:
        try:
            result = _archive_event(db, cap, crawl_id, spool)
        except Exception as exc:
            db.conn.rollback()
            if transient(exc):
                raise  # retried by the queue: the archive is busy, not refusing this capture
            log.exception("could not archive %s", cap["url"])
            _record(db, crawl_id, cap, "store", f"{type(exc).__name__}: {exc}")
        if cap.get("warc_problem"):  # the WARC record was not written: the archive has the bytes, no pointer
            _record(db, crawl_id, cap, "store", cap["warc_problem"])
        db.execute(
            "INSERT OR IGNORE INTO queue_captures (run_key, seq, crawl_id) VALUES (?, ?, ?)",
            [cap["run_key"], cap["seq"], crawl_id],
        )
        db.conn.commit()
    if result is None or not cap.get("read"):
        return None
    if db.execute("SELECT 1 FROM reports WHERE version_id = ?", [result.version_id]).fetchone():
        return None
    return ReadRequest(
        version_id=result.version_id,
        document_id=result.document_id,
        sha256=cap["sha256"],
        filename=cap.get("read_name") or cap["url"].rsplit("/", 1)[-1],
        content_type=cap.get("content_type"),
        hints=dict(cap.get("hints") or {}),
        previous_version_id=result.previous_version_id,
    )


def apply_report(db: sqlite_utils.Database, msg: dict[str, Any]) -> int | None:
    """Write a read worker's report; a crawl report already written (a redelivery) is left alone.

    As in the single-process crawl, a failed read is a `read` row in `crawl_errors`, and a report the archive
    refuses is a `store` row there (never an endless retry)."""
    request, report = msg["request"], report_from_message(msg["report"])
    vid = request["version_id"]
    row = db.execute(
        "SELECT v.crawl_id, d.url, d.kind FROM versions v JOIN documents d ON d.id = v.document_id"
        " WHERE v.id = ?",
        [vid],
    ).fetchone()
    if row is None:
        raise ValueError(f"no version {vid} in this archive (a report for another archive?)")
    crawl_id, url, kind = row
    fault = {"url": url, "kind": kind, "http_status": None, "attempts": None}
    try:
        if request.get("mode") == "reparse":  # as `nianbao reparse` writes it
            replace_report(db, vid, report)
            got = db.execute("SELECT id FROM reports WHERE version_id = ?", [vid]).fetchone()
            return int(got[0]) if got else None
        if db.execute("SELECT 1 FROM reports WHERE version_id = ?", [vid]).fetchone():
            return None
        if report.status == "failed":
            _record(db, crawl_id, fault, "read", "; ".join(report.problems) or "unreadable")
        result = StoreResult(
            request["document_id"], vid, True, previous_version_id=request.get("previous_version_id")
        )
        attach_report(db, result, report)
    except Exception as exc:
        db.conn.rollback()
        if transient(exc):
            raise
        log.exception("could not write the report of version %s", vid)
        _record(db, crawl_id, fault, "store", f"{type(exc).__name__}: {exc}")
        db.conn.commit()
        return None
    if crawl_id is not None:
        refresh_reports_by_status(db, crawl_id)
    return result.report_id


def refresh_reports_by_status(db: sqlite_utils.Database, crawl_id: int) -> None:
    """Reports arrive after a queue crawl closes: keep its `reports_by_status` up to date."""
    reports = crawl_reports_by_status(db, crawl_id)
    db.table("crawls").update(crawl_id, {"reports_by_status": json.dumps(reports, sort_keys=True)})


def archived_report_urls(db: sqlite_utils.Database, portal_id: str, crawl_id: int) -> set[str]:
    """Reports of the portal the archive held before this crawl (documents first stored by another crawl),
    still believed served: what single-process mode reads when a crawl opens."""
    rows = db.execute(
        "SELECT d.url FROM documents d WHERE d.portal_id = ? AND d.kind = 'report' AND d.gone_since IS NULL"
        " AND coalesce((SELECT v.crawl_id FROM versions v WHERE v.document_id = d.id ORDER BY v.id LIMIT 1),"
        " -1) != ?",
        [portal_id, crawl_id],
    ).fetchall()
    return {url for (url,) in rows}


def finish_run(
    db: sqlite_utils.Database, close: dict[str, Any], decide: Decide, *, give_up: bool = False
) -> int:
    """Close a crawl run once all its captures are in: earlier runs of its job interrupted, the outcome decided
    from the child's facts plus what only the archive knows, gone pass if the outcome allows it, health.

    With `give_up`, close even though captures are missing: that is a `queue` row in `crawl_errors`, so the
    crawl is at best partial (the gone pass still needs lists read completely: the close names every URL the
    crawl saw or found linked, whatever became of its captures)."""
    crawl_id = ensure_run(db, close)
    done = db.execute("SELECT finished_at FROM crawls WHERE id = ?", [crawl_id]).fetchone()
    if done and done[0]:
        return crawl_id  # a redelivered close
    first_url = (close["portal"].get("start_urls") or [close["portal"]["name"]])[0]
    expected = close.get("captures")
    have = db.execute("SELECT count(*) FROM queue_captures WHERE run_key = ?", [close["run_key"]]).fetchone()[
        0
    ]
    if expected is not None and have < expected:
        if not give_up:
            raise CapturesMissing(f"run {close['run_key']}: {have} of {expected} captures in")
        record_error(
            db,
            crawl_id,
            first_url,
            stage="queue",
            reason=f"{expected - have} of {expected} capture messages never reached the writer",
        )
    if close.get("job_id"):
        for (old,) in db.execute(
            "SELECT id FROM crawls WHERE job_id = ? AND run_key != ? AND finished_at IS NULL",
            [close["job_id"], close["run_key"]],
        ).fetchall():
            close_crawl(
                db,
                old,
                {
                    "status": "interrupted",
                    "reason": f"its crawl worker died; the job ran again as crawl {crawl_id}",
                },
            )
            record_health(db, old)
    portal_id = close["portal"]["name"]
    if close.get("facts") is not None:
        facts = dict(close["facts"])
        known = archived_report_urls(db, portal_id, crawl_id)
        facts["archived_reports"] = len(known)
        facts["reached_reports"] = len(known & set(close.get("present") or []))
        for entry in facts.get("incomplete_lists") or []:  # the evidence, as ArchiveStage records it
            key, _, why = str(entry).partition(": ")
            record_error(
                db, crawl_id, key, stage="list", reason=f"list not read completely: {why}", kind="list"
            )
        # The child's own failures (captures it could not send, never in the archive) plus the archive's.
        facts["store_errors"] = int(facts.get("store_errors") or 0) + int(
            db.execute(
                "SELECT count(*) FROM crawl_errors WHERE crawl_id = ? AND stage IN ('store', 'queue')",
                [crawl_id],
            ).fetchone()[0]
        )
        decision = decide(facts)
    else:  # the child crawl died without closing (the crawl worker reports it)
        decision = Decision(close.get("status") or "failed", close.get("reason"), False)
    status, reason = decision.status, decision.reason
    gone = 0
    if decision.gone_pass:
        gone, _kept = mark_gone_unseen(
            db, portal_id, set(close.get("present") or []), set(close.get("completely_read") or [])
        )
    if decision.gone_skipped:  # the evidence, as ArchiveStage records it
        record_error(db, crawl_id, first_url, stage="gone", reason=decision.gone_skipped, kind="page")
    stats = dict(close.get("stats") or {})
    stats["nianbao/marked_gone"] = gone
    row: dict[str, Any] = {
        "status": status,
        "reason": reason,
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
