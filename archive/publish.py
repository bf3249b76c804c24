"""The published file: a lean copy of the archive, and immutable snapshots under a stable name.

The live archive keeps everything (original bytes in `blobs.content`, the full text in `reports.text`, the
trigram index `sections_fts` and the segmented index `sections_seg`). The copy people download keeps the data
only (docs/archive.md, "Publishing"):

- original bytes move to a content-addressed store beside the database (``originals/<sha[:2]>/<sha>``;
  they are also in the crawl's WARC/WACZ); `blobs` keeps sha256 and size;
- one copy of the text: `reports.text` is emptied where the report has sections (their concatenation in
  `position` order is the text); reports without sections keep it;
- the folded search indexes only: `sections_tri` (3+ Han characters) and `sections_seg` / `reports_seg`
  (any length), without the raw-text trigram `sections_fts`; `sections_seg` keeps its `chars` stream only
  (the jieba `words` stream is emptied: it adds no hits, only bm25 order, which no search uses), and every
  index is merged into one b-tree (FTS5 'optimize');
- figures stored once: `figures` is rebuilt WITHOUT ROWID on its natural key (report_id, table, row,
  column), so neither a rowid table beside a UNIQUE index nor the (table, row, column) lookup index is kept
  (together two thirds of the figures' bytes); `source` JSON is written compact;
- checks keep `cells` where a reader needs them (failed checks and checks against another report); a passed
  check within one report read the cells its rule names (pipelines/rules.py, docs/data-dictionary.md).
  The index on (rule, ok) becomes a partial index on the failed checks.

Measured by bench/bench_publish_size.py (per 1,000 real-like reports, docs/archive.md "Publishing").

Snapshots are ``OUT/<YYYY-MM-DD>/<name>.db`` (a second one the same day: ``<YYYY-MM-DD>.2``) with a
``.sha256`` file and ``originals/``: every snapshot serves under the same database name, so a cited URL
(``/nianbao/-/report/…``) works on the next snapshot too. Served with ``nianbao serve --immutable``.
"""

from __future__ import annotations

import os
import sqlite3
import stat
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from .export import copy_database, sha256_file
from .originals import store_path


@dataclass
class LeanResult:
    path: Path
    originals: Path
    originals_written: int
    size: int


@dataclass
class Snapshot:
    path: Path
    sha256: str
    size: int
    originals: Path


def _write_original(root: Path, sha256: str, content: bytes) -> bool:
    """Write one original at its content address unless it is there already (atomic rename)."""
    path = store_path(root, sha256)
    if path.exists():
        return False
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_bytes(content)
    os.replace(tmp, path)
    return True


