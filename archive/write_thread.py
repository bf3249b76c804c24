"""One thread owns a crawl's write connection to the archive; writes are grouped into short transactions.

A crawl's reactor thread used to run every SQLite write itself (~7 ms per report: figures, checks, the two
search indexes, the audit, COMMIT). `ArchiveWriter` moves them to a thread: callers `submit(fn)` a function
of the `sqlite_utils.Database` and get a `concurrent.futures.Future`. Python's sqlite3 releases the GIL while
SQLite works, so the B-tree and FTS work runs beside the reactor on the other core.

Group commit: the thread opens one transaction, runs the jobs that arrive within `latency` seconds (at most
`batch` of them, and none started after the window closed, so a backlog is committed in short transactions
rather than one that holds every waiting caller for seconds), each in its own SAVEPOINT, then COMMITs once. A job's future resolves only after the COMMIT
that holds its writes, so "archived" still means "on disk": nothing is acknowledged that a kill -9 could
take back. A job that raises is rolled back to its savepoint (never half a write) and its future carries the
exception; the other jobs of the batch are unaffected. A commit that fails fails every future of its batch.
Killed mid-batch, SQLite rolls the open transaction back: the crawl that follows fetches those pages again.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import sqlite_utils

from .db import open_db

log = logging.getLogger(__name__)
T = TypeVar("T")

# 64 MiB of page cache (the default is 2 MiB): the figures index and the FTS tables touch pages all over
# the file, and a crawl writes hundreds of reports into them.
CACHE_KIB = 64 * 1024


@dataclass
class _Job:
    fn: Callable[[sqlite_utils.Database], Any]
    future: Future[Any] = field(default_factory=Future)
    urgent: bool = False  # someone blocks on it: commit as soon as the queue is empty
    result: Any = None
    error: BaseException | None = None


class ArchiveWriter:
    """The archive's single writer for one process: a thread, a queue, group commits."""

    def __init__(self, path: str | Path, *, batch: int = 200, latency: float = 0.1):
        self.path = Path(path)
        self.batch = batch
        self.latency = latency
        self.commits = 0
        self.jobs = 0
        self.cpu_seconds = 0.0  # the writer thread's own CPU time so far (updated after each commit)
        self._queue: queue.SimpleQueue[_Job | None] = queue.SimpleQueue()
        self._opened = threading.Event()
        self._open_error: BaseException | None = None
        self._closed = False
        self._thread = threading.Thread(target=self._run, name="archive-writer", daemon=True)
        self._thread.start()
        self._opened.wait()
        if self._open_error is not None:
            self._thread.join()
            raise self._open_error

    # -- the callers' side -------------------------------------------------------------------------------
    def submit(self, fn: Callable[[sqlite_utils.Database], T], *, urgent: bool = False) -> Future[T]:
        """Queue `fn(db)`; its future resolves (result or exception) once its transaction committed."""
        if self._closed:
            raise RuntimeError(f"the archive writer of {self.path} is closed")
        job = _Job(fn, urgent=urgent)
        self._queue.put(job)
        return job.future

    def call(self, fn: Callable[[sqlite_utils.Database], T]) -> T:
        """Run `fn(db)` in the writer thread and wait for its commit (start-up and closing work)."""
        return self.submit(fn, urgent=True).result()

    def flush(self) -> None:
        """Return when everything submitted before has been committed (or has failed)."""
        if not self._closed:
            self.call(lambda db: None)

    def close(self) -> None:
        """Commit what is queued, close the connection, end the thread."""
        if self._closed:
            return
        self._closed = True
        self._queue.put(None)
        self._thread.join()

    # -- the thread --------------------------------------------------------------------------------------
    def _run(self) -> None:
        try:
            db = open_db(self.path)
            db.execute(f"PRAGMA cache_size = -{CACHE_KIB}")
        except BaseException as exc:  # the caller re-raises it
            self._open_error = exc
            self._opened.set()
            return
        self._opened.set()
        try:
            stop = False
            while not stop:
                job = self._queue.get()
                if job is None:
                    break
                stop = self._batch(db, job)
        except BaseException as exc:  # a bug here must not leave callers waiting for ever on their futures
            log.exception("the archive writer of %s stopped", self.path)
            self._closed = True
            self._fail_queued(exc)
            raise
        finally:
            db.close()

    def _fail_queued(self, exc: BaseException) -> None:
        while True:
            try:
                job = self._queue.get_nowait()
            except queue.Empty:
                return
            if job is not None and job.future.set_running_or_notify_cancel():
                job.future.set_exception(exc)

    def _batch(self, db: sqlite_utils.Database, first: _Job) -> bool:
        """Run `first` and what follows within the latency window in one transaction; True at the end mark."""
        done: list[_Job] = []
        stop = False
        deadline = time.monotonic() + self.latency
        job: _Job | None = first
        db.conn.execute("BEGIN")
        while job is not None:
            self._step(db, job, done)
            if len(done) >= self.batch or time.monotonic() >= deadline:
                break  # a backlog must not grow one transaction: every caller waits for its COMMIT
            try:
                if any(j.urgent for j in done):
                    job = self._queue.get_nowait()
                else:
                    job = self._queue.get(timeout=max(0.0, deadline - time.monotonic()))
            except queue.Empty:
                break
            if job is None:
                stop = True
        self._commit(db, done)
        return stop

    def _step(self, db: sqlite_utils.Database, job: _Job, done: list[_Job]) -> None:
        """One job in its own savepoint. A statement that ends the whole transaction (RAISE(ROLLBACK), an
        I/O error) would silently undo the jobs before it: those are run again in a new one. A job whose
        caller gave up waiting (its future cancelled, e.g. an awaiting task cancelled) is not run."""
        if not job.future.set_running_or_notify_cancel():
            return
        try:
            with db.atomic():
                job.result = job.fn(db)
        except BaseException as exc:
            job.error = exc
            if not db.conn.in_transaction:
                db.conn.execute("BEGIN")
                redo = [j for j in done if j.error is None]
                for j in redo:
                    try:
                        with db.atomic():
                            j.result = j.fn(db)
                    except BaseException as again:
                        j.error = again
        done.append(job)

    def _commit(self, db: sqlite_utils.Database, done: list[_Job]) -> None:
        try:
            if db.conn.in_transaction:
                db.conn.execute("COMMIT")
        except BaseException as exc:
            log.exception("archive commit of %d writes failed", len(done))
            if db.conn.in_transaction:
                db.conn.execute("ROLLBACK")
            for j in done:
                j.future.set_exception(exc)
            return
        self.commits += 1
        self.jobs += len(done)
        self.cpu_seconds = time.thread_time()
        for j in done:
            if j.error is not None:
                j.future.set_exception(j.error)
            else:
                j.future.set_result(j.result)


class SharedWriters:
    """One writer per archive file and process, shared by the stages and crawlers that write to it."""

    _writers: dict[Path, tuple[ArchiveWriter, int]] = {}  # noqa: RUF012 - process-wide registry
    _lock = threading.Lock()

    @classmethod
    def acquire(cls, path: str | Path, **kwargs: Any) -> ArchiveWriter:
        key = Path(path).resolve()
        with cls._lock:
            writer, users = cls._writers.get(key, (None, 0))
            if writer is None:
                writer = ArchiveWriter(key, **kwargs)
            cls._writers[key] = (writer, users + 1)
            return writer

    @classmethod
    def release(cls, writer: ArchiveWriter) -> None:
        with cls._lock:
            current, users = cls._writers.get(writer.path, (None, 0))
            if current is not writer:
                writer.close()
                return
            if users <= 1:
                del cls._writers[writer.path]
                writer.close()
            else:
                cls._writers[writer.path] = (writer, users - 1)
