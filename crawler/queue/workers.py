"""The three worker roles of queue mode, each a Dramatiq worker on its own queue(s).

- crawl: `crawl_portal` jobs, one child crawl process at a time per thread (crawler/queue/jobs.py).
- write: the one process that owns the SQLite archive — `store_capture`, `close_run`, `store_report`
  (archive/writer.py), one thread, so every write is serial; new versions go out as `read_version`.
- read: `read_version` — the body from the spool, `read_report` in a ReaderPool process (a crash or a
  time-out is that document's failed report), the report back to the writer as `store_report`.

`until_idle`: exit 0 once the queues this role depends on are empty, nothing in progress or delayed, for
a few checks in a row (crawl: its own queue; write and read: all three, since each feeds the other); exit
non-zero with a message when it gives up (nothing moved for a long time) or messages were dead-lettered.
A message that fails is never retried for ever: the writer and readers turn faults into records
(`crawl_errors`, failed reports), and a close waiting for lost captures closes after NIANBAO_CLOSE_WAIT.
"""

from __future__ import annotations

import logging
import os
import signal
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import dramatiq
from dramatiq.brokers.redis import RedisBroker

from archive.spool import Spool

from .broker import QUEUES, make_broker, pending, queue_depths, send

if TYPE_CHECKING:
    from archive.writer import Decision

log = logging.getLogger(__name__)
IDLE_CHECKS = 3
IDLE_INTERVAL = 0.5
CLOSE_RETRIES = 200  # a close waits for its captures: retried often, for a while (see close_run)


@dataclass
class Context:
    """What the actors of one worker process use (set before the worker starts)."""

    url: str = ""
    broker: RedisBroker | None = None
    spool: Spool | None = None
    db_path: Path | None = None
    warc_dir: Path | None = None
    settings: dict[str, str] = field(default_factory=dict)
    pool: Any = None
    local: threading.local = field(default_factory=threading.local)

    write_lock: threading.Lock = field(default_factory=threading.Lock)

    def db(self) -> Any:
        db = getattr(self.local, "db", None)
        if db is None:
            from archive.db import open_db

            assert self.db_path is not None
            db = self.local.db = open_db(self.db_path)
            db.execute("PRAGMA busy_timeout = 30000")
        return db

    @contextmanager
    def writing(self) -> Iterator[Any]:
        """The archive for one write, one at a time in this process, committed (or rolled back) at the end.

        The writer's actors and its queue-depth snapshots run in different threads, hence connections; in WAL
        mode a transaction that read before another connection committed cannot write (SQLITE_BUSY_SNAPSHOT,
        "database is locked" at once, whatever the busy timeout), so writes never overlap."""
        with self.write_lock:
            db = self.db()
            try:
                yield db
            except BaseException:
                if db.conn.in_transaction:
                    db.conn.rollback()
                raise
            if db.conn.in_transaction:
                db.conn.commit()


CTX = Context()


def crawl_portal(job: dict[str, Any]) -> None:
    from .jobs import run_job

    assert CTX.broker is not None and CTX.spool is not None and CTX.warc_dir is not None
    msg = dramatiq.middleware.CurrentMessage.get_current_message()
    job_id = job.get("job_id") or (msg.message_id if msg else "job")
    summary = run_job(
        CTX.broker, CTX.url, job, job_id=job_id, spool=CTX.spool, warc_dir=CTX.warc_dir, settings=CTX.settings
    )
    log.info("job %s: %s", job_id, summary)


def store_capture(cap: dict[str, Any]) -> None:
    from archive.writer import apply_capture

    assert CTX.broker is not None and CTX.spool is not None
    with CTX.writing() as db:
        request = apply_capture(db, cap, CTX.spool)
    if request is not None:
        send(CTX.broker, "read_version", request.to_message())


def decide_outcome(facts: dict[str, Any]) -> Decision:
    """crawler/outcome.py's decision for a queue crawl, from the facts its child counted and the writer
    completed: the same rule as a single-process crawl."""
    from collections import Counter

    from archive.writer import Decision

    from ..outcome import CrawlFacts, decide

    known = {k: v for k, v in facts.items() if k in CrawlFacts.__dataclass_fields__}
    known["reasons"] = Counter(known.get("reasons") or {})
    outcome = decide(CrawlFacts(**known))
    return Decision(outcome.status, outcome.reason, outcome.gone_pass, outcome.gone_skipped)


def close_run(close: dict[str, Any]) -> None:
    """Close a run once its captures are in. A close still missing captures NIANBAO_CLOSE_WAIT seconds
    (default 600) after it was sent closes anyway, the missing captures on record (never an endless retry)."""
    from archive.writer import finish_run

    msg = dramatiq.middleware.CurrentMessage.get_current_message()
    waited = time.time() - msg.message_timestamp / 1000 if msg else 0.0
    last_try = msg is not None and msg.options.get("retries", 0) >= CLOSE_RETRIES - 1
    give_up = last_try or waited > float(os.environ.get("NIANBAO_CLOSE_WAIT", "600"))
    with CTX.writing() as db:
        finish_run(db, close, decide_outcome, give_up=give_up)


def store_report(msg: dict[str, Any]) -> None:
    from archive.writer import apply_report

    with CTX.writing() as db:
        apply_report(db, msg)


