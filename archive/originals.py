"""Serving an archived original so that it opens: its real content type and file name, from the archive's
`blobs.content` or, in a lean published copy (archive/publish.py), from the content-addressed store beside
it (``originals/<sha[:2]>/<sha>``). Originals never run as live markup: every type but PDF (HTML, and also
XML, SVG, whatever a portal's content type says) is served under a CSP ``sandbox`` with
``default-src 'none'`` (no script, no request leaves the page), or as text on request.
"""

from __future__ import annotations

import hashlib
import mimetypes
import posixpath
import re
import urllib.parse
from dataclasses import dataclass
from pathlib import Path

# Content type by the format detected from content (versions.format) when the server's is missing or vague.
FORMAT_TYPES = {
    "pdf": "application/pdf",
    "html": "text/html",
    "text": "text/plain",
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "doc": "application/msword",
    "wps": "application/vnd.ms-works",
    "xls": "application/vnd.ms-excel",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "image": "image/png",
}
VAGUE_TYPES = {
    "",
    "application/octet-stream",
    "application/binary",
    "application/x-download",
    "application/force-download",
}
# Types a browser opens with its own viewer and no script of the document's: served without the sandbox.
UNSANDBOXED_TYPES = ("application/pdf",)
HTML_CSP = "sandbox; default-src 'none'; img-src data:; style-src 'unsafe-inline'; form-action 'none'"


def store_path(root: Path, sha256: str) -> Path:
    """Where a lean copy keeps one original: ``root/ab/abcdef…`` (content address, no extension)."""
    if not re.fullmatch(r"[0-9a-f]{64}", sha256):
        raise ValueError(f"not a sha256: {sha256!r}")
    return root / sha256[:2] / sha256


def read_stored(root: Path, sha256: str) -> bytes | None:
    """The bytes at their content address, verified (a corrupt or truncated file is not served)."""
    path = store_path(root, sha256)
    if not path.is_file():
        return None
    data = path.read_bytes()
    if hashlib.sha256(data).hexdigest() != sha256:
        raise ValueError(f"original {sha256[:12]} in {root} does not match its address")
    return data


@dataclass
class Served:
    content_type: str
    filename: str
    headers: dict[str, str]


def content_type_of(server_type: str | None, fmt: str | None, filename: str) -> str:
    """The server's type unless it is vague or missing; else by detected format; else by file name."""
    ctype = (server_type or "").strip()
    main = ctype.split(";")[0].strip().lower()
    if main and main not in VAGUE_TYPES:
        return ctype
    if fmt and fmt in FORMAT_TYPES:
        return FORMAT_TYPES[fmt]
    guessed, _ = mimetypes.guess_type(filename)
    return guessed or "application/octet-stream"


def filename_of(filename: str | None, url: str | None, sha256: str, content_type: str) -> str:
    """The version's file name, else the URL's last path segment, else the hash; with an extension."""
    name = (filename or "").strip()
    if not name and url:
        name = urllib.parse.unquote(posixpath.basename(urllib.parse.urlsplit(url).path))
    name = name.replace("/", "_").replace("\\", "_").replace('"', "").strip() or sha256[:16]
    if not posixpath.splitext(name)[1]:
        ext = mimetypes.guess_extension(content_type.split(";")[0].strip()) or ""
        name += ext
    return name


def serve_headers(
    server_type: str | None,
    fmt: str | None,
    filename: str | None,
    url: str | None,
    sha256: str,
    *,
    download: bool,
) -> Served:
    """Headers for one original. HTML is sandboxed (or plain text with ``as_text``) and never sniffed."""
    base = filename_of(filename, url, sha256, content_type_of(server_type, fmt, filename or ""))
    ctype = content_type_of(server_type, fmt, base)
    disposition = "attachment" if download else "inline"
    ascii_name = base.encode("ascii", "replace").decode().replace("?", "_")
    headers = {
        "content-disposition": f"{disposition}; filename=\"{ascii_name}\"; filename*=UTF-8''"
        + urllib.parse.quote(base),
        "x-content-type-options": "nosniff",
        "cache-control": "public, max-age=31536000, immutable",  # content-addressed: never changes
        "etag": f'"{sha256}"',
    }
    main = ctype.split(";")[0].strip().lower()
    # Every type but PDF is sandboxed: not only HTML runs script (XML with XHTML elements does, and so does
    # whatever a portal's content type makes of the bytes); Chromium's PDF viewer does not open under it.
    if main not in UNSANDBOXED_TYPES:
        headers["content-security-policy"] = HTML_CSP
    return Served(ctype, base, headers)


def originals_dir_for(db_path: str | None, configured: str | None) -> Path | None:
    """The content-addressed store: configured (plugin setting), else ``originals/`` beside the database."""
    if configured:
        return Path(configured)
    if db_path:
        return Path(db_path).parent / "originals"
    return None
