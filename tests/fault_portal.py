"""A hostile county portal on loopback (stdlib only): every fault the issue-11 attack used, and a canary.

`FaultPortal()` serves 故障县 (fictional) on 127.0.0.1 at a random port; `canary` is a second server on
another port of the same host that must never see a request (links and redirects point at it). Faults are
keyed by path; `FAULTS` says what each one is and what the crawl must record. Mutable knobs (`variant`,
`robots`) let a test change the portal between crawls. Run it by hand:

    python -m tests.fault_portal --port 8000
"""

from __future__ import annotations

import contextlib
import html
import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

from . import fault_files

TEXT = Path(__file__).parent / "fixtures" / "text" / "2021_tabs.txt"
AGENCY = "故障县{}局"
REPORT_TITLE = "故障县{}局2023年政府信息公开工作年度报告"

# path → (what it is, stage the crawl must record or None when the report must be archived)
FAULTS: dict[str, tuple[str, str | None]] = {
    "/ndbg/good-a.html": ("a good report", None),
    "/ndbg/good-b.html": ("a good report", None),
    "/ndbg/recover.html": ("503 with Retry-After: 1 once, then the report", None),
    "/ndbg/e500.html": ("500 on every try", "http"),
    "/ndbg/e502.html": ("502 with Retry-After: 1 on every try", "http"),
    "/ndbg/e503.html": ("503 with Retry-After: 3600 (capped) on every try", "http"),
    "/ndbg/reset.html": ("connection reset mid-body", "fetch"),
    "/ndbg/drip.html": ("a slow drip past the download timeout", "fetch"),
    "/ndbg/short.html": ("a body shorter than its Content-Length", "fetch"),
    "/ndbg/loop.html": ("a redirect loop", "ignored"),
    "/ndbg/to-port.html": ("a redirect to another port of the host (the canary)", "offsite"),
    "/ndbg/to-host.html": ("a redirect to another host", "offsite"),
    "/ndbg/soft404.html": ("a soft 404: 200 with a not-found page", "read"),
    "/ndbg/challenge.html": ("a 412 JavaScript challenge", "challenge"),
    "/ndbg/gone.html": ("404 on a report link", "http"),
    "/files/big-announced.pdf": ("Content-Length: 300 MB", "fetch"),
    "/files/big-streamed.pdf": ("a chunked body past DOWNLOAD_MAXSIZE, no length", "fetch"),
    "/ndbg/gzip-bomb.html": ("gzip bomb: 1 GB of zeros as Content-Encoding: gzip", "fetch"),
    "/files/lying.docx": ("DOCX whose zip directory declares 1 KB for 1.1 GB", "read"),
    "/files/honest.docx": ("DOCX that honestly inflates to 300 MB", "read"),
    "/files/lying.xlsx": ("XLSX whose zip directory declares 1 KB for 300 MB", "read"),
    "/files/honest.xlsx": ("XLSX that honestly inflates to 300 MB", "read"),
    "/files/corrupt.pdf": ("a corrupt PDF", "read"),
    "/files/xref-loop.pdf": ("a PDF whose xref /Prev loops", "read"),
    "/ndbg/hostile.html": ("<script>, on* attributes, javascript: links, ../ names (archived, inert)", None),
    "/files/att.pdf": ("attachment named ../../etc/passwd.pdf by Content-Disposition", None),
}
GOOD = {
    "/ndbg/good-a.html": "甲",
    "/ndbg/good-b.html": "乙",
    "/ndbg/recover.html": "丙",
    "/ndbg/hostile.html": "丁",
}
FILE_TITLES = {
    "/files/lying.docx": "戊",
    "/files/honest.docx": "己",
    "/files/lying.xlsx": "庚",
    "/files/honest.xlsx": "辛",
    "/files/corrupt.pdf": "壬",
    "/files/xref-loop.pdf": "癸",
    "/files/big-announced.pdf": "子",
    "/files/big-streamed.pdf": "丑",
}
FAULT_TITLES = {
    "/ndbg/e500.html": "寅",
    "/ndbg/e502.html": "卯",
    "/ndbg/e503.html": "辰",
    "/ndbg/reset.html": "巳",
    "/ndbg/drip.html": "午",
    "/ndbg/short.html": "未",
    "/ndbg/loop.html": "申",
    "/ndbg/to-port.html": "酉",
    "/ndbg/to-host.html": "戌",
    "/ndbg/soft404.html": "亥",
    "/ndbg/challenge.html": "东",
    "/ndbg/gone.html": "西",
    "/ndbg/gzip-bomb.html": "南",
}
# A second portal section, /pl/: a list of 9 reports over 3 pages (下一页 links only), whose knobs make a
# recrawl's walk end early for a bad reason (a 500 on page 3, a pager the families no longer see) or drop a
# report for real.
PAGED = ["子", "丑", "寅", "卯", "辰", "巳", "午", "未", "申"]
PAGED_PER_PAGE = 3
HOSTILE_MARKERS = ("<script>alert('xss')</script>", 'onerror="alert(1)"', "javascript:alert(2)")


