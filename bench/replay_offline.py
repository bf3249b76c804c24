"""Which replay tool shows a 304 capture offline: ReplayWeb.page (its npm package served locally) and pywb.

    npm pack replaywebpage && tar xzf replaywebpage-*.tgz        # → package/ (ui.js, sw.js, index.html)
    python -m venv pywb-venv && pywb-venv/bin/pip install pywb     # or the venv scripts/setup.sh made
    python bench/replay_offline.py --rwp package --pywb-bin pywb-venv/bin

Writes one report page captured twice by nianbao's WARC writer (200, then a 304 revisit naming it), packs
the WARC as a WACZ (`wacz create`), then for each tool: serves everything on 127.0.0.1 only, opens the 304's
timestamp in headless Chromium with every non-loopback request blocked (and counted), and prints whether the
report's text appears, how long it took and how many outside requests the tool tried. Prints figures only.
"""

from __future__ import annotations

import argparse
import functools
import http.server
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.helpers_archive import free_port, write_200_then_304

CHROMIUM = "/usr/bin/chromium"
URL = "http://xxgk.example.gov.cn/2025/report.html"
TEXT = "某某县2024年政府信息公开工作年度报告"
TS = "20250601000000"


def write_captures(folder: Path) -> list[Path]:
    body = f"<html><head><meta charset='utf-8'></head><body><h1>{TEXT}</h1></body></html>".encode()
    return write_200_then_304(folder, URL, body)


def write_bare_304(folder: Path) -> list[Path]:
    """The control: the same 200, then the 304 as a plain response record (what replay showed as an empty
    page before revisits named their capture)."""
    from io import BytesIO

    from warcio.statusandheaders import StatusAndHeaders
    from warcio.warcwriter import WARCWriter

    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "bare.warc.gz"
    body = f"<html><head><meta charset='utf-8'></head><body><h1>{TEXT}</h1></body></html>".encode()
    with path.open("wb") as fh:
        w = WARCWriter(fh, gzip=True)
        for status, payload, date in (
            ("200 OK", body, "2025-01-01T00:00:00Z"),
            ("304 Not Modified", b"", "2025-06-01T00:00:00Z"),
        ):
            http = StatusAndHeaders(
                status, [("Content-Type", "text/html; charset=utf-8")], protocol="HTTP/1.1"
            )
            rec = w.create_warc_record(
                URL,
                "response",
                payload=BytesIO(payload),
                http_headers=http,
                warc_headers_dict={"WARC-Date": date},
            )
            w.write_record(rec)
    return [path]


def serve(root: Path) -> tuple[http.server.ThreadingHTTPServer, int]:
    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *args: object) -> None:
            pass

    port = free_port()
    server = http.server.ThreadingHTTPServer(
        ("127.0.0.1", port), functools.partial(Quiet, directory=str(root))
    )
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, port


def open_offline(url: str, timeout_s: float) -> tuple[str | None, float, int]:
    """(URL of the frame showing the text, seconds, outside requests blocked)."""
    from playwright.sync_api import sync_playwright

    blocked: list[str] = []
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"], headless=True)
        try:
            context = browser.new_context(service_workers="allow")

            def guard(route) -> None:  # type: ignore[no-untyped-def]
                host = route.request.url.split("/")[2] if "://" in route.request.url else ""
                if host.startswith("127.0.0.1") or route.request.url.startswith(("blob:", "data:")):
                    route.continue_()
                else:
                    blocked.append(route.request.url)
                    route.abort()

            context.route("**/*", guard)
            page = context.new_page()
            started = time.perf_counter()
            page.goto(url)
            seen = None
            while time.perf_counter() - started < timeout_s and not seen:
                for frame in page.frames:
                    try:
                        if TEXT in frame.content() and "<h1>" in frame.content():
                            seen = frame.url
                    except Exception:  # a frame navigating away
                        continue
                time.sleep(0.25)
            return seen, time.perf_counter() - started, len(blocked)
        finally:
            browser.close()


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument(
        "--rwp", type=Path, help="the replaywebpage npm package folder (index.html, ui.js, sw.js)"
    )
    ap.add_argument("--pywb-bin", type=Path, help="folder holding pywb's wayback and wb-manager")
    ap.add_argument("--timeout", type=float, default=60)
    ap.add_argument("--control", action="store_true", help="replay a bare 304 response record instead")
    args = ap.parse_args()
    work = Path(tempfile.mkdtemp(prefix="nianbao-replay-"))
    warcs = write_bare_304(work / "warcs") if args.control else write_captures(work / "warcs")
    print("control: bare 304 response record" if args.control else "nianbao's WARC writer: 304 revisit")
    site = work / "site"
    if args.rwp:
        subprocess.run(["cp", "-r", f"{args.rwp}/.", str(site)], check=True)
    site.mkdir(exist_ok=True)
    subprocess.run(
        ["wacz", "create", "-o", str(site / "c.wacz"), *map(str, warcs)], check=True, capture_output=True
    )
    print(f"WACZ {(site / 'c.wacz').stat().st_size} bytes: a 200 capture and a 304 revisit at {TS}")
    if args.rwp:
        server, port = serve(site)
        try:
            url = f"http://127.0.0.1:{port}/?source=/c.wacz#view=pages&url={URL}&ts={TS}"
            seen, seconds, blocked = open_offline(url, args.timeout)
            print(
                f"ReplayWeb.page (npm, served locally): content at the 304 {'shown' if seen else 'NOT shown'}"
                f" in {seconds:.1f} s (frame {seen}); {blocked} outside requests blocked"
            )
        finally:
            server.shutdown()
    if args.pywb_bin:
        wayback, manager = args.pywb_bin / "wayback", args.pywb_bin / "wb-manager"
        subprocess.run([manager, "init", "c"], cwd=work, check=True, capture_output=True)
        subprocess.run([manager, "add", "c", *map(str, warcs)], cwd=work, check=True, capture_output=True)
        port = free_port()
        proc = subprocess.Popen(
            [wayback, "-b", "127.0.0.1", "-p", str(port)],
            cwd=work,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            for _ in range(150):
                try:
                    urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=2).read()
                    break
                except OSError:
                    time.sleep(0.2)
            seen, seconds, blocked = open_offline(f"http://127.0.0.1:{port}/c/{TS}/{URL}", args.timeout)
            print(
                f"pywb (wayback, local): content at the 304 {'shown' if seen else 'NOT shown'}"
                f" in {seconds:.1f} s (frame {seen}); {blocked} outside requests blocked"
            )
        finally:
            proc.terminate()
            proc.wait(timeout=10)
    return 0


if __name__ == "__main__":
    sys.exit(main())
