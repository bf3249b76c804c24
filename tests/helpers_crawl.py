"""Shared by the crawl tests: run `nianbao crawl` in a child process (Twisted's reactor cannot restart in
one process) and query the archive it wrote."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
from pathlib import Path


def run_crawl(*args: str, timeout: float = 180) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "crawler", "crawl", "--json", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def query(db: Path, sql: str, *params: object) -> list[tuple]:
    conn = sqlite3.connect(str(db))
    try:
        return conn.execute(sql, params).fetchall()
    finally:
        conn.close()
