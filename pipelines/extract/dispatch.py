"""Choose the extractor for a file by its content (magic bytes), never by URL suffix or Content-Type."""

from __future__ import annotations

from pathlib import Path

from .base import Extracted, ExtractionError
from .text import extract_text

MAX_BYTES = 64 * 1024 * 1024


def extract(data: bytes, filename: str | None = None) -> Extracted:
    """Extract text and grids from `data`. Raises ExtractionError (naming why) when nothing can be read."""
    if not data:
        raise ExtractionError("empty file")
    if len(data) > MAX_BYTES:
        raise ExtractionError(f"file too large ({len(data)} bytes > {MAX_BYTES})")
    return extract_text(data)


def extract_path(path: str | Path) -> Extracted:
    p = Path(path)
    return extract(p.read_bytes(), filename=p.name)