def read_version(request: dict[str, Any]) -> None:
    """Read one stored version. Whatever goes wrong (the body missing from the spool, the reader) becomes the
    document's failed report with the reason as its problem, sent like any report: never an endless retry."""
    from archive.writer import report_to_message
    from pipelines.pool import failed_report
    from pipelines.read import ReadHints

    assert CTX.broker is not None and CTX.spool is not None and CTX.pool is not None
    try:
        body = CTX.spool.get(request["sha256"])
        hints = ReadHints(**request["hints"])
        report = CTX.pool.read(body, request["filename"], request["content_type"], hints)
    except Exception as exc:
        log.exception("could not read version %s", request.get("version_id"))
        report = failed_report(request.get("filename"), f"read worker: {type(exc).__name__}: {exc}")
    send(CTX.broker, "store_report", {"request": request, "report": report_to_message(report)})


def _declare(broker: RedisBroker) -> None:
    from dramatiq.middleware.time_limit import TimeLimitExceeded

    hours = float(os.environ.get("NIANBAO_CRAWL_TIME_LIMIT_HOURS", "6"))
    opts: dict[str, dict[str, Any]] = {
        # A crawl that ran out of time is closed `failed` (crawler/queue/jobs.py), not crawled again.
        "crawl_portal": {
            "time_limit": int(hours * 3600_000),
            "max_retries": 3,
            "min_backoff": 60_000,
            "throws": (TimeLimitExceeded,),
        },
        "store_capture": {"max_retries": 8, "min_backoff": 500, "max_backoff": 30_000},
        # A close waits for its captures: retried often, for a long time.
        "close_run": {"max_retries": CLOSE_RETRIES, "min_backoff": 200, "max_backoff": 10_000},
        "store_report": {"max_retries": 8, "min_backoff": 500, "max_backoff": 30_000},
        "read_version": {"time_limit": 3600_000, "max_retries": 3, "min_backoff": 1000},
    }
    funcs = {
        "crawl_portal": crawl_portal,
        "store_capture": store_capture,
        "close_run": close_run,
        "store_report": store_report,
        "read_version": read_version,
    }
    from .broker import ACTORS

    for name, fn in funcs.items():
        dramatiq.actor(actor_name=name, queue_name=ACTORS[name], broker=broker, **opts[name])(fn)


ROLES: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    # role: (queues consumed, queues that must be empty for --until-idle)
    "crawl": (("crawl",), ("crawl",)),
    "write": (("write",), QUEUES),
    "read": (("read",), QUEUES),
}


EXIT_DRAINED = 0
EXIT_DEAD_LETTERS = 1  # drained, but messages went to the dead-letter queues during this run
EXIT_STALLED = 6  # gave up: messages pending and nothing moved for --give-up-after seconds
PROGRESS_KEY = "nianbao:progress"  # +1 for every message any worker processed without an exception


class Progress(dramatiq.Middleware):
    """Counts processed messages in Redis, so an idle watcher anywhere can tell a busy pipeline (a long crawl
    job whose captures the writer stores) from a stuck one (a message retried and failing for ever)."""

    def after_process_message(
        self, broker: Any, message: Any, *, result: Any = None, exception: BaseException | None = None
    ) -> None:
        if exception is None:
            broker.client.incr(PROGRESS_KEY)


def _dead(broker: RedisBroker) -> dict[str, int]:
    return {d["queue"]: d["dead"] for d in queue_depths(broker)}


def run_worker(
    role: str, url: str, *, threads: int, until_idle: bool, on_tick: Any = None, give_up_after: float = 1800
) -> int:
    """Run one worker role until SIGTERM/SIGINT (exit 0), or with `until_idle` until its queues drain.

    `until_idle` never hangs: it exits EXIT_STALLED, saying what is pending, when messages stay pending and
    nothing moves (no queue count changes, no message is processed anywhere) for `give_up_after` seconds;
    and EXIT_DEAD_LETTERS when it drained but messages were dead-lettered meanwhile (`nianbao queue status`).
    """
    from dramatiq.middleware import CurrentMessage

    broker = make_broker(url)
    broker.add_middleware(CurrentMessage())
    broker.add_middleware(Progress())
    CTX.url, CTX.broker = url, broker
    _declare(broker)
    consumed, watched = ROLES[role]
    worker = dramatiq.Worker(broker, queues=set(consumed), worker_threads=threads, worker_timeout=200)
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    dead_before = _dead(broker)
    worker.start()
    idle = 0
    code = EXIT_DRAINED
    state: tuple[Any, ...] = ()
    moved = time.monotonic()
    try:
        while not stop.wait(IDLE_INTERVAL):
            if on_tick is not None:
                on_tick()
            if not until_idle:
                continue
            counts = pending(broker, QUEUES)
            busy = {q: n for q, n in counts.items() if q in watched and n}
            idle = 0 if busy else idle + 1
            if idle >= IDLE_CHECKS:
                break
            now_state = (tuple(sorted(counts.items())), broker.client.get(PROGRESS_KEY))
            if now_state != state:
                state, moved = now_state, time.monotonic()
            elif time.monotonic() - moved > give_up_after:
                log.error(
                    "worker %s gives up: nothing moved for %.0f s, still pending %s (see `nianbao queue status`)",
                    role,
                    give_up_after,
                    busy,
                )
                code = EXIT_STALLED
                break
        if until_idle and code == EXIT_DRAINED:
            dead = {
                q: n - dead_before.get(q, 0) for q, n in _dead(broker).items() if n > dead_before.get(q, 0)
            }
            if dead:
                log.error("worker %s drained the queues, but messages were dead-lettered: %s", role, dead)
                code = EXIT_DEAD_LETTERS
    finally:
        worker.stop()
        broker.close()
    return code


def depths(url: str) -> list[dict[str, Any]]:
    broker = make_broker(url)
    try:
        return queue_depths(broker)
    finally:
        broker.close()
