"""Which stored versions a queued reparse reads, with their bodies copied to the spool (the archive is read
only here: the writer stays the one process writing it)."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

from archive.spool import Spool

READABLE_KINDS = ("report", "attachment", "local")


def reparse_requests(
    db_path: Path, spool: Spool, fmt: str | None, parser_version: str | None, status: str | None
) -> list[dict[str, Any]]:
    conn = sqlite3.connect(f"file:{db_path.resolve()}?mode=ro", uri=True)
    try:
        sql = (
            "SELECT v.id, v.document_id, v.sha256, v.filename, v.content_type, d.url, p.agency, p.region,"
            " p.level, d.link_text, b.content FROM versions v JOIN documents d ON d.id = v.document_id"
            " JOIN blobs b ON b.sha256 = v.sha256 LEFT JOIN portals p ON p.id = d.portal_id"
            " LEFT JOIN reports r ON r.version_id = v.id WHERE d.kind IN ('report', 'attachment', 'local')"
        )
        params: list[Any] = []
        for column, value in (("v.format", fmt), ("r.parser_version", parser_version), ("r.status", status)):
            if value:
                sql += f" AND {column} = ?"
                params.append(value)
        out = []
        for vid, did, sha, filename, ctype, url, agency, region, level, link_text, content in conn.execute(
            sql + " ORDER BY v.id", params
        ):
            if not spool.has(sha):
                spool.put(bytes(content))
            out.append(
                {
                    "version_id": vid,
                    "document_id": did,
                    "sha256": sha,
                    "filename": filename or url.rsplit("/", 1)[-1],
                    "content_type": ctype,
                    "hints": {
                        "url": url,
                        "agency": agency,
                        "region": region,
                        "level": level,
                        "link_text": link_text,
                        "attachments": [],
                    },
                    "previous_version_id": None,
                    "mode": "reparse",
                }
            )
        return out
    finally:
        conn.close()
