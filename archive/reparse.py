"""Re-read stored originals after a parser upgrade: reports and attachments only, never the network.

List pages, portal pages and API answers are archived for the record but are not reports; earlier versions
of nianbao parsed them too and left false `failed` reports behind — `reparse` removes those.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from concurrent.futures import Future, ThreadPoolExecutor

import sqlite_utils

from pipelines.pool import ReaderPool
from pipelines.read import ReadHints, read_report
from pipelines.report import Report

from .search import flush_pending
from .store import original, write_report

READABLE_KINDS = ("report", "attachment", "local")


def readable_versions(db: sqlite_utils.Database) -> list[int]:
    """Ids of every version of a report, attachment or local file, oldest first."""
    marks = ",".join("?" for _ in READABLE_KINDS)
    rows = db.execute(
        f"SELECT v.id FROM versions v JOIN documents d ON d.id = v.document_id WHERE d.kind IN ({marks})"
        " AND d.foreign_place IS NULL ORDER BY v.id",
        list(READABLE_KINDS),
    ).fetchall()
    return [r[0] for r in rows]


def hints_for(db: sqlite_utils.Database, url: str, portal_id: str | None) -> ReadHints:
    """What the registry says about the portal a document came from."""
    hints = ReadHints(url=url)
    if portal_id:
        row = db.execute("SELECT agency, region, level FROM portals WHERE id = ?", [portal_id]).fetchone()
        if row:
            hints.agency, hints.region, hints.level = row
    return hints


def reparse_version(db: sqlite_utils.Database, version_id: int) -> Report:
    """Re-read one stored original in this process and replace its report in place; history is untouched."""
    doc = original(db, version_id)
    report = read_report(doc.body, doc.filename, doc.content_type, hints_for(db, doc.url, doc.portal_id))
    replace_report(db, version_id, report)
    return report


def reparse_versions(
    db: sqlite_utils.Database,
    version_ids: Iterable[int],
    workers: int | None = None,
    on_done: Callable[[int, str], None] | None = None,
) -> None:
    """Re-read many versions: reading in a process pool, writing here, at most 2 × workers bodies in memory."""
    if workers == 0:
        for vid in version_ids:
            report = reparse_version(db, vid)
            if on_done:
                on_done(vid, report.status)
        return
    pool = ReaderPool(workers)
    window = 2 * pool.workers
    pending: list[tuple[int, Future[Report]]] = []

    def finish_oldest() -> None:
        vid, future = pending.pop(0)
        report = future.result()
        replace_report(db, vid, report)
        if on_done:
            on_done(vid, report.status)

    try:
        with ThreadPoolExecutor(pool.workers) as threads:
            for vid in version_ids:
                doc = original(db, vid)
                hints = hints_for(db, doc.url, doc.portal_id)
                pending.append(
                    (vid, threads.submit(pool.read, doc.body, doc.filename, doc.content_type, hints))
                )
                if len(pending) >= window:
                    finish_oldest()
            while pending:
                finish_oldest()
    finally:
        pool.close()


def replace_report(db: sqlite_utils.Database, version_id: int, report: Report) -> None:
    """Write a re-read report over the old one in place, with the format and extractor it found (also the
    queue writer's reparse path)."""
    with db.atomic():
        write_report(db, version_id, report)
        db.execute(
            "UPDATE versions SET format = ?, extractor = ? WHERE id = ?",
            [report.meta.get("format"), report.meta.get("extractor"), version_id],
        )


def drop_non_report_rows(db: sqlite_utils.Database) -> int:
    """Delete reports written for list pages, portal pages, API answers and other places' reports."""
    ids = [
        r[0]
        for r in db.execute(
            "SELECT r.id FROM reports r JOIN versions v ON v.id = r.version_id"
            " JOIN documents d ON d.id = v.document_id WHERE d.kind NOT IN ('report', 'attachment', 'local')"
            " OR d.foreign_place IS NOT NULL"
        ).fetchall()
    ]
    with db.atomic():
        for rid in ids:
            for table in ("sections", "figures", "checks", "e0_facts"):
                db.execute(f"DELETE FROM {table} WHERE report_id = ?", [rid])
            db.execute("DELETE FROM reports_seg WHERE rowid = ?", [rid])
            db.execute("DELETE FROM reports WHERE id = ?", [rid])
        flush_pending(db)
    return len(ids)
