"""archive/write_thread.py: one thread owns the write connection, jobs share transactions (group commit), a job's
future resolves only once its writes are committed, and a failing job never takes its neighbours along."""

from __future__ import annotations

import sqlite3
import threading
import time
from pathlib import Path

import pytest
import sqlite_utils

from archive.crawls import record_error
from archive.write_thread import ArchiveWriter, SharedWriters


def committed(db: Path, sql: str) -> list[tuple]:
    """What another connection (Datasette, a second process) sees: committed rows only."""
    conn = sqlite3.connect(db)
    try:
        return conn.execute(sql).fetchall()
    finally:
        conn.close()


def error_row(url: str):
    def job(db: sqlite_utils.Database) -> int:
        return record_error(db, None, url, stage="fetch", reason="test")

    return job


def test_jobs_share_a_transaction_and_resolve_after_its_commit(tmp_path: Path) -> None:
    db = tmp_path / "a.db"
    writer = ArchiveWriter(db, latency=0.5)
    seen_at_resolution: list[list[tuple]] = []
    futures = [writer.submit(error_row(f"https://x.gov.cn/{i}")) for i in range(20)]
    futures[0].add_done_callback(
        lambda f: seen_at_resolution.append(committed(db, "SELECT count(*) FROM crawl_errors"))
    )
    ids = [f.result(timeout=30) for f in futures]
    assert len(set(ids)) == 20
    # The first job's future resolved when all twenty were on disk: one transaction, one commit.
    assert seen_at_resolution == [[(20,)]]
    assert writer.commits == 1 and writer.jobs == 20
    writer.close()


def test_a_backlog_is_committed_in_short_transactions(tmp_path: Path) -> None:
    """Jobs queued faster than they run must not pile into one long transaction: every caller waits for its
    COMMIT, so a crawl's items would stall for the whole backlog (seconds) and then finish all at once."""
    db = tmp_path / "a.db"
    writer = ArchiveWriter(db, latency=0.02)
    gate = threading.Event()
    writer.submit(lambda d: gate.wait(30))  # holds the thread while the backlog queues up behind it

    def slow(i: int):
        def job(d: sqlite_utils.Database) -> int:
            time.sleep(0.01)
            return record_error(d, None, f"https://x.gov.cn/{i}", stage="fetch", reason="test")

        return job

    futures = [writer.submit(slow(i)) for i in range(30)]
    seen_when_second_resolved: list[list[tuple]] = []
    futures[1].add_done_callback(
        lambda f: seen_when_second_resolved.append(committed(db, "SELECT count(*) FROM crawl_errors"))
    )
    gate.set()
    assert len({f.result(timeout=60) for f in futures}) == 30
    assert writer.commits >= 5  # 30 jobs of ≥ 10 ms in windows of 20 ms
    [[(count,)]] = seen_when_second_resolved
    assert 2 <= count < 30  # the second caller did not wait for the whole backlog
    writer.close()


def test_a_failing_job_rolls_back_alone(tmp_path: Path) -> None:
    db = tmp_path / "a.db"
    writer = ArchiveWriter(db, latency=0.5)

    def half_then_fail(d: sqlite_utils.Database) -> None:
        record_error(d, None, "https://x.gov.cn/half", stage="fetch", reason="written, then undone")
        raise ValueError("bad document")

    before = writer.submit(error_row("https://x.gov.cn/before"))
    bad = writer.submit(half_then_fail)
    after = writer.submit(error_row("https://x.gov.cn/after"))
    with pytest.raises(ValueError, match="bad document"):
        bad.result(timeout=30)
    assert before.result(timeout=30) and after.result(timeout=30)
    assert committed(db, "SELECT url FROM crawl_errors ORDER BY id") == [
        ("https://x.gov.cn/before",),
        ("https://x.gov.cn/after",),
    ]
    writer.close()


