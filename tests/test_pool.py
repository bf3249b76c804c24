"""ReaderPool with real worker processes: reads like `read_report`, and a document that hangs or crashes
its worker becomes that document's `failed` report while the pool goes on."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

import pipelines.pool as pool_module
from pipelines.pool import ReaderPool
from pipelines.read import ReadHints, read_report
from pipelines.report import Report

from . import pool_tasks

REPORT = Path(__file__).parent / "fixtures" / "formats" / "r2021_ok.html"
HINTS = ReadHints(url="https://www.example.gov.cn/xxgk/ndbg/r2021_ok.html", region="示例市", level="市级")


@pytest.fixture
def pool() -> Iterator[ReaderPool]:
    """One worker running tests/pool_tasks.task (the real reader for real bodies), 2 s per document."""
    readers = ReaderPool(workers=1, time_limit=2.0, task=pool_tasks.task)
    yield readers
    readers.close()


def assert_reads_normally(readers: ReaderPool) -> None:
    """The pool's answer for a real report is exactly the inline reader's."""
    body = REPORT.read_bytes()
    expected = read_report(body, REPORT.name, "text/html; charset=utf-8", HINTS)
    got = readers.read(body, REPORT.name, "text/html; charset=utf-8", HINTS)
    assert got == expected
    assert got.status == "complete" and got.year == 2024 and got.meta["region"] == "示例市"


def test_pool_reads_like_read_report(pool: ReaderPool) -> None:
    """Reading in a worker must not change the result: same Report as in-process."""
    assert_reads_normally(pool)
    assert pool.recycled == 0


def test_default_task_reads_like_read_report() -> None:
    """The production task (`read_with_limit`) in a real worker, asyncio side (the crawl's path)."""
    readers = ReaderPool(workers=1, time_limit=30.0)
    try:
        body = REPORT.read_bytes()
        got = asyncio.run(readers.read_async(body, REPORT.name, "text/html", HINTS))
        assert got == read_report(body, REPORT.name, "text/html", HINTS)
    finally:
        readers.close()


def test_workers_read_below_the_crawl_s_priority(pool: ReaderPool) -> None:
    """Readers run niced (NIANBAO_READ_NICE, default 10) so the reactor thread keeps its pace."""
    expected = min(19, os.nice(0) + pool.niceness)
    assert pool.niceness == 10
    assert pool.read(pool_tasks.NICENESS, "x.html").problems == [f"nice {expected}"]


def test_hang_past_the_time_limit_fails_that_document_only(pool: ReaderPool) -> None:
    """The soft limit (SIGPROF after 2 s of the worker's processor time) stops a reader caught in a loop;
    the worker survives."""
    started = time.monotonic()
    report = pool.read(pool_tasks.HANG, "stuck.pdf")
    assert time.monotonic() - started < 20
    assert report.status == "failed"
    assert report.problems == ["stuck.pdf: reading used more than 2 s of processor time; stopped"]
    assert pool.recycled == 0
    assert_reads_normally(pool)


def test_reader_deaf_to_its_alarm_is_killed(pool: ReaderPool, monkeypatch: pytest.MonkeyPatch) -> None:
    """Past the hard limit the pool kills the worker (C code that never returns to Python), then goes on."""
    monkeypatch.setattr(pool_module, "HARD_LIMIT_GRACE", 1.0)
    monkeypatch.setattr(pool_module, "WALL_FACTOR", 1.0)
    report = pool.read(pool_tasks.STUCK, "deaf.pdf")
    assert report.status == "failed"
    assert report.problems == ["deaf.pdf: reading did not stop within 3 s; the worker was killed"]
    assert pool.recycled == 1
    monkeypatch.undo()  # the short grace was for the deaf reader; the fresh worker gets the usual one
    assert_reads_normally(pool)


def test_reader_blocked_without_using_the_processor_is_killed_by_the_wall_clock(
    pool: ReaderPool, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Waiting (a pipe that never answers) costs no processor time, so only the wall-clock limit ends it."""
    monkeypatch.setattr(pool_module, "HARD_LIMIT_GRACE", 0.5)
    report = pool.read(pool_tasks.BLOCKED, "blocked.doc")
    assert report.problems == ["blocked.doc: reading did not stop within 6.5 s; the worker was killed"]
    assert pool.recycled == 1
    monkeypatch.undo()
    assert_reads_normally(pool)


def test_worker_exit_fails_that_document_and_the_next_read_works(pool: ReaderPool) -> None:
    """os._exit in a worker breaks the executor: retried once in a fresh pool, then reported as a crash."""
    report = pool.read(pool_tasks.EXIT, "crash.doc")
    assert report.status == "failed"
    assert report.problems == ["crash.doc: the reader process crashed on this document"]
    assert pool.recycled == 2  # the first attempt and the retry each broke a pool
    assert_reads_normally(pool)


def test_worker_abort_on_the_asyncio_path(pool: ReaderPool) -> None:
    """The crawl awaits `read_async`: a SIGABRT in the worker is a failed report there too."""
    report = asyncio.run(pool.read_async(pool_tasks.ABORT, "abort.xls"))
    assert report.status == "failed"
    assert report.problems == ["abort.xls: the reader process crashed on this document"]
    assert_reads_normally(pool)


def test_reader_exception_is_that_documents_problem(pool: ReaderPool) -> None:
    """A reader bug becomes a failed report naming the error; the worker is not recycled."""
    report = pool.read(pool_tasks.RAISE, "bug.docx")
    assert report.status == "failed"
    assert report.problems == ["bug.docx: reader error: ValueError: a reader bug"]
    assert pool.recycled == 0


def test_a_queue_of_documents_does_not_count_against_their_time_limit(
    pool: ReaderPool, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A crawl hands the pool every report it finds at once: a document waiting for a free worker is not
    being read, so that wait must not make it 'stuck' (4 one-second reads, one worker, a 2.5 s hard limit)."""
    monkeypatch.setattr(pool_module, "HARD_LIMIT_GRACE", 0.5)
    monkeypatch.setattr(pool_module, "WALL_FACTOR", 1.0)

    async def four() -> list[Report]:
        return await asyncio.gather(*(pool.read_async(pool_tasks.SLOW, f"r{i}.pdf") for i in range(4)))

    reports = asyncio.run(four())
    assert [r.problems for r in reports] == [["a slow reader stand-in"]] * 4
    assert pool.recycled == 0


def _running(pid: int) -> bool:
    """Alive and not a zombie."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return False
    return "\nState:\tZ" not in status


def test_workers_exit_when_their_crawl_is_killed(tmp_path: Path) -> None:
    """kill -9 of the process that owns the pool: its workers must not wait on their queue forever."""
    owner = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import time\n"
            "from pipelines.pool import ReaderPool\n"
            "pool = ReaderPool(2)\n"
            "pool.read(b'<html><body>x</body></html>', 'x.html')\n"
            "pool.read(b'<html><body>y</body></html>', 'y.html')\n"
            "print(' '.join(str(p) for p in pool._executor._processes), flush=True)\n"
            "time.sleep(600)\n",
        ],
        stdout=subprocess.PIPE,
        text=True,
        cwd=Path(__file__).resolve().parents[1],
    )
    try:
        assert owner.stdout is not None
        workers = [int(p) for p in owner.stdout.readline().split()]
        assert workers and all(_running(p) for p in workers)
        # The forkserver the workers were forked from stays up as long as a worker holds its pipe.
        forkservers = {int(Path(f"/proc/{p}/stat").read_text().rsplit(")", 1)[1].split()[1]) for p in workers}
        assert owner.pid not in forkservers
    finally:
        owner.kill()
        owner.wait()
    processes = workers + sorted(forkservers)
    deadline = time.monotonic() + 30
    while any(_running(p) for p in processes) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not [p for p in processes if _running(p)]
