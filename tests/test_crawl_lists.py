"""Issue 11: lists that lie. A 尾页 link to page 1,000,000 is crawled over real HTTP and costs a few pages; a
recrawl whose list walk ends early for a bad reason (a 500 on page 3, a pager the crawler no longer sees)
marks nothing gone and says why; a report really dropped from a list read completely is still marked gone."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from .fault_portal import PAGED, FaultPortal
from .helpers_crawl import query, run_crawl


@pytest.fixture(scope="module")
def portal() -> Iterator[FaultPortal]:
    p = FaultPortal().start()  # not prepare(): these crawls never reach the bombs
    yield p
    p.stop()


def crawl(portal: FaultPortal, db: Path, path: str) -> tuple[int, str]:
    proc = run_crawl("--url", portal.url + path, "--agency", "故障县人民政府", "--db", str(db))
    return proc.returncode, proc.stderr[-2000:]


def last_crawl(db: Path) -> tuple[str, str | None, dict]:
    status, reason, stats = query(db, "SELECT status, reason, stats FROM crawls ORDER BY id DESC LIMIT 1")[0]
    return status, reason, json.loads(stats)


def test_pagination_trap_costs_a_few_pages(portal: FaultPortal, tmp_path: Path) -> None:
    """尾页 → index_1000000.html, 下一页 on every page, nothing else after page 1: the walk stops at the first
    pages without news, far inside the budgets; the report beside the trap is archived; the trap is on record."""
    db = tmp_path / "trap.db"
    code, err = crawl(portal, db, "trap/index.html")
    status, reason, stats = last_crawl(db)
    trap_pages = sum(n for path, n in portal.hits.items() if path.startswith("/trap/index"))
    assert trap_pages <= 5, portal.hits  # the page budget is 3,000 and a list's own 200
    assert stats["downloader/request_count"] < 15, stats["downloader/request_count"]
    reports = query(db, "SELECT d.url, r.status FROM documents d JOIN reports r ON r.document_id = d.id")
    assert [(u.removeprefix(portal.url.rstrip("/")), s) for u, s in reports] == [
        ("/trap/report.html", "complete")
    ]
    rows = query(db, "SELECT url, stage, reason FROM crawl_errors")
    assert [(u.removeprefix(portal.url.rstrip("/")), s) for u, s, _ in rows] == [("/trap/index.html", "list")]
    assert "pages it names were not requested" in rows[0][2] and "/trap/index_" in rows[0][2], rows
    # The walk ended on the list's own evidence (pages without news): the crawl is whole and its row closed.
    assert (code, status, reason) == (0, "finished", None), (status, reason, err)
    assert query(db, "SELECT finished_at IS NOT NULL FROM crawls")[0][0] == 1
    # A recrawl: the report is still there; a list not read to its claimed end proves no absence.
    code, err = crawl(portal, db, "trap/index.html")
    status, reason, stats = last_crawl(db)
    assert (code, status) == (0, "finished"), (status, reason, err)
    assert reason and reason.startswith("gone pass skipped: 1 lists not read completely"), reason
    assert stats["nianbao/marked_gone"] == 0


@pytest.fixture(scope="module")
def paged(portal: FaultPortal, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A first complete crawl of /pl/: nine reports over three list pages."""
    db = tmp_path_factory.mktemp("paged") / "pl.db"
    code, err = crawl(portal, db, "pl/index.html")
    assert code == 0, err
    return db


def gone(db: Path, portal: FaultPortal) -> set[str]:
    rows = query(db, "SELECT url FROM documents WHERE gone_since IS NOT NULL")
    return {u.removeprefix(portal.url.rstrip("/")) for (u,) in rows}


def test_first_crawl_reads_the_whole_list(portal: FaultPortal, paged: Path) -> None:
    n = query(
        paged,
        "SELECT count(*) FROM documents d JOIN reports r ON r.document_id = d.id"
        " WHERE d.url LIKE '%/pl/r%' AND r.status = 'complete'",
    )[0][0]
    assert n == len(PAGED)
    assert gone(paged, portal) == set()


def test_list_failing_midway_marks_nothing_gone(portal: FaultPortal, paged: Path) -> None:
    """Page 3 answers 500 (after retries): its three reports are not seen, and not called gone."""
    portal.paged_fail = 2
    try:
        code, err = crawl(portal, paged, "pl/index.html")
    finally:
        portal.paged_fail = None
    status, reason, _ = last_crawl(paged)
    assert (code, status) == (5, "partial"), (reason, err)
    assert gone(paged, portal) == set()
    rows = query(
        paged, "SELECT url, stage, reason FROM crawl_errors WHERE crawl_id = (SELECT max(id) FROM crawls)"
    )
    by_stage = {stage: (url, why) for url, stage, why in rows}
    assert by_stage["http"][0].endswith("/pl/index_2.html")
    assert by_stage["list"][0].endswith("/pl/index.html") and "index_2.html" in by_stage["list"][1], rows


def test_walk_ending_early_without_error_marks_nothing_gone(portal: FaultPortal, paged: Path) -> None:
    """The pager becomes a script: the walk reads page 1 only, with no error at all. Reaching 3 of the 9
    known reports is no evidence that 6 were withdrawn: the gone pass is skipped, the numbers on record."""
    portal.paged_nopager = True
    try:
        code, err = crawl(portal, paged, "pl/index.html")
    finally:
        portal.paged_nopager = False
    status, reason, stats = last_crawl(paged)
    assert gone(paged, portal) == set()
    assert (code, status) == (5, "partial"), (reason, err)
    assert reason and "reached 3 of 9 known reports" in reason, reason
    rows = query(
        paged, "SELECT stage, reason FROM crawl_errors WHERE crawl_id = (SELECT max(id) FROM crawls)"
    )
    assert ("gone", reason.split("; ")[-1]) in rows, rows
    assert stats["nianbao/marked_gone"] == 0


def test_report_dropped_from_a_complete_list_is_gone(portal: FaultPortal, paged: Path) -> None:
    """The guard hides no true withdrawal: one report leaves a list read completely → gone, nothing else."""
    portal.paged_withdrawn = {4}
    try:
        code, err = crawl(portal, paged, "pl/index.html")
    finally:
        portal.paged_withdrawn = set()
    status, reason, stats = last_crawl(paged)
    assert (code, status) == (0, "finished"), (reason, err)
    assert gone(paged, portal) == {"/pl/r4.html"}
    assert stats["nianbao/marked_gone"] == 1