def page(title: str, body: str) -> bytes:
    return (
        f'<!DOCTYPE html><html><head><meta charset="utf-8"><title>{html.escape(title)}</title></head>'
        f"<body>{body}</body></html>"
    ).encode()


def report_html(name: str, extra: str = "") -> bytes:
    text = TEXT.read_text(encoding="utf-8").replace("示例市某某局", AGENCY.format(name))
    title = REPORT_TITLE.format(name)
    return page(title, f'<h1>{title}</h1><div class="content"><pre>{html.escape(text)}</pre>{extra}</div>')


HOSTILE_EXTRA = (
    "<script>alert('xss')</script>"
    '<p><img src="x.png" onerror="alert(1)">附件：<a href="javascript:alert(2)">点此下载</a> '
    '<a href="/files/att.pdf">附件1.pdf</a> <a href="../../../etc/passwd.pdf">附件2.pdf</a></p>'
    '<p onmouseover="alert(3)">"><svg onload=alert(4)></p>'
)


class _Canary(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        self.server.hits.append(self.path)  # type: ignore[attr-defined]
        body = report_html("金丝雀")
        self.send_response(200)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: Any) -> None:
        pass


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    portal: FaultPortal

    def log_message(self, *args: Any) -> None:
        pass

    def _send(
        self, status: int, body: bytes, ctype: str = "text/html; charset=utf-8", **headers: str
    ) -> None:
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        for k, v in headers.items():
            self.send_header(k.replace("_", "-"), v)
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self) -> None:
        p = self.portal
        path = unquote(urlsplit(self.path).path)
        with p.lock:
            p.hits[path] = p.hits.get(path, 0) + 1
            n = p.hits[path]
        base = f"http://127.0.0.1:{p.port}"
        if path == "/robots.txt":
            return self._send(200, p.robots.encode(), "text/plain")
        if path in ("/", "/index.html"):
            return self._send(
                200,
                page(
                    "故障县人民政府",
                    '<a href="/xxgk/index.html">政府信息公开</a> '
                    f'<a href="http://127.0.0.1:{p.canary_port}/xxgk/index.html">政府信息公开（镜像）</a>',
                ),
            )
        if path == "/xxgk/index.html":
            return self._send(
                200,
                page("政府信息公开", '<a href="/ndbg/index.html">政府信息公开工作年度报告</a>'),
            )
        if path == "/ndbg/index.html":
            return self._send(200, self.list_page(base))
        if path in GOOD and path != "/ndbg/recover.html":
            if p.variant == 2 and path == "/ndbg/good-b.html":
                return self._send(404, page("404", "页面不存在"))
            return self._send(
                200, report_html(GOOD[path], HOSTILE_EXTRA if path == "/ndbg/hostile.html" else "")
            )
        if path == "/ndbg/recover.html":
            if n == 1:
                return self._send(503, page("503", "服务暂时不可用"), Retry_After="1")
            return self._send(200, report_html(GOOD[path]))
        if path == "/ndbg/e500.html":
            return self._send(500, page("500", "Internal Server Error"))
        if path == "/ndbg/e502.html":
            return self._send(502, page("502", "Bad Gateway"), Retry_After="1")
        if path == "/ndbg/e503.html":
            return self._send(503, page("503", "维护中"), Retry_After="3600")
        if path == "/ndbg/gone.html":
            return self._send(404, page("404", "页面不存在"))
        if path == "/ndbg/soft404.html":
            return self._send(200, page("页面不存在", "<h1>404</h1><p>您访问的页面不存在或已被删除。</p>"))
        if path == "/ndbg/challenge.html":
            return self._send(
                412,
                b'<html><head><script>var _0x=["\\x63"];document.cookie="acw_sc__v2=1";location.reload();'
                b"</script></head><body></body></html>",
            )
        if path == "/ndbg/loop.html":
            return self._send(302, b"", Location="/ndbg/loop2.html")
        if path == "/ndbg/loop2.html":
            return self._send(302, b"", Location="/ndbg/loop.html")
        if path == "/ndbg/to-port.html":
            return self._send(302, b"", Location=f"http://127.0.0.1:{p.canary_port}/ndbg/report.html")
        if path == "/ndbg/to-host.html":
            return self._send(302, b"", Location=f"http://other.localhost:{p.port}/ndbg/good-a.html")
        if path == "/ndbg/reset.html":
            return self._reset()
        if path == "/ndbg/drip.html":
            return self._drip()
        if path == "/ndbg/short.html":
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", "50000")
            self.end_headers()
            self.wfile.write(report_html("短")[:300])
            self.wfile.flush()
            self.close_connection = True
            return None
        if path == "/ndbg/gzip-bomb.html":
            return self._send(200, p.file("gzip-bomb"), Content_Encoding="gzip")
        if path == "/files/big-announced.pdf":
            self.send_response(200)
            self.send_header("Content-Type", "application/pdf")
            self.send_header("Content-Length", str(300 * 1024 * 1024))
            self.end_headers()
            with contextlib.suppress(OSError):
                self.wfile.write(b"%PDF-1.7\n" + b"0" * 65536)
            self.close_connection = True
            return None
        if path == "/files/big-streamed.pdf":
            return self._stream_big()
        if path == "/files/att.pdf":
            return self._send(
                200,
                b"%PDF-1.4\n%%EOF\n",
                "application/pdf",
                Content_Disposition='attachment; filename="../../etc/passwd.pdf"',
            )
        if path in FILE_TITLES:
            ctype = {
                "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
                "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                "pdf": "application/pdf",
            }[path.rsplit(".", 1)[-1]]
            return self._send(200, p.file(path.rsplit("/", 1)[-1]), ctype)
        if path == "/trap/report.html":
            return self._send(200, report_html("陷阱"))
        if path.startswith("/trap/"):
            return self._send(200, self.trap_page(path))
        if path.startswith("/pl/r") and path[5:-5].isdigit() and int(path[5:-5]) not in p.paged_withdrawn:
            return self._send(200, report_html("分页" + PAGED[int(path[5:-5])]))
        if path.startswith("/pl/index"):
            n = int(path.rsplit("_", 1)[-1].split(".")[0]) if "_" in path else 0
            if p.paged_fail == n:
                return self._send(500, page("500", "Internal Server Error"))
            return self._send(200, self.paged_list(n))
        return self._send(404, page("404", "页面不存在"))

    def list_page(self, base: str) -> bytes:
        p = self.portal
        items = []
        if p.variant != 3:  # variant 3: the list is served but empty (a CMS that lost its column)
            for path, name in {**GOOD, **FILE_TITLES, **FAULT_TITLES}.items():
                items.append(f'<li><a href="{path}">{REPORT_TITLE.format(name)}</a></li>')
            items.append(
                f'<li><a href="http://127.0.0.1:{p.canary_port}/ndbg/x.html">{REPORT_TITLE.format("镜像")}</a></li>'
            )
            items.append(f'<li><a href="/ndbg/a/./b/../../good-a.html">{REPORT_TITLE.format("甲")}</a></li>')
        return page("年度报告", "<ul>" + "".join(items) + "</ul>")

    def paged_list(self, n: int) -> bytes:
        p = self.portal
        shown = [i for i in range(len(PAGED)) if i not in p.paged_withdrawn]
        items = shown[n * PAGED_PER_PAGE : (n + 1) * PAGED_PER_PAGE]
        links = "".join(
            f'<li><a href="/pl/r{i}.html">{REPORT_TITLE.format("分页" + PAGED[i])}</a></li>' for i in items
        )
        more = (n + 1) * PAGED_PER_PAGE < len(shown)
        if more and not p.paged_nopager:
            links += f'</ul><div class="page"><a href="/pl/index_{n + 1}.html">下一页</a></div><ul>'
        elif more:  # the pager is now drawn by a script the families do not read
            links += f'</ul><div class="page"><span onclick="go({n + 1})">下一页</span></div><ul>'
        return page("政府信息公开工作年度报告", f"<ul>{links}</ul>")

    def trap_page(self, path: str) -> bytes:
        """A list whose 尾页 link says page 1,000,000 and whose pages never end."""
        n = int(path.rsplit("_", 1)[-1].split(".")[0]) if "_" in path else 0
        report = f'<li><a href="/trap/report.html">{REPORT_TITLE.format("陷阱")}</a></li>' if n == 0 else ""
        pager = (
            f'<div class="page"><a href="/trap/index_{n + 1}.html">下一页</a> '
            '<a href="/trap/index_1000000.html">尾页</a></div>'
        )
        return page("年度报告", f"<ul>{report}</ul>{pager}")

    def _reset(self) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", "40000")
        self.end_headers()
        self.wfile.write(report_html("复位")[:2000])
        self.wfile.flush()
        sock = self.connection
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
        sock.close()
        self.close_connection = True

    def _drip(self) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", "100000")
        self.end_headers()
        body = report_html("滴")
        try:
            for i in range(0, 200):
                if self.portal.stopping.is_set():
                    break
                self.wfile.write(body[i : i + 1])
                self.wfile.flush()
                time.sleep(0.5)
        except OSError:
            pass
        self.close_connection = True

    def _stream_big(self) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "application/pdf")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        chunk = b"0" * (1024 * 1024)
        try:
            for _ in range(self.portal.stream_mb):
                self.wfile.write(b"%x\r\n%s\r\n" % (len(chunk), chunk))
            self.wfile.write(b"0\r\n\r\n")
        except OSError:
            pass
        self.close_connection = True