def _drop_trigram_index(conn: sqlite3.Connection) -> None:
    names = [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'trigger'")]
    for trigger in names:
        sql = conn.execute("SELECT sql FROM sqlite_master WHERE name = ?", [trigger]).fetchone()[0] or ""
        if "sections_fts" in sql:
            conn.execute(f"DROP TRIGGER [{trigger}]")
    conn.execute("DROP TABLE IF EXISTS sections_fts")


def _slim_search_indexes(conn: sqlite3.Connection) -> None:
    """Re-index sections_seg with its `chars` stream only, then merge each FTS5 index's segments."""
    import sqlite_utils

    from pipelines.segment import chars_stream, fold

    from .search import flush_pending

    names = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    if "search_pending" in names:
        flush_pending(sqlite_utils.Database(conn))  # both indexes forget edited or deleted sections
    if "sections_seg" in names:
        conn.execute("INSERT INTO sections_seg (sections_seg) VALUES ('delete-all')")
        last = 0
        while True:
            rows = conn.execute(
                "SELECT id, text FROM sections WHERE id > ? ORDER BY id LIMIT 5000", [last]
            ).fetchall()
            if not rows:
                break
            conn.executemany(
                "INSERT INTO sections_seg (rowid, words, chars) VALUES (?, '', ?)",
                [(sid, chars_stream(fold(text))) for sid, text in rows],
            )
            last = rows[-1][0]
    for table in ("sections_seg", "sections_tri", "reports_seg"):
        if table in names:
            conn.execute(f"INSERT INTO [{table}] ([{table}]) VALUES ('optimize')")


def _json_compact(column: str) -> str:
    return f"CASE WHEN json_valid([{column}]) THEN json([{column}]) ELSE [{column}] END"


FIGURES_KEY = ("report_id", "table", "row", "column")


def _compact_figures(conn: sqlite3.Connection) -> None:
    """Rebuild `figures` WITHOUT ROWID on its natural key, same columns and foreign keys; its other indexes
    and triggers are recreated, the lookup index on (table, row, column) is not (the views read figures by
    report). Views keep working: they name the table, which exists again under the same name."""
    info = conn.execute("PRAGMA table_info(figures)").fetchall()
    row = conn.execute("SELECT sql FROM sqlite_master WHERE type = 'table' AND name = 'figures'").fetchone()
    if not info or "WITHOUT ROWID" in (row[0] or "").upper():
        return
    columns = [r[1] for r in info]
    defs = [
        f"[{r[1]}] {r[2] or ''}{' NOT NULL' if r[3] or r[5] or r[1] in FIGURES_KEY else ''}" for r in info
    ]
    for fk in conn.execute("PRAGMA foreign_key_list(figures)").fetchall():
        defs.append(f"FOREIGN KEY ([{fk[3]}]) REFERENCES [{fk[2]}]([{fk[4] or 'id'}])")
    defs.append(f"PRIMARY KEY ({', '.join(f'[{c}]' for c in FIGURES_KEY)})")
    keep = conn.execute(
        "SELECT sql FROM sqlite_master WHERE tbl_name = 'figures' AND type IN ('index', 'trigger')"
        " AND sql IS NOT NULL AND name != 'idx_figures_lookup'"
    ).fetchall()
    select = ", ".join(_json_compact(c) if c == "source" else f"[{c}]" for c in columns)
    conn.execute("PRAGMA legacy_alter_table = ON")  # the views name `figures`: no rewrite while it is away
    conn.execute(f"CREATE TABLE figures_compact ({', '.join(defs)}) WITHOUT ROWID")
    conn.execute(f"INSERT INTO figures_compact SELECT {select} FROM figures")
    conn.execute("DROP TABLE figures")
    conn.execute("ALTER TABLE figures_compact RENAME TO figures")
    conn.execute("PRAGMA legacy_alter_table = OFF")
    for (sql,) in keep:
        conn.execute(sql)


def _slim_checks(conn: sqlite3.Connection) -> None:
    """Cells of passed within-report checks follow from the rule; failed and cross-report checks keep them."""
    cols = {r[1] for r in conn.execute("PRAGMA table_info(checks)")}
    if "cells" in cols:
        conn.execute("UPDATE checks SET cells = NULL WHERE ok = 1 AND compared_report_id IS NULL")
        conn.execute(f"UPDATE checks SET cells = {_json_compact('cells')} WHERE cells IS NOT NULL")
    conn.execute("DROP INDEX IF EXISTS idx_checks_rule")
    conn.execute("CREATE INDEX IF NOT EXISTS idx_checks_failed ON checks(rule) WHERE ok = 0")


def lean_copy(src: Path, target: Path, originals: Path, journal_mode: str = "DELETE") -> LeanResult:
    """Write the published copy of `src` at `target`, its originals under `originals`. Built under a
    temporary name and renamed at the end: an interrupted run never leaves a half-lean database."""
    from .codes_table import fill_codes

    tmp = target.with_name(target.name + ".building")
    copy_database(src, tmp, journal_mode="DELETE")
    written = 0
    conn = sqlite3.connect(tmp)
    try:
        cols = [r[1] for r in conn.execute("PRAGMA table_info(blobs)")]
        if "content" in cols:
            for sha, content in conn.execute("SELECT sha256, content FROM blobs"):
                written += _write_original(originals, sha, bytes(content))
            conn.execute("ALTER TABLE blobs DROP COLUMN content")
        conn.execute(
            "UPDATE reports SET text = NULL WHERE text IS NOT NULL"
            " AND EXISTS (SELECT 1 FROM sections s WHERE s.report_id = reports.id)"
        )
        _drop_trigram_index(conn)
        _slim_search_indexes(conn)
        _compact_figures(conn)
        _slim_checks(conn)
        import sqlite_utils

        fill_codes(sqlite_utils.Database(conn))
        conn.commit()
        conn.execute("VACUUM")
        conn.execute(f"PRAGMA journal_mode = {journal_mode}")
    finally:
        conn.close()
    os.replace(tmp, target)
    return LeanResult(target, originals, written, target.stat().st_size)


def snapshot_dir(out: Path, day: str) -> Path:
    path = out / day
    n = 2
    while path.exists():
        path = out / f"{day}.{n}"
        n += 1
    return path


def take_snapshot(db_path: Path, out: Path, name: str = "nianbao", day: str | None = None) -> Snapshot:
    """Write a lean, read-only copy at ``out/<day>/<name>.db`` with its checksum and originals."""
    day = day or datetime.now(UTC).strftime("%Y-%m-%d")
    folder = snapshot_dir(out, day)
    folder.mkdir(parents=True)
    target = folder / f"{name}.db"
    # WAL: `nianbao serve`'s schema check never rewrites the header of a served snapshot.
    lean = lean_copy(db_path, target, folder / "originals", journal_mode="WAL")
    digest = sha256_file(target)
    target.with_suffix(".db.sha256").write_text(f"{digest}  {target.name}\n", encoding="utf-8")
    os.chmod(target, stat.S_IRUSR | stat.S_IRGRP | stat.S_IROTH)
    return Snapshot(target, digest, lean.size, lean.originals)
