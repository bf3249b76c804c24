"""Archive local files and folders: each file is a document, each distinct content a version."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import sqlite_utils

from pipelines.read import read_report

from .store import FetchMeta, StoreResult, store

# Files that are never reports (editor debris, OS metadata, our own databases).
SKIP_NAMES = {".DS_Store", "Thumbs.db", "desktop.ini", "MANIFEST.tsv"}
SKIP_SUFFIXES = {".db", ".db-wal", ".db-shm", ".db-journal", ".pyc"}


def iter_files(paths: Iterable[str | Path]) -> Iterator[Path]:
    """Every file under `paths`, in a stable order; hidden files and folders are skipped."""
    for raw in paths:
        p = Path(raw)
        if p.is_dir():
            for child in sorted(p.rglob("*")):
                rel = child.relative_to(p)
                hidden = any(part.startswith(".") for part in rel.parts)
                skipped = child.name in SKIP_NAMES or child.suffix in SKIP_SUFFIXES
                if child.is_file() and not hidden and not skipped:
                    yield child
        else:
            yield p


@dataclass
class IngestSummary:
    files: int = 0
    new_versions: int = 0
    unchanged: int = 0
    failed: list[tuple[str, str]] = field(default_factory=list)  # (path, why)
    results: list[tuple[Path, StoreResult]] = field(default_factory=list)


def ingest_file(db: sqlite_utils.Database, path: Path) -> StoreResult:
    """Archive one local file (document URL = its file:// URI)."""
    body = path.read_bytes()
    meta = FetchMeta(url=path.resolve().as_uri(), kind="local", filename=path.name)
    return store(db, body, meta, read=lambda: read_report(body, path.name))


def ingest_paths(
    db: sqlite_utils.Database, paths: Iterable[str | Path], progress: Callable[[Path], None] | None = None
) -> IngestSummary:
    """Archive every file under `paths`. Unreadable or unparseable files are recorded, not raised."""
    summary = IngestSummary()
    for path in iter_files(paths):
        summary.files += 1
        try:
            result = ingest_file(db, path)
        except OSError as exc:
            summary.failed.append((str(path), f"cannot read: {exc.strerror or exc}"))
        else:
            summary.results.append((path, result))
            if result.new_version:
                summary.new_versions += 1
            else:
                summary.unchanged += 1
            if result.status == "failed":
                summary.failed.append((str(path), "; ".join(result.problems) or "nothing could be read"))
        if progress:
            progress(path)
    return summary
