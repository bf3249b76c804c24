"""`nianbao crawl --jobdir`: resume a crawl that was stopped cleanly, never trust one that was killed.

Scrapy's JOBDIR (disk queues + seen fingerprints) survives Ctrl-C / SIGTERM, which close it properly, but
not SIGKILL or an OOM kill: a queue file cut mid-record later fails with `struct.error` and the resumed
crawl stops half-way. And a JOBDIR left by a crawl that *finished* holds every fingerprint, so reusing it
fetches nothing. So each portal's JOBDIR carries a marker: `running` while a crawl uses it, then the
crawl's final status. At the next start:

- `interrupted` (a clean stop): resume from Scrapy's queue;
- `running` (the process died), or a finished/failed crawl, or no marker over old contents: start afresh.
  Nothing is lost by starting afresh: everything fetched is in the archive, and conditional requests
  (ETag / Last-Modified) make the second fetch of unchanged reports cheap.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

MARKER = "nianbao-state.json"


def prepare(folder: Path) -> bool:
    """Make `folder` ready for a crawl; True when it is resumed from a cleanly stopped crawl."""
    marker = folder / MARKER
    state = None
    if marker.exists():
        try:
            state = json.loads(marker.read_text(encoding="utf-8")).get("status")
        except (ValueError, OSError):
            state = None
    resumed = state == "interrupted"
    if not resumed and folder.exists():
        shutil.rmtree(folder)
    folder.mkdir(parents=True, exist_ok=True)
    write(folder, "running", previous=state)
    return resumed


def write(folder: Path, status: str, previous: str | None = None) -> None:
    body = {"status": status} | ({"previous": previous} if previous else {})
    tmp = folder / (MARKER + ".tmp")
    tmp.write_text(json.dumps(body), encoding="utf-8")
    tmp.replace(folder / MARKER)
