"""The crawler's only door to the archive's tables: portals, crawl rows, validators, stored bodies, gone.

Scrapy code never writes SQL: it calls these small functions (the write path for bytes and reports is
`archive/store.py`). `ArchiveView` is a read-only connection for the spider's look-ups during a crawl.
"""

from __future__ import annotations

import json
import os
import sqlite3
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import sqlite_utils

from .db import insert_row
from .store import find_document, now_iso


def portal_row(portal: dict[str, Any]) -> dict[str, Any]:
    """The `portals` row of a registry entry given as a dict (`Portal.as_dict()` plus its `name`): the same
    row whether a crawl registers its portal itself or queue mode's writer does it from a message."""
    return {
        "id": portal["name"],
        "name": portal.get("title") or portal["agency"],
        "agency": portal["agency"],
        "region": portal.get("region"),
        "level": portal.get("level"),
        "cms": portal.get("cms"),
        "start_urls": json.dumps(portal.get("start_urls", []), ensure_ascii=False),
        "allowed_domains": json.dumps(portal.get("allowed_domains", [])),
        "hints": json.dumps(portal.get("hints", {}), ensure_ascii=False),
    }


def register_portal(db: sqlite_utils.Database, row: dict[str, Any]) -> None:
    """Insert or refresh one registry entry (`row` has the `portals` columns; `id` is the portal name)."""
    db.table("portals").upsert({**row, "registered_at": now_iso()}, pk="id")


def open_crawl(db: sqlite_utils.Database, portal_id: str) -> int:
    """A `crawls` row for a crawl that starts now, status `running`, owned by this process."""
    close_dead_crawls(db, portal_id)
    return insert_row(
        db,
        "crawls",
        {"portal_id": portal_id, "started_at": now_iso(), "status": "running", "pid": os.getpid()},
    )


def _alive(pid: int | None) -> bool:
    if not pid:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's live process
        return True
    return True


def close_dead_crawls(db: sqlite_utils.Database, portal_id: str) -> int:
    """Close the `running` rows of `portal_id` whose process is gone (kill -9, OOM, power cut): `interrupted`.

    A row stays `running` only while its process lives; a row without a pid (before m005) is closed too.
    """
    rows = db.execute(
        "SELECT id, pid FROM crawls WHERE portal_id = ? AND status = 'running'", [portal_id]
    ).fetchall()
    dead = [cid for cid, pid in rows if pid != os.getpid() and not _alive(pid)]
    with db.atomic():
        for cid in dead:
            db.table("crawls").update(
                cid,
                {
                    "status": "interrupted",
                    "finished_at": now_iso(),
                    "reason": "the crawling process ended without closing its row (killed)",
                },
            )
    return len(dead)


def record_error(
    db: sqlite_utils.Database,
    crawl_id: int | None,
    url: str,
    *,
    stage: str,
    reason: str,
    kind: str | None = None,
    http_status: int | None = None,
    attempts: int | None = None,
) -> int:
    """One failed fetch, answer, read or write of a crawl (`crawl_errors`): the fault on record, not a counter."""
    return insert_row(
        db,
        "crawl_errors",
        {
            "crawl_id": crawl_id,
            "url": url,
            "kind": kind,
            "stage": stage,
            "reason": reason[:2000],
            "http_status": http_status,
            "attempts": attempts,
            "at": now_iso(),
        },
    )


def close_crawl(db: sqlite_utils.Database, crawl_id: int, row: dict[str, Any]) -> None:
    """Record how a crawl ended (`status`, counts, stats JSON …) with its finishing time."""
    db.table("crawls").update(crawl_id, {"finished_at": now_iso(), **row})


def mark_seen_unchanged(
    db: sqlite_utils.Database, url: str, when: str | None = None, http_status: int = 304
) -> bool:
    """A conditional request answered 304: the document is still served, unchanged. False if unknown URL."""
    doc = find_document(db, url)
    if doc is None:
        return False
    when = when or now_iso()
    with db.atomic():
        db.execute(
            "UPDATE documents SET last_seen = ?, gone_since = NULL, last_status = ? WHERE id = ?",
            [when, http_status, doc[0]],
        )
        db.execute(
            "UPDATE versions SET last_seen = ? WHERE id = (SELECT coalesce(current_version_id,"
            " (SELECT max(id) FROM versions WHERE document_id = documents.id)) FROM documents WHERE id = ?)",
            [when, doc[0]],
        )
    return True


def mark_gone(
    db: sqlite_utils.Database, url: str, when: str | None = None, http_status: int | None = None
) -> bool:
    """The portal no longer serves `url` (404/410 or dropped from its list): keep it, note since when."""
    doc = find_document(db, url)
    if doc is None:
        return False
    with db.atomic():
        db.execute(
            "UPDATE documents SET gone_since = coalesce(gone_since, ?), last_status = coalesce(?, last_status)"
            " WHERE id = ?",
            [when or now_iso(), http_status, doc[0]],
        )
    return True


