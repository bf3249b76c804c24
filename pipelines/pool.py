"""Reading in worker processes: a pool of `read_report` calls with a time limit per document.

Reading is CPU-bound (PDF tables, OCR, LibreOffice) and must not run in Scrapy's reactor thread, where it
would stall every portal of the crawl. A document that takes too long, or that crashes its worker process,
becomes that document's problem (a `failed` report saying why); the pool is recycled and other documents
go on. Workers start from a forkserver with the readers preloaded, so a new worker costs a fork, not an
interpreter start-up.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import multiprocessing
import os
import signal
import threading
import time
from collections.abc import Callable
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from types import FrameType

from .read import ReadHints, read_report
from .report import Report
from .segment import report_streams

DEFAULT_TIME_LIMIT = 120.0
# The limit counts the worker's processor time (what a document costs, whatever else the machine runs; the
# workers may run at a lower priority than the crawl). A worker that does not stop by itself — C code
# (pdfium) that never returns to Python, a read blocked without using the processor — is killed once
# WALL_FACTOR × the limit + HARD_LIMIT_GRACE seconds have passed since the document was handed over.
WALL_FACTOR = 3.0
HARD_LIMIT_GRACE = 15.0


class ReadTimeout(Exception):
    """Raised inside a worker when one document has been read for longer than the time limit."""


def _on_alarm(signum: int, frame: FrameType | None) -> None:
    raise ReadTimeout()


def read_with_limit(
    body: bytes, filename: str | None, content_type: str | None, hints: ReadHints | None, time_limit: float
) -> Report:
    """`read_report` under a limit of processor time (SIGPROF; worker processes only), with the report's
    search streams prepared while the worker has the text at hand."""
    previous = signal.signal(signal.SIGPROF, _on_alarm)
    signal.setitimer(signal.ITIMER_PROF, time_limit)
    try:
        report = read_report(body, filename, content_type, hints)
        report.search_streams = report_streams(report.sections, report.title, report.agency)
        return report
    except ReadTimeout:
        return failed_report(filename, f"reading used more than {time_limit:g} s of processor time; stopped")
    finally:
        signal.setitimer(signal.ITIMER_PROF, 0)
        signal.signal(signal.SIGPROF, previous)


def _start_worker(niceness: int, owner: int) -> None:
    """Run a worker below the crawl (reading is background work, while the fetching threads set the pace),
    and make it follow its owner out: a crawl killed with SIGKILL cannot stop its workers, which would
    wait on their queue forever (and keep the forkserver alive with them)."""
    if niceness > 0:
        with contextlib.suppress(OSError):  # not allowed here (some containers): read at normal priority
            os.nice(niceness)
    threading.Thread(target=_exit_with, args=(owner,), name="owner-watch", daemon=True).start()


def _exit_with(owner: int, interval: float = 1.0) -> None:
    while True:
        time.sleep(interval)
        try:
            os.kill(owner, 0)
        except ProcessLookupError:
            os._exit(0)
        except PermissionError:  # alive (signalling it is not allowed, which says it exists)
            pass


def warm_worker() -> None:
    """Load what every read needs once per worker process (jieba's dictionary takes ~1 s)."""
    from .segment import warm

    warm()


def failed_report(filename: str | None, why: str) -> Report:
    """What a document that could not be read becomes: archived, `failed`, with why."""
    return Report(status="failed", problems=[f"{filename or 'document'}: {why}"], meta={"format": "unknown"})


@dataclass
class _Job:
    body: bytes
    filename: str | None
    content_type: str | None
    hints: ReadHints | None


class ReaderPool:
    """A process pool that reads documents; `read` (blocking) and `read_async` (asyncio) never raise."""

    def __init__(
        self,
        workers: int | None = None,
        time_limit: float = DEFAULT_TIME_LIMIT,
        task: Callable[..., Report] = read_with_limit,
    ):
        """`task(body, filename, content_type, hints, time_limit)` runs in the workers: `read_with_limit`,
        or another module-level function with its signature (tests give one that crashes or hangs)."""
        self.workers = max(1, workers or os.cpu_count() or 1)
        self.time_limit = time_limit
        self.task = task
        self.niceness = int(os.environ.get("NIANBAO_READ_NICE", "10"))
        self._slots: tuple[asyncio.AbstractEventLoop, asyncio.Semaphore] | None = None
        self._executor: concurrent.futures.ProcessPoolExecutor | None = None
        self.recycled = 0

    def _pool(self) -> concurrent.futures.ProcessPoolExecutor:
        if self._executor is None:
            ctx = multiprocessing.get_context("forkserver")
            ctx.set_forkserver_preload(["pipelines.read", "pipelines.segment"])
            self._executor = concurrent.futures.ProcessPoolExecutor(
                self.workers, mp_context=ctx, initializer=_start_worker, initargs=(self.niceness, os.getpid())
            )
        return self._executor

    def _submit(self, job: _Job) -> concurrent.futures.Future[Report]:
        return self._pool().submit(
            self.task, job.body, job.filename, job.content_type, job.hints, self.time_limit
        )

    def _recycle(self, broken: concurrent.futures.ProcessPoolExecutor | None) -> None:
        """Kill the workers of a broken or stuck pool; the next submit starts a fresh one."""
        if broken is None or broken is not self._executor:
            return
        self._executor = None
        self.recycled += 1
        for proc in list(getattr(broken, "_processes", {}).values()):
            if proc.is_alive():
                proc.kill()
        broken.shutdown(wait=False, cancel_futures=True)
        self.warm()  # the next document is not charged the fresh worker's start-up (jieba's dictionary)

    def read(
        self,
        body: bytes,
        filename: str | None = None,
        content_type: str | None = None,
        hints: ReadHints | None = None,
    ) -> Report:
        job = _Job(body, filename, content_type, hints)
        for attempt in (1, 2):
            pool = self._pool()
            try:
                return self._submit(job).result(timeout=self.wall_limit())
            except Exception as exc:
                failed = self._failure(pool, exc, filename, attempt)
                if failed is not None:
                    return failed
        raise AssertionError("unreachable")

    async def read_async(
        self,
        body: bytes,
        filename: str | None = None,
        content_type: str | None = None,
        hints: ReadHints | None = None,
    ) -> Report:
        """As `read`, awaited on the running asyncio loop (Scrapy's asyncio reactor). The executor holds at
        most one document more than it has workers (so a worker that finishes starts the next at once), so a
        document's wall-clock limit covers its reading and at most one other document's, never the queue of
        every report a crawl found. If that other document is the one killed, this one is read again."""
        async with self._free_worker():
            return await self._read_async(_Job(body, filename, content_type, hints))

    def _free_worker(self) -> asyncio.Semaphore:
        loop = asyncio.get_running_loop()
        if self._slots is None or self._slots[0] is not loop:
            self._slots = (loop, asyncio.Semaphore(self.workers + 1))
        return self._slots[1]

    async def _read_async(self, job: _Job) -> Report:
        for attempt in (1, 2):
            pool = self._pool()
            try:
                return await asyncio.wait_for(
                    asyncio.wrap_future(self._submit(job)), timeout=self.wall_limit()
                )
            except Exception as exc:
                failed = self._failure(pool, exc, job.filename, attempt)
                if failed is not None:
                    return failed
        raise AssertionError("unreachable")

    def _failure(
        self, pool: concurrent.futures.ProcessPoolExecutor, exc: Exception, filename: str | None, attempt: int
    ) -> Report | None:
        """The document's `failed` report for what went wrong, or None to try once more in a fresh pool."""
        if isinstance(exc, TimeoutError):  # concurrent.futures.TimeoutError is TimeoutError since 3.11
            self._recycle(pool)
            return failed_report(filename, self._stuck())
        if isinstance(exc, BrokenProcessPool):
            self._recycle(pool)
            return (
                failed_report(filename, "the reader process crashed on this document")
                if attempt == 2
                else None
            )
        return failed_report(filename, f"reader error: {type(exc).__name__}: {exc}")  # a reader bug

    def _stuck(self) -> str:
        return f"reading did not stop within {self.wall_limit():g} s; the worker was killed"

    def wall_limit(self) -> float:
        """Seconds after which a worker that has not answered is killed (read at call time: tests lower it)."""
        return self.time_limit * WALL_FACTOR + HARD_LIMIT_GRACE

    def warm(self) -> None:
        """Start the workers now (forkserver, preloaded readers, jieba's dictionary), while a crawl is still
        walking list pages, instead of on the first report."""
        pool = self._pool()
        for _ in range(self.workers):
            pool.submit(warm_worker)

    def close(self) -> None:
        if self._executor is not None:
            self._executor.shutdown(wait=True, cancel_futures=True)
            self._executor = None