def test_a_job_that_ends_the_transaction_does_not_lose_the_earlier_ones(tmp_path: Path) -> None:
    """A statement that rolls the whole transaction back (as a RAISE(ROLLBACK) trigger does) must not
    silently undo the jobs that ran before it in the same batch."""
    db = tmp_path / "a.db"
    writer = ArchiveWriter(db, latency=0.5)

    def rollback_everything(d: sqlite_utils.Database) -> None:
        d.conn.execute("ROLLBACK")
        raise sqlite3.OperationalError("transaction rolled back")

    first = writer.submit(error_row("https://x.gov.cn/1"))
    wrecker = writer.submit(rollback_everything)
    last = writer.submit(error_row("https://x.gov.cn/2"))
    with pytest.raises(sqlite3.OperationalError):
        wrecker.result(timeout=30)
    first.result(timeout=30), last.result(timeout=30)
    assert committed(db, "SELECT url FROM crawl_errors ORDER BY url") == [
        ("https://x.gov.cn/1",),
        ("https://x.gov.cn/2",),
    ]
    writer.close()


def test_close_commits_what_is_queued_and_runs_in_one_thread(tmp_path: Path) -> None:
    db = tmp_path / "a.db"
    writer = ArchiveWriter(db, latency=5.0)
    threads = []
    futures = [writer.submit(lambda d: threads.append(threading.current_thread().name)) for _ in range(5)]
    futures.append(writer.submit(error_row("https://x.gov.cn/last")))
    writer.close()  # well before the 5 s window ends
    assert all(f.done() for f in futures)
    assert set(threads) == {"archive-writer"}
    assert committed(db, "SELECT count(*) FROM crawl_errors") == [(1,)]
    with pytest.raises(RuntimeError, match="closed"):
        writer.submit(error_row("https://x.gov.cn/late"))


def test_call_does_not_wait_for_the_window(tmp_path: Path) -> None:
    """A blocking call (opening or closing a crawl) commits as soon as nothing else is queued."""
    writer = ArchiveWriter(tmp_path / "a.db", latency=60.0)
    started = time.monotonic()
    assert writer.submit(lambda d: d.execute("SELECT 1").fetchone()[0], urgent=True).result(timeout=10) == 1
    writer.flush()
    assert time.monotonic() - started < 10  # not the 60 s window
    writer.close()


def test_a_caller_that_gives_up_does_not_stop_the_writer(tmp_path: Path) -> None:
    """An awaiting task cancelled (a crawl shutting down) cancels its job's future: the job is skipped, the
    thread lives on and later writes still commit (a cancelled future used to kill the thread on
    set_result, and every later caller waited for ever)."""
    import asyncio

    db = tmp_path / "a.db"
    writer = ArchiveWriter(db, latency=0.05)
    gate = threading.Event()
    blocker = writer.submit(lambda d: gate.wait(10))  # holds the thread while the next job is cancelled

    async def give_up() -> None:
        task = asyncio.ensure_future(asyncio.wrap_future(writer.submit(error_row("https://x.gov.cn/gone"))))
        await asyncio.sleep(0.01)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task

    asyncio.run(give_up())
    gate.set()
    assert blocker.result(timeout=10) is True
    assert writer.submit(error_row("https://x.gov.cn/later")).result(timeout=10)
    assert committed(db, "SELECT url FROM crawl_errors") == [("https://x.gov.cn/later",)]
    writer.close()


def test_an_archive_that_cannot_be_opened_raises_at_once(tmp_path: Path) -> None:
    (tmp_path / "dir.db").mkdir()
    with pytest.raises(sqlite3.OperationalError):
        ArchiveWriter(tmp_path / "dir.db")


def test_shared_writers_one_per_file_until_the_last_user(tmp_path: Path) -> None:
    a = SharedWriters.acquire(tmp_path / "a.db")
    b = SharedWriters.acquire(tmp_path / "." / "a.db")
    other = SharedWriters.acquire(tmp_path / "b.db")
    assert a is b and other is not a
    SharedWriters.release(a)
    assert b.call(lambda d: 1) == 1  # still open for the second user
    SharedWriters.release(b)
    SharedWriters.release(other)
    with pytest.raises(RuntimeError):
        a.submit(lambda d: None)
