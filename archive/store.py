"""Write one fetched or local document into the archive: blob, document, version, parsed report — atomically.

This is the single write path shared by `nianbao ingest`, the crawler's item pipeline and `nianbao reparse`.
Extraction and parsing run before the transaction opens (they are slow and may fail); everything that is
written for one document is written in one transaction, so a crash never leaves half a document behind.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import sqlite_utils

from pipelines import PARSER_VERSION
from pipelines.extract import ExtractionError, extract
from pipelines.parse import parse_extracted
from pipelines.report import Report

from .search import index_report
from .timeliness import report_dates
from .versions import record_change


def now_iso() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass
class StoreResult:
    """What happened to one document. `new_version` is False when the bytes were already archived."""

    document_id: int
    version_id: int
    new_version: bool
    report_id: int | None = None
    change_id: int | None = None
    status: str | None = None
    problems: list[str] = field(default_factory=list)


def parse_bytes(body: bytes, filename: str | None = None, content_type: str | None = None) -> Report:
    """Extract and parse `body`; never raises for bad input — a report that cannot be read says why."""
    try:
        extracted = extract(body, filename=filename, content_type=content_type)
    except ExtractionError as exc:
        name = filename or "document"
        return Report(
            status="failed",
            problems=[f"{name}: cannot extract text: {exc}"],
            meta={"format": "unknown", "extractor": None},
        )
    return parse_extracted(extracted)


def store_document(
    db: sqlite_utils.Database,
    *,
    url: str,
    body: bytes,
    kind: str = "local",
    portal_id: str | None = None,
    fetched_at: str | None = None,
    http_status: int | None = None,
    content_type: str | None = None,
    filename: str | None = None,
    title: str | None = None,
    link_text: str | None = None,
    discovered_from: str | None = None,
    etag: str | None = None,
    last_modified: str | None = None,
    warc_file: str | None = None,
    warc_offset: int | None = None,
    warc_record_id: str | None = None,
    crawl_id: int | None = None,
    published_date: str | None = None,
    parse: bool = True,
    report_overrides: dict[str, Any] | None = None,
    attachments: list[str] | None = None,
) -> StoreResult:
    """Archive `body` as the current content of `url`.

    Same bytes as the latest version: only `last_seen` moves. New bytes: a new version (and, when `parse`,
    a parsed report and a `changes` row against the previous version). `report_overrides` sets report
    columns the crawler knows better than the text (agency/region/level from the portal registry) — only
    where the parser found nothing. `attachments` are the links of a report page: when the page itself
    holds no report (a wrapper around a PDF), its problems point the reader there.
    """
    when = fetched_at or now_iso()
    sha = hashlib.sha256(body).hexdigest()
    doc = _find_document(db, url)
    if doc is not None:
        same = db.execute(
            "SELECT id FROM versions WHERE document_id = ? AND sha256 = ?", [doc["id"], sha]
        ).fetchone()
        if same is not None:
            return _seen_again(db, doc, same[0], when, http_status, etag, last_modified)

    report = (
        parse_bytes(body, filename=filename or url.rsplit("/", 1)[-1], content_type=content_type)
        if parse
        else None
    )
    if report is not None and report.status == "failed" and attachments:
        report.problems.append(
            "the page holds no report text itself; its content is in the attachment(s): "
            + ", ".join(attachments[:5])
        )
    with db.atomic():
        if doc is None:
            doc_id = (
                db["documents"]
                .insert(
                    {
                        "url": url,
                        "portal_id": portal_id,
                        "kind": kind,
                        "title": title,
                        "link_text": link_text,
                        "discovered_from": discovered_from,
                        "first_seen": when,
                        "last_seen": when,
                        "etag": etag,
                        "last_modified": last_modified,
                        "last_status": http_status,
                    }
                )
                .last_pk
            )
        else:
            doc_id = doc["id"]
            db.execute(
                "UPDATE documents SET last_seen = ?, gone_since = NULL, last_status = coalesce(?, last_status),"
                " etag = coalesce(?, etag), last_modified = coalesce(?, last_modified),"
                " title = coalesce(?, title), link_text = coalesce(link_text, ?) WHERE id = ?",
                [when, http_status, etag, last_modified, title, link_text, doc_id],
            )
        db.execute(
            "INSERT OR IGNORE INTO blobs (sha256, size, content) VALUES (?, ?, ?)", [sha, len(body), body]
        )
        previous = doc["current_version_id"] if doc else None
        version_id = (
            db["versions"]
            .insert(
                {
                    "document_id": doc_id,
                    "sha256": sha,
                    "fetched_at": when,
                    "http_status": http_status,
                    "content_type": content_type,
                    "size": len(body),
                    "format": report.meta.get("format") if report else None,
                    "extractor": report.meta.get("extractor") if report else None,
                    "filename": filename,
                    "warc_file": warc_file,
                    "warc_offset": warc_offset,
                    "warc_record_id": warc_record_id,
                    "crawl_id": crawl_id,
                    "first_seen": when,
                    "last_seen": when,
                    "published_date": published_date
                    or (report.meta.get("published_date") if report else None),
                }
            )
            .last_pk
        )
        db.execute("UPDATE documents SET current_version_id = ? WHERE id = ?", [version_id, doc_id])
        result = StoreResult(doc_id, version_id, True)
        if report is not None:
            result.report_id = write_report(db, version_id, report, overrides=report_overrides)
            result.status = report.status
            result.problems = list(report.problems)
        if previous is not None:
            result.change_id = record_change(db, doc_id, previous, version_id, when)
    return result


def _seen_again(
    db: sqlite_utils.Database,
    doc: dict[str, Any],
    version_id: int,
    when: str,
    http_status: int | None,
    etag: str | None,
    last_modified: str | None,
) -> StoreResult:
    """Bytes already archived for this document: unchanged, or a revert to an earlier version.

    A revert (A → B → A) adds no version — versions are distinct contents — but it is a change: the
    document points back at A, A is the latest report again, and a `changes` row records B → A.
    """
    change_id = None
    with db.atomic():
        db.execute(
            "UPDATE documents SET last_seen = ?, gone_since = NULL, last_status = coalesce(?, last_status),"
            " etag = coalesce(?, etag), last_modified = coalesce(?, last_modified), current_version_id = ?"
            " WHERE id = ?",
            [when, http_status, etag, last_modified, version_id, doc["id"]],
        )
        db.execute("UPDATE versions SET last_seen = ? WHERE id = ?", [when, version_id])
        current = doc["current_version_id"]
        if current is not None and current != version_id:
            change_id = record_change(db, doc["id"], current, version_id, when)
            _mark_latest(db, doc["id"])
    rid = db.execute("SELECT id, status FROM reports WHERE version_id = ?", [version_id]).fetchone()
    return StoreResult(
        doc["id"], version_id, False, rid[0] if rid else None, change_id, rid[1] if rid else None
    )


def write_report(
    db: sqlite_utils.Database, version_id: int, report: Report, overrides: dict[str, Any] | None = None
) -> int:
    """Replace the parsed report of `version_id` (reparse keeps the same report id) and mark the latest."""
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
    for key, value in (overrides or {}).items():
        if value is not None and row.get(key) in (None, ""):
            row[key] = value
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
    existing = db.execute("SELECT id FROM reports WHERE version_id = ?", [version_id]).fetchone()
    with db.atomic():
        if existing:
            report_id = existing[0]
            for table in ("sections", "figures", "checks"):
                db.execute(f"DELETE FROM {table} WHERE report_id = ?", [report_id])
            db["reports"].update(report_id, row)
        else:
            report_id = db["reports"].insert(row).last_pk
        db["sections"].insert_all(
            {"report_id": report_id, "section": name, "position": i, "text": text}
            for i, (name, text) in enumerate(report.sections.items())
        )
        db["figures"].insert_all(
            {
                "report_id": report_id,
                "table": f.table,
                "row": f.row,
                "column": f.column,
                "value": f.value,
                "raw": f.raw,
                "flags": json.dumps(f.flags, ensure_ascii=False) if f.flags else None,
                "source": json.dumps(f.source, ensure_ascii=False) if f.source else None,
            }
            for f in report.figures
        )
        db["checks"].insert_all(
            {
                "report_id": report_id,
                "rule": c.rule,
                "row": c.row,
                "column": c.column,
                "ok": int(c.ok),
                "detail": c.detail,
            }
            for c in report.checks
        )
        _mark_latest(db, document_id)
        index_report(db, report_id)
    return report_id


def _mark_latest(db: sqlite_utils.Database, document_id: int) -> None:
    db.execute("UPDATE reports SET is_latest = 0 WHERE document_id = ?", [document_id])
    db.execute(
        "UPDATE reports SET is_latest = 1 WHERE version_id = (SELECT coalesce(current_version_id,"
        " (SELECT max(id) FROM versions WHERE document_id = d.id)) FROM documents d WHERE d.id = ?)",
        [document_id],
    )


def _find_document(db: sqlite_utils.Database, url: str) -> dict[str, Any] | None:
    row = db.execute("SELECT id, current_version_id FROM documents WHERE url = ?", [url]).fetchone()
    return {"id": row[0], "current_version_id": row[1]} if row else None


def mark_seen_unchanged(
    db: sqlite_utils.Database, url: str, when: str | None = None, http_status: int = 304
) -> bool:
    """A conditional request answered 304: the document is still served, unchanged. False if unknown URL."""
    doc = _find_document(db, url)
    if doc is None:
        return False
    when = when or now_iso()
    with db.atomic():
        db.execute(
            "UPDATE documents SET last_seen = ?, gone_since = NULL, last_status = ? WHERE id = ?",
            [when, http_status, doc["id"]],
        )
        db.execute(
            "UPDATE versions SET last_seen = ? WHERE id = (SELECT coalesce(current_version_id,"
            " (SELECT max(id) FROM versions WHERE document_id = documents.id)) FROM documents WHERE id = ?)",
            [when, doc["id"]],
        )
    return True


def mark_gone(
    db: sqlite_utils.Database, url: str, when: str | None = None, http_status: int | None = None
) -> bool:
    """The portal no longer serves `url` (404/410 or dropped from its list): keep it, note since when."""
    doc = _find_document(db, url)
    if doc is None:
        return False
    with db.atomic():
        db.execute(
            "UPDATE documents SET gone_since = coalesce(gone_since, ?), last_status = coalesce(?, last_status)"
            " WHERE id = ?",
            [when or now_iso(), http_status, doc["id"]],
        )
    return True


def reparse_version(db: sqlite_utils.Database, version_id: int) -> Report:
    """Re-run extraction and parsing over a stored original (parser upgrades); history is untouched."""
    row = db.execute(
        "SELECT b.content, v.filename, d.url, v.content_type FROM versions v JOIN blobs b ON b.sha256 = v.sha256"
        " JOIN documents d ON d.id = v.document_id WHERE v.id = ?",
        [version_id],
    ).fetchone()
    if row is None:
        raise ValueError(f"no version {version_id}")
    content, filename, url, content_type = row
    report = parse_bytes(content, filename=filename or url.rsplit("/", 1)[-1], content_type=content_type)
    overrides = db.execute(
        "SELECT p.agency, p.region, p.level FROM versions v JOIN documents d ON d.id = v.document_id"
        " LEFT JOIN portals p ON p.id = d.portal_id WHERE v.id = ?",
        [version_id],
    ).fetchone()
    write_report(
        db,
        version_id,
        report,
        overrides={"region": overrides[1], "level": overrides[2]} if overrides else None,
    )
    with db.atomic():
        db.execute(
            "UPDATE versions SET format = ?, extractor = ? WHERE id = ?",
            [report.meta.get("format"), report.meta.get("extractor"), version_id],
        )
    return report
