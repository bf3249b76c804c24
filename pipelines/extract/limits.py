"""Limits against hostile or broken files: size, pages, zip bombs, image pixels, time.

A file over a limit is not parsed: the extractor raises ExtractionError whose message contains "over limit",
and the store archives the raw bytes with that problem recorded.
"""

from __future__ import annotations

import io
import time
import zipfile

from .base import ExtractionError

MAX_BYTES = 64 * 1024 * 1024  # a report is a few MB at most; scanned PDFs of 100 pages stay under this
MAX_PAGES = 200  # PDF pages read (annual reports have 3-30)
MAX_ZIP_MEMBERS = 5_000
MAX_ZIP_UNCOMPRESSED = 256 * 1024 * 1024  # total uncompressed size of an OOXML/ODF container
MAX_ZIP_RATIO = 150  # uncompressed / compressed, per member (of some size) and overall
MAX_IMAGE_PIXELS = 80_000_000  # ≈ A3 at 600 dpi; Pillow's own bomb guard is 89 M
MAX_HTML_CHARS = 20_000_000
MAX_TABLE_CELLS = 200_000  # after rowspan/colspan expansion
MAX_SPAN = 1_000  # a rowspan/colspan above this is clamped (browsers clamp colspan at 1000, rowspan at 65534)
SOFFICE_TIMEOUT = 120.0  # seconds for one LibreOffice conversion
OCR_PAGE_TIMEOUT = 120.0  # seconds for tesseract on one page
EXTRACT_TIMEOUT = 300.0  # seconds for one document's extraction (checked between pages)


def over(what: str, value: object, limit: object) -> ExtractionError:
    return ExtractionError(f"{what} over limit ({value} > {limit})")


def check_size(data: bytes, limit: int = MAX_BYTES) -> None:
    if len(data) > limit:
        raise over("file size", f"{len(data)} bytes", f"{limit} bytes")


def check_zip(data: bytes) -> zipfile.ZipFile:
    """Open a zip container after checking its central directory against bomb limits (before inflating)."""
    try:
        zf = zipfile.ZipFile(io.BytesIO(data))
        infos = zf.infolist()
    except (zipfile.BadZipFile, ValueError, OSError) as exc:
        raise ExtractionError(f"broken zip container: {exc}") from exc
    if len(infos) > MAX_ZIP_MEMBERS:
        raise over("zip members", len(infos), MAX_ZIP_MEMBERS)
    total = sum(i.file_size for i in infos)
    packed = sum(i.compress_size for i in infos) or 1
    if total > MAX_ZIP_UNCOMPRESSED:
        raise over("zip uncompressed size", f"{total} bytes", f"{MAX_ZIP_UNCOMPRESSED} bytes")
    for i in infos:
        if i.file_size > 1_000_000 and i.file_size / max(i.compress_size, 1) > MAX_ZIP_RATIO:
            raise over(
                f"zip compression ratio of {i.filename}",
                round(i.file_size / max(i.compress_size, 1)),
                MAX_ZIP_RATIO,
            )
    if total > 10_000_000 and total / packed > MAX_ZIP_RATIO:
        raise over("zip compression ratio", round(total / packed), MAX_ZIP_RATIO)
    return zf


def check_pixels(width: int, height: int) -> None:
    if width * height > MAX_IMAGE_PIXELS:
        raise over("image pixels", f"{width}x{height}", MAX_IMAGE_PIXELS)


class Deadline:
    """A wall-clock budget checked between units of work (pages, tables)."""

    def __init__(self, seconds: float = EXTRACT_TIMEOUT, what: str = "extraction time"):
        self.seconds = seconds
        self.what = what
        self.start = time.monotonic()

    def remaining(self) -> float:
        return self.seconds - (time.monotonic() - self.start)

    def check(self) -> None:
        if self.remaining() < 0:
            raise over(self.what, f"{time.monotonic() - self.start:.0f} s", f"{self.seconds:.0f} s")
