"""Issue 11: kill -9 a crawl at seeded random moments, resume it, and the archive ends exactly as an
uninterrupted crawl leaves it: same documents and versions, same figures, nothing marked gone, the killed
crawl's row closed `interrupted`, SQLite integrity ok, every WARC record readable, no (document, sha256)
twice, every version with its bytes."""

from __future__ import annotations

import random
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from warcio.archiveiterator import ArchiveIterator

from crawler.demo.server import SiteServer

from .helpers_crawl import query
from .test_crawl_fixtures import FIXTURES, registry

SEEDS = (11, 23, 47)


def crawl_cmd(reg: Path, db: Path, tmp: Path) -> list[str]:
    return [
        sys.executable, "-m", "crawler", "crawl", "nextpage", "gbkfix", "--json", "--registry", str(reg),
        "--db", str(db), "--warc-dir", str(tmp / "warc"), "--jobdir", str(tmp / "job"),
    ]  # fmt: skip


def archive_state(db: Path) -> dict:
    docs = query(
        db,
        "SELECT d.url, v.sha256 FROM documents d JOIN versions v ON v.id = d.current_version_id ORDER BY d.url",
    )
    figures = query(
        db,
        'SELECT d.url, f."table", f."row", f."column", f.value FROM figures f JOIN reports r ON r.id ='
        " f.report_id JOIN documents d ON d.id = r.document_id WHERE r.is_latest = 1 ORDER BY 1, 2, 3, 4",
    )
    return {"docs": docs, "figures": figures}


def count_documents(db: Path) -> int:
    import sqlite3

    try:
        conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=1)
        try:
            return int(conn.execute("SELECT count(*) FROM documents").fetchone()[0])
        finally:
            conn.close()
    except sqlite3.Error:  # not created yet, or mid-migration
        return 0


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory):
    tmp = tmp_path_factory.mktemp("kill")
    shutil.copytree(FIXTURES, tmp / "site")
    server = SiteServer(tmp / "site").start()
    reg = registry(tmp / "portals", server.port, ["nextpage", "gbkfix"])
    base = tmp / "base"
    base.mkdir()
    proc = subprocess.run(crawl_cmd(reg, base / "a.db", base), capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]
    yield {"reg": reg, "expected": archive_state(base / "a.db"), "tmp": tmp}
    server.stop()


@pytest.mark.parametrize("seed", SEEDS)
def test_kill_minus_9_then_resume(site: dict, seed: int, tmp_path: Path) -> None:
    rng = random.Random(seed)
    db = tmp_path / "k.db"
    kills = []
    total = len(site["expected"]["docs"])
    for _ in range(2):  # two kills at seeded moments inside the crawl, then a run to the end
        target = rng.randint(1, total - 1)  # kill once the archive holds this many documents …
        extra = rng.uniform(0.0, 0.2)  # … plus a random delay (mid-write, mid-read, mid-WARC)
        proc = subprocess.Popen(
            crawl_cmd(site["reg"], db, tmp_path), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        start = time.monotonic()
        while time.monotonic() - start < 60 and proc.poll() is None:
            if db.exists() and count_documents(db) >= target:
                break
            time.sleep(0.02)
        time.sleep(extra)
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
        kills.append(f"{target} docs + {extra:.2f} s ({time.monotonic() - start:.2f} s)")
    final = subprocess.run(crawl_cmd(site["reg"], db, tmp_path), capture_output=True, text=True, timeout=300)
    print(f"seed {seed}: killed at {kills} s, final exit {final.returncode}")
    assert final.returncode == 0, final.stderr[-2000:]
    assert archive_state(db) == site["expected"]
    assert query(db, "SELECT count(*) FROM documents WHERE gone_since IS NOT NULL") == [(0,)]
    assert query(db, "SELECT count(*) FROM crawls WHERE status = 'running'") == [(0,)]
    statuses = [s for (s,) in query(db, "SELECT status FROM crawls ORDER BY id")]
    print(f"seed {seed}: crawl rows {statuses}")
    assert "interrupted" in statuses  # a kill landed inside a crawl, and its row was closed at the next start
    assert statuses[-2:] == ["finished", "finished"], statuses
    assert query(db, "PRAGMA integrity_check") == [("ok",)]
    assert query(db, "SELECT document_id, sha256 FROM versions GROUP BY 1, 2 HAVING count(*) > 1") == []
    assert query(db, "SELECT count(*) FROM versions v LEFT JOIN blobs b ON b.sha256 = v.sha256"
                     " WHERE b.sha256 IS NULL OR b.content IS NULL") == [(0,)]  # fmt: skip
    records = 0
    for warc in sorted((tmp_path / "warc").glob("*.warc.gz")):
        with open(warc, "rb") as fh:
            for rec in ArchiveIterator(fh):
                rec.content_stream().read()
                records += 1
    assert records > 0
