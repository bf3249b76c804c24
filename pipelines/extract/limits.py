"""Limits against hostile or broken files: size, pages, zip bombs, image pixels, time.

A file over a limit is not parsed: the extractor raises ExtractionError whose message contains "over limit",
and the store archives the raw bytes with that problem recorded.
"""

from __future__ import annotations

import io
import struct
import time
import zipfile
import zlib

from .base import ExtractionError

MAX_BYTES = 64 * 1024 * 1024  # a report is a few MB at most; scanned PDFs of 100 pages stay under this
MAX_PAGES = 200  # PDF pages read (annual reports have 3-30)
MAX_ZIP_MEMBERS = 5_000
MAX_ZIP_UNCOMPRESSED = 256 * 1024 * 1024  # total uncompressed size of an OOXML/ODF container
MAX_ZIP_RATIO = 150  # uncompressed / compressed, per member (of some size) and overall
MAX_ZIP_MEMBER = 128 * 1024 * 1024  # one member inflated (document.xml of a 300-page report: ~20 MB)
INFLATE_CHUNK = 1024 * 1024  # bytes inflated at a time while measuring: memory stays at a few MB
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
    measure_zip(data, infos)
    return zf


def _member_data(data: bytes, info: zipfile.ZipInfo) -> memoryview:
    """The compressed bytes of one member, found through its local header (not trusting compress_size
    beyond the end of the file)."""
    off = info.header_offset
    header = data[off : off + 30]
    if len(header) < 30 or header[:4] != b"PK\x03\x04":
        raise ExtractionError(f"broken zip container: no local header for {info.filename}")
    name_len, extra_len = struct.unpack("<HH", header[26:30])
    start = off + 30 + name_len + extra_len
    return memoryview(data)[start : start + info.compress_size]


def measure_zip(data: bytes, infos: list[zipfile.ZipInfo]) -> int:
    """Inflate every member as a stream, INFLATE_CHUNK at a time, and count what really comes out.

    The central directory can lie (declare 1 KB for a member that inflates to 1 GB); readers that trust it
    (or ignore it: calamine, LibreOffice) would then inflate the bomb in memory. Here the output is counted
    and dropped: a member over MAX_ZIP_MEMBER, a total over MAX_ZIP_UNCOMPRESSED or a member larger than
    its declared size stops the file before any reader opens it. Returns the total inflated size.
    """
    total = 0
    for info in infos:
        if info.is_dir():
            continue
        raw = _member_data(data, info)
        if info.compress_type == zipfile.ZIP_STORED:
            size = len(raw)
        elif info.compress_type == zipfile.ZIP_DEFLATED:
            size = _inflated_size(raw, info.filename, MAX_ZIP_MEMBER, MAX_ZIP_UNCOMPRESSED - total)
        else:
            raise ExtractionError(
                f"unsupported zip compression method {info.compress_type} ({info.filename})"
            )
        if size > info.file_size:
            raise over(
                f"zip member {info.filename} inflated size (the directory declares {info.file_size} bytes)",
                f"{size} bytes",
                f"{info.file_size} bytes",
            )
        total += size
    return total


def _inflated_size(raw: memoryview, name: str, member_cap: int, total_left: int) -> int:
    inflater = zlib.decompressobj(-zlib.MAX_WBITS)
    size = 0
    pos = 0
    pending = b""
    cap = min(member_cap, total_left)
    try:
        while True:
            if pending:
                out = inflater.decompress(pending, INFLATE_CHUNK)
            elif pos < len(raw):
                out = inflater.decompress(raw[pos : pos + INFLATE_CHUNK], INFLATE_CHUNK)
                pos += INFLATE_CHUNK
            else:
                out = inflater.flush()
                size += len(out)
                break
            pending = inflater.unconsumed_tail
            size += len(out)
            if size > cap:
                what = "zip member size" if cap == member_cap else "zip uncompressed size"
                raise over(f"{what} ({name}, inflated as a stream)", f"more than {cap} bytes", f"{cap} bytes")
            if inflater.eof:
                break
    except zlib.error as exc:
        raise ExtractionError(f"broken zip container: {name}: {exc}") from exc
    return size


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
