"""Crawl the generated demo portal twice (a report changes in between): exact reports per CMS family,
pagination reached, WARC contents, versions, 304s and revisits, the WACZ, and `nianbao demo --no-serve`."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from warcio.archiveiterator import ArchiveIterator

from crawler.demo import generate_demo
from crawler.demo.server import SiteServer

from .helpers_crawl import query, run_crawl


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory, site_server: Callable[[Path], SiteServer]):
    tmp = tmp_path_factory.mktemp("demo")
    server = site_server(tmp / "site")
    truth = generate_demo(tmp / "site", server.port, registry_dir=tmp / "portals")
    db, warc = tmp / "demo.db", tmp / "warc"
    common = ["--registry", str(tmp / "portals"), "--db", str(db), "--warc-dir", str(warc)]
    first = run_crawl(*common)
    server.set_variant(2)
    second = run_crawl(*common, "--wacz", str(tmp / "demo.wacz"))
    return {"truth": truth, "db": db, "warc": warc, "first": first, "second": second, "tmp": tmp}


def summary(proc: subprocess.CompletedProcess[str]) -> dict[str, dict]:
    return {
        json.loads(line)["portal"]: json.loads(line)
        for line in proc.stdout.splitlines()
        if line.startswith("{")
    }


def test_crawls_succeed(demo):
    assert demo["first"].returncode == 0, demo["first"].stderr[-3000:]
    assert demo["second"].returncode == 0, demo["second"].stderr[-3000:]


@pytest.mark.parametrize("portal", ["shili", "yangben", "fanli", "mofan"])
def test_exact_reports_per_family(demo, portal):
    truth = demo["truth"]["portals"][portal]
    found = {
        u
        for (u,) in query(
            demo["db"], "SELECT url FROM documents WHERE portal_id = ? AND kind = 'report'", f"demo-{portal}"
        )
    }
    assert found == set(truth["reports"])
    attachments = {
        u
        for (u,) in query(
            demo["db"],
            "SELECT url FROM documents WHERE portal_id = ? AND kind = 'attachment'",
            f"demo-{portal}",
        )
    }
    assert attachments == set(truth["attachments"])
    fetched = {u for (u,) in query(demo["db"], "SELECT url FROM documents")}
    assert not fetched & set(truth["decoys"])
    assert summary(demo["first"])[f"demo-{portal}"]["decoys"] >= 4


@pytest.mark.parametrize("portal", ["shili", "yangben", "fanli", "mofan"])
def test_every_list_page_reached(demo, portal):
    """TRS index_N via createPageHTML, Hanweb dataproxy.jsp groups, ?page=N, JSON API pages."""
    lists = {u for (u,) in query(demo["db"], "SELECT url FROM documents WHERE kind = 'list'")}
    assert set(demo["truth"]["portals"][portal]["list_pages"]) <= lists


def test_gbk_portal_agency_in_chinese(demo):
    agencies = {
        a
        for (a,) in query(
            demo["db"],
            "SELECT agency FROM reports r JOIN documents d ON d.id = r.document_id"
            " WHERE d.portal_id = 'demo-fanli' AND r.agency IS NOT NULL",
        )
    }
    assert agencies == {"范例区人民政府", "范例区民政局"}
    assert query(demo["db"], "SELECT agency FROM portals WHERE id = 'demo-fanli'") == [("范例区人民政府",)]


def test_versions_after_change(demo):
    changed = demo["truth"]["portals"]["shili"]["changed"]
    new = query(
        demo["db"],
        "SELECT d.url FROM versions v JOIN documents d ON d.id = v.document_id"
        " JOIN crawls c ON c.id = v.crawl_id WHERE c.id > 4 AND d.kind IN ('report', 'attachment')",
    )
    assert [u for (u,) in new] == changed
    per_doc = dict(
        query(
            demo["db"],
            "SELECT d.url, count(v.id) FROM documents d JOIN versions v ON v.document_id = d.id"
            " WHERE d.kind = 'report' GROUP BY d.url",
        )
    )
    assert per_doc[changed[0]] == 2
    assert all(n == 1 for url, n in per_doc.items() if url != changed[0])
    assert query(
        demo["db"],
        "SELECT count(*) FROM changes c JOIN documents d ON d.id = c.document_id WHERE d.url = ?",
        changed[0],
    ) == [(1,)]


def test_recrawl_uses_conditional_requests(demo):
    first, second = summary(demo["first"]), summary(demo["second"])
    reports = sum(len(p["reports"]) + len(p["attachments"]) for p in demo["truth"]["portals"].values())
    # every report, attachment and list page was asked with If-None-Match; all but the changed report and
    # the lists it sits on answered 304 (a 304 list's links come from its archived copy)
    lists = query(demo["db"], "SELECT count(*) FROM documents WHERE kind IN ('list', 'page')")[0][0]
    not_modified = sum(s["not_modified"] for s in second.values())
    assert reports - 1 <= not_modified <= reports - 1 + lists
    assert not_modified > reports  # list pages were revalidated too
    # an all-but-unchanged recrawl moves at least 90 % fewer bytes than the first crawl
    assert sum(s["bytes"] for s in second.values()) < sum(s["bytes"] for s in first.values()) / 10
    assert query(demo["db"], "SELECT count(*) FROM documents WHERE gone_since IS NOT NULL") == [(0,)]


def test_versions_point_into_warc(demo):
    rows = query(
        demo["db"],
        "SELECT d.url, v.warc_file, v.warc_offset, v.warc_record_id, v.sha256 FROM versions v"
        " JOIN documents d ON d.id = v.document_id WHERE d.kind = 'report' LIMIT 5",
    )
    assert rows
    # every version fetched points at its record (the WARC thread and the spider race; the place must win)
    assert query(demo["db"], "SELECT count(*) FROM versions WHERE warc_file IS NULL") == [(0,)]
    import hashlib

    for url, warc_file, offset, record_id, sha in rows:
        path = demo["warc"] / warc_file
        with open(path, "rb") as fh:
            fh.seek(offset)
            record = next(iter(ArchiveIterator(fh)))
            assert record.rec_type == "response"
            assert record.rec_headers.get_header("WARC-Target-URI") == url
            assert record.rec_headers.get_header("WARC-Record-ID") == record_id
            body = record.content_stream().read()  # decoded Content-Encoding, as the archive stored it
            assert hashlib.sha256(body).hexdigest() == sha


def test_warc_records(demo):
    files = sorted(demo["warc"].glob("*.warc.gz"))
    assert files
    records = []
    for path in files:
        with open(path, "rb") as fh:
            for rec in ArchiveIterator(fh):
                records.append(
                    (
                        rec.rec_type,
                        dict(rec.rec_headers.headers),
                        rec.http_headers.get_statuscode()
                        if rec.http_headers and rec.rec_type != "request"
                        else None,
                        rec.http_headers.get_header("Content-Encoding") if rec.http_headers else None,
                    )
                )
    types = [r[0] for r in records]
    assert types.count("warcinfo") == len(files)
    ids = {r[1]["WARC-Record-ID"] for r in records if r[0] in ("response", "revisit")}
    requests = [r for r in records if r[0] == "request"]
    assert len(requests) == types.count("response") + types.count("revisit")
    assert all(r[1]["WARC-Concurrent-To"] in ids for r in requests)
    responses = [r for r in records if r[0] == "response"]
    assert all(r[1]["WARC-Payload-Digest"].startswith("sha1:") for r in responses)
    assert any(r[3] == "gzip" for r in responses), "HTML must be archived as received (gzip)"
    revisits = [r for r in records if r[0] == "revisit"]
    profiles = {r[1]["WARC-Profile"].rsplit("/", 1)[1] for r in revisits}
    assert profiles == {"identical-payload-digest", "server-not-modified"}
    # A 304 revisit: its status line as the HTTP block, or (when it names the capture it confirms, for
    # replay) in the X-Nianbao-HTTP-Status field with WARC-Refers-To set.
    not_modified = [r for r in revisits if r[1]["WARC-Profile"].endswith("server-not-modified")]
    assert all(
        r[2] == "304"
        or (r[1].get("X-Nianbao-HTTP-Status", "").endswith("304 Not Modified") and r[1]["WARC-Refers-To"])
        for r in not_modified
    )
    assert all("WARC-Refers-To-Target-URI" in r[1] for r in revisits)


def test_wacz_validates(demo):
    wacz = demo["tmp"] / "demo.wacz"
    assert wacz.exists()
    proc = subprocess.run(
        [sys.executable, "-m", "wacz", "validate", "-f", str(wacz)], capture_output=True, text=True
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    import zipfile

    with zipfile.ZipFile(wacz) as z:
        pages = [json.loads(line) for line in z.read("pages/pages.jsonl").decode("utf-8").splitlines()]
        assert any(p.get("title") == "示例市人民政府2024年政府信息公开工作年度报告" for p in pages)
        assert any(n.startswith("indexes/") for n in z.namelist())
        # the crawl-2 revisits refer to crawl-1 records: those WARC files are packaged too
        assert len([n for n in z.namelist() if n.startswith("archive/")]) == 8


def test_nianbao_demo_no_serve(tmp_path):
    proc = subprocess.run(
        [sys.executable, "-m", "crawler", "demo", "--no-serve", "--db", str(tmp_path / "d.db")],
        capture_output=True,
        text=True,
        timeout=240,
        cwd=tmp_path,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "demo-shili: 13 reports" in proc.stdout
    assert "1 new report versions" in proc.stdout
