"""Choose the extractor for a file by its content (magic bytes), never by URL suffix or Content-Type.

Limits are checked before anything is opened (size; zip bombs in the OOXML/ODF readers; pages, pixels and
time in the PDF/OCR readers); a file over a limit raises ExtractionError("… over limit …") and the store
archives its raw bytes with that problem.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from . import limits
from .base import Extracted, ExtractionError
from .detect import IMAGE_FORMATS, detect_format
from .text import extract_text

if TYPE_CHECKING:
    from .pdf import PdfReader

MAX_BYTES = limits.MAX_BYTES
SUPPORTED = (
    "html",
    "pdf",
    "docx",
    "odt",
    "doc",
    "wps",
    "rtf",
    "xlsx",
    "xls",
    "et",
    "ods",
    "text",
    *IMAGE_FORMATS,
)


def extract(data: bytes, filename: str | None = None, content_type: str | None = None) -> Extracted:
    """Extract text and grids from `data`. Raises ExtractionError (naming why) when nothing can be read.

    `filename` only separates Kingsoft .wps/.et from .doc/.xls (same binary formats inside); `content_type`
    (the HTTP header) is used for an HTML page's charset, never to decide the format."""
    if not data:
        raise ExtractionError("empty file")
    limits.check_size(data, MAX_BYTES)
    fmt = detect_format(data, filename)
    deadline = limits.Deadline()
    if fmt == "html":
        from .html import extract_html

        ex = extract_html(data, content_type=content_type)
    elif fmt == "pdf":
        from .pdf import extract_pdf

        ex = extract_pdf(data, deadline=deadline)
    elif fmt == "docx":
        from .docx import extract_docx

        ex = extract_docx(data)
    elif fmt in ("doc", "wps", "rtf", "odt"):
        from .legacy import extract_legacy

        if fmt == "odt":
            limits.check_zip(data)
        ex = extract_legacy(data, fmt)
    elif fmt in ("xlsx", "xls", "ods", "et"):
        from .sheet import extract_sheet

        ex = extract_sheet(data, "xls" if fmt == "et" else fmt)
        ex.format = fmt
    elif fmt in IMAGE_FORMATS:
        from .ocr import extract_image

        ex = extract_image(data, fmt)
    elif fmt == "text":
        ex = extract_text(data)
    else:
        what = {
            "zip": "a zip archive that is not a DOCX/XLSX/ODF document",
            "ole": "an OLE2 file that is not DOC/XLS/WPS",
            "pptx": "a PowerPoint presentation",
            "ppt": "a PowerPoint presentation",
        }
        raise ExtractionError(
            f"unsupported format: {what.get(fmt, 'unrecognised bytes')} ({fmt}); "
            f"supported: {', '.join(SUPPORTED)}"
        )
    return stamp(ex, fmt, data)


def stamp(ex: Extracted, fmt: str, data: bytes) -> Extracted:
    """The meta every extraction carries, whichever path produced it."""
    ex.meta.setdefault("detected_format", fmt)
    ex.meta.setdefault("bytes", len(data))
    return ex


def pdf_reader(data: bytes) -> PdfReader:
    """A PDF opened for reading in stages (pypdfium2 text now, the table finder only if asked), under the
    same limits as `extract`. The caller has already detected the format."""
    if not data:
        raise ExtractionError("empty file")
    limits.check_size(data, MAX_BYTES)
    from .pdf import PdfReader

    return PdfReader(data, deadline=limits.Deadline())


def extract_path(path: str | Path, content_type: str | None = None) -> Extracted:
    p = Path(path)
    return extract(p.read_bytes(), filename=p.name, content_type=content_type)
