"""`nianbao crawl --url` on the practice portal (../shared/practice-portal, a fictional county portal written
independently of the project), served by its own serve.py on loopback, as a new user would run it.

Skipped when the folder is absent; fails instead when CI is set (tests/helpers_shared.py). The crawler's
part is asserted exactly: the report URL set, no decoy, nothing fetched off-site or on the other port; agency and year come from the parser and are checked with score.py's rule.
"""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from .helpers_crawl import query, run_crawl
from .helpers_shared import SHARED, require_shared

PRACTICE = SHARED / "practice-portal"


def _require_practice() -> None:
    """Skip without the practice portal; fail under CI (tests/helpers_shared.py)."""
    require_shared("practice-portal", "serve.py")


def _two_free_ports() -> int:
    """A port p with p+1 free too (serve.py answers a staging copy on port+1)."""
    for _ in range(50):
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        try:
            with socket.socket() as s2:
                s2.bind(("127.0.0.1", port + 1))
        except OSError:
            continue
        return port
    raise RuntimeError("no two consecutive free ports")


class Portal:
    def __init__(self, port: int):
        self.port = port
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self, variant: int) -> None:
        self.stop()
        self.proc = subprocess.Popen(
            [
                sys.executable,
                str(PRACTICE / "serve.py"),
                "--port",
                str(self.port),
                "--variant",
                str(variant),
                "--quiet",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        for _ in range(100):
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{self.port}/robots.txt", timeout=1).read()
                return
            except OSError:
                time.sleep(0.1)
        raise RuntimeError("serve.py did not start")

    def stop(self) -> None:
        if self.proc is not None:
            self.proc.terminate()
            self.proc.wait(timeout=10)
            self.proc = None


def _summary(proc: subprocess.CompletedProcess[str]) -> dict[str, Any]:
    lines = [json.loads(line) for line in proc.stdout.splitlines() if line.startswith("{")]
    assert len(lines) == 1, proc.stdout + proc.stderr
    return lines[0]


@pytest.fixture(scope="module")
def practice(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    _require_practice()
    tmp = tmp_path_factory.mktemp("practice")
    portal = Portal(_two_free_ports())
    db, warc = tmp / "p.db", tmp / "warc"
    url = f"http://127.0.0.1:{portal.port}/"
    try:
        portal.start(1)
        first = run_crawl("--url", url, "--db", str(db), "--warc-dir", str(warc))
        v1 = _latest(db)
        portal.start(2)
        second = run_crawl("--url", url, "--db", str(db), "--warc-dir", str(warc))
        third = run_crawl("--url", url, "--db", str(db), "--warc-dir", str(warc))  # nothing changed
        yield {
            "port": portal.port,
            "db": db,
            "v1": v1,
            "runs": [first, second, third],
            "expected": json.loads((PRACTICE / "expected.json").read_text(encoding="utf-8")),
        }
    finally:
        portal.stop()


def _latest(db: Path) -> list[tuple[str, int, str]]:
    return query(
        db,
        "SELECT r.agency, r.year, d.url FROM reports r JOIN documents d ON d.id = r.document_id"
        " WHERE r.is_latest",
    )


def _path(url: str) -> str:
    return "/" + url.split("/", 3)[3]


def _norm(s: str | None) -> str:
    return (s or "").replace(" ", "").replace("\u3000", "")


def _match(rows: list[tuple[str, int, str]], want: list[dict[str, Any]]) -> tuple[set[str], list[Any]]:
    """score.py's rule: a row counts for an expected report when the year matches and one agency name
    contains the other; returns the expected URLs found and the rows that matched nothing."""
    found, extras, used = set(), [], set()
    for agency, year, url in rows:
        hit = next(
            (
                i
                for i, w in enumerate(want)
                if i not in used
                and year == w["year"]
                and _norm(agency)
                and (_norm(w["agency"]) in _norm(agency) or _norm(agency) in _norm(w["agency"]))
            ),
            None,
        )
        if hit is None:
            extras.append((agency, year, url))
        else:
            used.add(hit)
            found.add(want[hit]["url"])
    return found, extras


def test_first_crawl_finishes(practice):
    first = practice["runs"][0]
    assert first.returncode == 0, first.stderr[-2000:]
    assert _summary(first)["status"] == "finished"


def test_every_report_url_archived_and_read(practice):
    """The crawler's part: every expected report (the file for an attachment-only one) is a read report."""
    want = {r["url"] for r in practice["expected"]["reports"]}
    read = {_path(url) for _a, _y, url in practice["v1"]}
    assert want <= read, sorted(want - read)


def test_agency_and_year_as_score_py_counts_them(practice):
    found, extras = _match(practice["v1"], practice["expected"]["reports"])
    assert len(found) == len(practice["expected"]["reports"]) == 31
    assert extras == []


def test_no_decoy_no_other_county_read_as_a_report(practice):
    exp = practice["expected"]
    read = {_path(url) for _a, _y, url in practice["v1"]}
    assert not read & set(exp["decoys"])
    assert not read & {n["url"] for n in exp["non_reports_in_lists"]}
    # the neighbouring county's report is archived and named as another place's, never read as ours
    other = [d for d in exp["decoy_titles"] if d["kind"] == "another county's report"]
    assert other
    rows = query(
        practice["db"],
        "SELECT foreign_place FROM documents WHERE url = ?",
        f"http://127.0.0.1:{practice['port']}{other[0]['url']}",
    )
    assert rows == [("青岚县",)]


def test_nothing_off_site_other_port_or_disallowed_fetched(practice):
    urls = [u for (u,) in query(practice["db"], "SELECT url FROM documents")]
    origin = f"http://127.0.0.1:{practice['port']}/"
    assert urls and all(u.startswith(origin) for u in urls), [u for u in urls if not u.startswith(origin)]
    assert not [u for u in urls if u.startswith(origin + "admin/")]


def test_variant2_adds_the_new_report_and_a_version_of_the_edited_one(practice):
    second = practice["runs"][1]
    assert second.returncode == 0, second.stderr[-2000:]
    exp = practice["expected"]
    want = exp["reports"] + exp["variant2"]["added"]
    found, extras = _match(_latest(practice["db"]), want)
    assert len(found) == len(want) == 32 and extras == []
    for changed in exp["variant2"]["changed"]:
        url = f"http://127.0.0.1:{practice['port']}{changed['url']}"
        versions = query(
            practice["db"],
            "SELECT count(*) FROM versions v JOIN documents d ON d.id = v.document_id WHERE d.url = ?",
            url,
        )
        assert versions == [(2,)]


def test_unchanged_recrawl_moves_90_percent_fewer_bytes(practice):
    first, _second, third = (_summary(r) for r in practice["runs"])
    assert third["status"] == "finished"
    assert third["bytes"] * 10 < first["bytes"], (third["bytes"], first["bytes"])
    assert third["not_modified"] > 31  # reports and list pages answered 304
