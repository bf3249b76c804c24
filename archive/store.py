"""The archive's write path: bytes into versions, Reports into report rows — each in its own transaction.

Reading (extract → parse → check) happens elsewhere (`pipelines.read.read_report`); this module takes its
result and never parses. A crawl archives the bytes first (`write_version`) and attaches the report when the
reader is done (`attach_report`), so a reader crash loses nothing; `nianbao ingest` does both in one
transaction (`store`). Everything written for one step is one SQLite transaction: a crash or a bad file never
leaves half a document behind.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import sqlite_utils

from pipelines import PARSER_VERSION
from pipelines.report import Report
from pipelines.rules import severity_of

from .agencies import link_report_row
from .audit import audit_document, audit_report
from .db import insert_row
from .facts import write_facts
from .search import index_report
from .timeliness import report_dates
from .versions import record_change


def now_iso() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass
class FetchMeta:
    """What is known about one fetch (or one local file) besides its bytes: where, when, how it was served."""

    url: str
    kind: str = "local"  # local / list / page / report / attachment
    portal_id: str | None = None
    fetched_at: str | None = None
    http_status: int | None = None
    content_type: str | None = None
    filename: str | None = None
    title: str | None = None
    link_text: str | None = None
    discovered_from: str | None = None
    etag: str | None = None
    last_modified: str | None = None
    warc_file: str | None = None
    warc_offset: int | None = None
    warc_record_id: str | None = None
    crawl_id: int | None = None
    published_date: str | None = None
    foreign_place: str | None = None  # another place's report posted on this portal (never read as its own)


@dataclass
class StoreResult:
    """What happened to one document. `new_version` is False when the bytes were already archived."""

    document_id: int
    version_id: int
    new_version: bool
    previous_version_id: int | None = None
    report_id: int | None = None
    change_id: int | None = None
    status: str | None = None
    problems: list[str] = field(default_factory=list)


def find_document(db: sqlite_utils.Database, url: str) -> tuple[int, int | None] | None:
    """(document id, current version id) of `url`, or None when the archive has never seen it."""
    row = db.execute("SELECT id, current_version_id FROM documents WHERE url = ?", [url]).fetchone()
    return (int(row[0]), row[1]) if row else None


def known_version(db: sqlite_utils.Database, document_id: int, sha256: str) -> int | None:
    row = db.execute(
        "SELECT id FROM versions WHERE document_id = ? AND sha256 = ?", [document_id, sha256]
    ).fetchone()
    return int(row[0]) if row else None


def previous_version(db: sqlite_utils.Database, version_id: int) -> int | None:
    """The version of the same document stored just before `version_id` (None for its first)."""
    row = db.execute(
        "SELECT max(p.id) FROM versions v JOIN versions p ON p.document_id = v.document_id AND p.id < v.id"
        " WHERE v.id = ?",
        [version_id],
    ).fetchone()
    return int(row[0]) if row and row[0] is not None else None


def write_version(db: sqlite_utils.Database, body: bytes, meta: FetchMeta) -> StoreResult:
    """Archive `body` as the current content of `meta.url`: a new version, or the same bytes seen again.

    Same bytes as a version the document already has: only `last_seen` moves (and a revert A → B → A points
    the document back at A). New bytes: blob, document and version rows. No report is written here.
    """
    with db.atomic():
        return _write_version(db, body, meta, hashlib.sha256(body).hexdigest())


def attach_report(
    db: sqlite_utils.Database, result: StoreResult, report: Report, published_date: str | None = None
) -> StoreResult:
    """Write the report read from a new version, and the `changes` row against the previous version."""
    with db.atomic():
        _attach_report(db, result, report, published_date)
    return result


def store(
    db: sqlite_utils.Database, body: bytes, meta: FetchMeta, read: Callable[[], Report] | None = None
) -> StoreResult:
    """Archive `body` and, for new bytes, the report `read()` returns — in one transaction.

    `read` runs only when the bytes are new to this document (and before the transaction opens: it is the
    slow part and may fail); unchanged bytes are never read again.
    """
    sha = hashlib.sha256(body).hexdigest()
    doc = find_document(db, meta.url)
    known = doc is not None and known_version(db, doc[0], sha) is not None
    report = read() if read is not None and not known else None
    with db.atomic():
        result = _write_version(db, body, meta, sha)
        if report is not None and result.new_version:
            _attach_report(db, result, report, meta.published_date)
    return result


def _write_version(db: sqlite_utils.Database, body: bytes, meta: FetchMeta, sha: str) -> StoreResult:
    when = meta.fetched_at or now_iso()
    doc = find_document(db, meta.url)
    if doc is not None:
        same = known_version(db, doc[0], sha)
        if same is not None:
            return _seen_again(db, doc, same, when, meta)
    if doc is None:
        doc_id = insert_row(
            db,
            "documents",
            {
                "url": meta.url,
                "portal_id": meta.portal_id,
                "kind": meta.kind,
                "title": meta.title,
                "link_text": meta.link_text,
                "discovered_from": meta.discovered_from,
                "first_seen": when,
                "last_seen": when,
                "etag": meta.etag,
                "last_modified": meta.last_modified,
                "last_status": meta.http_status,
                "foreign_place": meta.foreign_place,
            },
        )
        previous = None
    else:
        doc_id, previous = doc
        db.execute(
            "UPDATE documents SET last_seen = ?, gone_since = NULL, last_status = coalesce(?, last_status),"
            " etag = coalesce(?, etag), last_modified = coalesce(?, last_modified),"
            " title = coalesce(?, title), link_text = coalesce(link_text, ?),"
            " foreign_place = coalesce(?, foreign_place) WHERE id = ?",
            [
                when,
                meta.http_status,
                meta.etag,
                meta.last_modified,
                meta.title,
                meta.link_text,
                meta.foreign_place,
                doc_id,
            ],
        )
    db.execute("INSERT OR IGNORE INTO blobs (sha256, size, content) VALUES (?, ?, ?)", [sha, len(body), body])
    version_id = insert_row(
        db,
        "versions",
        {
            "document_id": doc_id,
            "sha256": sha,
            "fetched_at": when,
            "http_status": meta.http_status,
            "content_type": meta.content_type,
            "size": len(body),
            "filename": meta.filename,
            "warc_file": meta.warc_file,
            "warc_offset": meta.warc_offset,
            "warc_record_id": meta.warc_record_id,
            "crawl_id": meta.crawl_id,
            "first_seen": when,
            "last_seen": when,
            "published_date": meta.published_date,
        },
    )
    db.execute("UPDATE documents SET current_version_id = ? WHERE id = ?", [version_id, doc_id])
    return StoreResult(doc_id, version_id, True, previous_version_id=previous)


def _attach_report(
    db: sqlite_utils.Database, result: StoreResult, report: Report, published_date: str | None
) -> None:
    db.execute(
        "UPDATE versions SET format = ?, extractor = ?, published_date = coalesce(published_date, ?, ?)"
        " WHERE id = ?",
        [
            report.meta.get("format"),
            report.meta.get("extractor"),
            published_date,
            report.meta.get("published_date"),
            result.version_id,
        ],
    )
    result.report_id = write_report(db, result.version_id, report)
    result.status = report.status
    result.problems = list(report.problems)
    if result.previous_version_id is not None:
        result.change_id = record_change(
            db, result.document_id, result.previous_version_id, result.version_id, now_iso()
        )


def _seen_again(
    db: sqlite_utils.Database, doc: tuple[int, int | None], version_id: int, when: str, meta: FetchMeta
) -> StoreResult:
    """Bytes already archived for this document: unchanged, or a revert to an earlier version.

    A revert (A → B → A) adds no version — versions are distinct contents — but it is a change: the
    document points back at A, A is the latest report again, and a `changes` row records B → A.
    """
    doc_id, current = doc
    change_id = None
    db.execute(
        "UPDATE documents SET last_seen = ?, gone_since = NULL, last_status = coalesce(?, last_status),"
        " etag = coalesce(?, etag), last_modified = coalesce(?, last_modified), current_version_id = ?"
        " WHERE id = ?",
        [when, meta.http_status, meta.etag, meta.last_modified, version_id, doc_id],
    )
    db.execute("UPDATE versions SET last_seen = ? WHERE id = ?", [when, version_id])
    if current is not None and current != version_id:
        change_id = record_change(db, doc_id, current, version_id, when)
        _mark_latest(db, doc_id)
        audit_document(db, doc_id)
    rid = db.execute("SELECT id, status FROM reports WHERE version_id = ?", [version_id]).fetchone()
    # Never read (an earlier crawl was killed before its read; a queue capture redelivered): when it is read,
    # its change is from the version stored just before it. A revert has its change recorded above.
    previous = previous_version(db, version_id) if rid is None and change_id is None else None
    return StoreResult(
        doc_id, version_id, False, previous, rid[0] if rid else None, change_id, rid[1] if rid else None
    )


def write_report(db: sqlite_utils.Database, version_id: int, report: Report) -> int:
    """Replace the parsed report of `version_id` (reparse keeps the same report id) and mark the latest.

    Region and level come from `report.meta` (the registry's hints, handed to the reader).
    """
    version = db.execute(
        "SELECT v.document_id, d.url, d.portal_id, v.published_date FROM versions v"
        " JOIN documents d ON d.id = v.document_id WHERE v.id = ?",
        [version_id],
    ).fetchone()
    if version is None:
        raise ValueError(f"no version {version_id}")
    document_id, url, portal_id, published_date = version
    row: dict[str, Any] = {
        "version_id": version_id,
        "document_id": document_id,
        "portal_id": portal_id,
        "agency": report.agency,
        "year": report.year,
        "title": report.title,
        "template": report.template,
        "status": report.status,
        "source_url": url,
        "format": report.meta.get("format"),
        "extractor": report.meta.get("extractor"),
        "quality": json.dumps(report.meta.get("quality") or {}, ensure_ascii=False),
        "meta": json.dumps({k: v for k, v in report.meta.items() if k != "quality"}, ensure_ascii=False),
        "problems": json.dumps(report.problems, ensure_ascii=False),
        "problem_count": len(report.problems),
        "failed_checks": sum(1 for c in report.checks if not c.ok),
        "parsed_at": now_iso(),
        "parser_version": PARSER_VERSION,
        "text": report.text,
    }
    for key in ("region", "level"):
        if report.meta.get(key):
            row[key] = report.meta[key]
    row.update(
        report_dates(
            published_date,
            report.meta.get("published_date"),
            url,
            row["year"],
            row["agency"],
            row.get("level"),
        )
    )
    if row["published_date"] and row["published_date"] == report.meta.get("published_date"):
        row["published_date_source"] = (
            report.meta.get("published_date_source") or row["published_date_source"]
        )
    existing = db.execute("SELECT id FROM reports WHERE version_id = ?", [version_id]).fetchone()
    with db.atomic():
        row["agency_id"] = link_report_row(db, row, report.meta)
        if existing:
            report_id = existing[0]
            for table in ("sections", "figures", "checks"):
                db.execute(f"DELETE FROM {table} WHERE report_id = ?", [report_id])
            db.table("reports").update(report_id, row)
        else:
            report_id = insert_row(db, "reports", row)
        # Plain executemany: a report has ~200 figures, and sqlite-utils' per-row insert machinery was the
        # largest cost of writing one (Python time, holding the GIL the crawl's reactor thread needs).
        db.conn.executemany(
            "INSERT INTO sections (report_id, section, position, text) VALUES (?, ?, ?, ?)",
            [(report_id, name, i, text) for i, (name, text) in enumerate(report.sections.items())],
        )
        db.conn.executemany(
            'INSERT INTO figures (report_id, "table", "row", "column", value, raw, flags, source)'
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            [
                (
                    report_id,
                    f.table,
                    f.row,
                    f.column,
                    f.value,
                    f.raw,
                    json.dumps(f.flags, ensure_ascii=False) if f.flags else None,
                    json.dumps(f.source, ensure_ascii=False) if f.source else None,
                )
                for f in report.figures
            ],
        )
        db.conn.executemany(
            'INSERT INTO checks (report_id, rule, "row", "column", ok, detail, severity, cells)'
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            [
                (
                    report_id,
                    c.rule,
                    c.row,
                    c.column,
                    int(c.ok),
                    c.detail,
                    c.severity or severity_of(c.rule),
                    json.dumps(c.cells, ensure_ascii=False) if c.cells else None,
                )
                for c in report.checks
            ],
        )
        write_facts(db, report_id, report)
        _mark_latest(db, document_id)
        index_report(db, report_id, report.search_streams)
        audit_report(db, report_id)
    return report_id


def _mark_latest(db: sqlite_utils.Database, document_id: int) -> None:
    db.execute("UPDATE reports SET is_latest = 0 WHERE document_id = ?", [document_id])
    db.execute(
        "UPDATE reports SET is_latest = 1 WHERE version_id = (SELECT coalesce(current_version_id,"
        " (SELECT max(id) FROM versions WHERE document_id = d.id)) FROM documents d WHERE d.id = ?)",
        [document_id],
    )


@dataclass
class Original:
    """A stored version's bytes with what the reader needs to know about them."""

    version_id: int
    body: bytes
    filename: str | None
    url: str
    content_type: str | None
    kind: str
    portal_id: str | None


def original(db: sqlite_utils.Database, version_id: int) -> Original:
    """The archived bytes of one version (for `nianbao reparse` and read workers)."""
    row = db.execute(
        "SELECT b.content, v.filename, d.url, v.content_type, d.kind, d.portal_id FROM versions v"
        " JOIN blobs b ON b.sha256 = v.sha256 JOIN documents d ON d.id = v.document_id WHERE v.id = ?",
        [version_id],
    ).fetchone()
    if row is None:
        raise ValueError(f"no version {version_id}")
    return Original(version_id, bytes(row[0]), row[1], row[2], row[3], row[4], row[5])
