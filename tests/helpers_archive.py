"""Hand-made test archives and a real Datasette over HTTP, for the archive/Datasette tests.

Reports are built as `Report` objects (not parsed), so each search case knows exactly which sections
contain which characters. The bodies stored as originals are the reports' JSON.
"""

from __future__ import annotations

import contextlib
import json
import socket
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

from archive import store
from archive.cli import datasette_command
from archive.db import open_db
from crawler.warc import WarcWriter, warc_date
from pipelines.report import Check, Figure, Report


def _figures(
    received: int, granted: int, extra: dict[tuple[str, str, str], float] | None = None
) -> list[Figure]:
    cells = {
        ("applications", "new_received", "total"): received,
        ("applications", "carried_over", "total"): 2,
        ("applications", "granted", "total"): granted,
        ("applications", "partly_granted", "total"): 3,
        ("applications", "denied_state_secret", "total"): 1,
        ("applications", "unable_not_held", "total"): 4,
        ("applications", "total_handled", "total"): granted + 8,
        ("applications", "carried_forward", "total"): 1,
        ("applications", "new_received", "natural_person"): received,
        ("active", "regulations", "issued"): 2,
        ("active", "licensing", "decisions"): 120,
        ("review_litigation", "review", "upheld"): 1,
        ("review_litigation", "review", "total"): 1,
    }
    cells.update(extra or {})
    return [
        Figure(
            t,
            r,
            c,
            v,
            raw=str(v),
            source={"page": 3, "table": 1, "cell": [2, 7]} if t == "applications" else {"line": 40},
        )
        for (t, r, c), v in cells.items()
    ]


def sample_reports() -> dict[str, tuple[str, list[Report]]]:
    """name → (url, versions of the report). Search cases in test_datasette_search.py depend on these texts."""
    xicheng_v1 = Report(
        agency="北京市西城区人民政府",
        year=2023,
        title="北京市西城区人民政府2023年政府信息公开工作年度报告",
        template="2021",
        status="complete",
        sections={
            "overview": "本机关全年办理行政许可事项，依法主动公开。",
            "applications": "全年收到政府信息公开申请26件，行政复议案件1件。",
        },
        figures=_figures(26, 15),
        checks=[
            Check("applications.balance", "total", False, "26+2 ≠ 23+1"),
            Check("applications.row_total", "total", True, "ok", row="new_received"),
        ],
        text="本机关全年办理行政许可事项，依法主动公开。\n全年收到政府信息公开申请26件，行政复议案件1件。",
    )
    xicheng_v2 = Report(
        **{
            **xicheng_v1.__dict__,
            "figures": _figures(30, 19),
            "checks": [Check("applications.balance", "total", True, "30+2 = 31+1")],
            "sections": {
                **xicheng_v1.sections,
                "applications": "全年收到政府信息公开申请30件，行政复议案件1件。",
            },
            "text": xicheng_v1.text.replace("26件", "30件"),
        }
    )
    health_2022 = Report(
        agency="某区卫生健康委员会",
        year=2022,
        title="某区卫生健康委员会2022年政府信息公开工作年度报告",
        template="2021",
        status="complete",
        sections={"active": "個人所得稅的行政處罰情況已公開。", "problems": "发放许可证的程序仍需改进。"},
        figures=_figures(5, 2),
        checks=[],
        text="個人所得稅的行政處罰情況已公開。发放许可证的程序仍需改进。",
    )
    health_2020 = Report(
        agency="某区卫生健康委员会",
        year=2020,
        title="某区卫生健康委员会2020年政府信息公开工作年度报告",
        template="2019",
        status="partial",
        sections={"overview": "依法公开，申请人可通过网站提交。"},
        figures=_figures(3, 1),
        checks=[],
        text="依法公开，申请人可通过网站提交。",
    )
    hostile = Report(
        agency="某某县财政局",
        year=2023,
        title="<script>alert('x')</script>某某县财政局年报",
        template="2021",
        status="partial",
        sections={"review_litigation": "<img src=x onerror=alert(1)>２０２３年行政复议决定书均已送达。"},
        figures=_figures(7, 7),
        checks=[],
        text="<img src=x onerror=alert(1)>２０２３年行政复议决定书均已送达。",
    )
    return {
        "xicheng": ("https://www.bjxch.gov.cn/xxgk/202402/t20240125_3501.html", [xicheng_v1, xicheng_v2]),
        "health_2022": ("https://wsjkw.example.gov.cn/art/2023/2/10/art_77_1.html", [health_2022]),
        "health_2020": ("https://wsjkw.example.gov.cn/col/col77/2020.html", [health_2020]),
        "hostile": ("https://czj.example.gov.cn/xxgk/nb2023.html", [hostile]),
    }


