"""Dated, immutable snapshots for publication.

Datasette offers the database download only for immutable databases (``-i``), so the public archive is a
series of dated snapshot files: ``nianbao-YYYY-MM-DD.db`` (a VACUUM INTO copy), each with a ``.sha256``
file, served with ``nianbao serve --db SNAPSHOT --immutable``. A snapshot is never written again: taking
one a second time on the same day adds a suffix (``nianbao-2026-11-23.2.db``).
"""

from __future__ import annotations

import os
import stat
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from .export import copy_database, sha256_file


@dataclass
class Snapshot:
    path: Path
    sha256: str
    size: int


def snapshot_path(out: Path, prefix: str, day: str) -> Path:
    path = out / f"{prefix}-{day}.db"
    n = 2
    while path.exists():
        path = out / f"{prefix}-{day}.{n}.db"
        n += 1
    return path


def take_snapshot(db_path: Path, out: Path, prefix: str = "nianbao", day: str | None = None) -> Snapshot:
    """Copy the archive to a new dated file, record its checksum, and make it read-only."""
    out.mkdir(parents=True, exist_ok=True)
    day = day or datetime.now(UTC).strftime("%Y-%m-%d")
    target = snapshot_path(out, prefix, day)
    copy_database(db_path, target, journal_mode="WAL")
    digest = sha256_file(target)
    target.with_suffix(".db.sha256").write_text(f"{digest}  {target.name}\n", encoding="utf-8")
    os.chmod(target, stat.S_IRUSR | stat.S_IRGRP | stat.S_IROTH)
    return Snapshot(target, digest, target.stat().st_size)
