"""A hostile county portal (恶意县, fictional) on loopback whose reports carry markup everywhere a reader may
later see it, and a canary that every payload calls when it runs.

Every payload runs `JS`: it sets `window.__pwned`, sets the page title to PWNED and fetches the canary (a
second loopback server on another port). The markup comes two ways: as real markup in the served HTML
(`<script>`, `onerror`, `<svg onload>`, `<iframe>`, `javascript:` links: the original bytes keep them) and as
escaped text the reader keeps as text (title, agency, link text, sections, a table cell, a change's diff,
file names), which is what Datasette pages, feeds and dashboards show. `variant = 2` changes the report's
figures and text, so a second crawl makes a `changes` row (the change pages and the changed-reports feed).
"""

from __future__ import annotations

import html
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import quote, unquote, urlsplit

TEXT = Path(__file__).parent / "fixtures" / "text" / "2021_tabs.txt"


def payloads(js: str) -> list[str]:
    """The markup a hostile report tries: each one runs `js` if it is ever live."""
    return [
        f"<script>{js}</script>",
        f'<img src=x onerror="{js}">',
        f'<svg onload="{js}"></svg>',
        f'<iframe src="javascript:{js}"></iframe>',
        f'<iframe srcdoc="<script>{js}</script>"></iframe>',
        f'<a href="javascript:{js}">点此查看</a>',
        f'<body onload="{js}">',
        f'<details open ontoggle="{js}">详情</details>',
    ]


class _Canary(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        self.server.hits.append(self.path)  # type: ignore[attr-defined]
        self.send_response(204)
        self.send_header("Access-Control-Allow-Origin", "*")
        self.end_headers()

    do_POST = do_GET

    def log_message(self, *args: Any) -> None:
        pass


class _Handler(BaseHTTPRequestHandler):
    portal: XssPortal

    def log_message(self, *args: Any) -> None:
        pass

    def _send(self, body: bytes, ctype: str = "text/html; charset=utf-8", **headers: str) -> None:
        self.send_response(200)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        for k, v in headers.items():
            self.send_header(k.replace("_", "-"), v)
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self) -> None:
        p = self.portal
        path = unquote(urlsplit(self.path).path)
        if path == "/robots.txt":
            return self._send(b"User-agent: *\nAllow: /\n", "text/plain")
        if path in ("/", "/index.html"):
            return self._send(
                page("恶意县人民政府", '<a href="/xxgk/ndbg/index.html">政府信息公开工作年度报告</a>')
            )
        if path == "/xxgk/ndbg/index.html":
            m = p.marks
            items = (
                f'<li><a href="/xxgk/ndbg/2023.html">{html.escape(p.link_text)}</a></li>'
                f'<li><a href="/xxgk/ndbg/2022.html">{html.escape(m[6])}恶意县审计局2022年政府信息公开工作年度报告</a></li>'
                f'<li><a href="javascript:{html.escape(p.js)}">恶意县2021年政府信息公开工作年度报告</a></li>'
                '<li><a href="/xxgk/ndbg/2020.xml">恶意县2020年政府信息公开工作年度报告</a></li>'
            )
            return self._send(page("年度报告", f"<ul>{items}</ul>"))
        if path == "/xxgk/ndbg/2023.html":
            return self._send(p.report_page(p.agency, 2023))  # the agency (and so the title) holds markup
        if path == "/xxgk/ndbg/2022.html":
            return self._send(p.report_page("恶意县审计局", 2022))
        if path == "/xxgk/ndbg/2020.xml":
            # XML whose elements are XHTML: a browser runs its <script> unless the original is sandboxed
            body = (
                '<?xml version="1.0" encoding="utf-8"?><html xmlns="http://www.w3.org/1999/xhtml"><body>'
                f"<script>{p.js}</script><p>恶意县2020年政府信息公开工作年度报告</p></body></html>"
            )
            return self._send(body.encode(), "application/xml")
        if path == "/xxgk/ndbg/att.pdf":
            # an HTML attachment named with markup by Content-Disposition
            return self._send(
                p.report_page("恶意县审计局", 2022, attachment=True),
                Content_Disposition=f"attachment; filename*=UTF-8''{quote(p.marks[2] + '附件.html')}",
            )
        self.send_response(404)
        self.send_header("Content-Length", "0")
        self.end_headers()
        return None


def page(title: str, body: str) -> bytes:
    return (
        f'<!DOCTYPE html><html><head><meta charset="utf-8"><title>{html.escape(title)}</title></head>'
        f"<body>{body}</body></html>"
    ).encode()


class XssPortal:
    """The hostile portal and its canary, on free loopback ports."""

    def __init__(self) -> None:
        self.variant = 1
        handler = type("Handler", (_Handler,), {"portal": self})
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.canary = ThreadingHTTPServer(("127.0.0.1", 0), _Canary)
        for srv in (self.server, self.canary):
            srv.daemon_threads = True
        self.canary.hits = []  # type: ignore[attr-defined]
        self.port = self.server.server_address[1]
        self.url = f"http://127.0.0.1:{self.port}/"
        # Short (a link text over 120 characters is no report title) and without "/" (agency names are URL
        # path segments): the flag, and a request to the canary.
        self.js = f"__pwned=1;fetch('\\x2f\\x2f127.0.0.1:{self.canary.server_address[1]}\\x2fx')"
        self.marks = payloads(self.js)
        self.agency = f"恶意县{self.marks[1]}财政局"
        self.title = f"{self.agency}2023年政府信息公开工作年度报告"
        self.link_text = f"{self.marks[0]}恶意县财政局2023年政府信息公开工作年度报告"

    @property
    def canary_hits(self) -> list[str]:
        return list(self.canary.hits)  # type: ignore[attr-defined]

    def report_text(self, agency: str, year: int) -> str:
        m = self.marks
        text = TEXT.read_text(encoding="utf-8").replace("示例市某某局", agency).replace("2023", str(year))
        text = text.replace("现将有关情况报告如下。", "现将有关情况报告如下。" + "".join(m))
        text = text.replace("政策解读形式较为单一。", f"政策解读形式较为单一{m[3]}{m[4]}。")
        text = text.replace("行政处罚\t56", f"行政处罚\t56{m[2]}")  # a table cell
        if self.variant == 2:
            text = text.replace("行政许可\t1234", "行政许可\t1240").replace(
                "本年度未收取", f"{m[7]}本年度未收取"
            )
        return text

    def report_page(self, agency: str, year: int, attachment: bool = False) -> bytes:
        """The report as text (escaped: kept as text by the reader) plus the same payloads as live markup
        (kept only in the original bytes)."""
        title = f"{agency}{year}年政府信息公开工作年度报告"
        live = "".join(self.marks)
        att = "" if attachment else '<p>附件：<a href="/xxgk/ndbg/att.pdf">附件1</a></p>'
        body = (
            f"<h1>{html.escape(title)}</h1>"
            f'<div class="content"><pre>{html.escape(self.report_text(agency, year))}</pre>{att}</div>{live}'
        )
        return (
            f'<!DOCTYPE html><html><head><meta charset="utf-8"><title>{html.escape(title)}</title>'
            f'<script>{self.js}</script></head><body onload="{html.escape(self.js)}">{body}</body></html>'
        ).encode()

    def start(self) -> XssPortal:
        for srv in (self.server, self.canary):
            threading.Thread(target=srv.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        for srv in (self.server, self.canary):
            srv.shutdown()
            srv.server_close()
