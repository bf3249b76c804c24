"""Which stored versions a queued reparse reads, with their bodies copied to the spool (the archive is read
only here: the writer stays the one process writing it). The versions and the hints are the single-process
`nianbao reparse`'s (archive/reparse.py): reports, attachments and local files, never another place's report."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

import sqlite_utils

from archive.reparse import hints_for, readable_versions
from archive.spool import Spool
from archive.store import original


def reparse_requests(
    db_path: Path, spool: Spool, fmt: str | None, parser_version: str | None, status: str | None
) -> list[dict[str, Any]]:
    """Read requests (mode `reparse`: the writer replaces the report in place) for the versions that match."""
    db = sqlite_utils.Database(sqlite3.connect(f"file:{db_path.resolve()}?mode=ro", uri=True))
    try:
        ids = readable_versions(db)
        filters = [
            (c, v)
            for c, v in (("v.format", fmt), ("r.parser_version", parser_version), ("r.status", status))
            if v
        ]
        if filters:
            sql = (
                "SELECT v.id FROM versions v LEFT JOIN reports r ON r.version_id = v.id WHERE "
                + " AND ".join(f"{c} = ?" for c, _ in filters)
            )
            wanted = {r[0] for r in db.execute(sql, [v for _, v in filters]).fetchall()}
            ids = [i for i in ids if i in wanted]
        out = []
        for vid in ids:
            doc = original(db, vid)
            sha = spool.put(doc.body)
            out.append(
                {
                    "version_id": vid,
                    "document_id": db.execute(
                        "SELECT document_id FROM versions WHERE id = ?", [vid]
                    ).fetchone()[0],
                    "sha256": sha,
                    "filename": doc.filename,
                    "content_type": doc.content_type,
                    "hints": hints_for(db, doc.url, doc.portal_id).to_dict(),
                    "previous_version_id": None,
                    "mode": "reparse",
                }
            )
        return out
    finally:
        db.close()