def _from_json(body: bytes) -> Report:
    """The sample reports are stored as their own JSON: reading them back is exact, whatever the parser."""
    d = json.loads(body)
    return Report(
        **{**d, "figures": [Figure(**f) for f in d["figures"]], "checks": [Check(**c) for c in d["checks"]]}
    )


def _body(report: Report) -> bytes:
    return json.dumps(report.__dict__, default=lambda o: o.__dict__, ensure_ascii=False).encode()


def build_sample_archive(path: Path) -> dict[str, list[int]]:
    """Write the sample reports through the real write path; returns name → report ids (oldest first)."""
    db = open_db(path)
    ids: dict[str, list[int]] = {}
    for name, (url, versions) in sample_reports().items():
        for i, report in enumerate(versions):
            body = _body(report)
            meta = store.FetchMeta(
                url=url,
                kind="report",
                filename="report.json",
                fetched_at=f"2024-0{3 + i}-01T00:00:00Z",
                warc_file="crawl-0001.warc.gz",
                warc_offset=1234 * (i + 1),
                warc_record_id=f"<urn:uuid:0000-{name}-{i}>",
            )
            result = store.store(db, body, meta, read=lambda body=body: _from_json(body))
            ids.setdefault(name, []).append(result.report_id)
    db.close()
    return ids


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def fetch(url: str, timeout: float = 30) -> tuple[int, bytes, dict[str, str]]:
    try:
        with urllib.request.urlopen(url, timeout=timeout) as resp:
            return resp.status, resp.read(), dict(resp.headers)
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read(), dict(exc.headers)


def get_json(url: str) -> dict:
    status, body, _ = fetch(url)
    assert status == 200, (url, status, body[:500])
    return json.loads(body)


@contextlib.contextmanager
def running_server(cmd: list[str], port: int) -> Iterator[str]:
    """Start a Datasette command line listening on `port`; yield its base URL once it answers; stop it."""
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                urllib.request.urlopen(f"{base}/-/versions.json", timeout=2).read()
                break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    out = proc.stdout.read().decode() if proc.stdout and proc.poll() is not None else ""
                    raise RuntimeError(f"datasette did not start: {out}") from None
                time.sleep(0.2)
        yield base
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()


@contextlib.contextmanager
def datasette_server(db_path: Path, immutable: bool = False) -> Iterator[str]:
    """Run Datasette exactly as `nianbao serve` does; yields the base URL (http://127.0.0.1:PORT)."""
    port = free_port()
    with running_server(datasette_command(db_path, port=port, immutable=immutable), port) as base:
        yield base


def write_200_then_304(folder: Path, url: str, body: bytes) -> list[Path]:
    """One page captured twice by nianbao's WARC writer: a 200 on 2025-01-01, then a 304 on 2025-06-01 (a
    revisit naming the 200). What a replay tool must show at the 304's time is `body`."""
    writer = WarcWriter(folder)
    headers = [("Content-Type", "text/html; charset=utf-8"), ("Content-Length", str(len(body)))]
    for status, payload, when in ((200, body, datetime(2025, 1, 1)), (304, b"", datetime(2025, 6, 1))):
        writer.write_exchange(
            url=url,
            method="GET",
            request_headers=[],
            request_body=b"",
            status=status,
            reason="OK" if status == 200 else "Not Modified",
            protocol="HTTP/1.1",
            response_headers=headers if status == 200 else [("ETag", '"v1"')],
            body=payload,
            date=warc_date(when.replace(tzinfo=UTC)),
        )
    writer.close()
    return writer.paths()