def portal_report_urls(db: sqlite_utils.Database, portal_id: str) -> set[str]:
    """The URLs of the reports of `portal_id` the archive believes still served (not gone): what a crawl
    that reads the portal's lists completely should reach again."""
    rows = db.execute(
        "SELECT url FROM documents WHERE portal_id = ? AND kind = 'report' AND gone_since IS NULL",
        [portal_id],
    ).fetchall()
    return {url for (url,) in rows}


def unseen_documents(
    db: sqlite_utils.Database, portal_id: str, present: set[str]
) -> list[tuple[str, str | None]]:
    """Reports and attachments of a portal, not yet gone, that a crawl neither fetched nor saw linked, with
    the page that linked them first (`discovered_from`)."""
    rows = db.execute(
        "SELECT url, discovered_from FROM documents WHERE portal_id = ? AND kind IN ('report', 'attachment')"
        " AND gone_since IS NULL",
        [portal_id],
    ).fetchall()
    return [(url, source) for url, source in rows if url not in present]


def mark_gone_unseen(
    db: sqlite_utils.Database, portal_id: str, present: set[str], read_pages: set[str]
) -> tuple[int, int]:
    """The gone pass by absence: a document neither fetched nor linked in this crawl is gone only when the
    page that listed it first was read completely in this crawl (`read_pages`); the others are kept.
    Returns (marked gone, kept)."""
    gone = kept = 0
    for url, source in unseen_documents(db, portal_id, present):
        if source in read_pages:
            gone += mark_gone(db, url)
        else:
            kept += 1
    return gone, kept


def crawl_rows(db_path: Path, crawl_ids: Iterable[int]) -> list[dict[str, Any]]:
    """The `crawls` rows of `crawl_ids` (missing ones skipped), stats decoded."""
    conn = _read_only(db_path)
    out = []
    try:
        for cid in crawl_ids:
            cur = conn.execute("SELECT * FROM crawls WHERE id = ?", [cid])
            r = cur.fetchone()
            if r is None:
                continue
            row = dict(zip([d[0] for d in cur.description], r, strict=True))
            row["stats"] = json.loads(row.get("stats") or "{}")
            out.append(row)
    finally:
        conn.close()
    return out


def warc_files(db_path: Path, crawl_ids: Iterable[int]) -> list[str]:
    """The WARC files written by `crawl_ids`, in crawl order."""
    return [f for row in crawl_rows(db_path, crawl_ids) for f in json.loads(row.get("warc_files") or "[]")]


def replay_pages(db_path: Path) -> tuple[set[str], dict[str, str]]:
    """URLs worth a replay entry (pages and reports) and the best title known for every URL."""
    conn = _read_only(db_path)
    try:
        wanted = {r[0] for r in conn.execute("SELECT url FROM documents WHERE kind IN ('page', 'report')")}
        titles = dict(conn.execute("SELECT url, coalesce(title, link_text) FROM documents").fetchall())
    finally:
        conn.close()
    return wanted, {k: v for k, v in titles.items() if v}


def set_wacz_path(db_path: Path, crawl_ids: Iterable[int], wacz: Path) -> None:
    db = sqlite_utils.Database(db_path)
    with db.atomic():
        for cid in crawl_ids:
            db.table("crawls").update(cid, {"wacz_path": str(wacz)})
    db.close()


def _read_only(db_path: Path | str) -> sqlite3.Connection:
    return sqlite3.connect(f"file:{Path(db_path).resolve()}?mode=ro", uri=True, check_same_thread=False)


class ArchiveView:
    """Read-only view of the archive for a crawl: validators for conditional requests, stored bodies."""

    def __init__(self, db_path: str | Path | None):
        self.validators: dict[str, tuple[str | None, str | None]] = {}
        self.conn: sqlite3.Connection | None = None
        if db_path and Path(db_path).exists():
            self.conn = _read_only(db_path)
            try:
                # A report or attachment whose current version was never read (a crawl killed between
                # archiving and reading) is fetched without validators: a 304 has no bytes to read, a 200 of
                # the same bytes is read then. 详见附件 landing pages look the same here (never read) and are
                # fetched in full too: small pages. Other places' reports are never read: they keep theirs.
                rows = self.conn.execute(
                    "SELECT url, etag, last_modified FROM documents d"
                    " WHERE (etag IS NOT NULL OR last_modified IS NOT NULL)"
                    " AND NOT (kind IN ('report', 'attachment') AND foreign_place IS NULL"
                    " AND NOT EXISTS (SELECT 1 FROM reports r WHERE r.version_id = d.current_version_id))"
                ).fetchall()
            except sqlite3.OperationalError:
                rows = []
            self.validators = {r[0]: (r[1], r[2]) for r in rows}

    def latest_body(self, url: str) -> tuple[bytes, str | None] | None:
        """The newest archived bytes of `url` and their content type (the links of a 304'd page)."""
        if self.conn is None:
            return None
        row = self.conn.execute(
            "SELECT b.content, v.content_type FROM documents d JOIN versions v ON v.document_id = d.id"
            " JOIN blobs b ON b.sha256 = v.sha256 WHERE d.url = ? ORDER BY v.id DESC LIMIT 1",
            [url],
        ).fetchone()
        return (bytes(row[0]), row[1]) if row else None

    def close(self) -> None:
        if self.conn is not None:
            self.conn.close()
            self.conn = None
