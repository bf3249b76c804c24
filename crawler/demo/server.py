"""A loopback web server for saved or generated portals: virtual hosts, raw responses, 304s, gzip, variants.

`root/<name>/` is served as host `<name>.localhost` (any port); other host names get `root/_default/`.
- `path` or `path@query` (the query string, '&'-joined as requested) is a file; `dir/` means `dir/index.html`.
- `file.http` beside a path is a raw HTTP response served byte for byte (status line, headers, body): saved
  challenges, GBK pages with their real headers.
- ETag (sha1 of the bytes) and Last-Modified are sent; If-None-Match / If-Modified-Since get 304.
- Text answers are gzip-compressed when the client accepts it (as most portals do).
- Variant switch: when the file `root/VARIANT` says `2`, `root/<name>/__v2__/path` replaces `path`, and
  `__v2__/path.gone` makes `path` answer 404 — a report that changes (or disappears) between two crawls.
Binds 127.0.0.1 only.
"""

from __future__ import annotations

import email.utils
import gzip
import hashlib
import mimetypes
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import unquote, urlsplit

_COMPRESSIBLE = ("text/", "application/json", "application/xml", "application/javascript")
_MIME = {
    ".html": "text/html; charset=utf-8",
    ".htm": "text/html; charset=utf-8",
    ".shtml": "text/html; charset=utf-8",
    ".jsp": "text/xml; charset=utf-8",
    ".xml": "text/xml; charset=utf-8",
    ".json": "application/json",
    ".txt": "text/plain; charset=utf-8",
    ".php": "text/html",
    ".asp": "text/html",
    ".wps": "application/vnd.ms-works",
    ".et": "application/vnd.ms-excel",
}
# Files whose type is decided by the content saved with them (.http) or named with a query string.
_FIXED_DATE = "Fri, 28 Mar 2025 08:00:00 GMT"


def guess_type(name: str) -> str:
    base = name.split("@", 1)[0]
    suffix = Path(base).suffix.lower()
    if suffix in _MIME:
        return _MIME[suffix]
    return mimetypes.guess_type(base)[0] or "application/octet-stream"


class _Handler(BaseHTTPRequestHandler):
    server_version = "DemoPortal/1.0"
    protocol_version = "HTTP/1.1"
    root: Path

    def log_message(self, format: str, *args: object) -> None:
        return

    def _site(self) -> Path:
        host = (self.headers.get("Host") or "").split(":")[0].lower()
        name = host[: -len(".localhost")] if host.endswith(".localhost") else "_default"
        return self.root / name

    def _variant(self) -> str:
        try:
            return (self.root / "VARIANT").read_text().strip()
        except OSError:
            return "1"

    def _locate(self) -> tuple[Path | None, bool]:
        """(file, raw) for the request; raw = a saved .http response."""
        parts = urlsplit(self.path)
        rel = unquote(parts.path).lstrip("/")
        if rel == "" or rel.endswith("/"):
            rel += "index.html"
        if parts.query:
            rel += "@" + unquote(parts.query)
        if ".." in Path(rel).parts:
            return None, False
        site = self._site()
        variant = self._variant()
        candidates = []
        if variant != "1":
            over = site / f"__v{variant}__" / rel
            if Path(str(over) + ".gone").exists():
                return None, False
            candidates.append(over)
        candidates.append(site / rel)
        for c in candidates:
            if Path(str(c) + ".http").is_file():
                return Path(str(c) + ".http"), True
            if c.is_file():
                return c, False
            if c.is_dir() and (c / "index.html").is_file():
                return c / "index.html", False
        return None, False

    def do_HEAD(self) -> None:
        self._serve(head=True)

    def do_GET(self) -> None:
        self._serve(head=False)

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        if length:
            self.rfile.read(length)
        self._serve(head=False)

    def _serve(self, head: bool) -> None:
        path, raw = self._locate()
        if path is None:
            body = b"<html><body><h1>404 Not Found</h1></body></html>"
            self.send_response(404)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            if not head:
                self.wfile.write(body)
            return
        data = path.read_bytes()
        if raw:
            self.wfile.write(data if not head else data.split(b"\r\n\r\n", 1)[0] + b"\r\n\r\n")
            self.close_connection = True
            return
        etag = '"' + hashlib.sha1(data).hexdigest()[:16] + '"'
        modified = email.utils.formatdate(path.stat().st_mtime, usegmt=True)
        if self.headers.get("If-None-Match") == etag or (
            not self.headers.get("If-None-Match") and self.headers.get("If-Modified-Since") == modified
        ):
            self.send_response(304)
            self.send_header("ETag", etag)
            self.send_header("Last-Modified", modified)
            self.end_headers()
            return
        ctype = guess_type(path.name)
        encoding = None
        if ctype.startswith(_COMPRESSIBLE) and "gzip" in (self.headers.get("Accept-Encoding") or ""):
            data = gzip.compress(data, mtime=0)
            encoding = "gzip"
        self.send_response(200)
        self.send_header("Content-Type", ctype)
        if encoding:
            self.send_header("Content-Encoding", encoding)
            self.send_header("Vary", "Accept-Encoding")
        self.send_header("Content-Length", str(len(data)))
        self.send_header("ETag", etag)
        self.send_header("Last-Modified", modified)
        self.end_headers()
        if not head:
            self.wfile.write(data)


class SiteServer:
    """Threaded server on 127.0.0.1 for a folder of portals; `port=0` picks a free port."""

    def __init__(self, root: Path | str, port: int = 0):
        self.root = Path(root)
        self.root.mkdir(parents=True, exist_ok=True)
        handler = type("Handler", (_Handler,), {"root": self.root})
        self.httpd = ThreadingHTTPServer(("127.0.0.1", port), handler)
        self.httpd.daemon_threads = True
        self.port = self.httpd.server_address[1]
        self._thread: threading.Thread | None = None

    def url(self, site: str, path: str = "/") -> str:
        return f"http://{site}.localhost:{self.port}{path}"

    def set_variant(self, n: int) -> None:
        (self.root / "VARIANT").write_text(str(n))

    def start(self) -> SiteServer:
        self._thread = threading.Thread(target=self.httpd.serve_forever, name="demo-portal", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()

    def __enter__(self) -> SiteServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def main() -> None:  # pragma: no cover - manual use: python -m crawler.demo.server DIR PORT
    import sys

    server = SiteServer(sys.argv[1], int(sys.argv[2]) if len(sys.argv) > 2 else 8000)
    print(f"serving {server.root} on 127.0.0.1:{server.port} (hosts <name>.localhost)")
    server.httpd.serve_forever()


if __name__ == "__main__":  # pragma: no cover
    main()
