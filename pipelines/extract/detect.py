"""Format detection by content (magic bytes), never by URL suffix or Content-Type (portals get both wrong).

`detect_format(data)` returns one of: pdf, docx, xlsx, odt, ods, doc, wps, xls, et, rtf, png, jpeg, gif, tiff,
bmp, webp, html, text, or an unsupported kind (zip, ole, pptx, ppt, unknown) that the dispatcher refuses.
"""

from __future__ import annotations

import io
import re
import struct
import zipfile

IMAGE_FORMATS = ("png", "jpeg", "gif", "tiff", "bmp", "webp")
OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"

_HTML_SNIFF = re.compile(
    rb"<(?:!doctype\s+html|html|head|body|title|meta|table|div|p|script|style|iframe|a\s|font|br|h[1-6]|!--)",
    re.I,
)


def detect_format(data: bytes, filename: str | None = None) -> str:
    """What `data` is, from its bytes. `filename` only tells a Kingsoft .wps/.et from .doc/.xls when the
    OLE streams are the same (both are Word/Excel binary formats inside)."""
    head = data[:2048]
    if b"%PDF-" in data[:1024]:
        return "pdf"
    if head.startswith(b"PK\x03\x04"):
        return _zip_kind(data)
    if head.startswith(OLE_MAGIC):
        return _ole_kind(data, filename)
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if head.startswith(b"\xff\xd8\xff"):
        return "jpeg"
    if head[:6] in (b"GIF87a", b"GIF89a"):
        return "gif"
    if head[:4] in (b"II*\x00", b"MM\x00*"):
        return "tiff"
    if head[:2] == b"BM" and len(head) > 14:
        return "bmp"
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "webp"
    if head.lstrip(b"\xef\xbb\xbf \t\r\n").startswith(b"{\\rtf"):
        return "rtf"
    if _looks_html(head):
        return "html"
    if _looks_text(data[:8192]):
        return "text"
    return "unknown"


def _looks_html(head: bytes) -> bool:
    for bom in (b"\xef\xbb\xbf", b"\xff\xfe", b"\xfe\xff"):
        if head.startswith(bom):
            head = head[len(bom) :]
            if bom != b"\xef\xbb\xbf":
                head = head.replace(b"\x00", b"")
            break
    stripped = head.lstrip()
    if stripped.startswith(b"<") and _HTML_SNIFF.match(stripped):
        return True
    if stripped.startswith((b"{", b"[")):
        return False  # a JSON document, even one holding a page's HTML in a field (read by text.py)
    # HTML after a junk line (a server banner, an XML declaration): markup near the start
    return bool(re.search(rb"<(?:!doctype\s+html|html)[\s>]", head[:1024], re.I))


def _looks_text(sample: bytes) -> bool:
    if not sample:
        return False
    if sample.startswith((b"\xff\xfe", b"\xfe\xff")):
        return True
    if b"\x00" in sample:
        return False
    control = sum(1 for b in sample if b < 9 or 13 < b < 32)
    if control > len(sample) // 50:
        return False
    for enc in ("utf-8", "gb18030"):
        try:
            sample.decode(enc)
            return True
        except UnicodeDecodeError as exc:
            if exc.start >= len(sample) - 4:  # cut in the middle of a character at the sample's end
                return True
    return False


def _zip_kind(data: bytes) -> str:
    try:
        zf = zipfile.ZipFile(io.BytesIO(data))
        names = set(zf.namelist())
    except (zipfile.BadZipFile, ValueError, OSError):
        return "zip"
    if "mimetype" in names:
        try:
            mime = zf.read("mimetype")[:100].decode("ascii", "replace").strip()
        except (KeyError, zipfile.BadZipFile, OSError, NotImplementedError):
            mime = ""
        if mime.endswith("opendocument.text"):
            return "odt"
        if mime.endswith("opendocument.spreadsheet"):
            return "ods"
    if "[Content_Types].xml" in names or any(n.startswith(("word/", "xl/", "ppt/")) for n in names):
        if "word/document.xml" in names or any(n.startswith("word/") for n in names):
            return "docx"
        if any(n.startswith("xl/") for n in names):
            return "xlsx"
        if any(n.startswith("ppt/") for n in names):
            return "pptx"
    return "zip"


def ole_streams(data: bytes) -> set[str]:
    """Names of the entries in an OLE2 compound file's directory (streams and storages).

    Directory entries are 128-byte records in sectors after the 512-byte header; a record is recognised by its
    name length field and entry type, which is enough to tell Word, Excel, WPS and Works files apart."""
    names: set[str] = set()
    if len(data) < 512 or not data.startswith(OLE_MAGIC):
        return names
    for off in range(512, len(data) - 127, 128):
        rec = data[off : off + 128]
        name_len, etype = struct.unpack_from("<HB", rec, 0x40)
        if not (2 <= name_len <= 64 and name_len % 2 == 0 and etype in (1, 2, 5)):
            continue
        raw = rec[: name_len - 2]
        if rec[name_len - 2 : name_len] != b"\x00\x00":
            continue
        try:
            name = raw.decode("utf-16-le")
        except UnicodeDecodeError:
            continue
        if name and all(ch.isprintable() or ch in "\x01\x05" for ch in name):
            names.add(name.lstrip("\x01\x05"))
    return names


def _ole_kind(data: bytes, filename: str | None) -> str:
    streams = ole_streams(data)
    suffix = (filename or "").lower().rsplit(".", 1)[-1] if filename and "." in filename else ""
    if "WordDocument" in streams:
        # Kingsoft WPS Writer .wps files are Word binaries with Kingsoft extras (WpsCustomData, KSOProductBuildVer)
        if suffix == "wps" or (
            any(s.startswith(("WpsCustomData", "KSO")) for s in streams) and suffix != "doc"
        ):
            return "wps"
        return "doc"
    if "Workbook" in streams or "Book" in streams:
        return "et" if suffix == "et" else "xls"
    if "CONTENTS" in streams or "MatOST" in streams or "SPELLING" in streams:
        return "wps"  # Microsoft Works word processor
    if "PowerPoint Document" in streams:
        return "ppt"
    return "ole"