class FaultPortal:
    """The hostile portal and its canary, started on free loopback ports."""

    def __init__(self, stream_mb: int = 260) -> None:
        self.hits: dict[str, int] = {}
        self.lock = threading.Lock()
        self.stopping = threading.Event()
        self.variant = 1
        self.paged_fail: int | None = None  # /pl/: the list page that answers 500
        self.paged_withdrawn: set[int] = set()  # /pl/: reports no longer listed (nor served)
        self.paged_nopager = False  # /pl/: the pager becomes a script the crawler cannot follow
        self.robots = "User-agent: *\nDisallow: /private/\n"
        self.stream_mb = stream_mb
        self._files: dict[str, bytes] = {}
        handler = type("Handler", (_Handler,), {"portal": self})
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.server.daemon_threads = True
        self.canary = ThreadingHTTPServer(("127.0.0.1", 0), _Canary)
        self.canary.daemon_threads = True
        self.canary.hits = []  # type: ignore[attr-defined]
        self.port = self.server.server_address[1]
        self.canary_port = self.canary.server_address[1]
        self.url = f"http://127.0.0.1:{self.port}/"

    def file(self, name: str) -> bytes:
        if name not in self._files:
            make = {
                "gzip-bomb": lambda: fault_files.gzip_bomb(1_000_000_000),
                "lying.docx": lambda: fault_files.docx_bomb(1_100_000_000, declared=1024),
                "honest.docx": lambda: fault_files.docx_bomb(300_000_000),
                "lying.xlsx": lambda: fault_files.xlsx_bomb(300_000_000, declared=1024),
                "honest.xlsx": lambda: fault_files.xlsx_bomb(300_000_000),
                "corrupt.pdf": fault_files.corrupt_pdf,
                "xref-loop.pdf": fault_files.looping_xref_pdf,
            }[name]
            self._files[name] = make()
        return self._files[name]

    def prepare(self) -> FaultPortal:
        """Make the bombs before serving (several seconds), so no request waits on it."""
        for name in ("gzip-bomb", "lying.docx", "honest.docx", "lying.xlsx", "honest.xlsx"):
            self.file(name)
        return self

    @property
    def canary_hits(self) -> list[str]:
        return list(self.canary.hits)  # type: ignore[attr-defined]

    def start(self) -> FaultPortal:
        for srv in (self.server, self.canary):
            threading.Thread(target=srv.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        self.stopping.set()
        for srv in (self.server, self.canary):
            srv.shutdown()
            srv.server_close()


if __name__ == "__main__":
    import argparse

    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, default=0)
    args = ap.parse_args()
    portal = FaultPortal().prepare().start()
    print(f"fault portal at {portal.url} (canary on port {portal.canary_port}); Ctrl-C to stop")
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        portal.stop()
