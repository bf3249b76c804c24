"""A content-addressed spool: bodies by sha256 in a directory shared by crawl workers, the writer and readers.

In queue mode a capture message carries a body's sha256, not the body; the bytes wait here until the writer
has archived them (and a reader has read them). Writes are atomic (temporary file + rename), so a process
killed mid-write leaves no half body under a real name; the same bytes written twice are one file.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from pathlib import Path


class SpoolMissing(LookupError):
    """A body named by a message is not in the spool (another machine's spool, or pruned)."""


class Spool:
    def __init__(self, root: str | Path):
        self.root = Path(root)

    def path(self, sha256: str) -> Path:
        return self.root / sha256[:2] / sha256

    def put(self, body: bytes) -> str:
        sha = hashlib.sha256(body).hexdigest()
        target = self.path(sha)
        if target.exists():
            return sha
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".part-")
        try:
            with os.fdopen(fd, "wb") as fh:
                fh.write(body)
            os.replace(tmp, target)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        return sha

    def get(self, sha256: str) -> bytes:
        try:
            body = self.path(sha256).read_bytes()
        except FileNotFoundError:
            raise SpoolMissing(f"body {sha256} is not in the spool {self.root}") from None
        if hashlib.sha256(body).hexdigest() != sha256:
            raise SpoolMissing(f"body {sha256} in the spool {self.root} does not match its name")
        return body

    def has(self, sha256: str) -> bool:
        return self.path(sha256).exists()
